/* zs_metrics.c - Prometheus counters, histograms and the text exposition. */
#include "config.h"
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "zs_big.h"
#include "zs_metrics.h"
#include "zs_maint.h"
#include "zs_notify_http.h"
#include "zs_rcache.h"
#include "zs_ready.h"
#include "zs_rows.h"
#include "zs_time.h"
#include "zs_worker.h"

typedef _Atomic unsigned long long counter;

/* Request latency buckets, seconds (le). */
static const double req_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	                         0.5, 1, 2.5, 5, 10 };
#define NREQ_LE (sizeof req_le / sizeof req_le[0])
/* Ingest durations, seconds. */
static const double dur_le[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
	                         600 };
#define NDUR_LE (sizeof dur_le / sizeof dur_le[0])

#define MIN_CODE 100
#define NCODES 500   /* 100..599 */

typedef struct {
	const char *label;
	counter codes[NCODES];
	counter bucket[NREQ_LE];   /* non-cumulative; summed at render time */
	counter count;
	counter sum_us;
	counter bytes;
} route_stats;

static route_stats routes[ZS_METRICS_MAX_ROUTES];
static int nroutes;
static counter cache_hits, cache_misses, file_answers, memo_hits, memo_misses;
static counter reloads_ok, reloads_failed;
static _Atomic long long last_reload_ok;   /* unix seconds */
static double start_time;

typedef struct {
	pthread_mutex_t mu;
	double sum;
	unsigned long long count, bucket[NDUR_LE];
} dur_stats;
static dur_stats durs[ZS_DUR_N] = {
	{ .mu = PTHREAD_MUTEX_INITIALIZER }, { .mu = PTHREAD_MUTEX_INITIALIZER },
	{ .mu = PTHREAD_MUTEX_INITIALIZER },
};
static const char *const dur_names[ZS_DUR_N][2] = {
	{ "zorgstatus_fetch_duration_seconds", "Time spent fetching the feeds due in one round." },
	{ "zorgstatus_ingest_duration_seconds",
	  "Time spent validating and applying fetched feed versions in one round (one transaction,"
	  " reconciliation and similar policies included)." },
	{ "zorgstatus_reconcile_duration_seconds",
	  "Time spent reconciling after feeds were added or removed by the configuration." },
};

typedef struct {
	char *name;
	unsigned long long n[ZS_FETCH_NOUTCOMES];
} feed_stats;
static pthread_mutex_t feeds_mu = PTHREAD_MUTEX_INITIALIZER;
static feed_stats *feeds;
static size_t nfeeds;
static const char *const outcome_names[ZS_FETCH_NOUTCOMES] = {
	"applied", "unchanged", "not_modified", "failed", "rejected",
};

long long zs_metrics_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

void zs_metrics_init(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (nroutes == 0)
		zs_metrics_route("other");
}

void zs_metrics_shutdown(void)
{
	pthread_mutex_lock(&feeds_mu);
	for (size_t i = 0; i < nfeeds; i++)
		free(feeds[i].name);
	free(feeds);
	feeds = NULL;
	nfeeds = 0;
	pthread_mutex_unlock(&feeds_mu);
}

int zs_metrics_route(const char *label)
{
	for (int i = 0; i < nroutes; i++)
		if (strcmp(routes[i].label, label) == 0)
			return i;
	if (nroutes == ZS_METRICS_MAX_ROUTES)
		return 0;
	routes[nroutes].label = label;
	return nroutes++;
}

void zs_metrics_request(int route, int status, size_t bytes, long long usec)
{
	if (route < 0 || route >= nroutes)
		route = 0;
	route_stats *r = &routes[route];
	if (status < MIN_CODE || status >= MIN_CODE + NCODES)
		status = 500;
	atomic_fetch_add_explicit(&r->codes[status - MIN_CODE], 1, memory_order_relaxed);
	double s = (double)usec / 1e6;
	size_t b = 0;
	while (b < NREQ_LE && s > req_le[b])
		b++;
	if (b < NREQ_LE)
		atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)(usec < 0 ? 0 : usec),
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&r->bytes, bytes, memory_order_relaxed);
}

