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
#include "zs_memo.h"
#include "zs_rows.h"
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
	*pct = -1;
	*basis = NULL;
	for (size_t i = 0; i < p->nrules; i++) {
		const char *ct = p->rules[i].care_type;
		if (strcmp(ct, care_type) == 0 || (strcmp(ct, "*") == 0 && *pct < 0)) {
			*pct = p->rules[i].percent;
			*basis = p->rules[i].basis;
			if (strcmp(ct, care_type) == 0)
				return;
		}
	}
}

void zs_eff_from_row(sqlite3_stmt *st, eff_view *v)
{
	v->care_type = (const char *)sqlite3_column_text(st, 1);
	v->status = sqlite3_column_int(st, 2);
	v->as_contracted = sqlite3_column_int(st, 3);
	v->ceiling = sqlite3_column_int(st, 4);
	v->ceiling_exempt = (const char *)sqlite3_column_text(st, 5);
	v->stop = (const char *)sqlite3_column_text(st, 6);
	v->basis = sqlite3_column_int(st, 7);
	/* columns 8-16 come as -1 when NULL (sel_eff, zs_reader.c) */
	v->ins_feed = sqlite3_column_int64(st, 8);
	v->ins_status = sqlite3_column_int64(st, 9);
	v->ins_level = sqlite3_column_int64(st, 10);
	v->ins_said = sqlite3_column_int64(st, 11);
	v->prov_feed = sqlite3_column_int64(st, 12);
	v->prov_status = sqlite3_column_int64(st, 13);
	v->prov_level = sqlite3_column_int64(st, 14);
	v->prov_said = sqlite3_column_int64(st, 15);
	v->since = sqlite3_column_int64(st, 16);
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

/* ---- the facts of one status ---------------------------------------------------------------
 * Everything a status object says, computed once; written either as a jansson tree
 * (status_tree) or straight into text (status_write), with the same bytes. */

typedef struct {
	const char *kind;         /* "insurer" | "provider" */
	const feed_entry *f;      /* NULL when the feed is gone */
	const char *status, *level;
	long long said;
	const char *agreement;    /* staff only, else NULL */
} src_fact;

typedef struct {
	const char *care_type;
	zs_status st;
	int basis, as_contracted, ceiling, stale;
	json_t *exempt;           /* owned */
	json_t *stop;             /* owned, NULL when none */
	src_fact src[2];
	int nsrc;
	json_t *cons;             /* owned reference, or NULL */
	const char *since;        /* a day, or NULL */
	char since_buf[16];
	long long shown_since;    /* staff: the moment this daemon first showed it, else -1 */
	const char *situation;
} status_facts;

static void facts_free(status_facts *sf)
{
	json_decref(sf->exempt);
	json_decref(sf->stop);
	json_decref(sf->cons);
}

/* What a status depends on beyond its provider's rows: the published freshness and names of
 * its sources (zs_deps.h "f:"). Recorded for every status written, also from the memo. */
static void status_deps(zs_reader *r, const eff_view *v)
{
	if (v && v->ins_feed >= 0)
		zs_api_dep_feed(r, v->ins_feed);
	if (v && v->prov_feed >= 0)
		zs_api_dep_feed(r, v->prov_feed);
}

static void add_source(zs_reader *r, status_facts *sf, const char *kind, long long feed_id,
                       long long status, long long level, long long said)
{
	src_fact *s = &sf->src[sf->nsrc++];
	s->kind = kind;
	s->f = zs_reader_find_feed(r, feed_id);
	s->status = zs_status_code((zs_status)status);
	s->level = level_code(level);
	s->said = said;
	s->agreement = NULL;
	sf->stale |= zs_reader_feed_stale(s->f);
}

/* A day (Europe/Amsterdam) of a moment, remembered per thread: the statements of a feed share
 * a few moments, and localtime_r is not cheap. */
static const char *day_of(long long t, char *buf, size_t len)
{
	static __thread long long last_t = -1;
	static __thread char last[16];
	if (t != last_t) {
		zs_fresh_day((time_t)t, last, sizeof last);
		last_t = t;
	}
	if (len)
		zs_str_put(buf, len, 0, last); /* copied, not formatted: this runs for every status */
	return buf;
}

/* The ceiling exemptions of a status are stored as JSON text in its row ("[]" when none); the
 * statuses of an answer share a few distinct texts. They are parsed once per reader and text
 * (a small direct-mapped memo), not for every status; "none" is one shared empty array. The
 * values are only read, never changed, so a status holds a reference. */
#define EXEMPT_SLOTS 64

struct zs_exempt_slot {
	char *text;       /* the stored text; NULL for the empty list's slot */
	json_t *value;
};

void zs_status_memo_free(zs_reader *r)
{
	zs_tmemo_free(r->smemo);
	r->smemo = NULL;
	free(r->front);
	r->front = NULL;
	if (!r->exempts)
		return;
	for (size_t i = 0; i <= EXEMPT_SLOTS; i++) {
		free(r->exempts[i].text);
		json_decref(r->exempts[i].value);
	}
	free(r->exempts);
	r->exempts = NULL;
}

/* The exemptions of one stored text, parsed: new reference; an empty array when none or
 * unreadable (NULL only when out of memory). */
static json_t *exempt_parse(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	if (json_is_array(v))
		return v;
	json_decref(v);
	return json_array();
}

/* New reference to the parsed exemptions of text, from the reader's memo (slot EXEMPT_SLOTS
 * holds the empty list, the others are chosen by the text's hash). */
static json_t *exempt_of(zs_reader *r, const char *text)
{
	if (text && strcmp(text, "[]") == 0)
		text = NULL;
	if (!r->exempts && !(r->exempts = calloc(EXEMPT_SLOTS + 1, sizeof *r->exempts)))
		return exempt_parse(text); /* out of memory: parsed for this status only */
	struct zs_exempt_slot *s =
	        &r->exempts[text ? zs_dep_hash(text) % EXEMPT_SLOTS : EXEMPT_SLOTS];
	if (s->value && (!text || (s->text && strcmp(s->text, text) == 0)))
		return json_incref(s->value);
	char *t = text ? strdup(text) : NULL;
	json_t *v = exempt_parse(text);
	if (!v || (text && !t)) { /* out of memory: not kept */
		free(t);
		return v;
	}
	free(s->text);
	json_decref(s->value);
	s->text = t;
	s->value = v;
	return json_incref(v);
}

static void status_facts_make(zs_reader *r, const zs_request *req, const pol_entry *p,
                              const char *care_type, const eff_view *v, long long amount,
                              status_facts *sf)
{
	size_t i;
	json_t *x;
	memset(sf, 0, sizeof *sf);
	sf->care_type = care_type;
	sf->shown_since = -1;
	sf->stop = v && v->stop ? json_loads(v->stop, 0, NULL) : NULL;
	sf->exempt = exempt_of(r, v ? v->ceiling_exempt : NULL);
	int ceiling_exempt = 0;

	status_deps(r, v);
	if (v && v->ins_feed >= 0)
		add_source(r, sf, "insurer", v->ins_feed, v->ins_status, v->ins_level, v->ins_said);
	if (v && v->prov_feed >= 0) {
		add_source(r, sf, "provider", v->prov_feed, v->prov_status, v->prov_level, v->prov_said);
		/* staff: the provider spoke and neither confirms nor contradicts this policy's answer
		 * (basis insurer): its statement is consistent at the concern level (domain.md) */
		if (req->staff && v->basis == ZS_BASIS_INSURER)
			sf->src[sf->nsrc - 1].agreement = "consistent_at_concern_level";
		else if (req->staff && (v->basis == ZS_BASIS_CONFIRMED || v->basis == ZS_BASIS_CONFLICT))
			sf->src[sf->nsrc - 1].agreement =
			        v->basis == ZS_BASIS_CONFIRMED ? "confirms" : "contradicts";
	}
	if (!sf->exempt)
		sf->exempt = json_array(); /* out of memory in exempt_of */
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
	json_array_foreach(sf->exempt, i, x) {
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
	json_t *stop = sf->stop;
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

	sf->st = v ? (zs_status)v->status : ZS_STATUS_UNKNOWN;
	sf->basis = v ? v->basis : ZS_BASIS_NONE;
	sf->as_contracted = v && v->as_contracted;
	sf->ceiling = v && v->ceiling && !ceiling_exempt;
	double pct;
	const char *bas;
	policy_rule(p, care_type, &pct, &bas);
	const feed_entry *stf = v ? zs_reader_find_feed(r, v->ins_feed >= 0 ? v->ins_feed : v->prov_feed) : NULL;
	char since_buf[32];
	zs_conseq_in in = {
		.policy_type = p->type,
		.care_type = care_type,
		.status = sf->st,
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
		.conflict = sf->basis == ZS_BASIS_CONFLICT,
		.provider_only = sf->basis == ZS_BASIS_PROVIDER_ONLY,
		.stale = sf->stale,
		.stale_since = sf->stale && stf && stf->last_success >= 0 /* said only when stale */
		             ? zs_fmt_utc((time_t)stf->last_success, since_buf, sizeof since_buf) : NULL,
		.treatment_in_progress = in_treatment,
		.nc_percent = pct,
		.nc_basis = bas,
		.amount_cents = amount,
	};
	sf->cons = zs_reader_cons_get(r, &in, req->lang);
	/* since: when the status began according to its sources (the deciding statement's own
	 * date, else the day it was said), never this daemon's load time; the moment this daemon
	 * first showed it is shown_since, for staff (history keeps "what was shown when"). */
	if (v) {
		long long said = v->ins_feed >= 0 ? v->ins_said : v->prov_said;
		if (v->began)
			sf->since = v->began;
		else if (said >= 0)
			sf->since = day_of(said, sf->since_buf, sizeof sf->since_buf);
		if (v->since >= 0 && req->staff)
			sf->shown_since = v->since;
	}
	sf->situation = situation;
}

static json_t *source_tree(const src_fact *s)
{
	char b1[32];
	const feed_entry *f = s->f;
	/* name: what people know the source by; "feed" is the configuration key, an identifier
	 * for machines, never put in a text. checked_on: the day (Europe/Amsterdam) the source
	 * was last checked successfully; the exact moment is on /v1/feeds. */
	json_t *o = json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s, s:s?, s:b}", "kind", s->kind,
	                      "name", f ? f->disp_name : NULL, "feed", f ? f->name : NULL,
	                      "status", s->status, "level", s->level,
	                      "said_at", zs_fmt_utc((time_t)s->said, b1, sizeof b1),
	                      "checked_on", f && f->checked_on[0] ? f->checked_on : NULL,
	                      "stale", zs_reader_feed_stale(f));
	if (s->agreement)
		json_object_set_new(o, "agreement", json_string(s->agreement));
	return o;
}

