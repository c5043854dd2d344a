/* zs_fresh.h - what consumers are told about the freshness of a feed, published per snapshot.
 *
 * Answers must be a pure function of a snapshot, so that a poll that changes nothing changes no
 * answer, no ETag and no cache. Readers therefore never look at a feed's exact last_success:
 * they read the published pair (pub_success, pub_stale) from the feed table. This module moves
 * that pair forward only when what a consumer can see changes: the Europe/Amsterdam day of the
 * last successful check, or the stale flag (last success older than stale_after). Each such move
 * is a new snapshot generation. The exact times stay on /v1/feeds, the staff API and /metrics.
 *
 * Writer connection only (the ingest worker). */
#ifndef ZS_FRESH_H
#define ZS_FRESH_H
#include <stddef.h>
#include <time.h>
#include <sqlite3.h>

/* Inside the caller's write transaction: bring every feed's published freshness up to date at
 * 'now'. *changed (may be NULL) is set to 1 when any feed's published pair moved; *next_change
 * (may be NULL) to the earliest moment a fresh feed turns stale (0 when none will). The caller
 * bumps the generation when *changed. 0 ok, -1 with err. */
int zs_fresh_update(sqlite3 *db, time_t now, int *changed, time_t *next_change, char *err,
                    size_t errlen);

/* The same in a transaction of its own, bumping the generation when something moved.
 * Returns 1 when a new generation was published, 0 when nothing moved, -1 with err. */
int zs_fresh_publish(sqlite3 *db, time_t now, time_t *next_change, char *err, size_t errlen);

/* "YYYY-MM-DD" of t in Europe/Amsterdam into buf (>= 11 bytes). Returns buf. */
char *zs_fresh_day(time_t t, char *buf, size_t len);

#endif
