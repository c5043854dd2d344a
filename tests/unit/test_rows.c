/* test_rows.c - the effective rows held in memory (zs_rows.h): what a version holds, that
 * answers read from it are the table's answers byte for byte, and which providers a new
 * snapshot reads again. Expected rows are written by hand from /work/shared/domain.md
 * ("Sources and reconciliation": a status said for an insurer or a concern applies to each of
 * its policies; one effective row per policy and care type any source mentions).
 *
 * The data (contract year 2027 unless said otherwise):
 *   feed zk (insurer 3311, concern achmea): policies 3311-BASIS and 3311-EXCL (2027), 3311-BASIS
 *     (2026); about AGB 06010101: 3311-BASIS hospital negotiating; insurer 3311 mental_health
 *     contracted_ceiling exempt [acute]; 3311-EXCL hospital contracted; insurer 3311 2026
 *     hospital contracted.
 *   feed antonius (provider): 06010101 concern achmea hospital contracted; 47470001 concern
 *     achmea district_nursing contracted with a patient stop. */
#include "testutil.h"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zs_api.h"
#include "zs_api_priv.h"
#include "zs_big.h"
#include "zs_config.h"
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_ingest.h"
#include "zs_ready.h"
#include "zs_rows.h"
#include "zs_time.h"
#include "zs_types.h"
#include "zs_worker.h"

static const char CONF[] =
	"[feed zk]\nkind = insurer\nurl = /nonexistent/zk.jsonl\n"
	"[feed antonius]\nkind = provider\nurl = /nonexistent/antonius.jsonl\n";

#define ANT_HDR "{'type':'header','format':'zorgstatus-provider','version':1," \
	"'generated_at':'2026-11-12T08:00:00+01:00','publisher':{'name':'St. Antonius'}}"
#define ANT_PROV "{'type':'provider','agb':'06010101','name':'Sint Antonius Ziekenhuis'," \
	"'kind':'hospital','locations':[{'postcode':'3435CM','city':'Nieuwegein'}]}", \
	"{'type':'provider','agb':'47470001','name':'Buurtzorg Zuidoost'," \
	"'kind':'district_nursing','locations':[{'postcode':'5611AB','city':'Eindhoven'}]}"
#define ANT_06 "{'type':'status','agb':'06010101','concern':'achmea','year':2027," \
	"'care_type':'hospital','status':'contracted'}"

static char *dir;
static zs_config cfg;
static sqlite3 *db;
static zs_reader *rd;
static zs_rows *rows;
static time_t now_dec;

static void apply(const char *name, FILE *body)
{
	zs_ingest_result res;
	char err[512] = "";
	const zs_feed_conf *fc = NULL;
	for (size_t i = 0; i < cfg.nfeeds; i++)
		if (strcmp(cfg.feeds[i].name, name) == 0)
			fc = &cfg.feeds[i];
	ck_assert_ptr_nonnull(fc);
	ck_assert_msg(zs_ingest_apply(db, fc, body, now_dec - 3600, &res, err, sizeof err) == 0,
	              "%s", err);
	fclose(body);
	ck_assert_msg(res.applied == 1, "feed %s: %s", name, res.error);
	atomic_store(&zs_generation, zs_db_generation(db));
}

static void update(void)
{
	char err[256];
	ck_assert_msg(zs_rows_update(rows, db, err, sizeof err) == 0, "%s", err);
}

