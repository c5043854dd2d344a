/* test_ingest.c - unit tests of feed application (zs_ingest.h) on a real SQLite file.
 * Every expected value is written by hand from feeds/README.md (framing, trailer,
 * max_invalid_rows, references) and /work/shared/domain.md ("Sources and reconciliation":
 * a failing source keeps its last good statements; every change is kept as history).
 * Feed lines are written with ' for " (see testutil.h). */
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "zs_config.h"
#include "zs_db.h"
#include "zs_incr.h"
#include "zs_ingest.h"
#include "zs_rollover.h"
#include "zs_deps.h"
#include "zs_similar.h"
#include "zs_time.h"
#include "zs_types.h"

/* 2026-11-12T06:00:00+01:00 (the insurer header's generated_at) = 05:00Z, see test_feed.c */
#define GEN_ZK 1794459600LL
/* 2026-11-10T09:00:00+01:00 = 08:00Z */
#define SAID_NEG 1794297600LL
/* apply times: 2026-11-12T06:00Z and one and two days later */
#define T1 (GEN_ZK + 3600)
#define T2 (T1 + 86400)
#define T3 (T2 + 86400)

#define AGB "06010101"

static const char CONF[] =
	"[feed zk]\nkind = insurer\nurl = /nonexistent/zk.jsonl\nmax_invalid_rows = 0\n"
	"[feed ib]\nkind = insurer\nurl = /nonexistent/ib.jsonl\nmax_invalid_rows = 5\n"
	"[feed cz]\nkind = insurer\nurl = /nonexistent/cz.jsonl\nmax_invalid_rows = 5\n"
	"[feed antonius]\nkind = provider\nurl = /nonexistent/antonius.jsonl\n"
	"max_invalid_rows = 0\n"
	"[feed groep]\nkind = provider\nurl = /nonexistent/groep.jsonl\nmax_invalid_rows = 5\n";

static char *dir;
static zs_config cfg;
static sqlite3 *db;

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
	dir = tu_tmpdir();
	snprintf(path, sizeof path, "%s/zs.db", dir);
	zs_config_defaults(&cfg);
	ck_assert_int_eq(zs_config_set(&cfg, "database", path, err, sizeof err), 0);
	ck_assert_msg(zs_config_parse(&cfg, CONF, "test.conf", dir, err, sizeof err) == 0, "%s",
	              err);
	ck_assert_int_eq(cfg.nfeeds, 5);
	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_msg(zs_ingest_register(db, &cfg, err, sizeof err) == 0, "%s", err);
}

static void teardown(void)
{
	sqlite3_close(db);
	db = NULL;
	zs_config_free(&cfg);
	remove_tmp();
}

static const zs_feed_conf *feed(const char *name)
{
	for (size_t i = 0; i < cfg.nfeeds; i++)
		if (strcmp(cfg.feeds[i].name, name) == 0)
			return &cfg.feeds[i];
	ck_abort_msg("no feed %s", name);
	return NULL;
}

static int feed_id(const char *name)
{
	int id = zs_ingest_feed_id(db, name);
	ck_assert_int_gt(id, 0);
	return id;
}

/* Apply body as the new version of feed name at now; the attempt must be processed (0). */
static zs_ingest_result apply(const char *name, FILE *body, long long now)
{
	zs_ingest_result res;
	char err[512] = "";
	int rc = zs_ingest_apply(db, feed(name), body, (time_t)now, &res, err, sizeof err);
	fclose(body);
	ck_assert_msg(rc == 0, "apply %s: rc %d: %s", name, rc, err);
	return res;
}

static void applied(const char *name, FILE *body, long long now)
{
	zs_ingest_result res = apply(name, body, now);
	ck_assert_msg(res.applied == 1, "feed %s not applied: %s", name, res.error);
	ck_assert_str_eq(res.error, "");
}

/* One column of the effective row (agb, 2027, policy, care type); -1 if no row or NULL. */
static long long eff(const char *agb, const char *pol, const char *ct, const char *col)
{
	return tu_sql_int(db, -1,
	                  "SELECT %s FROM effective WHERE agb='%s' AND year=2027 AND policy_id='%s'"
	                  " AND care_type='%s'", col, agb, pol, ct);
}

static long long count(const char *table, const char *where)
{
	return tu_sql_int(db, -1, "SELECT count(*) FROM %s WHERE %s", table, where);
}

static long long feed_col(const char *name, const char *col)
{
	return tu_sql_int(db, -1, "SELECT %s FROM feed WHERE name='%s'", col, name);
}

/* ---- the feeds --------------------------------------------------------------------------- */

#define ZK_HDR "{'type':'header','format':'zorgstatus-insurer','version':1," \
	"'generated_at':'2026-11-12T06:00:00+01:00','concern':{'id':'achmea','name':'Achmea'}," \
	"'insurer':{'uzovi':'3311','name':'Zilveren Kruis Zorgverzekeringen N.V.'}}"
#define ZK_POL_BASIS "{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis Zeker'," \
	"'label':'Zilveren Kruis','kind':'natura','reimbursement':[" \
	"{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}," \
	"{'care_type':'mental_health','percent':60,'basis':'avg_contracted_tariff'}]}"
#define ZK_POL_EXCL "{'type':'policy','id':'3311-EXCL','year':2027,'name':'Basis Exclusief'," \
	"'label':'Zilveren Kruis','kind':'restitutie','reimbursement':[" \
	"{'care_type':'*','percent':100,'basis':'market_tariff'}]}"
#define ZK_PROVIDER "{'type':'provider','agb':'06010101','name':'Antonius (volgens ZK)'," \
	"'kind':'hospital','locations':[{'street':'Koekoekslaan 1','postcode':'3435 cm'," \
	"'city':'Nieuwegein'}]}"
#define ZK_ST_BASIS_HOSP_NEG "{'type':'status','agb':'06010101','policy':'3311-BASIS'," \
	"'year':2027,'care_type':'hospital','status':'negotiating','as_contracted':true," \
	"'said_at':'2026-11-10T09:00:00+01:00'}"
#define ZK_ST_GGZ_CEIL "{'type':'status','agb':'06010101','insurer':'3311','year':2027," \
	"'care_type':'mental_health','status':'contracted_ceiling','ceiling':{'exempt':['acute']}}"
#define ZK_ST_EXCL_HOSP "{'type':'status','agb':'06010101','policy':'3311-EXCL','year':2027," \
	"'care_type':'hospital','status':'contracted'}"

/* version 1: 6 records */
#define ZK_V1() TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER, ZK_ST_BASIS_HOSP_NEG, \
	ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP, "{'type':'end','records':6}")

#define ANT_V1() TU_FEED( \
	"{'type':'header','format':'zorgstatus-provider','version':1," \
	"'generated_at':'2026-11-12T08:00:00+01:00','publisher':{'name':'St. Antonius'}}", \
	"{'type':'provider','agb':'06010101','name':'Sint Antonius Ziekenhuis','kind':'hospital'," \
	"'parent':'St. Antonius Zorggroep','locations':[{'street':'Koekoekslaan 1'," \
	"'postcode':'3435CM','city':'Nieuwegein'}]}", \
	"{'type':'status','agb':'06010101','concern':'achmea','year':2027,'care_type':'hospital'," \
	"'status':'contracted'}", \
	"{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027," \
	"'care_type':'mental_health','status':'not_contracted'}", \
	"{'type':'end','records':3}")

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(test_register)
{
	ck_assert_int_eq(count("feed", "1"), 5);
	ck_assert_int_eq(count("feed", "name='zk' AND kind='insurer'"), 1);
	ck_assert_int_eq(count("feed", "name='antonius' AND kind='provider'"), 1);
	ck_assert_int_eq(feed_col("zk", "last_success"), -1);
	/* an unregistered feed cannot be applied */
	zs_feed_conf other = *feed("zk");
	snprintf(other.name, sizeof other.name, "onbekend");
	zs_ingest_result res;
	char err[256] = "";
	FILE *f = ZK_V1();
	ck_assert_int_eq(zs_ingest_apply(db, &other, f, (time_t)T1, &res, err, sizeof err), -1);
	fclose(f);
	ck_assert_int_eq(count("effective", "1"), 0);
}
END_TEST

