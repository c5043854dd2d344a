/* zs_recon_store.c - reconciliation of the touched providers into effective rows, with the
 * history of what was shown when, the change log and the dependency marks (zs_ingest_priv.h). */
#include "config.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
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
#include "zs_reconcile.h"
#include "zs_similar.h"
#include "zs_text.h"
#include "zs_time.h"
#include "zs_util.h"


/* ---- reconciliation of touched providers ----------------------------------------------- */

typedef struct {
	zs_policy_ref *v;
	size_t n;
	char **strings; /* everything strdup'ed, freed together */
	size_t nstr;
} policy_cat;

static void cat_free(policy_cat *c)
{
	for (size_t i = 0; i < c->nstr; i++)
		free(c->strings[i]);
	free(c->strings);
	free(c->v);
	memset(c, 0, sizeof *c);
}

static int cat_load(sqlite3 *db, policy_cat *c, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, "SELECT id, year, uzovi, concern_id FROM policy ORDER BY year, id",
	                        err, errlen);
	size_t cap = 0;
	memset(c, 0, sizeof *c);
	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (c->n == cap) {
			cap = cap ? cap * 2 : 64;
			zs_policy_ref *nv = realloc(c->v, cap * sizeof *nv);
			char **ns = realloc(c->strings, cap * 3 * sizeof *ns);
			if (!nv || !ns) {
				if (nv)
					c->v = nv;
				if (ns)
					c->strings = ns;
				cat_free(c);
				sqlite3_finalize(st);
				errf(err, errlen, "out of memory");
				return -1;
			}
			c->v = nv;
			c->strings = ns;
		}
		zs_policy_ref *p = &c->v[c->n++];
		p->id = c->strings[c->nstr++] = col_dup(st, 0);
		p->year = sqlite3_column_int(st, 1);
		p->uzovi = c->strings[c->nstr++] = col_dup(st, 2);
		p->concern_id = c->strings[c->nstr++] = col_dup(st, 3);
	}
	sqlite3_finalize(st);
	return 0;
}

/* Effective rows written per statement: a provider's new and changed rows go out in
 * multi-row INSERTs of up to UPS_MAX rows (one statement per row took a third more
 * instructions per row: the cursor was opened, positioned from the root and closed for each). */
#define UPS_MAX 64
#define UPS_COLS 20

/* The stored columns of one effective row, for comparison. */
typedef struct {
	int year;
	char *policy_id, *care_type, *ceiling_exempt, *stop;
	int status, as_contracted, ceiling, basis;
	long long ins_feed, ins_status, ins_level, ins_said, prov_feed, prov_status, prov_level,
		prov_said; /* -1 = NULL */
	long long since;
	char *began;  /* the deciding record's own "since" date, or NULL (issue 13) */
} eff_row;

typedef struct {
	sqlite3_stmt *sel_stmts, *sel_eff, *del_eff, *hist_open, *cur_prov;
	sqlite3_stmt *ups[UPS_MAX + 1]; /* ups[k]: INSERT OR REPLACE of k rows, prepared when needed */
	/* Rows waiting for their INSERT, all of one provider: policy_id, care_type, ceiling_exempt
	 * and began borrowed from the provider's statements and the policy catalogue, which
	 * outlive the flush at the end of reconcile_agb; stop owned. */
	eff_row pend[UPS_MAX];
	size_t npend;
	sqlite3_stmt *sel_src_prov, *up_prov, *del_prov, *del_fts, *ins_fts;
	sqlite3_stmt *mark;     /* dependency marks (zs_deps.h), prepared once */
	int years[8], nyears;   /* s:<year> already marked in this reconciliation */
	time_t now;
	zs_changes_writer chg;  /* the change feed (zs_changes.h) */
} recon_ctx;

