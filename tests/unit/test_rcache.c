/* test_rcache.c - the shared response cache: answers stay valid across snapshots until a
 * snapshot changes something they depend on (issue 16: "a 304 keeps a cached answer; a change
 * to provider A keeps provider B's cached answer; a policy rule change drops that policy's
 * answers"), expiry never crosses a local midnight (12 November and 1 January switch exactly),
 * size bounds, entries outlive eviction while referenced, admission once full (an answer asked
 * once does not push out the others; asked twice, or asked again after its invalidation, it is
 * kept), and the sync race rule (an answer
 * computed from a snapshot older than the cache's generation is not kept). Also the pool of
 * large answer buffers behind them (zs_big.h): an evicted answer's block is reused by the next
 * one, the pool stays within its bound, and a cached big body is freed through the pool. */
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zs_big.h"
#include "zs_deps.h"
#include "zs_rcache.h"
#include "zs_time.h"

static zs_rendered make(const char *body)
{
	zs_rendered r;
	memset(&r, 0, sizeof r);
	r.status = 200;
	r.body = strdup(body);
	r.len = strlen(body);
	r.gz = strdup("GZ");
	r.gzlen = 2;
	strcpy(r.etag, "\"x\"");
	return r;
}

/* What the writer marked per generation, as a fetch callback would read it from the database:
 * generation g (1-based index) dirtied marks[g-1] (space-separated keys). */
static const char *const *marks;

static int fetch(void *ctx, long long from, long long to, uint64_t **keys, size_t *n, int *all)
{
	(void)ctx;
	*keys = calloc(64, sizeof **keys);
	*n = 0;
	*all = 0;
	for (long long g = from + 1; g <= to; g++) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s", marks[g - 1]);
		for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
			if (strcmp(tok, "*") == 0)
				*all = 1;
			(*keys)[(*n)++] = zs_dep_hash(tok);
		}
	}
	/* sorted, as zs_deps_dirty gives them */
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && (*keys)[j - 1] > (*keys)[j]; j--) {
			uint64_t t = (*keys)[j];
			(*keys)[j] = (*keys)[j - 1];
			(*keys)[j - 1] = t;
		}
	return 0;
}

static zs_rentry *put(zs_rcache *c, const char *key, long long born, time_t now, const char *d1,
                      const char *d2)
{
	zs_rendered r = make(key);
	uint64_t deps[2];
	size_t n = 0;
	if (d1)
		deps[n++] = zs_dep_hash(d1);
	if (d2)
		deps[n++] = zs_dep_hash(d2);
	if (n == 2 && deps[0] > deps[1]) {
		uint64_t t = deps[0];
		deps[0] = deps[1];
		deps[1] = t;
	}
	zs_rentry *e = zs_rcache_put(c, key, born, now, 3600, &r, deps, n, NULL);
	if (!e) {
		free(r.body);
		free(r.gz);
	}
	return e;
}

static int cached(zs_rcache *c, const char *key, time_t now)
{
	zs_rentry *e = zs_rcache_get(c, key, now);
	if (e)
		zs_rentry_release(e);
	return e != NULL;
}

/* The keys an answer depends on name it in the cache and in Surrogate-Key / xkey headers
 * that proxies purge by: "<type>:<id>", the type alone without an id, numbers as "%lld",
 * each key once, cut to ZS_DEP_KEY_MAX - 1 bytes, joined by single spaces and never past the
 * header buffer. Expected values written from those rules (the keys used to be made with
 * snprintf; now copied by hand, which this pins). */