static void setup(void)
{
	char err[512], path[4096];
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_msg(zs_phrases_init(err, sizeof err) == 0, "%s", err);
	now_dec = zs_parse_local("2026-12-01T12:00:00");
	dir = tu_tmpdir();
	snprintf(path, sizeof path, "%s/zs.db", dir);
	zs_config_defaults(&cfg);
	ck_assert_int_eq(zs_config_set(&cfg, "database", path, err, sizeof err), 0);
	ck_assert_msg(zs_config_parse(&cfg, CONF, "test.conf", dir, err, sizeof err) == 0, "%s",
	              err);
	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_msg(zs_ingest_register(db, &cfg, err, sizeof err) == 0, "%s", err);
	apply("zk", TU_FEED(
		"{'type':'header','format':'zorgstatus-insurer','version':1,"
		"'generated_at':'2026-11-12T06:00:00+01:00','concern':{'id':'achmea','name':'Achmea'},"
		"'insurer':{'uzovi':'3311','name':'Zilveren Kruis Zorgverzekeringen N.V.'}}",
		"{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis Zeker',"
		"'label':'Zilveren Kruis','kind':'natura','reimbursement':["
		"{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}]}",
		"{'type':'policy','id':'3311-EXCL','year':2027,'name':'Basis Exclusief',"
		"'label':'Zilveren Kruis','kind':'restitutie','reimbursement':["
		"{'care_type':'*','percent':100,'basis':'market_tariff'}]}",
		"{'type':'policy','id':'3311-BASIS','year':2026,'name':'Basis Zeker',"
		"'label':'Zilveren Kruis','kind':'natura','reimbursement':["
		"{'care_type':'*','percent':70,'basis':'avg_contracted_tariff'}]}",
		"{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
		"'care_type':'hospital','status':'negotiating'}",
		"{'type':'status','agb':'06010101','insurer':'3311','year':2027,"
		"'care_type':'mental_health','status':'contracted_ceiling','ceiling':{'exempt':['acute']}}",
		"{'type':'status','agb':'06010101','policy':'3311-EXCL','year':2027,"
		"'care_type':'hospital','status':'contracted'}",
		"{'type':'status','agb':'06010101','insurer':'3311','year':2026,"
		"'care_type':'hospital','status':'contracted'}",
		"{'type':'end','records':7}"));
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06,
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'contracted','patient_stop':{"
		"'reason':'staff_shortage','from':'2026-10-01','until':'2027-01-31'}}",
		"{'type':'end','records':4}"));
	rd = zs_reader_open(&cfg, err, sizeof err);
	ck_assert_msg(rd != NULL, "%s", err);
	zs_reader_set_direct(rd, 1);
	rows = zs_rows_new();
	ck_assert_ptr_nonnull(rows);
}

static void teardown(void)
{
	zs_reader_close(rd);
	zs_rows_free(rows);
	sqlite3_close(db);
	zs_config_free(&cfg);
	tu_rmdb(dir);
	free(dir);
}

/* The rows of agb in year in the store's version of generation gen (held), n of them. */
static zs_rver *version_rows(const char *agb, int year, const zs_rrow **r, size_t *n)
{
	zs_rver *v = zs_rows_get(rows, zs_db_generation(db));
	ck_assert_msg(v != NULL, "no version of generation %lld", zs_db_generation(db));
	ck_assert_int_eq(zs_rver_rows(v, agb, year, r, n), 1);
	return v;
}

static void expect_row(const zs_rver *v, const zs_rrow *r, const char *policy,
                       const char *care_type, int status)
{
	const eff_view *e = zs_rver_pattern(v, r->pat);
	ck_assert_str_eq(zs_rver_policy(v, r->pol), policy);
	ck_assert_str_eq(e->care_type, care_type);
	ck_assert_int_eq(e->status, status);
}

/* A lookup with parameters (lang among them) at now, as a public answer written directly, with
 * the rows in memory (which it must then have read) or from the table; *status its HTTP
 * status when status is not NULL. */
static char *lookup_kv(const char *agb, const zs_kv *kv, size_t n, int from_memory, time_t now,
                       int *status)
{
	zs_request req = { .params = kv, .nparams = n, .path_arg = agb, .lang = "nl", .now = now };
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, "lang") == 0)
			req.lang = kv[i].value;
	int st = 0;
	size_t len;
	zs_reader_set_rows(rd, from_memory ? rows : NULL);
	json_t *o = zs_api_call(rd, zs_api_provider, &req, &st, NULL, NULL);
	ck_assert_ptr_nonnull(o);
	if (status)
		*status = st;
	if (from_memory)
		ck_assert_msg(rd->rver != NULL, "the lookup did not read the rows in memory");
	char *t = zs_api_dump(rd, o, &len);
	json_decref(o);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* The same for one year, now. */
static char *lookup(const char *agb, const char *year, int from_memory, int *status)
{
	zs_kv kv[] = { { "year", year } };
	return lookup_kv(agb, kv, 1, from_memory, now_dec, status);
}

