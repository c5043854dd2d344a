/* zs_rollover.c - retired policies: hidden at once, moved into history in batches (see
 * zs_rollover.h). */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "zs_changes.h"
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_log.h"
#include "zs_rollover.h"

#define MOD "rollover"

static int fail(sqlite3 *db, char *err, size_t errlen)
{
	snprintf(err, errlen, "rollover: %s", sqlite3_errmsg(db));
	return -1;
}

int zs_rollover_begin(sqlite3 *db, char *err, size_t errlen)
{
	return zs_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS pol_start(year INTEGER, id TEXT,"
	                      " PRIMARY KEY(year, id)) WITHOUT ROWID; DELETE FROM temp.pol_start;"
	                      "INSERT OR IGNORE INTO temp.pol_start SELECT year, id FROM policy",
	                  err, errlen);
}

/* The rows to move, in effective's key order (the CROSS JOIN keeps effective the outer loop:
 * one walk of the table, never a scan per policy). ?1 cursor (agb), ?2 pass (highest gen
 * covered; NULL: any), ?3 only policies that are back (1) or all (0), ?4 limit (-1: none). */
#define SELECT_ROWS \
	"INSERT INTO temp.rb SELECT e.agb, e.year, e.policy_id, e.care_type, e.status," \
	" e.as_contracted, e.basis, e.ceiling, e.stop, e.since, r.at" \
	" FROM effective e CROSS JOIN retired r WHERE e.agb >= ?1 AND r.year = e.year" \
	" AND r.policy_id = e.policy_id AND (?2 IS NULL OR r.gen <= ?2) AND (?3 = 0 OR EXISTS" \
	" (SELECT 1 FROM policy p WHERE p.id = r.policy_id AND p.year = r.year))" \
	" ORDER BY e.agb, e.year, e.policy_id, e.care_type LIMIT ?4"

/* Move the rows selected (cursor, pass, back, limit as SELECT_ROWS) into history, with their
 * change-log events, and out of effective. *n gets how many, last (may be NULL, 16 bytes) the
 * highest agb moved. Inside the caller's transaction. */
