/* zs_api.c - the API v1 handlers (provider, status, policies, feeds, history, openapi,
 * similar); reader and snapshot: zs_reader.c; status objects: zs_status.c; parameters:
 * zs_params.c. */
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

/* ---- handlers ----------------------------------------------------------------------------- */

json_t *zs_api_health(zs_reader *r, const zs_request *req, int *status)
{
	char b[32];
	zs_reader_refresh(r);
	*status = 200;
	/* rows_in_memory: whether this answer's snapshot is read from memory (zs_rows.h) */
	return json_pack("{s:s, s:I, s:s, s:i, s:s}", "status", "ok", "generation",
	                 (json_int_t)r->gen, "now", zs_fmt_utc(req->now, b, sizeof b),
	                 "current_year", zs_current_year(req->now), "rows_in_memory",
	                 !r->rows ? "off" : r->rver ? "ready" : "building");
}



json_t *zs_api_provider(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = NULL;
	int year = 0, years[2], ny = 0, found, any_rows = 0;
	long long amount;
	const char *agb = req->path_arg ? req->path_arg : "";
	if (zs_check_agb(agb, &err, status) || zs_param_year(req, &year, &err, status) < 0 ||
	    zs_check_common(req, &amount, &err, status))
		return err;
	zs_reader_refresh(r);
	zs_api_dep(r, "p", agb);
	if (year) {
		if (!zs_year_published(year, req->now))
			return zs_not_published(status, year);
		if ((err = zs_no_data(r, req, year, status)))
			return err;
		years[ny++] = year;
	} else {
		int cur = zs_current_year(req->now);
		years[ny++] = cur;
		if (zs_year_published(cur + 1, req->now))
			years[ny++] = cur + 1;
	}
	for (int i = 0; i < ny; i++)
		zs_api_dep_int(r, "y", years[i]);
	json_t *prov = zs_provider_json(r, agb, &found);
	json_t *ys = json_array();
	for (int i = 0; i < ny; i++) {
		int any;
		json_t *pol = zs_year_json(r, req, agb, years[i], NULL, zs_param(req, "care_type"), amount,
		                        &any);
		any_rows |= any;
		json_array_append_new(ys, json_pack("{s:i, s:o}", "year", years[i], "policies", pol));
	}
	if (!found && !any_rows) {
		json_decref(prov);
		json_decref(ys);
		return zs_api_error(status, 404, "not_found", "agb",
		                    "agb: no provider %s is known from any feed", agb);
	}
	*status = 200;
	return json_pack("{s:o, s:o, s:s}", "provider", prov, "years", ys, "lang", req->lang);
}

json_t *zs_api_status(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = NULL;
	int year = 0, found, any;
	long long amount;
	const char *agb = zs_param(req, "agb"), *pol = zs_param(req, "policy");
	if (!agb)
		return zs_api_error(status, 400, "missing_parameter", "agb", "agb: required");
	if (zs_check_agb(agb, &err, status))
		return err;
	if (!pol)
		return zs_api_error(status, 400, "missing_parameter", "policy", "policy: required");
	if (!zs_valid_code(pol, 64))
		return zs_api_error(status, 400, "bad_parameter", "policy",
		                    "policy: a policy id (letters, digits, _ . -)");
	if ((err = zs_request_year(req, &year, status)) ||
	    zs_check_common(req, &amount, &err, status))
		return err;
	zs_reader_refresh(r);
	zs_api_dep(r, "p", agb);
	zs_api_dep_int(r, "y", year);
	const pol_entry *p = zs_find_policy(r, pol, year);
	if (!p)
		return zs_api_error(status, 404, "not_found", "policy",
		                    "policy: no policy %s for %d", pol, year);
	json_t *prov = zs_provider_json(r, agb, &found);
	json_t *pols = zs_year_json(r, req, agb, year, pol, zs_param(req, "care_type"), amount, &any);
	if (!found && !any) {
		json_decref(prov);
		json_decref(pols);
		return zs_api_error(status, 404, "not_found", "agb",
		                    "agb: no provider %s is known from any feed", agb);
	}
	json_t *first = json_array_get(pols, 0);
	json_t *o = json_pack("{s:o, s:O, s:i, s:O, s:s}", "provider", prov, "policy",
	                      json_object_get(first, "policy"), "year", year, "statuses",
	                      json_object_get(first, "statuses"), "lang", req->lang);
	json_decref(pols);
	*status = 200;
	return o;
}

