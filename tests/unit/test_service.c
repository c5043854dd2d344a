/* test_service.c - the service parts that need no daemon: configuration errors name the line an
 * editor shows (blank lines counted), the new settings' validation, which settings a reload
 * cannot change, the Prometheus exposition of the request counters and histograms, and when the
 * worker applies the versions that arrived while other transfers still run. */
#include "config.h"
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_config.h"
#include "zs_metrics.h"
#include "zs_worker.h"

START_TEST(error_line_counts_blank_lines)
{
	zs_config c;
	char err[512];
	zs_config_defaults(&c);
	/* line 1 comment, 2 blank, 3 blank, 4 setting, 5 blank, 6 section, 7 bad kind */
	const char *text = "# x\n\n\nretry_min = 5\n\n[feed a]\nkind = other\n";
	ck_assert_int_eq(zs_config_parse(&c, text, "t.conf", "/tmp", err, sizeof err), -1);
	ck_assert_str_eq(err, "t.conf:7: feed a: kind: must be insurer or provider, got \"other\"");
	zs_config_free(&c);
}
END_TEST

START_TEST(new_settings_are_validated)
{
	zs_config c;
	char err[512];
	zs_config_defaults(&c);
	ck_assert_str_eq(c.access_log, "");
	ck_assert_int_eq(c.metrics, 1);
	ck_assert_str_eq(c.metrics_listen, "");
	ck_assert_int_eq(c.shutdown_timeout, 10);
	ck_assert_int_eq(zs_config_parse(&c, "\nlog_level = loud\n", "t.conf", NULL, err, sizeof err),
	                 -1);
	ck_assert_str_eq(err, "t.conf:2: log_level: must be error, warn, info or debug, got \"loud\"");
	ck_assert_int_eq(zs_config_set(&c, "metrics_listen", "9100", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "metrics_listen: \"9100\" is not host:port"));
	ck_assert_int_eq(zs_config_set(&c, "listen", "127.0.0.1:0", err, sizeof err), -1);
	ck_assert_int_eq(zs_config_set(&c, "listen", "[::1]:8080", err, sizeof err), 0);
	ck_assert_int_eq(zs_config_set(&c, "metrics", "2", err, sizeof err), -1);
	ck_assert_int_eq(zs_config_set(&c, "access_log", "-", err, sizeof err), 0);
	zs_config_free(&c);
}
END_TEST

START_TEST(restart_only_settings)
{
	zs_config a, b;
	char err[256], names[256];
	zs_config_defaults(&a);
	zs_config_defaults(&b);
	ck_assert_int_eq(zs_config_restart_changes(&a, &b, names, sizeof names), 0);
	ck_assert_str_eq(names, "");
	ck_assert_int_eq(zs_config_set(&b, "threads", "4", err, sizeof err), 0);
	ck_assert_int_eq(zs_config_set(&b, "listen", "127.0.0.1:9999", err, sizeof err), 0);
	ck_assert_int_eq(zs_config_set(&b, "log_level", "debug", err, sizeof err), 0);
	ck_assert_int_eq(zs_config_set(&b, "retry_min", "7", err, sizeof err), 0);
	/* table order: listen before threads; log_level and retry_min apply on reload */
	ck_assert_int_eq(zs_config_restart_changes(&a, &b, names, sizeof names), 2);
	ck_assert_str_eq(names, "listen, threads");
	ck_assert_int_eq(zs_config_copy_restart(&b, &a, err, sizeof err), 0);
	ck_assert_int_eq(zs_config_restart_changes(&a, &b, names, sizeof names), 0);
	ck_assert_int_eq(b.threads, 2);
	ck_assert_str_eq(b.listen, "127.0.0.1:8080");
	ck_assert_str_eq(b.log_level, "debug");
	ck_assert_int_eq(b.retry_min, 7);
	zs_config_free(&a);
	zs_config_free(&b);
}
END_TEST

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

