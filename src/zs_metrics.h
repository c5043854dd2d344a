/* zs_metrics.h - Prometheus metrics (text exposition format 0.0.4) for /metrics.
 *
 * Request counters and latency histograms are C11 atomics (relaxed increments, no locks on the
 * request path). Per-feed fetch outcome counters are kept under a mutex (the ingest worker is
 * their only writer). Feed state (last success, rows, stale), the snapshot generation and the
 * database size are read at scrape time; process_* metrics come from /proc/self.
 * Nothing returned needs freeing except zs_metrics_render's text (caller frees). */
#ifndef ZS_METRICS_H
#define ZS_METRICS_H
#include <stddef.h>

#define ZS_METRICS_MAX_ROUTES 32

/* Once at start, before any thread: process start time. */
void zs_metrics_init(void);
/* Free the per-feed counters (at exit). */
void zs_metrics_shutdown(void);

/* Register a route label ("/v1/search", "/v1/providers/{agb}") while single-threaded; returns
 * its id (the same id for the same label), or the id of "other" when the table is full. */
int zs_metrics_route(const char *label);
/* One finished request: route id, HTTP status, bytes of the body, duration in microseconds. */
void zs_metrics_request(int route, int status, size_t bytes, long long usec);

/* The response cache whose size and invalidations /metrics shows (NULL: none). */
struct zs_rcache;
void zs_metrics_set_cache(struct zs_rcache *c);
/* The rows in memory whose state /metrics shows (NULL: none). */
struct zs_rows;
void zs_metrics_set_rows(struct zs_rows *r);
/* The response cache (zs_rcache users call these). */
void zs_metrics_cache_hit(void);
void zs_metrics_cache_miss(void);
/* Statuses of an answer written from a reader's status memo (hits) or made anew (misses). */
void zs_metrics_status_memo(unsigned long long hits, unsigned long long misses);
/* An answer whose body went out from a cached answer's in-memory file (sendfile). */
void zs_metrics_file_answer(void);

typedef enum {
	ZS_FETCH_APPLIED = 0,    /* a new version was applied */
	ZS_FETCH_UNCHANGED,      /* fetched, same content as the last good version */
	ZS_FETCH_NOT_MODIFIED,   /* 304 */
	ZS_FETCH_FAILED,         /* network, HTTP status, size, credentials */
	ZS_FETCH_REJECTED,       /* fetched, but the version was rejected */
	ZS_FETCH_NOUTCOMES
} zs_fetch_outcome;
void zs_metrics_fetch(const char *feed, zs_fetch_outcome outcome);

/* Durations of the ingest worker, in seconds. */
typedef enum { ZS_DUR_FETCH = 0, ZS_DUR_INGEST, ZS_DUR_RECONCILE, ZS_DUR_N } zs_duration_kind;
void zs_metrics_duration(zs_duration_kind kind, double seconds);

/* Configuration reloads (SIGHUP): ok = 1 applied, 0 refused. */
void zs_metrics_reload(int ok);

/* The exposition text (caller frees), or NULL when out of memory. database: the SQLite file
 * (opened read-only for the scrape; its feed table gives the per-feed gauges). */
char *zs_metrics_render(const char *database);

/* Monotonic clock in microseconds (for request durations). */
long long zs_metrics_now_us(void);

#endif