static json_t *status_tree(status_facts *sf)
{
	char buf[32];
	json_t *sources = json_array();
	for (int i = 0; i < sf->nsrc; i++)
		json_array_append_new(sources, source_tree(&sf->src[i]));
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:{s:b, s:O, s:O, s:b, s:b, s:b}, s:o, s:O}",
	                      "care_type", sf->care_type, "status", zs_status_code(sf->st),
	                      "as_contracted", sf->as_contracted, "basis", zs_basis_code(sf->basis),
	                      "flags", "ceiling", sf->ceiling, "ceiling_exempt", sf->exempt,
	                      "patient_stop", sf->stop ? sf->stop : json_null(), "conflict",
	                      sf->basis == ZS_BASIS_CONFLICT, "provider_only",
	                      sf->basis == ZS_BASIS_PROVIDER_ONLY, "stale", sf->stale, "sources",
	                      sources, "consequence", sf->cons ? sf->cons : json_null());
	if (sf->since)
		json_object_set_new(o, "since", json_string(sf->since));
	if (sf->shown_since >= 0)
		json_object_set_new(o, "shown_since",
		                    json_string(zs_fmt_utc((time_t)sf->shown_since, buf, sizeof buf)));
	if (sf->situation)
		json_object_set_new(o, "situation", json_string(sf->situation));
	return o;
}