static void expect_same_answers(void)
{
	const char *agbs[] = { "06010101", "47470001", "99999999" };
	const char *years[] = { "2026", "2027" };
	for (size_t a = 0; a < 3; a++)
		for (size_t y = 0; y < 2; y++) {
			int s0, s1;
			char *table = lookup(agbs[a], years[y], 0, &s0);
			char *memory = lookup(agbs[a], years[y], 1, &s1);
			ck_assert_int_eq(s0, s1);
			ck_assert_int_eq(s0, a == 2 ? 404 : 200); /* 99999999: nobody knows it */
			ck_assert_msg(strcmp(table, memory) == 0, "%s %s:\ntable  %s\nmemory %s", agbs[a],
			              years[y], table, memory);
			zs_big_free(table);
			zs_big_free(memory);
		}
}

START_TEST(test_rows_hold_a_row_per_policy_and_care_type)
{
	const zs_rrow *r;
	size_t n;
	update();
	zs_rver *v = version_rows("06010101", 2027, &r, &n);
	/* by policy id, then care type (strcmp order, as the table's key) */
	ck_assert_uint_eq(n, 4);
	expect_row(v, &r[0], "3311-BASIS", "hospital", ZS_STATUS_NEGOTIATING);
	expect_row(v, &r[1], "3311-BASIS", "mental_health", ZS_STATUS_CONTRACTED_CEILING);
	expect_row(v, &r[2], "3311-EXCL", "hospital", ZS_STATUS_CONTRACTED);
	expect_row(v, &r[3], "3311-EXCL", "mental_health", ZS_STATUS_CONTRACTED_CEILING);
	ck_assert_ptr_nonnull(strstr(zs_rver_pattern(v, r[1].pat)->ceiling_exempt, "acute"));
	/* the insurer's one status of 2026 for its one policy of 2026 */
	ck_assert_int_eq(zs_rver_rows(v, "06010101", 2026, &r, &n), 1);
	ck_assert_uint_eq(n, 1);
	expect_row(v, &r[0], "3311-BASIS", "hospital", ZS_STATUS_CONTRACTED);
	/* the concern's status with its stop, on both policies of the concern in 2027 */
	ck_assert_int_eq(zs_rver_rows(v, "47470001", 2027, &r, &n), 1);
	ck_assert_uint_eq(n, 2);
	expect_row(v, &r[0], "3311-BASIS", "district_nursing", ZS_STATUS_CONTRACTED);
	expect_row(v, &r[1], "3311-EXCL", "district_nursing", ZS_STATUS_CONTRACTED);
	ck_assert_ptr_nonnull(zs_rver_pattern(v, r[0].pat)->stop);
	/* held and without rows: an unknown provider, a year without statuses */
	ck_assert_int_eq(zs_rver_rows(v, "99999999", 2027, &r, &n), 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(zs_rver_rows(v, "47470001", 2026, &r, &n), 1);
	ck_assert_uint_eq(n, 0);
	/* an agb too long for the index is never held: the reader reads the table */
	ck_assert_int_eq(zs_rver_rows(v, "0601010106010101", 2027, &r, &n), 0);
	/* rows that share everything but the policy share one pattern */
	ck_assert_int_eq(zs_rver_rows(v, "47470001", 2027, &r, &n), 1);
	ck_assert_uint_eq(r[0].pat, r[1].pat);
	zs_rows_stats st;
	zs_rows_get_stats(rows, &st);
	ck_assert_int_eq(st.state, 2);
	ck_assert_uint_eq(st.rows, 7);
	ck_assert_uint_eq(st.providers, 3); /* provider-years: 06010101 twice, 47470001 once */
	ck_assert_uint_eq(st.full_builds, 1);
	zs_rver_release(v);
}
END_TEST

START_TEST(test_rows_answers_same_bytes_as_the_table)
{
	update();
	expect_same_answers();
	/* compare reads the same rows */
	zs_kv kv[] = { { "agb", "06010101,47470001" }, { "year", "2027" } };
	zs_request req = { .params = kv, .nparams = 2, .lang = "nl", .now = now_dec };
	char *t[2];
	for (int m = 0; m < 2; m++) {
		int st = 0;
		size_t len;
		zs_reader_set_rows(rd, m ? rows : NULL);
		json_t *o = zs_api_call(rd, zs_api_compare, &req, &st, NULL, NULL);
		ck_assert_int_eq(st, 200);
		t[m] = zs_api_dump(rd, o, &len);
		json_decref(o);
	}
	ck_assert_str_eq(t[0], t[1]);
	zs_big_free(t[0]);
	zs_big_free(t[1]);
}
END_TEST

/* A new snapshot that changes one provider reads that provider again and shares every other
 * provider's rows with the version before (the same block, not a copy). */
START_TEST(test_rows_change_to_one_provider_keeps_the_others)
{
	const zs_rrow *a0, *a1, *b0, *b1;
	size_t n;
	update();
	zs_rver *v0 = version_rows("06010101", 2027, &a0, &n);
	ck_assert_int_eq(zs_rver_rows(v0, "47470001", 2027, &b0, &n), 1);
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06,
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'not_contracted'}",
		"{'type':'end','records':4}"));
	update();
	zs_rver *v1 = version_rows("06010101", 2027, &a1, &n);
	ck_assert_ptr_ne(v0, v1);
	ck_assert_ptr_eq(a0, a1); /* 06010101: the same block */
	ck_assert_int_eq(zs_rver_rows(v1, "47470001", 2027, &b1, &n), 1);
	ck_assert_ptr_ne(b0, b1);
	ck_assert_uint_eq(n, 2);
	expect_row(v1, &b1[0], "3311-BASIS", "district_nursing", ZS_STATUS_NOT_CONTRACTED);
	expect_row(v1, &b1[1], "3311-EXCL", "district_nursing", ZS_STATUS_NOT_CONTRACTED);
	ck_assert_ptr_null(zs_rver_pattern(v1, b1[0].pat)->stop);
	/* the version before is unchanged while held */
	expect_row(v0, &b0[0], "3311-BASIS", "district_nursing", ZS_STATUS_CONTRACTED);
	zs_rows_stats st;
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.builds, 2);
	ck_assert_uint_eq(st.full_builds, 1);
	expect_same_answers();
	/* the provider's statuses leave the feed: its rows leave the version */
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06, "{'type':'end','records':3}"));
	update();
	zs_rver *v2 = version_rows("47470001", 2027, &b1, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(zs_rver_rows(v2, "06010101", 2027, &a1, &n), 1);
	ck_assert_ptr_eq(a0, a1);
	expect_same_answers();
	zs_rver_release(v0);
	zs_rver_release(v1);
	zs_rver_release(v2);
}
END_TEST

