/* zs_time.h - the daemon's clock (settable for tests) and date/time helpers.
 * All local-time computations are in Europe/Amsterdam via the C library's tz database;
 * zs_time_init sets TZ for the process. */
#ifndef ZS_TIME_H
#define ZS_TIME_H
#include <stddef.h>
#include <time.h>

/* Set TZ=Europe/Amsterdam. Returns 0, or -1 if the zone is not installed (tzdata). */
int zs_time_init(void);

/* Start the clock at 'start' (local Europe/Amsterdam, "YYYY-MM-DDTHH:MM:SS"); it runs on in
 * real time from there. NULL or "" = the real clock. Returns 0, or -1 on a bad value. */
int zs_clock_set(const char *start);
time_t zs_now(void);

/* Parse "YYYY-MM-DDTHH:MM:SS" as Amsterdam local time. -1 on error. */
time_t zs_parse_local(const char *s);
/* Parse RFC 3339 ("...Z" or "...+01:00"); also "YYYY-MM-DD" (local midnight). -1 on error. */
time_t zs_parse_rfc3339(const char *s);
/* Validate "YYYY-MM-DD" (a real calendar day). 0 ok, -1 bad. */
int zs_check_date(const char *s);
/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). Returns buf. */
char *zs_fmt_utc(time_t t, char *buf, size_t len);

/* Publication calendar: statuses of contract year y are public from 12 November of y-1,
 * 00:00 Europe/Amsterdam. */
time_t zs_publication_time(int year);
/* The current contract year at t (calendar year in Amsterdam). */
int zs_current_year(time_t t);
/* Is year y public at time t? (y <= current year, or t >= publication of y) */
int zs_year_published(int year, time_t t);

#endif
