/* zs_similar.c - computed and declared similarity of policies (see zs_similar.h). */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "zs_catalogue.h"
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

static int compute_year(sqlite3 *db, int year, sqlite3_stmt *ins, char *err, size_t errlen)
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
	while (sqlite3_step(st) == SQLITE_ROW) {
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
	if (np < 2) {
		rc = 0;
		goto out;
	}
	pairs = calloc(np * np, sizeof *pairs);
	if (!pairs)
		goto out;

	/* Policies of the same concern, as index lists. */
	size_t *conc = calloc(np, sizeof *conc), *cstart = calloc(np + 1, sizeof *cstart);
	size_t *corder = calloc(np, sizeof *corder);
	if (!conc || !cstart || !corder) {
		free(conc);
		free(cstart);
		free(corder);
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

	/* One pass over the contracted rows in key order (agb, year, policy, care type); per
	 * provider, the rows are grouped by care type in memory. */
	if (sqlite3_prepare_v2(db, "SELECT agb, care_type, policy_id FROM effective WHERE year=?"
	                           " AND status IN (?, ?) ORDER BY agb", -1, &st, NULL) != SQLITE_OK) {
		free(conc);
		free(cstart);
		free(corder);
		goto dberr;
	}
	sqlite3_bind_int(st, 1, year);
	sqlite3_bind_int(st, 2, ZS_STATUS_CONTRACTED);
	sqlite3_bind_int(st, 3, ZS_STATUS_CONTRACTED_CEILING);
	char cur_agb[16] = "";
	size_t rcap = 64, nrow = 0;
	struct { int ci; size_t pi; } *rows = malloc(rcap * sizeof *rows);
	char *in = calloc(np, 1);
	int have = sqlite3_step(st) == SQLITE_ROW;
	while (rows && in) {
		const char *agb = have ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (!have || strcmp(agb, cur_agb) != 0) {
			/* close this provider: one group per care type */
			for (int ci = 0; ci < 16 && cur_agb[0]; ci++) {
				int any = 0;
				for (size_t k = 0; k < nrow; k++)
					if (rows[k].ci == ci) {
						in[rows[k].pi] = 1;
						any = 1;
					}
				if (!any)
					continue;
				for (size_t k = 0; k < nrow; k++) {
					if (rows[k].ci != ci)
						continue;
					size_t x = rows[k].pi, c = conc[x];
					p[x].size++;
					p[x].size_ct[ci]++;
					for (size_t m = cstart[c]; m < cstart[c + 1]; m++) {
						size_t y = corder[m];
						if (y == x || (in[y] && y < x))
							continue; /* a common pair is counted once, from its lower side */
						size_t lo = x < y ? x : y, hi = x < y ? y : x;
						pair *pr = &pairs[lo * np + hi];
						if (in[y]) {
							pr->common++;
							pr->common_ct[ci]++;
						} else if (x == lo) {
							pr->only_a_ct[ci]++;
							if (pr->nex_a < MAX_EXAMPLES &&
							    (pr->nex_a == 0 || strcmp(pr->ex_a[pr->nex_a - 1], cur_agb)))
								snprintf(pr->ex_a[pr->nex_a++], 9, "%s", cur_agb);
						} else {
							pr->only_b_ct[ci]++;
							if (pr->nex_b < MAX_EXAMPLES &&
							    (pr->nex_b == 0 || strcmp(pr->ex_b[pr->nex_b - 1], cur_agb)))
								snprintf(pr->ex_b[pr->nex_b++], 9, "%s", cur_agb);
						}
					}
				}
				for (size_t k = 0; k < nrow; k++)
					in[rows[k].pi] = 0;
			}
			nrow = 0;
			if (!have)
				break;
			snprintf(cur_agb, sizeof cur_agb, "%s", agb);
		}
		const char *pid = (const char *)sqlite3_column_text(st, 2);
		int ci = care_index((const char *)sqlite3_column_text(st, 1));
		size_t pi = np, lo = 0, hi = np; /* p is ordered by id (BINARY = strcmp) */
		while (pid && lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(p[mid].id, pid);
			if (c == 0) {
				pi = mid;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (ci >= 0 && ci < 16 && pi < np) {
			if (zs_grow(&rows, &rcap, nrow, sizeof *rows, 64))
				break;
			rows[nrow].ci = ci;
			rows[nrow].pi = pi;
			nrow++;
		}
		have = sqlite3_step(st) == SQLITE_ROW;
	}
	free(rows);
	free(in);
	free(conc);
	free(cstart);
	free(corder);
	sqlite3_finalize(st);

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

int zs_similar_compute(sqlite3 *db, char *err, size_t errlen)
{
	err[0] = 0;
	sqlite3_stmt *years, *ins;
	int rc = 0;
	char *msg = NULL;
	if (sqlite3_exec(db, "DELETE FROM similar", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "similar: %s", msg ? msg : "delete failed");
		sqlite3_free(msg);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO similar(year, a, b, concern_id, overlap, common,"
	                           " only_a, only_b, max_pct_diff, verdict, declared, finding, reasons)"
	                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT DISTINCT year FROM policy ORDER BY year", -1, &years,
	                       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "similar: %s", sqlite3_errmsg(db));
		sqlite3_finalize(ins);
		return -1;
	}
	while (rc == 0 && sqlite3_step(years) == SQLITE_ROW)
		rc = compute_year(db, sqlite3_column_int(years, 0), ins, err, errlen);
	sqlite3_finalize(years);
	sqlite3_finalize(ins);
	return rc;
}