/* A past year of which no policy is known: the 404 body that says so (error.no_data), else
 * NULL. Inside the caller's snapshot (after zs_reader_refresh). */
json_t *zs_no_data(const zs_reader *r, const zs_request *req, int year, int *status)
{
	if (year >= zs_current_year(req->now))
		return NULL;
	zs_api_dep_int(r, "y", year); /* policies of that year appearing change the answer */
	for (size_t i = 0; i < r->npols; i++)
		if (r->pols[i].year == year)
			return NULL;
	char ys[16];
	snprintf(ys, sizeof ys, "%d", year);
	json_t *e = zs_api_error(status, 404, "no_data", "year", "year: no data about %d", year);
	const char *tpl = zs_phrase("error.no_data", req->lang), *ph = tpl ? strstr(tpl, "{year}") : NULL;
	if (e && ph) {
		char text[256];
		snprintf(text, sizeof text, "%.*s%s%s", (int)(ph - tpl), tpl, ys, ph + 6);
		json_object_set_new(json_object_get(e, "error"), "text", json_string(text));
	}
	if (e)
		json_object_set_new(json_object_get(e, "error"), "year", json_integer(year));
	return e;
}

json_t *zs_api_policies(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = NULL;
	int year = 0;
	if ((err = zs_request_year(req, &year, status)))
		return err;
	zs_reader_refresh(r);
	zs_api_dep_int(r, "y", year);
	json_t *arr = json_array();
	for (size_t i = 0; i < r->npols; i++) {
		const pol_entry *p = &r->pols[i];
		if (p->year != year)
			continue;
		json_t *o = json_deep_copy(p->summary);
		json_object_set_new(o, "year", json_integer(p->year));
		json_object_set(o, "reimbursement", p->reimbursement);
		json_array_append_new(arr, o);
	}
	/* a past year without data says so, instead of an empty list (issue 13) */
	if (json_array_size(arr) == 0 && (err = zs_no_data(r, req, year, status))) {
		json_decref(arr);
		return err;
	}
	*status = 200;
	return json_pack("{s:i, s:o}", "year", year, "policies", arr);
}

json_t *zs_api_feeds(zs_reader *r, const zs_request *req, int *status)
{
	sqlite3_stmt *st, *er;
	json_t *arr = json_array();
	char b1[32], b2[32], b3[32], b4[32];
	if (sqlite3_prepare_v2(r->db,
	        "SELECT id, name, kind, url, schedule, stale_after, last_attempt, last_success,"
	        " last_change, rows_accepted, rows_rejected, last_error, last_error_at, generated_at,"
	        " pub_stale FROM feed ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	if (sqlite3_prepare_v2(r->db, "SELECT line, field, reason FROM feed_error WHERE feed_id=?"
	                              " ORDER BY seq", -1, &er, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	}
	zs_reader_refresh(r); /* one snapshot for the whole answer */
	while (sqlite3_step(st) == SQLITE_ROW) {
#define TS(i, b) (sqlite3_column_type(st, i) == SQLITE_NULL ? NULL \
                  : zs_fmt_utc((time_t)sqlite3_column_int64(st, i), b, sizeof b))
		long long last_success = zs_col_ll(st, 7), stale_after = sqlite3_column_int64(st, 5);
		json_t *errors = json_array();
		sqlite3_bind_int(er, 1, sqlite3_column_int(st, 0));
		while (sqlite3_step(er) == SQLITE_ROW)
			json_array_append_new(errors, json_pack("{s:I, s:s?, s:s?}", "line",
			        (json_int_t)sqlite3_column_int64(er, 0),
			        "field", (const char *)sqlite3_column_text(er, 1),
			        "reason", (const char *)sqlite3_column_text(er, 2)));
		sqlite3_reset(er);
		json_t *last_error = json_null();
		if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
			char b5[32], cls[64];
			const char *m = (const char *)sqlite3_column_text(st, 11);
			/* the public sees a failed transfer's class only; staff the whole message */
			last_error = json_pack("{s:s?, s:s}", "at", TS(12, b5), "message",
			                       req->staff ? m : zs_fetch_error_public(m, cls, sizeof cls));
		}
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:s?, s:s?, s:s?, s:I, s:I,"
		                      " s:b, s:o, s:o}",
		        "name", (const char *)sqlite3_column_text(st, 1),
		        "kind", (const char *)sqlite3_column_text(st, 2),
		        "url", (const char *)sqlite3_column_text(st, 3),
		        "schedule_seconds", (json_int_t)sqlite3_column_int64(st, 4),
		        "stale_after_seconds", (json_int_t)stale_after,
		        "last_attempt", TS(6, b1), "last_success", TS(7, b2), "last_change", TS(8, b3),
		        "generated_at", TS(13, b4),
		        "rows_accepted", (json_int_t)sqlite3_column_int64(st, 9),
		        "rows_rejected", (json_int_t)sqlite3_column_int64(st, 10),
		        /* stale as the answers show it (published with the snapshot, zs_fresh.h);
		         * before the first publication, from the clock */
		        "stale", sqlite3_column_type(st, 14) != SQLITE_NULL ? sqlite3_column_int(st, 14)
		                 : last_success < 0 || (long long)req->now - last_success > stale_after,
		        "last_error", last_error, "errors", errors);
