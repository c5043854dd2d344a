/* zs_rcache.h - the response cache shared by every serving thread.
 *
 * An entry is a rendered answer (JSON text, its gzip form, ETag) with the dependency keys it
 * was computed from (zs_deps.h) and the generation of its snapshot ("born"). It stays valid
 * across new snapshots until one of them changes something it depends on: the cache follows
 * the published generation with zs_rcache_sync, which marks exactly those entries stale (a
 * stale entry is sent only while its new answer is being made, see zs_rcache_lookup). It also
 * expires after a ttl that never crosses a local midnight (12 November, 1 January and
 * patient-stop dates switch exactly).
 *
 * Threads: every function may be called from any thread. The table is split in shards, each
 * with its own lock and LRU list; memory is bounded per shard (max_bytes / shards). Once a shard
 * is full, a new answer is kept only on its second miss within a short window (an answer asked
 * once does not push out those asked again; an invalidated or expired one is kept at once).
 * Entries are
 * reference-counted: zs_rcache_get and zs_rcache_put return a reference that the caller gives
 * back with zs_rentry_release (an evicted entry is freed when its last reference goes), so a
 * body can be sent without copying (evbuffer_add_reference). */
#ifndef ZS_RCACHE_H
#define ZS_RCACHE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A rendered answer, before it goes into the cache (the caller owns body and gz). */
typedef struct {
	int status;
	char *body;          /* JSON text: malloc'ed, or a zs_big block when body_big */
	size_t len;
	int body_big;
	char *gz;            /* gzip of body, or NULL (in a cache entry: may be attached later,
	                      * see zs_rcache_attach_gz) */
	size_t gzlen;
	char *gzb;           /* a smaller gzip of body (a higher level), made once the answer has
	                      * been sent often (zs_rcache_attach_gz_best), else NULL; preferred
	                      * to gz. Readers load it with __atomic_load_n (ACQUIRE): gzblen is
	                      * set before it */
	size_t gzblen;
	char etag[24];       /* "\"%016llx\"" (with quotes), empty for non-200 */
	int public_cache;
} zs_rendered;

/* Free r's body (as body_big says) and gz; both NULL after. */
void zs_rendered_free(zs_rendered *r);
/* Free r's body only (NULL after). */
void zs_rendered_free_body(zs_rendered *r);

/* A cached answer (read-only for users). */
typedef struct zs_rentry {
	zs_rendered r;       /* owned by the entry */
	char *surrogate;     /* Surrogate-Key header value, or NULL */
	void *file;          /* r.body's bytes in a form the kernel sends without copying, or
	                      * NULL (opaque here; attached later, see zs_rcache_attach_file;
	                      * readers load it with __atomic_load_n, ACQUIRE) */
	int file_fd;         /* a descriptor to read the file with (pread), while file is set */
	unsigned gz_sends;   /* gzip answers sent from it (counted with __atomic_add_fetch) */
} zs_rentry;

typedef struct zs_rcache zs_rcache;

typedef struct {
	unsigned long long hits, misses, entries, bytes, evictions, invalidations;
	unsigned long long refused; /* not kept: the cache was full and it was its first miss */
	unsigned long long stale_served; /* stale entries sent while their new answer was made */
	unsigned long long files, file_bytes; /* entries with a sendable copy (zs_rcache_attach_file)
	                                       * and its bytes (counted in bytes too) */
} zs_rcache_stats;

/* max_bytes: body bytes kept (JSON + gzip). Returns NULL on ENOMEM. */
zs_rcache *zs_rcache_new(size_t max_bytes);
void zs_rcache_free(zs_rcache *c);

/* The cache's generation: every entry is valid at it (until it expires). */
long long zs_rcache_generation(zs_rcache *c);

