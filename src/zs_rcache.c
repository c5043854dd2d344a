/* zs_rcache.c - sharded, reference-counted response cache with dependency invalidation
 * (see zs_rcache.h). */
#include "config.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "zs_big.h"
#include "zs_metrics.h"
#include "zs_rcache.h"

#define NSHARDS 16
#define NBUCKETS 2048 /* per shard */
/* Admission once a shard is full (room only by evicting): an answer is kept on its second miss
 * within a short window, so the long tail of answers asked once (a national Zipf mix: most of
 * the 80,000 providers, each asked once in a while) does not push out the ones asked again.
 * The window is a direct-mapped table of the key hashes of refused answers, per shard; an entry
 * dropped by invalidation or expiry is noted there too, so its next answer is kept at once.
 * Sized by simulation on the national Zipf mix (s = 1.1, 256 MiB): 64 slots per shard kept
 * 79% of lookups a hit against 74% for plain LRU (rendered bytes per request -21%); 1,024
 * slots gave 77%, 16 gave 78.8%. */
#define NGHOST 64 /* per shard */

typedef struct entry {
	zs_rentry pub;            /* first member: a zs_rentry * is an entry * */
	_Atomic int refs;
	char *key;
	uint64_t h;
	long long born;
	time_t expires;
	size_t bytes;
	uint64_t *deps;
	size_t ndeps;
	int dep_all;              /* depends on everything: any change evicts it */
	void (*file_release)(void *); /* of pub.file */
	size_t file_bytes;
	size_t body_bytes;        /* what pub.r.body counts in bytes */
	int linked;               /* in its shard (its bytes counted there) */
	int stale;                /* a snapshot changed what it depends on: served only while its
	                           * new answer is being made (zs_rcache_lookup) */
	long long claimed_ms;     /* stale: when a thread set out to make the new answer, or 0 */
	struct entry *hnext;      /* bucket chain */
	struct entry *prev, *next; /* LRU list, head = most recently used */
} entry;

typedef struct {
	pthread_mutex_t mu;
	entry *buckets[NBUCKETS];
	entry *head, *tail;
	size_t bytes, n;
	size_t files, file_bytes; /* of linked entries (in bytes too) */
	uint64_t ghost[NGHOST];   /* hashes of answers refused or dropped lately (0: none) */
} shard;

struct zs_rcache {
	shard shards[NSHARDS];
	size_t shard_budget;
	_Atomic long long gen;     /* every entry is valid at this generation */
	_Atomic long long target;  /* the generation a running sync brings it to */
	pthread_mutex_t sync_mu;
	_Atomic unsigned long long hits, misses, evictions, invalidations, refused, stale_served;
};


static time_t next_midnight(time_t t);

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

zs_rcache *zs_rcache_new(size_t max_bytes)
{
	zs_rcache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	for (int i = 0; i < NSHARDS; i++)
		pthread_mutex_init(&c->shards[i].mu, NULL);
	pthread_mutex_init(&c->sync_mu, NULL);
	c->shard_budget = max_bytes / NSHARDS;
	atomic_store(&c->gen, -1);
	atomic_store(&c->target, -1);
	return c;
}

void zs_rendered_free_body(zs_rendered *r)
{
	if (r->body_big)
		zs_big_free(r->body);
	else
		free(r->body);
	r->body = NULL;
}

void zs_rendered_free(zs_rendered *r)
{
	zs_rendered_free_body(r);
	free(r->gz);
	r->gz = NULL;
	free(r->gzb);
	r->gzb = NULL;
}

static void entry_free(entry *e)
{
	free(e->key);
	if (e->pub.file)
		e->file_release(e->pub.file);
	zs_rendered_free(&e->pub.r);
	free(e->pub.surrogate);
	free(e->deps);
	free(e);
}

void zs_rentry_release(zs_rentry *pe)
{
	entry *e = (entry *)pe;
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		entry_free(e);
}

void zs_rentry_ref(zs_rentry *pe)
{
	atomic_fetch_add(&((entry *)pe)->refs, 1);
}

static uint64_t *ghost_slot(shard *s, uint64_t h)
{
	return &s->ghost[(h >> 24) % NGHOST]; /* bits the shard and bucket choice do not use */
}