static void recon_ctx_free(recon_ctx *r)
{
	sqlite3_finalize(r->sel_stmts);
	sqlite3_finalize(r->sel_eff);
	for (int k = 0; k <= UPS_MAX; k++)
		sqlite3_finalize(r->ups[k]);
	sqlite3_finalize(r->del_eff);
	sqlite3_finalize(r->hist_open);
	sqlite3_finalize(r->cur_prov);
	sqlite3_finalize(r->sel_src_prov);
	sqlite3_finalize(r->up_prov);
	sqlite3_finalize(r->del_prov);
	sqlite3_finalize(r->del_fts);
	sqlite3_finalize(r->ins_fts);
	sqlite3_finalize(r->mark);
	zs_changes_writer_free(&r->chg);
}

static int recon_ctx_init(sqlite3 *db, recon_ctx *r, time_t now, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->now = now;
	zs_changes_writer_init(&r->chg, db, now);
	if (!(r->sel_stmts = prep(db,
	          "SELECT s.feed_id, f.kind='insurer', s.year, s.care_type, s.scope, s.scope_id,"
	          " s.status, s.as_contracted, s.ceiling, s.ceiling_exempt, s.stop_reason, s.stop_from,"
	          " s.stop_until, s.stop_note, s.said_at, s.since_date FROM stmt s"
	          " JOIN feed f ON f.id = s.feed_id"
	          " WHERE s.agb = ?", err, errlen)) ||
	    !(r->sel_eff = prep(db,
	          "SELECT year, policy_id, care_type, status, as_contracted, ceiling, ceiling_exempt,"
	          " stop, basis, ins_feed, ins_status, ins_level, ins_said, prov_feed, prov_status,"
	          " prov_level, prov_said, since, began FROM effective WHERE agb = ?"
	          /* rows of retired policies are no longer this provider's (zs_rollover.h) */
	          " AND NOT EXISTS (SELECT 1 FROM retired x WHERE x.year = effective.year"
	          " AND x.policy_id = effective.policy_id)"
	          " ORDER BY year, policy_id, care_type", err, errlen)) ||
	    !(r->del_eff = prep(db,
	          "DELETE FROM effective WHERE agb=? AND year=? AND policy_id=? AND care_type=?", err,
	          errlen)) ||
	    !(r->hist_open = prep(db,
	          /* (OR REPLACE: a zero-length interval with the same start gives way) */
	          "INSERT OR REPLACE INTO history(agb, year, policy_id, care_type, status,"
	          " as_contracted, basis,"
	          " ceiling, stop, valid_from, valid_until) VALUES(?,?,?,?,?,?,?,?,?,?,?)", err,
	          errlen)) ||
	    !(r->cur_prov = prep(db,
	          "SELECT name, kind, parent, locations, aliases FROM provider WHERE agb=?", err,
	          errlen)) ||
	    !(r->sel_src_prov = prep(db,
	          "SELECT name, kind, parent, locations, aliases FROM src_provider WHERE agb=?"
	          " ORDER BY from_provider DESC, feed_id LIMIT 1", err, errlen)) ||
	    !(r->up_prov = prep(db,
	          "INSERT OR REPLACE INTO provider(agb, name, kind, parent, locations, aliases)"
	          " VALUES(?,?,?,?,?,?)", err, errlen)) ||
	    !(r->del_prov = prep(db, "DELETE FROM provider WHERE agb=?", err, errlen)) ||
	    !(r->del_fts = prep(db, "DELETE FROM provider_fts WHERE rowid=?", err, errlen)) ||
	    !(r->ins_fts = prep(db, ZS_LEX_FTS_INSERT, err, errlen)) ||
	    !(r->mark = zs_deps_mark_prepare(db, err, errlen))) {
		recon_ctx_free(r);
		return -1;
	}
	return 0;
}

static char *stop_json(const zs_effective *e)
{
	if (!e->stop)
		return NULL;
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "reason", e->stop->stop_reason, "from",
	                      e->stop->stop_from, "until", e->stop->stop_until, "note",
	                      e->stop->stop_note, "source",
	                      e->stop->from_insurer ? "insurer" : "provider");
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}


