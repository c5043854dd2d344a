/* test_rollover.c - the year rollover in steps (zs_rollover.h, issue 17) on a real SQLite
 * file: when a contract year leaves the feeds, no answer shows it from that snapshot on, its
 * rows move into history in transactions of at most the batch size, the history and the
 * change log keep their meaning (the rows end at the moment the year left), a restart in the
 * middle continues, and a year that comes back first has its old rows closed.
 *
 * The data, written by hand: insurer feed zk (uzovi 3311) with policies 3311-BASIS for 2026
 * and 2027 and 3311-EXCL for 2027, and for NPROV providers (AGB 0601000<i>), insurer-level
 * statements: 2026 hospital contracted (every provider) and 2026 mental_health
 * not_contracted (even i); 2027 hospital contracted. Effective rows: 2026: NPROV hospital +
 * NPROV/2 mental health on the one 2026 policy = ROWS26; 2027: 2 * NPROV. Version 2 of the
 * feed drops 2026 (policy and statements): the rollover. */
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "zs_api.h"
#include "zs_api_priv.h"
#include "zs_config.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_ingest.h"
#include "zs_maint.h"
#include "zs_rollover.h"
#include "zs_rows.h"
#include "zs_time.h"
#include "zs_types.h"

#define NPROV 12
#define ROWS26 (NPROV + NPROV / 2)
#define ROWS27 (2 * NPROV)

static const char CONF[] = "[feed zk]\nkind = insurer\nurl = /nonexistent/zk.jsonl\n";

static char *dir, *path;
static zs_config cfg;
static sqlite3 *db;
static time_t t1, t2, t3;

static void setup(void)
{
	char err[512];
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_msg(zs_phrases_init(err, sizeof err) == 0, "%s", err);
	t1 = zs_parse_local("2027-01-05T06:00:00");
	t2 = zs_parse_local("2027-02-01T06:00:00"); /* the feed without 2026 */
	t3 = zs_parse_local("2027-02-02T06:00:00");
	ck_assert_int_ne((long long)t1, -1);
	dir = tu_tmpdir();
	ck_assert_int_ge(asprintf(&path, "%s/zs.db", dir), 0);
	zs_config_defaults(&cfg);
	ck_assert_int_eq(zs_config_set(&cfg, "database", path, err, sizeof err), 0);
	ck_assert_msg(zs_config_parse(&cfg, CONF, "test.conf", dir, err, sizeof err) == 0, "%s",
	              err);
	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_msg(zs_ingest_register(db, &cfg, err, sizeof err) == 0, "%s", err);
}

static void teardown(void)
{
	sqlite3_close(db);
	db = NULL;
	zs_config_free(&cfg);
	tu_rmdb(dir);
	free(dir);
	free(path);
}

/* The insurer feed, with or without the year 2026. */
static FILE *feed(int with2026)
{
	FILE *f = tmpfile();
	long records = 0;
	ck_assert_ptr_nonnull(f);
	fputs("{\"type\":\"header\",\"format\":\"zorgstatus-insurer\",\"version\":1,"
	      "\"concern\":{\"id\":\"achmea\",\"name\":\"Achmea\"},"
	      "\"insurer\":{\"uzovi\":\"3311\",\"name\":\"Zilveren Kruis\"}}\n", f);
	for (int y = with2026 ? 2026 : 2027; y <= 2027; y++) {
		fprintf(f, "{\"type\":\"policy\",\"id\":\"3311-BASIS\",\"year\":%d,\"name\":\"Basis\","
		        "\"kind\":\"natura\",\"reimbursement\":[{\"care_type\":\"*\",\"percent\":75,"
		        "\"basis\":\"avg_contracted_tariff\"}]}\n", y);
		records++;
	}
	fputs("{\"type\":\"policy\",\"id\":\"3311-EXCL\",\"year\":2027,\"name\":\"Exclusief\","
	      "\"kind\":\"restitutie\",\"reimbursement\":[{\"care_type\":\"*\",\"percent\":100,"
	      "\"basis\":\"market_tariff\"}]}\n", f);
	records++;
	for (int i = 0; i < NPROV; i++) {
		char agb[16];
		snprintf(agb, sizeof agb, "060100%02d", i);
		fprintf(f, "{\"type\":\"status\",\"agb\":\"%s\",\"insurer\":\"3311\",\"year\":2027,"
		        "\"care_type\":\"hospital\",\"status\":\"contracted\"}\n", agb);
		records++;
		if (!with2026)
			continue;
		fprintf(f, "{\"type\":\"status\",\"agb\":\"%s\",\"insurer\":\"3311\",\"year\":2026,"
		        "\"care_type\":\"hospital\",\"status\":\"contracted\"}\n", agb);
		records++;
		if (i % 2 == 0) {
			fprintf(f, "{\"type\":\"status\",\"agb\":\"%s\",\"insurer\":\"3311\","
			        "\"year\":2026,\"care_type\":\"mental_health\","
			        "\"status\":\"not_contracted\"}\n", agb);
			records++;
		}
	}
	fprintf(f, "{\"type\":\"end\",\"records\":%ld}\n", records);
	rewind(f);
	return f;
}