START_TEST(test_dependency_keys_and_header)
{
	zs_deplist d;
	char h[64], big[128];
	zs_deplist_init(&d);
	zs_deplist_add(&d, "p", "06003066");
	zs_deplist_add_int(&d, "f", 12);
	zs_deplist_add(&d, "p", "06003066"); /* again: kept once */
	zs_deplist_add_int(&d, "y", 0);
	zs_deplist_add_int(&d, "n", -9223372036854775807LL - 1);
	zs_deplist_add(&d, "*", NULL);
	zs_deplist_add(&d, "s", "a-policy-id-longer-than-the-key");
	ck_assert_uint_eq(d.n, 6);
	ck_assert_str_eq(d.keys[0], "p:06003066");
	ck_assert_str_eq(d.keys[1], "f:12");
	ck_assert_str_eq(d.keys[2], "y:0");
	ck_assert_str_eq(d.keys[3], "n:-9223372036854775808");
	ck_assert_str_eq(d.keys[4], "*");
	ck_assert_str_eq(d.keys[5], "s:a-policy-id-longer-th"); /* 23 bytes */
	ck_assert_uint_eq(zs_deplist_header(&d, big, sizeof big), 68);
	ck_assert_str_eq(big, "p:06003066 f:12 y:0 n:-9223372036854775808 * s:a-policy-id-longer-th");
	/* 64 bytes: the last key would not fit with its space and the terminator, so it is left out */
	ck_assert_uint_eq(zs_deplist_header(&d, h, sizeof h), 44);
	ck_assert_str_eq(h, "p:06003066 f:12 y:0 n:-9223372036854775808 *");
	zs_deplist_free(&d);
}
END_TEST

START_TEST(test_invalidation_follows_dependencies)
{
	static const char *const m[] = {
		"",                      /* 1: nothing (a poll answered 304) */
		"p:06010101 s:2027",     /* 2: provider A's statuses changed */
		"y:2027",                /* 3: a policy rule of 2027 changed */
		"f:3",                   /* 4: feed 3's published freshness moved */
	};
	marks = m;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rentry_release(put(c, "A2027", 0, now, "p:06010101", "y:2027"));
	zs_rentry_release(put(c, "B2027", 0, now, "p:04040101", "y:2027"));
	zs_rentry_release(put(c, "B2026", 0, now, "p:04040101", "y:2026"));
	zs_rentry_release(put(c, "Bfeed", 0, now, "p:04040101", "f:3"));
	/* a snapshot that changed nothing keeps everything */
	zs_rcache_sync(c, 1, fetch, NULL);
	ck_assert(cached(c, "A2027", now) && cached(c, "B2027", now) && cached(c, "B2026", now));
	/* a change to A drops A's answer and keeps B's */
	zs_rcache_sync(c, 2, fetch, NULL);
	ck_assert(!cached(c, "A2027", now));
	ck_assert(cached(c, "B2027", now) && cached(c, "B2026", now));
	/* a rule change of 2027 drops every 2027 answer, not 2026 */
	zs_rcache_sync(c, 3, fetch, NULL);
	ck_assert(!cached(c, "B2027", now));
	ck_assert(cached(c, "B2026", now));
	ck_assert(cached(c, "Bfeed", now));
	/* the freshness of feed 3 drops the answers citing it */
	zs_rcache_sync(c, 4, fetch, NULL);
	ck_assert(!cached(c, "Bfeed", now));
	ck_assert(cached(c, "B2026", now));
	ck_assert_int_eq(zs_rcache_generation(c), 4);
	zs_rcache_free(c);
}
END_TEST

START_TEST(test_no_keys_means_everything_and_star)
{
	static const char *const m[] = { "p:99999999", "*" };
	marks = m;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rentry_release(put(c, "search", 0, now, NULL, NULL)); /* read a snapshot, no keys */
	zs_rentry_release(put(c, "B", 0, now, "p:04040101", NULL));
	zs_rcache_sync(c, 1, fetch, NULL);
	ck_assert(!cached(c, "search", now)); /* any change drops it */
	ck_assert(cached(c, "B", now));
	zs_rcache_sync(c, 2, fetch, NULL);     /* '*': everything goes */
	ck_assert(!cached(c, "B", now));
	zs_rcache_free(c);
}
END_TEST

