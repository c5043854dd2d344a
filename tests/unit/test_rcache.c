/* test_rcache.c - the per-thread response cache: validity per snapshot generation, expiry that
 * never crosses a local midnight (12 November and 1 January switch exactly), size bounds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "zs_rcache.h"
#include "zs_time.h"

static zs_rendered make(const char *body, int with_gz)
{
	zs_rendered r;
	memset(&r, 0, sizeof r);
	r.status = 200;
	r.body = strdup(body);
	r.len = strlen(body);
	if (with_gz) {
		r.gz = strdup("GZ");
		r.gzlen = 2;
	}
	strcpy(r.etag, "\"x\"");
	return r;
}

START_TEST(test_hit_and_generation)
{
	zs_rcache *c = zs_rcache_new(64, 1 << 20);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rendered r = make("{\"a\":1}", 0);
	ck_assert_ptr_nonnull(zs_rcache_put(c, "nl|/v1/x", 7, now, 10, &r));
	zs_rendered *hit = zs_rcache_get(c, "nl|/v1/x", 7, now + 9);
	ck_assert_ptr_nonnull(hit);
	ck_assert_str_eq(hit->body, "{\"a\":1}");
	/* another language is another key */
	ck_assert_ptr_null(zs_rcache_get(c, "en|/v1/x", 7, now));
	/* ttl over */
	ck_assert_ptr_null(zs_rcache_get(c, "nl|/v1/x", 7, now + 10));
	/* a new snapshot invalidates */
	r = make("{\"a\":2}", 0);
	zs_rcache_put(c, "nl|/v1/x", 7, now, 10, &r);
	ck_assert_ptr_null(zs_rcache_get(c, "nl|/v1/x", 8, now + 1));
	zs_rcache_free(c);
}
END_TEST

START_TEST(test_never_past_local_midnight)
{
	/* 11 November 23:59:55 Amsterdam (CET): the entry must be gone at 12 November 00:00:00,
	 * when next year's statuses become public, even with a one-hour ttl. */
	zs_rcache *c = zs_rcache_new(64, 1 << 20);
	time_t now = zs_parse_local("2026-11-11T23:59:55");
	time_t midnight = zs_parse_local("2026-11-12T00:00:00");
	ck_assert_int_eq((long long)midnight, 1794438000LL); /* 2026-11-11T23:00:00Z */
	ck_assert_int_eq((long long)zs_next_local_midnight(now), (long long)midnight);
	zs_rendered r = make("{\"error\":\"not_yet_published\"}", 0);
	zs_rcache_put(c, "nl|/v1/policies?year=2027", 1, now, 3600, &r);
	ck_assert_ptr_nonnull(zs_rcache_get(c, "nl|/v1/policies?year=2027", 1, midnight - 1));
	ck_assert_ptr_null(zs_rcache_get(c, "nl|/v1/policies?year=2027", 1, midnight));
	/* New Year in winter time: 2027-01-01T00:00 local = 2026-12-31T23:00:00Z */
	ck_assert_int_eq((long long)zs_next_local_midnight(zs_parse_local("2026-12-31T12:00:00")),
	                 1798758000LL);
	zs_rcache_free(c);
}
END_TEST

START_TEST(test_keeps_gzip_only_and_bounds)
{
	zs_rcache *c = zs_rcache_new(64, 64 * 8);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rendered r = make("{\"big\":true}", 1);
	zs_rendered *e = zs_rcache_put(c, "k", 1, now, 10, &r);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(e->body);               /* the plain text is dropped */
	ck_assert_uint_eq(e->len, strlen("{\"big\":true}")); /* its length is kept for inflating */
	ck_assert_uint_eq(e->gzlen, 2);
	/* larger than an eighth of the cache: not cached, the caller keeps its buffers */
	char big[200];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	zs_rendered b = make(big, 0);
	ck_assert_ptr_null(zs_rcache_put(c, "big", 1, now, 10, &b));
	free(b.body);
	/* ttl 0: caching off */
	zs_rendered z = make("{}", 0);
	ck_assert_ptr_null(zs_rcache_put(c, "z", 1, now, 0, &z));
	free(z.body);
	zs_rcache_free(c);
}
END_TEST

int main(void)
{
	zs_time_init();
	Suite *s = suite_create("rcache");
	TCase *tc = tcase_create("cache");
	tcase_add_test(tc, test_hit_and_generation);
	tcase_add_test(tc, test_never_past_local_midnight);
	tcase_add_test(tc, test_keeps_gzip_only_and_bounds);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
