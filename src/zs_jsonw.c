/* zs_jsonw.c - fast JSON writer with frozen values (see zs_jsonw.h). */
#include "config.h"
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_big.h"
#include "zs_jsonw.h"

typedef struct {
	json_t *v;
	char *text;
	size_t len;
	int owned;                /* text freed with the slot */
} slot;

struct zs_frozen {
	slot *slots;
	size_t cap, n, max;
	size_t bytes;             /* of all texts */
	/* the slots filled since the last clear, while no removal has moved any (moved: clear
	 * looks at every slot): a per-answer table of 2,048 slots holds one or two values, and
	 * clearing it twice per answer by a scan of 64 KiB was 1.4% of a cold lookup */
	size_t *filled, nfilled;
	int moved;
};

static size_t ptr_hash(const void *p, size_t cap)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)(x & (cap - 1));
}

zs_frozen *zs_frozen_new(size_t max_entries)
{
	zs_frozen *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->cap = 64;
	while (f->cap < max_entries * 2)
		f->cap *= 2;
	f->slots = calloc(f->cap, sizeof *f->slots);
	f->filled = malloc(max_entries ? max_entries * sizeof *f->filled : 1);
	if (!f->slots || !f->filled) {
		free(f->slots);
		free(f->filled);
		free(f);
		return NULL;
	}
	f->max = max_entries;
	return f;
}

size_t zs_frozen_count(const zs_frozen *f)
{
	return f ? f->n : 0;
}

static void slot_clear(zs_frozen *f, size_t i)
{
	if (!f->slots[i].v)
		return;
	json_decref(f->slots[i].v);
	if (f->slots[i].owned)
		free(f->slots[i].text);
	f->slots[i].v = NULL;
	f->n--;
}

void zs_frozen_clear(zs_frozen *f)
{
	if (!f)
		return;
	if (!f->moved)
		for (size_t k = 0; k < f->nfilled; k++)
			slot_clear(f, f->filled[k]);
	for (size_t i = 0; i < f->cap && f->n; i++)
		slot_clear(f, i);
	f->n = 0;
	f->bytes = 0;
	f->nfilled = 0;
	f->moved = 0;
}

void zs_frozen_free(zs_frozen *f)
{
	if (!f)
		return;
	zs_frozen_clear(f);
	free(f->slots);
	free(f->filled);
	free(f);
}

static const slot *find(const zs_frozen *f, const json_t *v)
{
	/* a frozen value has the table's reference besides its owner's: a value with a single
	 * reference cannot be frozen, and most are like that (no probe needed) */
	if (!f || !f->n || v->refcount < 2)
		return NULL;
	for (size_t i = ptr_hash(v, f->cap);; i = (i + 1) & (f->cap - 1)) {
		if (f->slots[i].v == v)
			return &f->slots[i];
		if (!f->slots[i].v)
			return NULL;
	}
}

static void slot_add(zs_frozen *f, json_t *v, char *text, size_t len, int owned);

int zs_frozen_add(zs_frozen *f, json_t *v)
{
	if (!f || !v || f->n >= f->max || (!json_is_object(v) && !json_is_array(v)))
		return -1;
	if (find(f, v))
		return 0;
	size_t len;
	char *text = zs_json_dump(v, NULL, &len);
	if (!text)
		return -1;
	slot_add(f, v, text, len, 1);
	return 0;
}

