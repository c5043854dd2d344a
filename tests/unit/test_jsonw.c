/* test_jsonw.c - the fast JSON writer gives byte for byte what jansson's
 * json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) gives (answers and ETags must not change
 * when the writer does), and frozen values are spliced in as their own text. */
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <malloc.h>
#include "zs_jsonw.h"

static void same(const json_t *v)
{
	char *a = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
	size_t n;
	char *b = zs_json_dump(v, NULL, &n);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b, a);
	ck_assert_uint_eq(n, strlen(a));
	free(a);
	free(b);
}

START_TEST(test_same_as_jansson)
{
	const char *docs[] = {
		"{}", "[]", "[null,true,false]",
		"{\"a\":1,\"z\":-9223372036854775807,\"m\":[1,2,{\"x\":\"y\"}]}",
		"[0.5,62.5,75.0,1e20,1.5e-7,-0.0,3.141592653589793,100.0,1e300,2.5e-300]",
		"[\"\\\"quotes\\\" and \\\\ backslash\",\"\\n\\r\\t\\b\\f\",\"\\u0001\\u001f\\u007f\"]",
		"[\"/ slash\",\"\u00e9\u00eb \u20ac 8.000,00 \u2028\",\"\\ud83d\\ude00\"]",
		"{\"key\":\"nul\\u0000inside\"}",
		"{\"b\":2,\"a\":1,\"c\":{\"z\":[],\"y\":{}}}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		json_error_t e;
		json_t *v = json_loads(docs[i], JSON_ALLOW_NUL, &e);
		ck_assert_msg(v != NULL, "%s: %s", docs[i], e.text);
		same(v);
		json_decref(v);
	}
	/* numbers made in C, as the consequence engine makes them */
	json_t *a = json_pack("[f,f,f,f,I]", 75.0, 62.5, 0.1 + 0.2, 1.0 / 3.0, (json_int_t)-1);
	same(a);
	json_decref(a);
	/* insertion order after deletes and re-adds */
	json_t *o = json_object();
	json_object_set_new(o, "one", json_integer(1));
	json_object_set_new(o, "two", json_integer(2));
	json_object_set_new(o, "three", json_integer(3));
	json_object_del(o, "two");
	json_object_set_new(o, "two", json_string("again"));
	json_object_set_new(o, "one", json_string("replaced"));
	same(o);
	json_decref(o);
	/* scalars alone are refused, as json_dumps without JSON_ENCODE_ANY */
	size_t n;
	json_t *s = json_string("x");
	ck_assert_ptr_null(zs_json_dump(s, NULL, &n));
	json_decref(s);
}
END_TEST

START_TEST(test_frozen_values_are_spliced)
{
	zs_frozen *f = zs_frozen_new(4);
	json_t *shared = json_pack("{s:s, s:i}", "code", "as_contracted", "pct", 100);
	json_t *doc = json_pack("[O,O,{s:O}]", shared, shared, "c", shared);
	ck_assert_int_eq(zs_frozen_add(f, shared), 0);
	size_t n;
	char *t = zs_json_dump(doc, f, &n);
	char *ref = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
	ck_assert_str_eq(t, ref);
	free(t);
	free(ref);
	/* the frozen text is what was there when it was frozen: proves the splice is used */
	json_object_set_new(shared, "pct", json_integer(75));
	t = zs_json_dump(doc, f, &n);
	ck_assert_ptr_nonnull(strstr(t, "\"pct\":100"));
	ck_assert_ptr_null(strstr(t, "\"pct\":75"));
	free(t);
	/* cleared: written out in full again */
	zs_frozen_clear(f);
	t = zs_json_dump(doc, f, &n);
	ck_assert_ptr_nonnull(strstr(t, "\"pct\":75"));
	free(t);
	/* bounded */
	json_t *many[6];
	int added = 0;
	for (int i = 0; i < 6; i++) {
		many[i] = json_pack("[i]", i);
		added += zs_frozen_add(f, many[i]) == 0;
	}
	ck_assert_int_eq(added, 4);
	for (int i = 0; i < 6; i++)
		json_decref(many[i]);
	zs_frozen_free(f);
	json_decref(doc);
	json_decref(shared);
}
END_TEST

/* zs_frozen_clear lets go of every value, found by the slots it filled or, after a removal
 * moved some, by a look at every slot: each value is back to its owner's one reference and
 * written out in full again, and the table takes as many again. */