/* Bring the cache to generation gen. When it is behind, fetch(ctx, from, to, &keys, &n, &all)
 * must give the sorted hashes of the keys dirtied by generations in (from, to] (or all = 1):
 * the entries depending on any of them are evicted, the rest stay. One thread syncs at a time;
 * a fetch that fails (returns non-zero) drops every entry. gen lower than the cache's: no-op. */
typedef int (*zs_rcache_fetch)(void *ctx, long long from, long long to, uint64_t **keys,
                               size_t *n, int *all);
void zs_rcache_sync(zs_rcache *c, long long gen, zs_rcache_fetch fetch, void *ctx);

/* A valid entry for key at time now, with a reference, or NULL (a stale one is a miss). */
zs_rentry *zs_rcache_get(zs_rcache *c, const char *key, time_t now);

/* The same for a caller that will make and put the answer on a miss (stale not NULL). An entry
 * that a snapshot made stale (zs_rcache_sync) is a miss for the first caller after it, who
 * thereby sets out to make the new answer; callers who ask while that is under way (at most
 * ZS_RCACHE_CLAIM_MS) get the stale entry with *stale = 1 instead of making it again: one
 * answer of the previous snapshot, whole, sent while its successor is being made. A caller
 * that missed and then does not keep its answer (zs_rcache_put gave NULL) calls
 * zs_rcache_drop_stale, so that the next one makes it. */
zs_rentry *zs_rcache_lookup(zs_rcache *c, const char *key, time_t now, int *stale);
#define ZS_RCACHE_CLAIM_MS 2000
void zs_rcache_drop_stale(zs_rcache *c, const char *key);

/* Store r under key: computed from snapshot 'born', depending on deps (hashes, n), valid for
 * ttl seconds (never past local midnight). Takes ownership of r->body and r->gz and of
 * surrogate (may be NULL) and returns the entry with a reference; NULL when not cached (ttl 0,
 * too big, born older than the cache's generation, the shard full and key not missed lately,
 * out of memory): then the caller still owns everything. */
zs_rentry *zs_rcache_put(zs_rcache *c, const char *key, long long born, time_t now, long ttl,
                         zs_rendered *r, const uint64_t *deps, size_t ndeps, char *surrogate);

/* Add the gzip form to an entry kept without it (made when a client first asks for it):
 * 1 when attached (the entry owns gz), 0 when another thread was first (the caller frees gz).
 * Readers load r.gz with __atomic_load_n (ACQUIRE): gzlen is set before it. */
int zs_rcache_attach_gz(zs_rcache *c, zs_rentry *e, char *gz, size_t len);

/* Add the smaller gzip form (r.gzb) to an entry that has been asked for often: 1 when
 * attached (the entry owns gz; its gz stays too, for answers being sent from it), 0 when it
 * has one already (the caller frees gz). */
int zs_rcache_attach_gz_best(zs_rcache *c, zs_rentry *e, char *gz, size_t len);
/* Attach the sendable copy of an entry's body (made when a client asks for it again): 1 when
 * attached (the entry owns file and calls release(file) when it is freed; fd reads it), 0 when
 * another thread was first (the caller disposes of file). From then on the file holds the
 * answer's bytes, so the entry drops its JSON text as soon as the cache's is its only reference
 * (then and at each later lookup): whoever holds a reference sees r.body whole for as long as
 * it holds it, or NULL when the entry had dropped it before (r.len stays). Bytes: the file's
 * count against the cache's budget, the dropped text's no longer. */
int zs_rcache_attach_file(zs_rcache *c, zs_rentry *e, void *file, int fd, size_t bytes,
                          void (*release)(void *file));

/* Give back a reference. */
void zs_rentry_release(zs_rentry *e);
/* Take one more reference (e.g. for evbuffer_add_reference's cleanup). */
void zs_rentry_ref(zs_rentry *e);

void zs_rcache_stats_get(zs_rcache *c, zs_rcache_stats *out);

/* The end of the local day containing t (next 00:00 Europe/Amsterdam). */
time_t zs_next_local_midnight(time_t t);

#endif
