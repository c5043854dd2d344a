/* test_memo.c - memo keys and the bounded text memo (zs_memo.h): equal inputs give equal keys
 * and different inputs different keys; a set keeps its two most recently used texts; texts are
 * copies; the bound on a text's length holds. */
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "zs_memo.h"

static size_t key_of(unsigned char *buf, size_t size, const char *a, const char *b, long long n,
                     int *over)
{
	zs_mkey k;
	zs_mkey_init(&k, buf, size);
	zs_mkey_str(&k, a);
	zs_mkey_str(&k, b);
	zs_mkey_int(&k, n);
	*over = k.over;
	return (size_t)(k.p - buf);
}

START_TEST(test_keys_keep_inputs_apart)
{
	unsigned char k1[64], k2[64];
	int o1, o2;
	/* the same inputs: the same bytes */
	size_t n1 = key_of(k1, sizeof k1, "hospital", "nl", 5, &o1);
	size_t n2 = key_of(k2, sizeof k2, "hospital", "nl", 5, &o2);
	ck_assert(!o1 && !o2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(k1, k2, n1);
	/* "ab"+"c" and "a"+"bc": lengths are part of the key */
	n1 = key_of(k1, sizeof k1, "ab", "c", 0, &o1);
	n2 = key_of(k2, sizeof k2, "a", "bc", 0, &o2);
	ck_assert(n1 != n2 || memcmp(k1, k2, n1) != 0);
	/* NULL and "" differ */
	n1 = key_of(k1, sizeof k1, NULL, "x", 0, &o1);
	n2 = key_of(k2, sizeof k2, "", "x", 0, &o2);
	ck_assert(n1 != n2 || memcmp(k1, k2, n1) != 0);
	/* 2 + 8 + 2 + 2 + 8 bytes: "hospital", "nl", then 8 bytes of the integer */
	n1 = key_of(k1, sizeof k1, "hospital", "nl", 5, &o1);
	ck_assert_uint_eq(n1, 2 + 8 + 2 + 2 + 8);
	/* a key that does not fit is not cut short: over */
	n1 = key_of(k1, 12, "hospital", "nl", 5, &o1);
	ck_assert(o1);
	char long_s[300];
	memset(long_s, 'x', sizeof long_s - 1);
	long_s[sizeof long_s - 1] = 0;
	key_of(k1, sizeof k1, long_s, "nl", 5, &o1);
	ck_assert(o1); /* longer than 255 bytes */
}
END_TEST

START_TEST(test_a_set_keeps_its_two_latest)
{
	zs_tmemo *m = zs_tmemo_new(1, 100); /* one set: every key competes for its two places */
	ck_assert_ptr_nonnull(m);
	const unsigned char a[] = "key-a", b[] = "key-b", c[] = "key-c";
	size_t len;
	ck_assert_ptr_null(zs_tmemo_get(m, a, sizeof a, &len));
	char text[] = "text of a";
	zs_tmemo_put(m, a, sizeof a, text, 9);
	memset(text, '?', sizeof text - 1); /* the memo keeps a copy */
	const char *t = zs_tmemo_get(m, a, sizeof a, &len);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, 9);
	ck_assert_mem_eq(t, "text of a", 9);
	zs_tmemo_put(m, b, sizeof b, "text of b", 9);
	/* a is asked again: the most recently used, so c pushes out b */
	ck_assert_ptr_nonnull(zs_tmemo_get(m, a, sizeof a, &len));
	zs_tmemo_put(m, c, sizeof c, "text of c", 9);
	ck_assert_ptr_null(zs_tmemo_get(m, b, sizeof b, &len));
	t = zs_tmemo_get(m, a, sizeof a, &len);
	ck_assert_ptr_nonnull(t);
	ck_assert_mem_eq(t, "text of a", 9);
	t = zs_tmemo_get(m, c, sizeof c, &len);
	ck_assert_ptr_nonnull(t);
	ck_assert_mem_eq(t, "text of c", 9);
	/* a key that is a prefix of another is another key */
	ck_assert_ptr_null(zs_tmemo_get(m, c, sizeof c - 1, &len));
	zs_tmemo_stats st;
	zs_tmemo_get_stats(m, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.bytes, 2 * (sizeof a + 9));
	ck_assert_uint_eq(st.hits, 4);
	ck_assert_uint_eq(st.misses, 3);
	/* a text over the bound is not kept; an empty text is */
	char big[101];
	memset(big, 'x', sizeof big);
	zs_tmemo_put(m, b, sizeof b, big, sizeof big);
	ck_assert_ptr_null(zs_tmemo_get(m, b, sizeof b, &len));
	zs_tmemo_put(m, b, sizeof b, "", 0);
	ck_assert_ptr_nonnull(zs_tmemo_get(m, b, sizeof b, &len));
	ck_assert_uint_eq(len, 0);
	/* cleared: nothing found, nothing held */
	zs_tmemo_clear(m);
	ck_assert_ptr_null(zs_tmemo_get(m, a, sizeof a, &len));
	zs_tmemo_get_stats(m, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.bytes, 0);
	zs_tmemo_free(m);
	zs_tmemo_free(NULL);
}
END_TEST

/* drop: called once for every text that leaves, pushed out, cleared or freed, with that text. */
static char dropped[8][16];
static int ndropped;

static void note_drop(void *ctx, const char *text, size_t len)
{
	ck_assert_ptr_eq(ctx, dropped);
	ck_assert_int_lt(ndropped, 8);
	ck_assert_uint_lt(len, sizeof dropped[0]);
	memcpy(dropped[ndropped], text, len);
	dropped[ndropped++][len] = 0;
}