static long long col_ll(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

static void bind_ll(sqlite3_stmt *st, int i, long long v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static int key_cmp(int y1, const char *p1, const char *c1, int y2, const char *p2, const char *c2)
{
	if (y1 != y2)
		return y1 < y2 ? -1 : 1;
	int r = strcmp(p1, p2);
	return r ? r : strcmp(c1, c2);
}

static int eff_sort_cmp(const void *a, const void *b)
{
	const zs_effective *x = a, *y = b;
	return key_cmp(x->year, x->policy->id, x->care_type, y->year, y->policy->id, y->care_type);
}

static void new_row(const zs_effective *e, eff_row *r)
{
	memset(r, 0, sizeof *r);
	r->year = e->year;
	r->status = (int)e->status;
	r->as_contracted = e->as_contracted;
	r->ceiling = e->ceiling;
	r->ceiling_exempt = (char *)e->ceiling_exempt;
	r->stop = stop_json(e);
	r->basis = e->basis;
	r->ins_feed = e->ins ? e->ins->feed_id : -1;
	r->ins_status = e->ins ? (long long)e->ins->status : -1;
	r->ins_level = e->ins ? e->ins->scope : -1;
	r->ins_said = e->ins ? e->ins->said_at : -1;
	r->prov_feed = e->prov ? e->prov->feed_id : -1;
	r->prov_status = e->prov ? (long long)e->prov->status : -1;
	r->prov_level = e->prov ? e->prov->scope : -1;
	r->prov_said = e->prov ? e->prov->said_at : -1;
	/* borrowed from the deciding statement (the insurer's, else the provider's) */
	r->began = (char *)(e->ins ? e->ins->since_date : e->prov ? e->prov->since_date : NULL);
}

/* Consumer-visible part: a change here is a history entry. */
static int visible_differs(const eff_row *a, const eff_row *b)
{
	return a->status != b->status || a->as_contracted != b->as_contracted ||
	       a->ceiling != b->ceiling || a->basis != b->basis || !streq(a->stop, b->stop) ||
	       !streq(a->ceiling_exempt, b->ceiling_exempt);
}

static int any_differs(const eff_row *a, const eff_row *b)
{
	return visible_differs(a, b) || a->ins_feed != b->ins_feed || a->ins_status != b->ins_status ||
	       a->ins_level != b->ins_level || a->ins_said != b->ins_said ||
	       a->prov_feed != b->prov_feed || a->prov_status != b->prov_status ||
	       a->prov_level != b->prov_level || a->prov_said != b->prov_said ||
	       !streq(a->began, b->began);
}

/* History keeps the closed intervals: what was shown from valid_from to valid_until. The
 * open interval of every key is its effective row (since = valid_from). */
static int hist_archive(sqlite3 *db, recon_ctx *r, const char *agb, const eff_row *o,
                        char *err, size_t errlen)
{
	/* Compact: the flags are made from ceiling, basis and stop by the view status_history
	 * (zs_db.c), not stored as JSON on every row. */
	sqlite3_stmt *h = r->hist_open;
	sqlite3_bind_text(h, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_int(h, 2, o->year);
	sqlite3_bind_text(h, 3, o->policy_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(h, 4, o->care_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(h, 5, o->status);
	sqlite3_bind_int(h, 6, o->as_contracted);
	sqlite3_bind_int(h, 7, o->basis);
	sqlite3_bind_int(h, 8, o->ceiling ? 1 : 0);
	bind_text(h, 9, o->stop);
	sqlite3_bind_int64(h, 10, o->since >= 0 ? o->since : (long long)r->now);
	sqlite3_bind_int64(h, 11, (sqlite3_int64)r->now);
	return step_done(db, h, err, errlen);
}

static sqlite3_stmt *ups_stmt(sqlite3 *db, recon_ctx *r, size_t k, char *err, size_t errlen)
{
	if (r->ups[k])
		return r->ups[k];
	static const char head[] =
		"INSERT OR REPLACE INTO effective(agb, year, policy_id, care_type, status,"
		" as_contracted, ceiling, ceiling_exempt, stop, basis, ins_feed, ins_status,"
		" ins_level, ins_said, prov_feed, prov_status, prov_level, prov_said, since, began)"
		" VALUES";
	static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	char sql[sizeof head + UPS_MAX * sizeof row];
	size_t len = sizeof head - 1;
	memcpy(sql, head, len);
	for (size_t i = 0; i < k; i++) {
		if (i)
			sql[len++] = ',';
		memcpy(sql + len, row, sizeof row - 1);
		len += sizeof row - 1;
	}
	sql[len] = 0;
	return r->ups[k] = prep(db, sql, err, errlen);
}

/* Drop the rows waiting (after an error). */
static void ups_discard(recon_ctx *r)
{
	for (size_t i = 0; i < r->npend; i++)
		free(r->pend[i].stop);
	r->npend = 0;
}

/* Write the rows waiting, all of provider agb, in one statement. */
static int ups_flush(sqlite3 *db, recon_ctx *r, const char *agb, char *err, size_t errlen)
{
	size_t k = r->npend;
	if (k == 0)
		return 0;
	sqlite3_stmt *u = ups_stmt(db, r, k, err, errlen);
	if (!u) {
		ups_discard(r);
		return -1;
	}
	for (size_t i = 0; i < k; i++) {
		const eff_row *n = &r->pend[i];
		int b = (int)i * UPS_COLS;
		sqlite3_bind_text(u, b + 1, agb, -1, SQLITE_STATIC);
		sqlite3_bind_int(u, b + 2, n->year);
		sqlite3_bind_text(u, b + 3, n->policy_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(u, b + 4, n->care_type, -1, SQLITE_STATIC);
		sqlite3_bind_int(u, b + 5, n->status);
		sqlite3_bind_int(u, b + 6, n->as_contracted);
		sqlite3_bind_int(u, b + 7, n->ceiling);
		bind_text(u, b + 8, n->ceiling_exempt);
		bind_text(u, b + 9, n->stop);
		sqlite3_bind_int(u, b + 10, n->basis);
		bind_ll(u, b + 11, n->ins_feed);
		bind_ll(u, b + 12, n->ins_status);
		bind_ll(u, b + 13, n->ins_level);
		bind_ll(u, b + 14, n->ins_said);
		bind_ll(u, b + 15, n->prov_feed);
		bind_ll(u, b + 16, n->prov_status);
		bind_ll(u, b + 17, n->prov_level);
		bind_ll(u, b + 18, n->prov_said);
		sqlite3_bind_int64(u, b + 19, n->since);
		bind_text(u, b + 20, n->began);
	}
	int rc = step_done(db, u, err, errlen); /* (every parameter is bound anew each time) */
	ups_discard(r);
	return rc;
}

/* Write the new effective row; old is the stored row it replaces (NULL for a new key). A
 * visible change archives the old row into history and restarts 'since'. The row waits for
 * ups_flush (at UPS_MAX rows and at the end of the provider), which takes n->stop. */
static int write_row(sqlite3 *db, recon_ctx *r, const char *agb, const zs_effective *e,
                     eff_row *n, const eff_row *old, int visible_change, char *err,
                     size_t errlen)
{
	if (old && visible_change && hist_archive(db, r, agb, old, err, errlen))
		return -1;
	if (r->npend == UPS_MAX && ups_flush(db, r, agb, err, errlen))
		return -1;
	eff_row *p = &r->pend[r->npend++];
	*p = *n;
	n->stop = NULL;
	p->policy_id = (char *)e->policy->id;
	p->care_type = (char *)e->care_type;
	p->since = !visible_change && old && old->since >= 0 ? old->since : (long long)r->now;
	return 0;
}

static void free_stmts(zs_stmt *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].care_type);
		free((char *)v[i].scope_id);
		free((char *)v[i].ceiling_exempt);
		free((char *)v[i].stop_reason);
		free((char *)v[i].stop_from);
		free((char *)v[i].stop_until);
		free((char *)v[i].stop_note);
		free((char *)v[i].since_date);
	}
	free(v);
}

static void free_eff_rows(eff_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].policy_id);
		free(v[i].care_type);
		free(v[i].ceiling_exempt);
		free(v[i].stop);
		free(v[i].began);
	}
	free(v);
}