/* The providers' master data is held with the rows as the text an answer writes for it, read
 * again when the provider is marked changed and shared otherwise; a lookup written from memory
 * reads no provider record. */
START_TEST(test_rows_provider_master_data_held_as_answers_write_it)
{
	const char *t0, *t1, *u0, *u1;
	size_t l0, l1;
	update();
	zs_rver *v0 = zs_rows_get(rows, zs_db_generation(db));
	ck_assert_ptr_nonnull(v0);
	ck_assert_int_eq(zs_rver_provider(v0, "06010101", &t0, &l0), 1);
	const char *ant = "{\"agb\":\"06010101\",\"name\":\"Sint Antonius Ziekenhuis\","
	                  "\"kind\":\"hospital\",\"parent\":null,\"locations\":[{\"postcode\":"
	                  "\"3435CM\",\"city\":\"Nieuwegein\"}]}";
	ck_assert_uint_eq(l0, strlen(ant));
	ck_assert_msg(memcmp(t0, ant, l0) == 0, "%.*s", (int)l0, t0);
	ck_assert_int_eq(zs_rver_provider(v0, "47470001", &u0, &l1), 1);
	ck_assert_int_eq(zs_rver_provider(v0, "99999999", &t1, &l1), 0); /* nobody knows it */
	ck_assert_int_eq(zs_rver_provider(v0, "0601010106010101", &t1, &l1), -1); /* not held */
	/* from memory, the provider table is not read; from the table, once */
	sqlite3_stmt *sel = rd->sel_provider;
	for (int m = 1; m >= 0; m--) {
		sqlite3_stmt_status(sel, SQLITE_STMTSTATUS_RUN, 1);
		zs_big_free(lookup("06010101", "2027", m, NULL));
		ck_assert_int_eq(sqlite3_stmt_status(sel, SQLITE_STMTSTATUS_RUN, 0), m ? 0 : 1);
	}
	/* Buurtzorg's feed renames it: its text is read again, Antonius's shared */
	apply("antonius", TU_FEED(ANT_HDR,
		"{'type':'provider','agb':'06010101','name':'Sint Antonius Ziekenhuis',"
		"'kind':'hospital','locations':[{'postcode':'3435CM','city':'Nieuwegein'}]}",
		"{'type':'provider','agb':'47470001','name':'Buurtzorg Eindhoven Zuidoost',"
		"'kind':'district_nursing','locations':[{'postcode':'5611AB','city':'Eindhoven'}]}",
		ANT_06, "{'type':'end','records':3}"));
	update();
	zs_rver *v1 = zs_rows_get(rows, zs_db_generation(db));
	ck_assert_ptr_nonnull(v1);
	ck_assert_ptr_ne(v0, v1);
	ck_assert_int_eq(zs_rver_provider(v1, "06010101", &t1, &l1), 1);
	ck_assert_ptr_eq(t0, t1);
	ck_assert_int_eq(zs_rver_provider(v1, "47470001", &u1, &l1), 1);
	ck_assert_ptr_ne(u0, u1);
	ck_assert_ptr_nonnull(strstr(u1, "\"name\":\"Buurtzorg Eindhoven Zuidoost\""));
	ck_assert_ptr_nonnull(strstr(u0, "\"name\":\"Buurtzorg Zuidoost\"")); /* v0 unchanged */
	zs_rows_stats st;
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.full_builds, 1);
	expect_same_answers();
	/* Buurtzorg leaves its feed, record and statuses: no record of it in the next version
	 * (an unknown provider, as the table says), Antonius's text still shared */
	apply("antonius", TU_FEED(ANT_HDR,
		"{'type':'provider','agb':'06010101','name':'Sint Antonius Ziekenhuis',"
		"'kind':'hospital','locations':[{'postcode':'3435CM','city':'Nieuwegein'}]}",
		ANT_06, "{'type':'end','records':2}"));
	update();
	zs_rver *v2 = zs_rows_get(rows, zs_db_generation(db));
	ck_assert_ptr_nonnull(v2);
	ck_assert_int_eq(zs_rver_provider(v2, "47470001", &u1, &l1), 0);
	ck_assert_int_eq(zs_rver_provider(v2, "06010101", &t1, &l1), 1);
	ck_assert_ptr_eq(t0, t1);
	int s0, s1;
	char *table = lookup("47470001", "2027", 0, &s0), *memory = lookup("47470001", "2027", 1, &s1);
	ck_assert_int_eq(s0, 404);
	ck_assert_int_eq(s1, 404);
	ck_assert_str_eq(table, memory);
	zs_big_free(table);
	zs_big_free(memory);
	zs_rver_release(v0);
	zs_rver_release(v1);
	zs_rver_release(v2);
}
END_TEST