#undef TS
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(er);
	*status = 200;
	return json_pack("{s:o}", "feeds", arr);
}

/* The position of a history entry: its key and interval (valid_until NULL = open, last). */
typedef struct {
	int year;
	char pol[72], ct[40];
	long long from, until;
} hist_key;

static void hist_key_of(sqlite3_stmt *st, hist_key *k)
{
	k->year = sqlite3_column_int(st, 0);
	snprintf(k->pol, sizeof k->pol, "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(k->ct, sizeof k->ct, "%s", (const char *)sqlite3_column_text(st, 2));
	k->from = sqlite3_column_int64(st, 7);
	k->until = sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MAX
	                                                     : sqlite3_column_int64(st, 8);
}

/* Opaque to clients: the key as text, in hex. */
static void hist_cursor_encode(const hist_key *k, char *out, size_t len)
{
	char text[160];
	int n = snprintf(text, sizeof text, "%d|%s|%s|%lld|%lld", k->year, k->pol, k->ct, k->from,
	                 k->until);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%02x", (unsigned char)text[i]);
	out[o] = 0;
}

static int hist_cursor_decode(const char *cur, hist_key *k)
{
	char text[160];
	size_t n = strlen(cur);
	if (n == 0 || n % 2 || n / 2 >= sizeof text)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)cur[2 * i]) || !isxdigit((unsigned char)cur[2 * i + 1]) ||
		    sscanf(cur + 2 * i, "%2x", &v) != 1)
			return -1;
		text[i] = (char)v;
	}
	text[n / 2] = 0;
	char *parts[5], *save = NULL, *p = text;
	for (int i = 0; i < 5; i++) {
		parts[i] = strtok_r(p, "|", &save);
		p = NULL;
		if (!parts[i])
			return -1;
	}
	char *end;
	k->year = (int)strtol(parts[0], &end, 10);
	if (*end || !zs_valid_code(parts[1], 64) || !zs_valid_code(parts[2], 32))
		return -1;
	snprintf(k->pol, sizeof k->pol, "%s", parts[1]);
	snprintf(k->ct, sizeof k->ct, "%s", parts[2]);
	k->from = strtoll(parts[3], &end, 10);
	if (*end)
		return -1;
	k->until = strtoll(parts[4], &end, 10);
	return *end ? -1 : 0;
}

