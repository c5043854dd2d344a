/* zs_rcache.c - direct-mapped response cache (see zs_rcache.h). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zs_rcache.h"

typedef struct {
	char *key;
	long long gen;
	time_t expires;
	size_t bytes;
	zs_rendered r;
} slot;

struct zs_rcache {
	slot *slots;
	size_t nslots, bytes, max_bytes;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

zs_rcache *zs_rcache_new(size_t nslots, size_t max_bytes)
{
	zs_rcache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->slots = calloc(nslots, sizeof *c->slots);
	if (!c->slots) {
		free(c);
		return NULL;
	}
	c->nslots = nslots;
	c->max_bytes = max_bytes;
	return c;
}

static void slot_clear(zs_rcache *c, slot *s)
{
	if (!s->key)
		return;
	c->bytes -= s->bytes;
	free(s->key);
	free(s->r.body);
	free(s->r.gz);
	memset(s, 0, sizeof *s);
}

void zs_rcache_free(zs_rcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		slot_clear(c, &c->slots[i]);
	free(c->slots);
	free(c);
}

zs_rendered *zs_rcache_get(zs_rcache *c, const char *key, long long gen, time_t now)
{
	slot *s = &c->slots[hash(key) % c->nslots];
	if (!s->key || strcmp(s->key, key) != 0)
		return NULL;
	if (s->gen != gen || now >= s->expires) {
		slot_clear(c, s);
		return NULL;
	}
	return &s->r;
}

time_t zs_next_local_midnight(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_mday += 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

zs_rendered *zs_rcache_put(zs_rcache *c, const char *key, long long gen, time_t now, long ttl,
                           zs_rendered *r)
{
	size_t need = r->len + r->gzlen;
	if (ttl <= 0 || need > c->max_bytes / 8)
		return NULL;
	slot *s = &c->slots[hash(key) % c->nslots];
	slot_clear(c, s);
	if (c->bytes + need > c->max_bytes) /* full: start again rather than track LRU */
		for (size_t i = 0; i < c->nslots; i++)
			slot_clear(c, &c->slots[i]);
	s->key = strdup(key);
	if (!s->key)
		return NULL;
	s->gen = gen;
	s->expires = now + ttl;
	time_t midnight = zs_next_local_midnight(now);
	if (midnight > now && midnight < s->expires)
		s->expires = midnight;
	s->r = *r;
	if (s->r.gz) { /* keep the compressed form only: a fraction of the memory; plain answers
	                * are inflated on the way out */
		free(s->r.body);
		s->r.body = NULL;
		need = s->r.gzlen;
	}
	s->bytes = need;
	c->bytes += need;
	return &s->r;
}