static void apply(int with2026, time_t now)
{
	zs_ingest_result res;
	char err[512] = "";
	FILE *f = feed(with2026);
	int rc = zs_ingest_apply(db, &cfg.feeds[0], f, now, &res, err, sizeof err);
	fclose(f);
	ck_assert_msg(rc == 0 && res.applied, "apply: rc %d: %s %s", rc, err, res.error);
}

static long long count(const char *table, const char *where)
{
	return tu_sql_int(db, -1, "SELECT count(*) FROM %s WHERE %s", table, where);
}

/* One answer of a handler as compact JSON text (caller frees). */
static char *answer(zs_reader *rd, zs_handler h, const char *agb, const char *year, int staff,
                    time_t now, int want)
{
	zs_kv kv[1] = { { "year", year } };
	zs_request req = { .params = kv, .nparams = 1, .path_arg = agb, .lang = "nl", .now = now,
		           .staff = staff };
	int status = 0;
	json_t *o = h(rd, &req, &status);
	ck_assert_ptr_nonnull(o);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(status == want, "status %d: %s", status, s);
	json_decref(o);
	return s;
}

static zs_reader *reader(void)
{
	char err[256];
	zs_reader *rd = zs_reader_open(&cfg, err, sizeof err);
	ck_assert_msg(rd != NULL, "%s", err);
	return rd;
}

/* Run steps of at most batch rows until done; the rows of each step in moved[]. */
static int steps(long batch, long *moved, int max)
{
	char err[256] = "";
	int n = 0, more = 1;
	while (more > 0 && n < max) {
		more = zs_rollover_step(db, batch, &moved[n], err, sizeof err);
		ck_assert_msg(more >= 0, "%s", err);
		n++;
	}
	ck_assert_int_eq(more, 0);
	return n;
}