static int same_text(sqlite3_stmt *a, int ia, sqlite3_stmt *b, int ib)
{
	const char *x = (const char *)sqlite3_column_text(a, ia);
	const char *y = (const char *)sqlite3_column_text(b, ib);
	return streq(x, y);
}

/* Mark "<type>:<id>" changed in the generation being written (zs_deps.h). */
static int mark2(recon_ctx *r, const char *type, const char *id, char *err, size_t errlen)
{
	char k[ZS_DEP_KEY_MAX];
	snprintf(k, sizeof k, "%s:%s", type, id);
	return zs_deps_mark_with(r->mark, k, err, errlen);
}

/* Master data: the provider's own record wins, else the first insurer feed's. The search index
 * is rewritten only when the chosen record changed. */
static int rebuild_provider(sqlite3 *db, recon_ctx *r, const char *agb, char *err, size_t errlen)
{
	sqlite3_int64 rowid = strtoll(agb, NULL, 10);
	sqlite3_bind_text(r->sel_src_prov, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->cur_prov, 1, agb, -1, SQLITE_STATIC);
	int have_src = sqlite3_step(r->sel_src_prov) == SQLITE_ROW;
	int have_cur = sqlite3_step(r->cur_prov) == SQLITE_ROW;
	int same = have_src && have_cur;
	for (int i = 0; same && i < 5; i++)
		same = same_text(r->sel_src_prov, i, r->cur_prov, i);
	sqlite3_reset(r->sel_src_prov);
	sqlite3_reset(r->cur_prov);
	if (same || (!have_src && !have_cur))
		return 0;
	if (mark2(r, "p", agb, err, errlen) || zs_deps_mark_with(r->mark, "search", err, errlen))
		return -1;
	sqlite3_bind_int64(r->del_fts, 1, rowid);
	if (step_done(db, r->del_fts, err, errlen))
		return -1;
	sqlite3_bind_text(r->sel_src_prov, 1, agb, -1, SQLITE_STATIC);
	if (sqlite3_step(r->sel_src_prov) != SQLITE_ROW) {
		sqlite3_reset(r->sel_src_prov);
		sqlite3_bind_text(r->del_prov, 1, agb, -1, SQLITE_STATIC);
		return step_done(db, r->del_prov, err, errlen);
	}
	sqlite3_stmt *s = r->sel_src_prov, *u = r->up_prov;
	const char *name = (const char *)sqlite3_column_text(s, 0);
	const char *locs = (const char *)sqlite3_column_text(s, 3);
	sqlite3_bind_text(u, 1, agb, -1, SQLITE_STATIC);
	for (int i = 0; i < 5; i++)
		bind_text(u, i + 2, (const char *)sqlite3_column_text(s, i));
	int rc = step_done(db, u, err, errlen);
	/* Search text (zs_lexicon.h): name, aliases, places, kind words. */
	if (rc == 0)
		rc = zs_lex_write_row(db, r->ins_fts, agb, name, (const char *)sqlite3_column_text(s, 1),
		                      locs, (const char *)sqlite3_column_text(s, 4), err, errlen);
	sqlite3_reset(s);
	return rc;
}

