/* test_api.c - unit tests of the API v1 handlers (zs_api.h), called as plain functions
 * against a database filled through zs_ingest_apply. Expected values are written by hand
 * from docs/api.md, feeds/README.md and /work/shared/domain.md ("Sources and
 * reconciliation", "Publication calendar"), not taken from program output.
 *
 * The data (contract year 2027 unless said otherwise):
 *   feed zk (insurer 3311, concern achmea): policies 3311-BASIS (natura, 2027 and 2026) and
 *     3311-EXCL (restitutie); about AGB 06010101:
 *       3311-BASIS hospital       negotiating, as contracted (policy level)
 *       insurer 3311 ggz          contracted_ceiling, exempt [acute] (insurer level)
 *       3311-EXCL hospital        contracted (policy level)
 *       insurer 3311 2026 hospital contracted
 *   feed antonius (provider):
 *       06010101 concern achmea hospital contracted      -> agrees for 3311-EXCL (confirmed);
 *                                                          no conflict for 3311-BASIS (insurer)
 *       06010101 3311-BASIS ggz not_contracted           -> conflict with contracted_ceiling
 *       47470001 concern achmea district nursing contracted with a client stop
 *                                                          -> provider_only on both policies
 *   feed kapot (provider): a version-2 header, rejected. */
#include "testutil.h"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "zs_api.h"
#include "zs_deps.h"
#include "zs_api_priv.h"
#include "zs_big.h"
#include "zs_config.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_jsonw.h"
#include "zs_fresh.h"
#include "zs_ingest.h"
#include "zs_time.h"
#include "zs_worker.h"

static const char CONF[] =
	"[feed zk]\nkind = insurer\nurl = /nonexistent/zk.jsonl\n"
	"[feed antonius]\nkind = provider\n"
	"url = https://ant:geheim@feeds.example.nl/antonius.jsonl\n"
	"[feed kapot]\nkind = provider\nurl = /nonexistent/kapot.jsonl\n";

#define ZK_HDR "{'type':'header','format':'zorgstatus-insurer','version':1," \
	"'generated_at':'2026-11-12T06:00:00+01:00','concern':{'id':'achmea','name':'Achmea'}," \
	"'insurer':{'uzovi':'3311','name':'Zilveren Kruis Zorgverzekeringen N.V.'}}"
#define ZK_BODY \
	"{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis Zeker'," \
	"'label':'Zilveren Kruis','kind':'natura','reimbursement':[" \
	"{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}," \
	"{'care_type':'mental_health','percent':60,'basis':'avg_contracted_tariff'}]}", \
	"{'type':'policy','id':'3311-EXCL','year':2027,'name':'Basis Exclusief'," \
	"'label':'Zilveren Kruis','kind':'restitutie','reimbursement':[" \
	"{'care_type':'*','percent':100,'basis':'market_tariff'}]}", \
	"{'type':'policy','id':'3311-BASIS','year':2026,'name':'Basis Zeker'," \
	"'label':'Zilveren Kruis','kind':'natura','reimbursement':[" \
	"{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}", \
	"{'type':'provider','agb':'06010101','name':'Antonius (volgens ZK)','kind':'hospital'," \
	"'locations':[{'street':'Koekoekslaan 1','postcode':'3435CM','city':'Nieuwegein'}]}", \
	"{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027," \
	"'care_type':'hospital','status':'negotiating','as_contracted':true," \
	"'said_at':'2026-11-10T09:00:00+01:00'}", \
	"{'type':'status','agb':'06010101','insurer':'3311','year':2027," \
	"'care_type':'mental_health','status':'contracted_ceiling','ceiling':{'exempt':['acute']}}", \
	"{'type':'status','agb':'06010101','policy':'3311-EXCL','year':2027," \
	"'care_type':'hospital','status':'contracted'}", \
	"{'type':'status','agb':'06010101','insurer':'3311','year':2026," \
	"'care_type':'hospital','status':'contracted'}"

static char *dir;
static zs_config cfg;
static sqlite3 *db;
static zs_reader *rd;
static time_t now_dec;   /* 2026-12-01T12:00:00 Amsterdam */
static time_t t_apply;   /* an hour earlier: the feeds' last success */

static void apply(const char *name, FILE *body, time_t when, int expect_applied)
{
	zs_ingest_result res;
	char err[512] = "";
	const zs_feed_conf *fc = NULL;
	for (size_t i = 0; i < cfg.nfeeds; i++)
		if (strcmp(cfg.feeds[i].name, name) == 0)
			fc = &cfg.feeds[i];
	ck_assert_ptr_nonnull(fc);
	ck_assert_msg(zs_ingest_apply(db, fc, body, when, &res, err, sizeof err) == 0, "%s", err);
	fclose(body);
	ck_assert_msg(res.applied == expect_applied, "feed %s: applied %d: %s", name, res.applied,
	              res.error);
	atomic_store(&zs_generation, zs_db_generation(db));
}

/* A generation committed by hand is published as the worker publishes each one it commits
 * (zs_worker.c): a direct answer keeps its snapshot while no newer one is published. */
static void publish(void)
{
	atomic_store(&zs_generation, zs_db_generation(db));
}

static void remove_tmp(void)
{
	if (dir) {
		tu_rmdb(dir);
		free(dir);
		dir = NULL;
	}
}

static void setup(void)
{
	char err[512], path[4096];
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_msg(zs_phrases_init(err, sizeof err) == 0, "%s", err);
	now_dec = zs_parse_local("2026-12-01T12:00:00");
	ck_assert_int_ne((long long)now_dec, -1);
	t_apply = now_dec - 3600;
	dir = tu_tmpdir();
	snprintf(path, sizeof path, "%s/zs.db", dir);
	zs_config_defaults(&cfg);
	ck_assert_int_eq(zs_config_set(&cfg, "database", path, err, sizeof err), 0);
	ck_assert_msg(zs_config_parse(&cfg, CONF, "test.conf", dir, err, sizeof err) == 0, "%s",
	              err);
	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_msg(zs_ingest_register(db, &cfg, err, sizeof err) == 0, "%s", err);
	apply("zk", TU_FEED(ZK_HDR, ZK_BODY, "{'type':'end','records':8}"), t_apply, 1);
	apply("antonius", TU_FEED(
		"{'type':'header','format':'zorgstatus-provider','version':1,"
		"'generated_at':'2026-11-12T08:00:00+01:00','publisher':{'name':'St. Antonius'}}",
		"{'type':'provider','agb':'06010101','name':'Sint Antonius Ziekenhuis',"
		"'kind':'hospital','parent':'St. Antonius Zorggroep','locations':["
		"{'street':'Koekoekslaan 1','postcode':'3435 cm','city':'Nieuwegein'}]}",
		"{'type':'provider','agb':'47470001','name':'Buurtzorg Zuidoost',"
		"'kind':'district_nursing','locations':[{'postcode':'5611AB','city':'Eindhoven'}]}",
		"{'type':'status','agb':'06010101','concern':'achmea','year':2027,"
		"'care_type':'hospital','status':'contracted'}",
		"{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
		"'care_type':'mental_health','status':'not_contracted'}",
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'contracted','patient_stop':{"
		"'reason':'staff_shortage','from':'2026-10-01','until':'2027-01-31',"
		"'note':'Geen nieuwe clienten'}}",
		"{'type':'end','records':5}"), t_apply, 1);
	apply("kapot", TU_FEED("{'type':'header','format':'zorgstatus-provider','version':2}",
	                       "{'type':'end','records':0}"), t_apply, 0);
	rd = zs_reader_open(&cfg, err, sizeof err);
	ck_assert_msg(rd != NULL, "%s", err);
}

static void teardown(void)
{
	zs_reader_close(rd);
	rd = NULL;
	sqlite3_close(db);
	db = NULL;
	zs_config_free(&cfg);
	remove_tmp();
}

/* Call a handler: params as key, value pairs ending with NULL. */
static json_t *call(zs_handler h, const char *path_arg, time_t now, int *status, ...)
{
	zs_kv kv[8];
	size_t n = 0;
	va_list ap;
	va_start(ap, status);
	for (const char *k; (k = va_arg(ap, const char *)) != NULL && n < 8; n++) {
		kv[n].key = k;
		kv[n].value = va_arg(ap, const char *);
	}
	va_end(ap);
	zs_request req = { .params = kv, .nparams = n, .path_arg = path_arg, .lang = "nl",
		           .now = now, .staff = 0 };
	*status = 0;
	json_t *o = h(rd, &req, status);
	ck_assert_ptr_nonnull(o);
	return o;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	ck_assert_msg(s != NULL, "no string \"%s\"", key);
	return s;
}

static void expect_error(json_t *o, int status, int http, const char *code, const char *param)
{
	ck_assert_int_eq(status, http);
	json_t *e = json_object_get(o, "error");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(str(e, "code"), code);
	ck_assert(json_string_value(json_object_get(e, "message")) != NULL);
	if (param)
		ck_assert_str_eq(str(e, "parameter"), param);
}

static json_t *policy_entry(json_t *policies, const char *id)
{
	size_t i;
	json_t *p;
	json_array_foreach(policies, i, p)
		if (strcmp(str(json_object_get(p, "policy"), "id"), id) == 0)
			return p;
	ck_abort_msg("no policy %s", id);
	return NULL;
}

static json_t *status_of(json_t *policies, const char *id, const char *care_type)
{
	json_t *statuses = json_object_get(policy_entry(policies, id), "statuses");
	size_t i;
	json_t *s;
	json_array_foreach(statuses, i, s)
		if (strcmp(str(s, "care_type"), care_type) == 0)
			return s;
	ck_abort_msg("no status %s for %s", care_type, id);
	return NULL;
}

static int flag(json_t *status, const char *name)
{
	json_t *v = json_object_get(json_object_get(status, "flags"), name);
	ck_assert_msg(json_is_boolean(v), "flag %s is not a boolean", name);
	return json_is_true(v);
}

/* One source of a status object: kind, feed, status, level. */
static void expect_source(json_t *st, size_t i, const char *kind, const char *feed,
                          const char *status, const char *level)
{
	json_t *s = json_array_get(json_object_get(st, "sources"), i);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(str(s, "kind"), kind);
	ck_assert_str_eq(str(s, "feed"), feed);
	ck_assert_str_eq(str(s, "status"), status);
	ck_assert_str_eq(str(s, "level"), level);
}

/* ---- /v1/providers/{agb} ----------------------------------------------------------------- */

START_TEST(test_provider_errors)
{
	int st;
	json_t *o = call(zs_api_provider, "12345678", now_dec, &st, NULL);
	expect_error(o, st, 404, "not_found", "agb");
	json_decref(o);
	o = call(zs_api_provider, "123", now_dec, &st, NULL);
	expect_error(o, st, 400, "bad_parameter", "agb");
	json_decref(o);
	o = call(zs_api_provider, "0601010a", now_dec, &st, NULL);
	expect_error(o, st, 400, "bad_parameter", "agb");
	json_decref(o);
	o = call(zs_api_provider, NULL, now_dec, &st, NULL);
	expect_error(o, st, 400, "bad_parameter", "agb");
	json_decref(o);
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "abc", NULL);
	expect_error(o, st, 400, "bad_parameter", "year");
	json_decref(o);
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027x", NULL);
	expect_error(o, st, 400, "bad_parameter", "year");
	json_decref(o);
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "1999", NULL);
	expect_error(o, st, 400, "bad_parameter", "year");
	json_decref(o);
	o = call(zs_api_provider, "06010101", now_dec, &st, "care_type", "tandarts", NULL);
	expect_error(o, st, 400, "bad_parameter", "care_type");
	json_decref(o);
}
END_TEST