/* "said_at" of a source: the statements of a feed share a few moments (per thread memo). */
static void write_utc(zs_jbuf *b, long long t)
{
	static __thread long long last_t = -1;
	static __thread char last[32];
	if (t != last_t) {
		zs_fmt_utc((time_t)t, last, sizeof last);
		last_t = t;
	}
	zs_jb_char(b, '"');
	zs_jb_raw(b, last, strlen(last));
	zs_jb_char(b, '"');
}

/* The same bytes as zs_json_dump(status_tree(sf)) (unit test: test_direct_writer_same_bytes). */
static void status_write(zs_jbuf *b, const status_facts *sf, const zs_frozen *frozen)
{
	zs_jb_lit(b, "{\"care_type\":");
	zs_jb_str(b, sf->care_type);
	zs_jb_lit(b, ",\"status\":");
	zs_jb_str(b, zs_status_code(sf->st));
	zs_jb_lit(b, ",\"as_contracted\":");
	zs_jb_bool(b, sf->as_contracted);
	zs_jb_lit(b, ",\"basis\":");
	zs_jb_str(b, zs_basis_code(sf->basis));
	zs_jb_lit(b, ",\"flags\":{\"ceiling\":");
	zs_jb_bool(b, sf->ceiling);
	zs_jb_lit(b, ",\"ceiling_exempt\":");
	zs_jb_value(b, sf->exempt, NULL);
	zs_jb_lit(b, ",\"patient_stop\":");
	if (sf->stop)
		zs_jb_value(b, sf->stop, NULL);
	else
		zs_jb_lit(b, "null");
	zs_jb_lit(b, ",\"conflict\":");
	zs_jb_bool(b, sf->basis == ZS_BASIS_CONFLICT);
	zs_jb_lit(b, ",\"provider_only\":");
	zs_jb_bool(b, sf->basis == ZS_BASIS_PROVIDER_ONLY);
	zs_jb_lit(b, ",\"stale\":");
	zs_jb_bool(b, sf->stale);
	zs_jb_lit(b, "},\"sources\":[");
	for (int i = 0; i < sf->nsrc; i++) {
		const src_fact *s = &sf->src[i];
		if (i)
			zs_jb_char(b, ',');
		zs_jb_lit(b, "{\"kind\":");
		zs_jb_str(b, s->kind);
		if (s->f && s->f->disp_name) {
			zs_jb_lit(b, ",\"name\":");
			zs_jb_str(b, s->f->disp_name);
		}
		if (s->f && s->f->name) {
			zs_jb_lit(b, ",\"feed\":");
			zs_jb_str(b, s->f->name);
		}
		zs_jb_lit(b, ",\"status\":");
		zs_jb_str(b, s->status);
		zs_jb_lit(b, ",\"level\":"); /* null for a level not known: the tree's "s?" */
		if (s->level)
			zs_jb_str(b, s->level);
		else
			zs_jb_lit(b, "null");
		zs_jb_lit(b, ",\"said_at\":");
		write_utc(b, s->said);
		if (s->f && s->f->checked_on[0]) {
			zs_jb_lit(b, ",\"checked_on\":");
			zs_jb_str(b, s->f->checked_on);
		}
		zs_jb_lit(b, ",\"stale\":");
		zs_jb_bool(b, zs_reader_feed_stale(s->f));
		if (s->agreement) {
			zs_jb_lit(b, ",\"agreement\":");
			zs_jb_str(b, s->agreement);
		}
		zs_jb_char(b, '}');
	}
	zs_jb_lit(b, "],\"consequence\":");
	if (sf->cons)
		zs_jb_value(b, sf->cons, frozen);
	else
		zs_jb_lit(b, "null");
	if (sf->since) {
		zs_jb_lit(b, ",\"since\":");
		zs_jb_str(b, sf->since);
	}
	if (sf->shown_since >= 0) {
		zs_jb_lit(b, ",\"shown_since\":");
		write_utc(b, sf->shown_since);
	}
	if (sf->situation) {
		zs_jb_lit(b, ",\"situation\":");
		zs_jb_str(b, sf->situation);
	}
	zs_jb_char(b, '}');
}

json_t *zs_status_json(zs_reader *r, const zs_request *req, const pol_entry *p,
                           const char *care_type, const eff_view *v, long long amount)
{
	status_facts sf;
	status_facts_make(r, req, p, care_type, v, amount, &sf);
	json_t *o = status_tree(&sf);
	facts_free(&sf);
	return o;
}