START_TEST(test_hidden_at_once_moved_in_batches)
{
	apply(1, t1);
	ck_assert_int_eq(count("effective", "year=2026"), ROWS26);
	ck_assert_int_eq(count("effective", "year=2027"), ROWS27);
	zs_reader *rd = reader();
	char *before = answer(rd, zs_api_provider, "06010000", "2026", 0, t1 + 60, 200);
	tu_assert_contains(before, "\"mental_health\"");
	free(before);

	apply(0, t2);
	/* the switch: one transaction; the rows are still stored, but no longer shown */
	ck_assert_int_eq(count("effective", "year=2026"), ROWS26);
	ck_assert_int_eq(count("retired", "year=2026 AND policy_id='3311-BASIS'"), 1);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT at FROM retired"), t2);
	/* as after any year that left: no data about it (docs/api.md) */
	char *now26 = answer(rd, zs_api_provider, "06010000", "2026", 0, t2 + 60, 404);
	tu_assert_contains(now26, "\"no_data\"");
	ck_assert_msg(strstr(now26, "hospital") == NULL && strstr(now26, "mental_health") == NULL,
	              "the retired year is still shown: %s", now26);
	free(now26);
	/* 2027 unchanged */
	char *now27 = answer(rd, zs_api_provider, "06010000", "2027", 0, t2 + 60, 200);
	tu_assert_contains(now27, "3311-EXCL");
	free(now27);
	/* the history closes the year's rows at t2 at once */
	char *hist = answer(rd, zs_api_provider_history, "06010000", "2026", 1, t2 + 60, 200);
	ck_assert_int_eq(count("status_history", "year=2026 AND valid_until IS NULL"), 0);
	ck_assert_int_eq(count("status_history", "year=2026"), ROWS26);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM status_history WHERE year=2026"
	                            " AND valid_until=%lld AND valid_from=%lld", (long long)t2,
	                            (long long)t1), ROWS26);
	long long gen0 = zs_db_generation(db);

	/* the move: batches of at most 5 rows: 5, 5, 5, 3 */
	long moved[16];
	int n = steps(5, moved, 16);
	long total = 0;
	for (int i = 0; i < n; i++) {
		ck_assert_int_le(moved[i], 5);
		total += moved[i];
	}
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(total, ROWS26);
	ck_assert_int_eq(count("effective", "year=2026"), 0);
	ck_assert_int_eq(count("effective", "year=2027"), ROWS27);
	ck_assert_int_eq(count("retired", "1"), 0);
	ck_assert_int_eq(count("meta", "key LIKE 'retire_%'"), 0);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM history WHERE year=2026"
	                            " AND valid_from=%lld AND valid_until=%lld", (long long)t1,
	                            (long long)t2), ROWS26);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM history WHERE year=2026 AND"
	                            " policy_id='3311-BASIS' AND care_type='mental_health' AND"
	                            " status=%d", ZS_STATUS_NOT_CONTRACTED), NPROV / 2);
	/* the change log: one event per row: contracted/not contracted -> none, at t2 */
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM change_log WHERE year=2026 AND"
	                            " agb IS NOT NULL AND new_status IS NULL AND at=%lld",
	                            (long long)t2), ROWS26);
	ck_assert_int_eq(count("change_log", "year=2026 AND care_type='hospital' AND old_status=1"),
	                 NPROV);
	ck_assert_int_gt(zs_db_generation(db), gen0);
	/* the history answer is the same before and after the move */
	char *hist2 = answer(rd, zs_api_provider_history, "06010000", "2026", 1, t2 + 120, 200);
	ck_assert_str_eq(hist, hist2);
	free(hist);
	free(hist2);
	/* nothing more to do */
	long m = -1;
	char err[128];
	ck_assert_int_eq(zs_rollover_step(db, 5, &m, err, sizeof err), 0);
	ck_assert_int_eq(m, 0);
	zs_reader_close(rd);
}
END_TEST

START_TEST(test_restart_continues)
{
	char err[512] = "";
	apply(1, t1);
	apply(0, t2);
	long m1 = 0, m2 = 0;
	ck_assert_int_eq(zs_rollover_step(db, 4, &m1, err, sizeof err), 1);
	ck_assert_int_eq(zs_rollover_step(db, 4, &m2, err, sizeof err), 1);
	ck_assert_int_eq(m1 + m2, 8);
	/* the daemon stops and starts again */
	sqlite3_close(db);
	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(zs_rollover_pending(db), 1);
	long moved[16];
	int n = steps(4, moved, 16);
	long total = 8;
	for (int i = 0; i < n; i++)
		total += moved[i];
	ck_assert_int_eq(total, ROWS26);
	/* every row once */
	ck_assert_int_eq(count("history", "year=2026"), ROWS26);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM (SELECT DISTINCT agb, policy_id,"
	                            " care_type FROM history WHERE year=2026)"), ROWS26);
	ck_assert_int_eq(count("effective", "year=2026"), 0);
}
END_TEST