START_TEST(test_provider_not_yet_published)
{
	int st;
	/* one second before 12 November 2026 00:00 Amsterdam, 2027 is not public */
	json_t *o = call(zs_api_provider, "06010101", zs_parse_local("2026-11-11T23:59:59"), &st,
	                 "year", "2027", NULL);
	expect_error(o, st, 404, "not_yet_published", NULL);
	ck_assert_str_eq(str(json_object_get(o, "error"), "published_from"), "2026-11-11T23:00:00Z");
	json_decref(o);
	/* 2028 in December 2026: from 12 November 2027 */
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2028", NULL);
	expect_error(o, st, 404, "not_yet_published", NULL);
	ck_assert_str_eq(str(json_object_get(o, "error"), "published_from"), "2027-11-11T23:00:00Z");
	json_decref(o);
	/* at 00:00 it is */
	o = call(zs_api_provider, "06010101", zs_parse_local("2026-11-12T00:00:00"), &st,
	         "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	json_decref(o);
}
END_TEST

START_TEST(test_provider_statuses)
{
	int st;
	json_t *o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	/* the provider's own master data */
	json_t *p = json_object_get(o, "provider");
	ck_assert_str_eq(str(p, "agb"), "06010101");
	ck_assert_str_eq(str(p, "name"), "Sint Antonius Ziekenhuis");
	ck_assert_str_eq(str(p, "kind"), "hospital");
	ck_assert_str_eq(str(p, "parent"), "St. Antonius Zorggroep");
	ck_assert_str_eq(str(json_array_get(json_object_get(p, "locations"), 0), "postcode"),
	                 "3435CM");

	json_t *years = json_object_get(o, "years");
	ck_assert_int_eq(json_array_size(years), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(years, 0), "year")), 2027);
	json_t *pols = json_object_get(json_array_get(years, 0), "policies");
	ck_assert_int_eq(json_array_size(pols), 2); /* the 2027 policies; not the 2026 one */

	json_t *summary = json_object_get(policy_entry(pols, "3311-BASIS"), "policy");
	ck_assert_str_eq(str(summary, "name"), "Basis Zeker");
	ck_assert_str_eq(str(summary, "label"), "Zilveren Kruis");
	ck_assert_str_eq(str(summary, "type"), "natura");
	ck_assert_str_eq(str(json_object_get(summary, "insurer"), "uzovi"), "3311");
	ck_assert_str_eq(str(json_object_get(summary, "insurer"), "name"),
	                 "Zilveren Kruis Zorgverzekeringen N.V.");
	ck_assert_str_eq(str(json_object_get(summary, "concern"), "id"), "achmea");
	ck_assert_str_eq(str(json_object_get(summary, "concern"), "name"), "Achmea");
	ck_assert_str_eq(str(json_object_get(policy_entry(pols, "3311-EXCL"), "policy"), "type"),
	                 "restitutie");

	/* one status per care type any source mentions: hospital and mental health */
	for (int i = 0; i < 2; i++) {
		json_t *sts = json_object_get(policy_entry(pols, i ? "3311-EXCL" : "3311-BASIS"),
		                              "statuses");
		ck_assert_int_eq(json_array_size(sts), 2);
	}

	json_t *s = status_of(pols, "3311-BASIS", "hospital");
	ck_assert_str_eq(str(s, "status"), "negotiating");
	ck_assert(json_is_true(json_object_get(s, "as_contracted")));
	ck_assert_str_eq(str(s, "basis"), "insurer");
	ck_assert(!flag(s, "conflict"));
	ck_assert(!flag(s, "provider_only"));
	ck_assert(!flag(s, "ceiling"));
	ck_assert(!flag(s, "stale"));
	ck_assert(json_is_null(json_object_get(json_object_get(s, "flags"), "patient_stop")));
	ck_assert_int_eq(json_array_size(json_object_get(s, "sources")), 2);
	expect_source(s, 0, "insurer", "zk", "negotiating", "policy");
	expect_source(s, 1, "provider", "antonius", "contracted", "concern");
	ck_assert_str_eq(str(json_array_get(json_object_get(s, "sources"), 0), "said_at"),
	                 "2026-11-10T08:00:00Z");
	ck_assert(json_is_object(json_object_get(s, "consequence")));

	s = status_of(pols, "3311-BASIS", "mental_health");
	ck_assert_str_eq(str(s, "status"), "contracted_ceiling");
	ck_assert(json_is_false(json_object_get(s, "as_contracted")));
	ck_assert_str_eq(str(s, "basis"), "conflict");
	ck_assert(flag(s, "conflict"));
	ck_assert(flag(s, "ceiling"));
	json_t *ex = json_object_get(json_object_get(s, "flags"), "ceiling_exempt");
	ck_assert_int_eq(json_array_size(ex), 1);
	ck_assert_str_eq(json_string_value(json_array_get(ex, 0)), "acute");
	expect_source(s, 0, "insurer", "zk", "contracted_ceiling", "insurer");
	expect_source(s, 1, "provider", "antonius", "not_contracted", "policy");

	s = status_of(pols, "3311-EXCL", "hospital");
	ck_assert_str_eq(str(s, "status"), "contracted");
	ck_assert_str_eq(str(s, "basis"), "confirmed");
	ck_assert(!flag(s, "conflict"));
	expect_source(s, 0, "insurer", "zk", "contracted", "policy");
	expect_source(s, 1, "provider", "antonius", "contracted", "concern");

	s = status_of(pols, "3311-EXCL", "mental_health");
	ck_assert_str_eq(str(s, "status"), "contracted_ceiling");
	ck_assert_str_eq(str(s, "basis"), "insurer");
	ck_assert(flag(s, "ceiling"));
	ck_assert_int_eq(json_array_size(json_object_get(s, "sources")), 1);
	expect_source(s, 0, "insurer", "zk", "contracted_ceiling", "insurer");
	json_decref(o);
}
END_TEST

START_TEST(test_provider_only_and_stop)
{
	int st;
	json_t *o = call(zs_api_provider, "47470001", now_dec, &st, "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(str(json_object_get(o, "provider"), "name"), "Buurtzorg Zuidoost");
	json_t *pols = json_object_get(json_array_get(json_object_get(o, "years"), 0), "policies");
	ck_assert_int_eq(json_array_size(pols), 2);
	for (int i = 0; i < 2; i++) {
		json_t *s = status_of(pols, i ? "3311-EXCL" : "3311-BASIS", "district_nursing");
		ck_assert_str_eq(str(s, "status"), "contracted");
		ck_assert_str_eq(str(s, "basis"), "provider_only");
		ck_assert(flag(s, "provider_only"));
		ck_assert(!flag(s, "conflict"));
		json_t *stop = json_object_get(json_object_get(s, "flags"), "patient_stop");
		ck_assert(json_is_object(stop));
		ck_assert_str_eq(str(stop, "reason"), "staff_shortage");
		ck_assert_str_eq(str(stop, "from"), "2026-10-01");
		ck_assert_str_eq(str(stop, "until"), "2027-01-31");
		ck_assert_str_eq(str(stop, "note"), "Geen nieuwe clienten");
		ck_assert_str_eq(str(stop, "source"), "provider");
		ck_assert_int_eq(json_array_size(json_object_get(s, "sources")), 1);
		expect_source(s, 0, "provider", "antonius", "contracted", "concern");
	}
	json_decref(o);
}
END_TEST

START_TEST(test_provider_years)
{
	int st;
	/* without year in December: the current year and the next */
	json_t *o = call(zs_api_provider, "06010101", now_dec, &st, NULL);
	ck_assert_int_eq(st, 200);
	json_t *years = json_object_get(o, "years");
	ck_assert_int_eq(json_array_size(years), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(years, 0), "year")), 2026);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(years, 1), "year")), 2027);
	json_t *p26 = json_object_get(json_array_get(years, 0), "policies");
	ck_assert_int_eq(json_array_size(p26), 1);
	json_t *s = status_of(p26, "3311-BASIS", "hospital");
	ck_assert_str_eq(str(s, "status"), "contracted");
	ck_assert_str_eq(str(s, "basis"), "insurer");
	ck_assert_int_eq(json_array_size(json_object_get(policy_entry(p26, "3311-BASIS"),
	                                                 "statuses")), 1);
	json_decref(o);
	/* before 12 November: only the current year */
	o = call(zs_api_provider, "06010101", zs_parse_local("2026-11-11T12:00:00"), &st, NULL);
	ck_assert_int_eq(st, 200);
	years = json_object_get(o, "years");
	ck_assert_int_eq(json_array_size(years), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(years, 0), "year")), 2026);
	json_decref(o);
	/* from 1 January 2027: 2027 is the current year, 2028 not yet public */
	o = call(zs_api_provider, "06010101", zs_parse_local("2027-01-01T00:00:00"), &st, NULL);
	ck_assert_int_eq(st, 200);
	years = json_object_get(o, "years");
	ck_assert_int_eq(json_array_size(years), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(years, 0), "year")), 2027);
	json_decref(o);
}
END_TEST

