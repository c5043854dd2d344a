/* zs_staff_api.c - the staff endpoints (docs/api.md "Staff"): who am I, a provider with the
 * statements behind every status (or what was shown at a moment), the feeds' health and the
 * audit log. Every answer needs an authenticated staff request (zs_request.staff); the audit
 * log needs role admin. Answers are built inside zs_api_call (one snapshot); zs_http.c never
 * caches them and sends them "Cache-Control: private, no-store" without CORS headers.
 * Every handler returns a new JSON reference (the caller decrefs). */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_catalogue.h"
#include "zs_db.h"
#include "zs_feed.h"
#include "zs_staff.h"
#include "zs_time.h"

#define MAX_STMTS 4096 /* statements of one provider in one year that are looked at */

static json_t *need_staff(const zs_request *req, int *status)
{
	if (!req->staff)
		return zs_api_error(status, 401, "unauthorized", NULL,
		                    "staff only: send Authorization: Bearer <token>");
	return NULL;
}

json_t *zs_staff_api_me(zs_reader *r, const zs_request *req, int *status)
{
	json_t *e = need_staff(req, status);
	(void)r;
	if (e)
		return e;
	*status = 200;
	return json_pack("{s:s, s:s}", "name", req->staff_name ? req->staff_name : "",
	                 "role", req->staff_admin ? "admin" : "staff");
}

/* ?at: a date (the end of that day) or an RFC 3339 moment; -1 absent, -2 bad. */
static time_t param_at(const zs_request *req, const char *name)
{
	const char *at = zs_param(req, name);
	if (!at)
		return -1;
	time_t t = zs_parse_rfc3339(at);
	if (t == (time_t)-1)
		return -2;
	if (strlen(at) == 10)
		t += 86399; /* what was shown at the end of that day (as /history) */
	return t;
}

/* ---- the statements behind a status ------------------------------------------------------ */

typedef struct {
	long long feed_id, line, said;
	int insurer, scope, status, as_contracted, ceiling;
	char *feed, *care_type, *scope_id, *since_date, *stop_reason, *stop_from, *stop_until;
} st_row;

typedef struct {
	st_row *v;
	size_t n;
} st_set;

