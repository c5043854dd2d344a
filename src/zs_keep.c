/* zs_keep.c - last good rows for invalid records: a skipped record whose key is readable keeps
 * that key's statement of the last committed version (zs_ingest_priv.h). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "zs_db.h"
#include "zs_feed.h"
#include "zs_ingest.h"
#include "zs_ingest_priv.h"
#include "zs_log.h"
#include "zs_util.h"

#define ZS_MAX_KEPT_KEYS 100000

void zs_ing_key_add(zs_key_list *k, const char *line, size_t len)
{
	zs_rec_key key;
	if (k->n >= ZS_MAX_KEPT_KEYS || !zs_feed_line_key(line, len, &key))
		return;
	if (zs_grow(&k->v, &k->cap, k->n, sizeof *k->v, 64) == 0)
		k->v[k->n++] = key;
}

/* Copy one row's columns from a statement of the read connection into an insert. */
static void bind_row(sqlite3_stmt *ins, int first, sqlite3_stmt *sel, int ncol)
{
	for (int i = 0; i < ncol; i++)
		sqlite3_bind_value(ins, first + i, sqlite3_column_value(sel, i));
}

/* A skipped record whose key is readable keeps that key's last good statement: the rows of
 * the last committed version (read on a connection of its own, which sees the committed
 * snapshot in WAL mode, not this transaction) are copied into the new version where the new
 * version has none for the key. Policies first, then providers, then statements (a kept
 * policy statement needs its policy). Returns -1 on a database error. */
