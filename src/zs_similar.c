/* zs_similar.c - computed and declared similarity of policies (see zs_similar.h). */
#include "config.h"
#include <stdatomic.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "zs_catalogue.h"
#include "zs_db.h"
#include "zs_similar.h"
#include "zs_types.h"
#include "zs_util.h"

#define MAX_EXAMPLES 3

static zs_similar_thresholds thresholds = { 1.0, 0.0, 0.95, 5.0 };

void zs_similar_set_thresholds(const zs_similar_thresholds *t) { thresholds = *t; }
const zs_similar_thresholds *zs_similar_get_thresholds(void) { return &thresholds; }

const char *zs_similar_verdict(double overlap, double diff)
{
	const double eps = 1e-9;
	if (overlap + eps >= thresholds.equal_overlap && diff <= thresholds.equal_pct + eps)
		return "equal";
	if (overlap + eps >= thresholds.very_overlap && diff <= thresholds.very_pct + eps)
		return "very_similar";
	return "different";
}

typedef struct {
	char *id, *concern;
	json_t *rules;
	long size;                 /* contracted (provider, care type) pairs */
	long size_ct[16];          /* per care type index */
} pol;

typedef struct {
	long common, common_ct[16];
	long only_a_ct[16], only_b_ct[16];
	char ex_a[MAX_EXAMPLES][9], ex_b[MAX_EXAMPLES][9];
	int nex_a, nex_b;
} pair;

static double rule_pct(json_t *rules, const char *care_type, const char **basis)
{
	size_t i;
	json_t *r;
	double star = -1;
	const char *star_basis = NULL;
	json_array_foreach(rules, i, r) {
		const char *ct = json_string_value(json_object_get(r, "care_type"));
		if (!ct)
			continue;
		if (strcmp(ct, care_type) == 0) {
			*basis = json_string_value(json_object_get(r, "basis"));
			return json_number_value(json_object_get(r, "percent"));
		}
		if (strcmp(ct, "*") == 0) {
			star = json_number_value(json_object_get(r, "percent"));
			star_basis = json_string_value(json_object_get(r, "basis"));
		}
	}
	*basis = star_basis;
	return star;
}

static int care_index(const char *code)
{
	for (int i = 0; i < 16; i++) {
		const zs_care_type *c = zs_care_type_at(i);
		if (!c)
			break;
		if (strcmp(c->code, code) == 0)
			return i;
	}
	return -1;
}

/* ---- the contracted sets of a year, kept between computations -------------------------------
 * A computation needs every contracted (provider, care type, policy) of the year: 3 million rows
 * a year at national scale, whose scan took 2-3 s of every apply. The calling thread keeps them
 * in memory (the mirror): per provider, in agb order, its rows as (care type index << 16 |
 * policy index). The next computation on the same connection reads again only the providers
 * marked changed (zs_deps.h: p:<agb>) since the last one, and the pair counts are made from
 * memory. The mirror is dropped, and everything read from the table, when: another connection
 * or thread computes, the last computation's transaction did not commit (a token in a TEMP table
 * of the connection, written in that transaction, is then gone or older), everything was marked
 * ('*') or the marks were pruned, or a year's policies are not the ones the indexes refer to. */
typedef struct {
	char agb[12];
	uint32_t *e;
	uint32_t n;
} mprov;

typedef struct {
	int year;
	char **ids;       /* the year's policy ids when it was read, in id order */
	size_t nids;
	mprov *prov;      /* agb order */
	size_t nprov, cap;
	int valid;
	unsigned round;   /* the computation that last used it (mirror_t.round) */
} myear;

typedef struct {
	sqlite3 *db;
	long long token, gen;
	unsigned round;   /* computations so far */
	myear *years;
	size_t nyears;
} mirror_t;

static __thread mirror_t *mirror;

static void myear_clear(myear *y)
{
	for (size_t i = 0; i < y->nids; i++)
		free(y->ids[i]);
	free(y->ids);
	for (size_t i = 0; i < y->nprov; i++)
		free(y->prov[i].e);
	free(y->prov);
	memset(y, 0, sizeof *y);
}

static void mirror_free(mirror_t *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nyears; i++)
		myear_clear(&m->years[i]);
	free(m->years);
	free(m);
}

void zs_similar_thread_done(void)
{
	mirror_free(mirror);
	mirror = NULL;
}

