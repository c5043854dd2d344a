/* zs_deps.c - dependency keys, their marks per generation, and the per-request collector. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_util.h"

/* More keys than this in one sync: cheaper to drop every answer. */
#define DIRTY_MAX 20000

void zs_deplist_init(zs_deplist *d)
{
	memset(d, 0, sizeof *d);
}

void zs_deplist_free(zs_deplist *d)
{
	free(d->keys);
	memset(d, 0, sizeof *d);
}

void zs_deplist_clear(zs_deplist *d)
{
	d->n = 0;
}

void zs_deplist_add(zs_deplist *d, const char *type, const char *id)
{
	char k[ZS_DEP_KEY_MAX];
	size_t n = zs_str_put(k, sizeof k, 0, type);
	if (id) {
		n = zs_str_put(k, sizeof k, n, ":");
		zs_str_put(k, sizeof k, n, id);
	}
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->keys[i], k) == 0)
			return;
	if (zs_grow(&d->keys, &d->cap, d->n, sizeof *d->keys, 16))
		return;
	memcpy(d->keys[d->n++], k, sizeof k);
}

void zs_deplist_add_int(zs_deplist *d, const char *type, long long id)
{
	char b[ZS_LL_TEXT];
	zs_deplist_add(d, type, zs_ll_text(id, b));
}

size_t zs_deplist_header(const zs_deplist *d, char *buf, size_t len)
{
	size_t n = 0;
	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < d->n && n + strlen(d->keys[i]) + 2 < len; i++) {
		if (n)
			n = zs_str_put(buf, len, n, " ");
		n = zs_str_put(buf, len, n, d->keys[i]);
	}
	return n;
}

uint64_t zs_dep_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return h;
}

/* ---- writer side --------------------------------------------------------------------------- */

#define MARK_SQL "INSERT OR IGNORE INTO dirty(gen, key) VALUES(" \
	"(SELECT value + 1 FROM meta WHERE key='generation'), ?)"