START_TEST(test_older_snapshot_not_kept)
{
	static const char *const m[] = { "p:06010101", "p:06010101" };
	marks = m;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rcache_sync(c, 2, fetch, NULL);
	/* computed from snapshot 1 while the cache already dropped what 2 changed: refused */
	ck_assert_ptr_null(put(c, "A", 1, now, "p:06010101", NULL));
	zs_rentry *e = put(c, "A", 2, now, "p:06010101", NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->r.body, "A");
	zs_rentry_release(e);
	zs_rcache_free(c);
}
END_TEST

START_TEST(test_never_past_local_midnight)
{
	/* 11 November 23:59:55 Amsterdam (CET): the entry must be gone at 12 November 00:00:00,
	 * when next year's statuses become public, even with a one-hour ttl. */
	marks = NULL;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-11T23:59:55");
	time_t midnight = zs_parse_local("2026-11-12T00:00:00");
	ck_assert_int_eq((long long)midnight, 1794438000LL); /* 2026-11-11T23:00:00Z */
	ck_assert_int_eq((long long)zs_next_local_midnight(now), (long long)midnight);
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rentry_release(put(c, "nl|/v1/policies?year=2027", 0, now, "y:2027", NULL));
	ck_assert(cached(c, "nl|/v1/policies?year=2027", midnight - 1));
	ck_assert(!cached(c, "nl|/v1/policies?year=2027", midnight));
	/* New Year in winter time: 2027-01-01T00:00 local = 2026-12-31T23:00:00Z */
	ck_assert_int_eq((long long)zs_next_local_midnight(zs_parse_local("2026-12-31T12:00:00")),
	                 1798758000LL);
	zs_rcache_free(c);
}
END_TEST

START_TEST(test_bounds_and_references)
{
	marks = NULL;
	/* 16 shards of 64 KiB */
	zs_rcache *c = zs_rcache_new(16 * 65536);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	/* keeps both forms: plain clients get the JSON without inflating */
	zs_rentry *e = put(c, "k", 0, now, "p:1", NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->r.body, "k");
	ck_assert_uint_eq(e->r.gzlen, 2);
	/* larger than a quarter of a shard: not cached, the caller keeps its buffers */
	char *big = malloc(20000);
	memset(big, 'x', 19999);
	big[19999] = 0;
	zs_rendered b = make(big);
	ck_assert_ptr_null(zs_rcache_put(c, "big", 0, now, 3600, &b, NULL, 0, NULL));
	free(b.body);
	free(b.gz);
	free(big);
	/* ttl 0: caching off */
	zs_rendered z = make("{}");
	ck_assert_ptr_null(zs_rcache_put(c, "z", 0, now, 0, &z, NULL, 0, NULL));
	free(z.body);
	free(z.gz);
	/* thousands of entries: memory stays bounded (LRU eviction), the referenced one lives;
	 * each missed twice, so that a full cache keeps it (test_full_cache_keeps_second_miss) */
	for (int i = 0; i < 5000; i++) {
		char key[256];
		snprintf(key, sizeof key, "key-%d-%0200d", i, i);
		zs_rentry_release(put(c, key, 0, now, "p:1", NULL));
		zs_rentry_release(put(c, key, 0, now, "p:1", NULL));
	}
	zs_rcache_stats st;
	zs_rcache_stats_get(c, &st);
	ck_assert_uint_le(st.bytes, 16 * 65536);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_str_eq(e->r.body, "k"); /* evicted or not, still readable: we hold a reference */
	zs_rentry_release(e);
	zs_rcache_free(c);
}
END_TEST

/* Put an answer of n bytes under key, asked twice if need be (a full shard keeps a second
 * miss): the entry with a reference, or NULL. */
static zs_rentry *put_sized(zs_rcache *c, const char *key, time_t now, size_t n)
{
	for (int miss = 0; miss < 2; miss++) {
		char *body = malloc(n + 1);
		memset(body, 'a' + (int)(strlen(key) % 26), n);
		body[n] = 0;
		zs_rendered r;
		memset(&r, 0, sizeof r);
		r.status = 200;
		r.body = body;
		r.len = n;
		zs_rentry *e = zs_rcache_put(c, key, 0, now, 3600, &r, NULL, 0, NULL);
		if (e)
			return e;
		free(body);
	}
	return NULL;
}

