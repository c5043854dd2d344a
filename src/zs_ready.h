/* zs_ready.h - readiness (/readyz): not ready until the first snapshot is loaded (every
 * configured feed attempted at least once, at least one applied), while the database cannot
 * be read, and until the statuses held in memory (zs_rows.h) are built for the snapshot that
 * made it ready (unless a build failed; once met, it stays met). /healthz stays liveness. The
 * state is set by the ingest worker and read by the serving threads (atomics). Nothing to
 * free. */
#ifndef ZS_READY_H
#define ZS_READY_H
#include "zs_api.h"

/* Once at start: the database file /readyz checks with a read of its own. */
void zs_ready_init(const char *database);
/* ready = 1 once (it stays); reason: a static code ("starting", "no_feed_loaded", ...) while
 * not ready. */
void zs_ready_set(int ready, const char *reason);
int zs_ready_get(void);

/* 1 when feed feed_id has content from a successful fetch (last_success set), else 0: the
 * ingest's log says "last good content kept" only then. */
struct sqlite3;
int zs_feed_loaded(struct sqlite3 *db, int feed_id);
/* The log text for a failure of feed feed_id: "last good content kept" or "no content yet". */
const char *zs_feed_kept_text(struct sqlite3 *db, int feed_id);

/* The /readyz handler: 200 {"status":"ready","generation":N} or 503
 * {"status":"not_ready","reason":CODE,"message":TEXT}. */
json_t *zs_api_ready(zs_reader *r, const zs_request *req, int *status);

#endif
