/* zs_ingest.h - apply one feed version to the database in one transaction, and reconcile.
 * Runs on the ingest worker's connection only (the single writer). */
#ifndef ZS_INGEST_H
#define ZS_INGEST_H
#include <stdio.h>
#include <time.h>
#include <sqlite3.h>
#include "zs_config.h"

#define ZS_MAX_ROW_ERRORS 100   /* row errors kept per feed attempt */
#define ZS_MAX_POLICIES_PER_YEAR 200 /* per insurer feed (similarity is quadratic in them) */

typedef struct {
	long accepted;      /* valid records */
	long rejected;      /* invalid records */
	int applied;        /* the new version was committed */
	int unchanged;      /* same content as the last good version: nothing to apply */
	char error[512];    /* why the whole version was rejected; "" when it was not */
} zs_ingest_result;

/* Make sure every configured feed has a row (id) in the feed table; drop the data of feeds
 * that are no longer configured and reconcile what they touched. 0 ok, -1 with err. */
int zs_ingest_register(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen);

/* Limits from the configuration (max_line_kb, max_invalid_percent), for every later apply;
 * defaults 1024 and 1. A feed's max_invalid_rows, when set (>= 0), overrides the share. */
void zs_ingest_set_limits(long max_line_kb, long max_invalid_percent);

/* Feed id of a configured feed name, -1 if unknown. */
int zs_ingest_feed_id(sqlite3 *db, const char *name);

/* Apply 'body' (a complete feed, already decompressed) as the new version of feed fc.
 * Validates, replaces the feed's statements, reconciles the providers it touches, records
 * history, updates the feed row and bumps the generation, all in one transaction. On a
 * version-level error nothing of the old content changes; the error is recorded on the feed.
 * Returns 0 when the attempt was processed (see res), -1 on a database error (err). */
int zs_ingest_apply(sqlite3 *db, const zs_feed_conf *fc, FILE *body, time_t now,
                    zs_ingest_result *res, char *err, size_t errlen);

/* Several fetched versions at once: each is validated and applied in a savepoint of one
 * transaction (a rejected version is undone alone and recorded on its feed), and the providers
 * they touch are reconciled once. Readers see, per feed, the old or the new content. */
typedef struct {
	const zs_feed_conf *fc;
	FILE *body;
	zs_ingest_result res;   /* out */
} zs_ingest_item;

int zs_ingest_apply_batch(sqlite3 *db, zs_ingest_item *items, size_t n, time_t now, char *err,
                          size_t errlen);

/* Record a failed fetch (network, HTTP status, size) for the feed: last_attempt, last_error.
 * The feed's content is untouched. */
int zs_ingest_fetch_failed(sqlite3 *db, const zs_feed_conf *fc, time_t now, const char *msg);

/* Record a successful conditional fetch (304): last_attempt and last_success, content kept. */
int zs_ingest_not_modified(sqlite3 *db, const zs_feed_conf *fc, time_t now);

/* Validators' cache headers from the last good fetch (caller frees *etag / *lastmod). */
int zs_ingest_validators(sqlite3 *db, const zs_feed_conf *fc, char **etag, char **lastmod);
int zs_ingest_set_validators(sqlite3 *db, const zs_feed_conf *fc, const char *etag,
                             const char *lastmod);

#endif
