/* zs_changes.c - the change feed (see zs_changes.h). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_changes.h"
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_log.h"
#include "zs_time.h"
#include "zs_types.h"

#define MOD "changes"
#define PRUNE_STEP 5000
#define PRUNE_STEPS 20
#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000

static int fail(sqlite3 *db, char *err, size_t errlen)
{
	snprintf(err, errlen, "change log: %s", sqlite3_errmsg(db));
	return -1;
}

/* The highest year published at t. */
static int published_through(time_t t)
{
	int cur = zs_current_year(t);
	return zs_year_published(cur + 1, t) ? cur + 1 : cur;
}

int zs_changes_migrate(sqlite3 *db, char *err, size_t errlen)
{
	char sql[1024];
	/* A new database starts with the years already public: no event for them. */
	snprintf(sql, sizeof sql,
	         "CREATE TABLE IF NOT EXISTS change_log(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	         " at INTEGER NOT NULL, year INTEGER NOT NULL, agb TEXT, policy_id TEXT,"
	         " care_type TEXT, old_status INTEGER, old_flags INTEGER, new_status INTEGER,"
	         " new_flags INTEGER);"
	         "INSERT OR IGNORE INTO meta(key, value) VALUES('changes_years_through', %d);"
	         "INSERT OR IGNORE INTO meta(key, value) VALUES('changes_valid_from', 0);"
	         "CREATE TABLE IF NOT EXISTS subscriber_state(name TEXT PRIMARY KEY,"
	         " acked INTEGER NOT NULL, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
	         " last_attempt INTEGER, last_success INTEGER,"
	         " delivered INTEGER NOT NULL DEFAULT 0);",
	         published_through(zs_now()));
	return zs_db_exec(db, sql, err, errlen);
}

int zs_changes_flags(int as_contracted, int ceiling, int basis, int has_stop)
{
	return (as_contracted ? ZS_CHG_AS_CONTRACTED : 0) | (ceiling ? ZS_CHG_CEILING : 0) |
	       (basis == 3 ? ZS_CHG_CONFLICT : 0) | (has_stop ? ZS_CHG_PATIENT_STOP : 0) |
	       (basis == 4 ? ZS_CHG_PROVIDER_ONLY : 0);
}