/* Whether home slot k lies cyclically in (i, j]: then the value at j must stay after i. */
static int probe_between(size_t k, size_t i, size_t j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

int zs_frozen_remove(zs_frozen *f, json_t *v)
{
	if (!f || !v || !f->n)
		return -1;
	size_t mask = f->cap - 1, i = ptr_hash(v, f->cap);
	while (f->slots[i].v != v) {
		if (!f->slots[i].v)
			return -1;
		i = (i + 1) & mask;
	}
	json_decref(f->slots[i].v);
	if (f->slots[i].owned)
		free(f->slots[i].text);
	f->bytes -= f->slots[i].len;
	f->n--;
	f->moved = 1;
	/* linear probing: the values after it in its run move back, so no search stops early */
	for (size_t j = (i + 1) & mask; f->slots[j].v; j = (j + 1) & mask) {
		if (probe_between(ptr_hash(f->slots[j].v, f->cap), i, j))
			continue;
		f->slots[i] = f->slots[j];
		i = j;
	}
	memset(&f->slots[i], 0, sizeof f->slots[i]);
	return 0;
}

/* A new slot for v (not yet in f, room checked by the caller). */
static void slot_add(zs_frozen *f, json_t *v, char *text, size_t len, int owned)
{
	size_t i = ptr_hash(v, f->cap);
	while (f->slots[i].v)
		i = (i + 1) & (f->cap - 1);
	f->slots[i].v = json_incref(v);
	if (f->nfilled < f->max)
		f->filled[f->nfilled++] = i;
	else
		f->moved = 1;
	f->slots[i].text = text;
	f->slots[i].len = len;
	f->slots[i].owned = owned;
	f->bytes += len;
	f->n++;
}

static int can_add(const zs_frozen *f, const json_t *v)
{
	return f && v && f->n < f->max && (json_is_object(v) || json_is_array(v)) && !find(f, v);
}

int zs_frozen_add_text(zs_frozen *f, json_t *v, char *text, size_t len)
{
	if (!text || !can_add(f, v)) {
		free(text);
		return -1;
	}
	slot_add(f, v, text, len, 1);
	return 0;
}

int zs_frozen_add_ref(zs_frozen *f, json_t *v, const char *text, size_t len)
{
	if (!text || !can_add(f, v))
		return -1;
	slot_add(f, v, (char *)(uintptr_t)text, len, 0);
	return 0;
}

/* ---- the writer ------------------------------------------------------------------------------ */

typedef zs_jbuf wbuf;

static int grow(wbuf *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->fixed) {
		b->oom = 1;
		return -1;
	}
	/* a text without a size hint starts small: 64 KiB here was glibc's mmap threshold, so
	 * every frozen consequence (about 1 KB) was a mapping of its own, made with a page fault
	 * and unmapped with a TLB shootdown when its snapshot went (300-500 ms per serving thread
	 * at every new snapshot under churn) */
	size_t cap = b->cap ? b->cap : b->first_cap ? b->first_cap : 1024;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *np = b->big ? zs_big_realloc(b->p, cap) : realloc(b->p, cap);
	if (!np) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

/* room for more bytes and a NUL: 0, or -1 (out of memory or a full fixed buffer: sticks) */
static inline int reserve(wbuf *b, size_t more)
{
	if (__builtin_expect(b->len + more + 1 <= b->cap && !b->oom, 1))
		return 0;
	return grow(b, more);
}

static void put(wbuf *b, const char *s, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void putc1(wbuf *b, char c)
{
	if (reserve(b, 1))
		return;
	b->p[b->len++] = c;
}

/* 1 when one of the 8 bytes of x is below 0x20, '"' or '\\' (exact for "any"; which byte is
 * found again byte by byte) */
static inline int escape_in8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t lt = (x - ones * 0x20) & ~x;
	uint64_t q = x ^ (ones * 0x22), bs = x ^ (ones * 0x5c);
	q = (q - ones) & ~q;
	bs = (bs - ones) & ~bs;
	return ((lt | q | bs) & highs) != 0;
}

/* As jansson's dump_string without flags: ", \ and control characters escaped; '/' and
 * everything from 0x7f up (valid UTF-8, checked by jansson on the way in) verbatim. Runs of
 * 8 bytes that need nothing are skipped a word at a time. */
static void put_string(wbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF"; /* as jansson: \\u001F */
	if (reserve(b, n + 2))
		return;
	b->p[b->len++] = '"';
	size_t run = 0;
	for (size_t i = 0; i < n;) {
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!escape_in8(w)) {
				i += 8;
				continue;
			}
		}
		unsigned char c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, s + run, i - 1 - run);
		run = i;
		switch (c) {
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		case '\b': put(b, "\\b", 2); break;
		case '\f': put(b, "\\f", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(b, u, 6);
		}
		}
	}
	put(b, s + run, n - run);
	putc1(b, '"');
}

/* As jansson's jsonp_dtostr with precision 15: "%.15g", and ".0" when it looks integral. */
static void put_real(wbuf *b, double d)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%.15g", d);
	if (n < 0 || (size_t)n >= sizeof buf - 3) {
		b->oom = 1;
		return;
	}
	if (!strchr(buf, '.') && !strchr(buf, 'e')) { /* keep it a real when read back */
		buf[n++] = '.';
		buf[n++] = '0';
		buf[n] = 0;
	}
	char *e = strchr(buf, 'e');
	if (e) { /* "1e+20" -> "1e20", "1e-05" -> "1e-5", as jansson writes them */
		char *w = e + 1, *q = e + 1;
		if (*q == '+')
			q++;
		else if (*q == '-')
			*w++ = *q++;
		while (*q == '0' && q[1])
			q++;
		memmove(w, q, strlen(q) + 1);
		n = (int)strlen(buf);
	}
	put(b, buf, (size_t)n);
}

static void put_int(wbuf *b, json_int_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, v);
	put(b, buf, (size_t)n);
}

