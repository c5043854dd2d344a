/* zs_compare.c - GET /v1/compare: which policies cover the providers someone cares about.
 *
 * A provider counts as covered by a policy when at least one of its care types that year (or
 * only the care_type asked) is covered for that policy - contracted, contracted with a ceiling,
 * or negotiating with the insurer's declaration that care is reimbursed as contracted - and
 * none is explicitly not covered (not contracted, ended, negotiating without declaration).
 * Care types nobody states for that policy (unknown) neither cover nor block.
 * Ranking (002 §5.2.1: information must not steer): the rank is 1 + the number of policies
 * that cover more of the providers asked, so policies that cover equally share a rank (1, 1, 3).
 * Within a rank the order is neutral and favours no insurer: by a hash (FNV-1a) of the question
 * (year, the AGB codes asked in sorted order, care type) and the policy id, then the id. The
 * same question always gets the same order; across questions no insurer, concern or name is
 * systematically first (alphabetical order would always put the same insurer on top).
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_compact.h"
#include "zs_catalogue.h"
#include "zs_db.h"
#include "zs_feed.h"
#include "zs_time.h"

#define MAX_AGB 50

typedef struct {
	const pol_entry *p;
	int covered, conflicts;
	uint64_t tie;  /* neutral order within a rank (see above) */
	json_t *providers;
} pol_rank;

static int rank_cmp(const void *a, const void *b)
{
	const pol_rank *x = a, *y = b;
	if (x->covered != y->covered)
		return x->covered > y->covered ? -1 : 1;
	if (x->tie != y->tie)
		return x->tie < y->tie ? -1 : 1;
	return strcmp(x->p->id, y->p->id);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= 0xff; /* separator */
	return h * 1099511628211ULL;
}

static int agb_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int is_covering(const eff_view *v)
{
	return v && (v->status == ZS_STATUS_CONTRACTED || v->status == ZS_STATUS_CONTRACTED_CEILING ||
	             (v->status == ZS_STATUS_NEGOTIATING && v->as_contracted));
}

static void summaries_write(void *ctx, zs_jbuf *b)
{
	zs_write_ctx *s = ctx;
	zs_jb_char(b, '[');
	for (size_t c = 0; c < s->rs->nct; c++) {
		if (c)
			zs_jb_char(b, ',');
		zs_status_summary_write(s->r, s->req, s->p, s->rs->care_types[c],
		                        zs_rowset_find(s->rs, s->p->id, s->rs->care_types[c]),
		                        s->amount, b);
	}
	zs_jb_char(b, ']');
}

/* One provider's summaries under policy p, written as text into the placeholder sts. */
static int summaries_direct(zs_reader *r, const zs_request *req, const pol_entry *p,
                            const zs_rowset *rs, long long amount, json_t *sts)
{
	zs_write_ctx s = { r, req, p->year, p, rs, amount };
	return zs_direct_freeze(r, sts, summaries_write, &s);
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

	/* the default shape, per status only its codes: built as such (zs_compact.h) */
	int summary = zs_compact_compare_summary(req);
	zs_reader_refresh(r);
	zs_api_dep_int(r, "y", year);
	if ((err = zs_no_data(r, req, year, status)))
		return err; /* a past year without data says so */
	for (size_t i = 0; i < nagb; i++)
		zs_api_dep(r, "p", agbs[i]);
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
	/* the question's seed for the neutral order: year, sorted AGB codes, care type */
	char sorted[MAX_AGB][9], ybuf[16];
	memcpy(sorted, agbs, nagb * sizeof agbs[0]);
	if (nagb > 1)
		qsort(sorted, nagb, sizeof sorted[0], agb_cmp);
	snprintf(ybuf, sizeof ybuf, "%d", year);
	uint64_t seed = fnv(1469598103934665603ULL, ybuf);
	for (size_t i = 0; i < nagb; i++)
		seed = fnv(seed, sorted[i]);
	seed = fnv(seed, care ? care : "");
	size_t nr = 0;
	pol_rank *ranks = calloc(r->npols ? r->npols : 1, sizeof *ranks);
	for (size_t k = 0; ranks && sets && known && k < r->npols; k++) {
		const pol_entry *p = &r->pols[k];
		if (p->year != year || (ptype && strcmp(zs_ptype_code(p->type), ptype) != 0))
			continue;
		pol_rank *pr = &ranks[nr++];
		pr->p = p;
		pr->tie = fnv(seed, p->id);
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
			}
			/* the summaries written as text when the answer is only dumped (zs_api.h) */
			if (!(summary && r->direct && summaries_direct(r, req, p, &sets[i], amount, sts) == 0))
				for (size_t c = 0; c < sets[i].nct; c++) {
					const eff_view *v = zs_rowset_find(&sets[i], p->id,
					                                   sets[i].care_types[c]);
					json_array_append_new(sts, summary
					        ? zs_status_summary(r, req, p, sets[i].care_types[c], v, amount)
					        : zs_status_json(r, req, p, sets[i].care_types[c], v, amount));
				}
			int cov = any && !blocked;
			pr->covered += cov;
			pr->conflicts += cov && conflict;
			json_array_append_new(pr->providers, json_pack("{s:s, s:b, s:o}", "agb", agbs[i],
			                                               "covered", cov, "statuses", sts));
		}
	}
	if (nr > 1)
		qsort(ranks, nr, sizeof *ranks, rank_cmp);
	json_t *pols = json_array();
	size_t nknown = json_array_size(provs);
	int rank = 1;
	for (size_t k = 0; k < nr; k++) {
		if (k && ranks[k].covered != ranks[k - 1].covered)
			rank = (int)k + 1; /* equal coverage, equal rank: 1, 1, 3 */
		json_array_append_new(pols, json_pack("{s:i, s:O, s:i, s:i, s:b, s:i, s:o}",
		        "rank", rank, "policy", ranks[k].p->summary,
		        "covered", ranks[k].covered, "of", (int)nknown,
		        "covers_all", nknown > 0 && (size_t)ranks[k].covered == nknown,
		        "conflicts", ranks[k].conflicts, "providers", ranks[k].providers));
	}
	for (size_t i = 0; sets && i < nagb; i++)
		zs_rowset_free(&sets[i]);
	free(sets);
	free(known);
	free(ranks);
	*status = 200;
	json_t *o = json_pack("{s:i, s:s?, s:o, s:o, s:o, s:s}", "year", year, "care_type", care,
	                      "providers", provs, "unknown_agb", unknown, "policies", pols, "lang",
	                      req->lang);
	if (summary)
		json_object_set_new(o, "detail", json_string("summary"));
	return o;
}