static int files_released;
static void release_file(void *f)
{
	files_released++;
	free(f);
}

/* A gzip form or a file attached to an entry after it was kept used to be counted without
 * making room: a full shard went past its budget by every attached form (an answer file is as
 * large as its JSON). Now the shard's least recently used entries leave, never the one that
 * grew. */
START_TEST(test_attached_forms_keep_the_budget)
{
	marks = NULL;
	/* 16 shards of 64 KiB; an answer is 10 KB kept, 25 KB with its gzip form and file: a
	 * shard holds two whole ones (50 KB) and room for a third's JSON, which must not stay
	 * once it has grown (75 KB) */
	zs_rcache *c = zs_rcache_new(16 * 65536);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	files_released = 0;
	int kept = 0;
	for (int i = 0; i < 2000; i++) {
		char key[64];
		snprintf(key, sizeof key, "key-%d", i);
		zs_rentry *e = put_sized(c, key, now, 10000);
		ck_assert_ptr_nonnull(e);
		kept++;
		zs_rentry_ref(e); /* another client is sending it: the entry keeps its text */
		ck_assert_int_eq(zs_rcache_attach_gz(c, e, strdup("GZ"), 5000), 1);
		ck_assert_int_eq(zs_rcache_attach_file(c, e, malloc(16), -1, 10000, release_file), 1);
		/* a second attach loses: the caller keeps what it made */
		ck_assert_int_eq(zs_rcache_attach_file(c, e, (void *)key, -1, 10000, release_file), 0);
		zs_rcache_stats st;
		zs_rcache_stats_get(c, &st);
		ck_assert_uint_le(st.bytes, 16 * 65536);
		ck_assert_uint_eq(st.file_bytes, st.files * 10000);
		/* the entry that grew stays */
		ck_assert_int_eq(cached(c, key, now), 1);
		ck_assert_ptr_nonnull(e->r.body);
		zs_rentry_release(e);
		zs_rentry_release(e);
	}
	zs_rcache_stats st;
	zs_rcache_stats_get(c, &st);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_gt(st.files, 0);
	/* every entry that left gave its file back, and freeing the cache gives the rest */
	ck_assert_int_eq(files_released + (int)st.files, kept);
	zs_rcache_free(c);
	ck_assert_int_eq(files_released, kept);
}
END_TEST

/* The smaller gzip form: attached once (a second attach loses), counted in the entry's bytes,
 * the first form kept beside it (answers being sent use it), both freed with the entry. */
START_TEST(test_gzip_best_form_attached_once_and_counted)
{
	zs_rcache *c = zs_rcache_new(16 * 65536);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rentry *e = put_sized(c, "k", now, 10000);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(e->r.gzb);
	ck_assert_int_eq(zs_rcache_attach_gz(c, e, strdup("GZ-level-1"), 10), 1);
	zs_rcache_stats a, b;
	zs_rcache_stats_get(c, &a);
	char *best = strdup("GZ6");
	ck_assert_int_eq(zs_rcache_attach_gz_best(c, e, best, 3), 1);
	char *again = strdup("GZ9");
	ck_assert_int_eq(zs_rcache_attach_gz_best(c, e, again, 3), 0);
	free(again); /* the caller keeps what was not attached */
	zs_rcache_stats_get(c, &b);
	ck_assert_uint_eq(b.bytes, a.bytes + 3);
	ck_assert_ptr_eq(e->r.gzb, best);
	ck_assert_uint_eq(e->r.gzblen, 3);
	ck_assert_str_eq(e->r.gz, "GZ-level-1");
	zs_rentry_release(e);
	zs_rcache_free(c); /* ASan and valgrind: both forms freed */
}
END_TEST

/* A file that replaces its entry's text (only the cache and its maker hold the entry) makes
 * no other answer leave: the text goes before the file is counted (review of the change that
 * added files: it evicted up to the text's size from a full shard for nothing). */
