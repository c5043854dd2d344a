/* zs_ingest.c - feed registration (dropped feeds), fetch outcomes (failed, not modified),
 * validators; applying versions is zs_apply.c, reconciliation zs_recon_store.c. */
#include "config.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "zs_db.h"
#include "zs_changes.h"
#include "zs_deps.h"
#include "zs_feed.h"
#include "zs_fresh.h"
#include "zs_incr.h"
#include "zs_ingest.h"
#include "zs_ingest_priv.h"
#include "zs_lexicon.h"
#include "zs_log.h"
#include "zs_ready.h"
#include "zs_reconcile.h"
#include "zs_similar.h"
#include "zs_text.h"
#include "zs_time.h"
#include "zs_util.h"


int zs_ingest_feed_id(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int id = -1;
	if (sqlite3_prepare_v2(db, "SELECT id FROM feed WHERE name=?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* ---- feed registration ------------------------------------------------------------------ */

int zs_ing_drop_feed_data(sqlite3 *db, int id, char *err, size_t errlen)
{
	static const char *const sqls[] = {
		"INSERT OR IGNORE INTO temp.touched SELECT agb FROM stmt WHERE feed_id=?1",
		"INSERT OR IGNORE INTO temp.touched_prov SELECT agb FROM src_provider WHERE feed_id=?1",
		"DELETE FROM stmt WHERE feed_id=?1", "DELETE FROM src_provider WHERE feed_id=?1",
		"DELETE FROM src_insurer WHERE feed_id=?1", "DELETE FROM similar_decl WHERE feed_id=?1",
		NULL
	};
	for (int i = 0; sqls[i]; i++) {
		sqlite3_stmt *st = prep(db, sqls[i], err, errlen);
		if (!st)
			return -1;
		sqlite3_bind_int(st, 1, id);
		int rc = step_done(db, st, err, errlen);
		sqlite3_finalize(st);
		if (rc)
			return -1;
	}
	return 0;
}

/* Did the feed's policy set (id, year, insurer, concern) change against temp.pol_before? */
int zs_ing_policies_changed(sqlite3 *db, int feed_id)
{
	sqlite3_stmt *st;
	int changed = 1;
	if (sqlite3_prepare_v2(db,
	        "SELECT EXISTS (SELECT id, year, uzovi, concern_id FROM temp.pol_before EXCEPT"
	        " SELECT id, year, uzovi, concern_id FROM policy WHERE feed_id=?1) OR EXISTS"
	        " (SELECT id, year, uzovi, concern_id FROM policy WHERE feed_id=?1 EXCEPT"
	        " SELECT id, year, uzovi, concern_id FROM temp.pol_before)", -1, &st, NULL) !=
	    SQLITE_OK)
		return 1;
	sqlite3_bind_int(st, 1, feed_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		changed = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return changed;
}

/* Start the single writer's transaction with empty work lists. */
int zs_ing_begin_write(sqlite3 *db, char *err, size_t errlen)
{
	return zs_db_exec(db,
	                  "CREATE TEMP TABLE IF NOT EXISTS touched(agb TEXT PRIMARY KEY) WITHOUT ROWID;"
	                  "CREATE TEMP TABLE IF NOT EXISTS touched_prov(agb TEXT PRIMARY KEY)"
	                  " WITHOUT ROWID;"
	                  "CREATE TEMP TABLE IF NOT EXISTS pol_before(id TEXT, year INTEGER,"
	                  " uzovi TEXT, concern_id TEXT);"
	                  "DELETE FROM temp.touched; DELETE FROM temp.touched_prov;"
	                  " BEGIN IMMEDIATE;", err, errlen);
}

/* Keep the feed's current policies in temp.pol_before, then remove them. */
int zs_ing_stash_policies(sqlite3 *db, int feed_id, char *err, size_t errlen)
{
	char q[320];
	snprintf(q, sizeof q, "DELETE FROM temp.pol_before; INSERT INTO temp.pol_before"
	         " SELECT id, year, uzovi, concern_id FROM policy WHERE feed_id=%d;"
	         " DELETE FROM policy WHERE feed_id=%d", feed_id, feed_id);
	return zs_db_exec(db, q, err, errlen);
}

/* The feed's policy set changed: reconcile the providers whose statements cover any policy
 * of the feed, old or new (by policy, insurer or concern), and those with effective rows of a
 * policy that is gone. */
int zs_ing_touch_policy_change(sqlite3 *db, int feed_id, char *err, size_t errlen)
{
	char q[1400];
	snprintf(q, sizeof q,
	         "CREATE TEMP TABLE IF NOT EXISTS pol_scope(scope INTEGER, id TEXT,"
	         " PRIMARY KEY(scope, id)) WITHOUT ROWID; DELETE FROM temp.pol_scope;"
	         "INSERT OR IGNORE INTO temp.pol_scope SELECT 1, id FROM temp.pol_before"
	         " UNION SELECT 2, uzovi FROM temp.pol_before UNION SELECT 3, concern_id FROM"
	         " temp.pol_before UNION SELECT 1, id FROM policy WHERE feed_id=%d UNION SELECT 2,"
	         " uzovi FROM policy WHERE feed_id=%d UNION SELECT 3, concern_id FROM policy WHERE"
	         " feed_id=%d;"
	         "INSERT OR IGNORE INTO temp.touched SELECT DISTINCT s.agb FROM temp.pol_scope p"
	         " CROSS JOIN stmt s ON s.scope_id = p.id AND s.scope = p.scope;"
	         "INSERT OR IGNORE INTO temp.touched SELECT DISTINCT e.agb FROM effective e WHERE"
	         " EXISTS (SELECT 1 FROM temp.pol_before b WHERE b.id = e.policy_id AND b.year ="
	         " e.year AND NOT EXISTS (SELECT 1 FROM policy p WHERE p.id = b.id AND p.year ="
	         " b.year AND p.feed_id = %d));",
	         feed_id, feed_id, feed_id, feed_id);
	return zs_db_exec(db, q, err, errlen);
}

int zs_ingest_register(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen)
{
	char red[2048];
	long changes = 0;
	int rc = 0;
	if (zs_ing_begin_write(db, err, errlen))
		return -1;
	sqlite3_stmt *up = prep(db,
	        "INSERT INTO feed(name, kind, url, schedule, stale_after) VALUES(?,?,?,?,?)"
	        " ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, url=excluded.url,"
	        " schedule=excluded.schedule, stale_after=excluded.stale_after", err, errlen);
	for (size_t i = 0; up && rc == 0 && i < cfg->nfeeds; i++) {
		const zs_feed_conf *f = &cfg->feeds[i];
		sqlite3_bind_text(up, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, f->kind == ZS_FEED_INSURER ? "insurer" : "provider", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(up, 3, zs_url_redact(f->url, red, sizeof red), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 4, f->schedule);
		sqlite3_bind_int64(up, 5, f->stale_after);
		rc = step_done(db, up, err, errlen);
	}
	sqlite3_finalize(up);
	if (!up)
		rc = -1;
	/* Feeds no longer configured: their statements go, and what they touched is reconciled. */
	sqlite3_stmt *sel = rc ? NULL : prep(db, "SELECT id, name FROM feed", err, errlen);
	int dropped = 0;
	while (sel && rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(sel, 1);
		int found = 0;
		for (size_t i = 0; i < cfg->nfeeds && !found; i++)
			found = strcmp(cfg->feeds[i].name, name) == 0;
		if (!found) {
			int id = sqlite3_column_int(sel, 0);
			ZS_INFO(MOD, "feed %s is no longer configured: removing its statements", name);
			rc = zs_ing_stash_policies(db, id, err, errlen) ||
			     zs_ing_touch_policy_change(db, id, err, errlen);
			if (rc == 0)
				rc = zs_ing_drop_feed_data(db, id, err, errlen);
			dropped = 1;
		}
	}
	sqlite3_finalize(sel);
	if (rc == 0 && dropped) {
		rc = zs_ing_reconcile_touched(db, zs_now(), &changes, err, errlen);
		if (rc == 0)
			rc = zs_similar_compute(db, err, errlen);
		if (rc == 0)
			/* (the rows of the dropped feeds go below; a feed configured just now has
			 * no content yet and keeps its row) */
			rc = zs_db_exec(db,
			                "INSERT OR IGNORE INTO dirty(gen, key) SELECT value + 1, '*'"
			                " FROM meta WHERE key='generation';"
			                "UPDATE meta SET value=value+1 WHERE key='generation';", err, errlen);
	}
	if (rc == 0 && dropped) {
		/* Remove rows of feeds that are gone from the configuration. */
		for (sqlite3_stmt *s2 = prep(db, "SELECT id, name FROM feed", err, errlen); s2;) {
			if (sqlite3_step(s2) != SQLITE_ROW) {
				sqlite3_finalize(s2);
				break;
			}
			const char *name = (const char *)sqlite3_column_text(s2, 1);
			int found = 0;
			for (size_t i = 0; i < cfg->nfeeds && !found; i++)
				found = strcmp(cfg->feeds[i].name, name) == 0;
			if (!found) {
				char q[96];
				snprintf(q, sizeof q, "DELETE FROM feed WHERE id=%d; DELETE FROM feed_error"
				         " WHERE feed_id=%d", sqlite3_column_int(s2, 0),
				         sqlite3_column_int(s2, 0));
				char e2[128];
				zs_db_exec(db, q, e2, sizeof e2);
			}
		}
	}
	if (zs_db_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", rc == 0 ? err : red,
	               rc == 0 ? errlen : sizeof red))
		rc = -1;
	return rc;
}

int zs_ingest_fetch_failed(sqlite3 *db, const zs_feed_conf *fc, time_t now, const char *msg)
{
	char err[256];
	int id = zs_ingest_feed_id(db, fc->name);
	if (id < 0)
		return -1;
	ZS_WARN(MOD, "feed %s: fetch failed, %s: %s", fc->name, zs_feed_kept_text(db, id), msg);
	int rc = zs_ing_feed_update(db,
	                     "UPDATE feed SET last_attempt=?2, last_error=?3, last_error_at=?2,"
	                     " failures=failures+1 WHERE id=?1",
	                     id, now, msg, 0, 0, err, sizeof err);
	return rc; /* content unchanged: no new generation (caches stay valid) */
}

int zs_ingest_not_modified(sqlite3 *db, const zs_feed_conf *fc, time_t now)
{
	char err[256];
	int id = zs_ingest_feed_id(db, fc->name);
	if (id < 0)
		return -1;
	/* after a rejected version, the row errors shown were that version's: clear them */
	char q[160];
	snprintf(q, sizeof q, "DELETE FROM feed_error WHERE feed_id=%d AND EXISTS (SELECT 1 FROM feed"
	         " WHERE id=%d AND last_error IS NOT NULL)", id, id);
	zs_db_exec(db, q, err, sizeof err);
	int rc = zs_ing_feed_update(db,
	                     "UPDATE feed SET last_attempt=?2, last_success=?2,"
	                     " rows_rejected=CASE WHEN last_error IS NULL THEN rows_rejected ELSE 0 END,"
	                     " last_error=NULL, last_error_at=NULL, failures=0 WHERE id=?1",
	                     id, now, NULL, 0, 0, err, sizeof err);
	/* No new generation: what consumers see of the feed's freshness is published by
	 * zs_fresh_publish, at most once a day per feed (zs_fresh.h). */
	return rc;
}

int zs_ingest_validators(sqlite3 *db, const zs_feed_conf *fc, char **etag, char **lastmod)
{
	sqlite3_stmt *st;
	*etag = *lastmod = NULL;
	if (sqlite3_prepare_v2(db, "SELECT etag, last_modified FROM feed WHERE name=?"
	                           " AND last_success IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, fc->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*etag = col_dup(st, 0);
		*lastmod = col_dup(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int zs_ingest_set_validators(sqlite3 *db, const zs_feed_conf *fc, const char *etag,
                             const char *lastmod)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "UPDATE feed SET etag=?, last_modified=? WHERE name=?", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	bind_text(st, 1, etag);
	bind_text(st, 2, lastmod);
	sqlite3_bind_text(st, 3, fc->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}