static const slot *find2(const zs_frozen *f, const zs_frozen *g, const json_t *v)
{
	const slot *s = find(f, v);
	return s ? s : find(g, v);
}

static void dump(wbuf *b, const json_t *v, const zs_frozen *f, const zs_frozen *g, int depth)
{
	if (depth > 2048) { /* jansson's own limit is lower; never reached by our answers */
		b->oom = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const slot *s = find2(f, g, v);
		if (s) {
			put(b, s->text, s->len);
			return;
		}
		const char *k;
		json_t *x;
		int first = 1;
		putc1(b, '{');
		json_object_foreach((json_t *)v, k, x) {
			if (!first)
				putc1(b, ',');
			first = 0;
			put_string(b, k, strlen(k));
			putc1(b, ':');
			dump(b, x, f, g, depth + 1);
		}
		putc1(b, '}');
		return;
	}
	case JSON_ARRAY: {
		const slot *s = find2(f, g, v);
		if (s) {
			put(b, s->text, s->len);
			return;
		}
		size_t n = json_array_size(v);
		putc1(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				putc1(b, ',');
			dump(b, json_array_get(v, i), f, g, depth + 1);
		}
		putc1(b, ']');
		return;
	}
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		put_int(b, json_integer_value(v));
		return;
	case JSON_REAL:
		put_real(b, json_real_value(v));
		return;
	case JSON_TRUE:
		put(b, "true", 4);
		return;
	case JSON_FALSE:
		put(b, "false", 5);
		return;
	case JSON_NULL:
		put(b, "null", 4);
		return;
	}
}

char *zs_json_dump(const json_t *v, const zs_frozen *f, size_t *len)
{
	return zs_json_dump2(v, f, NULL, len);
}

static char *dump_top(const json_t *v, const zs_frozen *f, const zs_frozen *g, size_t *len,
                      int big)
{
	/* an answer with direct texts (g) is their size plus a frame of a few hundred bytes (a
	 * national lookup: 230-300): one allocation that fits, so zs_big_fit has nothing to move
	 * (with 32 KiB of room it moved nearly every lookup); a zs_big text without them starts
	 * small (on the heap, a big block only once it grows) */
	wbuf b = { .first_cap = g && g->bytes ? g->bytes + 4096 : big ? 16384 : 0, .big = big };
	if (!v || (!json_is_object(v) && !json_is_array(v))) { /* as json_dumps without JSON_ENCODE_ANY */
		*len = 0;
		return NULL;
	}
	dump(&b, v, f, g, 0);
	if (b.oom || reserve(&b, 0)) {
		zs_jb_free(&b);
		*len = 0;
		return NULL;
	}
	b.p[b.len] = 0;
	*len = b.len;
	if (big)
		return zs_big_fit(b.p, b.len + 1);
	if (b.cap - (b.len + 1) > 256) { /* kept per snapshot: no room left over */
		char *fit = realloc(b.p, b.len + 1);
		if (fit)
			b.p = fit;
	}
	return b.p;
}

char *zs_json_dump2(const json_t *v, const zs_frozen *f, const zs_frozen *g, size_t *len)
{
	return dump_top(v, f, g, len, 0);
}

char *zs_json_dump_big(const json_t *v, const zs_frozen *f, const zs_frozen *g, size_t *len)
{
	return dump_top(v, f, g, len, 1);
}

/* ---- the direct writer (zs_jsonw.h) ---------------------------------------------------------- */

void zs_jb_raw(zs_jbuf *b, const char *s, size_t n)
{
	put(b, s, n);
}

void zs_jb_char(zs_jbuf *b, char c)
{
	putc1(b, c);
}

void zs_jb_str(zs_jbuf *b, const char *s)
{
	put_string(b, s, strlen(s));
}

void zs_jb_bool(zs_jbuf *b, int v)
{
	if (v)
		put(b, "true", 4);
	else
		put(b, "false", 5);
}

void zs_jb_value(zs_jbuf *b, const json_t *v, const zs_frozen *f)
{
	dump(b, v, f, NULL, 0);
}

char *zs_jb_take(zs_jbuf *b, size_t *len)
{
	if (b->oom || reserve(b, 0)) {
		zs_jb_free(b);
		*len = 0;
		return NULL;
	}
	b->p[b->len] = 0;
	*len = b->len;
	char *p = b->p;
	memset(b, 0, sizeof *b);
	return p;
}

void zs_jb_free(zs_jbuf *b)
{
	if (b->big)
		zs_big_free(b->p);
	else
		free(b->p);
	memset(b, 0, sizeof *b);
}