START_TEST(test_stop_active_and_stale)
{
	int st;
	/* after the stop's until (31 January 2027) the stop is no longer active; the feeds were
	 * last fetched two months earlier, longer ago than stale_after (default one day), which
	 * the worker publishes as stale when it passes (zs_fresh) */
	char err[256];
	ck_assert_int_eq(zs_fresh_publish(db, zs_parse_local("2027-02-01T12:00:00"), NULL, err,
	                                  sizeof err), 1);
	json_t *o = call(zs_api_provider, "47470001", zs_parse_local("2027-02-01T12:00:00"), &st,
	                 "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	json_t *pols = json_object_get(json_array_get(json_object_get(o, "years"), 0), "policies");
	json_t *s = status_of(pols, "3311-BASIS", "district_nursing");
	json_t *stop = json_object_get(json_object_get(s, "flags"), "patient_stop");
	ck_assert(json_is_false(json_object_get(stop, "active")));
	ck_assert(flag(s, "stale"));
	json_decref(o);
	/* on 1 December 2026 it is active and the sources are fresh */
	ck_assert_int_eq(zs_fresh_publish(db, now_dec, NULL, err, sizeof err), 1);
	o = call(zs_api_provider, "47470001", now_dec, &st, "year", "2027", NULL);
	pols = json_object_get(json_array_get(json_object_get(o, "years"), 0), "policies");
	s = status_of(pols, "3311-BASIS", "district_nursing");
	stop = json_object_get(json_object_get(s, "flags"), "patient_stop");
	ck_assert(json_is_true(json_object_get(stop, "active")));
	ck_assert(!flag(s, "stale"));
	json_decref(o);
}
END_TEST

/* ---- /v1/status --------------------------------------------------------------------------- */

START_TEST(test_status)
{
	int st;
	json_t *o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "year", "2027", NULL);
	expect_error(o, st, 400, "missing_parameter", "policy");
	json_decref(o);
	o = call(zs_api_status, NULL, now_dec, &st, "policy", "3311-EXCL", "year", "2027", NULL);
	expect_error(o, st, 400, "missing_parameter", "agb");
	json_decref(o);
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "0601", "policy", "3311-EXCL", NULL);
	expect_error(o, st, 400, "bad_parameter", "agb");
	json_decref(o);
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311/EXCL", NULL);
	expect_error(o, st, 400, "bad_parameter", "policy");
	json_decref(o);
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311-NOPE",
	         "year", "2027", NULL);
	expect_error(o, st, 404, "not_found", "policy");
	json_decref(o);
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311-EXCL",
	         "year", "abc", NULL);
	expect_error(o, st, 400, "bad_parameter", "year");
	json_decref(o);
	o = call(zs_api_status, NULL, zs_parse_local("2026-11-01T12:00:00"), &st, "agb", "06010101",
	         "policy", "3311-EXCL", "year", "2027", NULL);
	expect_error(o, st, 404, "not_yet_published", NULL);
	json_decref(o);

	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311-EXCL",
	         "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "year")), 2027);
	ck_assert_str_eq(str(json_object_get(o, "policy"), "id"), "3311-EXCL");
	ck_assert_str_eq(str(json_object_get(o, "provider"), "agb"), "06010101");
	json_t *sts = json_object_get(o, "statuses");
	ck_assert_int_eq(json_array_size(sts), 2);
	ck_assert_str_eq(str(json_array_get(sts, 0), "care_type"), "hospital");
	ck_assert_str_eq(str(json_array_get(sts, 0), "basis"), "confirmed");
	ck_assert_str_eq(str(json_array_get(sts, 1), "care_type"), "mental_health");
	ck_assert_str_eq(str(json_array_get(sts, 1), "status"), "contracted_ceiling");
	json_decref(o);

	/* one care type */
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311-BASIS",
	         "year", "2027", "care_type", "mental_health", NULL);
	ck_assert_int_eq(st, 200);
	sts = json_object_get(o, "statuses");
	ck_assert_int_eq(json_array_size(sts), 1);
	ck_assert_str_eq(str(json_array_get(sts, 0), "basis"), "conflict");
	json_decref(o);

	/* nobody spoke: unknown with basis none */
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "47470001", "policy", "3311-BASIS",
	         "year", "2027", "care_type", "hospital", NULL);
	ck_assert_int_eq(st, 200);
	sts = json_object_get(o, "statuses");
	ck_assert_int_eq(json_array_size(sts), 1);
	ck_assert_str_eq(str(json_array_get(sts, 0), "status"), "unknown");
	ck_assert_str_eq(str(json_array_get(sts, 0), "basis"), "none");
	ck_assert_int_eq(json_array_size(json_object_get(json_array_get(sts, 0), "sources")), 0);
	json_decref(o);

	/* without year: the current year (2026), where 3311-EXCL does not exist */
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311-EXCL", NULL);
	expect_error(o, st, 404, "not_found", "policy");
	json_decref(o);
	o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy", "3311-BASIS", NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "year")), 2026);
	sts = json_object_get(o, "statuses");
	ck_assert_int_eq(json_array_size(sts), 1);
	ck_assert_str_eq(str(json_array_get(sts, 0), "status"), "contracted");
	json_decref(o);
}
END_TEST

/* ---- /v1/policies ------------------------------------------------------------------------- */

static void expect_rule(json_t *rules, size_t i, const char *ct, double pct, const char *basis)
{
	json_t *r = json_array_get(rules, i);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(str(r, "care_type"), ct);
	ck_assert(json_number_value(json_object_get(r, "percent")) == pct);
	ck_assert_str_eq(str(r, "basis"), basis);
}

static json_t *find_id(json_t *arr, const char *id)
{
	size_t i;
	json_t *p;
	json_array_foreach(arr, i, p)
		if (strcmp(str(p, "id"), id) == 0)
			return p;
	ck_abort_msg("no %s", id);
	return NULL;
}

START_TEST(test_policies)
{
	int st;
	json_t *o = call(zs_api_policies, NULL, now_dec, &st, "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "year")), 2027);
	json_t *pols = json_object_get(o, "policies");
	ck_assert_int_eq(json_array_size(pols), 2);
	json_t *b = find_id(pols, "3311-BASIS");
	ck_assert_str_eq(str(b, "type"), "natura");
	ck_assert_str_eq(str(b, "name"), "Basis Zeker");
	ck_assert_str_eq(str(json_object_get(b, "insurer"), "uzovi"), "3311");
	ck_assert_str_eq(str(json_object_get(b, "concern"), "id"), "achmea");
	json_t *rules = json_object_get(b, "reimbursement");
	ck_assert_int_eq(json_array_size(rules), 2);
	expect_rule(rules, 0, "*", 75, "avg_contracted_tariff");
	expect_rule(rules, 1, "mental_health", 60, "avg_contracted_tariff");
	json_t *e = find_id(pols, "3311-EXCL");
	ck_assert_str_eq(str(e, "type"), "restitutie");
	rules = json_object_get(e, "reimbursement");
	ck_assert_int_eq(json_array_size(rules), 1);
	expect_rule(rules, 0, "*", 100, "market_tariff");
	json_decref(o);

	/* without year: the current year */
	o = call(zs_api_policies, NULL, now_dec, &st, NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "year")), 2026);
	pols = json_object_get(o, "policies");
	ck_assert_int_eq(json_array_size(pols), 1);
	expect_rule(json_object_get(find_id(pols, "3311-BASIS"), "reimbursement"), 0, "*", 70,
	            "avg_contracted_tariff");
	json_decref(o);

	o = call(zs_api_policies, NULL, now_dec, &st, "year", "abc", NULL);
	expect_error(o, st, 400, "bad_parameter", "year");
	json_decref(o);
	o = call(zs_api_policies, NULL, zs_parse_local("2026-11-11T23:59:59"), &st, "year", "2027",
	         NULL);
	expect_error(o, st, 404, "not_yet_published", NULL);
	ck_assert_str_eq(str(json_object_get(o, "error"), "published_from"), "2026-11-11T23:00:00Z");
	json_decref(o);
}
END_TEST