START_TEST(request_metrics_exposition)
{
	zs_metrics_init();
	int r = zs_metrics_route("/v1/unit");
	ck_assert_int_eq(zs_metrics_route("/v1/unit"), r);
	/* 300 us and 3 ms: buckets le=0.0005 (first) and le=0.005 (both) */
	zs_metrics_request(r, 200, 100, 300);
	zs_metrics_request(r, 200, 50, 3000);
	zs_metrics_request(r, 404, 10, 20000000); /* 20 s: above every bucket but +Inf */
	zs_metrics_fetch("f\"1", ZS_FETCH_FAILED);
	zs_metrics_cache_hit();
	char *t = zs_metrics_render("/nonexistent/dir/none.db");
	ck_assert_ptr_nonnull(t);
	ck_assert(has_line(t, "zorgstatus_http_requests_total{route=\"/v1/unit\",code=\"200\"} 2"));
	ck_assert(has_line(t, "zorgstatus_http_requests_total{route=\"/v1/unit\",code=\"404\"} 1"));
	ck_assert(has_line(t, "zorgstatus_http_request_duration_seconds_bucket{route=\"/v1/unit\","
	                      "le=\"0.0005\"} 1"));
	ck_assert(has_line(t, "zorgstatus_http_request_duration_seconds_bucket{route=\"/v1/unit\","
	                      "le=\"0.005\"} 2"));
	ck_assert(has_line(t, "zorgstatus_http_request_duration_seconds_bucket{route=\"/v1/unit\","
	                      "le=\"10\"} 2"));
	ck_assert(has_line(t, "zorgstatus_http_request_duration_seconds_bucket{route=\"/v1/unit\","
	                      "le=\"+Inf\"} 3"));
	ck_assert(has_line(t, "zorgstatus_http_request_duration_seconds_sum{route=\"/v1/unit\"} "
	                      "20.003300"));
	ck_assert(has_line(t, "zorgstatus_http_response_bytes_total{route=\"/v1/unit\"} 160"));
	ck_assert(has_line(t, "zorgstatus_feed_fetches_total{feed=\"f\\\"1\",outcome=\"failed\"} 1"));
	ck_assert(has_line(t, "zorgstatus_response_cache_hits_total 1"));
	/* the database cannot be read: said so, no feed gauges */
	ck_assert(has_line(t, "zorgstatus_database_readable 0"));
	ck_assert(has_line(t, "# TYPE zorgstatus_http_request_duration_seconds histogram"));
	free(t);
	zs_metrics_shutdown();
}
END_TEST

/* It compared whole seconds of the monotonic clock: a version that arrived at x.95 s was
 * applied at (x+1).05 s, 0.1 s later, while the other feeds of a national first load were still
 * arriving; the load was then reconciled twice or three times (67 s instead of 49 s). */
START_TEST(early_apply_waits_a_whole_second_not_a_clock_tick)
{
	/* round started at 0; the first version arrived at 950 ms */
	ck_assert_int_eq(zs_fetch_apply_now(0, 950, 1050), 0);  /* 100 ms: across a second tick */
	ck_assert_int_eq(zs_fetch_apply_now(0, 950, 1949), 0);
	ck_assert_int_eq(zs_fetch_apply_now(0, 950, 1950), 1);  /* a whole second */
	/* arrived after 300 ms: waits the minimum of a second */
	ck_assert_int_eq(zs_fetch_apply_now(0, 300, 1299), 0);
	ck_assert_int_eq(zs_fetch_apply_now(0, 300, 1300), 1);
	/* the round took 5 s to bring it: it waits 5 s more for the others */
	ck_assert_int_eq(zs_fetch_apply_now(10000, 15000, 19999), 0);
	ck_assert_int_eq(zs_fetch_apply_now(10000, 15000, 20000), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, error_line_counts_blank_lines);
	tcase_add_test(tc, new_settings_are_validated);
	tcase_add_test(tc, restart_only_settings);
	tcase_add_test(tc, request_metrics_exposition);
	tcase_add_test(tc, early_apply_waits_a_whole_second_not_a_clock_tick);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
