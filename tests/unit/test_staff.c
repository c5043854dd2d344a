/* test_staff.c - staff accounts (zs_staff.h): the lines --hash-token makes, reading the accounts
 * file and the old token file, authentication (right, wrong, none), revocation on reload, a
 * broken file keeping the running accounts, the failed-sign-in limit per address, and the
 * audit log (its path next to the database, entries, filters, limit). */
#include "testutil.h"
#include <jansson.h>
#include "zs_config.h"
#include "zs_log.h"
#include "zs_staff.h"
#include "zs_time.h"

#define ALICE "alice-token-0123456789-abcdefghij"
#define BOB "bob-token-0123456789-abcdefghijklm"

static char *line_for(const char *name, const char *role, const char *token)
{
	char out[512], err[256];
	ck_assert_int_eq(zs_staff_hash_line(name, role, token, out, sizeof out, err, sizeof err), 0);
	return strdup(out);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* cfg with an accounts file in a fresh directory holding the given lines ('\n'-joined). */
static char *setup(zs_config *cfg, const char *lines)
{
	char *dir = tu_tmpdir(), *acc, *db;
	zs_config_defaults(cfg);
	ck_assert_int_ge(asprintf(&acc, "%s/accounts", dir), 0);
	ck_assert_int_ge(asprintf(&db, "%s/z.db", dir), 0);
	write_file(acc, lines);
	free(cfg->staff_accounts_file);
	cfg->staff_accounts_file = acc;
	free(cfg->database);
	cfg->database = db;
	return dir;
}

static int auth(const char *hdr, const char *addr, zs_staff_who *who)
{
	long retry;
	return zs_staff_auth(hdr, addr, who, &retry);
}

START_TEST(test_hash_line_form)
{
	char out[512], err[256];
	char *a = line_for("alice", "admin", ALICE), *b = line_for("alice", "admin", ALICE);
	ck_assert_str_ne(a, b); /* a fresh salt each time */
	ck_assert_int_eq(strncmp(a, "alice admin sha256:", 19), 0);
	ck_assert_uint_eq(strlen(a), strlen("alice admin sha256:") + 32 + 1 + 64);
	ck_assert_ptr_null(strstr(a, ALICE));
	ck_assert_int_eq(zs_staff_hash_line("alice", "admin", "short-token", out, sizeof out, err,
	                                    sizeof err), -1);
	ck_assert_int_eq(zs_staff_hash_line("alice", "boss", ALICE, out, sizeof out, err, sizeof err),
	                 -1);
	ck_assert_int_eq(zs_staff_hash_line("al ice", "staff", ALICE, out, sizeof out, err,
	                                    sizeof err), -1);
	ck_assert_int_eq(zs_staff_hash_line("alice", "staff", "token with a space in it here", out,
	                                    sizeof out, err, sizeof err), -1);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_accounts_and_revocation)
{
	zs_config cfg;
	zs_staff_who who;
	char err[512], *text;
	char *la = line_for("alice", "admin", ALICE), *lb = line_for("bob", "staff", BOB);
	ck_assert_int_ge(asprintf(&text, "# accounts\n\n%s\n  %s\n", la, lb), 0);
	char *dir = setup(&cfg, text);
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), 0);
	ck_assert_uint_eq(zs_staff_count(), 2);
	ck_assert_int_eq(auth("Bearer " ALICE, "10.0.0.1", &who), ZS_STAFF_OK);
	ck_assert_str_eq(who.name, "alice");
	ck_assert_int_eq(who.admin, 1);
	ck_assert_int_eq(auth("bearer " BOB, "10.0.0.1", &who), ZS_STAFF_OK);
	ck_assert_str_eq(who.name, "bob");
	ck_assert_int_eq(who.admin, 0);
	ck_assert_int_eq(auth("Bearer " BOB "x", "10.0.0.1", &who), ZS_STAFF_BAD);
	ck_assert_str_eq(who.name, "");
	ck_assert_int_eq(auth(NULL, "10.0.0.1", &who), ZS_STAFF_NONE);
	ck_assert_int_eq(auth("Basic eDp5", "10.0.0.1", &who), ZS_STAFF_NONE);

	/* bob removed: refused from now on */
	write_file(cfg.staff_accounts_file, la);
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), 0);
	ck_assert_int_eq(auth("Bearer " BOB, "10.0.0.3", &who), ZS_STAFF_BAD);
	ck_assert_int_eq(auth("Bearer " ALICE, "10.0.0.3", &who), ZS_STAFF_OK);

	/* a broken file: refused with file:line, the running accounts stay */
	free(text);
	ck_assert_int_ge(asprintf(&text, "%s\nmallory staff sha256:zz:00\n", la), 0);
	write_file(cfg.staff_accounts_file, text);
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "accounts:2: the hash must be"));
	ck_assert_int_eq(auth("Bearer " ALICE, "10.0.0.4", &who), ZS_STAFF_OK);
	/* a name twice */
	free(text);
	ck_assert_int_ge(asprintf(&text, "%s\n%s\n", la, la), 0);
	write_file(cfg.staff_accounts_file, text);
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "listed twice"));

	zs_staff_shutdown();
	ck_assert_uint_eq(zs_staff_count(), 0);
	free(text);
	free(la);
	free(lb);
	zs_config_free(&cfg);
	tu_rmdb(dir);
	free(dir);
}
END_TEST

