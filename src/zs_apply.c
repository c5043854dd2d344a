/* zs_apply.c - applying fetched feed versions: reading records line by line, storing them,
 * row errors and the tolerated share, the batch transaction
 * with a savepoint per version and one reconciliation (zs_ingest.h). */
#include "config.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "zs_db.h"
#include "zs_changes.h"
#include "zs_deps.h"
#include "zs_feed.h"
#include "zs_fresh.h"
#include "zs_incr.h"
#include "zs_ingest.h"
#include "zs_ingest_priv.h"
#include "zs_lexicon.h"
#include "zs_log.h"
#include "zs_ready.h"
#include "zs_readahead.h"
#include "zs_reconcile.h"
#include "zs_rollover.h"
#include "zs_similar.h"
#include "zs_text.h"
#include "zs_time.h"
#include "zs_util.h"


/* ---- applying one version ---------------------------------------------------------------- */

/* Where an apply spends its time (logged at debug level): seconds per phase, all versions of
 * a batch together. */
enum { PH_DROP, PH_LINES, PH_STORE, PH_CHECK, PH_RECONCILE, PH_SIMILAR, PH_REST, PH_N };
static const char *const ph_names[PH_N] = { "drop", "lines", "store", "references",
	                                    "reconcile", "similar", "rest" };
static double ph_sec[PH_N];

static double ph_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Add the time since *t to phase ph; *t = now. */
static void ph_mark(int ph, double *t)
{
	double n = ph_now();
	ph_sec[ph] += n - *t;
	*t = n;
}

typedef struct {
	sqlite3_stmt *ins_stmt, *ins_prov, *ins_pol, *ins_sim, *ins_insurer, *touch, *touch_prov,
		*ins_err;
	sqlite3_stmt *pol_owner, *pol_count;
	/* The AGB last put on each work list in this version: a feed's lines come provider by
	 * provider, so most INSERTs into temp.touched would be repeats (emptied at every version:
	 * a rejected version's savepoint takes its work list entries back) */
	char touched[16], touched_prov[16];
} apply_stmts;

static void apply_free(apply_stmts *a)
{
	sqlite3_finalize(a->ins_stmt);
	sqlite3_finalize(a->ins_prov);
	sqlite3_finalize(a->ins_pol);
	sqlite3_finalize(a->ins_sim);
	sqlite3_finalize(a->ins_insurer);
	sqlite3_finalize(a->touch);
	sqlite3_finalize(a->touch_prov);
	sqlite3_finalize(a->ins_err);
	sqlite3_finalize(a->pol_owner);
	sqlite3_finalize(a->pol_count);
}

