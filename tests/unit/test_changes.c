/* test_changes.c - the change log (zs_changes.h) and webhook signing (zs_notify_http.h):
 * cursors are opaque but exact (round trip; a changed character is refused); a change of a
 * year not yet published is never written; the year_published event is written once when
 * its moment passes; pruning moves the window start; the HMAC-SHA256 signature of "<t>.<body>"
 * matches an independent implementation (Python's hmac module, value below). */
#include "testutil.h"
#include "zs_changes.h"
#include "zs_config.h"
#include "zs_db.h"
#include "zs_notify_http.h"
#include "zs_time.h"
#include "zs_types.h"

START_TEST(test_cursor)
{
	const long long seqs[] = { 0, 1, 255, 4096, 1LL << 40 };
	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
		char c[48];
		long long back = -1;
		zs_changes_cursor(seqs[i], c, sizeof c);
		ck_assert_int_eq(zs_changes_cursor_parse(c, &back), 0);
		ck_assert_int_eq(back, seqs[i]);
		/* one character changed: refused */
		size_t n = strlen(c);
		c[n - 1] = c[n - 1] == '0' ? '1' : '0';
		ck_assert_int_eq(zs_changes_cursor_parse(c, &back), -1);
	}
	const char *bad[] = { "", "1", "1-", "1-5", "2-5-0000", "1-5-00000", "1--5-0000",
		              "latest", "1-5-zzzz", NULL };
	for (size_t i = 0; bad[i]; i++) {
		long long v;
		ck_assert_msg(zs_changes_cursor_parse(bad[i], &v) == -1, "accepted %s", bad[i]);
	}
}
END_TEST

START_TEST(test_flags)
{
	ck_assert_int_eq(zs_changes_flags(0, 0, 1, 0), 0);
	ck_assert_int_eq(zs_changes_flags(1, 0, 1, 0), ZS_CHG_AS_CONTRACTED);
	ck_assert_int_eq(zs_changes_flags(0, 1, 3, 1),
	                 ZS_CHG_CEILING | ZS_CHG_CONFLICT | ZS_CHG_PATIENT_STOP);
	ck_assert_int_eq(zs_changes_flags(0, 0, 4, 0), ZS_CHG_PROVIDER_ONLY);
}
END_TEST

START_TEST(test_sign)
{
	char hex[65];
	const char *body = "{\"events\":[]}";
	zs_webhook_sign("Jefe", 4, 1700000000, body, strlen(body), hex);
	/* python3: hmac.new(b'Jefe', b'1700000000.{"events":[]}', hashlib.sha256).hexdigest() */
	ck_assert_str_eq(hex, "a110c986da302c5f37accf36f899e479e3fefc1bf8e4d6b0c91b30f3838ed197");
}
END_TEST

static long long count(sqlite3 *db, const char *where)
{
	return tu_sql_int(db, -1, "SELECT count(*) FROM change_log WHERE %s", where);
}

/* The first load of a year (no effective row of it before): one year_loaded event stands for
 * all its new rows, instead of a row per status (a national first load is millions). */