START_TEST(test_reload_after_ingest)
{
	int st;
	json_t *o = call(zs_api_policies, NULL, now_dec, &st, "year", "2027", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(o, "policies")), 2);
	json_decref(o);
	/* a new version adds a policy; the worker would bump the generation */
	apply("zk", TU_FEED(ZK_HDR, ZK_BODY,
	                    "{'type':'policy','id':'3311-NEW','year':2027,'name':'Nieuw',"
	                    "'kind':'budget','reimbursement':[{'care_type':'*','percent':65,"
	                    "'basis':'avg_contracted_tariff'}]}",
	                    "{'type':'end','records':9}"), now_dec, 1);
	o = call(zs_api_policies, NULL, now_dec, &st, "year", "2027", NULL);
	json_t *pols = json_object_get(o, "policies");
	ck_assert_int_eq(json_array_size(pols), 3);
	ck_assert_str_eq(str(find_id(pols, "3311-NEW"), "type"), "budget");
	json_decref(o);
	/* the provider view lists it too, with the insurer-level mental health status */
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027", NULL);
	pols = json_object_get(json_array_get(json_object_get(o, "years"), 0), "policies");
	ck_assert_int_eq(json_array_size(pols), 3);
	ck_assert_str_eq(str(status_of(pols, "3311-NEW", "mental_health"), "status"),
	                 "contracted_ceiling");
	/* hospital: ZK said nothing for 3311-NEW; the provider's concern-level word stands */
	ck_assert_str_eq(str(status_of(pols, "3311-NEW", "hospital"), "basis"), "provider_only");
	json_decref(o);
}
END_TEST

/* ---- snapshots ---------------------------------------------------------------------------- */

/* The answer that mixed two versions (issue 15): the ingest had committed a new version (new
 * status AND new rate) but not yet published the generation; a reader with the old policy cache
 * combined the new status with the old 75%. Now the reader takes the snapshot's generation
 * inside its own read transaction, so the answer is entirely new even before publication. */
START_TEST(test_snapshot_new_status_never_with_old_rate)
{
	int st;
	zs_ingest_result res;
	char err[512] = "";
	json_t *o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy",
	                 "3311-BASIS", "year", "2027", "care_type", "hospital", "amount", "8000",
	                 NULL);
	ck_assert_int_eq(st, 200);
	json_t *s = json_array_get(json_object_get(o, "statuses"), 0);
	ck_assert_str_eq(str(s, "status"), "negotiating");
	json_decref(o);
	/* new version: the hospital is not contracted, and the policy now pays 80% */
	long long published = atomic_load(&zs_generation);
	FILE *body = TU_FEED(ZK_HDR,
		"{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis Zeker',"
		"'label':'Zilveren Kruis','kind':'natura','reimbursement':["
		"{'care_type':'*','percent':80,'basis':'avg_contracted_tariff'}]}",
		"{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
		"'care_type':'hospital','status':'not_contracted'}",
		"{'type':'end','records':2}");
	ck_assert_msg(zs_ingest_apply(db, &cfg.feeds[0], body, now_dec, &res, err, sizeof err) == 0,
	              "%s", err);
	fclose(body);
	ck_assert(res.applied);
	/* committed, not published: the hint still says the old generation */
	ck_assert_int_eq(atomic_load(&zs_generation), published);
	zs_kv kv[] = { { "agb", "06010101" }, { "policy", "3311-BASIS" }, { "year", "2027" },
		       { "care_type", "hospital" }, { "amount", "8000" } };
	zs_request req = { .params = kv, .nparams = 5, .lang = "nl", .now = now_dec };
	long long snap = -1;
	o = zs_api_call(rd, zs_api_status, &req, &st, &snap, NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(snap, zs_db_generation(db));
	ck_assert_int_ne(snap, published);
	s = json_array_get(json_object_get(o, "statuses"), 0);
	ck_assert_str_eq(str(s, "status"), "not_contracted");
	json_t *c = json_object_get(s, "consequence");
	ck_assert_str_eq(str(c, "code"), "not_contracted_partial");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "reimbursed_percent")), 80);
	/* 80% of 8000.00 */
	ck_assert_str_eq(str(json_object_get(c, "example"), "insurer_pays"), "6400.00");
	json_decref(o);
	/* the call left no read transaction open (the writer's checkpoints are not held back) */
	ck_assert_int_eq(zs_db_generation(db), snap);
}
END_TEST

/* One direct status call (as a public answer is written) and its snapshot, and its text in
 * *text when text is not NULL (zs_big_free). */
static long long direct_status(char **text)
{
	static const zs_kv kv[] = { { "agb", "06010101" }, { "policy", "3311-BASIS" },
		                    { "year", "2027" }, { "care_type", "hospital" } };
	zs_request req = { .params = kv, .nparams = 4, .lang = "nl", .now = now_dec };
	long long snap = -1;
	int st = 0;
	size_t len;
	zs_reader_set_direct(rd, 1);
	json_t *o = zs_api_call(rd, zs_api_status, &req, &st, &snap, NULL);
	ck_assert_int_eq(st, 200);
	char *t = zs_api_dump(rd, o, &len);
	json_decref(o);
	zs_reader_set_direct(rd, 0);
	ck_assert_ptr_nonnull(t);
	if (text)
		*text = t;
	else
		zs_big_free(t);
	return snap;
}

/* A new version of 06010101's 3311-BASIS hospital status, committed and not published. */
static void commit_status(const char *status)
{
	zs_ingest_result res;
	char err[512] = "", line[256];
	snprintf(line, sizeof line, "{'type':'status','agb':'06010101','policy':'3311-BASIS',"
	         "'year':2027,'care_type':'hospital','status':'%s'}", status);
	FILE *body = TU_FEED(ZK_HDR,
		"{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis Zeker',"
		"'label':'Zilveren Kruis','kind':'natura','reimbursement':["
		"{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}]}",
		line, "{'type':'end','records':2}");
	ck_assert_msg(zs_ingest_apply(db, &cfg.feeds[0], body, now_dec, &res, err, sizeof err) == 0,
	              "%s", err);
	fclose(body);
	ck_assert(res.applied);
}

/* A public answer written directly keeps its read transaction for the next one while no newer
 * generation is published: the next one runs no BEGIN and answers from the same snapshot, also
 * when a newer version is committed and not yet published (one snapshot, as before
 * publication). Publication, a call not written directly and the serving thread's tick each
 * end it. */