START_TEST(test_file_replacing_the_text_evicts_nothing)
{
	marks = NULL;
	zs_rcache *c = zs_rcache_new(16 * 65536);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	/* fill every shard: 8000-byte answers, each asked twice so that a full shard keeps it */
	char key[64];
	for (int i = 0; i < 400; i++) {
		snprintf(key, sizeof key, "fill-%d", i);
		zs_rentry_release(put_sized(c, key, now, 8000));
	}
	zs_rcache_stats before, after;
	zs_rcache_stats_get(c, &before);
	ck_assert_uint_gt(before.evictions, 0); /* the shards are full */
	/* every entry still there gets a file of its text's size, held by nobody else */
	int attached = 0;
	files_released = 0;
	for (int i = 0; i < 400; i++) {
		snprintf(key, sizeof key, "fill-%d", i);
		zs_rentry *e = zs_rcache_get(c, key, now);
		if (!e)
			continue;
		ck_assert_int_eq(zs_rcache_attach_file(c, e, malloc(8), -1, 8000, release_file), 1);
		ck_assert_ptr_null(e->r.body);
		attached++;
		zs_rentry_release(e);
	}
	zs_rcache_stats_get(c, &after);
	ck_assert_int_eq(attached, (int)before.entries);
	ck_assert_uint_eq(after.evictions, before.evictions);
	ck_assert_uint_eq(after.entries, before.entries);
	ck_assert_uint_eq(after.bytes, before.bytes);
	ck_assert_uint_eq(after.files, before.entries);
	zs_rcache_free(c);
	ck_assert_int_eq(files_released, attached);
}
END_TEST

/* An answer file holds the same bytes as the entry's text: the text goes once nobody but the
 * cache holds the entry, and its bytes leave the count; a holder keeps it whole meanwhile. */
START_TEST(test_entry_with_a_file_drops_its_text)
{
	marks = NULL;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	files_released = 0;
	zs_rentry *a = put(c, "a", 0, now, "p:1", NULL);   /* body "a", gz "GZ" */
	zs_rentry *b = put(c, "bb", 0, now, "p:1", NULL);  /* body "bb" */
	zs_rcache_stats st0, st;
	zs_rcache_stats_get(c, &st0);
	/* a: attached by the only client holding it: the text goes at once */
	ck_assert_int_eq(zs_rcache_attach_file(c, a, malloc(8), 7, 1, release_file), 1);
	ck_assert_ptr_null(a->r.body);
	ck_assert_uint_eq(a->r.len, 1);
	ck_assert_int_eq(a->file_fd, 7);
	zs_rcache_stats_get(c, &st);
	ck_assert_uint_eq(st.bytes, st0.bytes + 1 - 1); /* the file's 1 byte in, the text's out */
	/* b: a second client holds it while it is attached: the text stays until both are done */
	zs_rentry *b2 = zs_rcache_get(c, "bb", now);
	ck_assert_ptr_eq(b2, b);
	ck_assert_int_eq(zs_rcache_attach_file(c, b, malloc(8), 8, 2, release_file), 1);
	ck_assert_str_eq(b->r.body, "bb");
	zs_rentry_release(b2);
	ck_assert_str_eq(b->r.body, "bb");
	zs_rentry_release(b);
	/* the next lookup finds only the cache's reference: the text goes then */
	zs_rentry *b3 = zs_rcache_get(c, "bb", now);
	ck_assert_ptr_null(b3->r.body);
	ck_assert_uint_eq(b3->r.len, 2);
	ck_assert_str_eq(b3->r.gz, "GZ");
	zs_rcache_stats_get(c, &st);
	ck_assert_uint_eq(st.bytes, st0.bytes);
	ck_assert_uint_eq(st.files, 2);
	ck_assert_uint_eq(st.file_bytes, 3);
	zs_rentry_release(b3);
	zs_rentry_release(a);
	zs_rcache_free(c);
	ck_assert_int_eq(files_released, 2);
}
END_TEST

