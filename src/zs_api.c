/* zs_api.c - API v1 handlers over a per-thread read connection and per-snapshot caches. */
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



/* ---- errors and parameters --------------------------------------------------------------- */

json_t *zs_api_error(int *status, int http, const char *code, const char *parameter,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*status = http;
	/* jansson refuses invalid UTF-8 (a %.Ns cut mid-character, bytes from a request): the
	 * error must still have a body, so such text is escaped, never dropped. */
	char safe[sizeof msg * 2], psafe[256];
	if (!zs_utf8_valid(msg, strlen(msg)))
		zs_escape_text(msg, strlen(msg), safe, sizeof safe, sizeof safe);
	else
		snprintf(safe, sizeof safe, "%s", msg);
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", safe);
	if (e && parameter)
		json_object_set_new(e, "parameter", json_string(
		        zs_utf8_valid(parameter, strlen(parameter)) ? parameter
		        : zs_escape_text(parameter, strlen(parameter), psafe, sizeof psafe, 200)));
	return e ? json_pack("{s:o}", "error", e) : NULL;
}

const char *zs_param(const zs_request *req, const char *key)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value;
	return NULL;
}

/* year parameter: 0 absent, 1 ok, -1 bad (error body set in *err). */
int zs_param_year(const zs_request *req, int *year, json_t **err, int *status)
{
	const char *v = zs_param(req, "year");
	char *end;
	if (!v)
		return 0;
	errno = 0;
	long y = strtol(v, &end, 10);
	if (errno || end == v || *end || y < 2000 || y > 2100) {
		*err = zs_api_error(status, 400, "bad_parameter", "year",
		                    "year: must be a contract year from 2000 to 2100");
		return -1;
	}
	*year = (int)y;
	return 1;
}

json_t *zs_not_published(int *status, int year)
{
	char when[32];
	time_t t = zs_publication_time(year);
	json_t *e = zs_api_error(status, 404, "not_yet_published", "year",
	                         "De contractstatus voor %d wordt gepubliceerd vanaf 12 november %d. "
	                         "/ Contract statuses for %d are published from 12 November %d.",
	                         year, year - 1, year, year - 1);
	json_object_set_new(json_object_get(e, "error"), "published_from",
	                    json_string(zs_fmt_utc(t, when, sizeof when)));
	json_object_set_new(json_object_get(e, "error"), "year", json_integer(year));
	return e;
}

/* The contract year a request is about: ?year, else the current year; an error body (caller
 * returns it) when the parameter is malformed or the year is not published yet, else NULL. */
json_t *zs_request_year(const zs_request *req, int *year, int *status)
{
	json_t *err = NULL;
	*year = 0;
	int given = zs_param_year(req, year, &err, status);
	if (given < 0)
		return err;
	if (!given)
		*year = zs_current_year(req->now);
	if (!zs_year_published(*year, req->now))
		return zs_not_published(status, *year);
	return NULL;
}

/* amount in euros ("8000", "8000.5", "8000,50") -> cents; -1 absent; -2 bad. */
long long zs_param_amount(const zs_request *req)
{
	const char *v = zs_param(req, "amount");
	if (!v)
		return -1;
	char buf[32];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof buf)
		return -2;
	memcpy(buf, v, n + 1);
	char *comma = strchr(buf, ',');
	if (comma)
		*comma = '.';
	long long euros = 0, cents = 0;
	const char *p = buf;
	int digits = 0;
	while (isdigit((unsigned char)*p) && digits < 10) {
		euros = euros * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits)
		return -2;
	if (*p == '.') {
		p++;
		int k = 0;
		while (isdigit((unsigned char)*p) && k < 2) {
			cents = cents * 10 + (*p++ - '0');
			k++;
		}
		if (k == 1)
			cents *= 10;
		if (k == 0)
			return -2;
	}
	if (*p)
		return -2;
	return euros * 100 + cents;
}

/* ---- caches ------------------------------------------------------------------------------- */

static char *dupcol(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? strdup((const char *)s) : NULL;
}