START_TEST(test_insurer_apply)
{
	long long g0 = zs_db_generation(db);
	zs_ingest_result res = apply("zk", ZK_V1(), T1);
	ck_assert_int_eq(res.applied, 1);
	ck_assert_int_eq(res.unchanged, 0);
	ck_assert_int_eq(res.accepted, 6);
	ck_assert_int_eq(res.rejected, 0);
	ck_assert_str_eq(res.error, "");
	ck_assert_int_gt(zs_db_generation(db), g0);

	/* policies: two, of this feed, insurer and concern from the header */
	ck_assert_int_eq(count("policy", "1"), 2);
	ck_assert_int_eq(count("policy", "id='3311-BASIS' AND year=2027 AND uzovi='3311'"
	                                 " AND concern_id='achmea' AND type=0"), 1);
	ck_assert_int_eq(count("policy", "id='3311-EXCL' AND year=2027 AND type=1"), 1);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT feed_id FROM policy WHERE id='3311-BASIS'"),
	                 feed_id("zk"));

	/* effective: 2 policies x {hospital, mental_health} */
	ck_assert_int_eq(count("effective", "1"), 4);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "status"), ZS_STATUS_NEGOTIATING);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "as_contracted"), 1);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "basis"), ZS_BASIS_INSURER);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "ins_level"), 1); /* policy */
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "ins_said"), SAID_NEG);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "ins_feed"), feed_id("zk"));
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_feed"), -1);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "since"), T1);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "hospital", "as_contracted"), 0);
	for (int i = 0; i < 2; i++) {
		const char *pol = i ? "3311-EXCL" : "3311-BASIS";
		ck_assert_int_eq(eff(AGB, pol, "mental_health", "status"),
		                 ZS_STATUS_CONTRACTED_CEILING);
		ck_assert_int_eq(eff(AGB, pol, "mental_health", "ceiling"), 1);
		ck_assert_int_eq(eff(AGB, pol, "mental_health", "ins_level"), 2); /* insurer */
		/* no said_at: the header's generated_at */
		ck_assert_int_eq(eff(AGB, pol, "mental_health", "ins_said"), GEN_ZK);
		char *ex = tu_sql_text(db, "SELECT ceiling_exempt FROM effective WHERE policy_id='%s'"
		                           " AND care_type='mental_health'", pol);
		ck_assert_str_eq(ex, "[\"acute\"]");
		free(ex);
	}

	/* history: one open row per effective row, from the apply time */
	ck_assert_int_eq(count("status_history", "1"), 4);
	ck_assert_int_eq(count("status_history", "valid_until IS NULL AND valid_from=" "1794463200"), 4);

	/* the provider's master data (postcode normalised) */
	char *name = tu_sql_text(db, "SELECT name FROM provider WHERE agb='%s'", AGB);
	ck_assert_str_eq(name, "Antonius (volgens ZK)");
	free(name);
	char *locs = tu_sql_text(db, "SELECT locations FROM provider WHERE agb='%s'", AGB);
	tu_assert_contains(locs, "\"3435CM\"");
	free(locs);

	/* the feed row */
	ck_assert_int_eq(feed_col("zk", "rows_accepted"), 6);
	ck_assert_int_eq(feed_col("zk", "rows_rejected"), 0);
	ck_assert_int_eq(feed_col("zk", "last_success"), T1);
	ck_assert_int_eq(feed_col("zk", "last_change"), T1);
	ck_assert_int_eq(feed_col("zk", "last_attempt"), T1);
	ck_assert_int_eq(feed_col("zk", "generated_at"), GEN_ZK);
	ck_assert_int_eq(count("feed", "name='zk' AND last_error IS NULL"), 1);
	ck_assert_int_eq(count("feed_error", "1"), 0);
}
END_TEST

START_TEST(test_provider_apply)
{
	applied("zk", ZK_V1(), T1);
	zs_ingest_result res = apply("antonius", ANT_V1(), T2);
	ck_assert_int_eq(res.applied, 1);
	ck_assert_int_eq(res.accepted, 3);
	ck_assert_int_eq(res.rejected, 0);
	ck_assert_int_eq(feed_col("antonius", "rows_accepted"), 3);

	ck_assert_int_eq(count("effective", "1"), 4);
	/* hospital: the provider says "contracted with achmea"; ZK contracts 3311-EXCL, so the
	 * concern-level statement does not contradict ZK: 3311-BASIS keeps basis insurer,
	 * 3311-EXCL is confirmed */
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "status"), ZS_STATUS_NEGOTIATING);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "basis"), ZS_BASIS_INSURER);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_feed"), feed_id("antonius"));
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_level"), 3); /* concern */
	/* said_at absent: the provider header's generated_at, 08:00+01:00 = 07:00Z */
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_said"), GEN_ZK + 7200);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "hospital", "basis"), ZS_BASIS_CONFIRMED);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "hospital", "status"), ZS_STATUS_CONTRACTED);
	/* mental health of 3311-BASIS: per-policy contradiction, the insurer's status stands */
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "mental_health", "basis"), ZS_BASIS_CONFLICT);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "mental_health", "status"),
	                 ZS_STATUS_CONTRACTED_CEILING);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "mental_health", "prov_status"),
	                 ZS_STATUS_NOT_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "mental_health", "basis"), ZS_BASIS_INSURER);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "mental_health", "prov_feed"), -1);

	/* the shown basis changed for two rows: their history rows were closed at T2 */
	ck_assert_int_eq(count("status_history", "policy_id='3311-BASIS' AND care_type='mental_health'"), 2);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT valid_until FROM status_history WHERE policy_id="
	                            "'3311-BASIS' AND care_type='mental_health' AND basis=1"), T2);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT valid_from FROM status_history WHERE policy_id="
	                            "'3311-BASIS' AND care_type='mental_health' AND basis=3"
	                            " AND valid_until IS NULL"), T2);
	ck_assert_int_eq(count("status_history", "policy_id='3311-EXCL' AND care_type='hospital'"
	                                  " AND basis=2 AND valid_from=1794549600"
	                                  " AND valid_until IS NULL"), 1);

	/* the provider's own master data takes precedence over what the insurer says */
	char *name = tu_sql_text(db, "SELECT name FROM provider WHERE agb='%s'", AGB);
	ck_assert_str_eq(name, "Sint Antonius Ziekenhuis");
	free(name);
	char *parent = tu_sql_text(db, "SELECT parent FROM provider WHERE agb='%s'", AGB);
	ck_assert_str_eq(parent, "St. Antonius Zorggroep");
	free(parent);
}
END_TEST

START_TEST(test_unchanged)
{
	applied("zk", ZK_V1(), T1);
	char *before = tu_sql_dump(db, "SELECT * FROM effective ORDER BY 1,2,3,4");
	zs_ingest_result res = apply("zk", ZK_V1(), T1 + 60);
	ck_assert_int_eq(res.unchanged, 1);
	ck_assert_int_eq(res.applied, 0);
	ck_assert_str_eq(res.error, "");
	char *after = tu_sql_dump(db, "SELECT * FROM effective ORDER BY 1,2,3,4");
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(count("status_history", "1"), 4);
	/* fetched successfully now, content last changed at T1 */
	ck_assert_int_eq(feed_col("zk", "last_success"), T1 + 60);
	ck_assert_int_eq(feed_col("zk", "last_change"), T1);
	ck_assert_int_eq(feed_col("zk", "rows_accepted"), 6);
	free(before);
	free(after);
}
END_TEST

/* Snapshot of everything a rejected version must leave alone. */
static char *snapshot(void)
{
	static const char *const q[] = {
		"SELECT * FROM effective ORDER BY 1,2,3,4",
		"SELECT * FROM status_history ORDER BY 1,2,3,4,valid_from",
		"SELECT * FROM policy ORDER BY 1,2",
		"SELECT agb,year,feed_id,line,care_type,scope,scope_id,status FROM stmt ORDER BY 1,3,4",
		"SELECT * FROM provider ORDER BY 1",
		"SELECT * FROM src_provider ORDER BY 1,2",
		"SELECT * FROM similar_decl ORDER BY 1,2,3",
	};
	char *all = strdup("");
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		char *part = tu_sql_dump(db, "%s", q[i]), *n;
		ck_assert_int_ge(asprintf(&n, "%s== %zu\n%s", all, i, part), 0);
		free(all);
		free(part);
		all = n;
	}
	return all;
}

/* The new version changes 3311-BASIS hospital to contracted and adds a policy; each variant
 * below breaks it in one way. */
#define ZK_POL_NEW "{'type':'policy','id':'3311-NEW','year':2027,'name':'Nieuw'," \
	"'kind':'natura','reimbursement':[{'care_type':'*','percent':70," \
	"'basis':'avg_contracted_tariff'}]}"
#define ZK_ST_BASIS_HOSP_CON "{'type':'status','agb':'06010101','policy':'3311-BASIS'," \
	"'year':2027,'care_type':'hospital','status':'contracted'}"

static void expect_rejected(FILE *body, long long now, const char *fragment)
{
	zs_ingest_result res = apply("zk", body, now);
	ck_assert_int_eq(res.applied, 0);
	ck_assert_int_eq(res.unchanged, 0);
	tu_assert_contains(res.error, fragment);
	char *le = tu_sql_text(db, "SELECT last_error FROM feed WHERE name='zk'");
	tu_assert_contains(le, fragment);
	free(le);
	ck_assert_int_eq(feed_col("zk", "last_error_at"), now);
	ck_assert_int_eq(feed_col("zk", "last_attempt"), now);
	/* the last good version stays in force */
	ck_assert_int_eq(feed_col("zk", "last_success"), T1);
	ck_assert_int_eq(feed_col("zk", "last_change"), T1);
	ck_assert_int_eq(feed_col("zk", "rows_accepted"), 6);
}