/* A '*' mark (everything changed, e.g. a rollover) or marks pruned past the version: the next
 * version is read in full. */
START_TEST(test_rows_everything_marked_builds_in_full)
{
	char err[256];
	update();
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_msg(zs_deps_mark(db, "*", err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE meta SET value = value + 1 WHERE key = 'generation';"
	                              " UPDATE effective SET status = 4 WHERE agb = '06010101'"
	                              " AND policy_id = '3311-EXCL' AND care_type = 'hospital';"
	                              " COMMIT", NULL, NULL, NULL), SQLITE_OK);
	update();
	zs_rows_stats st;
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.builds, 2);
	ck_assert_uint_eq(st.full_builds, 2);
	const zs_rrow *r;
	size_t n;
	zs_rver *v = version_rows("06010101", 2027, &r, &n);
	expect_row(v, &r[2], "3311-EXCL", "hospital", ZS_STATUS_NOT_CONTRACTED);
	zs_rver_release(v);
	/* no new snapshot: no new version */
	update();
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.builds, 2);
}
END_TEST

/* A reader on a snapshot the store has not built yet reads the table: never the rows of
 * another snapshot. */
START_TEST(test_rows_reader_ahead_of_the_store_reads_the_table)
{
	update();
	int s0;
	char *before = lookup("47470001", "2027", 1, &s0);
	ck_assert_ptr_nonnull(strstr(before, "\"status\":\"contracted\""));
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06,
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'not_contracted'}",
		"{'type':'end','records':4}"));
	zs_kv kv[] = { { "year", "2027" } };
	zs_request req = { .params = kv, .nparams = 1, .path_arg = "47470001", .lang = "nl",
		           .now = now_dec };
	int st = 0;
	size_t len;
	json_t *o = zs_api_call(rd, zs_api_provider, &req, &st, NULL, NULL);
	ck_assert_ptr_null(rd->rver); /* the store is still at the generation before */
	char *after = zs_api_dump(rd, o, &len);
	json_decref(o);
	ck_assert_ptr_null(strstr(after, "\"status\":\"contracted\""));
	ck_assert_ptr_nonnull(strstr(after, "\"status\":\"not_contracted\""));
	/* /healthz says so */
	zs_request hq = { .lang = "nl", .now = now_dec };
	o = zs_api_call(rd, zs_api_health, &hq, &st, NULL, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "rows_in_memory")), "building");
	json_decref(o);
	update();
	o = zs_api_call(rd, zs_api_health, &hq, &st, NULL, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "rows_in_memory")), "ready");
	json_decref(o);
	zs_reader_set_rows(rd, NULL);
	o = zs_api_call(rd, zs_api_health, &hq, &st, NULL, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "rows_in_memory")), "off");
	json_decref(o);
	zs_big_free(before);
	zs_big_free(after);
}
END_TEST