static void caches_free(zs_reader *r)
{
	zs_frozen_clear(r->frozen);
	for (size_t i = 0; i < r->npols; i++) {
		pol_entry *p = &r->pols[i];
		free(p->id);
		free(p->name);
		free(p->label);
		free(p->uzovi);
		free(p->insurer_name);
		free(p->concern_id);
		free(p->concern_name);
		json_decref(p->reimbursement);
		json_decref(p->summary);
	}
	free(r->pols);
	r->pols = NULL;
	r->npols = 0;
	for (size_t i = 0; i < r->nfeeds; i++) {
		free(r->feeds[i].name);
		free(r->feeds[i].kind);
		free(r->feeds[i].publisher);
	}
	free(r->feeds);
	r->feeds = NULL;
	r->nfeeds = 0;
}

static void cons_clear(zs_reader *r);

static int caches_load(zs_reader *r)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	caches_free(r);
	cons_clear(r);
	/* inside the caller's read transaction (zs_reader_refresh) */
	if (sqlite3_prepare_v2(r->db,
	        "SELECT p.id, p.year, p.name, p.label, p.type, p.uzovi, i.name, p.concern_id,"
	        " i.concern_name, p.reimbursement FROM policy p LEFT JOIN src_insurer i"
	        " ON i.feed_id = p.feed_id AND i.uzovi = p.uzovi"
	        " ORDER BY p.year, i.concern_name, i.name, p.name, p.id", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (zs_grow(&r->pols, &cap, r->npols, sizeof *r->pols, 64))
				break;
			pol_entry *p = &r->pols[r->npols++];
			memset(p, 0, sizeof *p);
			p->id = dupcol(st, 0);
			p->year = sqlite3_column_int(st, 1);
			p->name = dupcol(st, 2);
			p->label = dupcol(st, 3);
			p->type = (zs_ptype)sqlite3_column_int(st, 4);
			p->uzovi = dupcol(st, 5);
			p->insurer_name = dupcol(st, 6);
			p->concern_id = dupcol(st, 7);
			p->concern_name = dupcol(st, 8);
			const char *rj = (const char *)sqlite3_column_text(st, 9);
			p->reimbursement = rj ? json_loads(rj, 0, NULL) : NULL;
			if (!p->reimbursement)
				p->reimbursement = json_array();
			p->summary = json_pack("{s:s?, s:s?, s:s?, s:s, s:{s:s?, s:s?}, s:{s:s?, s:s?}}",
			                       "id", p->id, "name", p->name, "label", p->label, "type",
			                       zs_ptype_code(p->type), "insurer", "uzovi", p->uzovi, "name",
			                       p->insurer_name, "concern", "id", p->concern_id, "name",
			                       p->concern_name);
		}
		sqlite3_finalize(st);
	}
	/* Twins on every policy object: computed equal/very similar, or declared. */
	for (size_t i = 0; i < r->npols; i++)
		json_object_set_new(r->pols[i].summary, "similar", json_array());
	if (sqlite3_prepare_v2(r->db,
	        "SELECT year, a, b, verdict, declared, finding FROM similar"
	        " WHERE verdict <> 'different' OR declared IS NOT NULL ORDER BY year, a, b", -1, &st,
	        NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			int y = sqlite3_column_int(st, 0);
			const char *ids[2] = { (const char *)sqlite3_column_text(st, 1),
				               (const char *)sqlite3_column_text(st, 2) };
			for (int k = 0; k < 2; k++) {
				const pol_entry *pe = zs_find_policy(r, ids[k], y);
				if (!pe)
					continue;
				json_array_append_new(json_object_get(pe->summary, "similar"),
				        json_pack("{s:s, s:s, s:s?, s:s?}", "id", ids[1 - k],
				                  "verdict", (const char *)sqlite3_column_text(st, 3),
				                  "declared", (const char *)sqlite3_column_text(st, 4),
				                  "finding", (const char *)sqlite3_column_text(st, 5)));
			}
		}
		sqlite3_finalize(st);
	}
	cap = 0;
	/* The freshness published with this snapshot (zs_fresh.h), never the exact last fetch:
	 * a poll that changes nothing must not change an answer. */
	if (sqlite3_prepare_v2(r->db, "SELECT id, name, kind, pub_success, stale_after,"
	                       " COALESCE(pub_stale, 1), publisher FROM feed", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (zs_grow(&r->feeds, &cap, r->nfeeds, sizeof *r->feeds, 16))
				break;
			feed_entry *f = &r->feeds[r->nfeeds++];
			f->id = sqlite3_column_int(st, 0);
			f->name = dupcol(st, 1);
			f->kind = dupcol(st, 2);
			f->last_success = sqlite3_column_type(st, 3) == SQLITE_NULL
			                ? -1 : sqlite3_column_int64(st, 3);
			f->stale_after = sqlite3_column_int64(st, 4);
			f->stale = sqlite3_column_int(st, 5);
			f->publisher = dupcol(st, 6); /* display name (issue 13) */
		}
		sqlite3_finalize(st);
	}
	/* Policy summaries are in most answers and do not change within the snapshot: their text
	 * is made once (zs_jsonw.h). Nothing may modify them from here on. */
	for (size_t i = 0; i < r->npols; i++)
		zs_frozen_add(r->frozen, r->pols[i].summary);
	return 0;
}