/* The maintenance step between ingest rounds does the moving, bounded per transaction. */
START_TEST(test_maint_batches)
{
	char err[512] = "";
	apply(1, t1);
	apply(0, t2);
	cfg.rollover_batch_rows = 4;
	long pruned = 0;
	ck_assert_msg(zs_maint_run(db, &cfg, t2 + 5, &pruned, err, sizeof err) == 0, "%s", err);
	const long *rows;
	size_t n = zs_maint_rollover_trace(&rows);
	long total = 0;
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_le(rows[i], 4);
		total += rows[i];
	}
	ck_assert_int_eq(n, 5); /* 4, 4, 4, 4, 2 */
	ck_assert_int_eq(total, ROWS26);
	ck_assert_int_eq(count("effective", "year=2026"), 0);
	ck_assert_int_eq(zs_rollover_pending(db), 0);
	ck_assert_int_eq(pruned, 0); /* 2026 is kept (history_keep_years 2 in 2027) */
	ck_assert_int_eq(count("history", "year=2026"), ROWS26);
	/* keeping one year: 2026's history goes (in steps of the retention) */
	cfg.history_keep_years = 1;
	ck_assert_msg(zs_maint_run(db, &cfg, t2 + 10, &pruned, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(pruned, ROWS26);
	ck_assert_int_eq(count("history", "year=2026"), 0);
}
END_TEST

/* The year comes back before its rows moved: the old rows are closed at the moment it left,
 * and new ones start when it came back. */
START_TEST(test_comes_back)
{
	apply(1, t1);
	apply(0, t2);
	apply(1, t3);
	ck_assert_int_eq(count("retired", "1"), 0);
	ck_assert_int_eq(count("effective", "year=2026"), ROWS26);
	ck_assert_int_eq(tu_sql_int(db, -1, "SELECT count(*) FROM effective WHERE year=2026"
	                            " AND since=%lld", (long long)t3), ROWS26);
	char *h = tu_sql_dump(db, "SELECT status, valid_from, valid_until FROM status_history WHERE"
	                      " agb='06010000' AND year=2026 AND care_type='hospital'"
	                      " ORDER BY valid_from");
	char want[200];
	snprintf(want, sizeof want, "1|%lld|%lld\n1|%lld|NULL\n", (long long)t1, (long long)t2,
	         (long long)t3);
	ck_assert_str_eq(h, want);
	free(h);
}
END_TEST

/* One insurer's policy leaves in the middle of a year (the others stay): the same steps. */
START_TEST(test_policy_leaves)
{
	apply(1, t1);
	/* a version without 3311-EXCL (and so without its rows) */
	FILE *f = tmpfile();
	fputs("{\"type\":\"header\",\"format\":\"zorgstatus-insurer\",\"version\":1,"
	      "\"concern\":{\"id\":\"achmea\",\"name\":\"Achmea\"},"
	      "\"insurer\":{\"uzovi\":\"3311\",\"name\":\"Zilveren Kruis\"}}\n"
	      "{\"type\":\"policy\",\"id\":\"3311-BASIS\",\"year\":2027,\"name\":\"Basis\","
	      "\"kind\":\"natura\",\"reimbursement\":[{\"care_type\":\"*\",\"percent\":75,"
	      "\"basis\":\"avg_contracted_tariff\"}]}\n"
	      "{\"type\":\"status\",\"agb\":\"06010000\",\"insurer\":\"3311\",\"year\":2027,"
	      "\"care_type\":\"hospital\",\"status\":\"contracted\"}\n"
	      "{\"type\":\"end\",\"records\":2}\n", f);
	rewind(f);
	zs_ingest_result res;
	char err[512] = "";
	ck_assert_int_eq(zs_ingest_apply(db, &cfg.feeds[0], f, t2, &res, err, sizeof err), 0);
	fclose(f);
	ck_assert(res.applied);
	/* 2026 left and 3311-EXCL 2027 left; the other providers' 3311-BASIS 2027 rows are no
	 * longer backed and were archived as before (a policy that stays) */
	ck_assert_int_eq(count("retired", "1"), 2);
	ck_assert_int_eq(count("effective", "year=2027 AND policy_id='3311-BASIS'"), 1);
	long moved[16];
	steps(100, moved, 16);
	ck_assert_int_eq(moved[0], ROWS26 + NPROV);
	ck_assert_int_eq(count("effective", "1"), 1);
	ck_assert_int_eq(count("history", "policy_id='3311-EXCL' AND valid_until IS NOT NULL"), NPROV);
}
END_TEST

/* A policy that leaves takes its care types with it at once: the answer of the snapshot it
 * left in (its rows still in the effective table, waiting for the rollover steps) lists only
 * the care types that a policy still there mentions; after the steps, the same answer. */
START_TEST(test_left_policy_care_types_hidden)
{
	static const char head[] =
	        "{\"type\":\"header\",\"format\":\"zorgstatus-insurer\",\"version\":1,"
	        "\"concern\":{\"id\":\"achmea\",\"name\":\"Achmea\"},"
	        "\"insurer\":{\"uzovi\":\"3311\",\"name\":\"Zilveren Kruis\"}}\n"
	        "{\"type\":\"policy\",\"id\":\"3311-BASIS\",\"year\":2027,\"name\":\"Basis\","
	        "\"kind\":\"natura\",\"reimbursement\":[{\"care_type\":\"*\",\"percent\":75,"
	        "\"basis\":\"avg_contracted_tariff\"}]}\n"
	        "{\"type\":\"status\",\"agb\":\"06010000\",\"policy\":\"3311-BASIS\",\"year\":2027,"
	        "\"care_type\":\"hospital\",\"status\":\"contracted\"}\n";
	static const char excl[] =
	        "{\"type\":\"policy\",\"id\":\"3311-EXCL\",\"year\":2027,\"name\":\"Exclusief\","
	        "\"kind\":\"restitutie\",\"reimbursement\":[{\"care_type\":\"*\",\"percent\":100,"
	        "\"basis\":\"market_tariff\"}]}\n"
	        "{\"type\":\"status\",\"agb\":\"06010000\",\"policy\":\"3311-EXCL\",\"year\":2027,"
	        "\"care_type\":\"mental_health\",\"status\":\"contracted\"}\n";
	for (int v = 0; v < 2; v++) {
		FILE *f = tmpfile();
		ck_assert_ptr_nonnull(f);
		fputs(head, f);
		if (v == 0)
			fputs(excl, f);
		fprintf(f, "{\"type\":\"end\",\"records\":%d}\n", v == 0 ? 4 : 2);
		rewind(f);
		zs_ingest_result res;
		char err[512] = "";
		ck_assert_int_eq(zs_ingest_apply(db, &cfg.feeds[0], f, v == 0 ? t1 : t2, &res, err,
		                                 sizeof err), 0);
		fclose(f);
		ck_assert_msg(res.applied, "version %d: %s", v, res.error);
		zs_reader *rd = reader();
		char *a = answer(rd, zs_api_provider, "06010000", "2027", 0, (v == 0 ? t1 : t2) + 60, 200);
		if (v == 0) { /* both care types, both policies */
			ck_assert_ptr_nonnull(strstr(a, "\"mental_health\""));
			ck_assert_ptr_nonnull(strstr(a, "3311-EXCL"));
		} else {      /* EXCL left: its rows wait in effective, but nothing of it shows */
			ck_assert_int_eq(count("retired", "policy_id='3311-EXCL'"), 1);
			ck_assert_int_eq(count("effective", "policy_id='3311-EXCL'"), 1);
			ck_assert_msg(!strstr(a, "\"mental_health\""), "%s", a);
			ck_assert_msg(!strstr(a, "3311-EXCL"), "%s", a);
			/* the same when the per-snapshot list could not be read whole: the table decides */
			rd->retired_whole = 0;
			char *c = answer(rd, zs_api_provider, "06010000", "2027", 0, t2 + 60, 200);
			ck_assert_str_eq(a, c);
			free(c);
			long moved[4];
			steps(100, moved, 4);
			ck_assert_int_eq(count("effective", "policy_id='3311-EXCL'"), 0);
			zs_reader_close(rd);
			rd = reader();
			char *b = answer(rd, zs_api_provider, "06010000", "2027", 0, t2 + 120, 200);
			ck_assert_str_eq(a, b);
			free(b);
		}
		free(a);
		zs_reader_close(rd);
	}
}
END_TEST

/* Regression (review of the rows in memory): the steps delete a left policy's rows and then its
 * retired entry without marking the providers, so a copy in memory that kept those rows would
 * show them again once the reader's retired list is empty. The copy never holds them: before,
 * between and after the steps, an answer from memory is the table's answer. */
START_TEST(test_rows_in_memory_never_hold_a_left_policy)
{
	char err[256];
	zs_rows *rows = zs_rows_new();
	ck_assert_ptr_nonnull(rows);
	apply(1, t1);
	ck_assert_msg(zs_rows_update(rows, db, err, sizeof err) == 0, "%s", err);
	zs_reader *mem = reader(), *tab = reader();
	zs_reader_set_rows(mem, rows);
	for (int phase = 0; phase < 3; phase++) {
		if (phase == 1)
			apply(0, t2); /* 2026 leaves: retired, its rows wait in the table */
		if (phase == 2) {
			long moved[16];
			steps(5, moved, 16);
			ck_assert_int_eq(count("retired", "1"), 0);
			ck_assert_int_eq(count("effective", "year=2026"), 0);
		}
		ck_assert_msg(zs_rows_update(rows, db, err, sizeof err) == 0, "%s", err);
		for (int i = 0; i < NPROV; i += 5) {
			char agb[16];
			snprintf(agb, sizeof agb, "060100%02d", i);
			for (int y = 0; y < 2; y++) {
				const char *year = y ? "2027" : "2026";
				int want = phase == 0 || y ? 200 : 404; /* a year that left: no data */
				char *a = answer(mem, zs_api_provider, agb, year, 0, t3, want);
				char *b = answer(tab, zs_api_provider, agb, year, 0, t3, want);
				ck_assert_msg(strcmp(a, b) == 0, "phase %d %s %s:\nmemory %s\ntable  %s",
				              phase, agb, year, a, b);
				ck_assert_ptr_nonnull(mem->rver); /* the copy was used */
				free(a);
				free(b);
			}
		}
		/* the copy holds no row of 2026 once it has left */
		const zs_rrow *r;
		size_t n;
		ck_assert_int_eq(zs_rver_rows(mem->rver, "06010000", 2026, &r, &n), 1);
		ck_assert_uint_eq(n, phase == 0 ? 2 : 0);
	}
	zs_reader_close(mem);
	zs_reader_close(tab);
	zs_rows_free(rows);
}
END_TEST

/* A database of an earlier version: history as a rowid table with an index (and a row with
 * the flags JSON of those versions) becomes the compact table, its rows and their answers kept. */
START_TEST(test_history_migrates)
{
	char err[512];
	char *old = NULL;
	sqlite3 *raw;
	ck_assert_int_ge(asprintf(&old, "%s/old.db", dir), 0);
	ck_assert_int_eq(sqlite3_open(old, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw,
	        "CREATE TABLE history(agb TEXT NOT NULL, year INTEGER NOT NULL,"
	        " policy_id TEXT NOT NULL, care_type TEXT NOT NULL, status INTEGER NOT NULL,"
	        " as_contracted INTEGER, basis INTEGER NOT NULL, flags TEXT,"
	        " valid_from INTEGER NOT NULL, valid_until INTEGER);"
	        "CREATE INDEX history_key ON history(agb, year, policy_id, care_type, valid_from);"
	        "INSERT INTO history VALUES('06010000', 2026, '3311-BASIS', 'hospital', 1, 0, 1,"
	        " '{\"ceiling\":false}', 100, 200);"
	        "INSERT INTO history VALUES('06010000', 2026, '3311-BASIS', 'hospital', 3, 1, 1,"
	        " NULL, 200, 300)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	sqlite3 *m = zs_db_open(old, 0, err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	char *sql = tu_sql_text(m, "SELECT sql FROM sqlite_master WHERE name='history'");
	tu_assert_contains(sql, "WITHOUT ROWID");
	free(sql);
	ck_assert_int_eq(tu_sql_int(m, -1, "SELECT count(*) FROM sqlite_master WHERE"
	                            " name='history_key'"), 0);
	char *d = tu_sql_dump(m, "SELECT status, flags, valid_from, valid_until FROM status_history"
	                      " ORDER BY valid_from");
	ck_assert_str_eq(d, "1|{\"ceiling\":false}|100|200\n"
	                    "3|{\"ceiling\":false,\"conflict\":false,\"patient_stop\":null,"
	                    "\"provider_only\":false}|200|300\n");
	free(d);
	sqlite3_close(m);
	free(old);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rollover");
	TCase *tc = tcase_create("steps");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, tu_tmpbase_create, tu_tmpbase_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hidden_at_once_moved_in_batches);
	tcase_add_test(tc, test_rows_in_memory_never_hold_a_left_policy);
	tcase_add_test(tc, test_left_policy_care_types_hidden);
	tcase_add_test(tc, test_restart_continues);
	tcase_add_test(tc, test_maint_batches);
	tcase_add_test(tc, test_comes_back);
	tcase_add_test(tc, test_policy_leaves);
	tcase_add_test(tc, test_history_migrates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
