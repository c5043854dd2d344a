/* zs_big.c - a bounded pool of large blocks for answer texts (zs_big.h). */
#include "zs_big.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define BIG_MALLOC_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIG_MALLOC_ONLY 1
#endif
#endif

enum { KIND_HEAP = 1, KIND_MAP = 2 };
#define MIN_MAP ((size_t)64 * 1024)
#define NCLASS 96 /* 64 KiB x 2^(c/8): the last pooled class is 256 MiB */

/* 32 bytes before every block: keeps the 16-byte alignment of malloc and of a mapping */
typedef struct hdr {
	size_t cap;        /* usable bytes after the header */
	size_t total;      /* bytes mapped (header included); 0 for heap blocks */
	uint32_t kind, cls;
	struct hdr *next;  /* in a free list */
} hdr;
#define HDR sizeof(hdr)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static size_t class_total[NCLASS];
static hdr *free_list[NCLASS];
static size_t pooled;
static unsigned long long n_reused, n_mapped, n_unmapped;

static void init_classes(void)
{
	/* 2^(k/8), k = 0..7, in millionths */
	static const uint32_t f[8] = { 1000000, 1090508, 1189207, 1296840,
	                               1414214, 1542211, 1681793, 1834008 };
	for (int c = 0; c < NCLASS; c++) {
		size_t t = (size_t)((((unsigned long long)MIN_MAP << (c / 8)) * f[c % 8]) / 1000000u);
		class_total[c] = (t + 4095) & ~(size_t)4095;
	}
}

/* the smallest class holding total bytes, or NCLASS when none does */
static int class_of(size_t total)
{
	int lo = 0, hi = NCLASS;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (class_total[mid] >= total)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void unmap(hdr *h)
{
	munmap(h, h->total);
}

void *zs_big_alloc(size_t n)
{
	if (n > SIZE_MAX - HDR - 4096)
		return NULL;
	size_t need = n + HDR;
	hdr *h = NULL;
#ifndef BIG_MALLOC_ONLY
	if (need >= MIN_MAP) {
		pthread_once(&once, init_classes);
		int c = class_of(need);
		if (c < NCLASS) {
			pthread_mutex_lock(&mu);
			/* the class itself, else the next one (at most ~19% more than asked) */
			for (int k = c; k < c + 2 && k < NCLASS && !h; k++) {
				if (free_list[k]) {
					h = free_list[k];
					free_list[k] = h->next;
					pooled -= h->total;
					n_reused++;
				}
			}
			pthread_mutex_unlock(&mu);
		}
		if (!h) {
			size_t total = c < NCLASS ? class_total[c] : (need + 4095) & ~(size_t)4095;
			void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			               -1, 0);
			if (m == MAP_FAILED)
				return NULL;
			h = m;
			h->total = total;
			h->cap = total - HDR;
			h->kind = KIND_MAP;
			h->cls = (uint32_t)c;
			__atomic_add_fetch(&n_mapped, 1, __ATOMIC_RELAXED);
		}
		h->next = NULL;
		return (char *)h + HDR;
	}
#endif
	h = malloc(need);
	if (!h)
		return NULL;
	h->cap = n;
	h->total = 0;
	h->kind = KIND_HEAP;
	h->cls = NCLASS;
	h->next = NULL;
	return (char *)h + HDR;
}

void zs_big_free(void *p)
{
	if (!p)
		return;
	hdr *h = (hdr *)(void *)((char *)p - HDR);
	if (h->kind == KIND_HEAP) {
		free(h);
		return;
	}
	if (h->cls < NCLASS) {
		pthread_mutex_lock(&mu);
		if (pooled + h->total <= ZS_BIG_POOL_BYTES) {
			h->next = free_list[h->cls];
			free_list[h->cls] = h;
			pooled += h->total;
			pthread_mutex_unlock(&mu);
			return;
		}
		n_unmapped++;
		pthread_mutex_unlock(&mu);
	} else {
		__atomic_add_fetch(&n_unmapped, 1, __ATOMIC_RELAXED);
	}
	unmap(h);
}

size_t zs_big_size(const void *p)
{
	return p ? ((const hdr *)(const void *)((const char *)p - HDR))->cap : 0;
}

/* p's first keep bytes in a new block of n bytes, p freed; NULL (p kept) on out-of-memory */
static void *moved(void *p, size_t n, size_t keep)
{
	void *q = zs_big_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, keep);
	zs_big_free(p);
	return q;
}

void *zs_big_realloc(void *p, size_t n)
{
	if (!p)
		return zs_big_alloc(n);
	size_t cap = zs_big_size(p);
	return n <= cap ? p : moved(p, n, cap);
}

void *zs_big_fit(void *p, size_t n)
{
	if (!p)
		return NULL;
	hdr *h = (hdr *)(void *)((char *)p - HDR);
	if (h->kind != KIND_MAP)
		return p;
	pthread_once(&once, init_classes);
	size_t need = n + HDR;
	/* already within two classes (<= ~19% spare) of what it holds */
	if (need >= MIN_MAP && class_of(need) + 2 >= (int)h->cls)
		return p;
	void *q = moved(p, n, n);
	return q ? q : p;
}

void zs_big_get_stats(zs_big_stats *s)
{
	pthread_mutex_lock(&mu);
	s->reused = n_reused;
	s->mapped = __atomic_load_n(&n_mapped, __ATOMIC_RELAXED);
	s->unmapped = __atomic_load_n(&n_unmapped, __ATOMIC_RELAXED);
	s->pooled_bytes = pooled;
	pthread_mutex_unlock(&mu);
}

int zs_big_pooling(void)
{
#ifdef BIG_MALLOC_ONLY
	return 0;
#else
	return 1;
#endif
}

void zs_big_drain(void)
{
	pthread_mutex_lock(&mu);
	for (int c = 0; c < NCLASS; c++) {
		while (free_list[c]) {
			hdr *h = free_list[c];
			free_list[c] = h->next;
			pooled -= h->total;
			n_unmapped++;
			unmap(h);
		}
	}
	pthread_mutex_unlock(&mu);
}