json_t *zs_status_summary(zs_reader *r, const zs_request *req, const pol_entry *p,
                          const char *care_type, const eff_view *v, long long amount)
{
	status_facts sf;
	status_facts_make(r, req, p, care_type, v, amount, &sf);
	json_t *o = json_pack("{s:s, s:s, s:O?, s:O?, s:b}", "care_type", care_type,
	                      "status", zs_status_code(sf.st),
	                      "consequence", json_object_get(sf.cons, "code"),
	                      "reimbursed_percent", json_object_get(sf.cons, "reimbursed_percent"),
	                      "conflict", sf.basis == ZS_BASIS_CONFLICT);
	facts_free(&sf);
	return o;
}

/* compare's summary of a status, written from its facts */
static void summary_write(zs_jbuf *b, const status_facts *sf)
{
	json_t *code = json_object_get(sf->cons, "code");
	json_t *pct = json_object_get(sf->cons, "reimbursed_percent");
	zs_jb_lit(b, "{\"care_type\":");
	zs_jb_str(b, sf->care_type);
	zs_jb_lit(b, ",\"status\":");
	zs_jb_str(b, zs_status_code(sf->st));
	if (code) {
		zs_jb_lit(b, ",\"consequence\":");
		zs_jb_value(b, code, NULL);
	}
	if (pct) {
		zs_jb_lit(b, ",\"reimbursed_percent\":");
		zs_jb_value(b, pct, NULL);
	}
	zs_jb_lit(b, ",\"conflict\":");
	zs_jb_bool(b, sf->basis == ZS_BASIS_CONFLICT);
	zs_jb_char(b, '}');
}

/* ---- the status memo ---------------------------------------------------------------------
 * A lookup writes one status per policy and care type, ~1,000 for a hospital, and most of
 * them are the same text for many providers: the same policy, care type, status, sources (a
 * feed's statements share a few moments) and request. So the text of a status is kept per
 * reader under every input it is made from (zs_memo.h), and written again by one copy. Like
 * the consequence memo it outlives snapshots: what a snapshot can change in a text (the
 * policy's type and rule, a source's name, checked_on and stale) is part of the key, so a feed
 * change leaves the texts of every other feed's statuses to be found, also right after the
 * change, when many answers are computed again. */
#define SMEMO_SETS 4096       /* 8,192 texts per reader */
#define SMEMO_MAX_TEXT 16384  /* a status is ~1 KB; a longer one is written every time */

/* What a source shows (source_tree / status_write): its state in the key (-1 no source, else
 * 2 when the snapshot has the feed, | 1 when it is shown stale) and its texts' number
 * (zs_reader.c feed_mkey; 0 for no feed). Returns the feed (NULL when there is none or it is
 * gone); *over when its texts have no number (no key). */
static const feed_entry *feed_key(zs_reader *r, long long feed_id, int16_t *state,
                                  uint32_t *id, int *stale, int *over)
{
	*stale = 0;
	*id = 0;
	if (feed_id < 0) {
		*state = -1;
		return NULL;
	}
	const feed_entry *f = zs_reader_find_feed(r, feed_id);
	*stale = zs_reader_feed_stale(f);
	*state = (int16_t)((f ? 2 : 0) | *stale);
	if (f && !f->mkey_id)
		*over = 1;
	else if (f)
		*id = f->mkey_id;
	return f;
}

/* What the request adds to a status's key (besides the amount, which status_key writes). */
static void request_key(const zs_request *req, zs_mkey *k)
{
	zs_mkey_str(k, req->lang);
	zs_mkey_int(k, req->staff);
	zs_mkey_str(k, zs_param(req, "in_treatment"));
	zs_mkey_str(k, req_situation(req));
}

/* The fixed part of a status's key, written whole: one copy and no padding left unset (it is
 * cleared first). The codes of a status are small; one that does not fit in 16 bits makes no
 * key (the status is written without the memo), never a key cut short. */
struct skey_fixed {
	int64_t amount, ins_feed, ins_said, prov_feed, prov_said, since, last_success;
	double pct;
	uint32_t fkey_ins, fkey_prov;
	int16_t summary, type, has_row, status, as_contracted, ceiling, basis, ins_status,
	        ins_level, prov_status, prov_level, state_ins, state_prov, has_last_success,
	        unused[2]; /* no padding: every byte of the key is set */
};
_Static_assert(sizeof(struct skey_fixed) == 7 * 8 + 8 + 2 * 4 + 16 * 2,
               "the fixed part of a status key has no padding");

/* Inside zs_api_call: the request's part of the keys, made once per call (r->mreq_key,
 * r->mreq_len; 0 when it does not fit). */
static void call_request_key(zs_reader *r, const zs_request *req)
{
	if (r->mreq == req && r->mreq_call == r->ncalls)
		return;
	zs_mkey rk;
	zs_mkey_init(&rk, r->mreq_key, sizeof r->mreq_key);
	request_key(req, &rk);
	r->mreq = req;
	r->mreq_call = r->ncalls;
	r->mreq_len = rk.over ? 0 : (size_t)(rk.p - r->mreq_key);
}

static int16_t code16(long long v, int *over)
{
	if (v < INT16_MIN || v > INT16_MAX) {
		*over = 1;
		return 0;
	}
	return (int16_t)v;
}

/* The key of a status: 0, or -1 when it does not fit (written without the memo). Inside
 * zs_api_call, whose request does not change, the request's part is made once per call (a
 * lookup writes ~1,000 statuses). */
