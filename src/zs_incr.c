/* zs_incr.c - reconcile only what a feed version changed (see zs_incr.h). */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "zs_db.h"
#include "zs_incr.h"

/* zs_fp(col, ...): the sum (mod 2^64) of a hash of each row's values: the same rows in any
 * order give the same value. */
typedef struct {
	uint64_t sum;
} fp_ctx;

static void fp_step(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	fp_ctx *a = sqlite3_aggregate_context(c, sizeof *a);
	if (!a)
		return;
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < argc; i++) {
		int t = sqlite3_value_type(argv[i]);
		h = (h ^ (uint64_t)(t + 1)) * 1099511628211ULL;
		if (t == SQLITE_NULL)
			continue;
		const unsigned char *p = sqlite3_value_text(argv[i]);
		int n = sqlite3_value_bytes(argv[i]);
		for (int k = 0; p && k < n; k++)
			h = (h ^ p[k]) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ULL;
	a->sum += h;
}

static void fp_final(sqlite3_context *c)
{
	fp_ctx *a = sqlite3_aggregate_context(c, 0);
	sqlite3_result_int64(c, a ? (sqlite3_int64)a->sum : 0);
}

/* "col1, col2, ..." of stmt without feed_id and line: a column added later is included. */
static int columns(sqlite3 *db, char *out, size_t len, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t n = 0;
	out[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('stmt')", -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "incremental apply: %s", sqlite3_errmsg(db));
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		if (!c || strcmp(c, "feed_id") == 0 || strcmp(c, "line") == 0 || strcmp(c, "agb") == 0)
			continue;
		int w = snprintf(out + n, len - n, "%s\"%s\"", n ? ", " : "", c);
		if (w < 0 || (size_t)w >= len - n) {
			sqlite3_finalize(st);
			snprintf(err, errlen, "incremental apply: too many columns");
			return -1;
		}
		n += (size_t)w;
	}
	sqlite3_finalize(st);
	return 0;
}

static int fingerprint(sqlite3 *db, const char *table, int feed_id, char *err, size_t errlen)
{
	char cols[1024], sql[1600];
	if (sqlite3_create_function_v2(db, "zs_fp", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
	                               NULL, fp_step, fp_final, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "incremental apply: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (columns(db, cols, sizeof cols, err, errlen))
		return -1;
	snprintf(sql, sizeof sql,
	         "CREATE TEMP TABLE IF NOT EXISTS %s(agb TEXT PRIMARY KEY, h INTEGER) WITHOUT ROWID;"
	         "DELETE FROM temp.%s;"
	         "INSERT INTO temp.%s SELECT agb, zs_fp(%s) FROM stmt WHERE feed_id=%d GROUP BY agb",
	         table, table, table, cols, feed_id);
	return zs_db_exec(db, sql, err, errlen);
}

int zs_incr_before(sqlite3 *db, int feed_id, char *err, size_t errlen)
{
	return fingerprint(db, "fp_before", feed_id, err, errlen) ||
	       zs_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS touched_pre(agb TEXT PRIMARY KEY)"
	                      " WITHOUT ROWID; DELETE FROM temp.touched_pre;"
	                      "INSERT INTO temp.touched_pre SELECT agb FROM temp.touched", err, errlen);
}

int zs_incr_filter(sqlite3 *db, int feed_id, long *skipped, char *err, size_t errlen)
{
	if (fingerprint(db, "fp_after", feed_id, err, errlen) ||
	    zs_db_exec(db,
	               "DELETE FROM temp.touched WHERE agb NOT IN (SELECT agb FROM temp.touched_pre)"
	               " AND agb IN (SELECT b.agb FROM temp.fp_before b JOIN temp.fp_after a"
	               " ON a.agb = b.agb AND a.h = b.h)", err, errlen))
		return -1;
	if (skipped)
		*skipped = sqlite3_changes(db);
	return 0;
}
