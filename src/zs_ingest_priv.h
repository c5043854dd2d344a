/* zs_ingest_priv.h - private to the ingest modules: zs_ingest.c (registration, fetch
 * outcomes, validators), zs_apply.c (applying feed versions), zs_keep.c (last good rows) and
 * zs_recon_store.c (reconciling touched providers into effective rows and history). Writer
 * connection only,
 * inside the ingest transaction. Small statement helpers; errors go to err (errlen). */
#ifndef ZS_INGEST_PRIV_H
#define ZS_INGEST_PRIV_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include "zs_config.h"
#include "zs_feed.h"

#define MOD "ingest"

static inline void errf(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}


static inline sqlite3_stmt *prep(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		errf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

static inline void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static inline int step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		errf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static inline char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? strdup((const char *)s) : NULL;
}

/* zs_recon_store.c: reconcile every provider in temp.touched (and rebuild the master data of
 * temp.touched_prov); *changes counts the visible status changes. */
int zs_ing_reconcile_touched(sqlite3 *db, time_t now, long *changes, char *err, size_t errlen);

/* zs_ingest.c: the single writer's transaction with empty work lists; a feed's statements out
 * (what they touched goes on the work list); its policies kept in temp.pol_before; did its
 * policy set change; put the providers a policy change concerns on the work list. */
int zs_ing_begin_write(sqlite3 *db, char *err, size_t errlen);
int zs_ing_drop_feed_data(sqlite3 *db, int id, char *err, size_t errlen);
int zs_ing_stash_policies(sqlite3 *db, int feed_id, char *err, size_t errlen);
int zs_ing_policies_changed(sqlite3 *db, int feed_id);
int zs_ing_touch_policy_change(sqlite3 *db, int feed_id, char *err, size_t errlen);

/* zs_keep.c: keys of invalid records (at most 100,000 a version; v freed by the caller), and
 * their last good rows copied from the committed version where the new one has none; *kept
 * counts them. -1 on a database error. */
typedef struct {
	zs_rec_key *v;
	size_t n, cap;
} zs_key_list;
void zs_ing_key_add(zs_key_list *k, const char *line, size_t len);
int zs_ing_keep_last_good(sqlite3 *db, const zs_feed_conf *fc, int feed_id, const zs_key_list *k,
                          long *kept, char *err, size_t errlen);

/* zs_apply.c: update the feed row with sql (?1 id, ?2 now, ?3 text, ?4, ?5 counts). */
int zs_ing_feed_update(sqlite3 *db, const char *sql, int feed_id, time_t now, const char *text,
                       long a, long b, char *err, size_t errlen);

#endif