START_TEST(test_clear_lets_go_of_every_value)
{
	enum { N = 64 };
	zs_frozen *f = zs_frozen_new(N);
	json_t *v[N];
	for (int i = 0; i < N; i++)
		v[i] = json_pack("{s:i}", "n", i);
	for (int round = 0; round < 3; round++) {
		/* round 0: a few values; 1: the table full; 2: full, then every fourth removed */
		int k = round == 0 ? 3 : N;
		for (int i = 0; i < k; i++)
			ck_assert_int_eq(zs_frozen_add(f, v[i]), 0);
		if (round == 2)
			for (int i = 0; i < N; i += 4)
				ck_assert_int_eq(zs_frozen_remove(f, v[i]), 0);
		zs_frozen_clear(f);
		ck_assert_uint_eq(zs_frozen_count(f), 0);
		for (int i = 0; i < N; i++) {
			ck_assert_int_eq(v[i]->refcount, 1);
			json_object_set_new(v[i], "n", json_integer(i + 1000)); /* not spliced */
			size_t n;
			char *t = zs_json_dump(v[i], f, &n), want[32];
			snprintf(want, sizeof want, "{\"n\":%d}", i + 1000);
			ck_assert_str_eq(t, want);
			free(t);
			json_object_set_new(v[i], "n", json_integer(i));
		}
	}
	zs_frozen_free(f);
	for (int i = 0; i < N; i++)
		json_decref(v[i]);
}
END_TEST

/* zs_frozen_remove: the values removed are written out in full again, every other one is
 * still found and spliced, also where it sat after a removed one in a run of the table (a
 * table of 1,024 slots holding 512 values has runs). The frozen texts say n = i, the values
 * are changed to n = i + 1000 after freezing: a spliced value shows i. */
START_TEST(test_removed_values_leave_the_others_found)
{
	enum { N = 512 };
	zs_frozen *f = zs_frozen_new(N);
	json_t *v[N];
	for (int i = 0; i < N; i++) {
		v[i] = json_pack("{s:i}", "n", i);
		ck_assert_int_eq(zs_frozen_add(f, v[i]), 0);
		json_object_set_new(v[i], "n", json_integer(i + 1000));
	}
	for (int i = 0; i < N; i += 3)
		ck_assert_int_eq(zs_frozen_remove(f, v[i]), 0);
	ck_assert_int_eq(zs_frozen_remove(f, v[0]), -1); /* not frozen any more */
	ck_assert_uint_eq(zs_frozen_count(f), N - (N + 2) / 3);
	for (int i = 0; i < N; i++) {
		size_t n;
		char *t = zs_json_dump(v[i], f, &n), want[32];
		snprintf(want, sizeof want, "{\"n\":%d}", i % 3 == 0 ? i + 1000 : i);
		ck_assert_str_eq(t, want);
		free(t);
	}
	/* room again for as many as were removed */
	json_t *more[(N + 2) / 3];
	for (int i = 0; i < (N + 2) / 3; i++) {
		more[i] = json_pack("[i]", i);
		ck_assert_int_eq(zs_frozen_add(f, more[i]), 0);
	}
	zs_frozen_free(f);
	for (int i = 0; i < N; i++)
		json_decref(v[i]);
	for (int i = 0; i < (N + 2) / 3; i++)
		json_decref(more[i]);
}
END_TEST

/* The direct writer: pieces give jansson's bytes; a fixed buffer reports a write beyond its
 * end instead of growing; texts frozen by reference are spliced and not freed by the table. */
