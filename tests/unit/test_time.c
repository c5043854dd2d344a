/* test_time.c - unit tests of the clock and the publication calendar (zs_time.h).
 *
 * Epoch values are computed by hand (domain.md "Publication calendar: from 12 November";
 * Europe/Amsterdam is UTC+1 in winter (CET), UTC+2 in summer (CEST)):
 *   days from 1970-01-01 to 2026-01-01 = 56 * 365 + 14 leap days (1972..2024) = 20454
 *   2026-01-01T00:00:00Z = 20454 * 86400                       = 1767225600
 *   1 Jan .. 11 Nov 2026 = 31+28+31+30+31+30+31+31+30+31 + 10   = 314 days
 *   2026-11-11T00:00:00Z = (20454 + 314) * 86400                = 1794355200
 *   2026-11-12T00:00:00 CET = 2026-11-11T23:00:00Z = +82800     = 1794438000
 *   2025-01-01T00:00:00Z = (20454 - 365) * 86400                = 1735689600
 *   2025-11-12T00:00:00 CET = 2025-11-11T23:00:00Z = (20089 + 314) * 86400 + 82800 = 1762902000
 *   2027-01-01T00:00:00Z = (20454 + 365) * 86400                = 1798761600
 *   2027-01-01T00:00:00 CET = 2026-12-31T23:00:00Z              = 1798758000
 *   2026-07-01T12:00:00 CEST = 10:00Z, 1 Jan .. 30 Jun = 181 days:
 *                          (20454 + 181) * 86400 + 36000        = 1782900000
 */
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zs_time.h"

#define PUB_2027 1794438000LL
#define PUB_2026 1762902000LL
#define NEWYEAR_2027 1798758000LL
#define JUL_2026_NOON 1782900000LL

static void setup(void)
{
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_int_eq(zs_clock_set(NULL), 0);
}

START_TEST(test_init)
{
	ck_assert_str_eq(getenv("TZ"), "Europe/Amsterdam");
	/* the C library now computes local time in Amsterdam: 2026-11-11T23:00:00Z is midnight */
	time_t t = (time_t)PUB_2027;
	struct tm tm;
	localtime_r(&t, &tm);
	ck_assert_int_eq(tm.tm_year + 1900, 2026);
	ck_assert_int_eq(tm.tm_mon + 1, 11);
	ck_assert_int_eq(tm.tm_mday, 12);
	ck_assert_int_eq(tm.tm_hour, 0);
}
END_TEST

START_TEST(test_publication_time)
{
	ck_assert_int_eq((long long)zs_publication_time(2027), PUB_2027);
	ck_assert_int_eq((long long)zs_publication_time(2026), PUB_2026);
	char buf[32];
	ck_assert_str_eq(zs_fmt_utc(zs_publication_time(2027), buf, sizeof buf),
	                 "2026-11-11T23:00:00Z");
	ck_assert_str_eq(zs_fmt_utc((time_t)NEWYEAR_2027, buf, sizeof buf), "2026-12-31T23:00:00Z");
}
END_TEST

START_TEST(test_parse_local)
{
	ck_assert_int_eq((long long)zs_parse_local("2026-11-12T00:00:00"), PUB_2027);
	ck_assert_int_eq((long long)zs_parse_local("2026-11-11T23:59:59"), PUB_2027 - 1);
	ck_assert_int_eq((long long)zs_parse_local("2027-01-01T00:00:00"), NEWYEAR_2027);
	ck_assert_int_eq((long long)zs_parse_local("2026-07-01T12:00:00"), JUL_2026_NOON); /* CEST */
	ck_assert_int_eq((long long)zs_parse_local("2026-11-12T00:00:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_local("2026-02-29T00:00:00"), -1);
	ck_assert_int_eq((long long)zs_parse_local(NULL), -1);
}
END_TEST

START_TEST(test_year_published)
{
	time_t before = zs_parse_local("2026-11-11T23:59:59");
	time_t at = zs_parse_local("2026-11-12T00:00:00");
	ck_assert_int_eq((long long)at, PUB_2027);
	/* next year: from 12 November 00:00 Amsterdam, not a second earlier */
	ck_assert_int_eq(zs_year_published(2027, before), 0);
	ck_assert_int_eq(zs_year_published(2027, at), 1);
	ck_assert_int_eq(zs_year_published(2027, zs_parse_local("2026-12-31T23:59:59")), 1);
	/* the current year and the past are always public */
	ck_assert_int_eq(zs_year_published(2026, before), 1);
	ck_assert_int_eq(zs_year_published(2025, before), 1);
	ck_assert_int_eq(zs_year_published(2026, zs_parse_local("2026-01-01T00:00:00")), 1);
	/* two years ahead never, within the switching season */
	ck_assert_int_eq(zs_year_published(2028, at), 0);
	ck_assert_int_eq(zs_year_published(2028, zs_parse_local("2026-12-31T23:59:59")), 0);
	/* 2026 itself became public on 12 November 2025 */
	ck_assert_int_eq(zs_year_published(2026, (time_t)(PUB_2026 - 1)), 0);
	ck_assert_int_eq(zs_year_published(2026, (time_t)PUB_2026), 1);
}
END_TEST

START_TEST(test_year_end)
{
	/* from 1 January 00:00 Amsterdam (31 December 23:00 UTC) the new year is current */
	ck_assert_int_eq(zs_current_year((time_t)NEWYEAR_2027), 2027);
	ck_assert_int_eq(zs_current_year((time_t)(NEWYEAR_2027 - 1)), 2026);
	ck_assert_int_eq(zs_current_year(zs_parse_local("2026-11-12T00:00:00")), 2026);
	ck_assert_int_eq(zs_year_published(2027, (time_t)NEWYEAR_2027), 1);
	ck_assert_int_eq(zs_year_published(2028, (time_t)NEWYEAR_2027), 0);
	/* 2028 becomes public on 12 November 2027 00:00 CET = 2027-11-11T23:00:00Z */
	time_t pub28 = zs_publication_time(2028);
	char buf[32];
	ck_assert_str_eq(zs_fmt_utc(pub28, buf, sizeof buf), "2027-11-11T23:00:00Z");
	ck_assert_int_eq(zs_year_published(2028, pub28 - 1), 0);
	ck_assert_int_eq(zs_year_published(2028, pub28), 1);
}
END_TEST

START_TEST(test_parse_rfc3339)
{
	/* 2026-11-12T06:00:00+01:00 = 05:00Z = 2026-11-12T00:00Z + 5 h */
	const long long t0500z = 1794355200LL + 86400 + 5 * 3600;
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T05:00:00Z"), t0500z);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T06:00:00+01:00"), t0500z);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T07:00:00+02:00"), t0500z);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T02:30:00-02:30"), t0500z);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T05:00:00.250Z"), t0500z);
	/* an explicit offset wins over the local zone, also in summer */
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-07-01T12:00:00+02:00"), JUL_2026_NOON);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-07-01T10:00:00Z"), JUL_2026_NOON);
	/* a date alone is local midnight */
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12"), PUB_2027);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2027-01-01"), NEWYEAR_2027);
	/* bad */
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-02-29T00:00:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-13-01T00:00:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-31T00:00:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T24:00:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T06:60:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T06:00:00+0100"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T06:00:00+01"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T06:00:00CET"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("2026-11-12T06:00Z"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339("12-11-2026"), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339(""), -1);
	ck_assert_int_eq((long long)zs_parse_rfc3339(NULL), -1);
}
END_TEST