/* Empty a year's mirror, keeping which year it is and when it was used. */
static void myear_reset(myear *y)
{
	int year = y->year;
	unsigned round = y->round;
	myear_clear(y);
	y->year = year;
	y->round = round;
}

/* The mirror of a year, marked used by this computation. */
static myear *mirror_year(mirror_t *m, int year)
{
	myear *y = NULL;
	for (size_t i = 0; i < m->nyears && !y; i++)
		if (m->years[i].year == year)
			y = &m->years[i];
	for (size_t i = 0; i < m->nyears && !y; i++)
		if (m->years[i].year == -1) /* a year forgotten (zs_similar_compute) */
			y = &m->years[i];
	if (!y) {
		myear *ny = realloc(m->years, (m->nyears + 1) * sizeof *ny);
		if (!ny)
			return NULL;
		m->years = ny;
		y = &ny[m->nyears++];
		memset(y, 0, sizeof *y);
	}
	y->year = year;
	y->round = m->round;
	return y;
}

/* Append a provider's rows (taken: the mirror owns e from here, also when it fails). */
static int myear_push(myear *y, const char *agb, uint32_t *e, uint32_t n)
{
	if (zs_grow(&y->prov, &y->cap, y->nprov, sizeof *y->prov, 1024)) {
		free(e);
		return -1;
	}
	mprov *p = &y->prov[y->nprov++];
	snprintf(p->agb, sizeof p->agb, "%s", agb);
	p->e = e;
	p->n = n;
	return 0;
}

/* ---- pair counts --------------------------------------------------------------------------- */

typedef struct {
	pol *p;
	size_t np;
	pair *pairs;
	size_t *conc, *cstart, *corder;
	char *in;
} acc;

static int care_of(uint32_t e) { return (int)(e >> 16); }
static size_t pol_of(uint32_t e) { return (size_t)(e & 0xffffu); }

/* Count one provider's contracted rows into the pairs of its policies' concerns: one group
 * per care type. The rows are sorted (rows_sort): an entry is care type << 16 | policy, so a care
 * type's rows are one run (one pass over the rows instead of one per care type). */
static void acc_provider(acc *a, const char *agb, const uint32_t *rows, size_t nrow)
{
	pol *p = a->p;
	size_t np = a->np;
	for (size_t g = 0, end; g < nrow; g = end) {
		int ci = care_of(rows[g]);
		for (end = g + 1; end < nrow && care_of(rows[end]) == ci; end++)
			;
		if (ci >= 16)
			continue;
		for (size_t k = g; k < end; k++)
			a->in[pol_of(rows[k])] = 1;
		for (size_t k = g; k < end; k++) {
			size_t x = pol_of(rows[k]), c = a->conc[x];
			p[x].size++;
			p[x].size_ct[ci]++;
			for (size_t m = a->cstart[c]; m < a->cstart[c + 1]; m++) {
				size_t y = a->corder[m];
				if (y == x || (a->in[y] && y < x))
					continue; /* a common pair is counted once, from its lower side */
				size_t lo = x < y ? x : y, hi = x < y ? y : x;
				pair *pr = &a->pairs[lo * np + hi];
				if (a->in[y]) {
					pr->common++;
					pr->common_ct[ci]++;
				} else if (x == lo) {
					pr->only_a_ct[ci]++;
					if (pr->nex_a < MAX_EXAMPLES &&
					    (pr->nex_a == 0 || strcmp(pr->ex_a[pr->nex_a - 1], agb)))
						snprintf(pr->ex_a[pr->nex_a++], 9, "%s", agb);
				} else {
					pr->only_b_ct[ci]++;
					if (pr->nex_b < MAX_EXAMPLES &&
					    (pr->nex_b == 0 || strcmp(pr->ex_b[pr->nex_b - 1], agb)))
						snprintf(pr->ex_b[pr->nex_b++], 9, "%s", agb);
				}
			}
		}
		for (size_t k = g; k < end; k++)
			a->in[pol_of(rows[k])] = 0;
	}
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

/* A provider's entries in the order acc_provider reads them (and the mirror keeps them). */
static void rows_sort(uint32_t *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof *rows, u32_cmp);
}