START_TEST(test_first_load_is_one_year_loaded_event)
{
	char err[256], *dir = tu_tmpdir(), *path;
	ck_assert_int_ge(asprintf(&path, "%s/t.db", dir), 0);
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_int_eq(zs_clock_set("2026-12-01T12:00:00"), 0);
	sqlite3 *db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	time_t now = zs_now();
	zs_changes_writer w;
	ck_assert_int_eq(zs_db_exec(db, "BEGIN", err, sizeof err), 0);
	zs_changes_writer_init(&w, db, now);
	/* as reconciliation does it: the provider's rows first, then their changes */
	ck_assert_int_eq(zs_db_exec(db, "INSERT INTO effective(agb, year, policy_id, care_type,"
	                                " status, basis) VALUES('06010101', 2027, 'P', 'hospital',"
	                                " 1, 1), ('06010101', 2027, 'Q', 'hospital', 1, 1)", err,
	                            sizeof err), 0);
	ck_assert_int_eq(zs_changes_add(&w, "06010101", 2027, "P", "hospital", -1, 0,
	                                ZS_STATUS_CONTRACTED, 0, err, sizeof err), 0);
	ck_assert_int_eq(zs_changes_add(&w, "06010101", 2027, "Q", "hospital", -1, 0,
	                                ZS_STATUS_CONTRACTED, 0, err, sizeof err), 0);
	zs_changes_writer_free(&w);
	ck_assert_int_eq(zs_db_exec(db, "COMMIT", err, sizeof err), 0);
	ck_assert_int_eq(count(db, "1"), 1);
	zs_change *v;
	size_t n;
	ck_assert_int_eq(zs_changes_read(db, 0, 10, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	json_t *j = zs_change_json(&v[0]);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "year_loaded");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "year")), 2027);
	json_decref(j);
	zs_changes_free(v, n);
	/* the next transaction changes a loaded year: a row per change again */
	ck_assert_int_eq(zs_db_exec(db, "BEGIN", err, sizeof err), 0);
	ck_assert_int_eq(zs_changes_record(db, now, "06010101", 2027, "P", "hospital",
	                                   ZS_STATUS_CONTRACTED, 0, ZS_STATUS_ENDED, 0, err,
	                                   sizeof err), 0);
	ck_assert_int_eq(zs_db_exec(db, "COMMIT", err, sizeof err), 0);
	ck_assert_int_eq(count(db, "agb = '06010101'"), 1);
	sqlite3_close(db);
	tu_rmdb(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_log)
{
	char err[256], *dir = tu_tmpdir(), *path;
	ck_assert_int_ge(asprintf(&path, "%s/t.db", dir), 0);
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_int_eq(zs_clock_set("2026-11-11T12:00:00"), 0);
	sqlite3 *db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	time_t now = zs_now();

	/* a year already loaded (another provider's row of 2026): changes are rows */
	ck_assert_int_eq(zs_db_exec(db, "INSERT INTO effective(agb, year, policy_id, care_type,"
	                                " status, basis) VALUES('04040101', 2026, 'P', 'hospital',"
	                                " 1, 1)", err, sizeof err), 0);
	/* 2026 is public, 2027 is not until 12 November 00:00 */
	ck_assert_int_eq(zs_db_exec(db, "BEGIN", err, sizeof err), 0);
	ck_assert_int_eq(zs_changes_record(db, now, "06010101", 2026, "P", "hospital", -1, 0,
	                                   ZS_STATUS_CONTRACTED, ZS_CHG_AS_CONTRACTED, err,
	                                   sizeof err), 0);
	ck_assert_int_eq(zs_changes_record(db, now, "06010101", 2027, "P", "hospital", -1, 0,
	                                   ZS_STATUS_NEGOTIATING, 0, err, sizeof err), 0);
	ck_assert_int_eq(zs_db_exec(db, "COMMIT", err, sizeof err), 0);
	ck_assert_int_eq(count(db, "1"), 1);
	ck_assert_int_eq(count(db, "year = 2027"), 0);

	long long from, head;
	ck_assert_int_eq(zs_changes_window(db, &from, &head), 0);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(head, 1);
	zs_change *v;
	size_t n;
	ck_assert_int_eq(zs_changes_read(db, 0, 10, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].agb, "06010101");
	ck_assert_int_eq(v[0].old_status, -1);
	ck_assert_int_eq(v[0].new_status, ZS_STATUS_CONTRACTED);
	json_t *j = zs_change_json(&v[0]);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "new"), "status")),
	                 "contracted");
	ck_assert(json_is_null(json_object_get(j, "old")));
	json_decref(j);
	zs_changes_free(v, n);

	/* the worker's tick before, at and after the publication moment of 2027 */
	int changed = -1;
	time_t pub = zs_publication_time(2027);
	ck_assert_int_eq(zs_changes_tick(db, pub - 1, 86400, &changed, err, sizeof err), 0);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(zs_changes_next_publication(pub - 1), pub);
	long long gen = zs_db_generation(db);
	ck_assert_int_eq(zs_changes_tick(db, pub, 86400, &changed, err, sizeof err), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(zs_db_generation(db), gen + 1);
	ck_assert_int_eq(count(db, "agb IS NULL AND year = 2027"), 1);
	ck_assert_int_eq(zs_changes_tick(db, pub + 5, 86400, &changed, err, sizeof err), 0);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(count(db, "agb IS NULL"), 1);
	ck_assert_int_eq(zs_changes_next_publication(pub), zs_publication_time(2028));

	/* retention: everything applied before now + 100 - 10 goes; the window starts after it */
	ck_assert_int_eq(zs_changes_tick(db, pub + 100, 10, &changed, err, sizeof err), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(count(db, "1"), 0);
	ck_assert_int_eq(zs_changes_window(db, &from, &head), 0);
	ck_assert_int_eq(from, 2);
	ck_assert_int_eq(head, 2);

	sqlite3_close(db);
	zs_clock_set(NULL);
	tu_rmdb(dir);
	free(dir);
	free(path);
}
END_TEST

/* [subscriber NAME] and [cache NAME] sections: parsed beside feeds, errors name the line. */
START_TEST(test_config_sections)
{
	zs_config cfg;
	char err[256];
	zs_config_defaults(&cfg);
	ck_assert_int_eq(zs_config_parse(&cfg,
	        "changes_retention = 60\n"
	        "[subscriber site]\nurl = https://h.example/x\nsecret_file = /s\nyear = 2027\n"
	        "insurer = 3311\nprovider_kind = hospital\nmax_batch = 5\n"
	        "[cache front]\nurl = http://127.0.0.1:6081/\n"
	        "[feed f]\nkind = insurer\nurl = /f.jsonl\n", "t.conf", "/", err, sizeof err), 0);
	ck_assert_int_eq(cfg.changes_retention, 60);
	ck_assert_uint_eq(cfg.nsubscribers, 1);
	ck_assert_str_eq(cfg.subscribers[0].name, "site");
	ck_assert_str_eq(cfg.subscribers[0].url, "https://h.example/x");
	ck_assert_str_eq(cfg.subscribers[0].secret_file, "/s");
	ck_assert_int_eq(cfg.subscribers[0].year, 2027);
	ck_assert_str_eq(cfg.subscribers[0].insurer, "3311");
	ck_assert_str_eq(cfg.subscribers[0].provider_kind, "hospital");
	ck_assert_int_eq(cfg.subscribers[0].max_batch, 5);
	ck_assert_uint_eq(cfg.ncaches, 1);
	ck_assert_str_eq(cfg.caches[0].url, "http://127.0.0.1:6081/");
	ck_assert_uint_eq(cfg.nfeeds, 1);
	zs_config_free(&cfg);

	static const struct { const char *text, *want; } bad[] = {
		{ "[subscriber a]\nurl = http://x/\n", "t.conf: subscriber a: secret_file is required" },
		{ "[subscriber a]\nurl = ftp://x/\n", "t.conf:2: subscriber a: url: must be an http or https URL" },
		{ "[subscriber a]\nmax_batch = 0\n", "t.conf:2: subscriber a: max_batch: must be a whole number from 1 to 1000, got \"0\"" },
		{ "[subscriber a]\ncolour = red\n", "t.conf:2: subscriber a: colour: unknown subscriber setting" },
		{ "[cache c]\n", "t.conf: cache c: url is required" },
		{ "[cache c]\nurl = http://x/\n[cache c]\n", "t.conf:3: cache \"c\" defined twice" },
		{ "[subscriber a b]\n", "t.conf:1: subscriber name \"a b\" must be 1-64 of A-Z a-z 0-9 _ . -" },
		{ NULL, NULL },
	};
	for (size_t i = 0; bad[i].text; i++) {
		zs_config_defaults(&cfg);
		ck_assert_int_eq(zs_config_parse(&cfg, bad[i].text, "t.conf", "/", err, sizeof err), -1);
		ck_assert_str_eq(err, bad[i].want);
		zs_config_free(&cfg);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("changes");
	TCase *tc = tcase_create("changes");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, tu_tmpbase_create, tu_tmpbase_remove);
	tcase_add_test(tc, test_cursor);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_sign);
	tcase_add_test(tc, test_log);
	tcase_add_test(tc, test_first_load_is_one_year_loaded_event);
	tcase_add_test(tc, test_config_sections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