static char *dupc(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static long long colll(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

static void st_free(st_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		st_row *x = &s->v[i];
		free(x->feed);
		free(x->care_type);
		free(x->scope_id);
		free(x->since_date);
		free(x->stop_reason);
		free(x->stop_from);
		free(x->stop_until);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Every statement about agb in year (any care type). 0, or -1 (database busy). */
static int st_load(zs_reader *r, const char *agb, int year, st_set *s)
{
	sqlite3_stmt *st;
	s->v = NULL;
	s->n = 0;
	if (sqlite3_prepare_v2(r->db,
	        "SELECT s.feed_id, f.name, f.kind, s.line, s.care_type, s.scope, s.scope_id, s.status,"
	        " s.as_contracted, s.ceiling, s.said_at, s.since_date, s.stop_reason, s.stop_from,"
	        " s.stop_until FROM stmt s JOIN feed f ON f.id = s.feed_id"
	        " WHERE s.agb = ?1 AND s.year = ?2 ORDER BY s.care_type, f.kind, s.scope, s.said_at DESC,"
	        " s.feed_id, s.line", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, year);
	size_t cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW && s->n < MAX_STMTS) {
		if (s->n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			st_row *nv = realloc(s->v, nc * sizeof *nv);
			if (!nv)
				break;
			s->v = nv;
			cap = nc;
		}
		st_row *x = &s->v[s->n++];
		memset(x, 0, sizeof *x);
		x->feed_id = sqlite3_column_int64(st, 0);
		x->feed = dupc(st, 1);
		const char *kind = (const char *)sqlite3_column_text(st, 2);
		x->insurer = kind && strcmp(kind, "insurer") == 0;
		x->line = colll(st, 3);
		x->scope = sqlite3_column_int(st, 5);
		x->scope_id = dupc(st, 6);
		x->status = sqlite3_column_int(st, 7);
		x->as_contracted = sqlite3_column_int(st, 8);
		x->ceiling = sqlite3_column_int(st, 9);
		x->said = colll(st, 10);
		x->since_date = dupc(st, 11);
		x->stop_reason = dupc(st, 12);
		x->stop_from = dupc(st, 13);
		x->stop_until = dupc(st, 14);
		x->care_type = dupc(st, 4);
	}
	sqlite3_finalize(st);
	return 0;
}

/* The scope id of x when it is about care type ct, else NULL. */
static const char *row_ct_match(const st_row *x, const char *care_type)
{
	return x->care_type && x->scope_id && strcmp(x->care_type, care_type) == 0 ? x->scope_id
	                                                                           : NULL;
}

static int covers(const st_row *x, const char *sid, const pol_entry *p)
{
	switch (x->scope) {
	case ZS_SCOPE_POLICY: return strcmp(sid, p->id) == 0;
	case ZS_SCOPE_INSURER: return p->uzovi && strcmp(sid, p->uzovi) == 0;
	case ZS_SCOPE_CONCERN: return p->concern_id && strcmp(sid, p->concern_id) == 0;
	default: return 0;
	}
}

/* zs_reconcile.c's order: the more specific scope, then the later said_at, then the lower
 * feed id. */
static int better(const st_row *a, const st_row *b)
{
	if (!b)
		return 1;
	if (a->scope != b->scope)
		return a->scope < b->scope;
	if (a->said != b->said)
		return a->said > b->said;
	return a->feed_id < b->feed_id;
}

static const char *level_name(int scope)
{
	return scope == ZS_SCOPE_POLICY ? "policy" : scope == ZS_SCOPE_INSURER ? "insurer"
	     : scope == ZS_SCOPE_CONCERN ? "concern" : "unknown";
}

static const char *feed_display(const zs_reader *r, const st_row *x)
{
	const char *name = NULL;
	for (size_t i = 0; i < r->nfeeds; i++)
		if (r->feeds[i].id == x->feed_id)
			name = r->feeds[i].publisher;
	for (size_t i = 0; r->cfg && x->feed && i < r->cfg->nfeeds; i++)
		if (r->cfg->feeds[i].display_name && strcmp(r->cfg->feeds[i].name, x->feed) == 0)
			name = r->cfg->feeds[i].display_name;
	return name;
}

/* Why x lost to the winner w of its own side. */
static const char *lost_rule(const st_row *x, const st_row *w)
{
	if (w->scope != x->scope)
		return "more_specific";
	if (w->said != x->said)
		return "later_statement";
	return "feed_order";
}

/* Every statement of every source behind the status of policy p / care type ct, each with its
 * level, own date, feed and line, and whether (and by which rule) it was overruled. */
static json_t *statements_json(const zs_reader *r, const st_set *s, const pol_entry *p,
                               const char *ct)
{
	const st_row *win[2] = { NULL, NULL }; /* [1] insurer, [0] provider */
	json_t *arr = json_array();
	for (size_t i = 0; i < s->n; i++) {
		const st_row *x = &s->v[i];
		const char *sid = row_ct_match(x, ct);
		if (!sid || !covers(x, sid, p) || x->status == ZS_STATUS_UNKNOWN)
			continue;
		if (better(x, win[x->insurer]))
			win[x->insurer] = x;
	}
	for (size_t i = 0; i < s->n; i++) {
		const st_row *x = &s->v[i];
		const char *sid = row_ct_match(x, ct);
		char b1[32];
		if (!sid || !covers(x, sid, p))
			continue;
		const char *role, *rule = NULL;
		if (x->status == ZS_STATUS_UNKNOWN) {
			role = "ignored";
			rule = "unknown_ignored";
		} else if (x != win[x->insurer]) {
			role = "overruled";
			rule = lost_rule(x, win[x->insurer]);
		} else if (x->insurer || !win[1]) {
			role = "decides"; /* the insurer's statement, or the provider's when alone */
		} else if (zs_status_class((zs_status)x->status) ==
		           zs_status_class((zs_status)win[1]->status)) {
			role = "confirms";
		} else {
			role = "overruled";
			rule = "insurer_decides";
		}
		json_t *o = json_pack("{s:s, s:s?, s:s?, s:I, s:s, s:s, s:s, s:s?, s:s?, s:b, s:b,"
		                      " s:s, s:s?}",
		        "source", x->insurer ? "insurer" : "provider",
		        "feed", x->feed, "name", feed_display(r, x),
		        "line", x->line >= 0 ? (json_int_t)x->line : (json_int_t)0,
		        "level", level_name(x->scope), "scope_id", sid,
		        "status", zs_status_code((zs_status)x->status),
		        "date", x->since_date,
		        "said_at", x->said >= 0 ? zs_fmt_utc((time_t)x->said, b1, sizeof b1) : NULL,
		        "as_contracted", x->as_contracted, "ceiling", x->ceiling,
		        "role", role, "overruled_by", rule);
		if (o && x->line < 0)
			json_object_set_new(o, "line", json_null());
		if (o && x->stop_from)
			json_object_set_new(o, "patient_stop",
			        json_pack("{s:s?, s:s?, s:s?}", "reason", x->stop_reason, "from",
			                  x->stop_from, "until", x->stop_until));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* ---- GET /v1/staff/providers/{agb} ------------------------------------------------------------ */

static int years_for(time_t when, int year, int years[2])
{
	if (year) {
		years[0] = year;
		return 1;
	}
	int cur = zs_current_year(when), n = 0;
	years[n++] = cur;
	if (zs_year_published(cur + 1, when))
		years[n++] = cur + 1;
	return n;
}

/* The statuses of one year now: the public status objects, each with its statements. */
static json_t *year_now(zs_reader *r, const zs_request *req, const char *agb, int year,
                        long long amount, int *any, int *failed)
{
	zs_rowset rs;
	st_set ss;
	json_t *pols = json_array();
	const char *only_ct = zs_param(req, "care_type");
	zs_rowset_load(r, agb, year, only_ct, &rs);
	if (st_load(r, agb, year, &ss) != 0)
		*failed = 1; /* no statements would look like "nobody spoke": refuse instead */
	*any |= rs.nrows > 0;
	for (size_t i = 0; i < r->npols; i++) {
		const pol_entry *p = &r->pols[i];
		if (p->year != year)
			continue;
		json_t *sts = json_array();
		for (size_t c = 0; c < rs.nct; c++) {
			const char *ct = rs.care_types[c];
			json_t *o = zs_status_json(r, req, p, ct, zs_rowset_find(&rs, p->id, ct), amount);
			json_object_set_new(o, "statements", statements_json(r, &ss, p, ct));
			json_array_append_new(sts, o);
		}
		json_array_append_new(pols, json_pack("{s:O, s:o}", "policy", p->summary,
		                                      "statuses", sts));
	}
	st_free(&ss);
	zs_rowset_free(&rs);
	return pols;
}

typedef struct {
	char *policy, *care_type, *stop;
	int status, as_contracted, basis, ceiling;
	long long from, until;
} hist_row;

/* The statuses of one year as they were shown at moment at (the history). */
static json_t *year_at(zs_reader *r, const zs_request *req, const char *agb, int year,
                       time_t at, long long amount, int *any, int *failed)
{
	sqlite3_stmt *st;
	hist_row *h = NULL;
	size_t n = 0, cap = 0;
	const char *only_ct = zs_param(req, "care_type");
	json_t *pols = json_array();
	if (sqlite3_prepare_v2(r->db,
	        "SELECT policy_id, care_type, status, as_contracted, basis, flags, valid_from,"
	        " valid_until FROM status_history WHERE agb=?1 AND year=?2 AND valid_from <= ?3"
	        " AND (valid_until IS NULL OR valid_until > ?3) ORDER BY policy_id, care_type", -1,
	        &st, NULL) != SQLITE_OK) {
		*failed = 1;
		return pols;
	}
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, year);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)at);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ct = (const char *)sqlite3_column_text(st, 1);
		if (!ct || (only_ct && strcmp(ct, only_ct) != 0))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			hist_row *nv = realloc(h, nc * sizeof *nv);
			if (!nv)
				break;
			h = nv;
			cap = nc;
		}
		hist_row *x = &h[n++];
		memset(x, 0, sizeof *x);
		x->policy = dupc(st, 0);
		x->care_type = strdup(ct);
		x->status = sqlite3_column_int(st, 2);
		x->as_contracted = sqlite3_column_int(st, 3);
		x->basis = sqlite3_column_int(st, 4);
		const char *flags = (const char *)sqlite3_column_text(st, 5);
		json_t *fl = flags ? json_loads(flags, 0, NULL) : NULL;
		x->ceiling = json_is_true(json_object_get(fl, "ceiling"));
		json_t *stop = json_object_get(fl, "patient_stop");
		x->stop = json_is_object(stop) ? json_dumps(stop, JSON_COMPACT) : NULL;
		json_decref(fl);
		x->from = sqlite3_column_int64(st, 6);
		x->until = colll(st, 7);
	}
	sqlite3_finalize(st);
	*any |= n > 0;
	/* the care types shown then: those any row of that moment names (as the public answer) */
	const char *cts[ZS_MAX_CARE_TYPES];
	size_t nct = 0;
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t c = 0; c < nct && !seen; c++)
			seen = strcmp(cts[c], h[i].care_type) == 0;
		if (!seen && nct < ZS_MAX_CARE_TYPES)
			cts[nct++] = h[i].care_type;
	}
	for (size_t i = 1; i < nct; i++)
		for (size_t j = i; j > 0 && strcmp(cts[j - 1], cts[j]) > 0; j--) {
			const char *t = cts[j];
			cts[j] = cts[j - 1];
			cts[j - 1] = t;
		}
	zs_request then = *req;
	then.now = at; /* stops, freshness and the consequence as of that moment */
	for (size_t i = 0; i < r->npols; i++) {
		const pol_entry *p = &r->pols[i];
		if (p->year != year)
			continue;
		json_t *sts = json_array();
		for (size_t c = 0; c < nct; c++) {
			const hist_row *x = NULL;
			for (size_t k = 0; k < n && !x; k++)
				if (strcmp(h[k].policy, p->id) == 0 && strcmp(h[k].care_type, cts[c]) == 0)
					x = &h[k];
			eff_view v;
			memset(&v, 0, sizeof v);
			if (x) {
				v.care_type = x->care_type;
				v.status = x->status;
				v.as_contracted = x->as_contracted;
				v.ceiling = x->ceiling;
				v.stop = x->stop;
				v.basis = x->basis;
				v.ins_feed = v.ins_status = v.ins_level = v.ins_said = -1;
				v.prov_feed = v.prov_status = v.prov_level = v.prov_said = -1;
				v.since = x->from;
			}
			json_t *o = zs_status_json(r, &then, p, cts[c], x ? &v : NULL, amount);
			char b1[32], b2[32];
			json_object_set_new(o, "valid_from",
			                    x ? json_string(zs_fmt_utc((time_t)x->from, b1, sizeof b1))
			                      : json_null());
			json_object_set_new(o, "valid_until",
			                    x && x->until >= 0
			                    ? json_string(zs_fmt_utc((time_t)x->until, b2, sizeof b2))
			                    : json_null());
			json_array_append_new(sts, o);
		}
		json_array_append_new(pols, json_pack("{s:O, s:o}", "policy", p->summary,
		                                      "statuses", sts));
	}
	for (size_t i = 0; i < n; i++) {
		free(h[i].policy);
		free(h[i].care_type);
		free(h[i].stop);
	}
	free(h);
	return pols;
}