/* /readyz (zs_ready.c): with its feeds loaded, a replica is not ready (503 loading_statuses)
 * until its statuses in memory are built for the snapshot that made it ready, as on a first
 * load, where the store has a version of the empty snapshot before; with the rows in memory
 * off (no store) there is nothing to wait for; once they are there, a later snapshot not yet
 * built does not take readiness away. */
static void expect_ready(int want_status, const char *want_reason)
{
	int st = 0;
	zs_request q = { .lang = "nl", .now = now_dec };
	json_t *o = zs_api_call(rd, zs_api_ready, &q, &st, NULL, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(st, want_status);
	ck_assert_str_eq(json_string_value(json_object_get(o, want_reason ? "reason" : "status")),
	                 want_reason ? want_reason : "ready");
	json_decref(o);
}

START_TEST(test_rows_not_ready_until_built_for_the_snapshot_that_made_it_ready)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/zs.db", dir);
	zs_ready_init(path);
	zs_reader_set_rows(rd, rows);
	update(); /* a version of the snapshot before */
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06,
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'not_contracted'}",
		"{'type':'end','records':4}"));
	zs_ready_set(1, NULL); /* every feed attempted, one loaded: this snapshot published */
	expect_ready(503, "loading_statuses");
	zs_reader_set_rows(rd, NULL); /* rows in memory off */
	expect_ready(200, NULL);
	zs_reader_set_rows(rd, rows);
	expect_ready(503, "loading_statuses");
	update();
	expect_ready(200, NULL);
	/* a new snapshot, its version not built yet: still ready */
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06,
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'negotiating'}",
		"{'type':'end','records':4}"));
	expect_ready(200, NULL);
	zs_reader_set_rows(rd, NULL);
}
END_TEST

/* A version alive is counted until its last holder lets go (zorgstatus_rows_in_memory_versions);
 * a reader lets go of the rows of a snapshot older than the published one between answers
 * (zs_reader_let_go_rows: a serving thread without requests), and keeps the newest. */
START_TEST(test_rows_old_version_let_go_by_an_idle_reader)
{
	zs_rows_stats st;
	update();
	int s0;
	zs_big_free(lookup("47470001", "2027", 1, &s0)); /* rd now reads the version of this snapshot */
	ck_assert_ptr_nonnull(rd->rver);
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.versions, 1);
	zs_reader_let_go_rows(rd); /* of the published snapshot: kept */
	ck_assert_ptr_nonnull(rd->rver);
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06,
		"{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
		"'care_type':'district_nursing','status':'not_contracted'}",
		"{'type':'end','records':4}"));
	update();
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.versions, 2); /* the newest, and the one rd still holds */
	zs_reader_let_go_rows(rd);
	ck_assert_ptr_null(rd->rver);
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.versions, 1);
	/* the next answer reads the newest version */
	char *after = lookup("47470001", "2027", 1, &s0);
	ck_assert_ptr_nonnull(rd->rver);
	ck_assert_int_eq(zs_rver_gen(rd->rver), zs_db_generation(db));
	ck_assert_ptr_nonnull(strstr(after, "\"status\":\"not_contracted\""));
	zs_big_free(after);
	zs_rows_get_stats(rows, &st);
	ck_assert_uint_eq(st.versions, 1);
}
END_TEST