static int insert(sqlite3 *db, sqlite3_stmt **cached, time_t now, const char *agb, int year,
                  const char *policy, const char *care_type, int os, int of, int ns, int nf,
                  char *err, size_t errlen)
{
	sqlite3_stmt *st = cached ? *cached : NULL;
	if (!st && sqlite3_prepare_v3(db, "INSERT INTO change_log(at, year, agb, policy_id,"
	                                  " care_type, old_status, old_flags, new_status, new_flags)"
	                                  " VALUES(?,?,?,?,?,?,?,?,?)", -1,
	                              cached ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK)
		return fail(db, err, errlen);
	if (cached)
		*cached = st;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int(st, 2, year);
	if (agb) {
		sqlite3_bind_text(st, 3, agb, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, policy, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, care_type, -1, SQLITE_STATIC);
	}
	if (agb && os >= 0) {
		sqlite3_bind_int(st, 6, os);
		sqlite3_bind_int(st, 7, of);
	}
	if (ns >= 0) { /* also for a year-level event: year_loaded has new_status 0 */
		sqlite3_bind_int(st, 8, ns);
		sqlite3_bind_int(st, 9, nf);
	}
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(db, err, errlen);
	if (cached) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	return rc;
}

/* Inside the caller's write transaction: one year_published event per year whose publication
 * moment has passed since the last one written. *wrote counts them. */
static int publish_years(sqlite3 *db, time_t now, int *wrote, char *err, size_t errlen)
{
	long long through = zs_db_meta(db, "changes_years_through");
	int target = published_through(now);
	char y[24], sql[128];
	if (through < 0)
		through = target;
	for (long long year = through + 1; year <= target; year++) {
		snprintf(y, sizeof y, "%lld", year);
		if (insert(db, NULL, now, NULL, (int)year, NULL, NULL, -1, 0, -1, 0, err, errlen) ||
		    zs_deps_mark(db, "changes", err, errlen) ||
		    zs_deps_mark2(db, "y", y, err, errlen) || zs_deps_mark2(db, "s", y, err, errlen))
			return -1;
		ZS_INFO(MOD, "contract year %lld is published: year_published event written", year);
		(*wrote)++;
	}
	if (target > through) {
		snprintf(sql, sizeof sql, "UPDATE meta SET value=%d WHERE key='changes_years_through'",
		         target);
		if (zs_db_exec(db, sql, err, errlen))
			return -1;
	}
	return 0;
}

void zs_changes_writer_init(zs_changes_writer *w, sqlite3 *db, time_t now)
{
	memset(w, 0, sizeof *w);
	w->db = db;
	w->now = now;
}

void zs_changes_writer_free(zs_changes_writer *w)
{
	sqlite3_finalize(w->ins);
	w->ins = NULL;
}

/* Is this writer loading year (no effective row of it before the transaction)? Asked at the
 * year's first change in the transaction: the rows of agb may already be written, any other
 * provider's row of that year was there before (or had a change of its own before this one).
 * 1 loading, 0 not, -1 on a database error. */
static int year_loading(zs_changes_writer *w, const char *agb, int year, int old_status,
                        int *first, char *err, size_t errlen)
{
	*first = 0;
	for (int i = 0; i < w->ny; i++)
		if (w->year[i] == year)
			return w->loading[i];
	int loading = 0;
	if (old_status < 0) { /* a new key: was the year empty? */
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(w->db, "SELECT NOT EXISTS (SELECT 1 FROM effective WHERE"
		                              " year=?1 AND agb<>?2)", -1, &st, NULL) != SQLITE_OK)
			return fail(w->db, err, errlen);
		sqlite3_bind_int(st, 1, year);
		sqlite3_bind_text(st, 2, agb, -1, SQLITE_STATIC);
		loading = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (w->ny < (int)(sizeof w->year / sizeof w->year[0])) {
		w->year[w->ny] = year;
		w->loading[w->ny++] = loading;
	}
	*first = loading;
	return loading;
}

int zs_changes_add(zs_changes_writer *w, const char *agb, int year, const char *policy,
                   const char *care_type, int old_status, int old_flags, int new_status,
                   int new_flags, char *err, size_t errlen)
{
	int wrote = 0, first;
	if (!zs_year_published(year, w->now))
		return 0; /* embargo: the year_published event will stand for it */
	int loading = year_loading(w, agb, year, old_status, &first, err, errlen);
	if (loading < 0)
		return -1;
	if (loading) { /* one year_loaded event instead of a row per new status */
		if (first && (insert(w->db, NULL, w->now, NULL, year, NULL, NULL, -1, 0, 0, 0, err,
		                     errlen) ||
		              zs_deps_mark(w->db, "changes", err, errlen)))
			return -1;
		return 0;
	}
	/* a year published since the last tick: its event comes before its first change */
	if (!w->years_checked && year > zs_current_year(w->now)) {
		if (publish_years(w->db, w->now, &wrote, err, errlen))
			return -1;
		w->years_checked = 1;
	}
	if (insert(w->db, &w->ins, w->now, agb, year, policy, care_type, old_status, old_flags,
	           new_status, new_flags, err, errlen))
		return -1;
	if (!w->marked && zs_deps_mark(w->db, "changes", err, errlen))
		return -1;
	w->marked = 1;
	return 0;
}

int zs_changes_record(sqlite3 *db, time_t now, const char *agb, int year, const char *policy,
                      const char *care_type, int old_status, int old_flags, int new_status,
                      int new_flags, char *err, size_t errlen)
{
	zs_changes_writer w;
	zs_changes_writer_init(&w, db, now);
	int rc = zs_changes_add(&w, agb, year, policy, care_type, old_status, old_flags,
	                        new_status, new_flags, err, errlen);
	zs_changes_writer_free(&w);
	return rc;
}

static int bump_commit(sqlite3 *db, char *err, size_t errlen)
{
	return zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'; COMMIT", err,
	                  errlen);
}

/* One pruning step inside its own transaction: the oldest events applied before cutoff, at
 * most PRUNE_STEP. *deleted = how many. */
static int prune_step(sqlite3 *db, time_t cutoff, int *deleted, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	long long last = -1;
	char sql[160], e2[128];
	*deleted = 0;
	if (zs_db_exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT seq, at FROM change_log ORDER BY seq LIMIT ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		fail(db, err, errlen);
		goto rollback;
	}
	sqlite3_bind_int(st, 1, PRUNE_STEP);
	while (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 1) < (long long)cutoff) {
		last = sqlite3_column_int64(st, 0);
		(*deleted)++;
	}
	sqlite3_finalize(st);
	if (last < 0) {
		if (zs_db_exec(db, "COMMIT", err, errlen) == 0)
			return 0;
		goto rollback; /* a failed COMMIT leaves the transaction open */
	}
	snprintf(sql, sizeof sql, "DELETE FROM change_log WHERE seq <= %lld;"
	         "UPDATE meta SET value=%lld WHERE key='changes_valid_from'", last, last);
	if (zs_db_exec(db, sql, err, errlen) || zs_deps_mark(db, "changes", err, errlen) ||
	    bump_commit(db, err, errlen))
		goto rollback;
	return 0;