static int status_key(zs_reader *r, const zs_request *req, const pol_entry *p, int summary,
                      const char *care_type, const eff_view *v, long long amount, zs_mkey *k)
{
	struct skey_fixed f;
	const char *basis;
	int over = 0;
	memset(&f, 0, sizeof f);
	f.amount = amount; /* the call's too, but given per status: in the key of each */
	f.summary = (int16_t)summary;
	policy_rule(p, care_type, &f.pct, &basis);
	f.type = code16((long long)p->type, &over);
	f.has_row = v != NULL;
	if (v) {
		int si, sp;
		f.status = code16(v->status, &over);
		f.as_contracted = code16(v->as_contracted, &over);
		f.ceiling = code16(v->ceiling, &over);
		f.basis = code16(v->basis, &over);
		f.ins_status = code16(v->ins_status, &over);
		f.ins_level = code16(v->ins_level, &over);
		f.prov_status = code16(v->prov_status, &over);
		f.prov_level = code16(v->prov_level, &over);
		f.ins_feed = v->ins_feed;
		f.ins_said = v->ins_said;
		f.prov_feed = v->prov_feed;
		f.prov_said = v->prov_said;
		f.since = req->staff ? v->since : -1;
		const feed_entry *fi = feed_key(r, v->ins_feed, &f.state_ins, &f.fkey_ins, &si, &over);
		const feed_entry *fp = feed_key(r, v->prov_feed, &f.state_prov, &f.fkey_prov, &sp,
		                                &over);
		if (si || sp) { /* the consequence then names the deciding source's last success */
			const feed_entry *d = v->ins_feed >= 0 ? fi : fp;
			f.has_last_success = 1;
			f.last_success = d ? d->last_success : -1;
		}
	}
	if (over)
		return -1;
	zs_mkey_put(k, &f, sizeof f);
	if (!r->in_call) {
		request_key(req, k);
	} else {
		call_request_key(r, req);
		if (r->mreq_len)
			zs_mkey_put(k, r->mreq_key, r->mreq_len);
		else
			k->over = 1;
	}
	zs_mkey_str(k, basis);
	zs_mkey_str(k, care_type);
	if (v) {
		zs_mkey_str(k, v->ceiling_exempt);
		zs_mkey_str(k, v->began);
		zs_mkey_str(k, v->stop);
		if (v->stop) { /* whether a stop is in force depends on the day */
			char today[16];
			zs_fresh_day(req->now, today, sizeof today);
			zs_mkey_str(k, today);
		}
	}
	return k->over ? -1 : 0;
}

/* The memo's front. A row in memory is one of its version's patterns, and within one snapshot
 * a pattern and a policy are each one pointer; with the call's request, its day and the
 * snapshot (the front's context), they are every input of a status's text. So a status of a row
 * in memory is found by those pointers and the amount, without making its key (which was a
 * fifth of a cold lookup); the text itself stays in the memo, the front holds a reference to it
 * (zs_tmemo_ref), which finds nothing once the text has left. Direct-mapped; a slot of another
 * context (a new snapshot, day or request) is a miss. */
#define FRONT_SLOTS 16384
struct zs_front {
	const eff_view *v;
	const pol_entry *p;
	long long amount;
	uint64_t ctx;          /* r->fctx_serial when filled */
	int summary;
	zs_tmemo_ref ref;
};

/* The call's context checked against the front's (once per call): 0, or -1 (no front). */
static int front_ctx(zs_reader *r, const zs_request *req)
{
	if (r->fctx_call == r->ncalls && r->fctx_serial)
		return 0;
	call_request_key(r, req);
	if (!r->mreq_len)
		return -1;
	unsigned char c[sizeof r->fctx];
	char day[16];
	long long gen = r->gen;
	zs_fresh_day(req->now, day, sizeof day);
	size_t dl = strlen(day) + 1, n = sizeof gen + dl + r->mreq_len;
	if (n > sizeof c)
		return -1;
	memcpy(c, &gen, sizeof gen);
	memcpy(c + sizeof gen, day, dl);
	memcpy(c + sizeof gen + dl, r->mreq_key, r->mreq_len);
	if (n != r->fctx_len || memcmp(c, r->fctx, n) != 0 || !r->fctx_serial) {
		memcpy(r->fctx, c, n);
		r->fctx_len = n;
		r->fctx_serial++; /* every slot filled before is of another context now */
	}
	r->fctx_call = r->ncalls;
	return 0;
}

static struct zs_front *front_slot(zs_reader *r, const zs_request *req, const eff_view *v,
                                   const pol_entry *p, long long amount, int summary)
{
	if (!r->front_ok || !v || !r->in_call || front_ctx(r, req) != 0)
		return NULL;
	if (!r->front && !(r->front = calloc(FRONT_SLOTS, sizeof *r->front)))
		return NULL;
	uint64_t h = ((uint64_t)(uintptr_t)v * 0x9e3779b97f4a7c15ULL) ^
	             ((uint64_t)(uintptr_t)p * 0xc2b2ae3d27d4eb4fULL) ^ (uint64_t)amount ^
	             (uint64_t)summary;
	h ^= h >> 29;
	return &r->front[h % FRONT_SLOTS];
}

static void front_fill(zs_reader *r, struct zs_front *fs, const eff_view *v, const pol_entry *p,
                       long long amount, int summary)
{
	*fs = (struct zs_front){ v, p, amount, r->fctx_serial, summary, zs_tmemo_last(r->smemo) };
}

