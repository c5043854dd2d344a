/* zs_changes.h - the change feed: every change of a published effective status, in the order
 * it was applied, kept for changes_retention seconds (GET /v1/changes, webhooks).
 *
 * Storage (table change_log, written by the ingest worker inside the write transaction that
 * changes the effective rows): one compact row per change, seq (AUTOINCREMENT: never reused,
 * so cursors stay valid across restarts), the moment applied, year, agb, policy, care type,
 * old and new status (zs_status, NULL = no row) and flags (ZS_CHG_* bits). A row with agb NULL
 * is the year_published event of its year. Publication rule: a change of a year that is not
 * yet published when it is applied is never written; when the clock passes 12 November 00:00
 * (Europe/Amsterdam) one year_published event is written instead (zs_changes_tick, and before
 * the first change of that year). A year that had no effective row before the transaction is
 * loaded, not changed: one year_loaded event (agb NULL, new_status 0) stands for all its new
 * rows, so a first load of millions of statuses writes one row (a consumer re-reads the year).
 *
 * Cursors are opaque strings naming a seq ("1-<hex seq>-<check>"). Every function returns 0
 * ok or -1 with err unless said otherwise; nothing here allocates for the caller except where
 * said (zs_changes_read: the caller frees the array with zs_changes_free). */
#ifndef ZS_CHANGES_H
#define ZS_CHANGES_H
#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include <sqlite3.h>
#include "zs_api.h"

/* Flag bits of an old/new state. */
#define ZS_CHG_AS_CONTRACTED 1
#define ZS_CHG_CEILING       2
#define ZS_CHG_CONFLICT      4
#define ZS_CHG_PATIENT_STOP  8
#define ZS_CHG_PROVIDER_ONLY 16

/* Tables and the year_published bookkeeping (called by zs_db_open on the write connection). */
int zs_changes_migrate(sqlite3 *db, char *err, size_t errlen);

/* Flag bits from an effective row's columns. */
int zs_changes_flags(int as_contracted, int ceiling, int basis, int has_stop);

/* Writer, inside the caller's write transaction: a writer keeps its prepared statement for
 * many changes (one reconciliation); init, then add per change, then free (finalizes; nothing
 * else to free). add: old_status/new_status -1 = no row before/after; a year not published at
 * now is skipped; the dependency key "changes" (zs_deps.h) is marked once per writer. */
typedef struct {
	sqlite3 *db;
	sqlite3_stmt *ins;
	time_t now;
	int marked;          /* "changes" marked */
	int years_checked;   /* year_published events due at now written */
	int ny;              /* years seen by this writer: */
	int year[8];
	int loading[8];      /* 1: the year had no effective row before (a first load) */
} zs_changes_writer;
void zs_changes_writer_init(zs_changes_writer *w, sqlite3 *db, time_t now);
int zs_changes_add(zs_changes_writer *w, const char *agb, int year, const char *policy,
                   const char *care_type, int old_status, int old_flags, int new_status,
                   int new_flags, char *err, size_t errlen);
void zs_changes_writer_free(zs_changes_writer *w);
/* One change with a writer of its own. */
int zs_changes_record(sqlite3 *db, time_t now, const char *agb, int year, const char *policy,
                      const char *care_type, int old_status, int old_flags, int new_status,
                      int new_flags, char *err, size_t errlen);

/* Writer, own transactions: write the year_published events due at now, and prune events
 * older than retention seconds in small steps. *changed = 1 when a new generation was
 * committed. */
int zs_changes_tick(sqlite3 *db, time_t now, long retention, int *changed, char *err,
                    size_t errlen);

/* The next publication moment after now (the worker wakes then). */
time_t zs_changes_next_publication(time_t now);

/* Cursors. decode: 0 ok, -1 malformed. */
void zs_changes_cursor(long long seq, char *buf, size_t len);
int zs_changes_cursor_parse(const char *s, long long *seq);

/* One event as read back. */
typedef struct {
	long long seq;
	time_t at;
	int year;
	char agb[16];           /* "" for year_published */
	char *policy, *care_type;
	int old_status, old_flags, new_status, new_flags; /* -1: none */
	char *uzovi, *kind;     /* the policy's insurer and the provider's kind now, or NULL */
} zs_change;

void zs_changes_free(zs_change *v, size_t n);
/* Events with seq > after, at most limit, oldest first (runs in the caller's transaction).
 * *v allocated (free with zs_changes_free). */
int zs_changes_read(sqlite3 *db, long long after, size_t limit, zs_change **v, size_t *n);
/* The lowest cursor still valid (events after it are all kept) and the newest seq. */
int zs_changes_window(sqlite3 *db, long long *valid_from, long long *head);
/* One event as JSON (the /v1/changes and webhook element). */
json_t *zs_change_json(const zs_change *c);

/* GET /v1/changes?since=&limit= */
json_t *zs_api_changes(zs_reader *r, const zs_request *req, int *status);

#endif