json_t *zs_api_provider_history(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = NULL;
	int year = 0;
	const char *agb = req->path_arg ? req->path_arg : "";
	if (!req->staff)
		return zs_api_error(status, 401, "unauthorized", NULL,
		                    "staff only: send Authorization: Bearer <token>");
	if (zs_check_agb(agb, &err, status) || zs_param_year(req, &year, &err, status) < 0)
		return err;
	const char *at = zs_param(req, "at"), *pol = zs_param(req, "policy"),
	           *ct = zs_param(req, "care_type");
	time_t att = -1;
	if (at) {
		att = zs_parse_rfc3339(at);
		if (att == (time_t)-1)
			return zs_api_error(status, 400, "bad_parameter", "at",
			                    "at: a date (YYYY-MM-DD, end of that day) or RFC 3339 time");
		if (strlen(at) == 10)
			att += 86399; /* what was shown at the end of that day */
	}
	if (pol && !zs_valid_code(pol, 64))
		return zs_api_error(status, 400, "bad_parameter", "policy", "policy: a policy id");
	if (ct && !zs_care_type_find(ct))
		return zs_api_error(status, 400, "bad_parameter", "care_type", "care_type: unknown");
	if (year && !zs_year_published(year, req->now))
		return zs_not_published(status, year);
	/* Paging (issue 17): limit (default 200, at most 1000) and an opaque cursor, the key of
	 * the last entry given: year, policy, care type, valid_from, valid_until. */
	long limit = 200;
	const char *lim = zs_param(req, "limit"), *cur = zs_param(req, "cursor");
	if (lim) {
		char *end;
		limit = strtol(lim, &end, 10);
		if (!*lim || *end || limit < 1 || limit > 1000)
			return zs_api_error(status, 400, "bad_parameter", "limit", "limit: 1 to 1000");
	}
	hist_key ck, last;
	memset(&last, 0, sizeof last);
	if (cur && hist_cursor_decode(cur, &ck) != 0)
		return zs_api_error(status, 400, "bad_parameter", "cursor",
		                    "cursor: not a cursor this endpoint gave (next_cursor)");
	zs_reader_refresh(r);
	sqlite3_stmt *st = r->sel_history;
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	if (year)
		sqlite3_bind_int(st, 2, year);
	else
		sqlite3_bind_null(st, 2);
	if (pol)
		sqlite3_bind_text(st, 3, pol, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	if (ct)
		sqlite3_bind_text(st, 4, ct, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	if (at)
		sqlite3_bind_int64(st, 5, (sqlite3_int64)att);
	else
		sqlite3_bind_null(st, 5);
	if (cur) {
		sqlite3_bind_int(st, 6, ck.year);
		sqlite3_bind_text(st, 7, ck.pol, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, ck.ct, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, ck.from);
		sqlite3_bind_int64(st, 10, ck.until);
	} else {
		for (int i = 6; i <= 10; i++)
			sqlite3_bind_null(st, i);
	}
	sqlite3_bind_int64(st, 11, limit + 1); /* one more: is there a next page? */
	json_t *arr = json_array();
	long n = 0;
	char next[256] = "";
	while (sqlite3_step(st) == SQLITE_ROW) {
		char b1[32], b2[32];
		int y = sqlite3_column_int(st, 0);
		if (n == limit) { /* there is more: continue after the last row read */
			hist_cursor_encode(&last, next, sizeof next);
			break;
		}
		n++;
		hist_key_of(st, &last);
		if (!zs_year_published(y, req->now))
			continue;
		const char *flags = (const char *)sqlite3_column_text(st, 6);
		json_t *fl = flags ? json_loads(flags, 0, NULL) : NULL;
		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s, s:b, s:s, s:o, s:s, s:s?}",
		        "year", y, "policy", (const char *)sqlite3_column_text(st, 1),
		        "care_type", (const char *)sqlite3_column_text(st, 2),
		        "status", zs_status_code((zs_status)sqlite3_column_int(st, 3)),
		        "as_contracted", sqlite3_column_int(st, 4),
		        "basis", zs_basis_code(sqlite3_column_int(st, 5)),
		        "flags", fl ? fl : json_object(),
		        "valid_from", zs_fmt_utc((time_t)sqlite3_column_int64(st, 7), b1, sizeof b1),
		        "valid_until", sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL
		                       : zs_fmt_utc((time_t)sqlite3_column_int64(st, 8), b2, sizeof b2)));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*status = 200;
	return json_pack("{s:s, s:o, s:i, s:s?}", "agb", agb, "history", arr, "limit", (int)limit,
	                 "next_cursor", next[0] ? next : NULL);
}

static json_t *openapi_doc;
static pthread_once_t openapi_once = PTHREAD_ONCE_INIT;

static void openapi_load(void)
{
	openapi_doc = json_loadb((const char *)zs_embed_openapi, zs_embed_openapi_len, 0, NULL);
}

json_t *zs_api_openapi(zs_reader *r, const zs_request *req, int *status)
{
	(void)r;
	(void)req;
	pthread_once(&openapi_once, openapi_load);
	if (!openapi_doc)
		return zs_api_error(status, 503, "unavailable", NULL, "the API description is missing");
	*status = 200;
	return json_incref(openapi_doc);
}