/* Take e out of its shard (lock held) and drop the table's reference. */
static void unlink_entry(shard *s, entry *e)
{
	entry **pp = &s->buckets[(e->h >> 4) % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	s->bytes -= e->bytes;
	s->n--;
	if (e->pub.file) {
		s->files--;
		s->file_bytes -= e->file_bytes;
	}
	e->linked = 0;
	zs_rentry_release(&e->pub);
}

/* Drop e's JSON text once its file holds the same bytes and nobody but the cache and the
 * 'holders' references the caller knows of use it (lock held: lookups take references under
 * it, so no one else can start reading the text meanwhile). */
static void slim(shard *s, entry *e, int holders)
{
	if (!e->pub.file || !e->pub.r.body || !e->linked || atomic_load(&e->refs) != 1 + holders)
		return;
	zs_rendered_free_body(&e->pub.r);
	e->bytes -= e->body_bytes;
	s->bytes -= e->body_bytes;
	e->body_bytes = 0;
}

void zs_rcache_free(zs_rcache *c)
{
	if (!c)
		return;
	for (int i = 0; i < NSHARDS; i++) {
		shard *s = &c->shards[i];
		while (s->head)
			unlink_entry(s, s->head);
		pthread_mutex_destroy(&s->mu);
	}
	pthread_mutex_destroy(&c->sync_mu);
	free(c);
}

long long zs_rcache_generation(zs_rcache *c)
{
	return atomic_load(&c->gen);
}

/* The dirtied keys of one sync as an open-addressing set (0 marks a free slot; a key that
 * hashes to 0 is kept aside): every cached entry checks each of its keys in O(1), where a
 * binary search per key made a sync under churn scan slowly while the other threads waited. */
typedef struct {
	uint64_t *slot;
	size_t mask;
	int zero, any;
} keyset;

static size_t key_slot(uint64_t k, size_t mask)
{
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 32;
	return (size_t)k & mask;
}

static int keyset_make(keyset *ks, const uint64_t *keys, size_t n)
{
	size_t cap = 16;
	memset(ks, 0, sizeof *ks);
	ks->any = n > 0;
	while (cap < n * 2)
		cap *= 2;
	ks->slot = calloc(cap, sizeof *ks->slot);
	if (!ks->slot)
		return -1;
	ks->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		if (!keys[i]) {
			ks->zero = 1;
			continue;
		}
		size_t j = key_slot(keys[i], ks->mask);
		while (ks->slot[j] && ks->slot[j] != keys[i])
			j = (j + 1) & ks->mask;
		ks->slot[j] = keys[i];
	}
	return 0;
}

static int keyset_has(const keyset *ks, uint64_t k)
{
	if (!k)
		return ks->zero;
	for (size_t j = key_slot(k, ks->mask); ks->slot[j]; j = (j + 1) & ks->mask)
		if (ks->slot[j] == k)
			return 1;
	return 0;
}

static int has_dep(const entry *e, const keyset *ks)
{
	if (e->dep_all)
		return ks->any;
	for (size_t i = 0; i < e->ndeps; i++)
		if (keyset_has(ks, e->deps[i]))
			return 1;
	return 0;
}

void zs_rcache_sync(zs_rcache *c, long long gen, zs_rcache_fetch fetch, void *ctx)
{
	if (gen <= atomic_load(&c->gen))
		return;
	pthread_mutex_lock(&c->sync_mu);
	long long from = atomic_load(&c->gen);
	if (gen <= from) {
		pthread_mutex_unlock(&c->sync_mu);
		return;
	}
	/* From here on no entry born before gen is accepted (zs_rcache_put). */
	atomic_store(&c->target, gen);
	uint64_t *keys = NULL;
	size_t n = 0;
	int all = from < 0;
	if (!all && fetch(ctx, from, gen, &keys, &n, &all) != 0)
		all = 1;
	keyset ks;
	if (!all && keyset_make(&ks, keys, n) != 0)
		all = 1;
	for (int i = 0; i < NSHARDS; i++) {
		shard *s = &c->shards[i];
		pthread_mutex_lock(&s->mu);
		for (entry *e = s->head, *next; e; e = next) {
			next = e->next;
			if (all) {
				unlink_entry(s, e);
				atomic_fetch_add(&c->invalidations, 1);
			} else if (!e->stale && has_dep(e, &ks)) {
				/* kept, stale: served only to those who ask while the first one after
				 * this sync makes the new answer (zs_rcache_lookup) */
				*ghost_slot(s, e->h) = e->h; /* asked before: its new answer is kept */
				e->stale = 1;
				e->claimed_ms = 0;
				atomic_fetch_add(&c->invalidations, 1);
			}
		}
		pthread_mutex_unlock(&s->mu);
	}
	free(keys);
	if (!all)
		free(ks.slot);
	atomic_store(&c->gen, gen);
	pthread_mutex_unlock(&c->sync_mu);
}

