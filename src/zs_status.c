/* zs_status.c - status objects: a provider's effective rows, their sources, flags and
 * consequence, per policy and year (docs/api.md "Status object"). */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "zs_api.h"
#include "zs_api_priv.h"
#include "zs_catalogue.h"
#include "zs_compact.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_jsonw.h"
#include "zs_deps.h"
#include "zs_embedded.h"
#include "zs_similar.h"
#include "zs_feed.h"
#include "zs_fresh.h"
#include "zs_time.h"
#include "zs_types.h"
#include "zs_worker.h"
#include "zs_util.h"

/* ---- status objects ----------------------------------------------------------------------- */

static const char *level_code(long long level)
{
	return level == ZS_SCOPE_POLICY ? "policy" : level == ZS_SCOPE_INSURER ? "insurer"
	     : level == ZS_SCOPE_CONCERN ? "concern" : NULL;
}

/* The policy's non-contracted rule for a care type ("*" as fallback). */
static void policy_rule(const pol_entry *p, const char *care_type, double *pct, const char **basis)
{
	size_t i;
	json_t *rule;
	*pct = -1;
	*basis = NULL;
	json_array_foreach(p->reimbursement, i, rule) {
		const char *ct = json_string_value(json_object_get(rule, "care_type"));
		if (!ct)
			continue;
		if (strcmp(ct, care_type) == 0 || (strcmp(ct, "*") == 0 && *pct < 0)) {
			*pct = json_number_value(json_object_get(rule, "percent"));
			*basis = json_string_value(json_object_get(rule, "basis"));
			if (strcmp(ct, care_type) == 0)
				return;
		}
	}
}

static json_t *source_json(const zs_reader *r, const char *kind, long long feed_id,
                           long long status, long long level, long long said, time_t now)
{
	char b1[32], b2[16];
	const feed_entry *f = zs_reader_find_feed(r, feed_id);
	(void)now;
	zs_api_dep_int(r, "f", feed_id);
	/* name: what people know the source by (the feed section's display_name, else the feed
	 * header's publisher); "feed" is the configuration key, an identifier for machines, never
	 * put in a text. */
	const char *name = f ? f->publisher : NULL;
	for (size_t i = 0; f && r->cfg && i < r->cfg->nfeeds; i++)
		if (r->cfg->feeds[i].display_name && strcmp(r->cfg->feeds[i].name, f->name) == 0)
			name = r->cfg->feeds[i].display_name;
	/* checked_on: the day (Europe/Amsterdam) the source was last checked successfully; the
	 * exact moment is on /v1/feeds. */
	return json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s, s:s?, s:b}", "kind", kind, "name", name,
	                 "feed", f ? f->name : NULL, "status", zs_status_code((zs_status)status), "level",
	                 level_code(level), "said_at", zs_fmt_utc((time_t)said, b1, sizeof b1),
	                 "checked_on",
	                 f && f->last_success >= 0 ? zs_fresh_day((time_t)f->last_success, b2, sizeof b2)
	                                           : NULL,
	                 "stale", zs_reader_feed_stale(f));
}


static void eff_from_row(sqlite3_stmt *st, eff_view *v)
{
	v->care_type = (const char *)sqlite3_column_text(st, 1);
	v->status = sqlite3_column_int(st, 2);
	v->as_contracted = sqlite3_column_int(st, 3);
	v->ceiling = sqlite3_column_int(st, 4);
	v->ceiling_exempt = (const char *)sqlite3_column_text(st, 5);
	v->stop = (const char *)sqlite3_column_text(st, 6);
	v->basis = sqlite3_column_int(st, 7);
	v->ins_feed = zs_col_ll(st, 8);
	v->ins_status = zs_col_ll(st, 9);
	v->ins_level = zs_col_ll(st, 10);
	v->ins_said = zs_col_ll(st, 11);
	v->prov_feed = zs_col_ll(st, 12);
	v->prov_status = zs_col_ll(st, 13);
	v->prov_level = zs_col_ll(st, 14);
	v->prov_said = zs_col_ll(st, 15);
	v->since = zs_col_ll(st, 16);
	v->began = (const char *)sqlite3_column_text(st, 17);
}

/* A patient stop on today's Europe/Amsterdam calendar: 1 in force, 2 announced (starts after
 * today), 0 over (or unreadable). */
