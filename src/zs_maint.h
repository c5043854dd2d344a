/* zs_maint.h - keeping the database bounded through seasons without end (issue 17): history
 * retention in small steps, the dependency marks' retention, and a bounded WAL.
 * Writer connection only (the ingest worker, between rounds, outside its transactions). */
#ifndef ZS_MAINT_H
#define ZS_MAINT_H
#include <stddef.h>
#include <time.h>
#include <sqlite3.h>
#include "zs_config.h"

/* Writer pragmas: journal_size_limit from wal_limit_mb. 0 ok, -1 with err. */
int zs_maint_setup(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen);

/* One maintenance step at 'now': move rows of retired policies into history (zs_rollover.h:
 * transactions of at most rollover_batch_rows rows, a checkpoint after each, for up to half a
 * minute; the rest after the next round), delete history of contract years older than
 * history_keep_years (at most a few thousand rows per transaction, a bounded number of
 * transactions per call), forget old dependency marks, and checkpoint the WAL (PASSIVE: never
 * waits for readers) so that it stays within wal_limit_mb. *pruned (may be NULL) gets the
 * number of history rows deleted. 0 ok, -1 with err. */
int zs_maint_run(sqlite3 *db, const zs_config *cfg, time_t now, long *pruned, char *err,
                 size_t errlen);

/* Test hook: the rows moved by each rollover transaction (zs_rollover.h) of the last
 * zs_maint_run, at most ZS_MAINT_TRACE of them; *rows points into static storage. */
#define ZS_MAINT_TRACE 256
size_t zs_maint_rollover_trace(const long **rows);

/* Closed history rows as last counted (-1: not yet). Any thread. */
long long zs_maint_history_rows(void);

#endif