void zs_metrics_cache_hit(void)
{
	atomic_fetch_add_explicit(&cache_hits, 1, memory_order_relaxed);
}

void zs_metrics_cache_miss(void)
{
	atomic_fetch_add_explicit(&cache_misses, 1, memory_order_relaxed);
}

void zs_metrics_status_memo(unsigned long long hits, unsigned long long misses)
{
	atomic_fetch_add_explicit(&memo_hits, hits, memory_order_relaxed);
	atomic_fetch_add_explicit(&memo_misses, misses, memory_order_relaxed);
}

void zs_metrics_file_answer(void)
{
	atomic_fetch_add_explicit(&file_answers, 1, memory_order_relaxed);
}

void zs_metrics_fetch(const char *feed, zs_fetch_outcome outcome)
{
	if ((unsigned)outcome >= ZS_FETCH_NOUTCOMES)
		return;
	pthread_mutex_lock(&feeds_mu);
	size_t i = 0;
	while (i < nfeeds && strcmp(feeds[i].name, feed) != 0)
		i++;
	if (i == nfeeds) {
		feed_stats *nf = realloc(feeds, (nfeeds + 1) * sizeof *nf);
		char *name = strdup(feed);
		if (!nf || !name) {
			free(name);
			if (nf)
				feeds = nf;
			pthread_mutex_unlock(&feeds_mu);
			return;
		}
		feeds = nf;
		memset(&feeds[nfeeds], 0, sizeof feeds[nfeeds]);
		feeds[nfeeds++].name = name;
	}
	feeds[i].n[outcome]++;
	pthread_mutex_unlock(&feeds_mu);
}

void zs_metrics_duration(zs_duration_kind kind, double seconds)
{
	if ((unsigned)kind >= ZS_DUR_N)
		return;
	dur_stats *d = &durs[kind];
	pthread_mutex_lock(&d->mu);
	size_t b = 0;
	while (b < NDUR_LE && seconds > dur_le[b])
		b++;
	if (b < NDUR_LE)
		d->bucket[b]++;
	d->count++;
	d->sum += seconds;
	pthread_mutex_unlock(&d->mu);
}

void zs_metrics_reload(int ok)
{
	atomic_fetch_add(ok ? &reloads_ok : &reloads_failed, 1);
	if (ok)
		atomic_store(&last_reload_ok, (long long)time(NULL));
}

/* ---- rendering ------------------------------------------------------------------------------ */

static void label_value(FILE *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(o, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", o);
		else
			fputc(*v, o);
	}
}

