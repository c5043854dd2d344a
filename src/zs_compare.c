/* zs_compare.c - GET /v1/compare: which policies cover the providers someone cares about.
 *
 * A provider counts as covered by a policy when at least one of its care types that year (or
 * only the care_type asked) is covered for that policy - contracted, contracted with a ceiling,
 * or negotiating with the insurer's declaration that care is reimbursed as contracted - and
 * none is explicitly not covered (not contracted, ended, negotiating without declaration).
 * Care types nobody states for that policy (unknown) neither cover nor block.
 * Ranking: most providers covered first; then fewer conflicts among the covered ones; then, so
 * that no policy is favoured, concern name, insurer name, policy name and id (alphabetical).
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_catalogue.h"
#include "zs_db.h"
#include "zs_feed.h"
#include "zs_time.h"

#define MAX_AGB 50

typedef struct {
	const pol_entry *p;
	int covered, conflicts;
	size_t order; /* position in the reader's display order (concern, insurer, name) */
	json_t *providers;
} pol_rank;

static int rank_cmp(const void *a, const void *b)
{
	const pol_rank *x = a, *y = b;
	if (x->covered != y->covered)
		return x->covered > y->covered ? -1 : 1;
	if (x->conflicts != y->conflicts)
		return x->conflicts < y->conflicts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int is_covering(const eff_view *v)
{
	return v && (v->status == ZS_STATUS_CONTRACTED || v->status == ZS_STATUS_CONTRACTED_CEILING ||
	             (v->status == ZS_STATUS_NEGOTIATING && v->as_contracted));
}

json_t *zs_api_compare(zs_reader *r, const zs_request *req, int *status)
{
	const char *list = zs_param(req, "agb"), *ptype = zs_param(req, "policy_type");
	const char *care = zs_param(req, "care_type");
	char agbs[MAX_AGB][9];
	size_t nagb = 0;
	int year = 0;
	long long amount;
	json_t *err = NULL;

	if (!list || !*list)
		return zs_api_error(status, 400, "missing_parameter", "agb",
		                    "agb: one or more AGB codes separated by commas (at most %d)", MAX_AGB);
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[16];
		if (len == 0 || len >= sizeof one)
			return zs_api_error(status, 400, "bad_parameter", "agb",
			                    "agb: \"%.*s\" is not an 8-digit AGB code", (int)(len > 20 ? 20 : len), p);
		memcpy(one, p, len);
		one[len] = 0;
		if (!zs_valid_agb(one))
			return zs_api_error(status, 400, "bad_parameter", "agb",
			                    "agb: \"%s\" is not an 8-digit AGB code", one);
		int dup = 0;
		for (size_t i = 0; i < nagb && !dup; i++)
			dup = strcmp(agbs[i], one) == 0;
		if (!dup) {
			if (nagb == MAX_AGB)
				return zs_api_error(status, 400, "bad_parameter", "agb",
				                    "agb: at most %d providers per request", MAX_AGB);
			memcpy(agbs[nagb++], one, 9);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (ptype && zs_ptype_from_code(ptype) < 0)
		return zs_api_error(status, 400, "bad_parameter", "policy_type",
		                    "policy_type: natura, restitutie, combinatie or budget");
	if ((err = zs_request_year(req, &year, status)) ||
	    zs_check_common(req, &amount, &err, status))
		return err;

	zs_reader_refresh(r);
	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	zs_rowset *sets = calloc(nagb, sizeof *sets);
	json_t *provs = json_array(), *unknown = json_array();
	int *known = calloc(nagb, sizeof *known);
	for (size_t i = 0; sets && known && i < nagb; i++) {
		int found;
		json_t *pj = zs_provider_json(r, agbs[i], &found);
		zs_rowset_load(r, agbs[i], year, care, &sets[i]);
		known[i] = found || sets[i].nrows > 0;
		if (known[i])
			json_array_append_new(provs, pj);
		else {
			json_decref(pj);
			json_array_append_new(unknown, json_string(agbs[i]));
		}
	}
	size_t nr = 0;
	pol_rank *ranks = calloc(r->npols ? r->npols : 1, sizeof *ranks);
	for (size_t k = 0; ranks && sets && known && k < r->npols; k++) {
		const pol_entry *p = &r->pols[k];
		if (p->year != year || (ptype && strcmp(zs_ptype_code(p->type), ptype) != 0))
			continue;
		pol_rank *pr = &ranks[nr++];
		pr->p = p;
		pr->order = k;
		pr->providers = json_array();
		for (size_t i = 0; i < nagb; i++) {
			if (!known[i])
				continue;
			int any = 0, blocked = 0, conflict = 0;
			json_t *sts = json_array();
			for (size_t c = 0; c < sets[i].nct; c++) {
				const eff_view *v = zs_rowset_find(&sets[i], p->id, sets[i].care_types[c]);
				if (is_covering(v))
					any = 1;
				else if (v && v->status != ZS_STATUS_UNKNOWN)
					blocked = 1;
				conflict |= v && v->basis == ZS_BASIS_CONFLICT;
				json_array_append_new(sts, zs_status_json(r, req, p, sets[i].care_types[c], v,
				                                          amount));
			}
			int cov = any && !blocked;
			pr->covered += cov;
			pr->conflicts += cov && conflict;
			json_array_append_new(pr->providers, json_pack("{s:s, s:b, s:o}", "agb", agbs[i],
			                                               "covered", cov, "statuses", sts));
		}
	}
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (nr > 1)
		qsort(ranks, nr, sizeof *ranks, rank_cmp);
	json_t *pols = json_array();
	size_t nknown = json_array_size(provs);
	for (size_t k = 0; k < nr; k++)
		json_array_append_new(pols, json_pack("{s:i, s:O, s:i, s:i, s:b, s:o}",
		        "rank", (int)k + 1, "policy", ranks[k].p->summary,
		        "covered", ranks[k].covered, "of", (int)nknown,
		        "covers_all", nknown > 0 && (size_t)ranks[k].covered == nknown,
		        "providers", ranks[k].providers));
	for (size_t i = 0; sets && i < nagb; i++)
		zs_rowset_free(&sets[i]);
	free(sets);
	free(known);
	free(ranks);
	*status = 200;
	return json_pack("{s:i, s:s?, s:o, s:o, s:o, s:s}", "year", year, "care_type", care,
	                 "providers", provs, "unknown_agb", unknown, "policies", pols, "lang",
	                 req->lang);
}