static int stop_state(json_t *stop, time_t now)
{
	char today[16];
	const char *from = json_string_value(json_object_get(stop, "from"));
	const char *until = json_string_value(json_object_get(stop, "until"));
	zs_fresh_day(now, today, sizeof today);
	if (!from)
		return 0;
	if (strcmp(today, from) < 0)
		return 2;
	return !until || strcmp(today, until) <= 0 ? 1 : 0;
}

/* The situation the caller asks about (?situation=acute|planned); NULL when not said. */
static const char *req_situation(const zs_request *req)
{
	return zs_param(req, "situation");
}

json_t *zs_status_json(zs_reader *r, const zs_request *req, const pol_entry *p,
                           const char *care_type, const eff_view *v, long long amount)
{
	char buf[32];
	int stale = 0;
	json_t *sources = json_array();
	json_t *stop = v && v->stop ? json_loads(v->stop, 0, NULL) : NULL;
	json_t *exempt = v && v->ceiling_exempt ? json_loads(v->ceiling_exempt, 0, NULL) : NULL;
	int ceiling_exempt = 0;
	size_t i;
	json_t *x;

	if (v && v->ins_feed >= 0) {
		json_t *s = source_json(r, "insurer", v->ins_feed, v->ins_status, v->ins_level,
		                        v->ins_said, req->now);
		stale |= json_is_true(json_object_get(s, "stale"));
		json_array_append_new(sources, s);
	}
	if (v && v->prov_feed >= 0) {
		json_t *s = source_json(r, "provider", v->prov_feed, v->prov_status, v->prov_level,
		                        v->prov_said, req->now);
		stale |= json_is_true(json_object_get(s, "stale"));
		/* staff: the provider spoke and neither confirms nor contradicts this policy's answer
		 * (basis insurer): its statement is consistent at the concern level (domain.md) */
		if (req->staff && v->basis == ZS_BASIS_INSURER)
			json_object_set_new(s, "agreement", json_string("consistent_at_concern_level"));
		else if (req->staff && (v->basis == ZS_BASIS_CONFIRMED || v->basis == ZS_BASIS_CONFLICT))
			json_object_set_new(s, "agreement", json_string(
			        v->basis == ZS_BASIS_CONFIRMED ? "confirms" : "contradicts"));
		json_array_append_new(sources, s);
	}
	if (!exempt)
		exempt = json_array();
	int in_treatment = zs_param(req, "in_treatment") &&
	                   strcmp(zs_param(req, "in_treatment"), "true") == 0;
	const char *situation = req_situation(req);
	int acute = strcmp(care_type, "acute") == 0 || (situation && strcmp(situation, "acute") == 0);
	int if_acute = 0, if_treatment = 0;
	/* Exempt from the ceiling (an exemption names a care type or a situation): the care type
	 * itself; "acute" for acute care and for any care in an acute situation; "acute_maternity"
	 * for maternity care in an acute situation; "treatment_in_progress" for a patient already
	 * in treatment. A situation the caller did not state keeps the warning, which then says
	 * the exemption (if_acute, if_treatment). */
	json_array_foreach(exempt, i, x) {
		const char *ex = json_string_value(x);
		if (!ex)
			continue;
		int sit_acute = strcmp(ex, "acute") == 0 ||
		                (strcmp(ex, "acute_maternity") == 0 && strcmp(care_type, "maternity") == 0);
		if (strcmp(ex, care_type) == 0 || (sit_acute && acute) ||
		    (in_treatment && strcmp(ex, "treatment_in_progress") == 0))
			ceiling_exempt = 1;
		else if (sit_acute && !situation)
			if_acute = 1;
		else if (strcmp(ex, "treatment_in_progress") == 0 && !zs_param(req, "in_treatment"))
			if_treatment = 1;
	}
	int sstate = stop ? stop_state(stop, req->now) : 0;
	const char *stop_reason = stop ? json_string_value(json_object_get(stop, "reason")) : NULL;
	int stop_for_ceiling = stop_reason && strcmp(stop_reason, "ceiling_reached") == 0;
	if (stop) {
		json_object_set_new(stop, "active", json_boolean(sstate == 1));
		json_object_set_new(stop, "announced", json_boolean(sstate == 2));
		/* a stop concerns new patients, and one caused by the ceiling not exempt care */
		json_object_set_new(stop, "applies", json_boolean(sstate && !in_treatment &&
		                                                  !(stop_for_ceiling && ceiling_exempt)));
	}

	zs_status st = v ? (zs_status)v->status : ZS_STATUS_UNKNOWN;
	int basis = v ? v->basis : ZS_BASIS_NONE;
	double pct;
	const char *bas;
	policy_rule(p, care_type, &pct, &bas);
	const feed_entry *sf = v ? zs_reader_find_feed(r, v->ins_feed >= 0 ? v->ins_feed : v->prov_feed) : NULL;
	char since_buf[32];
	zs_conseq_in in = {
		.policy_type = p->type,
		.care_type = care_type,
		.status = st,
		.as_contracted = v ? v->as_contracted : 0,
		.ceiling = v ? v->ceiling : 0,
		.ceiling_exempt = ceiling_exempt,
		.patient_stop = sstate == 1,
		.stop_announced = sstate == 2,
		.stop_from = stop ? json_string_value(json_object_get(stop, "from")) : NULL,
		.stop_for_ceiling = stop_for_ceiling,
		.exempt_if_acute = if_acute && !ceiling_exempt,
		.exempt_if_in_treatment = if_treatment && !ceiling_exempt,
		.insurer_says = v && v->ins_feed >= 0 ? (zs_status)v->ins_status : ZS_STATUS_UNKNOWN,
		.provider_says = v && v->prov_feed >= 0 ? (zs_status)v->prov_status : ZS_STATUS_UNKNOWN,
		.stop_until = stop ? json_string_value(json_object_get(stop, "until")) : NULL,
		.conflict = basis == ZS_BASIS_CONFLICT,
		.provider_only = basis == ZS_BASIS_PROVIDER_ONLY,
		.stale = stale,
		.stale_since = sf && sf->last_success >= 0
		             ? zs_fmt_utc((time_t)sf->last_success, since_buf, sizeof since_buf) : NULL,
		.treatment_in_progress = in_treatment,
		.nc_percent = pct,
		.nc_basis = bas,
		.amount_cents = amount,
	};
	json_t *cons = zs_reader_cons_get(r, &in, req->lang);
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:{s:b, s:o, s:o, s:b, s:b, s:b}, s:o, s:o}",
	                      "care_type", care_type, "status", zs_status_code(st), "as_contracted",
	                      v && v->as_contracted, "basis", zs_basis_code(basis), "flags",
	                      "ceiling", v && v->ceiling && !ceiling_exempt, "ceiling_exempt", exempt,
	                      "patient_stop", stop ? stop : json_null(), "conflict",
	                      basis == ZS_BASIS_CONFLICT, "provider_only",
	                      basis == ZS_BASIS_PROVIDER_ONLY, "stale", stale, "sources", sources,
	                      "consequence", cons ? cons : json_null());
	/* since: when the status began according to its sources (the deciding statement's own
	 * date, else the day it was said), never this daemon's load time; the moment this daemon
	 * first showed it is shown_since, for staff (history keeps "what was shown when"). */
	if (v) {
		char day[16];
		const char *began = v->began;
		long long said = v->ins_feed >= 0 ? v->ins_said : v->prov_said;
		if (!began && said >= 0)
			began = zs_fresh_day((time_t)said, day, sizeof day);
		if (began)
			json_object_set_new(o, "since", json_string(began));
	}
	if (v && v->since >= 0 && req->staff)
		json_object_set_new(o, "shown_since",
		                    json_string(zs_fmt_utc((time_t)v->since, buf, sizeof buf)));
	if (situation)
		json_object_set_new(o, "situation", json_string(situation));
	return o;
}