START_TEST(test_atomic_reject)
{
	applied("zk", ZK_V1(), T1);
	applied("antonius", ANT_V1(), T1);
	char *good = snapshot();
	ck_assert_int_eq(count("effective", "1"), 4);

	/* 1. no trailer: truncated */
	expect_rejected(TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_POL_NEW, ZK_PROVIDER,
	                        ZK_ST_BASIS_HOSP_CON, ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP),
	                T2, "truncated");
	char *s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);

	/* 2. wrong count in the trailer (7 records, says 8) */
	expect_rejected(TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_POL_NEW, ZK_PROVIDER,
	                        ZK_ST_BASIS_HOSP_CON, ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP,
	                        "{'type':'end','records':8}"),
	                T2 + 1, "truncated");
	s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);

	/* 3. one invalid record, max_invalid_rows = 0 */
	expect_rejected(TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_POL_NEW, ZK_PROVIDER,
	                        ZK_ST_BASIS_HOSP_CON,
	                        "{'type':'status','agb':'06010101','insurer':'3311','year':2027,"
	                        "'care_type':'mental_health','status':'contractd'}",
	                        ZK_ST_EXCL_HOSP, "{'type':'end','records':7}"),
	                T2 + 2, "contractd");
	s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);
	ck_assert_int_eq(count("feed_error", "1"), 1);
	ck_assert_int_eq(count("feed_error", "line=7 AND field='status'"), 1);
	ck_assert_int_eq(feed_col("zk", "rows_rejected"), 1);

	/* 4. a header of version 2 */
	expect_rejected(TU_FEED("{'type':'header','format':'zorgstatus-insurer','version':2,"
	                        "'concern':{'id':'achmea','name':'Achmea'},"
	                        "'insurer':{'uzovi':'3311','name':'ZK'}}",
	                        ZK_POL_BASIS, ZK_POL_EXCL, ZK_POL_NEW, ZK_PROVIDER,
	                        ZK_ST_BASIS_HOSP_CON, ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP,
	                        "{'type':'end','records':7}"),
	                T2 + 3, "version");
	s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);
	ck_assert_int_eq(count("feed_error", "line=1 AND field='version'"), 1);

	/* 5. a header from another format */
	expect_rejected(TU_FEED("{'type':'header','format':'zorgstatus-provider','version':1}",
	                        ZK_POL_BASIS, "{'type':'end','records':1}"),
	                T2 + 4, "format");
	s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);

	/* 6. a record after the trailer: the trailer is the last line */
	expect_rejected(TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_POL_NEW, ZK_PROVIDER,
	                        ZK_ST_BASIS_HOSP_CON, ZK_ST_GGZ_CEIL, "{'type':'end','records':6}",
	                        ZK_ST_EXCL_HOSP),
	                T2 + 5, "trailer");
	s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);

	/* 7. the correct new version is applied after all that */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_POL_NEW, ZK_PROVIDER,
	                      ZK_ST_BASIS_HOSP_CON, ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP,
	                      "{'type':'end','records':7}"), T3);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(count("policy", "1"), 3);
	ck_assert_int_eq(count("feed", "name='zk' AND last_error IS NULL"), 1);
	ck_assert_int_eq(feed_col("zk", "last_success"), T3);
	ck_assert_int_eq(feed_col("zk", "rows_accepted"), 7);
	free(good);
}
END_TEST

START_TEST(test_empty_body_rejected)
{
	applied("zk", ZK_V1(), T1);
	char *good = snapshot();
	FILE *f = tmpfile();
	expect_rejected(f, T2, "header");
	char *s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);
	free(good);
}
END_TEST

/* The tolerant feed (max_invalid_rows = 5): lines 6, 7 and 9 are invalid, line 3 blank. */
#define CZ_TOLERANT() TU_FEED( \
	"{'type':'header','format':'zorgstatus-insurer','version':1," \
	"'generated_at':'2026-11-12T06:00:00+01:00','concern':{'id':'cz','name':'CZ groep'}," \
	"'insurer':{'uzovi':'9664','name':'CZ Zorgverzekeringen'}}", \
	"{'type':'policy','id':'9664-ZB','year':2027,'name':'Zorgbewust','kind':'natura'," \
	"'reimbursement':[{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}", \
	"", \
	"{'type':'provider','agb':'47470001','name':'Buurtzorg Zuidoost','kind':'district_nursing'," \
	"'locations':[{'postcode':'5611AB','city':'Eindhoven'}]}", \
	"{'type':'status','agb':'47470001','policy':'9664-ZB','year':2027," \
	"'care_type':'district_nursing','status':'contracted'}", \
	"{'type':'status','agb':'47470001','policy':'9664-ZB','year':2027," \
	"'care_type':'physiotherapy','status':'contractd'}", \
	"{'type':'status','agb':'47470001','insurer':'3311','year':2027," \
	"'care_type':'district_nursing','status':'contracted'}", \
	"{'type':'status','agb':'47470001','concern':'cz','year':2027," \
	"'care_type':'physiotherapy','status':'not_contracted'}", \
	"{'type':'status','agb':'47470001','policy':'9664-NOPE','year':2027," \
	"'care_type':'gp','status':'contracted'}", \
	"{'type':'end','records':7}")

START_TEST(test_tolerated_rows)
{
	zs_ingest_result res = apply("cz", CZ_TOLERANT(), T1);
	ck_assert_msg(res.applied == 1, "%s", res.error);
	ck_assert_int_eq(res.rejected, 3);
	/* the row errors, with physical line numbers and fields */
	ck_assert_int_eq(count("feed_error", "1"), 3);
	int id = feed_id("cz");
	char *errs = tu_sql_dump(db, "SELECT line, field FROM feed_error WHERE feed_id=%d"
	                             " ORDER BY line", id);
	ck_assert_str_eq(errs, "6|status\n7|insurer\n9|policy\n");
	free(errs);
	char *reason = tu_sql_text(db, "SELECT reason FROM feed_error WHERE line=9");
	tu_assert_contains(reason, "9664-NOPE");
	free(reason);
	reason = tu_sql_text(db, "SELECT reason FROM feed_error WHERE line=6");
	tu_assert_contains(reason, "contractd");
	free(reason);
	/* the valid records are applied */
	ck_assert_int_eq(count("effective", "agb='47470001'"), 2);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "district_nursing", "status"),
	                 ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "physiotherapy", "status"),
	                 ZS_STATUS_NOT_CONTRACTED);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "physiotherapy", "ins_level"), 3);
	ck_assert_int_eq(count("effective", "care_type='gp'"), 0);
	ck_assert_int_eq(count("stmt", "scope_id='9664-NOPE'"), 0);
	ck_assert_int_eq(count("feed", "name='cz' AND last_error IS NULL"), 1);
	ck_assert_int_eq(feed_col("cz", "rows_rejected"), 3);
	ck_assert_int_eq(feed_col("cz", "last_success"), T1);
}
END_TEST

START_TEST(test_tolerated_rows_accepted_count)
{
	/* 7 records: policy, provider and 2 statuses are valid; 3 statuses are not. A status that
	 * names an undeclared policy is invalid, so it is not also counted as accepted. */
	zs_ingest_result res = apply("cz", CZ_TOLERANT(), T1);
	ck_assert_int_eq(res.applied, 1);
	ck_assert_int_eq(res.accepted, 4);
	ck_assert_int_eq(res.accepted + res.rejected, 7);
	ck_assert_int_eq(res.rejected, 3);
	ck_assert_int_eq(feed_col("cz", "rows_accepted"), 4);
}
END_TEST

START_TEST(test_tolerated_rows_limit)
{
	/* 6 invalid records > 5 tolerated: the whole version is rejected */
	zs_ingest_result res = apply("cz", TU_FEED(
		"{'type':'header','format':'zorgstatus-insurer','version':1,"
		"'concern':{'id':'cz','name':'CZ groep'},'insurer':{'uzovi':'9664','name':'CZ'}}",
		"{'type':'policy','id':'9664-ZB','year':2027,'name':'Zorgbewust','kind':'natura',"
		"'reimbursement':[{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}",
		"{'type':'status','agb':'1','policy':'9664-ZB','year':2027,'care_type':'gp','status':'contracted'}",
		"{'type':'status','agb':'2','policy':'9664-ZB','year':2027,'care_type':'gp','status':'contracted'}",
		"{'type':'status','agb':'3','policy':'9664-ZB','year':2027,'care_type':'gp','status':'contracted'}",
		"{'type':'status','agb':'4','policy':'9664-ZB','year':2027,'care_type':'gp','status':'contracted'}",
		"{'type':'status','agb':'5','policy':'9664-ZB','year':2027,'care_type':'gp','status':'contracted'}",
		"{'type':'status','agb':'6','policy':'9664-ZB','year':2027,'care_type':'gp','status':'contracted'}",
		"{'type':'status','agb':'47470001','policy':'9664-ZB','year':2027,'care_type':'gp',"
		"'status':'contracted'}",
		"{'type':'end','records':8}"), T1);
	ck_assert_int_eq(res.applied, 0);
	ck_assert_int_eq(res.rejected, 6);
	tu_assert_contains(res.error, "6");
	ck_assert_int_eq(count("effective", "1"), 0);
	ck_assert_int_eq(count("policy", "1"), 0);
	ck_assert_int_eq(feed_col("cz", "last_success"), -1);
	ck_assert_int_eq(count("feed_error", "field='agb'"), 6);
}
END_TEST

START_TEST(test_undeclared_policy_rejects)
{
	/* max_invalid_rows = 0: one status naming a policy not declared in this feed rejects it */
	zs_ingest_result res = apply("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER,
	                             ZK_ST_BASIS_HOSP_NEG, ZK_ST_EXCL_HOSP,
	                             "{'type':'status','agb':'06010101','policy':'3311-NOPE',"
	                             "'year':2027,'care_type':'hospital','status':'contracted'}",
	                             "{'type':'end','records':6}"), T1);
	ck_assert_int_eq(res.applied, 0);
	tu_assert_contains(res.error, "3311-NOPE");
	ck_assert_int_eq(count("feed_error", "line=7 AND field='policy'"), 1);
	ck_assert_int_eq(count("effective", "1"), 0);
	ck_assert_int_eq(count("policy", "1"), 0);
	ck_assert_int_eq(feed_col("zk", "last_success"), -1);

	/* the same policy id in another year is another policy: also undeclared */
	res = apply("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_ST_BASIS_HOSP_NEG,
	                          "{'type':'status','agb':'06010101','policy':'3311-BASIS',"
	                          "'year':2026,'care_type':'hospital','status':'contracted'}",
	                          "{'type':'end','records':3}"), T2);
	ck_assert_int_eq(res.applied, 0);
	ck_assert_int_eq(count("feed_error", "line=4 AND field='policy'"), 1);
}
END_TEST