sqlite3_stmt *zs_deps_mark_prepare(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db, MARK_SQL, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "dependencies: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

int zs_deps_mark_with(sqlite3_stmt *st, const char *key, char *err, size_t errlen)
{
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		snprintf(err, errlen, "dependencies: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int zs_deps_mark(sqlite3 *db, const char *key, char *err, size_t errlen)
{
	sqlite3_stmt *st = zs_deps_mark_prepare(db, err, errlen);
	if (!st)
		return -1;
	int rc = zs_deps_mark_with(st, key, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

int zs_deps_mark2(sqlite3 *db, const char *type, const char *id, char *err, size_t errlen)
{
	char k[ZS_DEP_KEY_MAX];
	snprintf(k, sizeof k, "%s:%s", type, id);
	return zs_deps_mark(db, k, err, errlen);
}

/* A fingerprint per year of everything an answer shows of the year's policies. */
static int years_fingerprint(sqlite3 *db, const char *table, char *err, size_t errlen)
{
	static const char *const queries[] = {
		"SELECT p.year, p.id, p.name, p.label, p.type, p.uzovi, p.concern_id,"
		" p.reimbursement, i.name, i.concern_name FROM policy p LEFT JOIN src_insurer i"
		" ON i.feed_id = p.feed_id AND i.uzovi = p.uzovi ORDER BY p.year, p.id",
		"SELECT year, a, b, verdict, declared, finding FROM similar"
		" WHERE verdict <> 'different' OR declared IS NOT NULL ORDER BY year, a, b",
	};
	char sql[160];
	sqlite3_stmt *ins = NULL;
	snprintf(sql, sizeof sql, "CREATE TEMP TABLE IF NOT EXISTS %s(year INTEGER PRIMARY KEY,"
	         " h INTEGER); DELETE FROM temp.%s", table, table);
	if (zs_db_exec(db, sql, err, errlen))
		return -1;
	snprintf(sql, sizeof sql, "INSERT INTO temp.%s(year, h) VALUES(?1, ?2) ON CONFLICT(year)"
	         " DO UPDATE SET h = (h | ?2) - (h & ?2)", table); /* xor */
	if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK)
		goto fail;
	for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) != SQLITE_OK)
			goto fail;
		int year = -1; /* none yet: contract years are positive */
		uint64_t h = 0;
		for (;;) {
			int rc = sqlite3_step(st);
			int y = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -2;
			if (year != -1 && y != year) {
				sqlite3_bind_int(ins, 1, year);
				sqlite3_bind_int64(ins, 2, (sqlite3_int64)(h >> 1));
				if (sqlite3_step(ins) != SQLITE_DONE) {
					sqlite3_finalize(st);
					goto fail;
				}
				sqlite3_reset(ins);
			}
			if (rc != SQLITE_ROW)
				break;
			if (y != year) {
				h = 1469598103934665603ULL + q;
				year = y;
			}
			int nc = sqlite3_column_count(st);
			for (int c = 1; c < nc; c++) {
				const unsigned char *t = sqlite3_column_text(st, c);
				for (const unsigned char *p = t ? t : (const unsigned char *)"\1"; *p; p++) {
					h ^= *p;
					h *= 1099511628211ULL;
				}
				h ^= 0xff;
				h *= 1099511628211ULL;
			}
		}
		sqlite3_finalize(st);
	}
	sqlite3_finalize(ins);
	return 0;
fail:
	snprintf(err, errlen, "dependencies: %s", sqlite3_errmsg(db));
	sqlite3_finalize(ins);
	return -1;
}

int zs_deps_years_save(sqlite3 *db, char *err, size_t errlen)
{
	return years_fingerprint(db, "dep_years_before", err, errlen);
}

int zs_deps_years_mark(sqlite3 *db, char *err, size_t errlen)
{
	if (years_fingerprint(db, "dep_years_after", err, errlen))
		return -1;
	return zs_db_exec(db,
		"INSERT OR IGNORE INTO dirty(gen, key) SELECT"
		" (SELECT value + 1 FROM meta WHERE key='generation'), 'y:' || year FROM ("
		" SELECT year, h FROM temp.dep_years_before EXCEPT SELECT year, h FROM temp.dep_years_after"
		" UNION"
		" SELECT year, h FROM temp.dep_years_after EXCEPT SELECT year, h FROM temp.dep_years_before)",
		err, errlen);
}

int zs_deps_prune(sqlite3 *db, long long keep, char *err, size_t errlen)
{
	char sql[320];
	snprintf(sql, sizeof sql,
	         "INSERT OR REPLACE INTO meta(key, value) SELECT 'dirty_pruned_below',"
	         " value - %lld FROM meta WHERE key='generation' AND value > %lld;"
	         "DELETE FROM dirty WHERE gen < (SELECT value FROM meta"
	         " WHERE key='dirty_pruned_below')", keep, keep);
	return zs_db_exec(db, sql, err, errlen);
}

/* ---- reader side --------------------------------------------------------------------------- */

long long zs_deps_last_change(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st;
	long long g = -1;
	if (sqlite3_prepare_v2(db, "SELECT COALESCE((SELECT max(gen) FROM dirty WHERE key IN (?1, '*')),"
	                       " (SELECT value FROM meta WHERE key='dirty_pruned_below'), 0)", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		g = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return g;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int zs_deps_dirty(sqlite3 *db, long long from, long long to, uint64_t **out, size_t *n,
                  int *all)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	*all = 0;
	if (zs_db_meta(db, "dirty_pruned_below") > from) {
		*all = 1;
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT key FROM dirty WHERE gen > ? AND gen <= ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (!k)
			continue;
		if (strcmp(k, "*") == 0 || *n >= DIRTY_MAX) {
			*all = 1;
			break;
		}
		if (zs_grow(out, &cap, *n, sizeof **out, 64)) {
			*all = 1;
			break;
		}
		(*out)[(*n)++] = zs_dep_hash(k);
	}
	sqlite3_finalize(st);
	if (!*all && s != SQLITE_DONE) { /* a read error: a partial list would miss changes */
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*all) {
		free(*out);
		*out = NULL;
		*n = 0;
		return 0;
	}
	if (*n > 1)
		qsort(*out, *n, sizeof **out, cmp_u64);
	return 0;
}

int zs_deps_dirty_keys(sqlite3 *db, long long from, long long to, char (**out)[ZS_DEP_KEY_MAX],
                       size_t *n, int *all)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	*all = 0;
	if (zs_db_meta(db, "dirty_pruned_below") > from) {
		*all = 1;
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT key FROM dirty WHERE gen > ? AND gen <= ?"
	                           " ORDER BY key", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (!k)
			continue;
		if (strcmp(k, "*") == 0 || *n >= DIRTY_MAX ||
		    zs_grow(out, &cap, *n, sizeof **out, 64)) {
			*all = 1;
			break;
		}
		snprintf((*out)[(*n)++], ZS_DEP_KEY_MAX, "%s", k);
	}
	sqlite3_finalize(st);
	if (!*all && s != SQLITE_DONE) { /* a read error: a partial list would miss changes */
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*all) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return 0;
}