/* ---- consequence cache -------------------------------------------------------------------
 * zs_consequence is pure: the same inputs give the same object, so one object serves every
 * status with those inputs (jansson values may sit in several containers). */
#define CONS_SLOTS 4096

struct zs_cons_slot {
	char *key;
	json_t *value;
};

static void cons_clear(zs_reader *r)
{
	if (!r->cons)
		return;
	for (size_t i = 0; i < CONS_SLOTS; i++) {
		free(r->cons[i].key);
		json_decref(r->cons[i].value);
	}
	free(r->cons);
	r->cons = NULL;
}

static json_t *cons_get(zs_reader *r, const zs_conseq_in *in, const char *lang)
{
	char key[512];
	snprintf(key, sizeof key, "%d|%s|%d|%d|%d|%d|%d|%s|%d|%d|%d|%s|%d|%.4f|%s|%lld|%s",
	         (int)in->policy_type, in->care_type, (int)in->status, in->as_contracted,
	         in->ceiling, in->ceiling_exempt, in->patient_stop,
	         in->stop_until ? in->stop_until : "", in->conflict, in->provider_only, in->stale,
	         in->stale_since ? in->stale_since : "", in->treatment_in_progress, in->nc_percent,
	         in->nc_basis ? in->nc_basis : "", (long long)in->amount_cents, lang);
	/* the inputs added for stops, situations and conflicts (issue 13) */
	size_t kl = strlen(key);
	snprintf(key + kl, sizeof key - kl, "|%d|%s|%d|%d|%d|%d|%d", in->stop_announced,
	         in->stop_from ? in->stop_from : "", in->stop_for_ceiling, in->exempt_if_acute,
	         in->exempt_if_in_treatment, (int)in->insurer_says, (int)in->provider_says);
	if (!r->cons)
		r->cons = calloc(CONS_SLOTS, sizeof *r->cons);
	if (!r->cons)
		return zs_consequence(in, lang);
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	struct zs_cons_slot *s = &r->cons[h % CONS_SLOTS];
	if (s->key && strcmp(s->key, key) == 0)
		return json_incref(s->value);
	json_t *v = zs_consequence(in, lang);
	if (v)
		zs_frozen_add(r->frozen, v); /* its text is made once per snapshot */
	if (v) {
		free(s->key);
		json_decref(s->value);
		s->key = strdup(key);
		s->value = s->key ? json_incref(v) : NULL;
	}
	return v;
}

/* Snapshot discipline: every answer is computed inside one read transaction. The first
 * zs_reader_refresh of a call opens it and reads the snapshot's generation there (never the
 * published hint zs_generation, which lags the commit); the per-snapshot caches (policies,
 * rates, twins, feeds, consequences, search vocabulary) are reloaded inside the same
 * transaction when it moved. So statuses and caches always belong to one committed version.
 * zs_api_call ends the transaction; a handler called directly (unit tests) keeps it open until
 * its next refresh, which starts from the newest snapshot. */
void zs_reader_refresh(zs_reader *r)
{
	if (!sqlite3_get_autocommit(r->db)) {
		if (r->in_call) {
			r->snap_used = 1;
			return;
		}
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	}
	long long g = -1;
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_step(r->sel_gen) == SQLITE_ROW)
		g = sqlite3_column_int64(r->sel_gen, 0);
	sqlite3_reset(r->sel_gen);
	if (g != r->gen || !r->pols) {
		caches_load(r);
		r->gen = g;
		r->search_gen = zs_deps_last_change(r->db, "search");
	}
	r->snap_used = 1;
}

