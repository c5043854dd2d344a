/* zs_incr.h - incremental apply (issue 17): a new version of a feed is still stored whole (its
 * statements carry their new line numbers), but only the providers whose statements in that
 * feed really changed are reconciled. A fingerprint per provider of the feed's statements
 * (every column but feed_id and line, order-independent) is taken before the old version is
 * dropped and after the new one is in; a provider whose fingerprint is the same is taken off
 * the work list again. On a day when 2% of a national feed changed, reconciliation touches
 * those 2% instead of every provider the feed mentions.
 * Writer connection only, inside the ingest transaction (zs_ingest.c). */
#ifndef ZS_INCR_H
#define ZS_INCR_H
#include <stddef.h>
#include <sqlite3.h>

/* Before the feed's old statements are dropped: fingerprint them, and remember the work list
 * as it stands (other feeds' entries stay). 0 ok, -1 with err. */
int zs_incr_before(sqlite3 *db, int feed_id, char *err, size_t errlen);

/* After the new statements are in: drop from the work list (temp.touched) the providers this
 * feed added whose fingerprint did not change. *skipped (may be NULL) gets how many. */
int zs_incr_filter(sqlite3 *db, int feed_id, long *skipped, char *err, size_t errlen);

#endif