json_t *zs_provider_json(zs_reader *r, const char *agb, int *found)
{
	sqlite3_stmt *st = r->sel_provider;
	json_t *o = NULL;
	*found = 0;
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *locs = (const char *)sqlite3_column_text(st, 3);
		json_t *l = locs ? json_loads(locs, 0, NULL) : NULL;
		o = json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "agb", agb, "name",
		              (const char *)sqlite3_column_text(st, 0), "kind",
		              (const char *)sqlite3_column_text(st, 1), "parent",
		              (const char *)sqlite3_column_text(st, 2), "locations",
		              l ? l : json_array());
		*found = 1;
	} else {
		o = json_pack("{s:s, s:n, s:n, s:n, s:[]}", "agb", agb, "name", "kind", "parent",
		              "locations");
	}
	sqlite3_reset(st);
	return o;
}

void zs_rowset_free(zs_rowset *rs)
{
	for (size_t k = 0; k < rs->nrows; k++) {
		free(rs->rows[k].policy_id);
		free(rs->rows[k].strs[0]);
		free(rs->rows[k].strs[1]);
		free(rs->rows[k].strs[2]);
		free(rs->rows[k].strs[3]);
	}
	free(rs->rows);
	for (size_t c = 0; c < rs->nct; c++)
		free(rs->care_types[c]);
	memset(rs, 0, sizeof *rs);
}