zs_rentry *zs_rcache_get(zs_rcache *c, const char *key, time_t now)
{
	return zs_rcache_lookup(c, key, now, NULL);
}

zs_rentry *zs_rcache_lookup(zs_rcache *c, const char *key, time_t now, int *stale)
{
	uint64_t h = hash(key);
	shard *s = &c->shards[h % NSHARDS];
	entry *found = NULL;
	if (stale)
		*stale = 0;
	pthread_mutex_lock(&s->mu);
	for (entry *e = s->buckets[(h >> 4) % NBUCKETS]; e; e = e->hnext) {
		if (e->h != h || strcmp(e->key, key) != 0)
			continue;
		if (now >= e->expires) {
			*ghost_slot(s, e->h) = e->h;
			unlink_entry(s, e);
			break;
		}
		if (e->stale) {
			long long ms = stale ? zs_metrics_now_us() / 1000 : 0;
			if (!stale || !e->claimed_ms || ms - e->claimed_ms >= ZS_RCACHE_CLAIM_MS) {
				if (stale) /* this caller makes the new answer; others get this one */
					e->claimed_ms = ms;
				break;
			}
			*stale = 1;
			atomic_fetch_add(&c->stale_served, 1);
		}
		if (e != s->head) { /* most recently used first */
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			else
				s->tail = e->prev;
			e->prev = NULL;
			e->next = s->head;
			s->head->prev = e;
			s->head = e;
		}
		slim(s, e, 0);
		atomic_fetch_add(&e->refs, 1);
		found = e;
		break;
	}
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add(found ? &c->hits : &c->misses, 1);
	return found ? &found->pub : NULL;
}

time_t zs_next_local_midnight(time_t t)
{
	/* every moment in [lo, mid) has the same next midnight: remembered per thread (mktime
	 * takes the time zone lock and was a tenth of storing an answer) */
	static __thread time_t lo = 1, mid = 0;
	if (t >= lo && t < mid)
		return mid;
	time_t m = next_midnight(t);
	if (m > t) {
		lo = t;
		mid = m;
	}
	return m;
}