/* The policy index of an id (p is ordered by id, BINARY = strcmp); np when unknown. */
static size_t pol_index(const pol *p, size_t np, const char *pid)
{
	size_t lo = 0, hi = np;
	while (pid && lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(p[mid].id, pid);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return np;
}

/* A contracted row as an entry; 0 when its care type or policy is not known. */
static int row_entry(const pol *p, size_t np, sqlite3_stmt *st, int ct_col, int pol_col,
                     uint32_t *out)
{
	int ci = care_index((const char *)sqlite3_column_text(st, ct_col));
	size_t pi = pol_index(p, np, (const char *)sqlite3_column_text(st, pol_col));
	if (ci < 0 || ci >= 16 || pi >= np)
		return 0;
	*out = (uint32_t)ci << 16 | (uint32_t)pi;
	return 1;
}

/* A query of a year's contracted rows: ?1 the year, ?2 and ?3 the contracted statuses. */
static sqlite3_stmt *prepare_contracted(sqlite3 *db, const char *sql, int year)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int(st, 1, year);
	sqlite3_bind_int(st, 2, ZS_STATUS_CONTRACTED);
	sqlite3_bind_int(st, 3, ZS_STATUS_CONTRACTED_CEILING);
	return st;
}

/* Step st: 1 on a row, 0 at the end. A read error is not the end: it sets *rc = -1 (what was
 * read is not whole, and must not be kept or counted as such). */
static int next_row(sqlite3_stmt *st, int *rc)
{
	int s = sqlite3_step(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		*rc = -1;
	return s == SQLITE_ROW;
}

/* Every contracted row of the year from the table, in agb order, into the pair counts and
 * (y not NULL) into the mirror of the year, which is empty on entry; y->valid = 0 when it
 * could not be kept whole (out of memory: the counts go on without it). */
static int scan_year(sqlite3 *db, int year, acc *a, myear *y)
{
	sqlite3_stmt *st = prepare_contracted(db, "SELECT agb, care_type, policy_id FROM effective"
	                                      " WHERE year=?1 AND status IN (?2, ?3) ORDER BY agb", year);
	if (!st)
		return -1;
	char cur_agb[16] = "";
	size_t rcap = 64, nrow = 0;
	uint32_t *rows = malloc(rcap * sizeof *rows);
	int rc = rows ? 0 : -1;
	int have = next_row(st, &rc);
	while (rc == 0) {
		const char *agb = have ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (!have || !agb || strcmp(agb, cur_agb) != 0) {
			if (cur_agb[0] && nrow) {
				rows_sort(rows, nrow);
				acc_provider(a, cur_agb, rows, nrow);
				uint32_t *e = y && y->valid ? malloc(nrow * sizeof *e) : NULL;
				if (e)
					memcpy(e, rows, nrow * sizeof *e);
				if (y && y->valid && (!e || myear_push(y, cur_agb, e, (uint32_t)nrow)))
					y->valid = 0; /* myear_push freed e */
			}
			nrow = 0;
			if (!have)
				break;
			snprintf(cur_agb, sizeof cur_agb, "%s", agb ? agb : "");
		}
		uint32_t e;
		if (row_entry(a->p, a->np, st, 1, 2, &e)) {
			if (zs_grow(&rows, &rcap, nrow, sizeof *rows, 64)) {
				rc = -1;
				break;
			}
			rows[nrow++] = e;
		}
		have = next_row(st, &rc);
	}
	free(rows);
	sqlite3_finalize(st);
	return rc;
}

/* Bring the mirror of the year up to date with the providers in dirty (sorted agbs), then
 * count every provider from it. */
static int update_year(sqlite3 *db, int year, acc *a, myear *y, char (*dirty)[12], size_t ndirty)
{
	sqlite3_stmt *st = prepare_contracted(db, "SELECT care_type, policy_id FROM effective"
	                                      " WHERE agb=?4 AND year=?1 AND status IN (?2, ?3)", year);
	if (!st)
		return -1;
	myear ny = *y;
	ny.prov = NULL;
	ny.nprov = ny.cap = 0;
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < y->nprov || j < ndirty)) {
		int c = i == y->nprov ? 1 : j == ndirty ? -1 : strcmp(y->prov[i].agb, dirty[j]);
		if (c < 0) { /* unchanged: moved over */
			if (myear_push(&ny, y->prov[i].agb, y->prov[i].e, y->prov[i].n))
				rc = -1;
			y->prov[i++].e = NULL;
			continue;
		}
		/* changed (c == 0) or new (c > 0): read again */
		sqlite3_bind_text(st, 4, dirty[j], -1, SQLITE_STATIC);
		uint32_t *e = NULL;
		size_t n = 0, cap = 0;
		int s;
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			uint32_t v;
			if (!row_entry(a->p, a->np, st, 0, 1, &v))
				continue;
			if (zs_grow(&e, &cap, n, sizeof *e, 16)) {
				rc = -1;
				break;
			}
			e[n++] = v;
		}
		sqlite3_reset(st);
		if (s != SQLITE_DONE && rc == 0)
			rc = -1;
		if (rc == 0 && n) {
			rows_sort(e, n);
			if (myear_push(&ny, dirty[j], e, (uint32_t)n))
				rc = -1;
		} else {
			free(e);
		}
		if (c == 0) {
			free(y->prov[i].e);
			y->prov[i++].e = NULL;
		}
		j++;
	}
	sqlite3_finalize(st);
	for (; i < y->nprov; i++)
		free(y->prov[i].e);
	free(y->prov);
	y->prov = ny.prov;
	y->nprov = ny.nprov;
	y->cap = ny.cap;
	if (rc)
		return -1;
	for (size_t k = 0; k < y->nprov; k++)
		acc_provider(a, y->prov[k].agb, y->prov[k].e, y->prov[k].n);
	return 0;
}