START_TEST(test_old_token_file)
{
	zs_config cfg;
	zs_staff_who who;
	char err[512], *tok;
	char *dir = setup(&cfg, "");
	ck_assert_int_ge(asprintf(&tok, "%s/staff.token", dir), 0);
	write_file(tok, "too-short\n");
	free(cfg.staff_token_file); /* the default "" */
	cfg.staff_token_file = tok;
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "at least 16 characters"));
	write_file(tok, "legacy-token-0123456789\n");
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), 0);
	ck_assert_int_eq(auth("Bearer legacy-token-0123456789", "10.1.0.1", &who), ZS_STAFF_OK);
	ck_assert_str_eq(who.name, "staff");
	ck_assert_int_eq(who.admin, 0);
	zs_staff_shutdown();
	zs_config_free(&cfg);
	tu_rmdb(dir);
	free(dir);
}
END_TEST

START_TEST(test_failed_sign_ins_limited_per_address)
{
	zs_config cfg;
	zs_staff_who who;
	char err[512];
	long retry = 0;
	char *la = line_for("alice", "admin", ALICE);
	char *dir = setup(&cfg, la);
	cfg.staff_auth_failures = 2;
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), 0);
	ck_assert_int_eq(auth("Bearer wrong-wrong-wrong-wrong", "192.0.2.7", &who), ZS_STAFF_BAD);
	ck_assert_int_eq(auth("Bearer wrong-wrong-wrong-wrong", "192.0.2.7", &who), ZS_STAFF_BAD);
	ck_assert_int_eq(zs_staff_auth("Bearer " ALICE, "192.0.2.7", &who, &retry), ZS_STAFF_LIMITED);
	ck_assert_int_ge(retry, 1);
	ck_assert_int_le(retry, 60);
	/* another address is not affected; no token at all is not limited */
	ck_assert_int_eq(auth("Bearer " ALICE, "192.0.2.8", &who), ZS_STAFF_OK);
	ck_assert_int_eq(auth(NULL, "192.0.2.7", &who), ZS_STAFF_NONE);
	/* a success before the limit clears the count */
	ck_assert_int_eq(auth("Bearer wrong-wrong-wrong-wrong", "192.0.2.9", &who), ZS_STAFF_BAD);
	ck_assert_int_eq(auth("Bearer " ALICE, "192.0.2.9", &who), ZS_STAFF_OK);
	ck_assert_int_eq(auth("Bearer wrong-wrong-wrong-wrong", "192.0.2.9", &who), ZS_STAFF_BAD);
	ck_assert_int_eq(auth("Bearer " ALICE, "192.0.2.9", &who), ZS_STAFF_OK);
	/* many addresses: the table stays bounded and keeps working */
	for (int i = 0; i < 1100; i++) { /* more than the table holds */
		char a[32];
		snprintf(a, sizeof a, "198.51.%d.%d", i / 256, i % 256);
		ck_assert_int_eq(auth("Bearer nope-nope-nope-nope", a, &who), ZS_STAFF_BAD);
	}
	ck_assert_int_eq(auth("Bearer " ALICE, "203.0.113.1", &who), ZS_STAFF_OK);
	zs_staff_shutdown();
	free(la);
	zs_config_free(&cfg);
	tu_rmdb(dir);
	free(dir);
}
END_TEST