json_t *zs_staff_api_provider(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = need_staff(req, status);
	int year = 0, years[2], ny, found, any = 0, failed = 0;
	long long amount;
	const char *agb = req->path_arg ? req->path_arg : "";
	if (err)
		return err;
	if (!zs_valid_agb(agb))
		return zs_api_error(status, 400, "bad_parameter", "agb",
		                    "agb: an AGB code is 8 digits, e.g. 06010101");
	if (zs_param_year(req, &year, &err, status) < 0 || zs_check_common(req, &amount, &err, status))
		return err;
	time_t at = param_at(req, "at");
	if (at == -2)
		return zs_api_error(status, 400, "bad_parameter", "at",
		                    "at: a date (YYYY-MM-DD, end of that day) or RFC 3339 time");
	if (at >= 0 && at > req->now)
		at = -1; /* a moment still to come: what is shown now */
	time_t when = at >= 0 ? at : req->now;
	if (year && !zs_year_published(year, req->now))
		return zs_not_published(status, year);
	zs_reader_refresh(r);
	ny = years_for(when, year, years);
	json_t *prov = zs_provider_json(r, agb, &found);
	json_t *ys = json_array();
	for (int i = 0; i < ny; i++) {
		json_t *pols = at >= 0 ? year_at(r, req, agb, years[i], at, amount, &any, &failed)
		                       : year_now(r, req, agb, years[i], amount, &any, &failed);
		json_array_append_new(ys, json_pack("{s:i, s:o}", "year", years[i], "policies", pols));
	}
	if (failed) {
		json_decref(prov);
		json_decref(ys);
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	}
	if (!found && !any) {
		json_decref(prov);
		json_decref(ys);
		return zs_api_error(status, 404, "not_found", "agb",
		                    "agb: no provider %s is known from any feed", agb);
	}
	char b[32];
	*status = 200;
	return json_pack("{s:o, s:o, s:s, s:s?, s:s}", "provider", prov, "years", ys, "lang",
	                 req->lang, "at", at >= 0 ? zs_fmt_utc(at, b, sizeof b) : NULL,
	                 "view", at >= 0 ? "history" : "now");
}

