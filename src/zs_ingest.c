/* zs_ingest.c - feed application, reconciliation of touched providers, history. */
#include "config.h"
#include <inttypes.h>
#include <stdarg.h>
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
#include "zs_lexicon.h"
#include "zs_log.h"
#include "zs_ready.h"
#include "zs_reconcile.h"
#include "zs_similar.h"
#include "zs_text.h"
#include "zs_time.h"
#include "zs_util.h"

#define MOD "ingest"

static void errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- small statement helpers ---------------------------------------------------------- */

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		errf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		errf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? strdup((const char *)s) : NULL;
}

int zs_ingest_feed_id(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int id = -1;
	if (sqlite3_prepare_v2(db, "SELECT id FROM feed WHERE name=?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return id;
}

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

typedef struct {
	sqlite3_stmt *sel_stmts, *sel_eff, *upsert_eff, *del_eff, *hist_open, *cur_prov;
	sqlite3_stmt *sel_src_prov, *up_prov, *del_prov, *del_fts, *ins_fts;
	time_t now;
	zs_changes_writer chg;  /* the change feed (zs_changes.h) */
} recon_ctx;

static void recon_ctx_free(recon_ctx *r)
{
	sqlite3_finalize(r->sel_stmts);
	sqlite3_finalize(r->sel_eff);
	sqlite3_finalize(r->upsert_eff);
	sqlite3_finalize(r->del_eff);
	sqlite3_finalize(r->hist_open);
	sqlite3_finalize(r->cur_prov);
	sqlite3_finalize(r->sel_src_prov);
	sqlite3_finalize(r->up_prov);
	sqlite3_finalize(r->del_prov);
	sqlite3_finalize(r->del_fts);
	sqlite3_finalize(r->ins_fts);
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
	          " ORDER BY year, policy_id, care_type", err, errlen)) ||
	    !(r->upsert_eff = prep(db,
	          "INSERT OR REPLACE INTO effective(agb, year, policy_id, care_type, status,"
	          " as_contracted, ceiling, ceiling_exempt, stop, basis, ins_feed, ins_status,"
	          " ins_level, ins_said, prov_feed, prov_status, prov_level, prov_said, since, began)"
	          " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
	          err, errlen)) ||
	    !(r->del_eff = prep(db,
	          "DELETE FROM effective WHERE agb=? AND year=? AND policy_id=? AND care_type=?", err,
	          errlen)) ||
	    !(r->hist_open = prep(db,
	          "INSERT INTO history(agb, year, policy_id, care_type, status, as_contracted, basis,"
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
	    !(r->ins_fts = prep(db, ZS_LEX_FTS_INSERT, err, errlen))) {
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

/* Write the new effective row; old is the stored row it replaces (NULL for a new key). A
 * visible change archives the old row into history and restarts 'since'. */
static int write_row(sqlite3 *db, recon_ctx *r, const char *agb, const zs_effective *e,
                     const eff_row *n, const eff_row *old, int visible_change, char *err,
                     size_t errlen)
{
	if (old && visible_change && hist_archive(db, r, agb, old, err, errlen))
		return -1;
	sqlite3_stmt *u = r->upsert_eff;
	sqlite3_bind_text(u, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_int(u, 2, e->year);
	sqlite3_bind_text(u, 3, e->policy->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(u, 4, e->care_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(u, 5, n->status);
	sqlite3_bind_int(u, 6, n->as_contracted);
	sqlite3_bind_int(u, 7, n->ceiling);
	bind_text(u, 8, n->ceiling_exempt);
	bind_text(u, 9, n->stop);
	sqlite3_bind_int(u, 10, n->basis);
	bind_ll(u, 11, n->ins_feed);
	bind_ll(u, 12, n->ins_status);
	bind_ll(u, 13, n->ins_level);
	bind_ll(u, 14, n->ins_said);
	bind_ll(u, 15, n->prov_feed);
	bind_ll(u, 16, n->prov_status);
	bind_ll(u, 17, n->prov_level);
	bind_ll(u, 18, n->prov_said);
	sqlite3_bind_int64(u, 19, !visible_change && old && old->since >= 0 ? old->since
	                                                                     : (long long)r->now);
	bind_text(u, 20, n->began);
	return step_done(db, u, err, errlen);
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
	if (zs_deps_mark2(db, "p", agb, err, errlen) || zs_deps_mark(db, "search", err, errlen))
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
static int mark_status(sqlite3 *db, const char *agb, int year, int *marked, char *err,
                       size_t errlen)
{
	char y[16];
	if (*marked == year)
		return 0;
	snprintf(y, sizeof y, "%d", year);
	if ((*marked == 0 && zs_deps_mark2(db, "p", agb, err, errlen)) ||
	    zs_deps_mark2(db, "s", y, err, errlen))
		return -1;
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
			    mark_status(db, agb, old[j].year, &marked, err, errlen) ||
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
		if (c < 0) {
			wrc = write_row(db, r, agb, &eff[i], &nr, NULL, 1, err, errlen) ||
			      mark_status(db, agb, eff[i].year, &marked, err, errlen) ||
			      chg_record(r, agb, NULL, &nr, eff[i].policy->id, eff[i].care_type, err,
			                 errlen);
			(*changes)++;
		} else {
			int vis = visible_differs(&nr, &old[j]);
			if (vis || any_differs(&nr, &old[j]))
				wrc = write_row(db, r, agb, &eff[i], &nr, &old[j], vis, err, errlen) ||
				      mark_status(db, agb, eff[i].year, &marked, err, errlen) ||
				      (vis && chg_record(r, agb, &old[j], &nr, eff[i].policy->id,
				                         eff[i].care_type, err, errlen));
			*changes += vis;
			j++;
		}
		free(nr.stop);
		if (wrc)
			goto out;
		i++;
	}
	rc = 0;
out:
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
static int reconcile_touched(sqlite3 *db, time_t now, long *changes, char *err, size_t errlen)
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

/* ---- feed registration ------------------------------------------------------------------ */

static int drop_feed_data(sqlite3 *db, int id, char *err, size_t errlen)
{
	static const char *const sqls[] = {
		"INSERT OR IGNORE INTO temp.touched SELECT agb FROM stmt WHERE feed_id=?1",
		"INSERT OR IGNORE INTO temp.touched_prov SELECT agb FROM src_provider WHERE feed_id=?1",
		"DELETE FROM stmt WHERE feed_id=?1", "DELETE FROM src_provider WHERE feed_id=?1",
		"DELETE FROM src_insurer WHERE feed_id=?1", "DELETE FROM similar_decl WHERE feed_id=?1",
		NULL
	};
	for (int i = 0; sqls[i]; i++) {
		sqlite3_stmt *st = prep(db, sqls[i], err, errlen);
		if (!st)
			return -1;
		sqlite3_bind_int(st, 1, id);
		int rc = step_done(db, st, err, errlen);
		sqlite3_finalize(st);
		if (rc)
			return -1;
	}
	return 0;
}

/* Did the feed's policy set (id, year, insurer, concern) change against temp.pol_before? */
static int policies_changed(sqlite3 *db, int feed_id)
{
	sqlite3_stmt *st;
	int changed = 1;
	if (sqlite3_prepare_v2(db,
	        "SELECT EXISTS (SELECT id, year, uzovi, concern_id FROM temp.pol_before EXCEPT"
	        " SELECT id, year, uzovi, concern_id FROM policy WHERE feed_id=?1) OR EXISTS"
	        " (SELECT id, year, uzovi, concern_id FROM policy WHERE feed_id=?1 EXCEPT"
	        " SELECT id, year, uzovi, concern_id FROM temp.pol_before)", -1, &st, NULL) !=
	    SQLITE_OK)
		return 1;
	sqlite3_bind_int(st, 1, feed_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		changed = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return changed;
}

/* Start the single writer's transaction with empty work lists. */
static int begin_write(sqlite3 *db, char *err, size_t errlen)
{
	return zs_db_exec(db,
	                  "CREATE TEMP TABLE IF NOT EXISTS touched(agb TEXT PRIMARY KEY) WITHOUT ROWID;"
	                  "CREATE TEMP TABLE IF NOT EXISTS touched_prov(agb TEXT PRIMARY KEY)"
	                  " WITHOUT ROWID;"
	                  "CREATE TEMP TABLE IF NOT EXISTS pol_before(id TEXT, year INTEGER,"
	                  " uzovi TEXT, concern_id TEXT);"
	                  "DELETE FROM temp.touched; DELETE FROM temp.touched_prov;"
	                  " BEGIN IMMEDIATE;", err, errlen);
}

/* Keep the feed's current policies in temp.pol_before, then remove them. */
static int stash_policies(sqlite3 *db, int feed_id, char *err, size_t errlen)
{
	char q[320];
	snprintf(q, sizeof q, "DELETE FROM temp.pol_before; INSERT INTO temp.pol_before"
	         " SELECT id, year, uzovi, concern_id FROM policy WHERE feed_id=%d;"
	         " DELETE FROM policy WHERE feed_id=%d", feed_id, feed_id);
	return zs_db_exec(db, q, err, errlen);
}

/* The feed's policy set changed: reconcile the providers whose statements cover any policy
 * of the feed, old or new (by policy, insurer or concern), and those with effective rows of a
 * policy that is gone. */
static int touch_policy_change(sqlite3 *db, int feed_id, char *err, size_t errlen)
{
	char q[1400];
	snprintf(q, sizeof q,
	         "CREATE TEMP TABLE IF NOT EXISTS pol_scope(scope INTEGER, id TEXT,"
	         " PRIMARY KEY(scope, id)) WITHOUT ROWID; DELETE FROM temp.pol_scope;"
	         "INSERT OR IGNORE INTO temp.pol_scope SELECT 1, id FROM temp.pol_before"
	         " UNION SELECT 2, uzovi FROM temp.pol_before UNION SELECT 3, concern_id FROM"
	         " temp.pol_before UNION SELECT 1, id FROM policy WHERE feed_id=%d UNION SELECT 2,"
	         " uzovi FROM policy WHERE feed_id=%d UNION SELECT 3, concern_id FROM policy WHERE"
	         " feed_id=%d;"
	         "INSERT OR IGNORE INTO temp.touched SELECT DISTINCT s.agb FROM temp.pol_scope p"
	         " JOIN stmt s ON s.scope_id = p.id AND s.scope = p.scope;"
	         "INSERT OR IGNORE INTO temp.touched SELECT DISTINCT e.agb FROM effective e WHERE"
	         " EXISTS (SELECT 1 FROM temp.pol_before b WHERE b.id = e.policy_id AND b.year ="
	         " e.year AND NOT EXISTS (SELECT 1 FROM policy p WHERE p.id = b.id AND p.year ="
	         " b.year AND p.feed_id = %d));",
	         feed_id, feed_id, feed_id, feed_id);
	return zs_db_exec(db, q, err, errlen);
}

int zs_ingest_register(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen)
{
	char red[2048];
	long changes = 0;
	int rc = 0;
	if (begin_write(db, err, errlen))
		return -1;
	sqlite3_stmt *up = prep(db,
	        "INSERT INTO feed(name, kind, url, schedule, stale_after) VALUES(?,?,?,?,?)"
	        " ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, url=excluded.url,"
	        " schedule=excluded.schedule, stale_after=excluded.stale_after", err, errlen);
	for (size_t i = 0; up && rc == 0 && i < cfg->nfeeds; i++) {
		const zs_feed_conf *f = &cfg->feeds[i];
		sqlite3_bind_text(up, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, f->kind == ZS_FEED_INSURER ? "insurer" : "provider", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(up, 3, zs_url_redact(f->url, red, sizeof red), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 4, f->schedule);
		sqlite3_bind_int64(up, 5, f->stale_after);
		rc = step_done(db, up, err, errlen);
	}
	sqlite3_finalize(up);
	if (!up)
		rc = -1;
	/* Feeds no longer configured: their statements go, and what they touched is reconciled. */
	sqlite3_stmt *sel = rc ? NULL : prep(db, "SELECT id, name FROM feed", err, errlen);
	int dropped = 0;
	while (sel && rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(sel, 1);
		int found = 0;
		for (size_t i = 0; i < cfg->nfeeds && !found; i++)
			found = strcmp(cfg->feeds[i].name, name) == 0;
		if (!found) {
			int id = sqlite3_column_int(sel, 0);
			ZS_INFO(MOD, "feed %s is no longer configured: removing its statements", name);
			rc = stash_policies(db, id, err, errlen) ||
			     touch_policy_change(db, id, err, errlen);
			if (rc == 0)
				rc = drop_feed_data(db, id, err, errlen);
			dropped = 1;
		}
	}
	sqlite3_finalize(sel);
	if (rc == 0 && dropped) {
		rc = reconcile_touched(db, zs_now(), &changes, err, errlen);
		if (rc == 0)
			rc = zs_similar_compute(db, err, errlen);
		if (rc == 0)
			/* (the rows of the dropped feeds go below; a feed configured just now has
			 * no content yet and keeps its row) */
			rc = zs_db_exec(db,
			                "INSERT OR IGNORE INTO dirty(gen, key) SELECT value + 1, '*'"
			                " FROM meta WHERE key='generation';"
			                "UPDATE meta SET value=value+1 WHERE key='generation';", err, errlen);
	}
	if (rc == 0 && dropped) {
		/* Remove rows of feeds that are gone from the configuration. */
		for (sqlite3_stmt *s2 = prep(db, "SELECT id, name FROM feed", err, errlen); s2;) {
			if (sqlite3_step(s2) != SQLITE_ROW) {
				sqlite3_finalize(s2);
				break;
			}
			const char *name = (const char *)sqlite3_column_text(s2, 1);
			int found = 0;
			for (size_t i = 0; i < cfg->nfeeds && !found; i++)
				found = strcmp(cfg->feeds[i].name, name) == 0;
			if (!found) {
				char q[96];
				snprintf(q, sizeof q, "DELETE FROM feed WHERE id=%d; DELETE FROM feed_error"
				         " WHERE feed_id=%d", sqlite3_column_int(s2, 0),
				         sqlite3_column_int(s2, 0));
				char e2[128];
				zs_db_exec(db, q, e2, sizeof e2);
			}
		}
	}
	if (zs_db_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", rc == 0 ? err : red,
	               rc == 0 ? errlen : sizeof red))
		rc = -1;
	return rc;
}

/* ---- applying one version ---------------------------------------------------------------- */

typedef struct {
	sqlite3_stmt *ins_stmt, *ins_prov, *ins_pol, *ins_sim, *ins_insurer, *touch, *touch_prov,
		*ins_err;
	sqlite3_stmt *pol_owner, *pol_count;
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
	          " stop_note, said_at, since_date) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", err,
	          errlen)) ||
	    !(a->ins_prov = prep(db,
	          "INSERT OR REPLACE INTO src_provider(agb, feed_id, from_provider, name, kind, parent,"
	          " locations, aliases) VALUES(?,?,?,?,?,?,?,?)", err, errlen)) ||
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

static int insert_record(sqlite3 *db, apply_stmts *a, const zs_feed_conf *fc, int feed_id,
                         const zs_rec *hdr, const zs_rec *r, long line, time_t now,
                         zs_rec_err *rerr, char *err, size_t errlen)
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
		if (step_done(db, s, err, errlen))
			return -1;
		sqlite3_bind_text(a->touch_prov, 1, r->agb, -1, SQLITE_STATIC);
		return step_done(db, a->touch_prov, err, errlen) ? -1 : 0;
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
		free(exempt);
		if (step_done(db, s, err, errlen))
			return -1;
		sqlite3_bind_text(a->touch, 1, r->agb, -1, SQLITE_STATIC);
		return step_done(db, a->touch, err, errlen) ? -1 : 0;
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
	        ? "SELECT rowid, line, scope_id, year FROM stmt WHERE feed_id=?1 AND scope=1 AND NOT"
	          " EXISTS (SELECT 1 FROM policy p WHERE p.id=stmt.scope_id AND p.year=stmt.year"
	          " AND p.feed_id=?1)"
	        : "SELECT rowid, line, scope_id, year FROM stmt WHERE feed_id=?1 AND scope=1 AND NOT"
	          " EXISTS (SELECT 1 FROM policy p WHERE p.id=stmt.scope_id AND p.year=stmt.year)",
	        err, errlen);
	sqlite3_stmt *del = prep(db, "DELETE FROM stmt WHERE rowid=?", err, errlen);
	int rc = (st && del) ? 0 : -1;
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
		rc = step_done(db, del, err, errlen);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
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

static int feed_update(sqlite3 *db, const char *sql, int feed_id, time_t now, const char *text,
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
		rc = feed_update(db,
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

/* Keys of invalid records whose last good statement is kept. */
typedef struct {
	zs_rec_key *v;
	size_t n, cap;
} key_list;

#define ZS_MAX_KEPT_KEYS 100000

static void key_add(key_list *k, const char *line, size_t len)
{
	zs_rec_key key;
	if (k->n >= ZS_MAX_KEPT_KEYS || !zs_feed_line_key(line, len, &key))
		return;
	if (zs_grow(&k->v, &k->cap, k->n, sizeof *k->v, 64) == 0)
		k->v[k->n++] = key;
}

/* Copy one row's columns from a statement of the read connection into an insert. */
static void bind_row(sqlite3_stmt *ins, int first, sqlite3_stmt *sel, int ncol)
{
	for (int i = 0; i < ncol; i++)
		sqlite3_bind_value(ins, first + i, sqlite3_column_value(sel, i));
}

/* A skipped record whose key is readable keeps that key's last good statement: the rows of
 * the last committed version (read on a connection of its own, which sees the committed
 * snapshot in WAL mode, not this transaction) are copied into the new version where the new
 * version has none for the key. Policies first, then providers, then statements (a kept
 * policy statement needs its policy). Returns -1 on a database error. */
static int keep_last_good(sqlite3 *db, const zs_feed_conf *fc, int feed_id, const key_list *k,
                          long *kept, char *err, size_t errlen)
{
	const char *fn = sqlite3_db_filename(db, "main");
	sqlite3 *ro = NULL;
	int rc = 0;
	*kept = 0;
	if (k->n == 0 || !fn || !*fn)
		return 0;
	if (sqlite3_open_v2(fn, &ro, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		ZS_WARN(MOD, "feed %s: cannot read the last good version: %s", fc->name,
		        ro ? sqlite3_errmsg(ro) : "out of memory");
		sqlite3_close(ro);
		return 0;
	}
	sqlite3_busy_timeout(ro, 5000);
	sqlite3_stmt *sp = NULL, *ip = NULL, *sv = NULL, *iv = NULL, *ss = NULL, *is = NULL,
	             *tch = NULL, *tchp = NULL;
	const char *owner = fc->kind == ZS_FEED_INSURER ? "p.feed_id=?8" : "1";
	char q[900];
	if (sqlite3_prepare_v2(ro, "SELECT id, year, name, label, type, uzovi, concern_id,"
	                       " reimbursement FROM policy WHERE feed_id=?1 AND id=?2 AND year=?3",
	                       -1, &sp, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ro, "SELECT agb, from_provider, name, kind, parent, locations FROM"
	                       " src_provider WHERE feed_id=?1 AND agb=?2", -1, &sv, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v2(ro, "SELECT agb, year, line, care_type, scope, scope_id, status,"
	                       " as_contracted, ceiling, ceiling_exempt, stop_reason, stop_from,"
	                       " stop_until, stop_note, said_at, since_date FROM stmt WHERE feed_id=?1"
	                       " AND agb=?2"
	                       " AND year=?3 AND care_type=?4 AND scope=?5 AND scope_id=?6", -1, &ss,
	                       NULL) != SQLITE_OK) {
		ZS_WARN(MOD, "feed %s: cannot read the last good version: %s", fc->name,
		        sqlite3_errmsg(ro));
		goto out;
	}
	snprintf(q, sizeof q,
	         "INSERT INTO stmt(agb, year, feed_id, line, care_type, scope, scope_id, status,"
	         " as_contracted, ceiling, ceiling_exempt, stop_reason, stop_from, stop_until,"
	         " stop_note, said_at, since_date) SELECT ?1, ?2, ?8, ?3, ?4, ?5, ?6, ?7, ?9, ?10,"
	         " ?11, ?12, ?13, ?14, ?15, ?16, ?17 WHERE NOT EXISTS (SELECT 1 FROM stmt WHERE feed_id=?8 AND"
	         " agb=?1 AND year=?2 AND care_type=?4 AND scope=?5 AND scope_id=?6) AND (?5 != 1 OR"
	         " EXISTS (SELECT 1 FROM policy p WHERE p.id=?6 AND p.year=?2 AND %s))", owner);
	if (!(ip = prep(db, "INSERT OR IGNORE INTO policy(id, year, name, label, type, uzovi,"
	                    " concern_id, reimbursement, feed_id) VALUES(?,?,?,?,?,?,?,?,?)", err,
	                errlen)) ||
	    !(iv = prep(db, "INSERT OR IGNORE INTO src_provider(agb, from_provider, name, kind,"
	                    " parent, locations, feed_id) VALUES(?,?,?,?,?,?,?)", err, errlen)) ||
	    !(is = prep(db, q, err, errlen)) ||
	    !(tch = prep(db, "INSERT OR IGNORE INTO temp.touched VALUES(?)", err, errlen)) ||
	    !(tchp = prep(db, "INSERT OR IGNORE INTO temp.touched_prov VALUES(?)", err, errlen))) {
		rc = -1;
		goto out;
	}
	/* one read transaction: every key sees the same committed version */
	sqlite3_exec(ro, "BEGIN", NULL, NULL, NULL);
	for (int pass = 0; pass < 3 && rc == 0; pass++) {
		zs_rec_type want = pass == 0 ? ZS_REC_POLICY : pass == 1 ? ZS_REC_PROVIDER : ZS_REC_STATUS;
		for (size_t i = 0; i < k->n && rc == 0; i++) {
			const zs_rec_key *key = &k->v[i];
			sqlite3_stmt *sel = want == ZS_REC_POLICY ? sp : want == ZS_REC_PROVIDER ? sv : ss;
			if (key->type != want)
				continue;
			sqlite3_reset(sel);
			sqlite3_bind_int(sel, 1, feed_id);
			if (want == ZS_REC_POLICY) {
				sqlite3_bind_text(sel, 2, key->scope_id, -1, SQLITE_STATIC);
				sqlite3_bind_int(sel, 3, key->year);
			} else {
				sqlite3_bind_text(sel, 2, key->agb, -1, SQLITE_STATIC);
			}
			if (want == ZS_REC_STATUS) {
				sqlite3_bind_int(sel, 3, key->year);
				sqlite3_bind_text(sel, 4, key->care_type, -1, SQLITE_STATIC);
				sqlite3_bind_int(sel, 5, (int)key->scope);
				sqlite3_bind_text(sel, 6, key->scope_id, -1, SQLITE_STATIC);
			}
			while (rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
				sqlite3_stmt *ins = want == ZS_REC_POLICY ? ip : want == ZS_REC_PROVIDER ? iv : is;
				if (want == ZS_REC_STATUS) {
					/* ?1..?7 agb year line care_type scope scope_id status; ?8 feed; ?9.. */
					bind_row(ins, 1, sel, 7);
					sqlite3_bind_int(ins, 8, feed_id);
					for (int c = 7; c < 16; c++)
						sqlite3_bind_value(ins, c + 2, sqlite3_column_value(sel, c));
				} else {
					int nc = want == ZS_REC_POLICY ? 8 : 6;
					bind_row(ins, 1, sel, nc);
					sqlite3_bind_int(ins, nc + 1, feed_id);
				}
				rc = step_done(db, ins, err, errlen);
				if (rc == 0 && sqlite3_changes(db) > 0) {
					(*kept)++;
					if (want != ZS_REC_POLICY) {
						sqlite3_stmt *t = want == ZS_REC_PROVIDER ? tchp : tch;
						sqlite3_bind_text(t, 1, key->agb, -1, SQLITE_STATIC);
						rc = step_done(db, t, err, errlen);
					}
				}
			}
		}
	}
	sqlite3_exec(ro, "COMMIT", NULL, NULL, NULL);
out:
	sqlite3_finalize(sp);
	sqlite3_finalize(sv);
	sqlite3_finalize(ss);
	sqlite3_finalize(ip);
	sqlite3_finalize(iv);
	sqlite3_finalize(is);
	sqlite3_finalize(tch);
	sqlite3_finalize(tchp);
	sqlite3_close(ro);
	return rc;
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
	key_list keys = { NULL, 0, 0 };
	int rc = -1;

	memset(&hdr, 0, sizeof hdr);
	if (zs_incr_before(db, feed_id, err, errlen) || stash_policies(db, feed_id, err, errlen) ||
	    drop_feed_data(db, feed_id, err, errlen))
		goto out;
	rewind(body);
	/* Memory per line is bounded by max_line_kb: a longer line is read past, not kept. */
	while ((len = zs_feed_read_line(body, &line, &cap, max_line)) != 0 && len != -1) {
		zs_rec rec;
		zs_rec_err rerr;
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
				blank = line[i] == ' ' || line[i] == '\n' || line[i] == '\r' || line[i] == '\t';
			if (blank)
				continue;
			snprintf(res->error, sizeof res->error, "line %ld: content after the trailer", lineno);
			break;
		}
		int prc = zs_feed_parse_line(fc->kind, hdr.json ? &hdr : NULL, line, (size_t)len, &rec,
		                             &rerr);
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
			continue;
		}
		if (prc != 0) {
			err_add(errs, lineno, rerr.field, rerr.reason);
			key_add(&keys, line, (size_t)len);
			res->rejected++;
			records++;
			continue;
		}
		if (rec.type == ZS_REC_END) {
			trailer = rec.count;
			zs_rec_clear(&rec);
			continue;
		}
		records++;
		int irc = insert_record(db, a, fc, feed_id, &hdr, &rec, lineno, now, &rerr, err, errlen);
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
	if (!res->error[0] && keep_last_good(db, fc, feed_id, &keys, &kept, err, errlen))
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
	long same = 0;
	if (zs_incr_filter(db, feed_id, &same, err, errlen))
		goto out;
	if (same)
		ZS_DEBUG(MOD, "feed %s: %ld provider(s) with unchanged statements not reconciled",
		         fc->name, same);
	if (policies_changed(db, feed_id) && touch_policy_change(db, feed_id, err, errlen))
		goto out;
	if (store_errors(db, feed_id, errs, err, errlen) ||
	    feed_update(db,
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
	if (begin_write(db, err, errlen))
		goto done;
	open = 1;
	if (zs_deps_years_save(db, err, errlen))
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
	/* Similar policies follow in the same snapshot: readers see statuses and twins agree. */
	if (applied &&
	    (reconcile_touched(db, now, &changes, err, errlen) ||
	     zs_similar_compute(db, err, errlen) ||
	     zs_fresh_update(db, now, NULL, NULL, err, errlen) ||
	     zs_deps_years_mark(db, err, errlen) ||
	     zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err, errlen)))
		goto done;
	if (zs_db_exec(db, "COMMIT", err, errlen))
		goto done;
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

int zs_ingest_fetch_failed(sqlite3 *db, const zs_feed_conf *fc, time_t now, const char *msg)
{
	char err[256];
	int id = zs_ingest_feed_id(db, fc->name);
	if (id < 0)
		return -1;
	ZS_WARN(MOD, "feed %s: fetch failed, %s: %s", fc->name, zs_feed_kept_text(db, id), msg);
	int rc = feed_update(db,
	                     "UPDATE feed SET last_attempt=?2, last_error=?3, last_error_at=?2,"
	                     " failures=failures+1 WHERE id=?1",
	                     id, now, msg, 0, 0, err, sizeof err);
	return rc; /* content unchanged: no new generation (caches stay valid) */
}

int zs_ingest_not_modified(sqlite3 *db, const zs_feed_conf *fc, time_t now)
{
	char err[256];
	int id = zs_ingest_feed_id(db, fc->name);
	if (id < 0)
		return -1;
	/* after a rejected version, the row errors shown were that version's: clear them */
	char q[160];
	snprintf(q, sizeof q, "DELETE FROM feed_error WHERE feed_id=%d AND EXISTS (SELECT 1 FROM feed"
	         " WHERE id=%d AND last_error IS NOT NULL)", id, id);
	zs_db_exec(db, q, err, sizeof err);
	int rc = feed_update(db,
	                     "UPDATE feed SET last_attempt=?2, last_success=?2,"
	                     " rows_rejected=CASE WHEN last_error IS NULL THEN rows_rejected ELSE 0 END,"
	                     " last_error=NULL, last_error_at=NULL, failures=0 WHERE id=?1",
	                     id, now, NULL, 0, 0, err, sizeof err);
	/* No new generation: what consumers see of the feed's freshness is published by
	 * zs_fresh_publish, at most once a day per feed (zs_fresh.h). */
	return rc;
}

int zs_ingest_validators(sqlite3 *db, const zs_feed_conf *fc, char **etag, char **lastmod)
{
	sqlite3_stmt *st;
	*etag = *lastmod = NULL;
	if (sqlite3_prepare_v2(db, "SELECT etag, last_modified FROM feed WHERE name=?"
	                           " AND last_success IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, fc->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*etag = col_dup(st, 0);
		*lastmod = col_dup(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int zs_ingest_set_validators(sqlite3 *db, const zs_feed_conf *fc, const char *etag,
                             const char *lastmod)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "UPDATE feed SET etag=?, last_modified=? WHERE name=?", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	bind_text(st, 1, etag);
	bind_text(st, 2, lastmod);
	sqlite3_bind_text(st, 3, fc->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}
