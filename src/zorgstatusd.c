/* zorgstatusd - the daemon's entry point: options, start-up order, signals. Thin by design:
 * everything else is in the core library (libzorgstatus.a). */
#include "config.h"
#include <pthread.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <sqlite3.h>
#include "zs_config.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_embedded.h"
#include "zs_http.h"
#include "zs_log.h"
#include "zs_util.h"
#include "zs_metrics.h"
#include "zs_notify.h"
#include "zs_notify_http.h"
#include "zs_ready.h"
#include "zs_similar.h"
#include "zs_staff.h"
#include "zs_time.h"
#include "zs_worker.h"

#ifndef ZS_SRC_FEEDS_DIR
#define ZS_SRC_FEEDS_DIR ""
#endif
#ifndef ZS_DATA_FEEDS_DIR
#define ZS_DATA_FEEDS_DIR ""
#endif
#ifndef ZS_SRC_WWW_DIR
#define ZS_SRC_WWW_DIR ""
#endif
#ifndef ZS_DATA_WWW_DIR
#define ZS_DATA_WWW_DIR ""
#endif
#ifndef ZS_DATA_DIR
#define ZS_DATA_DIR NULL
#endif
#ifndef ZS_CONF_FILE
#define ZS_CONF_FILE NULL
#endif
#ifndef ZS_STATE_DIR
#define ZS_STATE_DIR NULL
#endif

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: zorgstatusd [--config FILE] [--SETTING VALUE ...] [--dump-config]\n"
	        "\n"
	        "Serves the contract status of Dutch care providers per health-insurance policy.\n"
	        "Without --config it serves the bundled sample feeds.\n"
	        "\n"
	        "  --config FILE          configuration file (docs/config.md)\n"
	        "  --dump-config          print the effective configuration and exit\n"
	        "  --help                 this text\n"
	        "  --version              print the version\n"
	        "  --man 8|5              print the manual page zorgstatusd(8) or zorgstatus.conf(5)\n"
	        "  --hash-token NAME [staff|admin]\n"
	        "                         read a staff token on stdin, print its staff_accounts_file line\n"
	        "\nSettings (also in the configuration file as 'name = value'):\n");
	zs_config_help(out);
}

/* 1 when this process runs the binary of its own build tree (ZS_BUILD_DIR/src/zorgstatusd),
 * 0 for an installed (or copied) binary: that one uses installed paths only. */
static int in_build_tree(void)
{
#ifdef ZS_BUILD_DIR
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 0;
	self[n] = 0;
	char *built = realpath(ZS_BUILD_DIR "/src/zorgstatusd", NULL);
	int same = built && strcmp(built, self) == 0;
	free(built);
	return same;
#else
	return 0;
#endif
}

/* The bundled widget pages: the source tree when run from the build tree, else pkgdatadir. */
static const char *www_dir(void)
{
	return ZS_SRC_WWW_DIR[0] && in_build_tree() ? ZS_SRC_WWW_DIR : ZS_DATA_WWW_DIR;
}

/* The bundled sample feeds: the source tree when run from the build tree, else pkgdatadir. */
static const char *sample_dir(void)
{
	const char *env = getenv("ZORGSTATUS_FEEDS_DIR");
	if (env && *env)
		return env;
	return ZS_SRC_FEEDS_DIR[0] && in_build_tree() ? ZS_SRC_FEEDS_DIR : ZS_DATA_FEEDS_DIR;
}

/* Pass 2 of the command line: --SETTING VALUE overrides the file (at start and on every
 * reload). *dump (may be NULL) is set by --dump-config. 0, or -1 with err. */
static int apply_overrides(zs_config *cfg, int argc, char **argv, int *dump, char *err,
                           size_t errlen)
{
	char msg[900];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--dump-config") == 0) {
			if (dump)
				*dump = 1;
			continue;
		}
		if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
			snprintf(err, errlen, "unexpected argument \"%.200s\" (see --help)", argv[i]);
			return -1;
		}
		char name[64];
		snprintf(name, sizeof name, "%s", argv[i] + 2);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		if (zs_config_set(cfg, name, argv[i + 1], msg, sizeof msg)) {
			snprintf(err, errlen, "--%s", msg);
			return -1;
		}
		i++;
	}
	if (!cfg->www_dir[0]) {
		char *d = strdup(www_dir());
		if (d) {
			free(cfg->www_dir);
			cfg->www_dir = d;
		}
	}
	return 0;
}