START_TEST(test_foreign_policy_rejected)
{
	/* CZ declares 9664-ZB and contracts Buurtzorg for it */
	applied("cz", TU_FEED(
		"{'type':'header','format':'zorgstatus-insurer','version':1,"
		"'concern':{'id':'cz','name':'CZ groep'},'insurer':{'uzovi':'9664','name':'CZ'}}",
		"{'type':'policy','id':'9664-ZB','year':2027,'name':'Zorgbewust','kind':'natura',"
		"'reimbursement':[{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}",
		"{'type':'status','agb':'47470001','policy':'9664-ZB','year':2027,"
		"'care_type':'district_nursing','status':'contracted',"
		"'said_at':'2026-11-10T09:00:00+01:00'}",
		"{'type':'end','records':2}"), T1);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "district_nursing", "status"),
	                 ZS_STATUS_CONTRACTED);
	/* ZK (max_invalid_rows 0) names CZ's policy: not declared in the ZK feed, so the ZK
	 * version is rejected and CZ's statement keeps deciding 9664-ZB */
	zs_ingest_result res = apply("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS,
	                             "{'type':'status','agb':'47470001','policy':'9664-ZB',"
	                             "'year':2027,'care_type':'district_nursing',"
	                             "'status':'not_contracted','said_at':'2026-11-12T09:00:00+01:00'}",
	                             "{'type':'end','records':2}"), T2);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "district_nursing", "ins_feed"),
	                 feed_id("cz"));
	ck_assert_int_eq(eff("47470001", "9664-ZB", "district_nursing", "status"),
	                 ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(res.applied, 0);
	ck_assert_int_eq(count("feed_error", "line=3 AND field='policy'"), 1);
}
END_TEST

START_TEST(test_fetch_failed_keeps_content)
{
	applied("zk", ZK_V1(), T1);
	char *good = snapshot();
	/* a failed fetch never wipes the last good statements */
	ck_assert_int_eq(zs_ingest_fetch_failed(db, feed("zk"), (time_t)T2, "HTTP 503"), 0);
	char *s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);
	char *le = tu_sql_text(db, "SELECT last_error FROM feed WHERE name='zk'");
	ck_assert_str_eq(le, "HTTP 503");
	free(le);
	ck_assert_int_eq(feed_col("zk", "last_attempt"), T2);
	ck_assert_int_eq(feed_col("zk", "last_success"), T1);
	ck_assert_int_eq(feed_col("zk", "last_change"), T1);
	/* a 304 afterwards: fetched successfully, content unchanged, error cleared */
	ck_assert_int_eq(zs_ingest_not_modified(db, feed("zk"), (time_t)T3), 0);
	s = snapshot();
	ck_assert_str_eq(s, good);
	free(s);
	ck_assert_int_eq(count("feed", "name='zk' AND last_error IS NULL"), 1);
	ck_assert_int_eq(feed_col("zk", "last_success"), T3);
	ck_assert_int_eq(feed_col("zk", "last_change"), T1);
	free(good);
}
END_TEST

/* CONF without the antonius feed */
static const char CONF_NO_ANT[] =
	"[feed zk]\nkind = insurer\nurl = /nonexistent/zk.jsonl\nmax_invalid_rows = 0\n"
	"[feed ib]\nkind = insurer\nurl = /nonexistent/ib.jsonl\nmax_invalid_rows = 5\n"
	"[feed cz]\nkind = insurer\nurl = /nonexistent/cz.jsonl\nmax_invalid_rows = 5\n"
	"[feed groep]\nkind = provider\nurl = /nonexistent/groep.jsonl\nmax_invalid_rows = 5\n";

static void reregister(const char *conf)
{
	char err[512];
	zs_config c2;
	zs_config_defaults(&c2);
	ck_assert_msg(zs_config_parse(&c2, conf, "test2.conf", dir, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(zs_ingest_register(db, &c2, err, sizeof err) == 0, "%s", err);
	zs_config_free(&c2);
}

START_TEST(test_unconfigured_feed_dropped)
{
	applied("zk", ZK_V1(), T1);
	applied("antonius", ANT_V1(), T1);
	int ant = feed_id("antonius");
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "mental_health", "basis"), ZS_BASIS_CONFLICT);
	/* the feed leaves the configuration: its statements go and what it touched is
	 * reconciled again (the insurer alone speaks) */
	reregister(CONF_NO_ANT);
	ck_assert_int_eq(zs_ingest_feed_id(db, "antonius"), -1);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM stmt WHERE feed_id=%d", ant), 0);
	ck_assert_int_eq(count("effective", "1"), 4);
	ck_assert_int_eq(count("effective", "prov_feed IS NOT NULL"), 0);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "mental_health", "basis"), ZS_BASIS_INSURER);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "hospital", "basis"), ZS_BASIS_INSURER);
	char *name = tu_sql_text(db, "SELECT name FROM provider WHERE agb='%s'", AGB);
	ck_assert_str_eq(name, "Antonius (volgens ZK)");
	free(name);
	ck_assert_int_eq(count("status_history", "policy_id='3311-BASIS' AND care_type='mental_health'"
	                                  " AND valid_until IS NULL AND basis=1"), 1);
	ck_assert_int_eq(count("status_history", "policy_id='3311-BASIS' AND care_type='mental_health'"
	                                  " AND basis=3 AND valid_until IS NOT NULL"), 1);
}
END_TEST

/* Regression: dropping one feed and adding another in the same registration (a reload or a
 * restart after a configuration change) deleted the new feed's row too ("feed ... is not
 * registered" from then on), because every never-loaded feed without content was removed. */
START_TEST(test_register_drop_one_add_another)
{
	applied("zk", ZK_V1(), T1);
	applied("antonius", ANT_V1(), T1);
	reregister("[feed zk]\nkind = insurer\nurl = /nonexistent/zk.jsonl\n"
	           "[feed nieuw]\nkind = provider\nurl = /nonexistent/nieuw.jsonl\n");
	ck_assert_int_eq(zs_ingest_feed_id(db, "antonius"), -1);
	ck_assert_int_ge(zs_ingest_feed_id(db, "nieuw"), 0);
	ck_assert_int_ge(zs_ingest_feed_id(db, "zk"), 0);
}
END_TEST

/* Incremental apply (issue 17): a new version that changes provider A's statements only
 * reconciles A. Made visible by damaging B's stored effective row first: a reconciliation of B
 * would repair it, so it staying damaged proves B was left alone, while A's change lands. */
#define B_PROV "{'type':'provider','agb':'04040101','name':'Fysio De Brug','kind':'physiotherapy'," \
	"'locations':[{'postcode':'8012DH','city':'Zwolle'}]}"
#define B_ST "{'type':'status','agb':'04040101','policy':'3311-BASIS','year':2027," \
	"'care_type':'physiotherapy','status':'contracted'}"
START_TEST(test_incremental_reconciles_only_changed_providers)
{
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_PROVIDER, B_PROV, ZK_ST_BASIS_HOSP_NEG, B_ST,
	                      "{'type':'end','records':5}"), T1);
	ck_assert_int_eq(eff("04040101", "3311-BASIS", "physiotherapy", "status"),
	                 ZS_STATUS_CONTRACTED);
	char err[256];
	ck_assert_int_eq(zs_db_exec(db, "UPDATE effective SET status=99 WHERE agb='04040101'", err,
	                            sizeof err), 0);
	/* A changes (negotiating -> contracted); B's statement is the same, on another line */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, B_PROV, ZK_PROVIDER, B_ST, ZK_ST_BASIS_HOSP_CON,
	                      "{'type':'end','records':5}"), T2);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff("04040101", "3311-BASIS", "physiotherapy", "status"), 99);
	/* B's statement now changes: B is reconciled (and repaired) */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, B_PROV, ZK_PROVIDER, ZK_ST_BASIS_HOSP_CON,
	                      "{'type':'status','agb':'04040101','policy':'3311-BASIS','year':2027,"
	                      "'care_type':'physiotherapy','status':'negotiating'}",
	                      "{'type':'end','records':5}"), T3);
	ck_assert_int_eq(eff("04040101", "3311-BASIS", "physiotherapy", "status"),
	                 ZS_STATUS_NEGOTIATING);
}
END_TEST

/* Line by line (zs_incr.h): unchanged lines are not read again but keep their current line
 * numbers; changed and new lines are stored; lines that are gone take their rows along; a
 * provider record that changed is replaced. Expected values from the feeds below. */
