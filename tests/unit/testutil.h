/* testutil.h - small helpers shared by the unit tests (header-only, static inline).
 *
 * Feed text in the tests is written with single quotes for readability: tu_q() turns every '
 * into " so that {'type':'end','records':0} becomes {"type":"end","records":0}. Test data
 * therefore never contains a real apostrophe. */
#ifndef ZS_TESTUTIL_H
#define ZS_TESTUTIL_H

#include "config.h" /* _GNU_SOURCE: asprintf, mkdtemp, open_memstream */

#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>

/* Single quotes to double quotes; returns a malloc'ed copy. */
static inline char *tu_q(const char *s)
{
	char *d = strdup(s);
	ck_assert_ptr_nonnull(d);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

/* A feed body from lines (NULL-terminated list), joined with "\n", quotes converted, in a
 * tmpfile() positioned at the start. Caller fcloses. */
static inline FILE *tu_feedv(const char *const *lines)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; lines[i]; i++) {
		char *l = tu_q(lines[i]);
		fputs(l, f);
		fputc('\n', f);
		free(l);
	}
	rewind(f);
	return f;
}
#define TU_FEED(...) tu_feedv((const char *const[]){ __VA_ARGS__, NULL })

/* Temporary directories. A failing check test ends its forked child without the checked
 * teardown, so the per-test directories are made inside one base directory that the parent
 * creates (tu_tmpbase_create, unchecked fixture) and removes with everything in it
 * (tu_tmpbase_remove). */
static char *tu_tmpbase;

static inline int tu_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void tu_tmpbase_create(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&tu_tmpbase, "%s/zs-unit-XXXXXX", base) < 0 || !mkdtemp(tu_tmpbase)) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
}

static inline void tu_tmpbase_remove(void)
{
	if (tu_tmpbase)
		nftw(tu_tmpbase, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(tu_tmpbase);
	tu_tmpbase = NULL;
}

/* A fresh directory for one test (inside the base when there is one). */
static inline char *tu_tmpdir(void)
{
	const char *base = tu_tmpbase ? tu_tmpbase : getenv("TMPDIR");
	char *p;
	if (!base || !*base)
		base = "/tmp";
	ck_assert_int_ge(asprintf(&p, "%s/zs-unit-XXXXXX", base), 0);
	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

/* Remove a test directory and the database files in it. */
static inline void tu_rmdb(const char *dir)
{
	nftw(dir, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Prepare a formatted query; fails the test on a prepare error. */
static inline sqlite3_stmt *tu_vprep(sqlite3 *db, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static inline sqlite3_stmt *tu_vprep(sqlite3 *db, const char *fmt, va_list ap)
{
	char sql[4096];
	sqlite3_stmt *st = NULL;
	vsnprintf(sql, sizeof sql, fmt, ap);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		ck_abort_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	return st;
}

/* First column of the first row as an integer; 'missing' if no row or NULL. */
static inline long long tu_sql_int(sqlite3 *db, long long missing, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline long long tu_sql_int(sqlite3 *db, long long missing, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *st = tu_vprep(db, fmt, ap);
	va_end(ap);
	long long v = missing;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* First column of the first row as text (malloc'ed; NULL if no row or NULL). */
static inline char *tu_sql_text(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline char *tu_sql_text(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *st = tu_vprep(db, fmt, ap);
	va_end(ap);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* Every row of a query as one string: columns separated by '|', rows by '\n' (NULL as
 * "NULL"). Used to compare table contents before and after an operation. */
static inline char *tu_sql_dump(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline char *tu_sql_dump(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *st = tu_vprep(db, fmt, ap);
	va_end(ap);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(m);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			fprintf(m, "%s%s", i ? "|" : "", t ? (const char *)t : "NULL");
		}
		fputc('\n', m);
	}
	sqlite3_finalize(st);
	fclose(m);
	return buf;
}

/* Assert that haystack contains needle (NULL haystack fails). */
#define tu_assert_contains(hay, needle) do { \
	const char *tu_h_ = (hay), *tu_n_ = (needle); \
	ck_assert_msg(tu_h_ && strstr(tu_h_, tu_n_), "expected \"%s\" to contain \"%s\"", \
	              tu_h_ ? tu_h_ : "(null)", tu_n_); \
} while (0)

/* Run a suite (forked tests, the normal output); the exit status for automake. */
static inline int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