START_TEST(test_snapshot_kept_by_direct_answers_only_while_newest)
{
	char *t;
	long long first = direct_status(NULL);
	ck_assert_int_eq(first, zs_db_generation(db));
	ck_assert(rd->held);
	ck_assert(!sqlite3_get_autocommit(rd->db));
	sqlite3_stmt_status(rd->st_begin, SQLITE_STMTSTATUS_RUN, 1);
	ck_assert_int_eq(direct_status(NULL), first);
	ck_assert_int_eq(sqlite3_stmt_status(rd->st_begin, SQLITE_STMTSTATUS_RUN, 0), 0);
	/* committed, not published: still the kept snapshot, whole (negotiating) */
	commit_status("not_contracted");
	ck_assert_int_eq(direct_status(&t), first);
	ck_assert_ptr_nonnull(strstr(t, "\"status\":\"negotiating\""));
	zs_big_free(t);
	/* published: the new one */
	publish();
	ck_assert_int_eq(direct_status(&t), zs_db_generation(db));
	ck_assert_int_gt(zs_db_generation(db), first);
	ck_assert_ptr_nonnull(strstr(t, "\"status\":\"not_contracted\""));
	ck_assert_ptr_null(strstr(t, "\"status\":\"negotiating\""));
	zs_big_free(t);
	ck_assert_int_eq(sqlite3_stmt_status(rd->st_begin, SQLITE_STMTSTATUS_RUN, 0), 1);
	/* a call not written directly (the tree) ends the kept snapshot first: it reads the newest
	 * committed one, and keeps nothing open */
	commit_status("contracted");
	int st;
	zs_kv kv[] = { { "agb", "06010101" }, { "policy", "3311-BASIS" }, { "year", "2027" },
		       { "care_type", "hospital" } };
	zs_request req = { .params = kv, .nparams = 4, .lang = "nl", .now = now_dec };
	long long snap = -1;
	json_t *o = zs_api_call(rd, zs_api_status, &req, &st, &snap, NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(snap, zs_db_generation(db));
	ck_assert_str_eq(str(json_array_get(json_object_get(o, "statuses"), 0), "status"),
	                 "contracted");
	json_decref(o);
	ck_assert(!rd->held);
	ck_assert(sqlite3_get_autocommit(rd->db));
	/* the tick between answers ends a kept one */
	publish();
	direct_status(NULL);
	ck_assert(rd->held);
	zs_reader_idle(rd);
	ck_assert(!rd->held);
	ck_assert(sqlite3_get_autocommit(rd->db));
}
END_TEST

/* A poll that changes nothing (304, or the same bytes) changes nothing consumers see: no new
 * generation; the day of the last check moves the published freshness once a day. */
START_TEST(test_poll_unchanged_keeps_generation)
{
	int st;
	char err[256];
	ck_assert_int_ge(zs_fresh_publish(db, t_apply, NULL, err, sizeof err), 0);
	long long g0 = zs_db_generation(db);
	/* polls during the same day (10:00Z apply; 10:01Z and 10:30Z polls) */
	ck_assert_int_eq(zs_ingest_not_modified(db, &cfg.feeds[0], t_apply + 60), 0);
	ck_assert_int_eq(zs_fresh_publish(db, t_apply + 60, NULL, err, sizeof err), 0);
	ck_assert_int_eq(zs_ingest_not_modified(db, &cfg.feeds[0], t_apply + 1800), 0);
	ck_assert_int_eq(zs_fresh_publish(db, t_apply + 1800, NULL, err, sizeof err), 0);
	ck_assert_int_eq(zs_db_generation(db), g0);
	json_t *o = call(zs_api_status, NULL, now_dec, &st, "agb", "06010101", "policy",
	                 "3311-EXCL", "year", "2027", "care_type", "hospital", NULL);
	json_t *s = json_array_get(json_object_get(o, "statuses"), 0);
	json_t *src = json_array_get(json_object_get(s, "sources"), 0);
	ck_assert_str_eq(str(src, "checked_on"), "2026-12-01");
	ck_assert_ptr_null(json_object_get(src, "last_success"));
	json_decref(o);
	/* the next day's first poll: one new generation, the new day */
	time_t next_day = zs_parse_local("2026-12-02T09:00:00");
	ck_assert_int_eq(zs_ingest_not_modified(db, &cfg.feeds[0], next_day), 0);
	ck_assert_int_eq(zs_fresh_publish(db, next_day, NULL, err, sizeof err), 1);
	ck_assert_int_eq(zs_db_generation(db), g0 + 1);
	o = call(zs_api_status, NULL, next_day, &st, "agb", "06010101", "policy", "3311-EXCL",
	         "year", "2027", "care_type", "hospital", NULL);
	s = json_array_get(json_object_get(o, "statuses"), 0);
	src = json_array_get(json_object_get(s, "sources"), 0);
	ck_assert_str_eq(str(src, "checked_on"), "2026-12-02");
	json_decref(o);
}
END_TEST

/* ---- /v1/feeds, /healthz ------------------------------------------------------------------ */

static json_t *feed_entry_of(json_t *feeds, const char *name)
{
	size_t i;
	json_t *f;
	json_array_foreach(feeds, i, f)
		if (strcmp(str(f, "name"), name) == 0)
			return f;
	ck_abort_msg("no feed %s", name);
	return NULL;
}

START_TEST(test_feeds)
{
	int st;
	char when[32];
	json_t *o = call(zs_api_feeds, NULL, now_dec, &st, NULL);
	ck_assert_int_eq(st, 200);
	json_t *feeds = json_object_get(o, "feeds");
	ck_assert_int_eq(json_array_size(feeds), 3);

	json_t *zk = feed_entry_of(feeds, "zk");
	ck_assert_str_eq(str(zk, "kind"), "insurer");
	ck_assert_str_eq(str(zk, "url"), "file:///nonexistent/zk.jsonl");
	ck_assert_int_eq(json_integer_value(json_object_get(zk, "rows_accepted")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(zk, "rows_rejected")), 0);
	ck_assert_str_eq(str(zk, "last_success"), zs_fmt_utc(t_apply, when, sizeof when));
	ck_assert_str_eq(when, "2026-12-01T10:00:00Z");
	ck_assert(json_is_null(json_object_get(zk, "last_error")));
	ck_assert_int_eq(json_array_size(json_object_get(zk, "errors")), 0);
	ck_assert(json_is_false(json_object_get(zk, "stale")));

	json_t *ant = feed_entry_of(feeds, "antonius");
	ck_assert_str_eq(str(ant, "kind"), "provider");
	ck_assert_int_eq(json_integer_value(json_object_get(ant, "rows_accepted")), 5);
	/* the URL never contains credentials */
	ck_assert_str_eq(str(ant, "url"), "https://feeds.example.nl/antonius.jsonl");
	{
		char *dump = json_dumps(o, 0);
		ck_assert(strstr(dump, "geheim") == NULL);
		free(dump);
	}

	json_t *k = feed_entry_of(feeds, "kapot");
	ck_assert_int_eq(json_integer_value(json_object_get(k, "rows_accepted")), 0);
	ck_assert(json_is_null(json_object_get(k, "last_success")));
	ck_assert(json_is_true(json_object_get(k, "stale")));
	json_t *le = json_object_get(k, "last_error");
	ck_assert(json_is_object(le));
	tu_assert_contains(str(le, "message"), "version");
	ck_assert_str_eq(str(le, "at"), when);
	json_t *errs = json_object_get(k, "errors");
	ck_assert_int_eq(json_array_size(errs), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(errs, 0), "line")), 1);
	ck_assert_str_eq(str(json_array_get(errs, 0), "field"), "version");
	json_decref(o);
}
END_TEST

START_TEST(test_health)
{
	int st;
	json_t *o = call(zs_api_health, NULL, now_dec, &st, NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(str(o, "status"), "ok");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "generation")), zs_db_generation(db));
	ck_assert_str_eq(str(o, "now"), "2026-12-01T11:00:00Z");
	json_decref(o);
}
END_TEST

/* ---- the direct writer ------------------------------------------------------------------- */

/* One answer through zs_api_call, written with or without the direct writer. */
/* the caller frees the text with zs_big_free (zs_api_dump) */
static char *answer_text(zs_handler h, const char *path_arg, time_t now, int staff, int direct,
                         const zs_kv *kv, size_t n, size_t *direct_texts)
{
	zs_request req = { .params = kv, .nparams = n, .path_arg = path_arg, .lang = "nl",
		           .now = now, .staff = staff };
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, "lang") == 0)
			req.lang = kv[i].value;
	int st = 0;
	size_t len;
	zs_reader_set_direct(rd, direct);
	json_t *o = zs_api_call(rd, h, &req, &st, NULL, NULL);
	ck_assert_ptr_nonnull(o);
	*direct_texts = rd->raw ? zs_frozen_count(rd->raw) : 0;
	char *t = zs_api_dump(rd, o, &len);
	json_decref(o);
	zs_reader_set_direct(rd, 0);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* The direct writer gives the same bytes as the tree, for every variant of a status: stops
 * (active, announced, over), a ceiling with its exemption, situations, a patient in
 * treatment, amounts, both languages, stale sources, a provider without rows, the status
 * endpoint; staff answers and texts=none keep the tree. */
START_TEST(test_direct_writer_same_bytes)
{
	static const zs_kv variants[][3] = {
		{ { "year", "2027" } },
		{ { "year", "2027" }, { "lang", "en" } },
		{ { "year", "2027" }, { "amount", "8000" } },
		{ { "year", "2027" }, { "situation", "acute" } },
		{ { "year", "2027" }, { "situation", "planned" }, { "in_treatment", "true" } },
		{ { "year", "2027" }, { "care_type", "mental_health" } },
		{ { "year", "2027" }, { "texts", "none" } },
		{ { "year", "2026" } },
	};
	static const size_t nkv[] = { 1, 2, 2, 2, 3, 2, 2, 1 };
	const char *agbs[] = { "06010101", "47470001", "12345678" };
	time_t moments[] = { now_dec, zs_parse_local("2026-09-20T12:00:00"),
		             zs_parse_local("2027-02-01T12:00:00") };
	char err[256];
	size_t used = 0;
	for (size_t m = 0; m < 3; m++) {
		/* the last moment publishes the sources as stale (zs_fresh) */
		ck_assert_int_ge(zs_fresh_publish(db, moments[m], NULL, err, sizeof err), 0);
		publish();
		for (size_t a = 0; a < 3; a++)
			for (size_t v = 0; v < sizeof nkv / sizeof nkv[0]; v++)
				for (int staff = 0; staff < 2; staff++) {
					size_t d0, d1;
					char *tree = answer_text(zs_api_provider, agbs[a], moments[m], staff,
					                         0, variants[v], nkv[v], &d0);
					char *direct = answer_text(zs_api_provider, agbs[a], moments[m],
					                           staff, 1, variants[v], nkv[v], &d1);
					ck_assert_uint_eq(d0, 0);
					ck_assert_msg(strcmp(tree, direct) == 0,
					              "%s variant %zu staff %d at %zu:\ntree   %s\ndirect %s",
					              agbs[a], v, staff, m, tree, direct);
					used += d1;
					if (staff || v == 6)
						ck_assert_uint_eq(d1, 0); /* these keep the tree */
					zs_big_free(tree);
					zs_big_free(direct);
				}
	}
	ck_assert_uint_gt(used, 0); /* the direct writer was used */
	/* a full scratch buffer: every text is written again into a buffer of its own */
	size_t cap = rd->scratch.cap;
	rd->scratch.cap = 64;
	for (size_t v = 0; v < 3; v++) {
		size_t d0, d1;
		char *tree = answer_text(zs_api_provider, "06010101", now_dec, 0, 0, variants[v],
		                         nkv[v], &d0);
		char *direct = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, variants[v],
		                           nkv[v], &d1);
		ck_assert_uint_eq(d1, 1);
		ck_assert_str_eq(tree, direct);
		zs_big_free(tree);
		zs_big_free(direct);
	}
	rd->scratch.cap = cap;
	/* the status endpoint */
	zs_kv kv[] = { { "agb", "06010101" }, { "policy", "3311-BASIS" }, { "year", "2027" } };
	size_t d0, d1;
	char *tree = answer_text(zs_api_status, NULL, now_dec, 0, 0, kv, 3, &d0);
	char *direct = answer_text(zs_api_status, NULL, now_dec, 0, 1, kv, 3, &d1);
	ck_assert_str_eq(tree, direct);
	ck_assert_uint_eq(d1, 1);
	ck_assert_ptr_nonnull(strstr(direct, "\"care_type\":\"hospital\""));
	zs_big_free(tree);
	zs_big_free(direct);
	/* compare: the summary (default) written directly, detail=full and texts=none as trees */
	static const zs_kv cmp[][4] = {
		{ { "agb", "06010101,47470001,12345678" }, { "year", "2027" } },
		{ { "agb", "06010101,47470001" }, { "year", "2027" }, { "lang", "en" }, { "amount", "8000" } },
		{ { "agb", "06010101,47470001" }, { "year", "2027" }, { "situation", "acute" } },
		{ { "agb", "06010101,47470001" }, { "year", "2027" }, { "detail", "full" } },
		{ { "agb", "06010101,47470001" }, { "year", "2027" }, { "texts", "none" } },
	};
	static const size_t ncmp[] = { 2, 4, 3, 3, 3 };
	for (size_t v = 0; v < 5; v++) {
		tree = answer_text(zs_api_compare, NULL, now_dec, 0, 0, cmp[v], ncmp[v], &d0);
		direct = answer_text(zs_api_compare, NULL, now_dec, 0, 1, cmp[v], ncmp[v], &d1);
		ck_assert_msg(strcmp(tree, direct) == 0, "compare %zu:\ntree   %s\ndirect %s", v, tree,
		              direct);
		if (v < 3)
			ck_assert_uint_gt(d1, 0);
		else if (v == 4)
			ck_assert_uint_eq(d1, 0);
		zs_big_free(tree);
		zs_big_free(direct);
	}
}
END_TEST