void zs_api_dep(const zs_reader *r, const char *type, const char *id)
{
	if (r->deps)
		zs_deplist_add(r->deps, type, id);
}

void zs_api_dep_int(const zs_reader *r, const char *type, long long id)
{
	if (r->deps)
		zs_deplist_add_int(r->deps, type, id);
}

char *zs_api_dump(zs_reader *r, const json_t *body, size_t *len)
{
	return zs_json_dump(body, r->frozen, len);
}

int zs_api_dirty(zs_reader *r, long long from, long long to, uint64_t **keys, size_t *n,
                 int *all)
{
	return zs_deps_dirty(r->db, from, to, keys, n, all);
}

json_t *zs_api_call(zs_reader *r, zs_handler fn, const zs_request *req, int *status,
                    long long *snapshot, zs_deplist *deps)
{
	if (!sqlite3_get_autocommit(r->db)) /* left open by a direct handler call */
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	r->in_call = 1;
	r->snap_used = 0;
	r->deps = deps;
	if (deps)
		zs_deplist_clear(deps);
	json_t *body = zs_compact_check(req, status);
	if (!body) {
		body = fn(r, req, status);
		if (body && *status == 200)
			body = zs_compact_apply(fn, req, body);
	}
	r->deps = NULL;
	r->in_call = 0;
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (snapshot)
		*snapshot = r->snap_used ? r->gen : -1;
	return body;
}

const pol_entry *zs_find_policy(const zs_reader *r, const char *id, int year)
{
	for (size_t i = 0; i < r->npols; i++)
		if (r->pols[i].year == year && strcmp(r->pols[i].id, id) == 0)
			return &r->pols[i];
	return NULL;
}

static const feed_entry *find_feed(const zs_reader *r, long long id)
{
	for (size_t i = 0; i < r->nfeeds; i++)
		if (r->feeds[i].id == id)
			return &r->feeds[i];
	return NULL;
}

static int feed_stale(const feed_entry *f)
{
	return !f || f->last_success < 0 || f->stale;
}

zs_reader *zs_reader_open(const zs_config *cfg, char *err, size_t errlen)
{
	zs_reader *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->gen = -2;
	r->frozen = zs_frozen_new(8192);
	r->db = zs_db_open(cfg->database, 1, err, errlen);
	if (!r->db) {
		free(r);
		return NULL;
	}
	if (sqlite3_prepare_v3(r->db, "SELECT value FROM meta WHERE key='generation'", -1,
	                       SQLITE_PREPARE_PERSISTENT, &r->sel_gen, NULL) ||
	    sqlite3_prepare_v3(r->db, "SELECT name, kind, parent, locations FROM provider WHERE agb=?",
	                       -1, SQLITE_PREPARE_PERSISTENT, &r->sel_provider, NULL) ||
	    sqlite3_prepare_v3(r->db,
	        "SELECT policy_id, care_type, status, as_contracted, ceiling, ceiling_exempt, stop,"
	        " basis, ins_feed, ins_status, ins_level, ins_said, prov_feed, prov_status,"
	        " prov_level, prov_said, since, began FROM effective WHERE agb=? AND year=?"
	        " ORDER BY policy_id, care_type", -1, SQLITE_PREPARE_PERSISTENT, &r->sel_eff, NULL) ||
	    sqlite3_prepare_v3(r->db,
	        "SELECT year, policy_id, care_type, status, as_contracted, basis, flags, valid_from,"
	        " valid_until FROM status_history WHERE agb=?1 AND (?2 IS NULL OR year=?2)"
	        " AND (?3 IS NULL OR policy_id=?3) AND (?4 IS NULL OR care_type=?4)"
	        " AND (?5 IS NULL OR (valid_from <= ?5 AND (valid_until IS NULL OR valid_until > ?5)))"
	        " AND (?6 IS NULL OR (year, policy_id, care_type, valid_from,"
	        " COALESCE(valid_until, 9223372036854775807)) > (?6, ?7, ?8, ?9, ?10))"
	        " ORDER BY year, policy_id, care_type, valid_from,"
	        " COALESCE(valid_until, 9223372036854775807) LIMIT ?11", -1, SQLITE_PREPARE_PERSISTENT,
	        &r->sel_history, NULL)) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(r->db));
		zs_reader_close(r);
		return NULL;
	}
	return r;
}

