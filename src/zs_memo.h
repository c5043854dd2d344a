/* zs_memo.h - memo keys and a bounded memo of texts.
 *
 * A memo key is every input of a computation in a fixed order, as bytes: integers as 8 bytes,
 * strings with their length first (NULL and "" differ). Equal keys mean equal inputs, so a key
 * that does not fit its buffer is never cut short: zs_mkey sets over, and the caller computes
 * without the memo.
 *
 * zs_tmemo keeps texts by key: 2-way set-associative, the least recently used of a set goes
 * first, so its memory is bounded (sets * 2 entries of at most max_text bytes each). It copies
 * what it is given and owns the copies; a text zs_tmemo_get returns stays valid until the next
 * zs_tmemo_put or zs_tmemo_clear on the same memo. Not thread-safe: one memo per reader. */
#ifndef ZS_MEMO_H
#define ZS_MEMO_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	unsigned char *p, *end;
	int over;
} zs_mkey;

/* A key written into buf (size bytes). */
void zs_mkey_init(zs_mkey *k, unsigned char *buf, size_t size);
void zs_mkey_put(zs_mkey *k, const void *s, size_t n);
/* A string of at most 255 bytes (a longer one sets over), or NULL. */
void zs_mkey_str(zs_mkey *k, const char *s);
void zs_mkey_int(zs_mkey *k, long long v);
/* 64-bit hash of a key's bytes. */
uint64_t zs_mkey_hash(const unsigned char *p, size_t n);

typedef struct zs_tmemo zs_tmemo;

typedef struct {
	uint64_t hits, misses, entries, bytes;
} zs_tmemo_stats;

/* sets > 0; texts longer than max_text are not kept. NULL when out of memory. */
zs_tmemo *zs_tmemo_new(size_t sets, size_t max_text);
/* The same, calling drop(ctx, text, len) for every text that leaves the memo (pushed out,
 * cleared, freed) just before it is freed: for texts that stand for something to release
 * (e.g. the bytes of a pointer the memo holds a reference through). */
zs_tmemo *zs_tmemo_new_with(size_t sets, size_t max_text,
                            void (*drop)(void *ctx, const char *text, size_t len), void *ctx);
/* NULL frees nothing. */
void zs_tmemo_free(zs_tmemo *m);
/* Forget every text. */
void zs_tmemo_clear(zs_tmemo *m);
/* The text kept under this key (len: its length), or NULL (counted as a miss). */
const char *zs_tmemo_get(zs_tmemo *m, const unsigned char *key, size_t klen, size_t *len);
/* Keep a copy of text under key, in place of the set's least recently used entry: 0. Out of
 * memory or a text over max_text: -1, nothing kept. */
int zs_tmemo_put(zs_tmemo *m, const unsigned char *key, size_t klen, const char *text,
                 size_t len);
void zs_tmemo_get_stats(const zs_tmemo *m, zs_tmemo_stats *s);

/* A reference to one entry, for finding its text again without its key: valid while the entry
 * is in the memo (each entry has a serial of its own, never reused, not by another memo either;
 * a reference to an entry that has left, or to a memo freed since, finds nothing). serial 0: no
 * entry. */
typedef struct {
	size_t set;
	uint64_t serial;
} zs_tmemo_ref;
/* The entry zs_tmemo_get found last (after a hit) or zs_tmemo_put kept last (after 0). */
zs_tmemo_ref zs_tmemo_last(const zs_tmemo *m);
/* The text of ref's entry if it is still in the memo (len: its length; counted as a hit and
 * made the most recently used of its set), else NULL (not counted). */
const char *zs_tmemo_at(zs_tmemo *m, zs_tmemo_ref ref, size_t *len);

#endif