/* Whether the mirror's year still refers to these policies (ids in the same order). */
static int myear_same_policies(const myear *y, const pol *p, size_t np)
{
	if (!y->valid || y->nids != np)
		return 0;
	for (size_t i = 0; i < np; i++)
		if (strcmp(y->ids[i], p[i].id) != 0)
			return 0;
	return 1;
}

static int myear_set_policies(myear *y, const pol *p, size_t np)
{
	y->ids = np ? calloc(np, sizeof *y->ids) : NULL;
	if (np && !y->ids)
		return -1;
	y->nids = np;
	for (size_t i = 0; i < np; i++)
		if (!(y->ids[i] = strdup(p[i].id)))
			return -1;
	return 0;
}

/* m: the mirror to use and keep up to date (NULL: read everything from the table); dirty: the
 * providers changed since it was made (sorted agbs). */
static int compute_year(sqlite3 *db, int year, sqlite3_stmt *ins, mirror_t *m,
                        char (*dirty)[12], size_t ndirty, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	pol *p = NULL;
	size_t np = 0, cap = 0;
	pair *pairs = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT id, concern_id, reimbursement FROM policy WHERE year=?"
	                           " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int(st, 1, year);
	int perr = 0;
	while (next_row(st, &perr)) {
		if (zs_grow(&p, &cap, np, sizeof *p, 16))
			break;
		pol *x = &p[np++];
		memset(x, 0, sizeof *x);
		x->id = strdup((const char *)sqlite3_column_text(st, 0));
		x->concern = strdup(sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		const char *rj = (const char *)sqlite3_column_text(st, 2);
		x->rules = rj ? json_loads(rj, 0, NULL) : json_array();
	}
	sqlite3_finalize(st);
	if (perr)
		goto dberr;
	myear *y = m ? mirror_year(m, year) : NULL;
	if (m && !y)
		goto out;
	if (np < 2 || np > 0xffff) {
		if (y) /* nothing to keep: read again next time */
			myear_reset(y);
		if (np > 0xffff)
			snprintf(err, errlen, "similar: %zu policies in %d, at most 65535", np, year);
		rc = np < 2 ? 0 : -1;
		goto out;
	}
	pairs = calloc(np * np, sizeof *pairs);
	if (!pairs)
		goto out;

	/* Policies of the same concern, as index lists. */
	size_t *conc = calloc(np, sizeof *conc), *cstart = calloc(np + 1, sizeof *cstart);
	size_t *corder = calloc(np, sizeof *corder);
	char *in = calloc(np, 1);
	if (!conc || !cstart || !corder || !in) {
		free(conc);
		free(cstart);
		free(corder);
		free(in);
		goto out;
	}
	{
		size_t nc = 0;
		for (size_t i = 0; i < np; i++) {
			size_t c = nc;
			for (size_t j = 0; j < i; j++)
				if (strcmp(p[j].concern, p[i].concern) == 0) {
					c = conc[j];
					break;
				}
			conc[i] = c;
			if (c == nc)
				nc++;
		}
		size_t k = 0;
		for (size_t c = 0; c < nc; c++) {
			cstart[c] = k;
			for (size_t i = 0; i < np; i++)
				if (conc[i] == c)
					corder[k++] = i;
		}
		cstart[nc] = k;
	}
	acc ac = { p, np, pairs, conc, cstart, corder, in };
	int src = -1;
	if (y && myear_same_policies(y, p, np))
		src = update_year(db, year, &ac, y, dirty, ndirty); /* counts nothing when it fails */
	if (src) {
		if (y) {
			myear_reset(y);
			y->valid = myear_set_policies(y, p, np) == 0;
		}
		src = scan_year(db, year, &ac, y && y->valid ? y : NULL);
	}
	free(in);
	free(conc);
	free(cstart);
	free(corder);
	if (src) {
		if (y)
			y->valid = 0;
		goto dberr;
	}
	if (!ins) { /* zs_similar_warm: the mirror is all it wants */
		rc = 0;
		goto out;
	}

	/* Declarations. */
	sqlite3_stmt *decl;
	if (sqlite3_prepare_v2(db, "SELECT relation FROM similar_decl WHERE year=?1 AND"
	                           " ((a=?2 AND b=?3) OR (a=?3 AND b=?2)) ORDER BY relation LIMIT 1",
	                       -1, &decl, NULL) != SQLITE_OK)
		goto dberr;
	for (size_t a = 0; a < np; a++) {
		for (size_t b = a + 1; b < np; b++) {
			if (strcmp(p[a].concern, p[b].concern) != 0)
				continue;
			pair *pr = &pairs[a * np + b];
			long uni = p[a].size + p[b].size - pr->common;
			double overlap = uni > 0 ? (double)pr->common / (double)uni : 1.0;
			double maxdiff = 0;
			json_t *reasons = json_object(), *per_ct = json_array(), *pct = json_array();
			for (int ci = 0; zs_care_type_at(ci); ci++) {
				const char *code = zs_care_type_at(ci)->code, *ba, *bb;
				double pa = rule_pct(p[a].rules, code, &ba), pb = rule_pct(p[b].rules, code, &bb);
				if (pa >= 0 && pb >= 0 && fabs(pa - pb) > maxdiff)
					maxdiff = fabs(pa - pb);
				if (pa >= 0 && pb >= 0 && (fabs(pa - pb) > 1e-9 || !ba || !bb || strcmp(ba, bb)))
					json_array_append_new(pct, json_pack("{s:s, s:f, s:s?, s:f, s:s?}",
					        "care_type", code, "a_percent", pa, "a_basis", ba,
					        "b_percent", pb, "b_basis", bb));
				if (ci < 16 && (pr->only_a_ct[ci] || pr->only_b_ct[ci]))
					json_array_append_new(per_ct, json_pack("{s:s, s:I, s:I, s:I}",
					        "care_type", code, "common", (json_int_t)pr->common_ct[ci],
					        "only_a", (json_int_t)pr->only_a_ct[ci],
					        "only_b", (json_int_t)pr->only_b_ct[ci]));
			}
			json_t *exa = json_array(), *exb = json_array();
			for (int k = 0; k < pr->nex_a; k++)
				json_array_append_new(exa, json_string(pr->ex_a[k]));
			for (int k = 0; k < pr->nex_b; k++)
				json_array_append_new(exb, json_string(pr->ex_b[k]));
			json_object_set_new(reasons, "network_differences", per_ct);
			json_object_set_new(reasons, "only_in_a_examples", exa);
			json_object_set_new(reasons, "only_in_b_examples", exb);
			json_object_set_new(reasons, "reimbursement_differences", pct);
			const char *verdict = zs_similar_verdict(overlap, maxdiff);
			const char *declared = NULL, *finding = NULL;
			sqlite3_bind_int(decl, 1, year);
			sqlite3_bind_text(decl, 2, p[a].id, -1, SQLITE_STATIC);
			sqlite3_bind_text(decl, 3, p[b].id, -1, SQLITE_STATIC);
			char declbuf[16] = "";
			if (sqlite3_step(decl) == SQLITE_ROW) {
				snprintf(declbuf, sizeof declbuf, "%s", (const char *)sqlite3_column_text(decl, 0));
				declared = declbuf;
			}
			sqlite3_reset(decl);
			if (!declared && strcmp(verdict, "different") != 0)
				finding = "undeclared_twin";
			else if (declared && strcmp(verdict, "different") == 0)
				finding = "declared_but_different";
			else if (declared && strcmp(declared, verdict) != 0)
				finding = "relation_differs";
			char *rj = json_dumps(reasons, JSON_COMPACT | JSON_REAL_PRECISION(10));
			json_decref(reasons);
			sqlite3_bind_int(ins, 1, year);
			sqlite3_bind_text(ins, 2, p[a].id, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, p[b].id, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, p[a].concern, -1, SQLITE_STATIC);
			sqlite3_bind_double(ins, 5, overlap);
			sqlite3_bind_int64(ins, 6, pr->common);
			sqlite3_bind_int64(ins, 7, p[a].size - pr->common);
			sqlite3_bind_int64(ins, 8, p[b].size - pr->common);
			sqlite3_bind_double(ins, 9, maxdiff);
			sqlite3_bind_text(ins, 10, verdict, -1, SQLITE_STATIC);
			if (declared)
				sqlite3_bind_text(ins, 11, declared, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(ins, 11);
			if (finding)
				sqlite3_bind_text(ins, 12, finding, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(ins, 12);
			sqlite3_bind_text(ins, 13, rj ? rj : "{}", -1, SQLITE_TRANSIENT);
			free(rj);
			int s = sqlite3_step(ins);
			sqlite3_reset(ins);
			if (s != SQLITE_DONE) {
				sqlite3_finalize(decl);
				goto dberr;
			}
		}
	}
	sqlite3_finalize(decl);
	rc = 0;
	goto out;
dberr:
	snprintf(err, errlen, "similar: %s", sqlite3_errmsg(db));
out:
	if (rc && !err[0])
		snprintf(err, errlen, "similar: out of memory for %zu policies in %d", np, year);
	for (size_t i = 0; i < np; i++) {
		free(p[i].id);
		free(p[i].concern);
		json_decref(p[i].rules);
	}
	free(p);
	free(pairs);
	return rc;
}

/* Tokens are unique in the process, so a mirror made again never matches an old one's. */
static _Atomic long long token_next = 1;

/* The token the last computation on this connection wrote, when its transaction committed
 * (the TEMP table goes with the connection and is rolled back with the transaction); -1
 * when there is none. */
static long long token_read(sqlite3 *db)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_exec(db, "CREATE TEMP TABLE IF NOT EXISTS zs_similar_token(v INTEGER)", NULL,
	                 NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT v FROM temp.zs_similar_token", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int token_write(sqlite3 *db, long long v)
{
	char sql[192];
	snprintf(sql, sizeof sql, "CREATE TEMP TABLE IF NOT EXISTS zs_similar_token(v INTEGER);"
	         " DELETE FROM temp.zs_similar_token;"
	         " INSERT INTO temp.zs_similar_token VALUES(%lld)", v);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* The providers marked changed by generations in (from, to], sorted, in *out (caller frees);
 * *all = 1 when that is not known (everything marked, or marks pruned since from). */
static int dirty_agbs(sqlite3 *db, long long from, long long to, char (**out)[12], size_t *n,
                      int *all)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	*all = zs_db_meta(db, "dirty_pruned_below") > from;
	if (*all)
		return 0;
	/* the unary + keeps the key terms off the index dirty_key: with them on it, SQLite
	 * scanned every provider key of every generation kept (0.5 s for 900,000 rows after a
	 * first load at four times national), where the generations asked hold a few thousand */
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT key FROM dirty WHERE gen > ?1 AND gen <= ?2"
	                           " AND (+key = '*' OR (+key >= 'p:' AND +key < 'p;')) ORDER BY key",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (!k || strcmp(k, "*") == 0) {
			*all = 1;
			break;
		}
		if (zs_grow(out, &cap, *n, sizeof **out, 256)) {
			rc = -1;
			break;
		}
		snprintf((*out)[(*n)++], 12, "%s", k + 2);
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = -1;
	sqlite3_finalize(st);
	if (rc || *all) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* The mirror this computation may use and keep, made anew when it cannot be trusted
 * (see the mirror's comment); NULL when there is no memory for one. */
static mirror_t *mirror_for(sqlite3 *db, char (**dirty)[12], size_t *ndirty, long long *cur)
{
	mirror_t *m = mirror;
	*dirty = NULL;
	*ndirty = 0;
	*cur = zs_db_generation(db);
	int all = 1;
	if (m && m->db == db && token_read(db) == m->token && *cur >= 0) {
		/* committed without a new generation: its own marks are read again, harmlessly */
		long long from = m->gen < *cur ? m->gen : *cur;
		if (dirty_agbs(db, from, *cur + 1, dirty, ndirty, &all))
			all = 1;
	}
	if (all) {
		mirror_free(m);
		mirror = m = calloc(1, sizeof *m);
		if (m)
			m->db = db;
	}
	return m;
}

int zs_similar_compute(sqlite3 *db, char *err, size_t errlen)
{
	err[0] = 0;
	sqlite3_stmt *years, *ins;
	int rc = 0;
	char *msg = NULL;
	char (*dirty)[12] = NULL;
	size_t ndirty = 0;
	long long cur = -1;
	mirror_t *m = mirror_for(db, &dirty, &ndirty, &cur);
	if (sqlite3_exec(db, "DELETE FROM similar", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "similar: %s", msg ? msg : "delete failed");
		sqlite3_free(msg);
		free(dirty);
		zs_similar_thread_done();
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO similar(year, a, b, concern_id, overlap, common,"
	                           " only_a, only_b, max_pct_diff, verdict, declared, finding, reasons)"
	                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT DISTINCT year FROM policy ORDER BY year", -1, &years,
	                       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "similar: %s", sqlite3_errmsg(db));
		sqlite3_finalize(ins);
		free(dirty);
		zs_similar_thread_done();
		return -1;
	}
	if (m)
		m->round++;
	while (rc == 0 && sqlite3_step(years) == SQLITE_ROW)
		rc = compute_year(db, sqlite3_column_int(years, 0), ins, m, dirty, ndirty, err, errlen);
	sqlite3_finalize(years);
	sqlite3_finalize(ins);
	free(dirty);
	if (rc || !m || token_write(db, m->token = token_next++)) {
		zs_similar_thread_done(); /* the transaction is rolled back, or not followed */
		return rc;
	}
	/* a year that was not computed is not kept up to date: forgotten */
	for (size_t i = 0; i < m->nyears; i++)
		if (m->years[i].round != m->round) {
			myear_clear(&m->years[i]);
			m->years[i].year = -1;
		}
	m->gen = cur + 1;
	return 0;
}

int zs_similar_warm(sqlite3 *db, const _Atomic int *stop, char *err, size_t errlen)
{
	err[0] = 0;
	mirror_t *m = mirror;
	if (m && m->db == db && token_read(db) == m->token)
		return 0; /* kept: the next computation brings it up to date */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "similar: %s", sqlite3_errmsg(db));
		return -1;
	}
	char (*dirty)[12] = NULL;
	size_t ndirty = 0;
	long long cur = -1;
	m = mirror_for(db, &dirty, &ndirty, &cur); /* a new one: the token did not match */
	free(dirty);
	sqlite3_stmt *years = NULL;
	int rc = 0;
	if (!m) {
		snprintf(err, errlen, "similar: out of memory for the contracted sets");
		rc = -1;
	} else if (sqlite3_prepare_v2(db, "SELECT DISTINCT year FROM policy ORDER BY year", -1,
	                              &years, NULL) != SQLITE_OK) {
		rc = -1;
	} else {
		m->round++;
		while (rc == 0 && !(stop && atomic_load(stop)) && sqlite3_step(years) == SQLITE_ROW)
			rc = compute_year(db, sqlite3_column_int(years, 0), NULL, m, NULL, 0, err, errlen);
	}
	sqlite3_finalize(years);
	int stopped = stop && atomic_load(stop);
	if (rc == 0 && !stopped) {
		if (token_write(db, m->token = token_next++) == 0 &&
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
			/* the marks of the next apply have generations above cur (and any committed
			 * since without a new generation are read again, harmlessly) */
			m->gen = cur;
			return 1;
		}
		rc = -1;
	}
	if (rc && !err[0])
		snprintf(err, errlen, "similar: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	zs_similar_thread_done(); /* nothing kept that the token does not vouch for (or stopping) */
	return rc;
}