/* Plain LRU let every answer asked once push out one asked all day: in a national Zipf mix a
 * quarter of the lookups were rendered again (74% hits); a full cache now keeps an answer on its
 * second miss, and at once one that was dropped by an invalidation. */
START_TEST(test_full_cache_keeps_second_miss)
{
	static const char *const m[] = { "p:9" };
	marks = m;
	zs_rcache *c = zs_rcache_new(16 * 65536);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	zs_rcache_sync(c, 0, fetch, NULL);
	/* not full yet: kept on the first miss */
	zs_rentry *e = put(c, "first", 0, now, "p:1", NULL);
	ck_assert_ptr_nonnull(e);
	zs_rentry_release(e);
	/* fill every shard: 5000 answers of ~250 bytes, each missed twice, into 16 x 64 KiB */
	for (int i = 0; i < 5000; i++) {
		char key[256];
		snprintf(key, sizeof key, "fill-%d-%0200d", i, i);
		zs_rentry_release(put(c, key, 0, now, "p:1", NULL));
		zs_rentry_release(put(c, key, 0, now, "p:1", NULL));
	}
	zs_rcache_stats st0, st1;
	zs_rcache_stats_get(c, &st0);
	ck_assert_uint_gt(st0.evictions, 0);
	/* full: the first miss of a new answer is sent, not kept (the caller keeps its buffers);
	 * its key is longer than a filler's, so no shard has room for it without evicting */
	char once[1200];
	snprintf(once, sizeof once, "once-%01100d", 7);
	ck_assert_ptr_null(put(c, once, 0, now, "p:9", NULL));
	ck_assert(!cached(c, once, now));
	zs_rcache_stats_get(c, &st1);
	ck_assert_uint_eq(st1.refused, st0.refused + 1);
	ck_assert_uint_eq(st1.evictions, st0.evictions); /* nothing was pushed out for it */
	/* its second miss: kept */
	e = put(c, once, 0, now, "p:9", NULL);
	ck_assert_ptr_nonnull(e);
	zs_rentry_release(e);
	ck_assert(cached(c, once, now));
	/* a snapshot changes provider 9: dropped; its new answer is kept on the first miss */
	zs_rcache_sync(c, 1, fetch, NULL);
	ck_assert(!cached(c, once, now));
	e = put(c, once, 1, now, "p:9", NULL);
	ck_assert_ptr_nonnull(e);
	zs_rentry_release(e);
	ck_assert(cached(c, once, now));
	zs_rcache_free(c);
}
END_TEST

/* Under churn every hospital's answer was dropped at each snapshot and every request for it
 * made it again, on both threads at once, while the connections behind them waited (lookup
 * p99 17 ms at half the maximum rate). Now the first request after the change makes the new
 * answer; those who ask meanwhile get the previous one, whole, marked stale. */
START_TEST(test_stale_answer_while_the_new_one_is_made)
{
	static const char *const m[] = { "p:1", "p:1" };
	marks = m;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	int stale = -1;
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rentry_release(put(c, "A", 0, now, "p:1", NULL));
	zs_rentry_release(put(c, "B", 0, now, "p:2", NULL));
	zs_rcache_sync(c, 1, fetch, NULL); /* provider 1 changed */
	/* B does not depend on it: a plain hit */
	zs_rentry *e = zs_rcache_lookup(c, "B", now, &stale);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(stale, 0);
	zs_rentry_release(e);
	/* the first one to ask for A makes it again */
	ck_assert_ptr_null(zs_rcache_lookup(c, "A", now, &stale));
	ck_assert_int_eq(stale, 0);
	/* meanwhile: the previous answer, said to be stale; never to a plain get */
	e = zs_rcache_lookup(c, "A", now, &stale);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(stale, 1);
	ck_assert_str_eq(e->r.body, "A");
	zs_rentry_release(e);
	ck_assert(!cached(c, "A", now));
	zs_rcache_stats st;
	zs_rcache_stats_get(c, &st);
	ck_assert_uint_eq(st.stale_served, 1);
	/* the new answer replaces it */
	zs_rendered r = make("A2");
	zs_rentry_release(zs_rcache_put(c, "A", 1, now, 3600, &r, (const uint64_t[]){
	                                zs_dep_hash("p:1") }, 1, NULL));
	e = zs_rcache_lookup(c, "A", now, &stale);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(stale, 0);
	ck_assert_str_eq(e->r.body, "A2");
	zs_rentry_release(e);
	/* changed again; the one who makes it does not keep it (drop_stale): nobody gets the
	 * stale one after that, the next one makes it */
	zs_rcache_sync(c, 2, fetch, NULL);
	ck_assert_ptr_null(zs_rcache_lookup(c, "A", now, &stale));
	zs_rcache_drop_stale(c, "A");
	ck_assert_ptr_null(zs_rcache_lookup(c, "A", now, &stale));
	ck_assert_int_eq(stale, 0);
	zs_rcache_free(c);
}
END_TEST