void zs_reader_close(zs_reader *r)
{
	if (!r)
		return;
	caches_free(r);
	cons_clear(r);
	zs_search_free_cache(r);
	zs_frozen_free(r->frozen);
	sqlite3_finalize(r->sel_gen);
	sqlite3_finalize(r->sel_provider);
	sqlite3_finalize(r->sel_eff);
	sqlite3_finalize(r->sel_history);
	sqlite3_close(r->db);
	free(r);
}

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
	const feed_entry *f = find_feed(r, feed_id);
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
	                 "stale", feed_stale(f));
}


static long long coll(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
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
	v->ins_feed = coll(st, 8);
	v->ins_status = coll(st, 9);
	v->ins_level = coll(st, 10);
	v->ins_said = coll(st, 11);
	v->prov_feed = coll(st, 12);
	v->prov_status = coll(st, 13);
	v->prov_level = coll(st, 14);
	v->prov_said = coll(st, 15);
	v->since = coll(st, 16);
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
	const feed_entry *sf = v ? find_feed(r, v->ins_feed >= 0 ? v->ins_feed : v->prov_feed) : NULL;
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
	json_t *cons = cons_get(r, &in, req->lang);
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
		e->policy_id = dupcol(st, 0);
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
static json_t *year_json(zs_reader *r, const zs_request *req, const char *agb, int year,
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

/* ---- handlers ----------------------------------------------------------------------------- */

json_t *zs_api_health(zs_reader *r, const zs_request *req, int *status)
{
	char b[32];
	zs_reader_refresh(r);
	*status = 200;
	return json_pack("{s:s, s:I, s:s, s:i}", "status", "ok", "generation", (json_int_t)r->gen,
	                 "now", zs_fmt_utc(req->now, b, sizeof b), "current_year",
	                 zs_current_year(req->now));
}

static int check_agb(const char *agb, json_t **err, int *status)
{
	if (!zs_valid_agb(agb)) {
		*err = zs_api_error(status, 400, "bad_parameter", "agb",
		                    "agb: an AGB code is 8 digits, e.g. 06010101");
		return -1;
	}
	return 0;
}

int zs_check_common(const zs_request *req, long long *amount, json_t **err, int *status)
{
	*amount = zs_param_amount(req);
	if (*amount == -2) {
		*err = zs_api_error(status, 400, "bad_parameter", "amount",
		                    "amount: an amount in euros, e.g. 8000 or 8000.50");
		return -1;
	}
	const char *ct = zs_param(req, "care_type");
	if (ct && !zs_care_type_find(ct)) {
		*err = zs_api_error(status, 400, "bad_parameter", "care_type",
		                    "care_type: unknown care type \"%.40s\"", ct);
		return -1;
	}
	const char *it = zs_param(req, "in_treatment");
	if (it && strcmp(it, "true") && strcmp(it, "false")) {
		*err = zs_api_error(status, 400, "bad_parameter", "in_treatment",
		                    "in_treatment: true or false");
		return -1;
	}
	const char *sit = zs_param(req, "situation");
	if (sit && strcmp(sit, "acute") && strcmp(sit, "planned")) {
		*err = zs_api_error(status, 400, "bad_parameter", "situation",
		                    "situation: acute or planned");
		return -1;
	}
	return 0;
}

json_t *zs_api_provider(zs_reader *r, const zs_request *req, int *status)
{
	json_t *err = NULL;
	int year = 0, years[2], ny = 0, found, any_rows = 0;
	long long amount;
	const char *agb = req->path_arg ? req->path_arg : "";
	if (check_agb(agb, &err, status) || zs_param_year(req, &year, &err, status) < 0 ||
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
		json_t *pol = year_json(r, req, agb, years[i], NULL, zs_param(req, "care_type"), amount,
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
	if (check_agb(agb, &err, status))
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
	json_t *pols = year_json(r, req, agb, year, pol, zs_param(req, "care_type"), amount, &any);
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
		long long last_success = coll(st, 7), stale_after = sqlite3_column_int64(st, 5);
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
	if (check_agb(agb, &err, status) || zs_param_year(req, &year, &err, status) < 0)
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