START_TEST(test_audit_log)
{
	zs_config cfg;
	char err[512], path[512];
	char *la = line_for("alice", "admin", ALICE);
	char *dir = setup(&cfg, la);
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), 0); /* opens the audit log */
	char *want;
	ck_assert_int_ge(asprintf(&want, "%s/z-audit.db", dir), 0);
	ck_assert_str_eq(zs_audit_path(&cfg, path, sizeof path), want);
	struct stat sb;
	ck_assert_int_eq(stat(want, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 077, 0);
	zs_staff_who a = { "alice", 1 }, b = { "bob", 0 };
	time_t t0 = 1796000000;
	ck_assert_int_eq(zs_audit_record(&b, "provider", "06010101", NULL, t0), 0);
	ck_assert_int_eq(zs_audit_record(&b, "history", "06010101", "2026-12-01", t0 + 10), 0);
	ck_assert_int_eq(zs_audit_record(&a, "provider", "06020202", NULL, t0 + 20), 0);
	json_t *o = zs_audit_query(NULL, NULL, -1, -1, 100, err, sizeof err);
	ck_assert_ptr_nonnull(o);
	json_t *e = json_object_get(o, "entries");
	ck_assert_uint_eq(json_array_size(e), 3);
	/* newest first */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 0), "who")), "alice");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 0), "role")), "admin");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 1), "asked_at")),
	                 "2026-12-01");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 1), "action")), "history");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "retention_days")), 90);
	json_decref(o);
	o = zs_audit_query("06010101", "bob", t0 + 5, -1, 100, err, sizeof err);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "entries")), 1);
	json_decref(o);
	o = zs_audit_query(NULL, NULL, -1, -1, 1, err, sizeof err);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "entries")), 1);
	json_decref(o);
	/* entries older than the retention go at the next pruning (every 256 entries) */
	cfg.audit_retention_days = 1;
	ck_assert_int_eq(zs_staff_load(&cfg, err, sizeof err), 0);
	for (int i = 0; i < 256; i++)
		ck_assert_int_eq(zs_audit_record(&a, "provider", "06020202", NULL, t0 + 2 * 86400), 0);
	o = zs_audit_query("06010101", NULL, -1, -1, 100, err, sizeof err);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "entries")), 0);
	json_decref(o);
	zs_staff_shutdown();
	free(want);
	free(la);
	zs_config_free(&cfg);
	tu_rmdb(dir);
	free(dir);
}
END_TEST

int main(void)
{
	zs_time_init();
	zs_log_level = ZS_LOG_ERROR; /* the failed sign-ins below are logged as warnings */
	tu_tmpbase_create();
	Suite *s = suite_create("staff");
	TCase *tc = tcase_create("staff");
	tcase_add_test(tc, test_hash_line_form);
	tcase_add_test(tc, test_accounts_and_revocation);
	tcase_add_test(tc, test_old_token_file);
	tcase_add_test(tc, test_failed_sign_ins_limited_per_address);
	tcase_add_test(tc, test_audit_log);
	suite_add_tcase(s, tc);
	int rc = tu_run(s);
	tu_tmpbase_remove();
	return rc;
}
