/* zs_time.c - settable clock and the 12 November publication calendar. */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include "zs_time.h"

static _Atomic long long clock_offset; /* added to the real clock */

int zs_time_init(void)
{
	setenv("TZ", "Europe/Amsterdam", 1);
	tzset();
	/* Without tzdata the zone silently falls back to UTC: detect that with a known date. */
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12,
	                 .tm_isdst = -1 };
	time_t t = mktime(&tm);
	return (t == (time_t)1767265200) ? 0 : -1; /* 2026-01-01T11:00:00Z */
}

static int parse_fields(const char *s, struct tm *tm, const char **rest)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	memset(tm, 0, sizeof *tm);
	/* sscanf accepts spaces and signs: require the exact digit layout first */
	static const char date_shape[] = "dddd-dd-dd", time_shape[] = "dd:dd:dd";
	for (int i = 0; i < 10; i++)
		if (date_shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != date_shape[i])
			return -1;
	if (s[10] == 'T' || s[10] == ' ')
		for (int i = 0; i < 8; i++)
			if (time_shape[i] == 'd' ? !isdigit((unsigned char)s[11 + i])
			                         : s[11 + i] != time_shape[i])
				return -1;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		int m = 0;
		if (sscanf(s + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &m) != 3 || m != 8)
			return -1;
		s += 1 + m;
		if (*s == '.') { /* fractional seconds: ignored */
			s++;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60 || h < 0 || mi < 0 || se < 0)
		return -1;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return -1;
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = se;
	tm->tm_isdst = -1;
	*rest = s;
	return 0;
}

time_t zs_parse_local(const char *s)
{
	struct tm tm;
	const char *rest;
	if (!s || parse_fields(s, &tm, &rest) != 0 || *rest)
		return (time_t)-1;
	return mktime(&tm);
}

int zs_check_date(const char *s)
{
	struct tm tm;
	const char *rest;
	if (!s || strlen(s) != 10 || parse_fields(s, &tm, &rest) != 0 || *rest)
		return -1;
	return 0;
}

time_t zs_parse_rfc3339(const char *s)
{
	struct tm tm;
	const char *rest;
	if (!s || parse_fields(s, &tm, &rest) != 0)
		return (time_t)-1;
	if (!*rest)
		return mktime(&tm); /* local */
	long off = 0;
	if (*rest == 'Z' && !rest[1]) {
		off = 0;
	} else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
		int hh, mm;
		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
			return (time_t)-1;
		off = (hh * 3600L + mm * 60L) * (*rest == '-' ? -1 : 1);
	} else {
		return (time_t)-1;
	}
	tm.tm_isdst = 0;
	return timegm(&tm) - off;
}

int zs_clock_set(const char *start)
{
	if (!start || !*start) {
		atomic_store(&clock_offset, 0);
		return 0;
	}
	time_t t = zs_parse_local(start);
	if (t == (time_t)-1)
		t = zs_parse_rfc3339(start);
	if (t == (time_t)-1)
		return -1;
	atomic_store(&clock_offset, (long long)t - (long long)time(NULL));
	return 0;
}

time_t zs_now(void)
{
	return (time_t)((long long)time(NULL) + atomic_load(&clock_offset));
}

char *zs_fmt_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

time_t zs_publication_time(int year)
{
	struct tm tm = { .tm_year = year - 1 - 1900, .tm_mon = 10, .tm_mday = 12, .tm_isdst = -1 };
	return mktime(&tm);
}

int zs_current_year(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_year + 1900;
}

/* Asked for every status written in an ingest and for every answer: the last moment's year and
 * the last year's publication time are kept per thread (the time zone is fixed, zs_time_init),
 * instead of two time zone conversions each time. */
int zs_year_published(int year, time_t t)
{
	static __thread time_t memo_t = (time_t)-1;
	static __thread int memo_cur, memo_year;
	static __thread time_t memo_pub;
	if (t != memo_t || t == (time_t)-1) {
		memo_cur = zs_current_year(t);
		memo_t = t;
	}
	if (year <= memo_cur)
		return 1;
	if (year != memo_year) { /* (memo_year 0 never matches: year 0 returned above) */
		memo_pub = zs_publication_time(year);
		memo_year = year;
	}
	return t >= memo_pub;
}
