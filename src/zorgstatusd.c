/* zorgstatusd - the daemon's entry point: options, start-up order, signals. Thin by design:
 * everything else is in the core library (libzorgstatus.a). */
#include "config.h"
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
#include "zs_similar.h"
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
	        "\nSettings (also in the configuration file as 'name = value'):\n");
	zs_config_help(out);
}

/* The bundled widget pages: the source tree when run from the build tree, else pkgdatadir. */
static const char *www_dir(void)
{
	char probe[4096];
	snprintf(probe, sizeof probe, "%s/index.html", ZS_SRC_WWW_DIR);
	if (ZS_SRC_WWW_DIR[0] && access(probe, R_OK) == 0)
		return ZS_SRC_WWW_DIR;
	return ZS_DATA_WWW_DIR;
}

/* The bundled sample feeds: the source tree when run from the build tree, else pkgdatadir. */
static const char *sample_dir(void)
{
	const char *env = getenv("ZORGSTATUS_FEEDS_DIR");
	if (env && *env)
		return env;
	char probe[4096];
	snprintf(probe, sizeof probe, "%s/sample.conf", ZS_SRC_FEEDS_DIR);
	if (ZS_SRC_FEEDS_DIR[0] && access(probe, R_OK) == 0)
		return ZS_SRC_FEEDS_DIR;
	return ZS_DATA_FEEDS_DIR;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	ZS_INFO("main", "signal %d: shutting down", (int)sig);
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	zs_config cfg;
	char err[1024];
	const char *config_path = NULL;
	int dump = 0;

	zs_config_defaults(&cfg);
	/* Pass 1: --config, --help, --version. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			zs_config_free(&cfg);
			return EX_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("zorgstatusd %s\n", PACKAGE_VERSION);
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
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--dump-config") == 0) {
			dump = 1;
			continue;
		}
		if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr, "zorgstatusd: unexpected argument \"%s\" (see --help)\n", argv[i]);
			zs_config_free(&cfg);
			return EX_USAGE;
		}
		char name[64];
		snprintf(name, sizeof name, "%s", argv[i] + 2);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		if (zs_config_set(&cfg, name, argv[i + 1], err, sizeof err)) {
			fprintf(stderr, "zorgstatusd: --%s\n", err);
			zs_config_free(&cfg);
			return EX_USAGE;
		}
		i++;
	}
	if (!cfg.www_dir[0]) {
		char *d = strdup(www_dir());
		if (d) {
			free(cfg.www_dir);
			cfg.www_dir = d;
		}
	}
	if (dump) {
		zs_config_dump(&cfg, stdout);
		zs_config_free(&cfg);
		return EX_OK;
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

	int rc = EX_OK;
	zs_worker *w = zs_worker_start(&cfg, err, sizeof err);
	zs_http *h = NULL;
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	if (!w) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		rc = EX_CANTCREAT;
		goto out;
	}
	h = zs_http_start(&cfg, err, sizeof err);
	if (!h) {
		fprintf(stderr, "zorgstatusd: %s\n", err);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	ZS_INFO("main", "zorgstatusd %s: %zu feeds, database %s", PACKAGE_VERSION, cfg.nfeeds,
	        cfg.database);
	base = event_base_new();
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_base_dispatch(base);
out:
	zs_http_stop(h);
	zs_worker_stop(w);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (base)
		event_base_free(base);
	curl_global_cleanup();
	libevent_global_shutdown();
	zs_config_free(&cfg);
	return rc;
}