/* The status memo's front finds a status of a row in memory by its pattern and policy within
 * one context (snapshot, day, request): requests of other languages, amounts, situations and
 * days interleaved, and a new snapshot, each get their own texts, the table's bytes. */
START_TEST(test_rows_memo_front_keeps_contexts_apart)
{
	static const zs_kv variants[][3] = {
		{ { "year", "2027" } },
		{ { "year", "2027" }, { "lang", "en" } },
		{ { "year", "2027" }, { "amount", "8000" } },
		{ { "year", "2027" }, { "situation", "acute" } },
		{ { "year", "2027" }, { "in_treatment", "true" }, { "situation", "planned" } },
	};
	static const size_t nkv[] = { 1, 2, 2, 2, 3 };
	/* the stop of 47470001 runs until 2027-01-31: in force on the first day, over on the second */
	time_t days[] = { now_dec, zs_parse_local("2027-02-02T12:00:00") };
	const char *agbs[] = { "06010101", "47470001" };
	update();
	for (int round = 0; round < 2; round++) {
		for (int rep = 0; rep < 2; rep++) /* the second time from the front */
			for (size_t d = 0; d < 2; d++)
				for (size_t v = 0; v < 5; v++)
					for (size_t a = 0; a < 2; a++) {
						char *t = lookup_kv(agbs[a], variants[v], nkv[v], 0, days[d], NULL);
						char *m = lookup_kv(agbs[a], variants[v], nkv[v], 1, days[d], NULL);
						ck_assert_msg(strcmp(t, m) == 0, "round %d %s variant %zu day %zu:"
						              "\ntable  %s\nmemory %s", round, agbs[a], v, d, t, m);
						zs_big_free(t);
						zs_big_free(m);
					}
		ck_assert_ptr_nonnull(rd->front); /* it was used */
		/* a new snapshot: 47470001 no longer contracted, then negotiating; the front's
		 * texts are of the snapshot before */
		apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06, round == 0
			? "{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
			  "'care_type':'district_nursing','status':'not_contracted'}"
			: "{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
			  "'care_type':'district_nursing','status':'negotiating'}",
			"{'type':'end','records':4}"));
		update();
	}
}
END_TEST

/* The store's stats once it has built the database's generation (at most 5 s). */
static zs_rows_stats wait_built(void)
{
	zs_rows_stats st;
	for (int i = 0; i < 500; i++) {
		zs_rows_get_stats(rows, &st);
		if (st.gen == zs_db_generation(db))
			break;
		usleep(10000);
	}
	ck_assert_int_eq(st.gen, zs_db_generation(db));
	return st;
}

/* The builder thread: the first version at once, the next when the generation moves. */
START_TEST(test_rows_thread_follows_the_published_generation)
{
	char err[256];
	zs_rows_free(rows);
	rows = zs_rows_new();
	ck_assert_msg(zs_rows_start(rows, &cfg, err, sizeof err) == 0, "%s", err);
	wait_built();
	apply("antonius", TU_FEED(ANT_HDR, ANT_PROV, ANT_06, "{'type':'end','records':3}"));
	zs_rows_stats st = wait_built();
	ck_assert_uint_eq(st.builds, 2);
	ck_assert_uint_eq(st.rows, 5); /* 47470001's two rows are gone */
	expect_same_answers();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rows");
	TCase *tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rows_hold_a_row_per_policy_and_care_type);
	tcase_add_test(tc, test_rows_answers_same_bytes_as_the_table);
	tcase_add_test(tc, test_rows_change_to_one_provider_keeps_the_others);
	tcase_add_test(tc, test_rows_provider_master_data_held_as_answers_write_it);
	tcase_add_test(tc, test_rows_everything_marked_builds_in_full);
	tcase_add_test(tc, test_rows_reader_ahead_of_the_store_reads_the_table);
	tcase_add_test(tc, test_rows_thread_follows_the_published_generation);
	tcase_add_test(tc, test_rows_memo_front_keeps_contexts_apart);
	tcase_add_test(tc, test_rows_old_version_let_go_by_an_idle_reader);
	tcase_add_test(tc, test_rows_not_ready_until_built_for_the_snapshot_that_made_it_ready);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