START_TEST(test_incremental_lines)
{
	applied("zk", ZK_V1(), T1); /* lines 1 header .. 5 BASIS hospital, 6 GGZ, 7 EXCL, 8 end */
	ck_assert_int_eq(count("stmt", "lh IS NULL"), 0);
	/* v2: the provider renamed, a new provider on line 5, the GGZ statement gone */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL,
	                      "{'type':'provider','agb':'06010101','name':'Antonius Nieuwegein',"
	                      "'kind':'hospital'}",
	                      "{'type':'provider','agb':'04040101','name':'Fysio Oost',"
	                      "'kind':'physiotherapy'}",
	                      ZK_ST_BASIS_HOSP_NEG, ZK_ST_EXCL_HOSP, "{'type':'end','records':6}"),
	        T2);
	char *d = tu_sql_dump(db, "SELECT line, policy_id_or_scope FROM (SELECT line, scope_id AS"
	                      " policy_id_or_scope FROM stmt) ORDER BY line");
	ck_assert_str_eq(d, "6|3311-BASIS\n7|3311-EXCL\n");
	free(d);
	d = tu_sql_dump(db, "SELECT agb, name FROM src_provider ORDER BY agb");
	ck_assert_str_eq(d, "04040101|Fysio Oost\n06010101|Antonius Nieuwegein\n");
	free(d);
	ck_assert_int_eq(count("effective", "care_type='mental_health'"), 0);
	ck_assert_int_eq(count("history", "care_type='mental_health' AND valid_until=" "1794549600"),
	                 2); /* both policies' GGZ rows closed at T2 */
	ck_assert_int_eq(feed_col("zk", "rows_accepted"), 6);
	/* v3 = v1 again: everything back as it was, the new provider gone */
	applied("zk", ZK_V1(), T3);
	d = tu_sql_dump(db, "SELECT line, care_type, scope_id FROM stmt ORDER BY line");
	ck_assert_str_eq(d, "5|hospital|3311-BASIS\n6|mental_health|3311\n7|hospital|3311-EXCL\n");
	free(d);
	d = tu_sql_dump(db, "SELECT agb, name FROM src_provider ORDER BY agb");
	ck_assert_str_eq(d, "06010101|Antonius (volgens ZK)\n");
	free(d);
	ck_assert_int_eq(count("effective", "care_type='mental_health'"), 2);
	ck_assert_int_eq(feed_col("zk", "rows_accepted"), 6);
	/* the same version under another header (generated_at moved): read again, said_at moves */
	applied("zk", TU_FEED("{'type':'header','format':'zorgstatus-insurer','version':1,"
	                      "'generated_at':'2026-11-14T06:00:00+01:00','concern':{'id':'achmea',"
	                      "'name':'Achmea'},'insurer':{'uzovi':'3311','name':"
	                      "'Zilveren Kruis Zorgverzekeringen N.V.'}}",
	                      ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER, ZK_ST_BASIS_HOSP_NEG,
	                      ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP, "{'type':'end','records':6}"), T3 + 60);
	ck_assert_int_eq(count("stmt", "1"), 3);
	ck_assert_int_eq(count("stmt", "said_at=" "1794632400"), 2); /* 2026-11-14T05:00Z */
	ck_assert_int_eq(count("stmt", "said_at=" "1794297600"), 1); /* its own said_at */
}
END_TEST

/* A policy added to a feed whose statement lines did not change: an insurer-level statement
 * (unchanged line, not read again) now covers the new policy too; a policy removed is retired
 * (zs_rollover.h) and its rows leave with the rollover step. */
START_TEST(test_incremental_policy_added)
{
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_PROVIDER, ZK_ST_GGZ_CEIL,
	                      "{'type':'end','records':3}"), T1);
	ck_assert_int_eq(count("effective", "care_type='mental_health'"), 1);
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER, ZK_ST_GGZ_CEIL,
	                      "{'type':'end','records':4}"), T2);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "mental_health", "status"),
	                 ZS_STATUS_CONTRACTED_CEILING);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "mental_health", "since"), T2);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "mental_health", "since"), T1);
	/* and gone again */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_PROVIDER, ZK_ST_GGZ_CEIL,
	                      "{'type':'end','records':3}"), T3);
	ck_assert_int_eq(count("retired", "policy_id='3311-EXCL'"), 1);
	char err[256] = "";
	long moved = 0;
	ck_assert_msg(zs_rollover_step(db, 10, &moved, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(moved, 1);
	ck_assert_int_eq(count("effective", "1"), 1);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT valid_until FROM history WHERE"
	                            " policy_id='3311-EXCL'"), T3);
}
END_TEST

/* The same provider twice in a version: the later record wins, also when the version is read
 * again line by line (the earlier line changed, the later one did not). */
START_TEST(test_incremental_provider_twice)
{
#define P_A "{'type':'provider','agb':'04040101','name':'Fysio A','kind':'physiotherapy'}"
#define P_B "{'type':'provider','agb':'04040101','name':'Fysio B','kind':'physiotherapy'}"
#define P_C "{'type':'provider','agb':'04040101','name':'Fysio C','kind':'physiotherapy'}"
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, P_A, P_B, "{'type':'end','records':3}"), T1);
	char *n = tu_sql_text(db, "SELECT name FROM src_provider WHERE agb='04040101'");
	ck_assert_str_eq(n, "Fysio B");
	free(n);
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, P_C, P_B, "{'type':'end','records':3}"), T2);
	n = tu_sql_text(db, "SELECT name FROM src_provider WHERE agb='04040101'");
	ck_assert_str_eq(n, "Fysio B");
	free(n);
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, P_B, P_C, "{'type':'end','records':3}"), T3);
	n = tu_sql_text(db, "SELECT name FROM src_provider WHERE agb='04040101'");
	ck_assert_str_eq(n, "Fysio C");
	free(n);
	ck_assert_int_eq(count("src_provider", "1"), 1);
#undef P_A
#undef P_B
#undef P_C
}
END_TEST

START_TEST(test_unconfigured_feed_history_uses_daemon_clock)
{
	applied("zk", ZK_V1(), T1);
	applied("antonius", ANT_V1(), T1);
	/* The daemon clock is settable (domain.md "the clock must be settable in tests"; the
	 * worker applies feeds at zs_now()). History written when a feed is dropped must use the
	 * same clock: 2026-12-01T12:00:00 Amsterdam = 11:00Z = (20454 + 334) * 86400 + 39600. */
	const long long clock = 1796122800LL;
	ck_assert_int_eq(zs_clock_set("2026-12-01T12:00:00"), 0);
	reregister(CONF_NO_ANT);
	long long closed = tu_sql_int(db, -1, "SELECT valid_until FROM status_history WHERE"
	                              " policy_id='3311-BASIS' AND care_type='mental_health'"
	                              " AND basis=3");
	ck_assert_int_ge(closed, clock);
	ck_assert_int_le(closed, clock + 30);
	long long opened = tu_sql_int(db, -1, "SELECT valid_from FROM status_history WHERE"
	                              " policy_id='3311-BASIS' AND care_type='mental_health'"
	                              " AND valid_until IS NULL");
	ck_assert_int_eq(opened, closed);
	zs_clock_set(NULL);
}
END_TEST

START_TEST(test_similar_declarations)
{
	applied("zk", ZK_V1(), T1);
	/* one policy of the pair must be a policy of this feed in that year; the other may be a
	 * sister insurer's that is not loaded yet (feeds/README.md, load order) */
	zs_ingest_result res = apply("cz", TU_FEED(
		"{'type':'header','format':'zorgstatus-insurer','version':1,"
		"'concern':{'id':'cz','name':'CZ groep'},'insurer':{'uzovi':'9664','name':'CZ'}}",
		"{'type':'policy','id':'9664-ZB','year':2027,'name':'Zorgbewust','kind':'natura',"
		"'reimbursement':[{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}",
		"{'type':'policy','id':'9664-CO','year':2027,'name':'Combi','kind':'combinatie',"
		"'reimbursement':[{'care_type':'*','percent':100,'basis':'market_tariff'}]}",
		"{'type':'similar','year':2027,'policies':['9664-ZB','9664-CO'],'relation':'equal'}",
		"{'type':'similar','year':2027,'policies':['9664-ZB','9999-X'],'relation':'equal'}",
		"{'type':'similar','year':2027,'policies':['3311-BASIS','3311-EXCL'],"
		"'relation':'very_similar'}",
		"{'type':'similar','year':2026,'policies':['9664-ZB','9664-CO'],'relation':'equal'}",
		"{'type':'end','records':6}"), T2);
	ck_assert_msg(res.applied == 1, "%s", res.error);
	ck_assert_int_eq(res.rejected, 2);
	int cz = feed_id("cz");
	char *e = tu_sql_dump(db, "SELECT line, field FROM feed_error WHERE feed_id=%d ORDER BY line",
	                      cz);
	ck_assert_str_eq(e, "6|policies\n7|policies\n");
	free(e);
	char *d = tu_sql_dump(db, "SELECT year, a, b, relation FROM similar_decl WHERE feed_id=%d",
	                      cz);
	ck_assert_str_eq(d, "2027|9664-ZB|9664-CO|equal\n2027|9664-ZB|9999-X|equal\n");
	free(d);
}
END_TEST

/* ---- similar policies kept in memory between applies (zs_similar.h) ------------------------
 * Two policies of one concern with the same rules; three hospitals. The overlap is the Jaccard
 * index of the contracted (provider, care type) sets (domain.md "Similar policies"), so the
 * expected values are counted by hand from the statuses of each version. */
#define SIM_POL(id) "{'type':'policy','id':'" id "','year':2027,'name':'" id "','kind':'natura'," \
	"'reimbursement':[{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}]}"
#define SIM_PROV(agb) "{'type':'provider','agb':'" agb "','name':'Ziekenhuis " agb "'," \
	"'kind':'hospital'}"
#define SIM_ST(agb, pol, st) "{'type':'status','agb':'" agb "','policy':'" pol "','year':2027," \
	"'care_type':'hospital','status':'" st "'}"