static int move_rows(sqlite3 *db, const char *cursor, long long pass, int back, long limit,
                     long *n, char *last, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *rd = NULL, *del = NULL;
	zs_changes_writer w;
	time_t w_at = -1;
	int rc = -1;
	*n = 0;
	if (last)
		last[0] = 0;
	zs_changes_writer_init(&w, db, 0);
	if (zs_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS rb(agb TEXT, year INTEGER,"
	                   " policy_id TEXT, care_type TEXT, status INTEGER, as_contracted INTEGER,"
	                   " basis INTEGER, ceiling INTEGER, stop TEXT, since INTEGER, at INTEGER);"
	                   "DELETE FROM temp.rb", err, errlen))
		return -1;
	if (sqlite3_prepare_v2(db, SELECT_ROWS, -1, &sel, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(sel, 1, cursor ? cursor : "", -1, SQLITE_STATIC);
	if (pass >= 0)
		sqlite3_bind_int64(sel, 2, pass);
	sqlite3_bind_int(sel, 3, back);
	sqlite3_bind_int64(sel, 4, limit);
	if (sqlite3_step(sel) != SQLITE_DONE)
		goto dberr;
	/* History keeps what was shown from since until the moment the policy left. */
	if (zs_db_exec(db, "INSERT OR REPLACE INTO history(agb, year, policy_id, care_type, status,"
	                   " as_contracted, basis, ceiling, stop, valid_from, valid_until)"
	                   " SELECT agb, year, policy_id, care_type, status, as_contracted, basis,"
	                   " CASE WHEN ceiling THEN 1 ELSE 0 END, stop, COALESCE(since, at), at"
	                   " FROM temp.rb", err, errlen))
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT agb, year, policy_id, care_type, status, as_contracted,"
	                           " basis, ceiling, stop, at FROM temp.rb ORDER BY at", -1, &rd,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM effective WHERE agb=?1 AND year=?2 AND policy_id=?3"
	                           " AND care_type=?4", -1, &del, NULL) != SQLITE_OK)
		goto dberr;
	int s;
	while ((s = sqlite3_step(rd)) == SQLITE_ROW) {
		const char *agb = (const char *)sqlite3_column_text(rd, 0);
		int year = sqlite3_column_int(rd, 1);
		const char *pol = (const char *)sqlite3_column_text(rd, 2);
		const char *ct = (const char *)sqlite3_column_text(rd, 3);
		time_t at = (time_t)sqlite3_column_int64(rd, 9);
		/* the event of a row is applied at the moment its policy left (one writer per
		 * moment: rows are read in that order) */
		if (at != w_at) {
			int marked = w.marked;
			zs_changes_writer_free(&w);
			zs_changes_writer_init(&w, db, at);
			w.marked = marked;
			w_at = at;
		}
		if (zs_changes_add(&w, agb, year, pol, ct, sqlite3_column_int(rd, 4),
		                   zs_changes_flags(sqlite3_column_int(rd, 5),
		                                    sqlite3_column_int(rd, 7),
		                                    sqlite3_column_int(rd, 6),
		                                    sqlite3_column_type(rd, 8) != SQLITE_NULL),
		                   -1, 0, err, errlen))
			goto out;
		sqlite3_bind_text(del, 1, agb, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(del, 2, year);
		sqlite3_bind_text(del, 3, pol, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(del, 4, ct, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto dberr;
		sqlite3_reset(del);
		if (last && agb && strcmp(agb, last) > 0)
			snprintf(last, 16, "%s", agb);
		(*n)++;
	}
	if (s != SQLITE_DONE)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	fail(db, err, errlen);
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(rd);
	sqlite3_finalize(del);
	zs_changes_writer_free(&w);
	return rc;
}

static long long count_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int zs_rollover_mark(sqlite3 *db, time_t now, long *retired, char *err, size_t errlen)
{
	long n = 0;
	char sql[400];
	if (retired)
		*retired = 0;
	/* Back before its rows moved: they go now, so reconciliation starts the policy afresh
	 * and the history shows the gap. */
	long long back = count_of(db, "SELECT count(*) FROM retired r WHERE EXISTS (SELECT 1 FROM"
	                              " policy p WHERE p.id = r.policy_id AND p.year = r.year)");
	if (back < 0)
		return fail(db, err, errlen);
	if (back > 0) {
		if (move_rows(db, "", -1, 1, -1, &n, NULL, err, errlen) ||
		    zs_db_exec(db, "DELETE FROM retired WHERE EXISTS (SELECT 1 FROM policy p"
		                   " WHERE p.id = retired.policy_id AND p.year = retired.year)", err,
		               errlen) ||
		    zs_deps_mark(db, "*", err, errlen))
			return -1;
		ZS_INFO(MOD, "%lld retired polic%s back in the feeds: %ld row(s) moved into history"
		        " first", back, back == 1 ? "y" : "ies", n);
	}
	snprintf(sql, sizeof sql,
	         "INSERT OR IGNORE INTO retired(year, policy_id, gen, at) SELECT s.year, s.id,"
	         " (SELECT value + 1 FROM meta WHERE key='generation'), %lld FROM temp.pol_start s"
	         " WHERE NOT EXISTS (SELECT 1 FROM policy p WHERE p.id = s.id AND p.year = s.year)",
	         (long long)now);
	if (zs_db_exec(db, sql, err, errlen))
		return -1;
	n = sqlite3_changes(db);
	if (n > 0) {
		/* Every answer may show a retired policy's rows (statuses, care types, history). */
		if (zs_deps_mark(db, "*", err, errlen))
			return -1;
		ZS_INFO(MOD, "%ld polic%s left the feeds: hidden now, rows move into history in steps",
		        n, n == 1 ? "y" : "ies");
	}
	if (retired)
		*retired = n;
	return 0;
}

int zs_rollover_pending(sqlite3 *db)
{
	long long v = count_of(db, "SELECT EXISTS (SELECT 1 FROM retired)");
	return v < 0 ? -1 : (int)v;
}

/* The running pass: the highest gen it covers (-1: none) and its cursor (agb, "" = start). */
static int pass_get(sqlite3 *db, long long *pass, char *cursor, size_t len)
{
	sqlite3_stmt *st;
	*pass = -1;
	cursor[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta WHERE key IN ('retire_pass',"
	                           " 'retire_cursor')", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(k, "retire_pass") == 0)
			*pass = sqlite3_column_int64(st, 1);
		else if (sqlite3_column_text(st, 1))
			snprintf(cursor, len, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return 0;
}

int zs_rollover_step(sqlite3 *db, long batch, long *moved, char *err, size_t errlen)
{
	long long pass;
	char cursor[32], last[16], sql[200], e2[128];
	long n = 0;
	int more;
	if (moved)
		*moved = 0;
	int pending = zs_rollover_pending(db);
	if (pending <= 0)
		return pending < 0 ? fail(db, err, errlen) : 0;
	if (zs_db_exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	if (pass_get(db, &pass, cursor, sizeof cursor))
		goto dberr;
	if (pass < 0) { /* a new pass covers everything retired so far */
		pass = count_of(db, "SELECT max(gen) FROM retired");
		if (pass < 0) /* (a failed read would make a pass without end) */
			goto dberr;
		cursor[0] = 0;
	}
	if (move_rows(db, cursor, pass, 0, batch, &n, last, err, errlen))
		goto rollback;
	if (n >= batch) { /* more of this pass: continue after the last provider moved */
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES"
		                           " ('retire_pass', ?1), ('retire_cursor', ?2)", -1, &st,
		                       NULL) != SQLITE_OK)
			goto dberr;
		sqlite3_bind_int64(st, 1, pass);
		sqlite3_bind_text(st, 2, last, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		sqlite3_finalize(st);
		if (s != SQLITE_DONE)
			goto dberr;
		more = 1;
	} else { /* the pass reached the end: the policies it covered are cleared */
		snprintf(sql, sizeof sql, "DELETE FROM retired WHERE gen <= %lld;"
		         " DELETE FROM meta WHERE key IN ('retire_pass', 'retire_cursor')", pass);
		if (zs_db_exec(db, sql, err, errlen))
			goto rollback;
		long long left = count_of(db, "SELECT count(*) FROM retired");
		if (left < 0)
			goto dberr;
		more = left > 0;
	}
	/* The moved rows show in the history as before; the change log has new events. */
	if (n > 0 && zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                        errlen))
		goto rollback;
	if (zs_db_exec(db, "COMMIT", err, errlen))
		goto rollback;
	if (moved)
		*moved = n;
	return more;
dberr:
	fail(db, err, errlen);
rollback:
	zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
	return -1;
}