/* An answer about agb, and the year's similar policies, change with this write (zs_deps.h):
 * marked once per provider and year in a reconciliation. */
static int mark_status(recon_ctx *r, const char *agb, int year, int *marked, char *err,
                       size_t errlen)
{
	char y[16];
	if (*marked == year)
		return 0;
	snprintf(y, sizeof y, "%d", year);
	int seen = 0;
	for (int i = 0; i < r->nyears && !seen; i++)
		seen = r->years[i] == year;
	if ((*marked == 0 && mark2(r, "p", agb, err, errlen)) ||
	    (!seen && mark2(r, "s", y, err, errlen)))
		return -1;
	if (!seen && r->nyears < (int)(sizeof r->years / sizeof r->years[0]))
		r->years[r->nyears++] = year;
	*marked = year;
	return 0;
}

/* The change feed (zs_changes.h): one event per visible change of an effective row (o: the
 * stored row before, n: the new one; either may be NULL). */
static int chg_record(recon_ctx *r, const char *agb, const eff_row *o, const eff_row *n,
                      const char *policy, const char *care_type, char *err, size_t errlen)
{
	return zs_changes_add(&r->chg, agb, o ? o->year : n->year, policy, care_type,
	        o ? o->status : -1,
	        o ? zs_changes_flags(o->as_contracted, o->ceiling, o->basis, o->stop != NULL) : 0,
	        n ? n->status : -1,
	        n ? zs_changes_flags(n->as_contracted, n->ceiling, n->basis, n->stop != NULL) : 0,
	        err, errlen);
}