/* A status (summary 0) or its summary (1) written into b, from the memo when it has the text. */
static void memo_write(zs_reader *r, const zs_request *req, const pol_entry *p,
                       const char *care_type, const eff_view *v, long long amount, int summary,
                       zs_jbuf *b)
{
	unsigned char key[1024];
	zs_mkey k;
	size_t len;
	const char *text;
	struct zs_front *fs = front_slot(r, req, v, p, amount, summary);
	if (fs && r->smemo && fs->v == v && fs->p == p && fs->amount == amount &&
	    fs->summary == summary && fs->ctx == r->fctx_serial &&
	    (text = zs_tmemo_at(r->smemo, fs->ref, &len))) {
		status_deps(r, v);
		zs_jb_raw(b, text, len);
		return;
	}
	zs_mkey_init(&k, key, sizeof key);
	int memo = status_key(r, req, p, summary, care_type, v, amount, &k) == 0 &&
	           (r->smemo || (r->smemo = zs_tmemo_new(SMEMO_SETS, SMEMO_MAX_TEXT)));
	size_t klen = (size_t)(k.p - key);
	text = memo ? zs_tmemo_get(r->smemo, key, klen, &len) : NULL;
	if (text) {
		if (fs)
			front_fill(r, fs, v, p, amount, summary);
		status_deps(r, v);
		zs_jb_raw(b, text, len);
		return;
	}
	status_facts sf;
	size_t start = b->len;
	status_facts_make(r, req, p, care_type, v, amount, &sf);
	if (summary)
		summary_write(b, &sf);
	else
		status_write(b, &sf, r->frozen);
	facts_free(&sf);
	if (memo && !b->oom &&
	    zs_tmemo_put(r->smemo, key, klen, b->p + start, b->len - start) == 0 && fs)
		front_fill(r, fs, v, p, amount, summary);
}

void zs_status_write(zs_reader *r, const zs_request *req, const pol_entry *p,
                     const char *care_type, const eff_view *v, long long amount, zs_jbuf *b)
{
	memo_write(r, req, p, care_type, v, amount, 0, b);
}

void zs_status_summary_write(zs_reader *r, const zs_request *req, const pol_entry *p,
                             const char *care_type, const eff_view *v, long long amount,
                             zs_jbuf *b)
{
	memo_write(r, req, p, care_type, v, amount, 1, b);
}

void zs_status_memo_stats(const zs_reader *r, zs_tmemo_stats *s)
{
	zs_tmemo_get_stats(r->smemo, s);
}

json_t *zs_provider_obj(const char *agb, const char *name, const char *kind, const char *parent,
                        const char *locations)
{
	json_t *l = locations ? json_loads(locations, 0, NULL) : NULL;
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "agb", agb, "name", name, "kind", kind,
	                 "parent", parent, "locations", l ? l : json_array());
}

json_t *zs_provider_json(zs_reader *r, const char *agb, int *found)
{
	sqlite3_stmt *st = r->sel_provider;
	json_t *o = NULL;
	*found = 0;
	/* written directly with the rows in memory: the text its version holds, spliced */
	const char *text;
	size_t len;
	int mem = r->direct && r->rver ? zs_rver_provider(r->rver, agb, &text, &len) : -1;
	if (mem == 1 && (o = json_object()) && zs_frozen_add_ref(r->raw, o, text, len) == 0) {
		*found = 1;
		return o;
	}
	json_decref(o);
	o = NULL;
	if (mem != 0) { /* 0: the snapshot has no record of it */
		sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			o = zs_provider_obj(agb, (const char *)sqlite3_column_text(st, 0),
			                    (const char *)sqlite3_column_text(st, 1),
			                    (const char *)sqlite3_column_text(st, 2),
			                    (const char *)sqlite3_column_text(st, 3));
			*found = 1;
		}
		sqlite3_reset(st);
	}
	if (!*found)
		o = json_pack("{s:s, s:n, s:n, s:n, s:[]}", "agb", agb, "name", "kind", "parent",
		              "locations");
	return o;
}

void zs_rowset_free(zs_rowset *rs)
{
	for (size_t k = 0; k < rs->nchunks; k++)
		free(rs->chunks[k]);
	free(rs->chunks);
	free(rs->rows);
	free(rs->own);
	for (size_t c = 0; c < rs->nct; c++)
		free(rs->care_types[c]);
	memset(rs, 0, sizeof *rs);
}

/* A copy of a text column in the rowset's chunks (one allocation per 16 KiB, not per string;
 * a hospital has ~1,000 rows); NULL for NULL or out of memory. */
static const char *rs_dup(zs_rowset *rs, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	if (!s)
		return NULL;
	size_t n = (size_t)sqlite3_column_bytes(st, col) + 1;
	if (!rs->nchunks || rs->used + n > rs->room) {
		size_t room = n > 16384 ? n : 16384;
		char **nc = realloc(rs->chunks, (rs->nchunks + 1) * sizeof *nc);
		if (!nc)
			return NULL;
		rs->chunks = nc;
		if (!(nc[rs->nchunks] = malloc(room)))
			return NULL;
		rs->nchunks++;
		rs->used = 0;
		rs->room = room;
	}
	char *d = rs->chunks[rs->nchunks - 1] + rs->used;
	memcpy(d, s, n);
	rs->used += n;
	return d;
}

/* Care types in strcmp order (catalogue order would need the catalogue; this one is stable),
 * and only_care when no row has it. */
static void rowset_finish(zs_rowset *rs, const char *only_care)
{
	for (size_t i = 1; i < rs->nct; i++)
		for (size_t j = i; j > 0 && strcmp(rs->care_types[j - 1], rs->care_types[j]) > 0; j--) {
			char *t = rs->care_types[j];
			rs->care_types[j] = rs->care_types[j - 1];
			rs->care_types[j - 1] = t;
		}
	if (only_care && rs->nct == 0)
		rs->care_types[rs->nct++] = strdup(only_care);
}

