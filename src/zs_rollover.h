/* zs_rollover.h - a calm year rollover (issue 17): when policies leave the feeds (the old
 * contract year, or one insurer's policy), their effective rows are not archived in the ingest
 * transaction (national: millions of rows, minutes, a doubled WAL). Instead:
 *
 *  - in the ingest transaction, each policy that left gets one row in table retired(year,
 *    policy_id, gen, at): gen is the generation that retires it, at the moment it left. From
 *    that snapshot on no answer shows its rows: the status answers are built from the policy
 *    set (where it is gone), the readers' effective-row queries skip retired policies, and the
 *    history view (status_history, zs_db.c) shows those rows closed at 'at';
 *  - between ingest rounds (zs_maint_run, worker thread) the rows move from effective into
 *    history in transactions of at most rollover_batch_rows rows, each with its change-log
 *    events (status gone, applied at 'at'), with a WAL checkpoint after each. The moved rows
 *    show in the history exactly as before, so no answer changes while they move. A pass walks
 *    effective once in key order (a cursor in meta: a restart continues where it was); at the
 *    end of a pass the retired rows it covered are deleted.
 *  - a retired policy that comes back before its rows moved gets the rest of its rows moved
 *    in the ingest transaction that brings it back (rare), before reconciliation.
 *
 * Writer connection only. Every function returns 0 ok or -1 with err (errlen) unless said
 * otherwise; nothing is allocated for the caller. */
#ifndef ZS_ROLLOVER_H
#define ZS_ROLLOVER_H
#include <stddef.h>
#include <time.h>
#include <sqlite3.h>

/* Inside the ingest transaction, before any feed version is applied: remember the policy set
 * (in a temp table). */
int zs_rollover_begin(sqlite3 *db, char *err, size_t errlen);

/* Inside the ingest transaction, after the versions are applied and before reconciliation:
 * retired policies that are back get their remaining rows moved now; policies of the
 * remembered set that are gone are retired at now (*retired, may be NULL, gets how many). */
int zs_rollover_mark(sqlite3 *db, time_t now, long *retired, char *err, size_t errlen);

/* One batch in a transaction of its own (outside any transaction): move at most batch rows
 * of retired policies into history. *moved (may be NULL) gets how many. Returns 1 when more
 * work remains, 0 when none, -1 with err. */
int zs_rollover_step(sqlite3 *db, long batch, long *moved, char *err, size_t errlen);

/* Rows still to move: 1 if any policy is retired and not yet cleared, 0 none, -1 error. */
int zs_rollover_pending(sqlite3 *db);

#endif
