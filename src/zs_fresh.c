/* zs_fresh.c - published freshness per feed (see zs_fresh.h). */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_fresh.h"

char *zs_fresh_day(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "%s", "");
	return buf;
}

static long long col_or(sqlite3_stmt *st, int i, long long dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

int zs_fresh_update(sqlite3 *db, time_t now, int *changed, time_t *next_change, char *err,
                    size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int rc = -1, moved = 0;
	time_t next = 0;

	if (sqlite3_prepare_v2(db, "SELECT id, last_success, stale_after, pub_success, pub_stale"
	                           " FROM feed", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE feed SET pub_success=?2, pub_stale=?3 WHERE id=?1", -1,
	                       &upd, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "freshness: %s", sqlite3_errmsg(db));
		goto out;
	}
	while (sqlite3_step(sel) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(sel, 0);
		long long last = col_or(sel, 1, -1), after = col_or(sel, 2, 0);
		long long pub = col_or(sel, 3, -1), pub_stale = col_or(sel, 4, -1);
		int stale = last < 0 || (long long)now - last > after;
		if (!stale && (next == 0 || (time_t)(last + after + 1) < next))
			next = (time_t)(last + after + 1);
		char d1[16] = "", d2[16] = "";
		if (last >= 0)
			zs_fresh_day((time_t)last, d1, sizeof d1);
		if (pub >= 0)
			zs_fresh_day((time_t)pub, d2, sizeof d2);
		/* What a consumer can see: the day of the last check, and stale or not. While a feed
		 * is stale its last success does not move, so the "as of" time stays put too. */
		if (pub_stale == stale && (last < 0) == (pub < 0) && strcmp(d1, d2) == 0 &&
		    (!stale || last == pub))
			continue;
		sqlite3_bind_int64(upd, 1, id);
		if (last >= 0)
			sqlite3_bind_int64(upd, 2, last);
		else
			sqlite3_bind_null(upd, 2);
		sqlite3_bind_int(upd, 3, stale);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			snprintf(err, errlen, "freshness: %s", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(upd);
		sqlite3_clear_bindings(upd);
		moved = 1;
		char key[32];
		snprintf(key, sizeof key, "f:%lld", id);
		if (zs_deps_mark(db, key, err, errlen))
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (changed)
		*changed = moved;
	if (next_change)
		*next_change = next;
	return rc;
}

int zs_fresh_publish(sqlite3 *db, time_t now, time_t *next_change, char *err, size_t errlen)
{
	char e2[160];
	int changed = 0;
	if (zs_db_exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	if (zs_fresh_update(db, now, &changed, next_change, err, errlen) ||
	    (changed &&
	     zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err, errlen)) ||
	    zs_db_exec(db, "COMMIT", err, errlen)) {
		zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
		return -1;
	}
	return changed;
}