/* The running daemon, for the signal handlers. Every configuration ever applied is kept until
 * exit: the worker and the serving threads may still read the one they were given. */
typedef struct {
	int argc;
	char **argv;
	const char *config_path;
	zs_config *cur;
	zs_config **old;
	size_t nold;
	zs_worker *w;
	struct event_base *base;
} daemon_ctx;

/* SIGHUP: read the configuration again; apply it when it is valid, else keep the running one. */
static void reload(daemon_ctx *d)
{
	char err[1024], names[512];
	const char *src = d->config_path ? d->config_path : "(built-in sample)";
	zs_config *next = calloc(1, sizeof *next);
	zs_config **old = realloc(d->old, (d->nold + 1) * sizeof *old);
	int rc;

	zs_notify_reloading();
	ZS_INFO("main", "SIGHUP: reading %s again", src);
	if (old)
		d->old = old;
	if (!next || !old) {
		free(next);
		ZS_ERROR("main", "reload refused: out of memory; the running configuration stays");
		zs_metrics_reload(0);
		zs_notify_ready("running; reload refused");
		return;
	}
	zs_config_defaults(next);
	if (d->config_path)
		rc = zs_config_load_file(next, d->config_path, err, sizeof err);
	else
		rc = zs_config_parse(next, (const char *)zs_embed_sample_conf, src, sample_dir(), err,
		                     sizeof err);
	if (rc == 0 && apply_overrides(next, d->argc, d->argv, NULL, err, sizeof err) != 0)
		rc = -1;
	if (rc == 0 && zs_config_check_secrets(next, err, sizeof err) != 0)
		rc = -1;
	if (rc != 0) {
		ZS_ERROR("main", "reload refused, the running configuration stays: %s", err);
		zs_config_free(next);
		free(next);
		zs_metrics_reload(0);
		zs_notify_ready("running; the last reload was refused (see the log)");
		return;
	}
	if (zs_config_restart_changes(d->cur, next, names, sizeof names) > 0) {
		ZS_WARN("main", "reload: %s changed: needs a restart; the running value%s stay%s", names,
		        strchr(names, ',') ? "s" : "", strchr(names, ',') ? "" : "s");
		if (zs_config_copy_restart(next, d->cur, err, sizeof err) != 0) {
			ZS_ERROR("main", "reload refused: %s", err);
			zs_config_free(next);
			free(next);
			zs_metrics_reload(0);
			zs_notify_ready("running; the last reload was refused (see the log)");
			return;
		}
	}
	/* staff accounts: read again (a removed account is refused from now on); a broken file
	 * refuses the reload and the running accounts stay (zs_staff.h) */
	if (zs_staff_load(next, err, sizeof err) != 0) {
		ZS_ERROR("main", "reload refused, the running configuration stays: %s", err);
		zs_config_free(next);
		free(next);
		zs_metrics_reload(0);
		zs_notify_ready("running; the last reload was refused (see the log)");
		return;
	}
	zs_log_level = zs_log_level_from_name(next->log_level);
	if (zs_log_access_open(next->access_log, err, sizeof err) != 0)
		ZS_ERROR("main", "reload: %s; the access log is not changed", err);
	d->old[d->nold++] = d->cur;
	d->cur = next;
	zs_worker_reload(d->w, next);
	zs_metrics_reload(1);
	ZS_INFO("main", "configuration %s applied: %zu feeds", src, next->nfeeds);
	zs_notify_ready("running; configuration reloaded");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	daemon_ctx *d = arg;
	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	ZS_INFO("main", "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	zs_notify_stopping();
	event_base_loopbreak(d->base);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	zs_notify_watchdog();
}

int main(int argc, char **argv)
{
	zs_config cfg;
	char err[1024];
	const char *config_path = NULL;
	int dump = 0;

	zs_log_init(); /* journald's format when stderr is the journal (JOURNAL_STREAM) */
	zs_config_defaults(&cfg);
	/* Pass 1: --config, --help, --version. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			zs_config_free(&cfg);
			return EX_OK;
		}
		if (strcmp(argv[i], "--hash-token") == 0) { /* zs_staff.h */
			zs_config_free(&cfg);
			return zs_staff_hash_token_main(argc - i - 1, argv + i + 1);
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("zorgstatusd %s\n", PACKAGE_VERSION);
			zs_config_free(&cfg);
			return EX_OK;
		}
		if (strcmp(argv[i], "--man") == 0) {
			if (i + 1 >= argc || (strcmp(argv[i + 1], "8") && strcmp(argv[i + 1], "5"))) {
				fprintf(stderr, "zorgstatusd: --man needs 8 (zorgstatusd) or 5 (zorgstatus.conf)\n");
				zs_config_free(&cfg);
				return EX_USAGE;
			}
			zs_man_paths mp = { ZS_CONF_FILE, ZS_DATA_DIR, ZS_STATE_DIR };
			zs_config_man(stdout, atoi(argv[i + 1]), &mp);
			zs_config_free(&cfg);
			return EX_OK;
		}
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "zorgstatusd: --config needs a file\n");
				zs_config_free(&cfg);
				return EX_USAGE;
			}
			config_path = argv[++i];
		}
	}
	if (config_path) {
		if (zs_config_load_file(&cfg, config_path, err, sizeof err)) {
			fprintf(stderr, "zorgstatusd: %s\n", err);
			zs_config_free(&cfg);
			return EX_CONFIG;
		}
	} else if (zs_config_parse(&cfg, (const char *)zs_embed_sample_conf, "(built-in sample)",
	                           sample_dir(), err, sizeof err)) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		zs_config_free(&cfg);
		return EX_SOFTWARE;
	}
	/* Pass 2: --SETTING VALUE overrides the file. */
	if (apply_overrides(&cfg, argc, argv, &dump, err, sizeof err) != 0) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		zs_config_free(&cfg);
		return EX_USAGE;
	}
	if (dump) {
		zs_config_dump(&cfg, stdout);
		zs_config_free(&cfg);
		return EX_OK;
	}
	if (zs_config_check_secrets(&cfg, err, sizeof err)) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		zs_config_free(&cfg);
		return EX_CONFIG;
	}
	int lvl = zs_log_level_from_name(cfg.log_level);
	if (lvl < 0) {
		fprintf(stderr, "zorgstatusd: log_level must be error, warn, info or debug\n");
		zs_config_free(&cfg);
		return EX_USAGE;
	}
	zs_log_level = lvl;
	if (zs_time_init() != 0) {
		fprintf(stderr, "zorgstatusd: time zone Europe/Amsterdam not found (install tzdata)\n");
		zs_config_free(&cfg);
		return EX_UNAVAILABLE;
	}
	if (zs_clock_set(cfg.now) != 0) {
		fprintf(stderr, "zorgstatusd: now: \"%s\" is not YYYY-MM-DDTHH:MM:SS\n", cfg.now);
		zs_config_free(&cfg);
		return EX_USAGE;
	}
	if (zs_phrases_init(err, sizeof err) != 0) {
		fprintf(stderr, "zorgstatusd: phrase catalogue: %s\n", err);
		zs_config_free(&cfg);
		return EX_SOFTWARE;
	}
	zs_similar_thresholds th = {
		.equal_overlap = (double)cfg.similar_equal_overlap / 100.0,
		.equal_pct = (double)cfg.similar_equal_pct,
		.very_overlap = (double)cfg.similar_very_overlap / 100.0,
		.very_pct = (double)cfg.similar_very_pct,
	};
	zs_similar_set_thresholds(&th);
	signal(SIGPIPE, SIG_IGN);
	/* Answers of 100 KB and more come and go all day (rendering, the response cache). With
	 * glibc's adaptive mmap threshold they end up in the heap arenas after the first frees and
	 * fragment them: the daemon's RSS at national scale was ~2x the cache's size plus the
	 * caches. A fixed threshold keeps every such block in its own mapping, returned on free
	 * (measured: 976 MB -> 451 MB RSS with the same 256 MB of cached answers). Answer texts
 * themselves come from zs_big's pool of reused mappings. A fixed mmap threshold also fixes the
 * trim threshold at 128 KiB: every answer's few hundred small allocations then shrank and grew
 * the heap again (sysmalloc and page faults, 4% of a cold lookup), so free memory at the top of
 * a heap is kept up to 8 MiB per arena. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	evthread_use_pthreads();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "zorgstatusd: libcurl initialisation failed\n");
		zs_config_free(&cfg);
		return EX_SOFTWARE;
	}
	/* No global memory statistics: they take a process-wide mutex on every allocation. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (!sqlite3_threadsafe()) {
		fprintf(stderr, "zorgstatusd: SQLite is built without thread support\n");
		zs_config_free(&cfg);
		return EX_SOFTWARE;
	}

	zs_metrics_init();
	zs_ready_init(cfg.database);
	if (zs_log_access_open(cfg.access_log, err, sizeof err) != 0) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		zs_config_free(&cfg);
		return EX_CANTCREAT;
	}

	int rc = EX_OK;
	daemon_ctx d = { .argc = argc, .argv = argv, .config_path = config_path, .cur = &cfg };
	zs_worker *w = NULL;
	zs_notifier *nt = NULL;
	zs_http *h = NULL;
	struct event_base *base = NULL;
	struct event *sigs[3] = { NULL, NULL, NULL }, *wd = NULL;
	const int signums[3] = { SIGINT, SIGTERM, SIGHUP };
	/* The signals are handled by the event loop below; until it runs, none of them may end
	 * the process by its default action (a SIGTERM right after start must still stop it
	 * cleanly, exit 0), so they are blocked until then; the threads started meanwhile inherit
	 * the mask and never take them. */
	sigset_t hup, prev;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigaddset(&hup, SIGTERM);
	sigaddset(&hup, SIGINT);
	pthread_sigmask(SIG_BLOCK, &hup, &prev);
	/* Create (or migrate) the database, then claim the address and listen, then start the
	 * ingest: a second daemon on a taken address stops before it fetches or writes. */
	sqlite3 *db0 = zs_db_open(cfg.database, 0, err, sizeof err);
	if (!db0) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		rc = EX_CANTCREAT;
		goto out;
	}
	sqlite3_close(db0);
	h = zs_http_start(&cfg, err, sizeof err);
	if (!h) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	w = zs_worker_start(&cfg, err, sizeof err);
	if (!w) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		rc = EX_CANTCREAT;
		goto out;
	}
	d.w = w;
	/* webhooks and cache purges, on a thread of their own (zs_notify_http.h) */
	nt = zs_notifier_start(&cfg, err, sizeof err);
	if (!nt && err[0]) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		rc = EX_CONFIG;
		goto out;
	}
	ZS_INFO("main", "zorgstatusd %s: %zu feeds, database %s", PACKAGE_VERSION, cfg.nfeeds,
	        cfg.database);
	base = event_base_new();
	d.base = base;
	for (int i = 0; base && i < 3; i++) {
		sigs[i] = evsignal_new(base, signums[i], on_signal, &d);
		if (sigs[i])
			event_add(sigs[i], NULL);
	}
	unsigned long long wd_us = zs_notify_watchdog_interval();
	if (base && wd_us) {
		struct timeval tv = { .tv_sec = (time_t)(wd_us / 1000000ULL),
			              .tv_usec = (suseconds_t)(wd_us % 1000000ULL) };
		wd = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
		if (wd)
			event_add(wd, &tv);
		zs_notify_watchdog();
	}
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	{
		char status[128];
		snprintf(status, sizeof status, "listening on %s; %zu feeds configured, loading",
		         cfg.listen, cfg.nfeeds);
		zs_notify_ready(status);
	}
	if (base)
		event_base_dispatch(base);
	/* Stop accepting, let the answers in flight go out (bounded), then stop the ingest at a
	 * transaction boundary (the worker checks between fetches and before applying) and close
	 * the database. */
	zs_http_drain(h, d.cur->shutdown_timeout);
out:
	zs_http_stop(h);
	zs_notifier_stop(nt);
	zs_worker_stop(w);
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (wd)
		event_free(wd);
	if (base)
		event_base_free(base);
	curl_global_cleanup();
	zs_gzip_thread_done(); /* the main thread's deflate stream (static files) */
	libevent_global_shutdown();
	zs_log_access_close();
	zs_metrics_shutdown();
	if (rc == EX_OK)
		ZS_INFO("main", "stopped");
	for (size_t i = 0; i < d.nold; i++)
		if (d.old[i] != &cfg) {
			zs_config_free(d.old[i]);
			free(d.old[i]);
		}
	if (d.cur != &cfg) {
		zs_config_free(d.cur);
		free(d.cur);
	}
	free(d.old);
	zs_config_free(&cfg);
	return rc;
}