static int reconcile_agb(sqlite3 *db, recon_ctx *r, const policy_cat *cat, const char *agb,
                         long *changes, char *err, size_t errlen)
{
	int marked = 0;
	zs_stmt *st = NULL;
	size_t n = 0, cap = 0, ne = 0, nold = 0, oldcap = 0;
	zs_effective *eff = NULL;
	eff_row *old = NULL;
	int rc = -1;

	sqlite3_bind_text(r->sel_stmts, 1, agb, -1, SQLITE_STATIC);
	while (sqlite3_step(r->sel_stmts) == SQLITE_ROW) {
		sqlite3_stmt *q = r->sel_stmts;
		if (zs_grow(&st, &cap, n, sizeof *st, 16))
			goto out;
		zs_stmt *s = &st[n++];
		memset(s, 0, sizeof *s);
		s->feed_id = sqlite3_column_int(q, 0);
		s->from_insurer = sqlite3_column_int(q, 1);
		s->year = sqlite3_column_int(q, 2);
		s->care_type = col_dup(q, 3);
		s->scope = sqlite3_column_int(q, 4);
		s->scope_id = col_dup(q, 5);
		s->status = (zs_status)sqlite3_column_int(q, 6);
		s->as_contracted = sqlite3_column_int(q, 7);
		s->ceiling = sqlite3_column_int(q, 8);
		s->ceiling_exempt = col_dup(q, 9);
		s->stop_reason = col_dup(q, 10);
		s->stop_from = col_dup(q, 11);
		s->stop_until = col_dup(q, 12);
		s->stop_note = col_dup(q, 13);
		s->said_at = sqlite3_column_int64(q, 14);
		s->since_date = col_dup(q, 15);
		if (!s->care_type || !s->scope_id)
			goto out;
	}
	sqlite3_reset(r->sel_stmts);
	if (zs_reconcile(st, n, cat->v, cat->n, &eff, &ne))
		goto out;
	if (ne > 1)
		qsort(eff, ne, sizeof *eff, eff_sort_cmp);

	sqlite3_bind_text(r->sel_eff, 1, agb, -1, SQLITE_STATIC);
	while (sqlite3_step(r->sel_eff) == SQLITE_ROW) {
		sqlite3_stmt *q = r->sel_eff;
		if (zs_grow(&old, &oldcap, nold, sizeof *old, 16))
			goto out;
		eff_row *o = &old[nold++];
		o->year = sqlite3_column_int(q, 0);
		o->policy_id = col_dup(q, 1);
		o->care_type = col_dup(q, 2);
		o->status = sqlite3_column_int(q, 3);
		o->as_contracted = sqlite3_column_int(q, 4);
		o->ceiling = sqlite3_column_int(q, 5);
		o->ceiling_exempt = col_dup(q, 6);
		o->stop = col_dup(q, 7);
		o->basis = sqlite3_column_int(q, 8);
		o->ins_feed = col_ll(q, 9);
		o->ins_status = col_ll(q, 10);
		o->ins_level = col_ll(q, 11);
		o->ins_said = col_ll(q, 12);
		o->prov_feed = col_ll(q, 13);
		o->prov_status = col_ll(q, 14);
		o->prov_level = col_ll(q, 15);
		o->prov_said = col_ll(q, 16);
		o->since = col_ll(q, 17);
		o->began = col_dup(q, 18);
	}
	sqlite3_reset(r->sel_eff);

	/* Merge the sorted new rows with the sorted stored rows. */
	size_t i = 0, j = 0;
	while (i < ne || j < nold) {
		int c = i >= ne ? 1 : j >= nold ? -1
		      : key_cmp(eff[i].year, eff[i].policy->id, eff[i].care_type, old[j].year,
		                old[j].policy_id, old[j].care_type);
		if (c > 0) { /* stored row no longer backed by any statement */
			sqlite3_bind_text(r->del_eff, 1, agb, -1, SQLITE_STATIC);
			sqlite3_bind_int(r->del_eff, 2, old[j].year);
			sqlite3_bind_text(r->del_eff, 3, old[j].policy_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(r->del_eff, 4, old[j].care_type, -1, SQLITE_STATIC);
			if (step_done(db, r->del_eff, err, errlen) ||
			    hist_archive(db, r, agb, &old[j], err, errlen) ||
			    mark_status(r, agb, old[j].year, &marked, err, errlen) ||
			    chg_record(r, agb, &old[j], NULL, old[j].policy_id, old[j].care_type, err,
			               errlen))
				goto out;
			(*changes)++;
			j++;
			continue;
		}
		eff_row nr;
		new_row(&eff[i], &nr);
		int wrc = 0;
		/* (the change event first: write_row takes nr.stop, whose presence is a flag of the
		 * event) */
		if (c < 0) {
			wrc = chg_record(r, agb, NULL, &nr, eff[i].policy->id, eff[i].care_type, err,
			                 errlen) ||
			      mark_status(r, agb, eff[i].year, &marked, err, errlen) ||
			      write_row(db, r, agb, &eff[i], &nr, NULL, 1, err, errlen);
			(*changes)++;
		} else {
			int vis = visible_differs(&nr, &old[j]);
			if (vis || any_differs(&nr, &old[j]))
				wrc = (vis && chg_record(r, agb, &old[j], &nr, eff[i].policy->id,
				                         eff[i].care_type, err, errlen)) ||
				      mark_status(r, agb, eff[i].year, &marked, err, errlen) ||
				      write_row(db, r, agb, &eff[i], &nr, &old[j], vis, err, errlen);
			*changes += vis;
			j++;
		}
		free(nr.stop);
		if (wrc)
			goto out;
		i++;
	}
	rc = ups_flush(db, r, agb, err, errlen);
out:
	ups_discard(r);
	if (rc && !err[0])
		errf(err, errlen, "out of memory reconciling %s", agb);
	sqlite3_reset(r->sel_stmts);
	sqlite3_reset(r->sel_eff);
	free_stmts(st, n);
	free(eff);
	free_eff_rows(old, nold);
	return rc;
}

/* Reconcile every AGB in temp.touched. */
int zs_ing_reconcile_touched(sqlite3 *db, time_t now, long *changes, char *err, size_t errlen)
{
	policy_cat cat;
	recon_ctx r;
	sqlite3_stmt *sel;
	int rc = 0;
	if (cat_load(db, &cat, err, errlen))
		return -1;
	if (recon_ctx_init(db, &r, now, err, errlen)) {
		cat_free(&cat);
		return -1;
	}
	sel = prep(db, "SELECT agb FROM temp.touched ORDER BY agb", err, errlen);
	if (!sel)
		rc = -1;
	while (rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
		char agb[16];
		snprintf(agb, sizeof agb, "%s", (const char *)sqlite3_column_text(sel, 0));
		rc = reconcile_agb(db, &r, &cat, agb, changes, err, errlen);
	}
	sqlite3_finalize(sel);
	sel = rc ? NULL : prep(db, "SELECT agb FROM temp.touched_prov ORDER BY agb", err, errlen);
	while (sel && rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
		char agb[16];
		snprintf(agb, sizeof agb, "%s", (const char *)sqlite3_column_text(sel, 0));
		rc = rebuild_provider(db, &r, agb, err, errlen);
	}
	sqlite3_finalize(sel);
	recon_ctx_free(&r);
	cat_free(&cat);
	return rc;
}