START_TEST(test_check_date)
{
	ck_assert_int_eq(zs_check_date("2026-11-12"), 0);
	ck_assert_int_eq(zs_check_date("2028-02-29"), 0); /* leap year */
	ck_assert_int_eq(zs_check_date("2000-02-29"), 0); /* divisible by 400 */
	ck_assert_int_eq(zs_check_date("2026-02-29"), -1);
	ck_assert_int_eq(zs_check_date("2100-02-29"), -1); /* divisible by 100, not 400 */
	ck_assert_int_eq(zs_check_date("2026-13-01"), -1);
	ck_assert_int_eq(zs_check_date("2026-00-10"), -1);
	ck_assert_int_eq(zs_check_date("2026-04-31"), -1);
	ck_assert_int_eq(zs_check_date("2026-04-00"), -1);
	ck_assert_int_eq(zs_check_date("2026-4-1"), -1);
	ck_assert_int_eq(zs_check_date("2026-11-12T00:00:00"), -1);
	ck_assert_int_eq(zs_check_date(""), -1);
	ck_assert_int_eq(zs_check_date(NULL), -1);
}
END_TEST

START_TEST(test_check_date_strict_digits)
{
	/* YYYY-MM-DD means digits in every position (feeds/README.md "Dates"); a sign or a
	 * space inside the 10 characters is not a date */
	ck_assert_int_eq(zs_check_date("2026-01- 1"), -1);
	ck_assert_int_eq(zs_check_date("2026-+1-01"), -1);
	ck_assert_int_eq(zs_check_date(" 2026-01-1"), -1);
}
END_TEST

START_TEST(test_clock)
{
	/* the real clock */
	time_t real = time(NULL);
	ck_assert_int_le(llabs((long long)zs_now() - (long long)real), 2);

	/* set: starts there and runs on in real time */
	ck_assert_int_eq(zs_clock_set("2026-11-11T23:59:58"), 0);
	long long t1 = (long long)zs_now();
	ck_assert_int_ge(t1, PUB_2027 - 2);
	ck_assert_int_le(t1, PUB_2027 - 2 + 2);
	struct timespec ts = { 1, 200000000 };
	nanosleep(&ts, NULL);
	long long t2 = (long long)zs_now();
	ck_assert_int_ge(t2, t1 + 1);
	ck_assert_int_le(t2, t1 + 3);

	/* the clock can be moved to the new year */
	ck_assert_int_eq(zs_clock_set("2027-01-01T00:00:00"), 0);
	long long t3 = (long long)zs_now();
	ck_assert_int_ge(t3, NEWYEAR_2027);
	ck_assert_int_le(t3, NEWYEAR_2027 + 2);
	ck_assert_int_eq(zs_current_year(zs_now()), 2027);

	/* a bad value is refused and leaves the clock where it was */
	ck_assert_int_eq(zs_clock_set("morgen"), -1);
	ck_assert_int_eq(zs_clock_set("2026-13-01T00:00:00"), -1);
	long long t4 = (long long)zs_now();
	ck_assert_int_ge(t4, NEWYEAR_2027);
	ck_assert_int_le(t4, NEWYEAR_2027 + 4);

	/* "" = back to the real clock */
	ck_assert_int_eq(zs_clock_set(""), 0);
	ck_assert_int_le(llabs((long long)zs_now() - (long long)time(NULL)), 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("calendar");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_publication_time);
	tcase_add_test(tc, test_parse_local);
	tcase_add_test(tc, test_year_published);
	tcase_add_test(tc, test_year_end);
	tcase_add_test(tc, test_parse_rfc3339);
	tcase_add_test(tc, test_check_date);
	tcase_add_test(tc, test_check_date_strict_digits);
	tcase_add_test(tc, test_clock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