#define SIM_FEED(p2b, p1, p3b) TU_FEED(ZK_HDR, SIM_POL("3311-A"), SIM_POL("3311-B"), \
	SIM_PROV("06010201"), SIM_PROV("06010202"), SIM_PROV("06010203"), \
	SIM_ST("06010201", "3311-A", p1), SIM_ST("06010201", "3311-B", p1), \
	SIM_ST("06010202", "3311-A", "contracted"), SIM_ST("06010202", "3311-B", p2b), \
	SIM_ST("06010203", "3311-A", "contracted"), SIM_ST("06010203", "3311-B", p3b), \
	"{'type':'end','records':11}")

/* The pair's row of table similar is "overlap|common|only_a|only_b|verdict\n" = want. */
static void sim_row_is(const char *want)
{
	char *r = tu_sql_dump(db, "SELECT printf('%%.4f', overlap), common, only_a, only_b, verdict"
	                          " FROM similar WHERE year=2027 AND a='3311-A' AND b='3311-B'");
	ck_assert_str_eq(r, want);
	free(r);
}

START_TEST(test_similar_follows_each_apply_and_not_a_rolled_back_one)
{
	/* v1: A = {201, 202, 203}, B = {201, 203}: 2 in common of 3 */
	applied("zk", SIM_FEED("not_contracted", "contracted", "contracted"), T1);
	sim_row_is("0.6667|2|1|0|different\n");
	/* v2: 202 contracted for B too: the only provider that changed is read again */
	applied("zk", SIM_FEED("contracted", "contracted", "contracted"), T1 + 60);
	sim_row_is("1.0000|3|0|0|equal\n");
	/* A computation whose transaction is rolled back (203 out of B) must not be remembered:
	 * the next apply changes only 201, and 203 is in B again as the table says. */
	char err[256];
	ck_assert_int_eq(zs_db_exec(db, "BEGIN IMMEDIATE", err, sizeof err), 0);
	ck_assert_int_eq(zs_db_exec(db, "UPDATE effective SET status=4 WHERE agb='06010203'"
	                                " AND policy_id='3311-B'", err, sizeof err), 0);
	ck_assert_int_eq(zs_deps_mark(db, "p:06010203", err, sizeof err), 0);
	ck_assert_msg(zs_similar_compute(db, err, sizeof err) == 0, "%s", err);
	sim_row_is("0.6667|2|1|0|different\n");
	ck_assert_int_eq(zs_db_exec(db, "ROLLBACK", err, sizeof err), 0);
	/* v3: 201 leaves both: A = {202, 203}, B = {202, 203} */
	applied("zk", SIM_FEED("contracted", "not_contracted", "contracted"), T1 + 120);
	sim_row_is("1.0000|2|0|0|equal\n");
	/* v4: 203 out of B, committed this time: A = {202, 203}, B = {202} */
	applied("zk", SIM_FEED("contracted", "not_contracted", "not_contracted"), T1 + 180);
	sim_row_is("0.5000|1|1|0|different\n");
	/* The same from the tables alone: a new connection reads everything. */
	char path[4096];
	snprintf(path, sizeof path, "%s/zs.db", dir);
	sqlite3 *other = zs_db_open(path, 0, err, sizeof err);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(zs_db_exec(other, "BEGIN IMMEDIATE", err, sizeof err), 0);
	ck_assert_msg(zs_similar_compute(other, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(zs_db_exec(other, "COMMIT", err, sizeof err), 0);
	sqlite3_close(other);
	sim_row_is("0.5000|1|1|0|different\n");
	zs_similar_thread_done();
}
END_TEST

/* Regression for the first apply after a start paying for a scan of every contracted row (10 s
 * of a 100 MB feed's apply at four times national): zs_similar_warm reads the sets while
 * nothing is applied, writing nothing, and the next applies go on from them, reading again only
 * the providers they changed. Counted by hand as in the test above. */
START_TEST(test_similar_warmed_sets_follow_the_next_applies)
{
	/* v1: A = {201, 202, 203}, B = {201, 203} */
	applied("zk", SIM_FEED("not_contracted", "contracted", "contracted"), T1);
	sim_row_is("0.6667|2|1|0|different\n");
	zs_similar_thread_done(); /* as after a start: nothing kept */
	char err[256];
	long long gen = zs_db_generation(db);
	ck_assert_msg(zs_similar_warm(db, NULL, err, sizeof err) == 1, "%s", err);
	ck_assert_msg(zs_similar_warm(db, NULL, err, sizeof err) == 0, "%s", err); /* kept: at once */
	ck_assert_int_eq(zs_db_generation(db), gen);
	sim_row_is("0.6667|2|1|0|different\n");
	/* v2: 202 contracted for B too: A = B = {201, 202, 203} */
	applied("zk", SIM_FEED("contracted", "contracted", "contracted"), T1 + 60);
	sim_row_is("1.0000|3|0|0|equal\n");
	/* the apply kept its sets: the worker's call after the round reads nothing */
	ck_assert_msg(zs_similar_warm(db, NULL, err, sizeof err) == 0, "%s", err);
	/* v3: 201 leaves both: A = B = {202, 203} */
	applied("zk", SIM_FEED("contracted", "not_contracted", "contracted"), T1 + 120);
	sim_row_is("1.0000|2|0|0|equal\n");
	/* v4: 203 out of B: A = {202, 203}, B = {202} */
	applied("zk", SIM_FEED("contracted", "not_contracted", "not_contracted"), T1 + 180);
	sim_row_is("0.5000|1|1|0|different\n");
	zs_similar_thread_done();
}
END_TEST

/* Regression for the one-pass count per care type (a provider's entries sorted care type first):
 * a hospital's rows come from the table policy by policy, care types interleaved. A: hospital
 * and mental_health contracted; B: hospital contracted, mental_health not. Sets of (provider,
 * care type): A = {hospital, mental_health}, B = {hospital}: 1 in common of 2, the difference in
 * mental_health alone. Counted in table order, hospital would be split in two groups and
 * counted as only in A. */
START_TEST(test_similar_counts_each_care_type_of_a_provider_once)
{
	applied("zk", TU_FEED(ZK_HDR, SIM_POL("3311-A"), SIM_POL("3311-B"), SIM_PROV("06010201"),
	                      SIM_ST("06010201", "3311-A", "contracted"),
	                      "{'type':'status','agb':'06010201','policy':'3311-A','year':2027,"
	                      "'care_type':'mental_health','status':'contracted'}",
	                      SIM_ST("06010201", "3311-B", "contracted"),
	                      "{'type':'status','agb':'06010201','policy':'3311-B','year':2027,"
	                      "'care_type':'mental_health','status':'not_contracted'}",
	                      "{'type':'end','records':7}"), T1);
	sim_row_is("0.5000|1|1|0|different\n");
	char *r = tu_sql_dump(db, "SELECT json_extract(reasons, '$.network_differences') FROM similar"
	                          " WHERE year=2027 AND a='3311-A' AND b='3311-B'");
	ck_assert_str_eq(r, "[{\"care_type\":\"mental_health\",\"common\":0,\"only_a\":1,"
	                    "\"only_b\":0}]\n");
	free(r);
	zs_similar_thread_done();
}
END_TEST

/* Regression for the work list's memo of the last AGB put on it: a rejected version's entries go
 * with its savepoint, so the next version of the batch must put its providers on the list
 * again. zk's rejected version ends with a new statement about AGB (a changed line: stored, so
 * AGB goes on the list, then taken back with the version); the provider feed that follows
 * in the same batch speaks about AGB first. Its statement must be reconciled: the hospital row
 * of 3311-BASIS then names the provider feed as the provider's source. */
START_TEST(test_batch_after_a_rejected_version_reconciles_its_providers)
{
	applied("zk", ZK_V1(), T1);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_feed"), -1);
	zs_ingest_item items[2] = {
		{ feed("zk"), TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER, ZK_ST_GGZ_CEIL,
		                      ZK_ST_EXCL_HOSP, "{'type':'status','agb':'06010101'}",
		                      ZK_ST_BASIS_HOSP_CON, "{'type':'end','records':7}"), { 0 } },
		{ feed("antonius"), ANT_V1(), { 0 } },
	};
	char err[512] = "";
	ck_assert_msg(zs_ingest_apply_batch(db, items, 2, (time_t)T2, err, sizeof err) == 0, "%s",
	              err);
	fclose(items[0].body);
	fclose(items[1].body);
	ck_assert_int_eq(items[0].res.applied, 0); /* max_invalid_rows = 0 */
	ck_assert_int_eq(items[1].res.applied, 1);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "prov_feed"), feed_id("antonius"));
}
END_TEST

/* Regression (found in review of the multi-row writes): the pending row took the patient stop
 * before the change event was made, so events lost their patient_stop flag (ZS_CHG_PATIENT_STOP,
 * 8). At T2 the negotiating hospital row of 3311-BASIS gets a stop (old flags: as contracted, 1;
 * new: the stop, 8) and a new physiotherapy row with a stop appears (no old row). */
START_TEST(test_change_events_keep_the_patient_stop_flag)
{
	applied("zk", ZK_V1(), T1);
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER,
	                      "{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	                      "'care_type':'hospital','status':'negotiating','patient_stop':"
	                      "{'reason':'staff_shortage','from':'2026-10-01'}}",
	                      "{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	                      "'care_type':'physiotherapy','status':'contracted','patient_stop':"
	                      "{'reason':'staff_shortage','from':'2026-10-01'}}",
	                      ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP, "{'type':'end','records':7}"), T2);
	char *c = tu_sql_dump(db, "SELECT care_type, old_status, old_flags, new_status, new_flags"
	                          " FROM change_log WHERE agb='%s' AND policy_id='3311-BASIS'"
	                          " ORDER BY care_type", AGB);
	ck_assert_str_eq(c, "hospital|3|1|3|8\nphysiotherapy|NULL|NULL|1|8\n");
	free(c);
}
END_TEST