START_TEST(test_direct_writer_pieces)
{
	json_t *ex = json_pack("[s, s]", "acute", "a\"b\\c/é\n");
	zs_jbuf b = { .first_cap = 16 };
	size_t len;
	zs_jb_lit(&b, "{\"k\":");
	zs_jb_str(&b, "t\tx\x01");
	zs_jb_lit(&b, ",\"b\":");
	zs_jb_bool(&b, 1);
	zs_jb_char(&b, ',');
	zs_jb_lit(&b, "\"e\":");
	zs_jb_value(&b, ex, NULL);
	zs_jb_char(&b, '}');
	char *text = zs_jb_take(&b, &len);
	ck_assert_str_eq(text, "{\"k\":\"t\\tx\\u0001\",\"b\":true,\"e\":[\"acute\",\"a\\\"b\\\\c/é\\n\"]}");
	ck_assert_uint_eq(len, strlen(text));
	free(text);

	char room[8];
	zs_jbuf fixed = { .p = room, .cap = sizeof room, .fixed = 1 };
	zs_jb_lit(&fixed, "[1,2]");
	ck_assert(!fixed.oom);
	zs_jb_lit(&fixed, ",3,4]");
	ck_assert(fixed.oom);
	ck_assert_ptr_eq(fixed.p, room); /* never reallocated */

	/* by reference: spliced into the answer, left to its owner by the table */
	static const char keep[] = "[\"spliced\"]";
	zs_frozen *f = zs_frozen_new(4);
	json_t *ph = json_array();
	json_t *body = json_pack("{s:O}", "list", ph);
	ck_assert_int_eq(zs_frozen_add_ref(f, ph, keep, strlen(keep)), 0);
	ck_assert_int_eq(zs_frozen_add_ref(f, ph, keep, strlen(keep)), -1); /* once */
	ck_assert_uint_eq(zs_frozen_count(f), 1);
	char *out = zs_json_dump2(body, NULL, f, &len);
	ck_assert_str_eq(out, "{\"list\":[\"spliced\"]}");
	free(out);
	zs_frozen_clear(f);
	ck_assert_uint_eq(zs_frozen_count(f), 0);
	out = zs_json_dump2(body, NULL, f, &len);
	ck_assert_str_eq(out, "{\"list\":[]}");
	free(out);
	zs_frozen_free(f);
	json_decref(ph);
	json_decref(body);
	json_decref(ex);
}
END_TEST

/* Strings with characters to escape at every position of the 8-byte words the writer skips
 * at once (quote, backslash, control characters, NUL; multi-byte UTF-8 beside them), every
 * length from 0 to 40: the same bytes as jansson. */
/* A text without a size hint started with 64 KiB of room and kept it: at glibc's mmap threshold
 * (set to 64 KiB at start) every frozen consequence of a snapshot was a mapping of its own, and
 * dropping a snapshot's 30,000 of them unmapped each with a TLB shootdown: every serving thread
 * stalled 300-500 ms at each new snapshot under churn. A small text is now a small block. */
START_TEST(test_small_text_is_a_small_block)
{
	json_t *v = json_pack("{s:s, s:i, s:[s,s]}", "code", "contracted", "percent", 100,
	                      "why", "a", "b");
	size_t len;
	char *t = zs_json_dump(v, NULL, &len);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, strlen(t));
	ck_assert_uint_lt(malloc_usable_size(t), 4096);
	free(t);
	/* a frozen table of many: each text its own size, not 64 KiB */
	zs_frozen *f = zs_frozen_new(64);
	json_t *vals[32];
	for (int i = 0; i < 32; i++) {
		vals[i] = json_pack("{s:i}", "n", i);
		ck_assert_int_eq(zs_frozen_add(f, vals[i]), 0);
	}
	json_t *arr = json_array();
	json_array_append(arr, vals[7]);
	char *d = zs_json_dump(arr, f, &len);
	ck_assert_str_eq(d, "[{\"n\":7}]");
	ck_assert_uint_lt(malloc_usable_size(d), 4096);
	free(d);
	json_decref(arr);
	for (int i = 0; i < 32; i++)
		json_decref(vals[i]);
	zs_frozen_free(f);
	json_decref(v);
}
END_TEST

START_TEST(test_escapes_at_every_position)
{
	static const char *pieces[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\"", "\\", "\n", "\x01",
	                                "\x1f", "\x7f", "/", " ", "\x00", "~", "\xf0\x9f\x98\x80" };
	static const size_t plen[] = { 1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4 };
	const size_t np = sizeof plen / sizeof plen[0];
	unsigned seed = 12345;
	for (int round = 0; round < 3000; round++) {
		char buf[200];
		size_t n = 0, want = (size_t)(round % 41);
		while (n < want) {
			seed = seed * 1103515245u + 12345u;
			/* mostly plain letters, so that clean words and dirty ones alternate */
			size_t k = (seed >> 16) % 4 ? 0 : (seed >> 20) % np;
			memcpy(buf + n, pieces[k], plen[k]);
			n += plen[k];
		}
		json_t *v = json_pack("[s%]", buf, n);
		ck_assert_ptr_nonnull(v);
		same(v);
		json_decref(v);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("writer");
	tcase_add_test(tc, test_same_as_jansson);
	tcase_add_test(tc, test_frozen_values_are_spliced);
	tcase_add_test(tc, test_removed_values_leave_the_others_found);
	tcase_add_test(tc, test_clear_lets_go_of_every_value);
	tcase_add_test(tc, test_direct_writer_pieces);
	tcase_add_test(tc, test_escapes_at_every_position);
	tcase_add_test(tc, test_small_text_is_a_small_block);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
