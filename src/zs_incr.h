/* zs_incr.h - incremental apply (issue 17): a new version of a feed is compared with the
 * stored one, and only the statements that changed are written and reconciled.
 * Writer connection only, inside the ingest transaction (zs_apply.c). */
#ifndef ZS_INCR_H
#define ZS_INCR_H
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

/* Lines as the unit of change. Every stored statement (stmt) and provider record
 * (src_provider) of a feed carries the hash of the feed line it came from (column lh), and the
 * feed the hash of its header line (feed.head_hash). A new version under the same header is
 * read line by line: a line whose hash a stored row of the feed carries is that row again
 * (nothing parsed, nothing written; only its line number is brought up to date); every other
 * line is parsed and stored as before. At the end the stored rows whose line is gone are
 * deleted, and the providers of changed statements (new or gone) are on the work list
 * (temp.touched; provider records: temp.touched_prov). A different header (another
 * generated_at: the default said_at of every statement) or another release of the daemon
 * re-reads everything. On a day when 2% of a national feed changed, 2% of its lines are parsed,
 * stored and reconciled. */
typedef struct zs_incr zs_incr;

/* The hash of a feed line (trailing newline ignored; the release is part of it). */
uint64_t zs_incr_hash(const char *line, size_t len);

/* The stored lines of feed_id, usable as such when head is the stored header hash. *out is
 * freed with zs_incr_free. 0 ok, -1 with err. */
int zs_incr_load(sqlite3 *db, int feed_id, uint64_t head, zs_incr **out, char *err,
                 size_t errlen);
void zs_incr_free(zs_incr *x);

/* A record line of the new version at line number line: 1 when a stored row is that line
 * (skip it: it is counted as an accepted record), 0 when it must be parsed. */
int zs_incr_seen(zs_incr *x, uint64_t h, long line);

/* A stored row of the feed came from a line with hash h (read only: safe beside zs_incr_seen on
 * another thread). Such a line is normally seen, so a reader ahead leaves it unparsed. */
int zs_incr_known(const zs_incr *x, uint64_t h);

/* A provider record of agb was parsed and written in this version. */
void zs_incr_wrote_provider(zs_incr *x, const char *agb);

/* After the last line of an accepted version: delete what is no longer said, move line
 * numbers, put whom it concerns on the work lists, remember head. *removed (may be NULL) gets
 * the statements deleted. 0 ok, -1 with err. */
int zs_incr_finish(sqlite3 *db, zs_incr *x, int feed_id, uint64_t head, long *removed,
                   char *err, size_t errlen);

#endif
