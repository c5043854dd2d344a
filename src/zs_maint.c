/* zs_maint.c - retention and WAL bounds (see zs_maint.h). */
#include "config.h"
#include <stdatomic.h>
#include <stdio.h>
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_log.h"
#include "zs_maint.h"
#include "zs_metrics.h"
#include "zs_rollover.h"
#include "zs_time.h"

#define PRUNE_BATCH 5000   /* history rows per transaction */
#define PRUNE_ROUNDS 20    /* transactions per call */
#define DIRTY_KEEP 5000    /* generations of dependency marks kept */
#define ROLLOVER_SECONDS 30 /* rollover transactions per call: started within this time */

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

static int checkpoint(sqlite3 *db, char *err, size_t errlen)
{
	/* PASSIVE: copies what no reader still needs; with journal_size_limit the WAL file is cut
	 * back when it restarts from the beginning, so it does not keep its high-water size. */
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		snprintf(err, errlen, "checkpoint: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Pruning state (worker thread only): history below pruned_below was found empty at
 * pruned_at; rows moved into history since then (a rollover) may be older. */
static int pruned_below;
static time_t pruned_at;
static int moved_since_prune;

/* Test hook: the rows moved by each rollover transaction of the last zs_maint_run. */
static long step_rows[ZS_MAINT_TRACE];
static size_t step_n;

size_t zs_maint_rollover_trace(const long **rows)
{
	*rows = step_rows;
	return step_n;
}

/* Retired policies' rows into history (zs_rollover.h): one bounded transaction after the
 * other, a checkpoint after each, started within ROLLOVER_SECONDS per call (the rest follows
 * after the next ingest round; a restart continues). */
static int rollover(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen)
{
	long long t0 = zs_metrics_now_us(), moved_total = 0;
	int more = 1, steps = 0;
	step_n = 0;
	while (more > 0 && zs_metrics_now_us() - t0 < ROLLOVER_SECONDS * 1000000LL) {
		long moved = 0;
		more = zs_rollover_step(db, cfg->rollover_batch_rows, &moved, err, errlen);
		if (more < 0)
			return -1;
		if (step_n < ZS_MAINT_TRACE)
			step_rows[step_n++] = moved;
		moved_total += moved;
		steps++;
		if (checkpoint(db, err, errlen))
			return -1;
	}
	if (moved_total) {
		moved_since_prune = 1;
		ZS_INFO("maint", "rollover: %lld row(s) of retired policies moved into history in %d"
		        " transaction(s)%s", moved_total, steps, more > 0 ? ", more to follow" : "");
	}
	return 0;
}

int zs_maint_run(sqlite3 *db, const zs_config *cfg, time_t now, long *pruned, char *err,
                 size_t errlen)
{
	long total = 0;
	if (rollover(db, cfg, err, errlen))
		return -1;
	/* History of the current contract year and the keep-1 before it stays: what staff can be
	 * asked about ("what did you tell me last season?"). */
	int oldest = zs_current_year(now) - (int)cfg->history_keep_years + 1;
	char sql[300];
	snprintf(sql, sizeof sql, "DELETE FROM history WHERE (agb, year, policy_id, care_type,"
	         " valid_from) IN (SELECT agb, year, policy_id, care_type, valid_from FROM history"
	         " WHERE year < %d LIMIT %d)", oldest, PRUNE_BATCH);
	/* Finding nothing to prune reads the whole history: once an hour, or when rows moved in
	 * (a rollover) or the oldest year kept changed. */
	int due = moved_since_prune || pruned_below != oldest || now - pruned_at >= 3600;
	for (int i = 0; due && i < PRUNE_ROUNDS; i++) {
		if (zs_db_exec(db, sql, err, errlen))
			return -1;
		int n = sqlite3_changes(db);
		total += n;
		if (n < PRUNE_BATCH) { /* nothing older left */
			pruned_below = oldest;
			pruned_at = now;
			moved_since_prune = 0;
			break;
		}
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
	return checkpoint(db, err, errlen);
}
