/* zs_maint.c - retention and WAL bounds (see zs_maint.h). */
#include "config.h"
#include <stdatomic.h>
#include <stdio.h>
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_maint.h"
#include "zs_time.h"

#define PRUNE_BATCH 5000   /* history rows per transaction */
#define PRUNE_ROUNDS 20    /* transactions per call */
#define DIRTY_KEEP 5000    /* generations of dependency marks kept */

int zs_maint_setup(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen)
{
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%lld",
	         (long long)cfg->wal_limit_mb << 20);
	return zs_db_exec(db, sql, err, errlen);
}

static _Atomic long long history_rows = -1;
static _Atomic long long counted_at;

long long zs_maint_history_rows(void)
{
	return atomic_load(&history_rows);
}

int zs_maint_run(sqlite3 *db, const zs_config *cfg, time_t now, long *pruned, char *err,
                 size_t errlen)
{
	long total = 0;
	/* History of the current contract year and the keep-1 before it stays: what staff can be
	 * asked about ("what did you tell me last season?"). */
	int oldest = zs_current_year(now) - (int)cfg->history_keep_years + 1;
	char sql[200];
	snprintf(sql, sizeof sql, "DELETE FROM history WHERE rowid IN (SELECT rowid FROM history"
	         " WHERE year < %d LIMIT %d)", oldest, PRUNE_BATCH);
	for (int i = 0; i < PRUNE_ROUNDS; i++) {
		if (zs_db_exec(db, sql, err, errlen))
			return -1;
		int n = sqlite3_changes(db);
		total += n;
		if (n < PRUNE_BATCH)
			break;
	}
	if (pruned)
		*pruned = total;
	if (total || now - atomic_load(&counted_at) >= 600) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM history", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				atomic_store(&history_rows, sqlite3_column_int64(st, 0));
			sqlite3_finalize(st);
		}
		atomic_store(&counted_at, (long long)now);
	}
	if (zs_deps_prune(db, DIRTY_KEEP, err, errlen))
		return -1;
	/* PASSIVE: copies what no reader still needs; with journal_size_limit the WAL file is cut
	 * back when it restarts from the beginning, so it does not keep its high-water size. */
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		snprintf(err, errlen, "checkpoint: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