/* The rows from the version in memory (zs_rows.h): the same rows in the same order as the
 * table gives, strings borrowed from the version (held by the reader for the whole call).
 * 0, or -1 when the version does not hold the provider. */
static int rowset_from_memory(zs_reader *r, const char *agb, int year, const char *only_care,
                              zs_rowset *rs)
{
	const zs_rrow *rows;
	size_t n;
	if (!r->rver || !zs_rver_rows(r->rver, agb, year, &rows, &n))
		return -1;
	if (n && !(rs->rows = malloc(n * sizeof *rs->rows)))
		return -1; /* out of memory: the table's way, which copes with it */
	/* Rows of retired policies are not in the version (zs_rows.c leaves them out, reading the
	 * retired list of the same snapshot), so none is asked about here. */
	const char *cts[ZS_MAX_CARE_TYPES]; /* interned: the same text is the same pointer */
	for (size_t i = 0; i < n; i++) {
		const eff_view *v = zs_rver_pattern(r->rver, rows[i].pat);
		if (only_care && strcmp(v->care_type, only_care) != 0)
			continue;
		zs_effrow *e = &rs->rows[rs->nrows++];
		e->policy_id = zs_rver_policy(r->rver, rows[i].pol);
		e->v = v; /* the pattern itself: no copy */
		int seen = 0;
		for (size_t c = 0; c < rs->nct && !seen; c++)
			seen = cts[c] == v->care_type;
		if (!seen && rs->nct < ZS_MAX_CARE_TYPES) {
			cts[rs->nct] = v->care_type;
			if (!(rs->care_types[rs->nct] = strdup(v->care_type)))
				break;
			rs->nct++;
		}
	}
	rs->in_memory = 1;
	rowset_finish(rs, only_care);
	return 0;
}

int zs_rowset_load(zs_reader *r, const char *agb, int year, const char *only_care, zs_rowset *rs)
{
	sqlite3_stmt *st = r->sel_eff;
	size_t cap = 0, capown = 0;
	memset(rs, 0, sizeof *rs);
	if (rowset_from_memory(r, agb, year, only_care, rs) == 0)
		return 0;
	sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, year);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ct = (const char *)sqlite3_column_text(st, 1);
		if (!ct || (only_care && strcmp(ct, only_care) != 0))
			continue;
		if (zs_reader_retired(r, year, (const char *)sqlite3_column_text(st, 0)))
			continue; /* its policy has left the feeds (zs_rollover.h) */
		if (zs_grow(&rs->rows, &cap, rs->nrows, sizeof *rs->rows, 32) ||
		    zs_grow(&rs->own, &capown, rs->nrows, sizeof *rs->own, 32))
			break;
		zs_effrow *e = &rs->rows[rs->nrows];
		eff_view *v = &rs->own[rs->nrows];
		zs_eff_from_row(st, v);
		e->policy_id = rs_dup(rs, st, 0);
		v->care_type = rs_dup(rs, st, 1);
		v->ceiling_exempt = rs_dup(rs, st, 5);
		v->stop = rs_dup(rs, st, 6);
		v->began = rs_dup(rs, st, 17);
		if (!e->policy_id || !v->care_type)
			break; /* out of memory: the rows so far */
		rs->nrows++;
		/* The care types any source mentions for this provider in this year. */
		int seen = 0;
		for (size_t c = 0; c < rs->nct && !seen; c++)
			seen = strcmp(rs->care_types[c], ct) == 0;
		if (!seen && rs->nct < ZS_MAX_CARE_TYPES)
			rs->care_types[rs->nct++] = strdup(ct);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < rs->nrows; i++) /* own has stopped moving */
		rs->rows[i].v = &rs->own[i];
	rowset_finish(rs, only_care);
	return 0;
}

/* Binary search: the rows come ordered by policy_id, care_type (sel_eff's ORDER BY, in
 * SQLite's binary collation, which is strcmp's order). A hospital has ~1,000 rows and ~1,000
 * lookups per answer: a linear scan was a million comparisons. */
