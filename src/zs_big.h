/* zs_big.h - buffers for large answer texts, kept for reuse.
 *
 * A national lookup is 100-350 KB of JSON, made for one answer and kept in the response cache
 * until evicted. With glibc's fixed mmap threshold (zorgstatusd.c) every such block was a
 * fresh mapping: its pages faulted in and zeroed while being written, and unmapped on free with
 * a TLB shootdown on every core (a quarter of a cold lookup's CPU, measured with perf). Here
 * blocks of 64 KiB and more come from mappings kept in a bounded pool of free blocks, by size
 * class (about 9% apart), so a new answer reuses the warm pages of an evicted one. Smaller
 * blocks are plain malloc. The pool never holds more than ZS_BIG_POOL_BYTES of free blocks.
 *
 * Ownership: a block from zs_big_alloc/zs_big_realloc is freed with zs_big_free only (never
 * free()); zs_big_free(NULL) does nothing. Thread-safe. Under AddressSanitizer every block is
 * plain malloc, so its bounds are checked. */
#ifndef ZS_BIG_H
#define ZS_BIG_H
#include <stddef.h>

#define ZS_BIG_POOL_BYTES (48u * 1024 * 1024)

void *zs_big_alloc(size_t n);
/* Grow (or keep) p to at least n bytes, keeping its content; NULL on out-of-memory (p is then
 * still valid and owned by the caller). p may be NULL. */
void *zs_big_realloc(void *p, size_t n);
void zs_big_free(void *p);
/* p (n bytes used) moved into a block that fits n when its own is much larger (a text grown by
 * doubling, or a small text in a 64 KiB first block); returns the block to use from now on
 * (p itself when it fits or nothing else can be had). */
void *zs_big_fit(void *p, size_t n);
/* The usable size of p (at least what was asked). */
size_t zs_big_size(const void *p);

typedef struct {
	unsigned long long reused, mapped, unmapped; /* blocks taken from the pool, new mappings, returned */
	size_t pooled_bytes;                         /* free bytes held now */
} zs_big_stats;
void zs_big_get_stats(zs_big_stats *s);
/* 1 when blocks are pooled, 0 in an AddressSanitizer build (every block plain malloc). */
int zs_big_pooling(void);
/* Return every pooled block to the system (shutdown; tests). */
void zs_big_drain(void);

#endif