/* compare's default summary is built directly: it must equal the full answer reduced by hand
 * to per status care_type, status, consequence code, reimbursed_percent and conflict. */
START_TEST(test_compare_summary_same_as_full_reduced)
{
	zs_kv full_kv[] = { { "agb", "06010101,47470001" }, { "year", "2027" }, { "detail", "full" } };
	zs_kv sum_kv[] = { { "agb", "06010101,47470001" }, { "year", "2027" } };
	zs_request rf = { .params = full_kv, .nparams = 3, .lang = "nl", .now = now_dec };
	zs_request rs = { .params = sum_kv, .nparams = 2, .lang = "nl", .now = now_dec };
	int st;
	json_t *full = zs_api_call(rd, zs_api_compare, &rf, &st, NULL, NULL);
	ck_assert_int_eq(st, 200);
	json_t *sum = zs_api_call(rd, zs_api_compare, &rs, &st, NULL, NULL);
	ck_assert_int_eq(st, 200);
	size_t i, j, k, n = 0;
	json_t *pol, *prov, *s;
	json_array_foreach(json_object_get(full, "policies"), i, pol)
		json_array_foreach(json_object_get(pol, "providers"), j, prov) {
			json_t *out = json_array();
			json_array_foreach(json_object_get(prov, "statuses"), k, s) {
				json_t *c = json_object_get(s, "consequence");
				json_t *o = json_object();
				json_object_set(o, "care_type", json_object_get(s, "care_type"));
				json_object_set(o, "status", json_object_get(s, "status"));
				json_object_set(o, "consequence", json_object_get(c, "code"));
				json_object_set(o, "reimbursed_percent", json_object_get(c, "reimbursed_percent"));
				json_object_set(o, "conflict",
				                json_object_get(json_object_get(s, "flags"), "conflict"));
				json_array_append_new(out, o);
				n++;
			}
			json_object_set_new(prov, "statuses", out);
		}
	ck_assert_uint_gt(n, 4);
	json_object_set_new(full, "detail", json_string("summary"));
	char *a = json_dumps(full, JSON_COMPACT), *b = json_dumps(sum, JSON_COMPACT);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(full);
	json_decref(sum);
}
END_TEST

/* The inputs of a consequence: a natura policy paying 75% of the average contracted tariff, at
 * a provider the insurer says is not contracted (no amount). */
static zs_conseq_in not_contracted_natura(void)
{
	zs_conseq_in in;
	memset(&in, 0, sizeof in);
	in.policy_type = ZS_PTYPE_NATURA;
	in.care_type = "hospital";
	in.status = ZS_STATUS_NOT_CONTRACTED;
	in.nc_percent = 75.0;
	in.nc_basis = "avg_contracted_tariff";
	in.insurer_says = ZS_STATUS_NOT_CONTRACTED;
	return in;
}

/* The consequence cache of a reader: equal inputs share one object; inputs that differ in one
 * field only (an amount, a date that is NULL or empty, the language, the percentage) never
 * share an entry; and after 40,000 other inputs have passed through the table (evictions in
 * every set) each answer is still exactly what zs_consequence computes. */
START_TEST(test_consequence_cache_keeps_inputs_apart)
{
	zs_conseq_in base = not_contracted_natura();
	base.amount_cents = 800000;
	json_t *a = zs_reader_cons_get(rd, &base, "nl");
	json_t *b = zs_reader_cons_get(rd, &base, "nl");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b); /* one object */
	json_decref(b);
	zs_conseq_in v[5];
	const char *lang[5] = { "nl", "nl", "nl", "en", "nl" };
	for (int i = 0; i < 5; i++)
		v[i] = base;
	v[0].amount_cents = 800001;
	v[1].stop_until = "";     /* not NULL */
	v[2].nc_percent = 75.01;
	/* v[3]: English */
	v[4].stale_since = "2026-11-19T10:00:00Z";
	v[4].stale = 1;
	for (int i = 0; i < 5; i++) {
		json_t *c = zs_reader_cons_get(rd, &v[i], lang[i]);
		json_t *want = zs_consequence(&v[i], lang[i]);
		ck_assert_ptr_nonnull(c);
		ck_assert_msg(c != a, "variant %d shares the base's entry", i);
		ck_assert_msg(json_equal(c, want), "variant %d", i);
		json_decref(c);
		json_decref(want);
	}
	for (long i = 0; i < 40000; i++) {
		zs_conseq_in o = base;
		o.amount_cents = 1000 + i;
		json_decref(zs_reader_cons_get(rd, &o, i % 2 ? "en" : "nl"));
	}
	for (int i = 0; i < 5; i++) {
		json_t *c = zs_reader_cons_get(rd, &v[i], lang[i]);
		json_t *want = zs_consequence(&v[i], lang[i]);
		ck_assert_msg(json_equal(c, want), "variant %d after evictions", i);
		json_decref(c);
		json_decref(want);
	}
	json_t *again = zs_reader_cons_get(rd, &base, "nl");
	json_t *want = zs_consequence(&base, "nl");
	ck_assert(json_equal(again, want));
	json_decref(again);
	json_decref(want);
	json_decref(a);
}
END_TEST

/* A new snapshot keeps the consequence cache (its key is every input): the same object comes
 * back after it, and the frozen table holds the new snapshot's policy summaries instead of the
 * old ones, not besides them (before, it was emptied whole at every snapshot). */
START_TEST(test_consequence_cache_outlives_a_snapshot)
{
	zs_conseq_in base = not_contracted_natura();
	int st;
	json_t *o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	json_decref(o);
	json_t *a = zs_reader_cons_get(rd, &base, "nl");
	size_t frozen = zs_frozen_count(rd->frozen);
	long long gen = rd->gen;
	char err[256];
	ck_assert_int_eq(zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027", NULL);
	ck_assert_int_eq(st, 200);
	json_decref(o);
	ck_assert_int_eq(rd->gen, gen + 1); /* the caches of a new snapshot were loaded */
	ck_assert_uint_eq(zs_frozen_count(rd->frozen), frozen);
	json_t *b = zs_reader_cons_get(rd, &base, "nl");
	ck_assert_ptr_eq(a, b);
	json_decref(a);
	json_decref(b);
}
END_TEST

/* The status memo (zs_status.c): a second identical answer is written from it with the same
 * bytes; each request input is part of its key; it outlives a snapshot that changes nothing it
 * shows, and a source turning stale gives new texts, as the tree makes them. */
START_TEST(test_status_memo_hits_and_outlives_a_snapshot)
{
	static const zs_kv y[] = { { "year", "2027" } }, en[] = { { "year", "2027" }, { "lang", "en" } };
	zs_tmemo_stats s0, s1, s2, s3, s4;
	size_t d;
	char *first = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s0);
	ck_assert_uint_gt(s0.misses, 0);
	char *again = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s1);
	ck_assert_str_eq(first, again);
	ck_assert_uint_eq(s1.misses, s0.misses);            /* every status from the memo */
	ck_assert_uint_ge(s1.hits - s0.hits, s0.misses - s0.hits);
	/* another language: other texts, made anew, as the tree makes them */
	char *english = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, en, 2, &d);
	char *english_tree = answer_text(zs_api_provider, "06010101", now_dec, 0, 0, en, 2, &d);
	zs_status_memo_stats(rd, &s2);
	ck_assert_uint_gt(s2.misses, s1.misses);
	ck_assert_str_eq(english, english_tree);
	ck_assert_str_ne(english, first);
	/* a new snapshot that changes nothing these statuses show: still found */
	char err[256];
	ck_assert_int_eq(zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	long long gen = rd->gen;
	char *next = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s3);
	ck_assert_int_eq(rd->gen, gen + 1); /* the new snapshot was read */
	ck_assert_uint_eq(s3.misses, s2.misses);
	ck_assert_str_eq(next, first);
	/* the sources turn stale (published at a later moment): new texts, the tree's bytes */
	time_t later = zs_parse_local("2027-02-01T12:00:00");
	ck_assert_int_ge(zs_fresh_publish(db, later, NULL, err, sizeof err), 0);
	publish();
	char *stale = answer_text(zs_api_provider, "06010101", later, 0, 1, y, 1, &d);
	char *stale_tree = answer_text(zs_api_provider, "06010101", later, 0, 0, y, 1, &d);
	zs_status_memo_stats(rd, &s4);
	ck_assert_uint_gt(s4.misses, s3.misses);
	ck_assert_str_eq(stale, stale_tree);
	ck_assert_ptr_nonnull(strstr(stale, "\"stale\":true"));
	ck_assert_ptr_null(strstr(first, "\"stale\":true"));
	zs_big_free(first);
	zs_big_free(again);
	zs_big_free(english);
	zs_big_free(english_tree);
	zs_big_free(next);
	zs_big_free(stale);
	zs_big_free(stale_tree);
}
END_TEST