int zs_ing_keep_last_good(sqlite3 *db, const zs_feed_conf *fc, int feed_id, const zs_key_list *k,
                          long *kept, char *err, size_t errlen)
{
	const char *fn = sqlite3_db_filename(db, "main");
	sqlite3 *ro = NULL;
	int rc = 0;
	*kept = 0;
	if (k->n == 0 || !fn || !*fn)
		return 0;
	if (sqlite3_open_v2(fn, &ro, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		ZS_WARN(MOD, "feed %s: cannot read the last good version: %s", fc->name,
		        ro ? sqlite3_errmsg(ro) : "out of memory");
		sqlite3_close(ro);
		return 0;
	}
	sqlite3_busy_timeout(ro, 5000);
	sqlite3_stmt *sp = NULL, *ip = NULL, *sv = NULL, *iv = NULL, *ss = NULL, *is = NULL,
	             *tch = NULL, *tchp = NULL;
	const char *owner = fc->kind == ZS_FEED_INSURER ? "p.feed_id=?8" : "1";
	char q[900];
	if (sqlite3_prepare_v2(ro, "SELECT id, year, name, label, type, uzovi, concern_id,"
	                       " reimbursement FROM policy WHERE feed_id=?1 AND id=?2 AND year=?3",
	                       -1, &sp, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ro, "SELECT agb, from_provider, name, kind, parent, locations FROM"
	                       " src_provider WHERE feed_id=?1 AND agb=?2", -1, &sv, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v2(ro, "SELECT agb, year, line, care_type, scope, scope_id, status,"
	                       " as_contracted, ceiling, ceiling_exempt, stop_reason, stop_from,"
	                       " stop_until, stop_note, said_at, since_date FROM stmt WHERE feed_id=?1"
	                       " AND agb=?2"
	                       " AND year=?3 AND care_type=?4 AND scope=?5 AND scope_id=?6", -1, &ss,
	                       NULL) != SQLITE_OK) {
		ZS_WARN(MOD, "feed %s: cannot read the last good version: %s", fc->name,
		        sqlite3_errmsg(ro));
		goto out;
	}
	snprintf(q, sizeof q,
	         "INSERT INTO stmt(agb, year, feed_id, line, care_type, scope, scope_id, status,"
	         " as_contracted, ceiling, ceiling_exempt, stop_reason, stop_from, stop_until,"
	         " stop_note, said_at, since_date) SELECT ?1, ?2, ?8, ?3, ?4, ?5, ?6, ?7, ?9, ?10,"
	         " ?11, ?12, ?13, ?14, ?15, ?16, ?17 WHERE NOT EXISTS (SELECT 1 FROM stmt"
	         " WHERE feed_id=?8 AND"
	         " agb=?1 AND year=?2 AND care_type=?4 AND scope=?5 AND scope_id=?6) AND (?5 != 1 OR"
	         " EXISTS (SELECT 1 FROM policy p WHERE p.id=?6 AND p.year=?2 AND %s))", owner);
	if (!(ip = prep(db, "INSERT OR IGNORE INTO policy(id, year, name, label, type, uzovi,"
	                    " concern_id, reimbursement, feed_id) VALUES(?,?,?,?,?,?,?,?,?)", err,
	                errlen)) ||
	    !(iv = prep(db, "INSERT OR IGNORE INTO src_provider(agb, from_provider, name, kind,"
	                    " parent, locations, feed_id) VALUES(?,?,?,?,?,?,?)", err, errlen)) ||
	    !(is = prep(db, q, err, errlen)) ||
	    !(tch = prep(db, "INSERT OR IGNORE INTO temp.touched VALUES(?)", err, errlen)) ||
	    !(tchp = prep(db, "INSERT OR IGNORE INTO temp.touched_prov VALUES(?)", err, errlen))) {
		rc = -1;
		goto out;
	}
	/* one read transaction: every key sees the same committed version */
	sqlite3_exec(ro, "BEGIN", NULL, NULL, NULL);
	for (int pass = 0; pass < 3 && rc == 0; pass++) {
		zs_rec_type want = pass == 0 ? ZS_REC_POLICY : pass == 1 ? ZS_REC_PROVIDER : ZS_REC_STATUS;
		for (size_t i = 0; i < k->n && rc == 0; i++) {
			const zs_rec_key *key = &k->v[i];
			sqlite3_stmt *sel = want == ZS_REC_POLICY ? sp : want == ZS_REC_PROVIDER ? sv : ss;
			if (key->type != want)
				continue;
			sqlite3_reset(sel);
			sqlite3_bind_int(sel, 1, feed_id);
			if (want == ZS_REC_POLICY) {
				sqlite3_bind_text(sel, 2, key->scope_id, -1, SQLITE_STATIC);
				sqlite3_bind_int(sel, 3, key->year);
			} else {
				sqlite3_bind_text(sel, 2, key->agb, -1, SQLITE_STATIC);
			}
			if (want == ZS_REC_STATUS) {
				sqlite3_bind_int(sel, 3, key->year);
				sqlite3_bind_text(sel, 4, key->care_type, -1, SQLITE_STATIC);
				sqlite3_bind_int(sel, 5, (int)key->scope);
				sqlite3_bind_text(sel, 6, key->scope_id, -1, SQLITE_STATIC);
			}
			while (rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
				sqlite3_stmt *ins = want == ZS_REC_POLICY ? ip : want == ZS_REC_PROVIDER ? iv : is;
				if (want == ZS_REC_STATUS) {
					/* ?1..?7 agb year line care_type scope scope_id status; ?8 feed; ?9.. */
					bind_row(ins, 1, sel, 7);
					sqlite3_bind_int(ins, 8, feed_id);
					for (int c = 7; c < 16; c++)
						sqlite3_bind_value(ins, c + 2, sqlite3_column_value(sel, c));
				} else {
					int nc = want == ZS_REC_POLICY ? 8 : 6;
					bind_row(ins, 1, sel, nc);
					sqlite3_bind_int(ins, nc + 1, feed_id);
				}
				rc = step_done(db, ins, err, errlen);
				if (rc == 0 && sqlite3_changes(db) > 0) {
					(*kept)++;
					if (want != ZS_REC_POLICY) {
						sqlite3_stmt *t = want == ZS_REC_PROVIDER ? tchp : tch;
						sqlite3_bind_text(t, 1, key->agb, -1, SQLITE_STATIC);
						rc = step_done(db, t, err, errlen);
					}
				}
			}
		}
	}
	sqlite3_exec(ro, "COMMIT", NULL, NULL, NULL);
out:
	sqlite3_finalize(sp);
	sqlite3_finalize(sv);
	sqlite3_finalize(ss);
	sqlite3_finalize(ip);
	sqlite3_finalize(iv);
	sqlite3_finalize(is);
	sqlite3_finalize(tch);
	sqlite3_finalize(tchp);
	sqlite3_close(ro);
	return rc;
}