START_TEST(test_drop_sees_every_text_that_leaves)
{
	zs_tmemo *m = zs_tmemo_new_with(1, 100, note_drop, dropped);
	ck_assert_ptr_nonnull(m);
	const unsigned char a[] = "a", b[] = "b", c[] = "c", d[] = "d";
	ck_assert_int_eq(zs_tmemo_put(m, a, sizeof a, "A", 1), 0);
	ck_assert_int_eq(zs_tmemo_put(m, b, sizeof b, "B", 1), 0);
	ck_assert_int_eq(ndropped, 0);
	ck_assert_int_eq(zs_tmemo_put(m, c, sizeof c, "C", 1), 0); /* a goes */
	ck_assert_int_eq(ndropped, 1);
	ck_assert_str_eq(dropped[0], "A");
	char big[101] = { 0 };
	ck_assert_int_eq(zs_tmemo_put(m, d, sizeof d, big, sizeof big), -1); /* not kept */
	ck_assert_int_eq(ndropped, 1);                                      /* nothing went */
	zs_tmemo_clear(m); /* c then b */
	ck_assert_int_eq(ndropped, 3);
	ck_assert_str_eq(dropped[1], "C");
	ck_assert_str_eq(dropped[2], "B");
	ck_assert_int_eq(zs_tmemo_put(m, d, sizeof d, "D", 1), 0);
	zs_tmemo_free(m);
	ck_assert_int_eq(ndropped, 4);
	ck_assert_str_eq(dropped[3], "D");
}
END_TEST

/* Many keys over many sets: each found text is the one put under its key. */
START_TEST(test_many_keys_find_their_own_text)
{
	zs_tmemo *m = zs_tmemo_new(64, 64);
	ck_assert_ptr_nonnull(m);
	char key[32], text[32];
	for (int i = 0; i < 1000; i++) {
		int kn = snprintf(key, sizeof key, "k%d", i), tn = snprintf(text, sizeof text, "t%d", i);
		zs_tmemo_put(m, (unsigned char *)key, (size_t)kn, text, (size_t)tn);
	}
	int found = 0;
	for (int i = 0; i < 1000; i++) {
		size_t len;
		int kn = snprintf(key, sizeof key, "k%d", i), tn = snprintf(text, sizeof text, "t%d", i);
		const char *t = zs_tmemo_get(m, (unsigned char *)key, (size_t)kn, &len);
		if (!t)
			continue;
		found++;
		ck_assert_uint_eq(len, (size_t)tn);
		ck_assert_mem_eq(t, text, len);
	}
	ck_assert_int_gt(found, 0);
	ck_assert_int_le(found, 128); /* at most two per set */
	zs_tmemo_free(m);
}
END_TEST

/* A reference finds its entry's text again without the key, and nothing once the entry has
 * left (pushed out, cleared) or its memo was freed, even when a new memo reuses the memory. */
START_TEST(test_reference_finds_only_its_own_entry)
{
	zs_tmemo *m = zs_tmemo_new(1, 1024); /* one set: the third key pushes the first out */
	ck_assert_ptr_nonnull(m);
	size_t len;
	ck_assert_int_eq(zs_tmemo_put(m, (const unsigned char *)"k1", 2, "text one", 8), 0);
	zs_tmemo_ref r1 = zs_tmemo_last(m);
	ck_assert_int_eq(zs_tmemo_put(m, (const unsigned char *)"k2", 2, "text two", 8), 0);
	zs_tmemo_ref r2 = zs_tmemo_last(m);
	const char *t = zs_tmemo_at(m, r1, &len);
	ck_assert_ptr_nonnull(t);
	ck_assert_mem_eq(t, "text one", 8);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(zs_tmemo_at(m, r2, &len), "text two", 8);
	/* a hit through the key gives the same reference */
	ck_assert_ptr_nonnull(zs_tmemo_get(m, (const unsigned char *)"k1", 2, &len));
	ck_assert_uint_eq(zs_tmemo_last(m).serial, r1.serial);
	/* k3 pushes out the least recently used, k2 */
	ck_assert_int_eq(zs_tmemo_put(m, (const unsigned char *)"k3", 2, "text three", 10), 0);
	ck_assert_ptr_null(zs_tmemo_at(m, r2, &len));
	ck_assert_mem_eq(zs_tmemo_at(m, r1, &len), "text one", 8);
	zs_tmemo_clear(m);
	ck_assert_ptr_null(zs_tmemo_at(m, r1, &len));
	zs_tmemo_ref none = { 0, 0 };
	ck_assert_ptr_null(zs_tmemo_at(m, none, &len));
	zs_tmemo_free(m);
	/* a new memo: its first entry has another serial than the freed memo's first */
	zs_tmemo *n = zs_tmemo_new(1, 1024);
	ck_assert_int_eq(zs_tmemo_put(n, (const unsigned char *)"k9", 2, "text nine", 9), 0);
	ck_assert_ptr_null(zs_tmemo_at(n, r1, &len));
	ck_assert_ptr_nonnull(zs_tmemo_at(n, zs_tmemo_last(n), &len));
	zs_tmemo_free(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memo");
	TCase *tc = tcase_create("memo");
	tcase_add_test(tc, test_keys_keep_inputs_apart);
	tcase_add_test(tc, test_a_set_keeps_its_two_latest);
	tcase_add_test(tc, test_many_keys_find_their_own_text);
	tcase_add_test(tc, test_drop_sees_every_text_that_leaves);
	tcase_add_test(tc, test_reference_finds_only_its_own_entry);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