/* A maker that never comes back (it failed without dropping the claim) holds the stale answer
 * for at most ZS_RCACHE_CLAIM_MS: then the next one makes it. */
START_TEST(test_stale_claim_expires)
{
	static const char *const m[] = { "p:1" };
	marks = m;
	zs_rcache *c = zs_rcache_new(1 << 24);
	time_t now = zs_parse_local("2026-11-20T10:00:00");
	int stale = -1;
	zs_rcache_sync(c, 0, fetch, NULL);
	zs_rentry_release(put(c, "A", 0, now, "p:1", NULL));
	zs_rcache_sync(c, 1, fetch, NULL);
	ck_assert_ptr_null(zs_rcache_lookup(c, "A", now, &stale));
	zs_rentry *e = zs_rcache_lookup(c, "A", now, &stale);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(stale, 1);
	zs_rentry_release(e);
	usleep((ZS_RCACHE_CLAIM_MS + 100) * 1000);
	ck_assert_ptr_null(zs_rcache_lookup(c, "A", now, &stale)); /* claimed again */
	ck_assert_int_eq(stale, 0);
	zs_rcache_free(c);
}
END_TEST

/* A freed 100 KB block is the next 100 KB answer's (no new mapping); a text keeps its bytes
 * when it grows; a small text is plain heap; the fitted block of a grown text is small. */
START_TEST(test_big_blocks_reused)
{
	zs_big_drain();
	zs_big_stats a, b;
	char *p = zs_big_alloc(100000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(zs_big_size(p), 100000);
	memset(p, 'x', 100000);
	zs_big_get_stats(&a);
	zs_big_free(p);
	char *q = zs_big_alloc(99000); /* same class */
	ck_assert_ptr_nonnull(q);
	zs_big_get_stats(&b);
	if (zs_big_pooling()) {
		ck_assert_ptr_eq(q, p);
		ck_assert_uint_eq(b.reused, a.reused + 1);
		ck_assert_uint_eq(b.mapped, a.mapped);
	}
	memset(q, 'y', 99000);
	char *r = zs_big_realloc(q, 400000);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_ge(zs_big_size(r), 400000);
	for (size_t i = 0; i < 99000; i += 997)
		ck_assert_int_eq(r[i], 'y');
	/* 20 bytes used of a 400 KB block: moved into a block that fits */
	char *f = zs_big_fit(r, 20);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f[0], 'y');
	if (zs_big_pooling()) /* (heap blocks are kept as they are) */
		ck_assert_uint_lt(zs_big_size(f), 65536);
	zs_big_free(f);
	char *s = zs_big_alloc(100);
	ck_assert_ptr_nonnull(s);
	zs_big_get_stats(&a);
	zs_big_free(s); /* heap: neither pooled nor unmapped */
	zs_big_get_stats(&b);
	ck_assert_uint_eq(b.pooled_bytes, a.pooled_bytes);
	ck_assert_uint_eq(b.unmapped, a.unmapped);
	zs_big_free(NULL);
	zs_big_drain();
	zs_big_get_stats(&b);
	ck_assert_uint_eq(b.pooled_bytes, 0);
}
END_TEST