const eff_view *zs_rowset_find(const zs_rowset *rs, const char *policy_id, const char *care_type)
{
	size_t lo = 0, hi = rs->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const zs_effrow *e = &rs->rows[mid];
		int c = strcmp(e->policy_id, policy_id);
		if (c == 0)
			c = strcmp(e->v->care_type, care_type);
		if (c == 0)
			return e->v;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The first row of policy_id or after it (the rows are in (policy_id, care_type) order). */
static size_t rowset_lower(const zs_rowset *rs, const char *policy_id)
{
	size_t lo = 0, hi = rs->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(rs->rows[mid].policy_id, policy_id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The end of the run of rows of the policy of row k (in memory, a policy's rows share one
 * pointer). */
static size_t run_end(const zs_rowset *rs, size_t k)
{
	const char *pid = rs->rows[k].policy_id;
	while (k < rs->nrows && (rs->rows[k].policy_id == pid ||
	                         strcmp(rs->rows[k].policy_id, pid) == 0))
		k++;
	return k;
}

/* Rows [j, end) of rs: policy p's (its rows are one run, in care type order as
 * rs->care_types). */
static void policy_run(const zs_rowset *rs, const pol_entry *p, size_t *j, size_t *end)
{
	size_t k = rowset_lower(rs, p->id);
	*j = k;
	*end = k < rs->nrows && strcmp(rs->rows[k].policy_id, p->id) == 0 ? run_end(rs, k) : k;
}

/* The runs of every policy of year in rs into r->run (2 per policy: start, end), found by
 * walking the rows and the year's policies in id order together: a national lookup searched
 * its ~300 rows once per policy (~500 string comparisons), this is one pass. 0, or -1 when the
 * reader has no id order (out of memory): search per policy. */
static int policy_runs(zs_reader *r, int year, const zs_rowset *rs)
{
	if (!r->pols_by_id)
		return -1;
	size_t j = 0;
	/* a year's policy ids are distinct (the policy table's key is (id, year)) */
	for (size_t k = 0; k < r->npols; k++) {
		const pol_entry *p = r->pols_by_id[k];
		if (p->year != year)
			continue;
		size_t i = (size_t)(p - r->pols);
		int c = 1;
		while (j < rs->nrows && (c = strcmp(rs->rows[j].policy_id, p->id)) < 0)
			j++;
		r->run[2 * i] = j;
		if (j < rs->nrows && c == 0)
			j = run_end(rs, j);
		r->run[2 * i + 1] = j;
	}
	return 0;
}

/* The status list of one policy as text (into b): its rows [j, end) of rs and the care types
 * walked together (a hospital's ~1,000 rows were searched once per policy and care type). */
static void statuses_write(zs_reader *r, const zs_request *req, const pol_entry *p,
                           const zs_rowset *rs, size_t j, size_t end, long long amount,
                           zs_jbuf *b)
{
	zs_jb_char(b, '[');
	r->front_ok = rs->in_memory;
	for (size_t c = 0; c < rs->nct; c++) {
		const char *ct = rs->care_types[c];
		int cmp = 1;
		while (j < end && (cmp = strcmp(rs->rows[j].v->care_type, ct)) < 0)
			j++;
		if (c)
			zs_jb_char(b, ',');
		zs_status_write(r, req, p, ct, j < end && cmp == 0 ? rs->rows[j].v : NULL, amount, b);
	}
	r->front_ok = 0;
	zs_jb_char(b, ']');
}

/* The list of a year's policies with this provider's statuses. */
static void year_policies_write(zs_reader *r, const zs_request *req, int year,
                                const zs_rowset *rs, long long amount, zs_jbuf *b)
{
	int first = 1, runs = policy_runs(r, year, rs) == 0;
	zs_jb_char(b, '[');
	for (size_t i = 0; i < r->npols; i++) {
		const pol_entry *p = &r->pols[i];
		if (p->year != year)
			continue;
		if (!first)
			zs_jb_char(b, ',');
		first = 0;
		zs_jb_lit(b, "{\"policy\":");
		zs_jb_value(b, p->summary, r->frozen);
		zs_jb_lit(b, ",\"statuses\":");
		size_t j, end;
		if (runs) {
			j = r->run[2 * i];
			end = r->run[2 * i + 1];
		} else {
			policy_run(rs, p, &j, &end);
		}
		statuses_write(r, req, p, rs, j, end, amount, b);
		zs_jb_char(b, '}');
	}
	zs_jb_char(b, ']');
}

int zs_direct_freeze(zs_reader *r, json_t *v, void (*write)(void *ctx, zs_jbuf *b), void *ctx)
{
	/* into the reader's scratch buffer; if it is full, once more into a buffer of its own */
	zs_jbuf own = { .first_cap = 65536 }, *out = &r->scratch;
	size_t start = out->len;
	write(ctx, out);
	if (!out->oom)
		return zs_frozen_add_ref(r->raw, v, out->p + start, out->len - start);
	r->scratch.len = start;
	r->scratch.oom = 0;
	write(ctx, &own);
	size_t len;
	char *text = zs_jb_take(&own, &len);
	return text ? zs_frozen_add_text(r->raw, v, text, len) : -1;
}

static void year_write(void *ctx, zs_jbuf *b)
{
	zs_write_ctx *y = ctx;
	if (y->p) {
		size_t j, end;
		policy_run(y->rs, y->p, &j, &end);
		statuses_write(y->r, y->req, y->p, y->rs, j, end, y->amount, b);
	} else {
		year_policies_write(y->r, y->req, y->year, y->rs, y->amount, b);
	}
}

/* With only_policy, that policy's status list (v: its "statuses"); without, the whole year's
 * list of policies (v: the list). 0, or -1: the caller builds the tree after all. */
static int year_direct(zs_reader *r, const zs_request *req, int year, const pol_entry *only,
                       const zs_rowset *rs, long long amount, json_t *v)
{
	zs_write_ctx y = { r, req, year, only, rs, amount };
	return zs_direct_freeze(r, v, year_write, &y);
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
	/* direct: the whole year as one text (a lookup), or below per policy (a status) */
	if (r->direct && !only_policy && year_direct(r, req, year, NULL, &rs, amount, policies) == 0) {
		zs_rowset_free(&rs);
		return policies;
	}
	for (size_t i = 0; i < r->npols; i++) {
		const pol_entry *p = &r->pols[i];
		if (p->year != year || (only_policy && strcmp(p->id, only_policy) != 0))
			continue;
		json_t *statuses = json_array();
		if (r->direct && year_direct(r, req, year, p, &rs, amount, statuses) == 0) {
			/* written as text: statuses is its placeholder (zs_api_dump splices it) */
		} else {
			for (size_t c = 0; c < rs.nct; c++)
				json_array_append_new(statuses,
				        zs_status_json(r, req, p, rs.care_types[c],
				                       zs_rowset_find(&rs, p->id, rs.care_types[c]), amount));
		}
		json_array_append_new(policies, json_pack("{s:O, s:o}", "policy", p->summary,
		                                          "statuses", statuses));
	}
	zs_rowset_free(&rs);
	return policies;
}
