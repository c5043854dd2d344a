/* zs_memo.c - memo keys and a bounded memo of texts (zs_memo.h). */
#include "config.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "zs_memo.h"

void zs_mkey_init(zs_mkey *k, unsigned char *buf, size_t size)
{
	k->p = buf;
	k->end = buf + size;
	k->over = 0;
}

/* Not inlined: in zs_mkey_str, where n is known to be at most 255, gcc copied inline with
 * `rep movsq`, whose start-up made zs_mkey_str 6% of a cold lookup; the library's memcpy is
 * several times faster for these short keys. */
__attribute__((noinline)) void zs_mkey_put(zs_mkey *k, const void *s, size_t n)
{
	if (k->over || (size_t)(k->end - k->p) < n) {
		k->over = 1;
		return;
	}
	memcpy(k->p, s, n);
	k->p += n;
}

void zs_mkey_str(zs_mkey *k, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	unsigned char len[2] = { s ? 1 : 0, (unsigned char)n }; /* NULL and "" differ */
	if (n > 255) {
		k->over = 1;
		return;
	}
	zs_mkey_put(k, len, 2);
	zs_mkey_put(k, s ? s : "", n);
}

void zs_mkey_int(zs_mkey *k, long long v)
{
	zs_mkey_put(k, &v, sizeof v);
}

uint64_t zs_mkey_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* One entry: its key and then its text in one allocation. */
typedef struct {
	unsigned char *mem; /* key (klen bytes) then text (len bytes); NULL when empty */
	size_t klen, len;
	uint64_t hash;
	uint64_t serial;    /* this entry's, never reused (zs_tmemo_ref) */
} tm_slot;

struct zs_tmemo {
	tm_slot *slots;     /* 2 per set, the most recently used first */
	size_t sets, max_text;
	zs_tmemo_stats st;
	void (*drop)(void *ctx, const char *text, size_t len);
	void *ctx;
	uint64_t serials;   /* the last serial given */
	zs_tmemo_ref last;  /* the entry found or kept last */
};

zs_tmemo *zs_tmemo_new_with(size_t sets, size_t max_text,
                            void (*drop)(void *ctx, const char *text, size_t len), void *ctx)
{
	zs_tmemo *m = calloc(1, sizeof *m);
	if (!m || !sets || !(m->slots = calloc(2 * sets, sizeof *m->slots))) {
		free(m);
		return NULL;
	}
	/* serials unique across memos too: a reference kept from a memo freed since never finds
	 * an entry of the memo made after it */
	static _Atomic uint64_t serial_base;
	m->serials = atomic_fetch_add(&serial_base, (uint64_t)1 << 40);
	m->sets = sets;
	m->max_text = max_text;
	m->drop = drop;
	m->ctx = ctx;
	return m;
}

zs_tmemo *zs_tmemo_new(size_t sets, size_t max_text)
{
	return zs_tmemo_new_with(sets, max_text, NULL, NULL);
}

/* An entry leaves the memo. */
static void slot_drop(zs_tmemo *m, tm_slot *s)
{
	if (!s->mem)
		return;
	if (m->drop)
		m->drop(m->ctx, (const char *)s->mem + s->klen, s->len);
	m->st.entries--;
	m->st.bytes -= s->klen + s->len;
	free(s->mem);
	*s = (tm_slot){ 0 };
}

void zs_tmemo_clear(zs_tmemo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < 2 * m->sets; i++)
		slot_drop(m, &m->slots[i]);
}

void zs_tmemo_free(zs_tmemo *m)
{
	if (!m)
		return;
	zs_tmemo_clear(m);
	free(m->slots);
	free(m);
}

const char *zs_tmemo_get(zs_tmemo *m, const unsigned char *key, size_t klen, size_t *len)
{
	uint64_t h = zs_mkey_hash(key, klen);
	tm_slot *set = &m->slots[2 * (h % m->sets)];
	for (int w = 0; w < 2; w++) {
		tm_slot *s = &set[w];
		if (s->mem && s->hash == h && s->klen == klen && memcmp(s->mem, key, klen) == 0) {
			if (w == 1) { /* the most recently used first */
				tm_slot t = set[0];
				set[0] = set[1];
				set[1] = t;
			}
			m->st.hits++;
			m->last = (zs_tmemo_ref){ h % m->sets, set[0].serial };
			*len = set[0].len;
			return (const char *)set[0].mem + set[0].klen;
		}
	}
	m->st.misses++;
	return NULL;
}

int zs_tmemo_put(zs_tmemo *m, const unsigned char *key, size_t klen, const char *text,
                 size_t len)
{
	if (len > m->max_text)
		return -1;
	unsigned char *mem = malloc(klen + len ? klen + len : 1);
	if (!mem)
		return -1;
	memcpy(mem, key, klen);
	memcpy(mem + klen, text, len);
	uint64_t h = zs_mkey_hash(key, klen);
	tm_slot *set = &m->slots[2 * (h % m->sets)];
	slot_drop(m, &set[1]); /* the least recently used goes */
	set[1] = set[0];
	set[0] = (tm_slot){ mem, klen, len, h, ++m->serials };
	m->last = (zs_tmemo_ref){ h % m->sets, set[0].serial };
	m->st.entries++;
	m->st.bytes += klen + len;
	return 0;
}

void zs_tmemo_get_stats(const zs_tmemo *m, zs_tmemo_stats *s)
{
	if (m)
		*s = m->st;
	else
		*s = (zs_tmemo_stats){ 0 };
}

zs_tmemo_ref zs_tmemo_last(const zs_tmemo *m)
{
	return m->last;
}

const char *zs_tmemo_at(zs_tmemo *m, zs_tmemo_ref ref, size_t *len)
{
	if (!ref.serial || ref.set >= m->sets)
		return NULL;
	tm_slot *set = &m->slots[2 * ref.set];
	for (int w = 0; w < 2; w++)
		if (set[w].mem && set[w].serial == ref.serial) {
			if (w == 1) { /* the most recently used first, as zs_tmemo_get */
				tm_slot t = set[0];
				set[0] = set[1];
				set[1] = t;
			}
			m->st.hits++;
			*len = set[0].len;
			return (const char *)set[0].mem + set[0].klen;
		}
	return NULL;
}