rollback:
	zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
	return -1;
}

int zs_changes_tick(sqlite3 *db, time_t now, long retention, int *changed, char *err,
                    size_t errlen)
{
	int wrote = 0, deleted = 0;
	char e2[128];
	*changed = 0;
	if (zs_db_meta(db, "changes_years_through") < published_through(now)) {
		if (zs_db_exec(db, "BEGIN IMMEDIATE", err, errlen))
			return -1;
		if (publish_years(db, now, &wrote, err, errlen) ||
		    (wrote ? bump_commit(db, err, errlen) : zs_db_exec(db, "COMMIT", err, errlen))) {
			zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
			return -1;
		}
		*changed |= wrote > 0;
	}
	for (int i = 0; i < PRUNE_STEPS; i++) {
		if (prune_step(db, now - retention, &deleted, err, errlen))
			return -1;
		*changed |= deleted > 0;
		if (deleted < PRUNE_STEP)
			break;
	}
	return 0;
}

time_t zs_changes_next_publication(time_t now)
{
	int y = zs_current_year(now) + 1;
	time_t t = zs_publication_time(y);
	return t > now ? t : zs_publication_time(y + 1);
}

/* ---- cursors ------------------------------------------------------------------------------ */

static unsigned check_of(long long seq)
{
	unsigned long long h = (unsigned long long)seq * 0x9E3779B97F4A7C15ULL;
	return (unsigned)(h >> 48);
}

void zs_changes_cursor(long long seq, char *buf, size_t len)
{
	snprintf(buf, len, "1-%llx-%04x", (unsigned long long)seq, check_of(seq));
}

int zs_changes_cursor_parse(const char *s, long long *seq)
{
	unsigned long long v;
	unsigned c;
	int used = 0;
	if (!s || strlen(s) > 40 || strncmp(s, "1-", 2) != 0)
		return -1;
	if (sscanf(s, "1-%llx-%4x%n", &v, &c, &used) != 2 || s[used] || v > (1ULL << 62) ||
	    c != check_of((long long)v))
		return -1;
	/* only the canonical spelling */
	char again[48];
	zs_changes_cursor((long long)v, again, sizeof again);
	if (strcmp(again, s) != 0)
		return -1;
	*seq = (long long)v;
	return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

void zs_changes_free(zs_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].policy);
		free(v[i].care_type);
		free(v[i].uzovi);
		free(v[i].kind);
	}
	free(v);
}