static void head(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric without labels: its HELP, TYPE and value. */
static void simple(FILE *o, const char *name, const char *type, const char *help,
                   unsigned long long v)
{
	head(o, name, type, help);
	fprintf(o, "%s %llu\n", name, v);
}

static void render_requests(FILE *o)
{
	head(o, "zorgstatus_http_requests_total", "counter",
	     "HTTP requests answered, by route and status code.");
	for (int i = 0; i < nroutes; i++)
		for (int c = 0; c < NCODES; c++) {
			unsigned long long v = atomic_load_explicit(&routes[i].codes[c],
			                                            memory_order_relaxed);
			if (!v)
				continue;
			fputs("zorgstatus_http_requests_total{route=\"", o);
			label_value(o, routes[i].label);
			fprintf(o, "\",code=\"%d\"} %llu\n", c + MIN_CODE, v);
		}
	head(o, "zorgstatus_http_response_bytes_total", "counter",
	     "Bytes of response bodies sent, by route.");
	for (int i = 0; i < nroutes; i++) {
		fputs("zorgstatus_http_response_bytes_total{route=\"", o);
		label_value(o, routes[i].label);
		fprintf(o, "\"} %llu\n", (unsigned long long)atomic_load(&routes[i].bytes));
	}
	head(o, "zorgstatus_http_request_duration_seconds", "histogram",
	     "Time from the parsed request to the answer handed to the connection, by route.");
	for (int i = 0; i < nroutes; i++) {
		unsigned long long cum = 0;
		/* count first: a concurrent request may land between the reads; never show a
		 * bucket above the count */
		unsigned long long count = atomic_load(&routes[i].count);
		for (size_t b = 0; b <= NREQ_LE; b++) {
			if (b < NREQ_LE)
				cum += atomic_load(&routes[i].bucket[b]);
			unsigned long long v = b < NREQ_LE ? cum : count;
			if (v > count)
				v = count;
			fputs("zorgstatus_http_request_duration_seconds_bucket{route=\"", o);
			label_value(o, routes[i].label);
			if (b < NREQ_LE)
				fprintf(o, "\",le=\"%g\"} %llu\n", req_le[b], v);
			else
				fprintf(o, "\",le=\"+Inf\"} %llu\n", v);
		}
		fputs("zorgstatus_http_request_duration_seconds_sum{route=\"", o);
		label_value(o, routes[i].label);
		fprintf(o, "\"} %.6f\n", (double)atomic_load(&routes[i].sum_us) / 1e6);
		fputs("zorgstatus_http_request_duration_seconds_count{route=\"", o);
		label_value(o, routes[i].label);
		fprintf(o, "\"} %llu\n", count);
	}
	simple(o, "zorgstatus_response_cache_hits_total", "counter",
	       "Answers served from a serving thread's response cache.", atomic_load(&cache_hits));
	simple(o, "zorgstatus_response_cache_misses_total", "counter",
	       "Cacheable answers that had to be computed.", atomic_load(&cache_misses));
	simple(o, "zorgstatus_response_cache_file_answers_total", "counter",
	       "Answers whose body was sent from a cached answer's in-memory file (sendfile).",
	       atomic_load(&file_answers));
	simple(o, "zorgstatus_status_memo_hits_total", "counter",
	       "Statuses in computed answers copied from a serving thread's status memo "
	       "(written before from the same inputs).", atomic_load(&memo_hits));
	simple(o, "zorgstatus_status_memo_misses_total", "counter",
	       "Statuses in computed answers made anew (their inputs not in the memo).",
	       atomic_load(&memo_misses));
}

static void render_durations(FILE *o)
{
	for (int k = 0; k < ZS_DUR_N; k++) {
		dur_stats *d = &durs[k];
		const char *n = dur_names[k][0];
		pthread_mutex_lock(&d->mu);
		head(o, n, "histogram", dur_names[k][1]);
		unsigned long long cum = 0;
		for (size_t b = 0; b < NDUR_LE; b++) {
			cum += d->bucket[b];
			fprintf(o, "%s_bucket{le=\"%g\"} %llu\n", n, dur_le[b], cum);
		}
		fprintf(o, "%s_bucket{le=\"+Inf\"} %llu\n", n, d->count);
		fprintf(o, "%s_sum %.6f\n%s_count %llu\n", n, d->sum, n, d->count);
		pthread_mutex_unlock(&d->mu);
	}
}

static void render_fetches(FILE *o)
{
	head(o, "zorgstatus_feed_fetches_total", "counter",
	     "Feed fetch attempts since start, by feed and outcome (applied, unchanged, "
	     "not_modified, failed, rejected).");
	pthread_mutex_lock(&feeds_mu);
	for (size_t i = 0; i < nfeeds; i++)
		for (int k = 0; k < ZS_FETCH_NOUTCOMES; k++) {
			fputs("zorgstatus_feed_fetches_total{feed=\"", o);
			label_value(o, feeds[i].name);
			fprintf(o, "\",outcome=\"%s\"} %llu\n", outcome_names[k], feeds[i].n[k]);
		}
	pthread_mutex_unlock(&feeds_mu);
}

typedef struct {
	const char *name, *type, *help;
	int col;   /* column of the feed query; -1 = stale (computed) */
} feed_gauge;

static void render_feeds(FILE *o, const char *database)
{
	static const feed_gauge g[] = {
		{ "zorgstatus_feed_last_success_timestamp_seconds", "gauge",
		  "Unix time of the feed's last successful fetch (0: never).", 2 },
		{ "zorgstatus_feed_last_attempt_timestamp_seconds", "gauge",
		  "Unix time of the feed's last fetch attempt (0: never).", 3 },
		{ "zorgstatus_feed_rows_accepted", "gauge",
		  "Valid records in the feed's last processed version.", 4 },
		{ "zorgstatus_feed_rows_rejected", "gauge",
		  "Invalid records in the feed's last processed version.", 5 },
		{ "zorgstatus_feed_consecutive_failures", "gauge",
		  "Failed attempts since the feed's last success.", 6 },
		{ "zorgstatus_feed_stale", "gauge",
		  "1 when the feed's last success is older than its stale_after, or it never loaded.",
		  -1 },
	};
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ==
	         SQLITE_OK;
	if (ok) {
		sqlite3_busy_timeout(db, 2000);
		ok = sqlite3_prepare_v2(db, "SELECT name, kind, COALESCE(last_success, 0),"
		                        " COALESCE(last_attempt, 0), rows_accepted, rows_rejected,"
		                        " failures, stale_after FROM feed ORDER BY name", -1, &st,
		                        NULL) == SQLITE_OK;
	}
	/* rows read in one pass, printed per metric family */
	typedef struct { char *name; char kind[16]; long long v[8]; } row;
	row *rows = NULL;
	size_t n = 0;
	int rc = SQLITE_DONE;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row *nr = realloc(rows, (n + 1) * sizeof *nr);
		if (!nr)
			break;
		rows = nr;
		const char *nm = (const char *)sqlite3_column_text(st, 0);
		const char *kd = (const char *)sqlite3_column_text(st, 1);
		rows[n].name = strdup(nm ? nm : "");
		snprintf(rows[n].kind, sizeof rows[n].kind, "%s", kd ? kd : "");
		for (int c = 2; c < 8; c++)
			rows[n].v[c] = sqlite3_column_int64(st, c);
		if (!rows[n].name)
			break;
		n++;
	}
	int db_ok = ok && rc == SQLITE_DONE;
	sqlite3_finalize(st);
	sqlite3_close(db);
	head(o, "zorgstatus_database_readable", "gauge",
	     "1 when the database could be read for this scrape.");
	fprintf(o, "zorgstatus_database_readable %d\n", db_ok);
	head(o, "zorgstatus_feeds_configured", "gauge", "Feeds in the running configuration.");
	fprintf(o, "zorgstatus_feeds_configured %zu\n", n);
	long long now = (long long)zs_now();
	for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
		head(o, g[k].name, g[k].type, g[k].help);
		for (size_t i = 0; i < n; i++) {
			long long v;
			if (g[k].col < 0)
				v = rows[i].v[2] == 0 || now - rows[i].v[2] > rows[i].v[7];
			else
				v = rows[i].v[g[k].col];
			fprintf(o, "%s{feed=\"", g[k].name);
			label_value(o, rows[i].name);
			fprintf(o, "\",kind=\"%s\"} %lld\n", rows[i].kind, v);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].name);
	free(rows);
}