/* The request's part of a status memo key is made once per zs_api_call: the next call, with
 * another situation or language from a request at the same address, must not reuse it. */
START_TEST(test_status_memo_request_part_is_made_per_call)
{
	static const zs_kv acute[] = { { "year", "2027" }, { "situation", "acute" } },
	                   planned[] = { { "year", "2027" }, { "situation", "planned" } },
	                   en[] = { { "year", "2027" }, { "lang", "en" } };
	const zs_kv *const v[] = { acute, planned, en, acute };
	char *text[4], *tree[4];
	size_t d;
	for (int i = 0; i < 4; i++) {
		text[i] = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, v[i], 2, &d);
		tree[i] = answer_text(zs_api_provider, "06010101", now_dec, 0, 0, v[i], 2, &d);
		/* (not ck_assert_str_eq: a 100 KB text is too long for check's message) */
		ck_assert_msg(strcmp(text[i], tree[i]) == 0, "answer %d: the direct text is not the tree's",
		              i);
	}
	ck_assert_msg(strcmp(text[0], text[1]) != 0, "acute and planned give the same text");
	ck_assert_msg(strcmp(text[1], text[2]) != 0, "nl and en give the same text");
	ck_assert_msg(strcmp(text[0], text[3]) == 0, "acute again gives another text");
	for (int i = 0; i < 4; i++) {
		zs_big_free(text[i]);
		zs_big_free(tree[i]);
	}
}
END_TEST