static uint64_t line_hash(const char *sq)
{
	char *l = tu_q(sq);
	uint64_t h = zs_incr_hash(l, strlen(l));
	free(l);
	return h;
}

/* What the reader ahead leaves unparsed (zs_incr_known): a line a stored row of the feed came
 * from, under the same header; never a new line, and nothing under another header. */
START_TEST(test_incr_known_is_a_stored_line_under_the_same_header)
{
	applied("zk", ZK_V1(), T1);
	char err[256] = "";
	zs_incr *x = NULL;
	ck_assert_msg(zs_incr_load(db, feed_id("zk"), line_hash(ZK_HDR), &x, err, sizeof err) == 0,
	              "%s", err);
	ck_assert_int_eq(zs_incr_known(x, line_hash(ZK_ST_EXCL_HOSP)), 1);
	ck_assert_int_eq(zs_incr_known(x, line_hash(ZK_PROVIDER)), 1);
	ck_assert_int_eq(zs_incr_known(x, line_hash(ZK_ST_BASIS_HOSP_CON)), 0); /* not in V1 */
	zs_incr_free(x);
	x = NULL;
	ck_assert_msg(zs_incr_load(db, feed_id("zk"), line_hash(ZK_HDR) + 1, &x, err, sizeof err) == 0,
	              "%s", err);
	ck_assert_int_eq(zs_incr_known(x, line_hash(ZK_ST_EXCL_HOSP)), 0); /* another header */
	zs_incr_free(x);
	ck_assert_int_eq(zs_incr_known(NULL, line_hash(ZK_ST_EXCL_HOSP)), 0);
}
END_TEST

START_TEST(test_history_change)
{
	applied("zk", ZK_V1(), T1);
	/* version 2 at T2: 3311-BASIS hospital goes from negotiating to contracted */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER, ZK_ST_BASIS_HOSP_CON,
	                      ZK_ST_GGZ_CEIL, ZK_ST_EXCL_HOSP, "{'type':'end','records':6}"), T2);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "as_contracted"), 0);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "since"), T2);
	char *h = tu_sql_dump(db, "SELECT status, as_contracted, valid_from, valid_until FROM status_history"
	                          " WHERE agb='%s' AND year=2027 AND policy_id='3311-BASIS'"
	                          " AND care_type='hospital' ORDER BY valid_from", AGB);
	/* negotiating (3) as contracted from T1 until T2, then contracted (1) from T2, open */
	ck_assert_str_eq(h, "3|1|1794463200|1794549600\n1|0|1794549600|NULL\n");
	free(h);
	/* unchanged rows keep their single open history row and their since */
	ck_assert_int_eq(count("status_history", "policy_id='3311-EXCL' AND care_type='hospital'"), 1);
	ck_assert_int_eq(count("status_history", "policy_id='3311-EXCL' AND care_type='hospital'"
	                                  " AND valid_until IS NULL"), 1);
	ck_assert_int_eq(eff(AGB, "3311-EXCL", "hospital", "since"), T1);
	ck_assert_int_eq(count("status_history", "1"), 5);
	ck_assert_int_eq(count("status_history", "valid_until IS NULL"), 4);
}
END_TEST

START_TEST(test_history_remove)
{
	applied("zk", ZK_V1(), T1);
	/* version 2 at T3 no longer speaks about 3311-EXCL hospital */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_POL_EXCL, ZK_PROVIDER, ZK_ST_BASIS_HOSP_NEG,
	                      ZK_ST_GGZ_CEIL, "{'type':'end','records':5}"), T3);
	ck_assert_int_eq(count("effective", "1"), 3);
	ck_assert_int_eq(count("effective", "policy_id='3311-EXCL' AND care_type='hospital'"), 0);
	char *h = tu_sql_dump(db, "SELECT status, valid_from, valid_until FROM status_history"
	                          " WHERE agb='%s' AND policy_id='3311-EXCL' AND care_type='hospital'",
	                      AGB);
	ck_assert_str_eq(h, "1|1794463200|1794636000\n"); /* closed at T3, nothing open */
	free(h);
	ck_assert_int_eq(count("status_history", "valid_until IS NULL"), 3);

	/* removing the policy itself removes every row of it: retired at once (closed in the
	 * history), moved out of effective by the rollover step (zs_rollover.h) */
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_PROVIDER, ZK_ST_BASIS_HOSP_NEG,
	                      ZK_ST_GGZ_CEIL, "{'type':'end','records':4}"), T3 + 10);
	ck_assert_int_eq(count("retired", "policy_id='3311-EXCL' AND year=2027"), 1);
	char err[256] = "";
	long moved = -1;
	ck_assert_msg(zs_rollover_step(db, 100, &moved, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(moved, 1); /* 3311-EXCL mental_health */
	ck_assert_int_eq(count("retired", "1"), 0);
	ck_assert_int_eq(count("effective", "1"), 2);
	ck_assert_int_eq(count("effective", "policy_id='3311-EXCL'"), 0);
	ck_assert_int_eq(count("status_history", "policy_id='3311-EXCL' AND valid_until IS NULL"), 0);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT valid_until FROM status_history WHERE"
	                            " policy_id='3311-EXCL' AND care_type='mental_health'"), T3 + 10);
}
END_TEST

/* A feed of n policies 3311-P00 .. (2027) with one insurer-level "contracted" statement for AGB
 * (it covers every policy of the insurer: domain.md, most specific statement wins) and, when
 * neg >= 0, a policy-level "negotiating" statement for policy neg. */
static FILE *many_policies(int n, int neg)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	char *h = tu_q(ZK_HDR);
	fprintf(f, "%s\n", h);
	free(h);
	for (int i = 0; i < n; i++)
		fprintf(f, "{\"type\":\"policy\",\"id\":\"3311-P%02d\",\"year\":2027,\"name\":\"Polis %d\","
		           "\"label\":\"Zilveren Kruis\",\"kind\":\"natura\",\"reimbursement\":[{"
		           "\"care_type\":\"*\",\"percent\":75,\"basis\":\"avg_contracted_tariff\"}]}\n",
		        i, i);
	fprintf(f, "{\"type\":\"status\",\"agb\":\"%s\",\"insurer\":\"3311\",\"year\":2027,"
	           "\"care_type\":\"hospital\",\"status\":\"contracted\"}\n", AGB);
	if (neg >= 0)
		fprintf(f, "{\"type\":\"status\",\"agb\":\"%s\",\"policy\":\"3311-P%02d\","
		           "\"year\":2027,\"care_type\":\"hospital\",\"status\":\"negotiating\"}\n",
		        AGB, neg);
	fprintf(f, "{\"type\":\"end\",\"records\":%d}\n", n + 1 + (neg >= 0));
	rewind(f);
	return f;
}

/* Regression for the multi-row writes of effective rows (64 rows a statement): a provider with
 * more rows than one statement holds gets every row, each with its own policy, and a later
 * change of one of them changes that row alone. */
START_TEST(test_provider_with_more_rows_than_one_write)
{
	applied("zk", many_policies(70, -1), T1);
	ck_assert_int_eq(count("effective", "1"), 70);
	ck_assert_int_eq(count("effective", "agb='" AGB "' AND year=2027 AND care_type='hospital'"
	                                    " AND status=1 AND since=1794463200"), 70); /* T1 */
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(DISTINCT policy_id) FROM effective"), 70);
	ck_assert_int_eq(eff(AGB, "3311-P00", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-P63", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-P64", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-P69", "hospital", "status"), ZS_STATUS_CONTRACTED);

	applied("zk", many_policies(70, 66), T2);
	ck_assert_int_eq(count("effective", "1"), 70);
	ck_assert_int_eq(eff(AGB, "3311-P66", "hospital", "status"), ZS_STATUS_NEGOTIATING);
	ck_assert_int_eq(eff(AGB, "3311-P66", "hospital", "since"), T2);
	ck_assert_int_eq(count("effective", "status=1 AND since=1794463200"), 69);
	/* the one change is in the history: contracted from T1 until T2 */
	char *hist = tu_sql_dump(db, "SELECT policy_id, status, valid_from, valid_until FROM history");
	ck_assert_str_eq(hist, "3311-P66|1|1794463200|1794549600\n");
	free(hist);
}
END_TEST

/* Regression: the archived history row lost a patient stop whose note made the flags longer
 * than a fixed buffer ("patient_stop":null instead of the stop that had been shown). */
START_TEST(test_history_keeps_long_patient_stop_note)
{
	char note[451], st[900];
	memset(note, 'n', sizeof note - 1);
	note[sizeof note - 1] = 0;
	snprintf(st, sizeof st, "{'type':'status','agb':'06010101','policy':'3311-BASIS',"
	         "'year':2027,'care_type':'hospital','status':'negotiating','patient_stop':"
	         "{'reason':'staff_shortage','from':'2026-10-01','note':'%s'}}", note);
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, st, "{'type':'end','records':2}"), T1);
	applied("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, ZK_ST_BASIS_HOSP_CON,
	                      "{'type':'end','records':2}"), T2);
	/* history stores the stop itself; the view status_history makes the flags from it */
	long long n = tu_sql_int(db, -1, "SELECT length(json_extract(flags, '$.patient_stop.note'))"
	                         " FROM status_history WHERE policy_id='3311-BASIS' AND"
	                         " care_type='hospital' AND valid_until IS NOT NULL");
	ck_assert_int_eq(n, 450);
	/* a note over 500 characters is a row error of its own */
	char long_note[502], st2[1000];
	memset(long_note, 'n', sizeof long_note - 1);
	long_note[sizeof long_note - 1] = 0;
	snprintf(st2, sizeof st2, "{'type':'status','agb':'06010101','policy':'3311-BASIS',"
	         "'year':2027,'care_type':'hospital','status':'negotiating','patient_stop':"
	         "{'reason':'other','from':'2026-10-01','note':'%s'}}", long_note);
	zs_ingest_result res = apply("zk", TU_FEED(ZK_HDR, ZK_POL_BASIS, st2,
	                                           "{'type':'end','records':2}"), T3);
	ck_assert_int_eq(res.applied, 0);
	ck_assert_int_eq(res.rejected, 1);
	ck_assert_int_eq(count("feed_error", "field='patient_stop.note' AND line=3"), 1);
}
END_TEST