static char *dupcol(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static int intcol(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

int zs_changes_read(sqlite3 *db, long long after, size_t limit, zs_change **v, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = limit ? limit : 1;
	*v = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
	        "SELECT c.seq, c.at, c.year, c.agb, c.policy_id, c.care_type, c.old_status,"
	        " c.old_flags, c.new_status, c.new_flags, p.uzovi, v.kind FROM change_log c"
	        " LEFT JOIN policy p ON p.id = c.policy_id AND p.year = c.year"
	        " LEFT JOIN provider v ON v.agb = c.agb"
	        " WHERE c.seq > ? ORDER BY c.seq LIMIT ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (!(*v = calloc(cap, sizeof **v))) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap) {
		zs_change *c = &(*v)[(*n)++];
		c->seq = sqlite3_column_int64(st, 0);
		c->at = (time_t)sqlite3_column_int64(st, 1);
		c->year = sqlite3_column_int(st, 2);
		const unsigned char *agb = sqlite3_column_text(st, 3);
		snprintf(c->agb, sizeof c->agb, "%s", agb ? (const char *)agb : "");
		c->policy = dupcol(st, 4);
		c->care_type = dupcol(st, 5);
		c->old_status = intcol(st, 6);
		c->old_flags = intcol(st, 7);
		c->new_status = intcol(st, 8);
		c->new_flags = intcol(st, 9);
		c->uzovi = dupcol(st, 10);
		c->kind = dupcol(st, 11);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		zs_changes_free(*v, *n);
		*v = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int zs_changes_window(sqlite3 *db, long long *valid_from, long long *head)
{
	sqlite3_stmt *st;
	*valid_from = zs_db_meta(db, "changes_valid_from");
	if (*valid_from < 0)
		*valid_from = 0;
	*head = 0;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name='change_log'", -1,
	                       &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		*head = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (*head < *valid_from)
		*head = *valid_from;
	return 0;
}

static json_t *state_json(int status, int flags)
{
	if (status < 0)
		return json_null();
	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b}", "status",
	                 zs_status_code((zs_status)status),
	                 "as_contracted", (flags & ZS_CHG_AS_CONTRACTED) != 0,
	                 "ceiling", (flags & ZS_CHG_CEILING) != 0,
	                 "conflict", (flags & ZS_CHG_CONFLICT) != 0,
	                 "patient_stop", (flags & ZS_CHG_PATIENT_STOP) != 0,
	                 "provider_only", (flags & ZS_CHG_PROVIDER_ONLY) != 0);
}

json_t *zs_change_json(const zs_change *c)
{
	char cur[48], at[32];
	zs_changes_cursor(c->seq, cur, sizeof cur);
	zs_fmt_utc(c->at, at, sizeof at);
	if (!c->agb[0]) /* a year-level event */
		return json_pack("{s:s, s:s, s:i, s:s}", "cursor", cur, "type",
		                 c->new_status >= 0 ? "year_loaded" : "year_published", "year",
		                 c->year, "applied_at", at);
	return json_pack("{s:s, s:s, s:i, s:s, s:s?, s:s?, s:o, s:o, s:s}", "cursor", cur, "type",
	                 "status", "year", c->year, "agb", c->agb, "policy", c->policy,
	                 "care_type", c->care_type, "old", state_json(c->old_status, c->old_flags),
	                 "new", state_json(c->new_status, c->new_flags), "applied_at", at);
}

/* ---- GET /v1/changes ---------------------------------------------------------------------- */

json_t *zs_api_changes(zs_reader *r, const zs_request *req, int *status)
{
	const char *since = zs_param(req, "since"), *lim = zs_param(req, "limit");
	long long after = -1, valid_from, head;
	long limit = LIMIT_DEFAULT;
	for (size_t i = 0; i < req->nparams; i++) {
		const char *k = req->params[i].key;
		if (strcmp(k, "since") && strcmp(k, "limit") && strcmp(k, "lang"))
			return zs_api_error(status, 400, "bad_parameter", k,
			                    "%s: unknown parameter (since, limit)", k);
	}
	if (lim) {
		char *end;
		errno = 0;
		limit = strtol(lim, &end, 10);
		if (errno || end == lim || *end || limit < 1 || limit > LIMIT_MAX)
			return zs_api_error(status, 400, "bad_parameter", "limit",
			                    "limit: a whole number from 1 to %d", LIMIT_MAX);
	}
	if (since && strcmp(since, "latest") != 0 && zs_changes_cursor_parse(since, &after))
		return zs_api_error(status, 400, "bad_parameter", "since",
		                    "since: not a cursor of this feed (use the \"next\" value of an"
		                    " earlier answer, \"latest\", or leave it out)");
	zs_reader_refresh(r);
	zs_api_dep(r, "changes", NULL);
	if (zs_changes_window(r->db, &valid_from, &head))
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	if (!since)
		after = valid_from;
	else if (strcmp(since, "latest") == 0)
		after = head;
	else if (after < valid_from || after > head) {
		json_t *e = zs_api_error(status, 410, "cursor_expired", "since",
		        "De cursor is ouder dan de bewaarde wijzigingen (of onbekend): haal alles"
		        " opnieuw op en ga verder met since=latest. / The cursor is older than the"
		        " retained changes (or unknown): re-sync everything, then continue with"
		        " since=latest.");
		char c[48];
		zs_changes_cursor(valid_from, c, sizeof c);
		json_object_set_new(json_object_get(e, "error"), "oldest_cursor", json_string(c));
		return e;
	}
	zs_change *v = NULL;
	size_t n = 0;
	if (zs_changes_read(r->db, after, (size_t)limit + 1, &v, &n))
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	int more = n > (size_t)limit;
	if (more)
		n = (size_t)limit;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, zs_change_json(&v[i]));
	char next[48];
	zs_changes_cursor(n ? v[n - 1].seq : after, next, sizeof next);
	zs_changes_free(v, more ? n + 1 : n);
	*status = 200;
	return json_pack("{s:o, s:s, s:b}", "changes", arr, "next", next, "more", more);
}