/* The snapshot's feeds are found by id through the index (every one, and no other id). */
START_TEST(test_reader_finds_every_feed_by_id)
{
	int st;
	json_t *o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027", NULL);
	json_decref(o);
	ck_assert_uint_gt(rd->nfeeds, 1);
	ck_assert_ptr_nonnull(rd->feed_by_id);
	int max = 0;
	for (size_t i = 0; i < rd->nfeeds; i++) {
		ck_assert_ptr_eq(zs_reader_find_feed(rd, rd->feeds[i].id), &rd->feeds[i]);
		ck_assert_uint_gt(rd->feeds[i].mkey_id, 0);
		if (rd->feeds[i].id > max)
			max = rd->feeds[i].id;
	}
	ck_assert_ptr_null(zs_reader_find_feed(rd, -1));
	ck_assert_ptr_null(zs_reader_find_feed(rd, max + 1));
	ck_assert_ptr_null(zs_reader_find_feed(rd, 1LL << 40));
	/* a feed with a far id (ids in between unused): found, the gap not */
	char err[256];
	ck_assert_int_eq(zs_db_exec(db, "INSERT INTO feed(id, name, kind, url) VALUES (4000, 'far',"
	                            " 'insurer', 'http://127.0.0.1:1/far.jsonl');"
	                            "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	o = call(zs_api_provider, "06010101", now_dec, &st, "year", "2027", NULL);
	json_decref(o);
	const feed_entry *far = zs_reader_find_feed(rd, 4000);
	ck_assert_ptr_nonnull(far);
	ck_assert_str_eq(far->name, "far");
	ck_assert_ptr_null(zs_reader_find_feed(rd, 3999));
	ck_assert_ptr_null(zs_reader_find_feed(rd, max + 1));
	ck_assert_ptr_eq(zs_reader_find_feed(rd, rd->feeds[0].id), &rd->feeds[0]);
}
END_TEST

/* The provider's source is stale and the insurer's is not: the stale warning names the time of
 * the deciding (insurer's) source's last success, which can move within a day while the texts
 * of the sources stay the same. The memo must not give the earlier time. */
START_TEST(test_status_memo_stale_warning_names_the_latest_check)
{
	static const zs_kv y[] = { { "year", "2027" } };
	char err[256];
	size_t d;
	ck_assert_int_eq(zs_db_exec(db, "UPDATE feed SET pub_stale = 1 WHERE name = 'antonius';"
	                            "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	char *before = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	/* 11:00 on the day of the fixture: 13:00 the same day is the same checked_on */
	ck_assert_int_eq(zs_db_exec(db, "UPDATE feed SET pub_success = pub_success + 7200"
	                            " WHERE name = 'zk';"
	                            "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	char *after = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	char *tree = answer_text(zs_api_provider, "06010101", now_dec, 0, 0, y, 1, &d);
	ck_assert_str_eq(after, tree);
	ck_assert_str_ne(after, before);
	ck_assert_ptr_nonnull(strstr(after, "13:00"));
	ck_assert_ptr_null(strstr(after, "11:00"));
	ck_assert_ptr_nonnull(strstr(before, "11:00"));
	zs_big_free(before);
	zs_big_free(after);
	zs_big_free(tree);
}
END_TEST

/* A status memo key holds a number for what a source shows (zs_reader.c feed_mkey), not its
 * texts: a source that is renamed gets a new number and new texts; renamed back it has its
 * first number again, and the memo its first texts. */
/* The reader's number for what the feed named name shows (0: no such feed). */
static unsigned feed_number(const char *name)
{
	for (size_t i = 0; i < rd->nfeeds; i++)
		if (strcmp(rd->feeds[i].name, name) == 0)
			return rd->feeds[i].mkey_id;
	return 0;
}

START_TEST(test_status_memo_feed_number_follows_the_source_name)
{
	static const zs_kv y[] = { { "year", "2027" } };
	char err[256];
	size_t d;
	zs_tmemo_stats s0, s1;
	char *first = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	ck_assert_ptr_nonnull(strstr(first, "St. Antonius"));
	unsigned before = feed_number("antonius");
	ck_assert_uint_gt(before, 0);
	ck_assert_int_eq(zs_db_exec(db, "UPDATE feed SET publisher = 'Antonius Ziekenhuis Nieuwegein'"
	                            " WHERE name = 'antonius';"
	                            "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	char *renamed = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	char *tree = answer_text(zs_api_provider, "06010101", now_dec, 0, 0, y, 1, &d);
	ck_assert_msg(strcmp(renamed, tree) == 0, "the memo's text is not the tree's");
	ck_assert_ptr_nonnull(strstr(renamed, "Antonius Ziekenhuis Nieuwegein"));
	ck_assert_msg(strcmp(renamed, first) != 0, "renamed: the first text");
	ck_assert_uint_ne(feed_number("antonius"), before);
	ck_assert_uint_gt(feed_number("antonius"), 0);
	ck_assert_int_eq(zs_db_exec(db, "UPDATE feed SET publisher = 'St. Antonius'"
	                            " WHERE name = 'antonius';"
	                            "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	zs_status_memo_stats(rd, &s0);
	char *back = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s1);
	ck_assert_msg(strcmp(back, first) == 0, "renamed back: not the first text");
	ck_assert_uint_eq(s1.misses, s0.misses); /* every status from the memo */
	ck_assert_uint_eq(feed_number("antonius"), before);
	zs_big_free(first);
	zs_big_free(renamed);
	zs_big_free(tree);
	zs_big_free(back);
}
END_TEST

/* When the feed numbers would pass ZS_FKEYS_MAX they start again, and the status memo (whose
 * keys hold the old numbers) is emptied with them: a number never comes to mean other texts
 * while a memo text is kept under it. */
START_TEST(test_status_memo_feed_numbers_start_again_with_an_empty_memo)
{
	static const zs_kv y[] = { { "year", "2027" } };
	char err[256];
	size_t d;
	zs_tmemo_stats s0;
	char *first = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	/* fill the table up to one place below the mark with texts no feed has */
	while (rd->nfkeys < ZS_FKEYS_MAX - 1) {
		if (rd->nfkeys == rd->capfkeys) {
			rd->capfkeys = ZS_FKEYS_MAX;
			rd->fkeys = realloc(rd->fkeys, rd->capfkeys * sizeof *rd->fkeys);
			ck_assert_ptr_nonnull(rd->fkeys);
		}
		unsigned char *b = malloc(8);
		ck_assert_ptr_nonnull(b);
		memcpy(b, &rd->nfkeys, 8);
		rd->fkeys[rd->nfkeys++] = (zs_fkey){ b, 8, zs_mkey_hash(b, 8) };
	}
	zs_status_memo_stats(rd, &s0);
	ck_assert_uint_gt(s0.entries, 0);
	ck_assert_int_eq(zs_db_exec(db, "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	char *next = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	ck_assert_uint_eq(rd->nfkeys, rd->nfeeds); /* numbered from 1 again */
	for (size_t i = 0; i < rd->nfeeds; i++)
		ck_assert_uint_le(rd->feeds[i].mkey_id, rd->nfeeds);
	zs_tmemo_stats s1;
	zs_status_memo_stats(rd, &s1);
	ck_assert_uint_gt(s1.misses, s0.misses); /* the memo was emptied: made anew */
	ck_assert_msg(strcmp(next, first) == 0, "after the numbers started again: other text");
	zs_big_free(first);
	zs_big_free(next);
}
END_TEST

/* A status code that does not fit the key's 16 bits makes no key: the status is written every
 * time (a miss each answer), with the tree's bytes, never kept under a key cut short (where it
 * would stand for another code's text). */
START_TEST(test_status_memo_code_past_16_bits_is_never_kept)
{
	static const zs_kv y[] = { { "year", "2027" } };
	char err[256];
	size_t d;
	zs_tmemo_stats s0, s1;
	/* before: a second answer finds every status in the memo */
	char *plain = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s0);
	zs_big_free(answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d));
	zs_status_memo_stats(rd, &s1);
	uint64_t all = s1.hits - s0.hits;
	ck_assert_uint_gt(all, 0);
	ck_assert_uint_eq(s1.misses, s0.misses);
	ck_assert_int_eq(zs_db_exec(db, "UPDATE effective SET ins_level = 65537"
	                            " WHERE agb = '06010101' AND ins_level IS NOT NULL;"
	                            "UPDATE meta SET value=value+1 WHERE key='generation'", err,
	                            sizeof err), 0);
	publish();
	char *first = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s0);
	char *again = answer_text(zs_api_provider, "06010101", now_dec, 0, 1, y, 1, &d);
	zs_status_memo_stats(rd, &s1);
	char *tree = answer_text(zs_api_provider, "06010101", now_dec, 0, 0, y, 1, &d);
	ck_assert_msg(strcmp(again, tree) == 0, "the direct text is not the tree's");
	ck_assert_msg(strcmp(first, again) == 0, "the same answer twice differs");
	/* after: the statuses with that level are not (they have no key) */
	ck_assert_uint_lt(s1.hits - s0.hits, all);
	ck_assert_msg(strcmp(first, plain) != 0, "the level change did not reach the answer");
	zs_big_free(plain);
	zs_big_free(first);
	zs_big_free(again);
	zs_big_free(tree);
}
END_TEST

/* 85 different ceiling exemption lists (every ordered choice of 1 to 3 of 5 codes) on 85
 * providers: more texts than the exemption memo's 64 slots, so texts share slots and push each
 * other out. Every status shows its own list, in its order, asked in one order and again in the
 * reverse order. */
START_TEST(test_exemption_memo_slots_shared_keep_each_list)
{
	static const char *codes[] = { "acute", "treatment_in_progress", "maternity", "hospital",
		                       "pharmacy" };
	enum { N = 85 };
	char lists[N][160], agbs[N][9];
	const char *lines[16 + 2 * N + 2];
	char *owned[2 * N + 1];
	size_t n = 0, nl = 0, no = 0;
	for (int a = 0; a < 5; a++)
		for (int b = -1; b < 5; b++)
			for (int c = -1; c < 5; c++) {
				if ((b < 0 && c >= 0) || b == a || c == a || (c >= 0 && c == b))
					continue;
				int k = snprintf(lists[n], sizeof lists[n], "['%s'", codes[a]);
				if (b >= 0)
					k += snprintf(lists[n] + k, sizeof lists[n] - (size_t)k, ",'%s'", codes[b]);
				if (c >= 0)
					k += snprintf(lists[n] + k, sizeof lists[n] - (size_t)k, ",'%s'", codes[c]);
				snprintf(lists[n] + k, sizeof lists[n] - (size_t)k, "]");
				n++;
			}
	ck_assert_uint_eq(n, N);
	const char *zk[] = { ZK_HDR, ZK_BODY };
	for (size_t i = 0; i < sizeof zk / sizeof zk[0]; i++)
		lines[nl++] = zk[i];
	for (size_t i = 0; i < N; i++) {
		char buf[16384];
		snprintf(agbs[i], sizeof agbs[i], "9100%04u", (unsigned)i);
		snprintf(buf, sizeof buf, "{'type':'provider','agb':'%s','name':'Kliniek %zu',"
		         "'kind':'hospital'}", agbs[i], i);
		lines[nl++] = owned[no++] = strdup(buf);
		snprintf(buf, sizeof buf, "{'type':'status','agb':'%s','insurer':'3311','year':2027,"
		         "'care_type':'mental_health','status':'contracted_ceiling',"
		         "'ceiling':{'exempt':%s}}", agbs[i], lists[i]);
		lines[nl++] = owned[no++] = strdup(buf);
	}
	char end[64];
	snprintf(end, sizeof end, "{'type':'end','records':%zu}", nl - 1);
	lines[nl++] = end;
	lines[nl] = NULL;
	apply("zk", tu_feedv(lines), t_apply + 60, 1);
	for (size_t i = 0; i < no; i++)
		free(owned[i]);
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < N; j++) {
			size_t i = pass ? N - 1 - j : j;
			int st;
			json_t *o = call(zs_api_provider, agbs[i], now_dec, &st, "year", "2027", NULL);
			ck_assert_int_eq(st, 200);
			json_t *pols = json_object_get(json_array_get(json_object_get(o, "years"), 0),
			                               "policies");
			json_t *s = status_of(pols, "3311-BASIS", "mental_health");
			char *got = json_dumps(json_object_get(json_object_get(s, "flags"), "ceiling_exempt"),
			                       JSON_COMPACT);
			char *want = tu_q(lists[i]);
			ck_assert_msg(strcmp(got, want) == 0, "%s: %s, not %s", agbs[i], got, want);
			free(got);
			free(want);
			json_decref(o);
		}
}
END_TEST

/* A status written from the memo depends on its sources as one made anew: the answer's
 * dependency keys (which invalidate it in the response cache) are the same both times. */
START_TEST(test_status_memo_hit_keeps_the_source_dependencies)
{
	zs_kv kv[] = { { "year", "2027" } };
	zs_request req = { .params = kv, .nparams = 1, .path_arg = "06010101", .lang = "nl",
		           .now = now_dec };
	char first[1024], again[1024];
	zs_tmemo_stats m0, m1;
	zs_deplist d;
	zs_deplist_init(&d);
	zs_reader_set_direct(rd, 1);
	for (int i = 0; i < 2; i++) {
		int st;
		zs_status_memo_stats(rd, &m0);
		json_t *o = zs_api_call(rd, zs_api_provider, &req, &st, NULL, &d);
		zs_status_memo_stats(rd, &m1);
		ck_assert_int_eq(st, 200);
		size_t len;
		zs_big_free(zs_api_dump(rd, o, &len));
		json_decref(o);
		zs_deplist_header(&d, i ? again : first, sizeof first);
		if (i)
			ck_assert_uint_eq(m1.misses, m0.misses); /* every status from the memo */
	}
	zs_reader_set_direct(rd, 0);
	zs_deplist_free(&d);
	ck_assert_str_eq(again, first);
	/* both sources of the hospital: the insurer feed zk and the provider feed antonius */
	ck_assert_ptr_nonnull(strstr(first, "p:06010101"));
	size_t feeds = 0;
	for (const char *p = first; (p = strstr(p, "f:")); p++)
		feeds++;
	ck_assert_uint_eq(feeds, 2);
}
END_TEST

/* A patient stop from 2026-10-01 until 2027-01-31 (47470001) is in force, over and in force
 * again on days of one snapshot (the clock moved back): the memo must not give one day's text
 * on another. */
START_TEST(test_status_memo_stop_follows_the_day)
{
	static const zs_kv y[] = { { "year", "2027" } };
	time_t days[] = { now_dec, zs_parse_local("2027-02-01T12:00:00"), now_dec };
	static const int active[] = { 1, 0, 1 };
	for (size_t i = 0; i < 3; i++) {
		size_t d;
		char *direct = answer_text(zs_api_provider, "47470001", days[i], 0, 1, y, 1, &d);
		char *tree = answer_text(zs_api_provider, "47470001", days[i], 0, 0, y, 1, &d);
		ck_assert_str_eq(direct, tree);
		json_t *o = json_loads(direct, 0, NULL);
		ck_assert_ptr_nonnull(o);
		size_t seen = 0, a, b;
		json_t *pol, *st;
		json_array_foreach(json_object_get(json_array_get(json_object_get(o, "years"), 0),
		                                   "policies"), a, pol)
			json_array_foreach(json_object_get(pol, "statuses"), b, st) {
				json_t *stop = json_object_get(json_object_get(st, "flags"), "patient_stop");
				if (!json_is_object(stop))
					continue;
				seen++;
				ck_assert_int_eq(json_is_true(json_object_get(stop, "active")), active[i]);
				ck_assert(json_is_false(json_object_get(stop, "announced")));
			}
		ck_assert_uint_gt(seen, 0);
		json_decref(o);
		zs_big_free(direct);
		zs_big_free(tree);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("handlers");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, tu_tmpbase_create, tu_tmpbase_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_provider_errors);
	tcase_add_test(tc, test_provider_not_yet_published);
	tcase_add_test(tc, test_provider_statuses);
	tcase_add_test(tc, test_provider_only_and_stop);
	tcase_add_test(tc, test_provider_years);
	tcase_add_test(tc, test_stop_active_and_stale);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_policies);
	tcase_add_test(tc, test_reload_after_ingest);
	tcase_add_test(tc, test_feeds);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_snapshot_new_status_never_with_old_rate);
	tcase_add_test(tc, test_snapshot_kept_by_direct_answers_only_while_newest);
	tcase_add_test(tc, test_poll_unchanged_keeps_generation);
	tcase_add_test(tc, test_direct_writer_same_bytes);
	tcase_add_test(tc, test_compare_summary_same_as_full_reduced);
	tcase_add_test(tc, test_consequence_cache_keeps_inputs_apart);
	tcase_add_test(tc, test_consequence_cache_outlives_a_snapshot);
	tcase_add_test(tc, test_status_memo_hits_and_outlives_a_snapshot);
	tcase_add_test(tc, test_status_memo_stop_follows_the_day);
	tcase_add_test(tc, test_status_memo_stale_warning_names_the_latest_check);
	tcase_add_test(tc, test_status_memo_feed_number_follows_the_source_name);
	tcase_add_test(tc, test_status_memo_feed_numbers_start_again_with_an_empty_memo);
	tcase_add_test(tc, test_status_memo_code_past_16_bits_is_never_kept);
	tcase_add_test(tc, test_exemption_memo_slots_shared_keep_each_list);
	tcase_add_test(tc, test_status_memo_hit_keeps_the_source_dependencies);
	tcase_add_test(tc, test_status_memo_request_part_is_made_per_call);
	tcase_add_test(tc, test_reader_finds_every_feed_by_id);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