int zs_rowset_load(zs_reader *r, const char *agb, int year, const char *only_care, zs_rowset *rs)
{
	sqlite3_stmt *st = r->sel_eff;
	size_t cap = 0;
	memset(rs, 0, sizeof *rs);
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, year);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ct = (const char *)sqlite3_column_text(st, 1);
		if (!ct || (only_care && strcmp(ct, only_care) != 0))
			continue;
		if (zs_grow(&rs->rows, &cap, rs->nrows, sizeof *rs->rows, 32))
			break;
		zs_effrow *e = &rs->rows[rs->nrows++];
		eff_from_row(st, &e->v);
		e->policy_id = zs_col_dup(st, 0);
		e->strs[0] = strdup(ct);
		e->strs[1] = e->v.ceiling_exempt ? strdup(e->v.ceiling_exempt) : NULL;
		e->strs[2] = e->v.stop ? strdup(e->v.stop) : NULL;
		e->strs[3] = e->v.began ? strdup(e->v.began) : NULL;
		e->v.care_type = e->strs[0];
		e->v.ceiling_exempt = e->strs[1];
		e->v.stop = e->strs[2];
		e->v.began = e->strs[3];
		/* The care types any source mentions for this provider in this year. */
		int seen = 0;
		for (size_t c = 0; c < rs->nct && !seen; c++)
			seen = strcmp(rs->care_types[c], ct) == 0;
		if (!seen && rs->nct < ZS_MAX_CARE_TYPES)
			rs->care_types[rs->nct++] = strdup(ct);
	}
	sqlite3_reset(st);
	/* care types in catalogue order would need the catalogue; alphabetical is stable */
	for (size_t i = 1; i < rs->nct; i++)
		for (size_t j = i; j > 0 && strcmp(rs->care_types[j - 1], rs->care_types[j]) > 0; j--) {
			char *t = rs->care_types[j];
			rs->care_types[j] = rs->care_types[j - 1];
			rs->care_types[j - 1] = t;
		}
	if (only_care && rs->nct == 0)
		rs->care_types[rs->nct++] = strdup(only_care);
	return 0;
}

const eff_view *zs_rowset_find(const zs_rowset *rs, const char *policy_id, const char *care_type)
{
	for (size_t k = 0; k < rs->nrows; k++)
		if (strcmp(rs->rows[k].policy_id, policy_id) == 0 &&
		    strcmp(rs->rows[k].v.care_type, care_type) == 0)
			return &rs->rows[k].v;
	return NULL;
}

/* Statuses of one provider for one year: per policy, one status per care type mentioned. */
json_t *zs_year_json(zs_reader *r, const zs_request *req, const char *agb, int year,
                         const char *only_policy, const char *only_care, long long amount,
                         int *any)
{
	zs_rowset rs;
	json_t *policies = json_array();
	zs_rowset_load(r, agb, year, only_care, &rs);
	*any = rs.nrows > 0;
	for (size_t i = 0; i < r->npols; i++) {
		const pol_entry *p = &r->pols[i];
		if (p->year != year || (only_policy && strcmp(p->id, only_policy) != 0))
			continue;
		json_t *statuses = json_array();
		for (size_t c = 0; c < rs.nct; c++)
			json_array_append_new(statuses,
			                      zs_status_json(r, req, p, rs.care_types[c],
			                                     zs_rowset_find(&rs, p->id, rs.care_types[c]),
			                                     amount));
		json_array_append_new(policies, json_pack("{s:O, s:o}", "policy", p->summary,
		                                          "statuses", statuses));
	}
	zs_rowset_free(&rs);
	return policies;
}
