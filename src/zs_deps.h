/* zs_deps.h - what an answer depends on: one idea, used for cache invalidation (the response
 * cache keeps an answer until something it depends on changes) and, as Surrogate-Key headers,
 * by a cache tier in front of the daemon.
 *
 * Dependency keys (short strings):
 *   p:<agb>     a provider: its master data and its effective statuses, any year
 *   y:<year>    the year's policy set: policies, names, rules, insurers, twins
 *   s:<year>    any effective status of that year (similar policies, filtered search)
 *   f:<feedid>  a source's published freshness (checked_on, stale) and name
 *   search      the search index (names, aliases, places, kinds of all providers)
 *   *           everything
 *
 * Writer side (ingest worker, inside its write transaction): zs_deps_mark() records that a key
 * changed in the generation being written, i.e. the value of meta.generation plus one: every
 * transaction that marks keys bumps the generation before it commits. Readers: a response
 * cache that knows generation K and learns of H > K evicts the answers that depend on a key
 * marked in (K, H] (zs_deps_dirty), and keeps every other answer and its ETag.
 *
 * Collector (per request): zs_deplist gathers the keys an answer read. */
#ifndef ZS_DEPS_H
#define ZS_DEPS_H
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define ZS_DEP_KEY_MAX 24

typedef struct zs_deplist {
	char (*keys)[ZS_DEP_KEY_MAX]; /* owned; distinct */
	size_t n, cap;
} zs_deplist;

void zs_deplist_init(zs_deplist *d);
void zs_deplist_free(zs_deplist *d);
void zs_deplist_clear(zs_deplist *d);
/* Add "<type>:<id>" (type "p", "y", "s", "f"), or the key itself when id is NULL. */
void zs_deplist_add(zs_deplist *d, const char *type, const char *id);
void zs_deplist_add_int(zs_deplist *d, const char *type, long long id);
/* The keys as one space-separated header value (Surrogate-Key / xkey), into buf. */
size_t zs_deplist_header(const zs_deplist *d, char *buf, size_t len);

/* 64-bit hash of a key (the cache compares hashes). */
uint64_t zs_dep_hash(const char *key);

/* ---- writer side --------------------------------------------------------------------------- */

/* Record that key changes in the generation being written. 0 ok, -1 with err. */
int zs_deps_mark(sqlite3 *db, const char *key, char *err, size_t errlen);
int zs_deps_mark2(sqlite3 *db, const char *type, const char *id, char *err, size_t errlen);
/* The same with a statement prepared once for many marks (a reconciliation marks a key per
 * provider): prepare returns it (NULL with err; the caller finalizes it), with marks one key. */
sqlite3_stmt *zs_deps_mark_prepare(sqlite3 *db, char *err, size_t errlen);
int zs_deps_mark_with(sqlite3_stmt *st, const char *key, char *err, size_t errlen);

/* Fingerprint each year's policy set (policies, insurers, twins) into a temp table before a
 * write; zs_deps_years_mark compares after it and marks y:<year> for every year that moved. */
int zs_deps_years_save(sqlite3 *db, char *err, size_t errlen);
int zs_deps_years_mark(sqlite3 *db, char *err, size_t errlen);

/* Forget the marks of generations older than keep generations before the current one. */
int zs_deps_prune(sqlite3 *db, long long keep, char *err, size_t errlen);

/* ---- reader side --------------------------------------------------------------------------- */

/* The last generation that marked key (or '*'); when its marks are pruned, the generation
 * they were pruned below; -1 on a database error. */
long long zs_deps_last_change(sqlite3 *db, const char *key);

/* The hashes of the keys marked by generations in (from, to], sorted, in *out (caller frees).
 * *all = 1 when everything must go (a '*' mark, too many keys, or marks pruned since from).
 * Runs in the caller's read transaction (or its own). 0 ok, -1 on a database error. */
int zs_deps_dirty(sqlite3 *db, long long from, long long to, uint64_t **out, size_t *n,
                  int *all);

/* The keys themselves (for purging a cache tier): the distinct keys marked by generations in
 * (from, to], in *out (caller frees with free(); one block of n keys). *all = 1 as for
 * zs_deps_dirty. 0 ok, -1 on a database error. */
int zs_deps_dirty_keys(sqlite3 *db, long long from, long long to, char (**out)[ZS_DEP_KEY_MAX],
                       size_t *n, int *all);

#endif