/* Swap the two sides of a pair's stored reasons (stored with the pair's first id as "a"). */
static void swap_keys(json_t *o, const char *k1, const char *k2)
{
	json_t *v1 = json_incref(json_object_get(o, k1)), *v2 = json_incref(json_object_get(o, k2));
	json_object_del(o, k1);
	json_object_del(o, k2);
	if (v2)
		json_object_set_new(o, k1, v2);
	if (v1)
		json_object_set_new(o, k2, v1);
}

static void reasons_swap(json_t *reasons)
{
	size_t i;
	json_t *x;
	swap_keys(reasons, "only_in_a_examples", "only_in_b_examples");
	json_array_foreach(json_object_get(reasons, "network_differences"), i, x)
		swap_keys(x, "only_a", "only_b");
	json_array_foreach(json_object_get(reasons, "reimbursement_differences"), i, x) {
		swap_keys(x, "a_percent", "b_percent");
		swap_keys(x, "a_basis", "b_basis");
	}
}

json_t *zs_api_policy_similar(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = NULL;
	int year = 0;
	const char *id = req->path_arg ? req->path_arg : "";
	if (!zs_valid_code(id, 64))
		return zs_api_error(status, 400, "bad_parameter", "id",
		                    "id: a policy id (letters, digits, _ . -)");
	if ((err = zs_request_year(req, &year, status)))
		return err;
	zs_reader_refresh(r);
	zs_api_dep_int(r, "y", year);
	zs_api_dep_int(r, "s", year);
	const pol_entry *p = zs_find_policy(r, id, year);
	if (!p)
		return zs_api_error(status, 404, "not_found", "id", "id: no policy %s for %d", id, year);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db,
	        "SELECT a, b, overlap, common, only_a, only_b, max_pct_diff, verdict, declared, finding,"
	        " reasons FROM similar WHERE year=?1 AND (a=?2 OR b=?2)"
	        " ORDER BY CASE verdict WHEN 'equal' THEN 0 WHEN 'very_similar' THEN 1 ELSE 2 END,"
	        " overlap DESC, a, b", -1, &st, NULL) != SQLITE_OK)
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	sqlite3_bind_int(st, 1, year);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	const zs_similar_thresholds *t = zs_similar_get_thresholds();
	while (sqlite3_step(st) == SQLITE_ROW) {
		int we_are_a = strcmp((const char *)sqlite3_column_text(st, 0), id) == 0;
		const char *other = (const char *)sqlite3_column_text(st, we_are_a ? 1 : 0);
		const pol_entry *o = zs_find_policy(r, other, year);
		const char *rj = (const char *)sqlite3_column_text(st, 10);
		json_t *reasons = rj ? json_loads(rj, 0, NULL) : NULL;
		/* reasons are stored with the pair's first id as "a"; answered with the requested
		 * policy always on side "a" and the other on side "b" */
		if (reasons && !we_are_a)
			reasons_swap(reasons);
		json_t *item = json_pack("{s:O, s:f, s:I, s:I, s:I, s:f, s:s, s:s?, s:s?, s:s, s:o}",
		        "policy", o ? o->summary : json_null(),
		        "overlap", sqlite3_column_double(st, 2),
		        "common", (json_int_t)sqlite3_column_int64(st, 3),
		        "only_this", (json_int_t)sqlite3_column_int64(st, we_are_a ? 4 : 5),
		        "only_other", (json_int_t)sqlite3_column_int64(st, we_are_a ? 5 : 4),
		        "max_percent_difference", sqlite3_column_double(st, 6),
		        "verdict", (const char *)sqlite3_column_text(st, 7),
		        "declared", (const char *)sqlite3_column_text(st, 8),
		        "finding", (const char *)sqlite3_column_text(st, 9),
		        "a", id,
		        "reasons", reasons ? reasons : json_object());
		json_object_set_new(item, "b", json_string(other));
		json_array_append_new(arr, item);
	}
	sqlite3_finalize(st);
	*status = 200;
	return json_pack("{s:O, s:i, s:{s:f, s:f, s:f, s:f}, s:o}", "policy", p->summary, "year", year,
	                 "thresholds", "equal_overlap", t->equal_overlap, "equal_percent_difference",
	                 t->equal_pct, "very_similar_overlap", t->very_overlap,
	                 "very_similar_percent_difference", t->very_pct, "similar", arr);
}
