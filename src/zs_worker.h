/* zs_worker.h - the ingest worker: one thread that fetches feeds on their schedules through
 * libcurl (blocking calls, but never on a serving thread), applies them with zs_ingest on its
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
/* Stop (finishing the fetch in progress as quickly as curl allows) and free. */
void zs_worker_stop(zs_worker *w);

/* One synchronous fetch+apply of feed fc on db (used by the worker and by tests).
 * Returns 0 when the attempt was recorded (successful or not), -1 on a database error. */
struct sqlite3;
int zs_fetch_once(struct sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                  const _Atomic int *stop_flag, char *err, size_t errlen);

#endif