/* ---- GET /v1/staff/feeds ------------------------------------------------------------------------ */

json_t *zs_staff_api_feeds(zs_reader *r, const zs_request *req, int *status)
{
	json_t *e = need_staff(req, status);
	if (e)
		return e;
	json_t *o = zs_api_feeds(r, req, status);
	size_t i;
	json_t *f;
	if (*status != 200)
		return o;
	json_array_foreach(json_object_get(o, "feeds"), i, f) {
		/* failing: the last attempt ended in an error after the last success */
		const char *ea = json_string_value(json_object_get(json_object_get(f, "last_error"), "at"));
		const char *ls = json_string_value(json_object_get(f, "last_success"));
		json_object_set_new(f, "failing", json_boolean(ea && (!ls || strcmp(ea, ls) > 0)));
	}
	return o;
}

/* ---- GET /v1/staff/audit (admin) ----------------------------------------------------------------- */

json_t *zs_staff_api_audit(zs_reader *r, const zs_request *req, int *status)
{
	json_t *e = need_staff(req, status);
	char err[256];
	(void)r;
	if (e)
		return e;
	if (!req->staff_admin)
		return zs_api_error(status, 403, "forbidden", NULL,
		                    "the audit log is for accounts with role admin");
	const char *agb = zs_param(req, "agb"), *who = zs_param(req, "who"),
	           *lim = zs_param(req, "limit");
	if (agb && !zs_valid_agb(agb))
		return zs_api_error(status, 400, "bad_parameter", "agb",
		                    "agb: an AGB code is 8 digits, e.g. 06010101");
	if (who && (!*who || strlen(who) > ZS_STAFF_NAME_MAX))
		return zs_api_error(status, 400, "bad_parameter", "who", "who: an account name");
	time_t from = param_at(req, "from"), until = param_at(req, "until");
	if (from == -2)
		return zs_api_error(status, 400, "bad_parameter", "from",
		                    "from: a date (YYYY-MM-DD) or RFC 3339 time");
	if (until == -2)
		return zs_api_error(status, 400, "bad_parameter", "until",
		                    "until: a date (YYYY-MM-DD, end of that day) or RFC 3339 time");
	if (from >= 0 && strlen(zs_param(req, "from")) == 10)
		from -= 86399; /* from the start of that day */
	long limit = 100;
	if (lim) {
		char *end;
		errno = 0;
		limit = strtol(lim, &end, 10);
		if (errno || end == lim || *end || limit < 1 || limit > 1000)
			return zs_api_error(status, 400, "bad_parameter", "limit",
			                    "limit: a whole number from 1 to 1000");
	}
	json_t *o = zs_audit_query(agb, who, from, until, limit, err, sizeof err);
	if (!o)
		return zs_api_error(status, 503, "unavailable", NULL, "audit log busy, try again");
	*status = 200;
	return o;
}