START_TEST(test_policy_two_feeds)
{
	applied("zk", ZK_V1(), T1);
	/* feed ib (UZOVI 3312, same concern) declares ZK's policy id for the same year */
	zs_ingest_result res = apply("ib", TU_FEED(
		"{'type':'header','format':'zorgstatus-insurer','version':1,"
		"'concern':{'id':'achmea','name':'Achmea'},'insurer':{'uzovi':'3312','name':'IB'}}",
		"{'type':'policy','id':'3311-BASIS','year':2027,'name':'Overgenomen','kind':'budget',"
		"'reimbursement':[{'care_type':'*','percent':50,'basis':'avg_contracted_tariff'}]}",
		"{'type':'policy','id':'3312-EIGEN','year':2027,'name':'Eigen','kind':'natura',"
		"'reimbursement':[{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}]}",
		"{'type':'status','agb':'06010101','policy':'3312-EIGEN','year':2027,"
		"'care_type':'hospital','status':'contracted'}",
		"{'type':'end','records':3}"), T2);
	ck_assert_msg(res.applied == 1, "%s", res.error);
	ck_assert_int_eq(res.rejected, 1);
	int ib = feed_id("ib"), zk = feed_id("zk");
	ck_assert_int_eq(count("feed_error", "1"), 1);
	char *e = tu_sql_dump(db, "SELECT line, field FROM feed_error WHERE feed_id=%d", ib);
	ck_assert_str_eq(e, "2|id\n");
	free(e);
	char *reason = tu_sql_text(db, "SELECT reason FROM feed_error WHERE feed_id=%d", ib);
	tu_assert_contains(reason, "zk");
	free(reason);
	/* the first declaration stands */
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT feed_id FROM policy WHERE id='3311-BASIS'"
	                            " AND year=2027"), zk);
	char *name = tu_sql_text(db, "SELECT name FROM policy WHERE id='3311-BASIS'");
	ck_assert_str_eq(name, "Basis Zeker");
	free(name);
	ck_assert_int_eq(count("policy", "1"), 3);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "hospital", "ins_feed"), zk);
	ck_assert_int_eq(eff(AGB, "3312-EIGEN", "hospital", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3312-EIGEN", "hospital", "ins_feed"), ib);
}
END_TEST

START_TEST(test_provider_undeclared_policy)
{
	applied("zk", ZK_V1(), T1);
	/* a provider status may only name a policy declared in some insurer feed */
	zs_ingest_result res = apply("groep", TU_FEED(
		"{'type':'header','format':'zorgstatus-provider','version':1}",
		"{'type':'status','agb':'06010101','policy':'9999-NOPE','year':2027,"
		"'care_type':'hospital','status':'contracted'}",
		"{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
		"'care_type':'gp','status':'contracted'}",
		"{'type':'end','records':2}"), T2);
	ck_assert_msg(res.applied == 1, "%s", res.error);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "gp", "status"), ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(eff(AGB, "3311-BASIS", "gp", "basis"), ZS_BASIS_PROVIDER_ONLY);
	ck_assert_int_eq(res.rejected, 1);
	ck_assert_int_eq(count("feed_error", "line=2 AND field='policy'"), 1);
}
END_TEST

/* A record made invalid in one version keeps its last good statement (domain.md); when the
 * next version says it validly again, line by line, there is still exactly one statement for
 * it, and it is that line's again (hash set): never the kept copy and a new one side by side. */
#define CZ_HDR "{'type':'header','format':'zorgstatus-insurer','version':1," \
	"'generated_at':'2026-11-12T06:00:00+01:00','concern':{'id':'cz','name':'CZ groep'}," \
	"'insurer':{'uzovi':'9664','name':'CZ Zorgverzekeringen'}}"
#define CZ_POL "{'type':'policy','id':'9664-ZB','year':2027,'name':'Zorgbewust','kind':'natura'," \
	"'reimbursement':[{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}"
#define CZ_PROV "{'type':'provider','agb':'47470001','name':'Buurtzorg Zuidoost'," \
	"'kind':'district_nursing','locations':[{'postcode':'5611AB','city':'Eindhoven'}]}"
#define CZ_DN(st) "{'type':'status','agb':'47470001','policy':'9664-ZB','year':2027," \
	"'care_type':'district_nursing','status':'" st "'}"

START_TEST(test_incremental_invalid_then_valid_again)
{
	const char *dn = "scope_id='9664-ZB' AND care_type='district_nursing'";
	applied("cz", TU_FEED(CZ_HDR, CZ_POL, CZ_PROV, CZ_DN("contracted"),
	                      "{'type':'end','records':3}"), T1);
	ck_assert_int_eq(count("stmt", dn), 1);
	/* v2: the same record, invalid: the last good statement stays in force */
	zs_ingest_result res = apply("cz", TU_FEED(CZ_HDR, CZ_POL, CZ_PROV, CZ_DN("contractd"),
	                                           "{'type':'end','records':3}"), T2);
	ck_assert_msg(res.applied == 1, "%s", res.error);
	ck_assert_int_eq(res.rejected, 1);
	ck_assert_int_eq(count("stmt", dn), 1);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "district_nursing", "status"),
	                 ZS_STATUS_CONTRACTED);
	/* v3: valid again (negotiating now): one statement, from that line */
	applied("cz", TU_FEED(CZ_HDR, CZ_POL, CZ_PROV, CZ_DN("negotiating"),
	                      "{'type':'end','records':3}"), T3);
	ck_assert_int_eq(count("stmt", dn), 1);
	ck_assert_int_eq(count("stmt", "lh IS NULL"), 0);
	ck_assert_int_eq(eff("47470001", "9664-ZB", "district_nursing", "status"),
	                 ZS_STATUS_NEGOTIATING);
	/* v4: v3 with the provider moved to the end: the statement's line is the same line */
	applied("cz", TU_FEED(CZ_HDR, CZ_POL, CZ_DN("negotiating"), CZ_PROV,
	                      "{'type':'end','records':3}"), T3 + 60);
	ck_assert_int_eq(count("stmt", dn), 1);
	ck_assert_int_eq(count("stmt", "line=3"), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("apply");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, tu_tmpbase_create, tu_tmpbase_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_insurer_apply);
	tcase_add_test(tc, test_provider_apply);
	tcase_add_test(tc, test_unchanged);
	tcase_add_test(tc, test_atomic_reject);
	tcase_add_test(tc, test_empty_body_rejected);
	tcase_add_test(tc, test_tolerated_rows);
	tcase_add_test(tc, test_tolerated_rows_accepted_count);
	tcase_add_test(tc, test_tolerated_rows_limit);
	tcase_add_test(tc, test_undeclared_policy_rejects);
	tcase_add_test(tc, test_foreign_policy_rejected);
	tcase_add_test(tc, test_fetch_failed_keeps_content);
	tcase_add_test(tc, test_unconfigured_feed_dropped);
	tcase_add_test(tc, test_register_drop_one_add_another);
	tcase_add_test(tc, test_incremental_reconciles_only_changed_providers);
	tcase_add_test(tc, test_incremental_lines);
	tcase_add_test(tc, test_incremental_policy_added);
	tcase_add_test(tc, test_incremental_provider_twice);
	tcase_add_test(tc, test_incremental_invalid_then_valid_again);
	tcase_add_test(tc, test_unconfigured_feed_history_uses_daemon_clock);
	tcase_add_test(tc, test_similar_declarations);
	tcase_add_test(tc, test_similar_follows_each_apply_and_not_a_rolled_back_one);
	tcase_add_test(tc, test_similar_counts_each_care_type_of_a_provider_once);
	tcase_add_test(tc, test_similar_warmed_sets_follow_the_next_applies);
	tcase_add_test(tc, test_batch_after_a_rejected_version_reconciles_its_providers);
	tcase_add_test(tc, test_change_events_keep_the_patient_stop_flag);
	tcase_add_test(tc, test_incr_known_is_a_stored_line_under_the_same_header);
	tcase_add_test(tc, test_history_change);
	tcase_add_test(tc, test_provider_with_more_rows_than_one_write);
	tcase_add_test(tc, test_history_remove);
	tcase_add_test(tc, test_history_keeps_long_patient_stop_note);
	tcase_add_test(tc, test_policy_two_feeds);
	tcase_add_test(tc, test_provider_undeclared_policy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
