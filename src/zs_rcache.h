/* zs_rcache.h - a per-thread cache of rendered responses (no locking: one per serving thread).
 * An entry is valid for one snapshot generation and until its expiry on the daemon clock, which
 * never crosses a local midnight (so the 12 November and 1 January boundaries, and patient-stop
 * dates, are exact). Bounded in entries and bytes. */
#ifndef ZS_RCACHE_H
#define ZS_RCACHE_H
#include <stddef.h>
#include <time.h>

typedef struct {
	int status;
	char *body;          /* JSON text; NULL in a cache entry that keeps only gz */
	size_t len;          /* length of the JSON text */
	char *gz;            /* gzip of body, or NULL (computed on first need) */
	size_t gzlen;
	char etag[24];       /* "\"%016llx\"" (with quotes), empty for non-200 */
	int public_cache;
} zs_rendered;

typedef struct zs_rcache zs_rcache;

/* max_bytes: total body bytes kept. Returns NULL on ENOMEM. Free with zs_rcache_free. */
zs_rcache *zs_rcache_new(size_t slots, size_t max_bytes);
void zs_rcache_free(zs_rcache *c);

/* A valid entry for key, or NULL. The pointer is valid until the next put on this cache. */
zs_rendered *zs_rcache_get(zs_rcache *c, const char *key, long long generation, time_t now);

/* Store a copy of r under key (takes ownership of r->body and r->gz; the caller must not free
 * them afterwards). Returns the stored entry (or NULL when not cached: then r still owns its
 * buffers). */
zs_rendered *zs_rcache_put(zs_rcache *c, const char *key, long long generation, time_t now,
                           long ttl, zs_rendered *r);

/* The end of the local day containing t (next 00:00 Europe/Amsterdam). */
time_t zs_next_local_midnight(time_t t);

#endif