static time_t next_midnight(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_mday += 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

zs_rentry *zs_rcache_put(zs_rcache *c, const char *key, long long born, time_t now, long ttl,
                         zs_rendered *r, const uint64_t *deps, size_t ndeps, char *surrogate)
{
	size_t klen = strlen(key);
	/* a zs_big block counts with its whole size (its class may be up to ~19% more) */
	size_t need = (r->body_big ? zs_big_size(r->body) : r->len) + r->gzlen + klen +
	              ndeps * sizeof *deps + sizeof(entry);
	if (ttl <= 0 || need > c->shard_budget / 4 || born < atomic_load(&c->target))
		return NULL;
	entry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->key = malloc(klen + 1);
	e->deps = ndeps ? malloc(ndeps * sizeof *deps) : NULL;
	if (!e->key || (ndeps && !e->deps)) {
		free(e->key);
		free(e->deps);
		free(e);
		return NULL;
	}
	memcpy(e->key, key, klen + 1);
	if (ndeps)
		memcpy(e->deps, deps, ndeps * sizeof *deps);
	e->ndeps = ndeps;
	e->dep_all = ndeps == 0;
	e->h = hash(key);
	e->born = born;
	e->expires = now + ttl;
	time_t midnight = zs_next_local_midnight(now);
	if (midnight > now && midnight < e->expires)
		e->expires = midnight;
	e->bytes = need;
	e->body_bytes = r->body_big ? zs_big_size(r->body) : r->len;
	atomic_store(&e->refs, 2); /* the table's and the caller's */

	shard *s = &c->shards[e->h % NSHARDS];
	pthread_mutex_lock(&s->mu);
	if (born < atomic_load(&c->target)) { /* a sync started meanwhile */
		pthread_mutex_unlock(&s->mu);
		e->pub.r.body = e->pub.r.gz = e->pub.r.gzb = NULL;
		entry_free(e);
		return NULL;
	}
	e->pub.r = *r;
	e->pub.surrogate = surrogate;
	entry **b = &s->buckets[(e->h >> 4) % NBUCKETS];
	for (entry *o = *b; o; o = o->hnext)
		if (o->h == e->h && strcmp(o->key, key) == 0) {
			unlink_entry(s, o);
			break;
		}
	if (s->bytes + need > c->shard_budget) { /* full: kept only on a second miss */
		uint64_t *g = ghost_slot(s, e->h);
		if (*g != e->h) {
			*g = e->h;
			pthread_mutex_unlock(&s->mu);
			atomic_fetch_add(&c->refused, 1);
			e->pub.r.body = e->pub.r.gz = e->pub.r.gzb = NULL;
			e->pub.surrogate = NULL;
			entry_free(e);
			return NULL;
		}
		*g = 0;
	}
	while (s->tail && s->bytes + need > c->shard_budget) {
		unlink_entry(s, s->tail);
		atomic_fetch_add(&c->evictions, 1);
	}
	e->hnext = *b;
	*b = e;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
	s->bytes += need;
	s->n++;
	e->linked = 1;
	pthread_mutex_unlock(&s->mu);
	return &e->pub;
}

void zs_rcache_drop_stale(zs_rcache *c, const char *key)
{
	uint64_t h = hash(key);
	shard *s = &c->shards[h % NSHARDS];
	pthread_mutex_lock(&s->mu);
	for (entry *e = s->buckets[(h >> 4) % NBUCKETS]; e; e = e->hnext)
		if (e->h == h && e->stale && strcmp(e->key, key) == 0) {
			unlink_entry(s, e);
			break;
		}
	pthread_mutex_unlock(&s->mu);
}

/* Account for bytes added to a linked entry e (lock held): the shard's least recently used
 * entries other than e leave until it is within its budget again. */
static void grew(zs_rcache *c, shard *s, entry *e, size_t bytes)
{
	e->bytes += bytes;
	if (!e->linked)
		return;
	s->bytes += bytes;
	while (s->bytes > c->shard_budget && s->tail && s->tail != e) {
		unlink_entry(s, s->tail);
		atomic_fetch_add(&c->evictions, 1);
	}
}

/* Attach gz to an entry's empty slot (*slot, its length *slot_len) under the shard's lock:
 * 1, or 0 when the slot was filled first. Readers load *slot with ACQUIRE, the length first. */
static int attach_gz(zs_rcache *c, zs_rentry *pe, char **slot, size_t *slot_len, char *gz,
                     size_t len)
{
	entry *e = (entry *)pe;
	shard *s = &c->shards[e->h % NSHARDS];
	int done = 0;
	pthread_mutex_lock(&s->mu);
	if (!__atomic_load_n(slot, __ATOMIC_ACQUIRE)) {
		*slot_len = len;
		__atomic_store_n(slot, gz, __ATOMIC_RELEASE);
		grew(c, s, e, len);
		done = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return done;
}

int zs_rcache_attach_gz(zs_rcache *c, zs_rentry *e, char *gz, size_t len)
{
	return attach_gz(c, e, &e->r.gz, &e->r.gzlen, gz, len);
}

int zs_rcache_attach_gz_best(zs_rcache *c, zs_rentry *e, char *gz, size_t len)
{
	return attach_gz(c, e, &e->r.gzb, &e->r.gzblen, gz, len);
}

int zs_rcache_attach_file(zs_rcache *c, zs_rentry *pe, void *file, int fd, size_t bytes,
                          void (*release)(void *file))
{
	entry *e = (entry *)pe;
	shard *s = &c->shards[e->h % NSHARDS];
	int done = 0;
	pthread_mutex_lock(&s->mu);
	if (!__atomic_load_n(&e->pub.file, __ATOMIC_ACQUIRE)) {
		e->file_release = release;
		e->file_bytes = bytes;
		e->pub.file_fd = fd;
		__atomic_store_n(&e->pub.file, file, __ATOMIC_RELEASE);
		if (e->linked) {
			s->files++;
			s->file_bytes += bytes;
		}
		/* the text goes first (the caller's reference: it sends from the file now), so
		 * that a file replacing it makes no other answer leave */
		slim(s, e, 1);
		grew(c, s, e, bytes);
		done = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return done;
}

void zs_rcache_stats_get(zs_rcache *c, zs_rcache_stats *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < NSHARDS; i++) {
		shard *s = &c->shards[i];
		pthread_mutex_lock(&s->mu);
		out->entries += s->n;
		out->bytes += s->bytes;
		out->files += s->files;
		out->file_bytes += s->file_bytes;
		pthread_mutex_unlock(&s->mu);
	}
	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
	out->evictions = atomic_load(&c->evictions);
	out->invalidations = atomic_load(&c->invalidations);
	out->refused = atomic_load(&c->refused);
	out->stale_served = atomic_load(&c->stale_served);
}
