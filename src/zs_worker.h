/* zs_worker.h - the ingest worker: one thread that fetches feeds on their schedules through
 * libcurl (the multi interface: due feeds are fetched together, fetch_parallel at a time, never
 * on a serving thread; redirects per follow_redirects), applies them with zs_ingest on its
 * own write connection, and publishes each new snapshot by bumping zs_generation. */
#ifndef ZS_WORKER_H
#define ZS_WORKER_H
#include <stddef.h>
#include <stdatomic.h>
#include "zs_config.h"

/* Bumped after every committed change; serving threads compare it with their cache. */
extern _Atomic long long zs_generation;

typedef struct zs_worker zs_worker;

/* Start the worker; cfg must outlive it. Returns NULL with err on failure. */
zs_worker *zs_worker_start(const zs_config *cfg, char *err, size_t errlen);
/* Hand a new configuration to the worker: applied between two rounds (feeds added, removed,
 * changed; schedules, retry, timeouts, thresholds). cfg must outlive the worker (the caller
 * keeps every configuration until the end); the one passed before may still be in use until
 * the worker picks this one up. */
void zs_worker_reload(zs_worker *w, const zs_config *cfg);
/* Stop (finishing the fetch in progress as quickly as curl allows) and free. */
void zs_worker_stop(zs_worker *w);

/* What the public /v1/feeds shows of a feed's last error: for a failed transfer only its
 * class ("connection failed", "timed out", "HTTP 500", "TLS verification failed", ...; in buf),
 * since the details (addresses, ports, paths) are for staff; any other message unchanged. */
const char *zs_fetch_error_public(const char *msg, char *buf, size_t len);

/* While other transfers of a round still run, is it time to apply the versions that arrived?
 * Times in milliseconds on one monotonic clock: the round started at round_ms, the first
 * waiting version arrived at ready_ms. A version waits at least a whole second (feeds that
 * finish together are applied together) and at least as long as the round had taken to
 * fetch it, so a round whose feeds all arrive within a few seconds (a first load over a fast
 * network) is applied in one go, while a feed that drips holds the others back at most as
 * long again as they took themselves. */
int zs_fetch_apply_now(long long round_ms, long long ready_ms, long long now_ms);

/* One synchronous fetch+apply of feed fc on db (used by the worker and by tests).
 * Returns 0 when the attempt was recorded (successful or not), -1 on a database error. */
struct sqlite3;
int zs_fetch_once(struct sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                  const _Atomic int *stop_flag, char *err, size_t errlen);

#endif