/* The pool never keeps more than ZS_BIG_POOL_BYTES of free blocks: the rest go back. */
START_TEST(test_big_pool_bounded)
{
	if (!zs_big_pooling())
		return;
	zs_big_drain();
	enum { N = 80 };
	static char *blk[N];
	for (int i = 0; i < N; i++) { /* 80 x 1 MB > 48 MiB */
		blk[i] = zs_big_alloc(1000000);
		ck_assert_ptr_nonnull(blk[i]);
	}
	zs_big_stats a, b;
	zs_big_get_stats(&a);
	for (int i = 0; i < N; i++)
		zs_big_free(blk[i]);
	zs_big_get_stats(&b);
	ck_assert_uint_le(b.pooled_bytes, ZS_BIG_POOL_BYTES);
	ck_assert_uint_gt(b.pooled_bytes, ZS_BIG_POOL_BYTES - 2 * 1100000);
	ck_assert_uint_gt(b.unmapped, a.unmapped);
	zs_big_drain();
}
END_TEST

/* Cached answers whose bodies are big blocks are freed through the pool when evicted and when
 * the cache goes (a free() of such a body would crash: the block starts after its header). */
START_TEST(test_big_body_in_cache)
{
	zs_big_drain();
	zs_rcache *c = zs_rcache_new(16 << 20);
	ck_assert_ptr_nonnull(c);
	for (int i = 0; i < 120; i++) { /* 120 x 200 KB in 16 MB: most are evicted */
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		zs_rentry *e = NULL;
		for (int miss = 0; miss < 2 && !e; miss++) { /* once full: kept on the second miss */
			zs_rendered r;
			memset(&r, 0, sizeof r);
			r.status = 200;
			r.len = 200000;
			r.body = zs_big_alloc(r.len + 1);
			ck_assert_ptr_nonnull(r.body);
			memset(r.body, 'a' + i % 26, r.len);
			r.body[r.len] = 0;
			r.body_big = 1;
			e = zs_rcache_put(c, key, 0, 1000, 60, &r, (const uint64_t[]){ 1 }, 1, NULL);
			if (!e)
				zs_rendered_free(&r); /* refused: still ours, freed through the pool */
		}
		ck_assert_ptr_nonnull(e);
		zs_rentry_release(e);
	}
	zs_rcache_stats st;
	zs_rcache_stats_get(c, &st);
	ck_assert_uint_gt(st.evictions, 0);
	zs_rentry *e = zs_rcache_get(c, "k119", 1000);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->r.body[199999], 'a' + 119 % 26);
	zs_rentry_release(e);
	zs_rcache_free(c);
	zs_big_drain();
}
END_TEST

int main(void)
{
	zs_time_init();
	Suite *s = suite_create("rcache");
	TCase *tc = tcase_create("cache");
	tcase_set_timeout(tc, 30); /* test_stale_claim_expires waits out a claim (2 s) */
	tcase_add_test(tc, test_dependency_keys_and_header);
	tcase_add_test(tc, test_gzip_best_form_attached_once_and_counted);
	tcase_add_test(tc, test_invalidation_follows_dependencies);
	tcase_add_test(tc, test_no_keys_means_everything_and_star);
	tcase_add_test(tc, test_older_snapshot_not_kept);
	tcase_add_test(tc, test_never_past_local_midnight);
	tcase_add_test(tc, test_bounds_and_references);
	tcase_add_test(tc, test_full_cache_keeps_second_miss);
	tcase_add_test(tc, test_attached_forms_keep_the_budget);
	tcase_add_test(tc, test_entry_with_a_file_drops_its_text);
	tcase_add_test(tc, test_file_replacing_the_text_evicts_nothing);
	tcase_add_test(tc, test_stale_answer_while_the_new_one_is_made);
	tcase_add_test(tc, test_stale_claim_expires);
	tcase_add_test(tc, test_big_blocks_reused);
	tcase_add_test(tc, test_big_pool_bounded);
	tcase_add_test(tc, test_big_body_in_cache);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