static long long file_size(const char *path, const char *suffix)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof p, "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static void render_process(FILE *o)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			pages = rss = 0;
		fclose(f);
	}
	long psz = sysconf(_SC_PAGESIZE);
	head(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	fprintf(o, "process_resident_memory_bytes %lld\n", (long long)rss * psz);
	head(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	fprintf(o, "process_virtual_memory_bytes %lld\n", (long long)pages * psz);
	long fds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--; /* the directory's own descriptor */
	}
	head(o, "process_open_fds", "gauge", "Number of open file descriptors.");
	fprintf(o, "process_open_fds %ld\n", fds);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		head(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		fprintf(o, "process_max_fds %lld\n", (long long)rl.rlim_cur);
	}
	struct timespec cpu;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	head(o, "process_cpu_seconds_total", "counter",
	     "Total user and system CPU time spent in seconds.");
	fprintf(o, "process_cpu_seconds_total %.6f\n",
	        (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
	head(o, "process_start_time_seconds", "gauge",
	     "Start time of the process since unix epoch in seconds.");
	fprintf(o, "process_start_time_seconds %.3f\n", start_time);
}

static _Atomic(zs_rcache *) metrics_cache;
static _Atomic(zs_rows *) metrics_rows;

void zs_metrics_set_cache(zs_rcache *c)
{
	atomic_store(&metrics_cache, c);
}

void zs_metrics_set_rows(zs_rows *r)
{
	atomic_store(&metrics_rows, r);
}

/* Metrics of one unlabelled value each, with their HELP and TYPE lines. */
typedef struct {
	const char *name, *type, *help;
	unsigned long long v;
} metric_value;

static void render_values(FILE *o, const metric_value *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		head(o, m[i].name, m[i].type, m[i].help);
		fprintf(o, "%s %llu\n", m[i].name, m[i].v);
	}
}

/* the effective rows in memory (zs_rows.h), when on */
static void render_rows(FILE *o)
{
	zs_rows *rw = atomic_load(&metrics_rows);
	if (!rw)
		return;
	zs_rows_stats st;
	zs_rows_get_stats(rw, &st);
	head(o, "zorgstatus_rows_in_memory_generation", "gauge",
	     "Snapshot generation of the effective rows held in memory (-1: the first is being "
	     "built; answers read the database until it is there).");
	fprintf(o, "zorgstatus_rows_in_memory_generation %lld\n", st.gen);
	const metric_value m[] = {
		{ "zorgstatus_rows_in_memory_rows", "gauge", "Effective rows held in memory.", st.rows },
		{ "zorgstatus_rows_in_memory_patterns", "gauge",
		  "Distinct row patterns (status, sources, moments, texts) the rows share.",
		  st.patterns },
		{ "zorgstatus_rows_in_memory_bytes", "gauge",
		  "Bytes of the newest version of the rows in memory and its tables.", st.bytes },
		{ "zorgstatus_rows_in_memory_versions", "gauge",
		  "Versions of the rows in memory alive: the newest, and older ones a serving thread "
		  "still reads (let go within seconds once no answer uses them).", st.versions },
		{ "zorgstatus_rows_in_memory_failures_total", "counter",
		  "Builds of the rows in memory that failed (answers read the database meanwhile).",
		  st.failures },
	};
	render_values(o, m, sizeof m / sizeof m[0]);
	head(o, "zorgstatus_rows_in_memory_builds_total", "counter",
	     "Versions of the rows in memory built, by kind (full: every row read; incremental: "
	     "the providers a snapshot changed).");
	fprintf(o, "zorgstatus_rows_in_memory_builds_total{kind=\"full\"} %lu\n", st.full_builds);
	fprintf(o, "zorgstatus_rows_in_memory_builds_total{kind=\"incremental\"} %lu\n",
	        st.builds - st.full_builds);
	head(o, "zorgstatus_rows_in_memory_last_build_seconds", "gauge",
	     "How long the newest version took to build.");
	fprintf(o, "zorgstatus_rows_in_memory_last_build_seconds %.3f\n", st.last_build_ms / 1000.0);
}

char *zs_metrics_render(const char *database)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	if (!o)
		return NULL;
	head(o, "zorgstatus_build_info", "gauge", "Always 1; the version is a label.");
	fprintf(o, "zorgstatus_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	render_requests(o);
	head(o, "zorgstatus_ready", "gauge",
	     "1 once the first snapshot is loaded (/readyz, without its database and "
	     "statuses-in-memory checks).");
	fprintf(o, "zorgstatus_ready %d\n", zs_ready_get());
	head(o, "zorgstatus_snapshot_generation", "gauge",
	     "Generation of the published snapshot (bumped by every committed change).");
	fprintf(o, "zorgstatus_snapshot_generation %lld\n", (long long)atomic_load(&zs_generation));
	render_fetches(o);
	render_durations(o);
	render_feeds(o, database);
	head(o, "zorgstatus_database_size_bytes", "gauge",
	     "Size of the SQLite database file and its write-ahead log.");
	fprintf(o, "zorgstatus_database_size_bytes %lld\n",
	        file_size(database, "") + file_size(database, "-wal"));
	head(o, "zorgstatus_config_reloads_total", "counter",
	     "Configuration reloads (SIGHUP), by result (ok, refused).");
	fprintf(o, "zorgstatus_config_reloads_total{result=\"ok\"} %llu\n",
	        (unsigned long long)atomic_load(&reloads_ok));
	fprintf(o, "zorgstatus_config_reloads_total{result=\"refused\"} %llu\n",
	        (unsigned long long)atomic_load(&reloads_failed));
	head(o, "zorgstatus_config_last_reload_success_timestamp_seconds", "gauge",
	     "Unix time of the last applied reload (0: none since start).");
	fprintf(o, "zorgstatus_config_last_reload_success_timestamp_seconds %lld\n",
	        (long long)atomic_load(&last_reload_ok));
	/* the shared response cache (zs_rcache) */
	zs_rcache *rc = atomic_load(&metrics_cache);
	if (rc) {
		zs_rcache_stats cs;
		zs_rcache_stats_get(rc, &cs);
		const metric_value m[] = {
			{ "zorgstatus_response_cache_entries", "gauge", "Answers in the response cache.",
			  cs.entries },
			{ "zorgstatus_response_cache_bytes", "gauge",
			  "Bytes of the answers in the response cache (JSON, gzip and answer files).",
			  cs.bytes },
			{ "zorgstatus_response_cache_files", "gauge",
			  "Cached answers also held as an in-memory file sent with sendfile (one "
			  "descriptor each).", cs.files },
			{ "zorgstatus_response_cache_file_bytes", "gauge",
			  "Bytes of those files (in zorgstatus_response_cache_bytes too; not in the "
			  "process's resident memory, which counts mapped pages only).", cs.file_bytes },
			{ "zorgstatus_response_cache_invalidations_total", "counter",
			  "Answers made stale because a snapshot changed something they depend on.",
			  cs.invalidations },
			{ "zorgstatus_response_cache_evictions_total", "counter",
			  "Answers dropped to stay within response_cache_mb.", cs.evictions },
			{ "zorgstatus_response_cache_refused_total", "counter",
			  "Answers not kept: the cache was full and the answer had not been asked lately.",
			  cs.refused },
			{ "zorgstatus_response_cache_stale_total", "counter",
			  "Answers of the previous snapshot sent while their new answer was being made.",
			  cs.stale_served },
		};
		render_values(o, m, sizeof m / sizeof m[0]);
	}
	render_rows(o);
	/* large answer texts (zs_big): blocks reused from the pool or newly mapped */
	{
		zs_big_stats bs;
		zs_big_get_stats(&bs);
		head(o, "zorgstatus_answer_buffers_total", "counter",
		     "Buffers of 64 KiB and more for answer texts, by where they came from.");
		fprintf(o, "zorgstatus_answer_buffers_total{source=\"reused\"} %llu\n", bs.reused);
		fprintf(o, "zorgstatus_answer_buffers_total{source=\"new\"} %llu\n", bs.mapped);
		head(o, "zorgstatus_answer_buffers_pooled_bytes", "gauge",
		     "Free answer buffers kept for reuse (at most 48 MiB).");
		fprintf(o, "zorgstatus_answer_buffers_pooled_bytes %zu\n", bs.pooled_bytes);
	}
	long long hrows = zs_maint_history_rows();
	if (hrows >= 0) {
		head(o, "zorgstatus_history_rows", "gauge",
		     "Closed history intervals kept (counted after ingest rounds, at most every 10 minutes).");
		fprintf(o, "zorgstatus_history_rows %lld\n", hrows);
	}
	head(o, "zorgstatus_database_wal_bytes", "gauge", "Size of the SQLite write-ahead log.");
	fprintf(o, "zorgstatus_database_wal_bytes %lld\n", file_size(database, "-wal"));
	{
		char nb[8192];
		size_t nl = zs_notifier_metrics(nb, sizeof nb);
		if (nl > 0 && nl < sizeof nb)
			fwrite(nb, 1, nl, o);
	}
	render_process(o);
	if (fclose(o) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