static int apply_init(sqlite3 *db, apply_stmts *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	if (!(a->ins_stmt = prep(db,
	          "INSERT INTO stmt(agb, year, feed_id, line, care_type, scope, scope_id, status,"
	          " as_contracted, ceiling, ceiling_exempt, stop_reason, stop_from, stop_until,"
	          " stop_note, said_at, since_date, lh)"
	          " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", err,
	          errlen)) ||
	    !(a->ins_prov = prep(db,
	          "INSERT OR REPLACE INTO src_provider(agb, feed_id, from_provider, name, kind, parent,"
	          " locations, aliases, lh) VALUES(?,?,?,?,?,?,?,?,?)", err, errlen)) ||
	    !(a->ins_pol = prep(db,
	          "INSERT INTO policy(id, year, feed_id, name, label, type, uzovi, concern_id,"
	          " reimbursement) VALUES(?,?,?,?,?,?,?,?,?)", err, errlen)) ||
	    !(a->pol_owner = prep(db, "SELECT f.name FROM policy p JOIN feed f ON f.id=p.feed_id"
	          " WHERE p.id=? AND p.year=?", err, errlen)) ||
	    !(a->pol_count = prep(db, "SELECT count(*) FROM policy WHERE feed_id=? AND year=?", err,
	                          errlen)) ||
	    !(a->ins_sim = prep(db,
	          "INSERT INTO similar_decl(feed_id, year, a, b, relation, line) VALUES(?,?,?,?,?,?)",
	          err, errlen)) ||
	    !(a->ins_insurer = prep(db,
	          "INSERT OR REPLACE INTO src_insurer(feed_id, uzovi, name, concern_id, concern_name)"
	          " VALUES(?,?,?,?,?)", err, errlen)) ||
	    !(a->touch = prep(db, "INSERT OR IGNORE INTO temp.touched VALUES(?)", err, errlen)) ||
	    !(a->touch_prov = prep(db, "INSERT OR IGNORE INTO temp.touched_prov VALUES(?)", err,
	                           errlen)) ||
	    !(a->ins_err = prep(db,
	          "INSERT OR REPLACE INTO feed_error(feed_id, seq, line, field, reason)"
	          " VALUES(?,?,?,?,?)", err, errlen))) {
		apply_free(a);
		return -1;
	}
	return 0;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Row errors: kept in a small list until the outcome is known, then stored. */
typedef struct {
	long line;
	char field[64];
	char reason[256];
} row_err;

typedef struct {
	row_err v[ZS_MAX_ROW_ERRORS];
	size_t n;
} err_list;

static void err_add(err_list *l, long line, const char *field, const char *reason)
{
	if (l->n >= ZS_MAX_ROW_ERRORS)
		return;
	l->v[l->n].line = line;
	snprintf(l->v[l->n].field, sizeof l->v[l->n].field, "%s", field);
	snprintf(l->v[l->n].reason, sizeof l->v[l->n].reason, "%s", reason);
	l->n++;
}

static int store_errors(sqlite3 *db, int feed_id, const err_list *l, char *err, size_t errlen)
{
	apply_stmts a;
	char q[64];
	snprintf(q, sizeof q, "DELETE FROM feed_error WHERE feed_id=%d", feed_id);
	if (zs_db_exec(db, q, err, errlen))
		return -1;
	sqlite3_stmt *st = prep(db, "INSERT INTO feed_error(feed_id, seq, line, field, reason)"
	                            " VALUES(?,?,?,?,?)", err, errlen);
	(void)a;
	if (!st)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		sqlite3_bind_int(st, 1, feed_id);
		sqlite3_bind_int(st, 2, (int)i);
		sqlite3_bind_int64(st, 3, l->v[i].line);
		sqlite3_bind_text(st, 4, l->v[i].field, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, l->v[i].reason, -1, SQLITE_STATIC);
		if (step_done(db, st, err, errlen)) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Put agb on a work list (st: INSERT OR IGNORE into it) unless it was the last one put there. */
static int touch(sqlite3 *db, sqlite3_stmt *st, char last[16], const char *agb, char *err,
                 size_t errlen)
{
	if (strcmp(last, agb) == 0)
		return 0;
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	if (step_done(db, st, err, errlen))
		return -1;
	if (strlen(agb) < 16)
		strcpy(last, agb);
	else
		last[0] = 0;
	return 0;
}

static int insert_record(sqlite3 *db, apply_stmts *a, const zs_feed_conf *fc, int feed_id,
                         const zs_rec *hdr, const zs_rec *r, long line, uint64_t lh,
                         zs_incr *x, time_t now, zs_rec_err *rerr, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	switch (r->type) {
	case ZS_REC_POLICY: {
		/* Policy ids are unique per year across insurers. */
		sqlite3_bind_text(a->pol_owner, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_int(a->pol_owner, 2, r->year);
		if (sqlite3_step(a->pol_owner) == SQLITE_ROW) {
			const char *owner = (const char *)sqlite3_column_text(a->pol_owner, 0);
			snprintf(rerr->field, sizeof rerr->field, "id");
			snprintf(rerr->reason, sizeof rerr->reason,
			         "policy %s for %d is already declared by feed %s", r->id, r->year,
			         strcmp(owner, fc->name) == 0 ? "this (twice)" : owner);
			sqlite3_reset(a->pol_owner);
			return 1;
		}
		sqlite3_reset(a->pol_owner);
		sqlite3_bind_int(a->pol_count, 1, feed_id);
		sqlite3_bind_int(a->pol_count, 2, r->year);
		int have = sqlite3_step(a->pol_count) == SQLITE_ROW ? sqlite3_column_int(a->pol_count, 0)
		                                                    : 0;
		sqlite3_reset(a->pol_count);
		if (have >= ZS_MAX_POLICIES_PER_YEAR) {
			snprintf(rerr->field, sizeof rerr->field, "id");
			snprintf(rerr->reason, sizeof rerr->reason,
			         "more than %d policies for %d in one feed", ZS_MAX_POLICIES_PER_YEAR,
			         r->year);
			return 1;
		}
		char *reimb = json_dumps(r->reimbursement, JSON_COMPACT);
		s = a->ins_pol;
		sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, r->year);
		sqlite3_bind_int(s, 3, feed_id);
		sqlite3_bind_text(s, 4, r->name, -1, SQLITE_STATIC);
		bind_text(s, 5, r->label);
		sqlite3_bind_int(s, 6, (int)r->ptype);
		sqlite3_bind_text(s, 7, hdr->uzovi, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, hdr->concern_id, -1, SQLITE_STATIC);
		bind_text(s, 9, reimb);
		free(reimb);
		return step_done(db, s, err, errlen) ? -1 : 0;
	}
	case ZS_REC_PROVIDER: {
		char *locs = json_dumps(r->locations, JSON_COMPACT);
		s = a->ins_prov;
		sqlite3_bind_text(s, 1, r->agb, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, feed_id);
		sqlite3_bind_int(s, 3, fc->kind == ZS_FEED_PROVIDER);
		sqlite3_bind_text(s, 4, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, r->kind, -1, SQLITE_STATIC);
		bind_text(s, 6, r->parent);
		bind_text(s, 7, locs);
		free(locs);
		char *aliases = r->aliases ? json_dumps(r->aliases, JSON_COMPACT) : NULL;
		bind_text(s, 8, aliases);
		free(aliases);
		sqlite3_bind_int64(s, 9, (sqlite3_int64)lh);
		zs_incr_wrote_provider(x, r->agb);
		if (step_done(db, s, err, errlen))
			return -1;
		return touch(db, a->touch_prov, a->touched_prov, r->agb, err, errlen);
	}
	case ZS_REC_STATUS: {
		char *exempt = r->ceiling_exempt ? json_dumps(r->ceiling_exempt, JSON_COMPACT) : NULL;
		time_t said = r->said_at != -1 ? r->said_at
		            : hdr->generated_at != -1 ? hdr->generated_at : now;
		s = a->ins_stmt;
		sqlite3_bind_text(s, 1, r->agb, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, r->year);
		sqlite3_bind_int(s, 3, feed_id);
		sqlite3_bind_int64(s, 4, line);
		sqlite3_bind_text(s, 5, r->care_type, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, (int)r->scope);
		sqlite3_bind_text(s, 7, r->scope_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 8, (int)r->status);
		sqlite3_bind_int(s, 9, r->as_contracted);
		sqlite3_bind_int(s, 10, r->ceiling);
		bind_text(s, 11, exempt);
		bind_text(s, 12, r->stop_reason);
		bind_text(s, 13, r->stop_from);
		bind_text(s, 14, r->stop_until);
		bind_text(s, 15, r->stop_note);
		sqlite3_bind_int64(s, 16, (sqlite3_int64)said);
		bind_text(s, 17, r->since_date);
		sqlite3_bind_int64(s, 18, (sqlite3_int64)lh);
		free(exempt);
		if (step_done(db, s, err, errlen))
			return -1;
		return touch(db, a->touch, a->touched, r->agb, err, errlen);
	}
	case ZS_REC_SIMILAR:
		s = a->ins_sim;
		sqlite3_bind_int(s, 1, feed_id);
		sqlite3_bind_int(s, 2, r->year);
		sqlite3_bind_text(s, 3, r->pol_a, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, r->pol_b, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, r->relation, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, line);
		return step_done(db, s, err, errlen) ? -1 : 0;
	default:
		return 0;
	}
}

/* After all lines: insurer-feed statements and declarations must name this feed's policies. */
static int check_references(sqlite3 *db, int feed_id, int insurer, err_list *errs,
                            long *rejected, long *accepted, char *err, size_t errlen)
{
	/* Insurer feeds: a policy of this feed. Provider feeds: a policy of any insurer feed. */
	sqlite3_stmt *st = prep(db, insurer
	        ? "SELECT rowid, line, scope_id, year, agb FROM stmt WHERE feed_id=?1 AND scope=1"
	          " AND NOT EXISTS (SELECT 1 FROM policy p WHERE p.id=stmt.scope_id"
	          " AND p.year=stmt.year AND p.feed_id=?1)"
	        : "SELECT rowid, line, scope_id, year, agb FROM stmt WHERE feed_id=?1 AND scope=1"
	          " AND NOT EXISTS (SELECT 1 FROM policy p WHERE p.id=stmt.scope_id"
	          " AND p.year=stmt.year)",
	        err, errlen);
	sqlite3_stmt *del = prep(db, "DELETE FROM stmt WHERE rowid=?", err, errlen);
	/* a row of an unchanged line can lose its policy: its provider is reconciled */
	sqlite3_stmt *tch = prep(db, "INSERT OR IGNORE INTO temp.touched VALUES(?)", err, errlen);
	int rc = (st && del && tch) ? 0 : -1;
	if (st)
		sqlite3_bind_int(st, 1, feed_id);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char reason[256];
		snprintf(reason, sizeof reason, "policy \"%s\" for %d is not declared in %s",
		         (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3),
		         insurer ? "this feed" : "any insurer feed");
		err_add(errs, sqlite3_column_int64(st, 1), "policy", reason);
		(*rejected)++;
		(*accepted)--;
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_text(tch, 1, (const char *)sqlite3_column_text(st, 4), -1,
		                  SQLITE_TRANSIENT);
		rc = step_done(db, del, err, errlen) || step_done(db, tch, err, errlen) ? -1 : 0;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	sqlite3_finalize(tch);
	if (rc)
		return rc;
	if (!insurer)
		return 0;
	/* A declaration needs one policy of this feed; the other may belong to a sister insurer
	 * whose feed is not loaded yet (it counts once it is). */
	st = prep(db,
	          "SELECT rowid, line, a, b, year FROM similar_decl s WHERE feed_id=?1 AND NOT EXISTS"
	          " (SELECT 1 FROM policy WHERE id IN (s.a, s.b) AND year=s.year AND feed_id=?1)",
	          err, errlen);
	del = prep(db, "DELETE FROM similar_decl WHERE rowid=?", err, errlen);
	rc = (st && del) ? 0 : -1;
	if (st)
		sqlite3_bind_int(st, 1, feed_id);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char reason[256];
		snprintf(reason, sizeof reason,
		         "declared pair %s / %s for %d: one of them must be a policy of this feed",
		         (const char *)sqlite3_column_text(st, 2),
		         (const char *)sqlite3_column_text(st, 3), sqlite3_column_int(st, 4));
		err_add(errs, sqlite3_column_int64(st, 1), "policies", reason);
		(*rejected)++;
		(*accepted)--;
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(st, 0));
		rc = step_done(db, del, err, errlen);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	return rc;
}

int zs_ing_feed_update(sqlite3 *db, const char *sql, int feed_id, time_t now, const char *text,
                       long a, long b, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, sql, err, errlen);
	if (!st)
		return -1;
	/* ?1 feed id, ?2 now, ?3 text, ?4 a, ?5 b: a statement uses the first few of them */
	int n = sqlite3_bind_parameter_count(st);
	sqlite3_bind_int(st, 1, feed_id);
	if (n >= 2)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	if (n >= 3)
		bind_text(st, 3, text);
	if (n >= 4)
		sqlite3_bind_int64(st, 4, a);
	if (n >= 5)
		sqlite3_bind_int64(st, 5, b);
	int rc = step_done(db, st, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

static int hash_body(FILE *body, char *hex, size_t len)
{
	char buf[65536];
	size_t n;
	uint64_t h = 1469598103934665603ULL;
	rewind(body);
	while ((n = fread(buf, 1, sizeof buf, body)) > 0)
		h = fnv1a(h, buf, n);
	if (ferror(body))
		return -1;
	snprintf(hex, len, "%016" PRIx64, h);
	rewind(body);
	return 0;
}

static int same_hash(sqlite3 *db, int feed_id, const char *hex)
{
	sqlite3_stmt *st;
	int same = 0;
	if (sqlite3_prepare_v2(db, "SELECT content_hash = ? AND last_success IS NOT NULL FROM feed"
	                           " WHERE id=?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, feed_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return same;
}

static int reject_version(sqlite3 *db, const zs_feed_conf *fc, int feed_id, time_t now,
                          const err_list *errs, zs_ingest_result *res, char *err, size_t errlen)
{
	char e2[256];
	ZS_WARN(MOD, "feed %s: version rejected, %s: %s", fc->name,
	        zs_feed_kept_text(db, feed_id), res->error);
	if (zs_db_exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	int rc = store_errors(db, feed_id, errs, err, errlen);
	if (rc == 0)
		rc = zs_ing_feed_update(db,
		                 "UPDATE feed SET last_attempt=?2, last_error=?3, last_error_at=?2,"
		                 " failures=failures+1, rows_rejected=?5 WHERE id=?1",
		                 feed_id, now, res->error, 0, res->rejected, err, errlen);
	/* No new generation: only /v1/feeds (never cached) shows the error. */
	if (rc == 0)
		rc = zs_db_exec(db, "COMMIT", err, errlen);
	if (rc)
		zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
	return rc;
}

/* Limits set from the configuration by the worker (zs_ingest_set_limits). */
static long g_max_line_kb = 1024, g_invalid_pct = 1;

void zs_ingest_set_limits(long max_line_kb, long max_invalid_percent)
{
	if (max_line_kb > 0)
		g_max_line_kb = max_line_kb;
	if (max_invalid_percent >= 0)
		g_invalid_pct = max_invalid_percent;
}

/* How many invalid records a version of fc with 'records' records may have. */
static long invalid_tolerated(const zs_feed_conf *fc, long records)
{
	if (fc->max_invalid_rows >= 0)
		return fc->max_invalid_rows;
	if (g_invalid_pct == 0)
		return 0;
	long t = records * g_invalid_pct / 100;
	return t < 1 ? 1 : t; /* one invalid record alone never rejects a version */
}


/* The feed's policy set changed: reconcile the providers whose statements cover a policy of
 * the feed that is new or changed (by policy, insurer or concern; for a changed one also as it
 * was). A policy that is gone is retired at the end of the batch (zs_rollover.h): its rows are
 * hidden and moved without reconciling anyone. CROSS JOIN keeps SQLite's join order: from the
 * few changed scopes into stmt_scope (without statistics the planner scanned every statement,
 * once per insurer feed of a batch: 9% of a national first load). */
static int touch_policy_change(sqlite3 *db, int feed_id, char *err, size_t errlen)
{
	char q[1600];
	snprintf(q, sizeof q,
	         "CREATE TEMP TABLE IF NOT EXISTS pol_scope(scope INTEGER, id TEXT,"
	         " PRIMARY KEY(scope, id)) WITHOUT ROWID; DELETE FROM temp.pol_scope;"
	         "CREATE TEMP TABLE IF NOT EXISTS pol_diff(id TEXT, year INTEGER, uzovi TEXT,"
	         " concern_id TEXT); DELETE FROM temp.pol_diff;"
	         "INSERT INTO temp.pol_diff SELECT id, year, uzovi, concern_id FROM policy"
	         " WHERE feed_id=%d EXCEPT SELECT id, year, uzovi, concern_id FROM temp.pol_before;"
	         "INSERT INTO temp.pol_diff SELECT b.id, b.year, b.uzovi, b.concern_id FROM"
	         " temp.pol_before b WHERE EXISTS (SELECT 1 FROM policy p WHERE p.id = b.id AND"
	         " p.year = b.year) AND NOT EXISTS (SELECT 1 FROM policy p WHERE p.feed_id=%d AND"
	         " p.id = b.id AND p.year = b.year AND p.uzovi IS b.uzovi AND"
	         " p.concern_id IS b.concern_id);"
	         "INSERT OR IGNORE INTO temp.pol_scope SELECT 1, id FROM temp.pol_diff"
	         " UNION SELECT 2, uzovi FROM temp.pol_diff UNION SELECT 3, concern_id"
	         " FROM temp.pol_diff;"
	         "INSERT OR IGNORE INTO temp.touched SELECT DISTINCT s.agb FROM temp.pol_scope p"
	         " CROSS JOIN stmt s ON s.scope_id = p.id AND s.scope = p.scope;",
	         feed_id, feed_id);
	return zs_db_exec(db, q, err, errlen);
}

/* The feed's insurer record and declarations out; its statements and provider records are
 * replaced line by line (zs_incr.h). */
static int drop_sources(sqlite3 *db, int id, char *err, size_t errlen)
{
	char q[200];
	snprintf(q, sizeof q, "DELETE FROM src_insurer WHERE feed_id=%d;"
	         "DELETE FROM similar_decl WHERE feed_id=%d", id, id);
	return zs_db_exec(db, q, err, errlen);
}

/* Apply one feed version inside the caller's transaction (and savepoint). Returns -1 on a
 * database error; 0 when processed: res->error says why the version was rejected, if it was
 * (the caller then rolls back to its savepoint). */
static int apply_one(sqlite3 *db, apply_stmts *a, const zs_feed_conf *fc, int feed_id,
                     FILE *body, const char *hex, time_t now, zs_ingest_result *res,
                     err_list *errs, char *err, size_t errlen)
{
	zs_rec hdr;
	char *line = NULL;
	size_t cap = 0, max_line = (size_t)g_max_line_kb * 1024;
	long len;
	long lineno = 0, records = 0, trailer = -1, kept = 0;
	zs_key_list keys = { NULL, 0, 0 };
	int rc = -1;
	zs_incr *x = NULL;   /* the stored lines (zs_incr.h) */
	zs_ra *ra = NULL;    /* the lines after the header, read ahead (zs_readahead.h) */
	uint64_t head = 0;

	memset(&hdr, 0, sizeof hdr);
	a->touched[0] = a->touched_prov[0] = 0; /* (see apply_stmts) */
	double t = ph_now();
	if (zs_ing_stash_policies(db, feed_id, err, errlen) || drop_sources(db, feed_id, err, errlen))
		goto out;
	ph_mark(PH_DROP, &t);
	rewind(body);
	/* Memory per line is bounded by max_line_kb: a longer line is read past, not kept. */
	for (;;) {
		zs_rec rec;
		zs_rec_err rerr;
		zs_ra_line *ahead = NULL;
		const char *ln;
		if (ra) {
			ahead = zs_ra_next(ra);
			len = ahead->len;
			ln = ahead->line;
		} else {
			len = zs_feed_read_line(body, &line, &cap, max_line);
			ln = line;
		}
		if (len == 0 || len == -1)
			break;
		lineno++;
		if (len == -2) {
			char why[128];
			snprintf(why, sizeof why, "line %ld is longer than max_line_kb (%ld KiB): skipped",
			         lineno, g_max_line_kb);
			if (!hdr.json || trailer >= 0) { /* the structure itself is broken */
				snprintf(res->error, sizeof res->error, "%s", why);
				err_add(errs, lineno, "(line)", why);
				break;
			}
			err_add(errs, lineno, "(line)", why);
			res->rejected++;
			records++;
			continue;
		}
		if (trailer >= 0) { /* content after the trailer */
			int blank = 1;
			for (ssize_t i = 0; i < len && blank; i++)
				blank = ln[i] == ' ' || ln[i] == '\n' || ln[i] == '\r' || ln[i] == '\t';
			if (blank)
				continue;
			snprintf(res->error, sizeof res->error, "line %ld: content after the trailer", lineno);
			break;
		}
		/* A line a stored row came from (under the same header) is that row again. */
		uint64_t lh = ahead ? ahead->lh : hdr.json ? zs_incr_hash(ln, (size_t)len) : 0;
		if (hdr.json && zs_incr_seen(x, lh, lineno)) {
			records++;
			res->accepted++;
			continue;
		}
		int prc, mine = 1;
		if (ahead && ahead->parsed) {
			/* parsed ahead: used here, freed by the reader when it reuses the line (memory
			 * freed on another thread than the one that took it made both wait for the
			 * allocator's lock) */
			prc = ahead->prc;
			rec = ahead->rec;
			rerr = ahead->rerr;
			mine = 0;
		} else {
			prc = zs_feed_parse_line(fc->kind, hdr.json ? &hdr : NULL, ln, (size_t)len, &rec,
			                         &rerr);
		}
		if (prc == 1)
			continue;
		if (!hdr.json) { /* the header decides everything */
			if (prc != 0) {
				snprintf(res->error, sizeof res->error, "line %ld field \"%s\": %s", lineno,
				         rerr.field, rerr.reason);
				err_add(errs, lineno, rerr.field, rerr.reason);
				break;
			}
			hdr = rec;
			head = zs_incr_hash(ln, (size_t)len);
			if (hdr.generated_at == -1) /* said_at defaults to now: nothing carries over */
				head ^= (uint64_t)now * 0x9e3779b97f4a7c15ULL + 1;
			if (zs_incr_load(db, feed_id, head, &x, err, errlen))
				goto out;
			if (fc->kind == ZS_FEED_INSURER) {
				sqlite3_stmt *s = a->ins_insurer;
				sqlite3_bind_int(s, 1, feed_id);
				sqlite3_bind_text(s, 2, hdr.uzovi, -1, SQLITE_STATIC);
				sqlite3_bind_text(s, 3, hdr.insurer_name, -1, SQLITE_STATIC);
				sqlite3_bind_text(s, 4, hdr.concern_id, -1, SQLITE_STATIC);
				sqlite3_bind_text(s, 5, hdr.concern_name, -1, SQLITE_STATIC);
				if (step_done(db, s, err, errlen))
					goto out;
			}
			/* hdr and x stay as they are from here on: the rest is read ahead */
			ra = zs_ra_start(body, fc->kind, &hdr, x, max_line);
			continue;
		}
		if (prc != 0) {
			err_add(errs, lineno, rerr.field, rerr.reason);
			zs_ing_key_add(&keys, ln, (size_t)len);
			res->rejected++;
			records++;
			continue;
		}
		if (rec.type == ZS_REC_END) {
			trailer = rec.count;
			if (mine)
				zs_rec_clear(&rec);
			continue;
		}
		records++;
		int irc = insert_record(db, a, fc, feed_id, &hdr, &rec, lineno, lh, x, now, &rerr, err,
		                        errlen);
		if (mine)
			zs_rec_clear(&rec);
		if (irc < 0)
			goto out;
		if (irc > 0) {
			err_add(errs, lineno, rerr.field, rerr.reason);
			res->rejected++;
		} else {
			res->accepted++;
		}
	}
	zs_ra_stop(ra); /* (body is the reader's until here) */
	ra = NULL;
	ph_mark(PH_LINES, &t);
	if ((len == -1 || ferror(body)) && !res->error[0])
		snprintf(res->error, sizeof res->error, "read error in the fetched body");
	if (!res->error[0] && !hdr.json)
		snprintf(res->error, sizeof res->error, "empty feed: no header line");
	if (!res->error[0] && trailer < 0)
		snprintf(res->error, sizeof res->error,
		         "truncated: no trailer line {\"type\":\"end\"} after %ld lines", lineno);
	if (!res->error[0] && trailer != records)
		snprintf(res->error, sizeof res->error,
		         "truncated or corrupt: the trailer says %ld records, the feed has %ld", trailer,
		         records);
	long removed = 0;
	if (!res->error[0] && zs_incr_finish(db, x, feed_id, head, &removed, err, errlen))
		goto out;
	ph_mark(PH_STORE, &t);
	if (!res->error[0] &&
	    check_references(db, feed_id, fc->kind == ZS_FEED_INSURER, errs, &res->rejected,
	                     &res->accepted, err, errlen))
		goto out;
	long tolerated = invalid_tolerated(fc, records);
	if (!res->error[0] && res->rejected > tolerated)
		snprintf(res->error, sizeof res->error,
		         "%ld invalid records (at most %ld tolerated): version rejected; first: line %ld"
		         " field \"%s\": %s", res->rejected, tolerated,
		         errs->n ? errs->v[0].line : 0L, errs->n ? errs->v[0].field : "",
		         errs->n ? errs->v[0].reason : "");
	if (!res->error[0] && zs_ing_keep_last_good(db, fc, feed_id, &keys, &kept, err, errlen))
		goto out;
	if (kept)
		ZS_INFO(MOD, "feed %s: %ld row(s) of the last good version kept for invalid records",
		        fc->name, kept);
	if (res->error[0]) {
		rc = 0;
		goto out;
	}
	/* Incremental: only the providers whose statements in this feed changed are reconciled
	 * (zs_incr.h); a policy change below adds whom it concerns. */
	ph_mark(PH_CHECK, &t);
	ZS_DEBUG(MOD, "feed %s: %ld statement(s) no longer said", fc->name, removed);

	if (zs_ing_policies_changed(db, feed_id) && touch_policy_change(db, feed_id, err, errlen))
		goto out;
	if (store_errors(db, feed_id, errs, err, errlen) ||
	    zs_ing_feed_update(db,
	                "UPDATE feed SET last_attempt=?2, last_success=?2, last_change=?2,"
	                " content_hash=?3, rows_accepted=?4, rows_rejected=?5, last_error=NULL,"
	                " last_error_at=NULL, failures=0 WHERE id=?1",
	                feed_id, now, hex, res->accepted, res->rejected, err, errlen))
		goto out;
	if (hdr.generated_at != -1) {
		char q[128];
		snprintf(q, sizeof q, "UPDATE feed SET generated_at=%lld WHERE id=%d",
		         (long long)hdr.generated_at, feed_id);
		if (zs_db_exec(db, q, err, errlen))
			goto out;
	}
	/* The name people know this source by (issue 13): the header's publisher, else the
	 * insurer's name; never the configuration key. */
	{
		sqlite3_stmt *pu = prep(db, "UPDATE feed SET publisher=?2 WHERE id=?1"
		                            " AND publisher IS NOT ?2", err, errlen);
		if (!pu)
			goto out;
		sqlite3_bind_int(pu, 1, feed_id);
		bind_text(pu, 2, hdr.publisher ? hdr.publisher : hdr.insurer_name);
		int prc2 = step_done(db, pu, err, errlen);
		sqlite3_finalize(pu);
		if (prc2)
			goto out;
	}
	rc = 0;
out:
	zs_ra_stop(ra);
	zs_incr_free(x);
	free(line);
	free(keys.v);
	zs_rec_clear(&hdr);
	return rc;
}

int zs_ingest_apply_batch(sqlite3 *db, zs_ingest_item *items, size_t n, time_t now, char *err,
                          size_t errlen)
{
	apply_stmts a;
	err_list **errs = calloc(n ? n : 1, sizeof *errs);
	int *ids = calloc(n ? n : 1, sizeof *ids);
	char (*hex)[32] = calloc(n ? n : 1, sizeof *hex);
	size_t todo = 0, applied = 0;
	int rc = -1, open = 0;
	char e2[160];

	err[0] = 0;
	if (!errs || !ids || !hex) {
		errf(err, errlen, "out of memory");
		goto done;
	}
	/* Outside the transaction: unknown feeds, unreadable bodies, unchanged content. */
	for (size_t i = 0; i < n; i++) {
		zs_ingest_item *it = &items[i];
		memset(&it->res, 0, sizeof it->res);
		ids[i] = zs_ingest_feed_id(db, it->fc->name);
		if (ids[i] < 0) {
			errf(err, errlen, "feed %s is not registered", it->fc->name);
			goto done;
		}
		if (hash_body(it->body, hex[i], sizeof hex[i])) {
			snprintf(it->res.error, sizeof it->res.error, "cannot read the fetched body");
			if (zs_ingest_fetch_failed(db, it->fc, now, it->res.error))
				goto done;
			ids[i] = -1;
			continue;
		}
		if (same_hash(db, ids[i], hex[i])) {
			it->res.unchanged = 1;
			if (zs_ingest_not_modified(db, it->fc, now))
				goto done;
			ids[i] = -1;
			continue;
		}
		if (!(errs[i] = calloc(1, sizeof **errs))) {
			errf(err, errlen, "out of memory");
			goto done;
		}
		todo++;
	}
	if (todo == 0) {
		rc = 0;
		goto done;
	}
	memset(ph_sec, 0, sizeof ph_sec);
	if (zs_ing_begin_write(db, err, errlen))
		goto done;
	open = 1;
	if (zs_deps_years_save(db, err, errlen) || zs_rollover_begin(db, err, errlen))
		goto done;
	if (apply_init(db, &a, err, errlen))
		goto done;
	/* Every version in a savepoint of its own: a rejected one is undone alone. */
	for (size_t i = 0; i < n; i++) {
		zs_ingest_item *it = &items[i];
		if (ids[i] < 0 || !errs[i])
			continue;
		if (zs_db_exec(db, "SAVEPOINT feed", err, errlen) ||
		    apply_one(db, &a, it->fc, ids[i], it->body, hex[i], now, &it->res, errs[i], err,
		              errlen)) {
			ZS_ERROR(MOD, "feed %s: database error: %s", it->fc->name, err);
			apply_free(&a);
			goto done;
		}
		if (it->res.error[0]) {
			if (zs_db_exec(db, "ROLLBACK TO feed; RELEASE feed", err, errlen)) {
				apply_free(&a);
				goto done;
			}
		} else {
			if (zs_db_exec(db, "RELEASE feed", err, errlen)) {
				apply_free(&a);
				goto done;
			}
			it->res.applied = 1;
			applied++;
		}
	}
	apply_free(&a);
	long changes = 0;
	double t = ph_now();
	/* Similar policies follow in the same snapshot: readers see statuses and twins agree. */
	if (applied &&
	    (zs_rollover_mark(db, now, NULL, err, errlen) ||
	     zs_ing_reconcile_touched(db, now, &changes, err, errlen)))
		goto done;
	ph_mark(PH_RECONCILE, &t);
	if (applied && zs_similar_compute(db, err, errlen))
		goto done;
	ph_mark(PH_SIMILAR, &t);
	if (applied &&
	    (zs_fresh_update(db, now, NULL, NULL, err, errlen) ||
	     zs_deps_years_mark(db, err, errlen) ||
	     zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err, errlen)))
		goto done;
	if (zs_db_exec(db, "COMMIT", err, errlen))
		goto done;
	ph_mark(PH_REST, &t);
	if (applied && ZS_LOG_DEBUG <= zs_log_level) {
		char line[400];
		size_t k = 0;
		for (int i = 0; i < PH_N && k < sizeof line; i++)
			k += (size_t)snprintf(line + k, sizeof line - k, "%s %s %.2f s", i ? "," : "",
			                      ph_names[i], ph_sec[i]);
		ZS_DEBUG(MOD, "apply of %zu version(s):%s", applied, line);
	}
	open = 0;
	for (size_t i = 0; i < n; i++) {
		zs_ingest_item *it = &items[i];
		if (it->res.applied && applied == 1)
			ZS_INFO(MOD, "feed %s: applied %ld records (%ld rejected), %ld status changes",
			        it->fc->name, it->res.accepted, it->res.rejected, changes);
		else if (it->res.applied)
			ZS_INFO(MOD, "feed %s: applied %ld records (%ld rejected)", it->fc->name,
			        it->res.accepted, it->res.rejected);
		else if (ids[i] >= 0 && errs[i] && it->res.error[0] &&
		         reject_version(db, it->fc, ids[i], now, errs[i], &it->res, err, errlen))
			goto done;
	}
	if (applied > 1)
		ZS_INFO(MOD, "%zu feed version(s) applied together: %ld status changes", applied,
		        changes);
	rc = 0;
done:
	if (open) {
		zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
		for (size_t i = 0; i < n; i++)
			items[i].res.applied = 0;
	}
	for (size_t i = 0; errs && i < n; i++)
		free(errs[i]);
	free(errs);
	free(ids);
	free(hex);
	return rc;
}

int zs_ingest_apply(sqlite3 *db, const zs_feed_conf *fc, FILE *body, time_t now,
                    zs_ingest_result *res, char *err, size_t errlen)
{
	zs_ingest_item it = { .fc = fc, .body = body };
	int rc = zs_ingest_apply_batch(db, &it, 1, now, err, errlen);
	*res = it.res;
	return rc;
}
