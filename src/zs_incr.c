/* zs_incr.c - store and reconcile only what a feed version changed (see zs_incr.h). */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_db.h"
#include "zs_incr.h"

enum { K_STMT = 1, K_PROV = 2 };

typedef struct {
	uint64_t h;       /* hash of the line's bytes */
	long long id;     /* stmt rowid, or the provider's AGB as a number */
	long line;        /* stored line number (stmt) */
	long now_line;    /* line number in the new version; 0 = not seen (yet) */
	unsigned char kind;
	unsigned char nolh; /* stored without a line hash: never the same line */
} entry;

struct zs_incr {
	entry *v;
	size_t n, cap;
	uint32_t *slot;   /* open addressing: index + 1 into v, 0 = empty */
	size_t nslot;     /* power of two */
	long long *wrote; /* AGBs + 1 of provider records parsed in this version (a hash set,
	                   * 0 = empty slot) */
	size_t nwrote, capwrote;
	int match;        /* same header: a stored line stands for itself */
};

/* FNV-1a offset basis, then the release: the parser that made the stored rows (another
 * release re-reads everything). */
static uint64_t seed(void)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = PACKAGE_VERSION; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

uint64_t zs_incr_hash(const char *line, size_t len)
{
	static uint64_t s0;
	if (!s0)
		s0 = seed();
	uint64_t h = s0;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)line[i]) * 1099511628211ULL;
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return h;
}

static int add(zs_incr *x, uint64_t h, long long id, long line, int kind, int nolh)
{
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 1024;
		entry *nv = realloc(x->v, nc * sizeof *nv);
		if (!nv)
			return -1;
		x->v = nv;
		x->cap = nc;
	}
	x->v[x->n++] = (entry){ h, id, line, 0, (unsigned char)kind, (unsigned char)nolh };
	return 0;
}

static int build_index(zs_incr *x)
{
	size_t ns = 1024;
	while (ns < x->n * 2)
		ns *= 2;
	x->slot = calloc(ns, sizeof *x->slot);
	if (!x->slot)
		return -1;
	x->nslot = ns;
	for (size_t i = 0; i < x->n; i++) {
		size_t s = (size_t)x->v[i].h & (ns - 1);
		while (x->slot[s])
			s = (s + 1) & (ns - 1);
		x->slot[s] = (uint32_t)(i + 1);
	}
	return 0;
}

void zs_incr_free(zs_incr *x)
{
	if (!x)
		return;
	free(x->v);
	free(x->slot);
	free(x->wrote);
	free(x);
}

int zs_incr_load(sqlite3 *db, int feed_id, uint64_t head, zs_incr **out, char *err,
                 size_t errlen)
{
	sqlite3_stmt *st = NULL;
	zs_incr *x = calloc(1, sizeof *x);
	int rc = -1;
	*out = NULL;
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The stored rows stand for their lines only under the same header (its generated_at
	 * is the default said_at; its insurer is the owner of the policies). */
	if (sqlite3_prepare_v2(db, "SELECT head_hash FROM feed WHERE id=?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto dberr;
	sqlite3_bind_int(st, 1, feed_id);
	x->match = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	           (uint64_t)sqlite3_column_int64(st, 0) == head;
	sqlite3_finalize(st);
	st = NULL;
	{ /* every stored row: what the new version no longer says goes */
		/* (rows without a line hash: kept from an earlier version for an invalid record, or
		 * written by an older release: said again or gone) */
		if (sqlite3_prepare_v2(db, "SELECT rowid, line, lh FROM stmt WHERE feed_id=?", -1,
		                       &st, NULL) != SQLITE_OK)
			goto dberr;
		sqlite3_bind_int(st, 1, feed_id);
		/* a read error is an error, never the end of the rows (a row missing here would be
		 * stored a second time, its old copy never deleted) */
		int s;
		while ((s = sqlite3_step(st)) == SQLITE_ROW)
			if (add(x, (uint64_t)sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0),
			        sqlite3_column_int(st, 1), K_STMT, sqlite3_column_type(st, 2) == SQLITE_NULL))
				goto oom;
		if (s != SQLITE_DONE)
			goto dberr;
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(db, "SELECT agb, lh FROM src_provider WHERE feed_id=?", -1, &st,
		                       NULL) != SQLITE_OK)
			goto dberr;
		sqlite3_bind_int(st, 1, feed_id);
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			/* an AGB is 8 digits (checked on the way in): kept as a number */
			const char *agb = (const char *)sqlite3_column_text(st, 0);
			if (agb && add(x, (uint64_t)sqlite3_column_int64(st, 1), strtoll(agb, NULL, 10),
			               0, K_PROV, sqlite3_column_type(st, 1) == SQLITE_NULL))
				goto oom;
		}
		if (s != SQLITE_DONE)
			goto dberr;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (build_index(x))
		goto oom;
	*out = x;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	goto out;
dberr:
	snprintf(err, errlen, "incremental apply: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	zs_incr_free(x);
	return rc;
}

static size_t wrote_slot(const zs_incr *x, long long agb)
{
	size_t s = (size_t)((uint64_t)agb * 0x9e3779b97f4a7c15ULL >> 20) & (x->capwrote - 1);
	while (x->wrote[s] && x->wrote[s] != agb + 1)
		s = (s + 1) & (x->capwrote - 1);
	return s;
}

static int wrote_has(const zs_incr *x, long long agb)
{
	return x->capwrote && x->wrote[wrote_slot(x, agb)] == agb + 1;
}

int zs_incr_seen(zs_incr *x, uint64_t h, long line)
{
	if (!x || !x->match || !x->nslot)
		return 0;
	for (size_t s = (size_t)h & (x->nslot - 1); x->slot[s]; s = (s + 1) & (x->nslot - 1)) {
		entry *e = &x->v[x->slot[s] - 1];
		if (e->h != h || e->now_line || e->nolh)
			continue;
		/* a provider record whose AGB a parsed line of this version already wrote: the
		 * later line wins, so it is read again */
		if (e->kind == K_PROV && wrote_has(x, e->id))
			return 0;
		e->now_line = line;
		return 1;
	}
	return 0;
}

int zs_incr_known(const zs_incr *x, uint64_t h)
{
	if (!x || !x->match || !x->nslot)
		return 0;
	for (size_t s = (size_t)h & (x->nslot - 1); x->slot[s]; s = (s + 1) & (x->nslot - 1))
		if (x->v[x->slot[s] - 1].h == h && !x->v[x->slot[s] - 1].nolh)
			return 1;
	return 0;
}

void zs_incr_wrote_provider(zs_incr *x, const char *agb)
{
	if (!x)
		return;
	long long id = strtoll(agb, NULL, 10);
	if (2 * (x->nwrote + 1) > x->capwrote) { /* grow: at most half full */
		zs_incr old = *x;
		size_t nc = x->capwrote ? x->capwrote * 2 : 64;
		x->wrote = calloc(nc, sizeof *x->wrote);
		if (!x->wrote) {
			x->wrote = old.wrote;
			return;
		}
		x->capwrote = nc;
		for (size_t i = 0; i < old.capwrote; i++)
			if (old.wrote[i])
				x->wrote[wrote_slot(x, old.wrote[i] - 1)] = old.wrote[i];
		free(old.wrote);
	}
	size_t sl = wrote_slot(x, id);
	if (!x->wrote[sl]) {
		x->wrote[sl] = id + 1;
		x->nwrote++;
	}
}

/* A stored provider record of this feed that no parsed line of this version rewrote goes. */
static int prov_gone(zs_incr *x, sqlite3_stmt *dp, sqlite3_stmt *tp, int feed_id,
                     long long id, int has_h, uint64_t h)
{
	char agb[16];
	if (wrote_has(x, id))
		return 0;
	snprintf(agb, sizeof agb, "%08lld", id);
	sqlite3_bind_int(dp, 1, feed_id);
	sqlite3_bind_text(dp, 2, agb, -1, SQLITE_TRANSIENT);
	if (has_h)
		sqlite3_bind_int64(dp, 3, (sqlite3_int64)h);
	else
		sqlite3_bind_null(dp, 3);
	sqlite3_bind_text(tp, 1, agb, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(dp) == SQLITE_DONE && sqlite3_step(tp) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(dp);
	sqlite3_reset(tp);
	return rc;
}

int zs_incr_finish(sqlite3 *db, zs_incr *x, int feed_id, uint64_t head, long *removed,
                   char *err, size_t errlen)
{
	sqlite3_stmt *gs = NULL, *up = NULL, *dp = NULL, *tp = NULL, *hh = NULL;
	long gone = 0;
	int rc = -1;
	if (!x) {
		snprintf(err, errlen, "incremental apply: no header read");
		return -1;
	}
	if (zs_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS gone(id INTEGER PRIMARY KEY);"
	                   "DELETE FROM temp.gone", err, errlen))
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.gone VALUES(?)", -1, &gs, NULL) ||
	    sqlite3_prepare_v2(db, "UPDATE stmt SET line=?2 WHERE rowid=?1", -1, &up, NULL) ||
	    sqlite3_prepare_v2(db, "DELETE FROM src_provider WHERE feed_id=?1 AND agb=?2"
	                           " AND lh IS ?3", -1, &dp, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.touched_prov VALUES(?)", -1, &tp,
	                       NULL) ||
	    sqlite3_prepare_v2(db, "UPDATE feed SET head_hash=?2 WHERE id=?1", -1, &hh, NULL))
		goto dberr;
	for (size_t i = 0; i < x->n; i++) {
		entry *e = &x->v[i];
		if (e->kind == K_STMT && !e->now_line) { /* no longer said */
			sqlite3_bind_int64(gs, 1, e->id);
			if (sqlite3_step(gs) != SQLITE_DONE)
				goto dberr;
			sqlite3_reset(gs);
			gone++;
		} else if (e->kind == K_STMT && e->now_line != e->line) { /* said on another line */
			sqlite3_bind_int64(up, 1, e->id);
			sqlite3_bind_int64(up, 2, e->now_line);
			if (sqlite3_step(up) != SQLITE_DONE)
				goto dberr;
			sqlite3_reset(up);
		} else if (e->kind == K_PROV && !e->now_line &&
		           prov_gone(x, dp, tp, feed_id, e->id, !e->nolh, e->h)) {
			goto dberr;
		}
	}
	/* (CROSS JOIN: the few gone rows drive, never a scan of stmt) */
	if (zs_db_exec(db, "INSERT OR IGNORE INTO temp.touched SELECT s.agb FROM temp.gone g"
	                   " CROSS JOIN stmt s ON s.rowid = g.id;"
	                   "DELETE FROM stmt WHERE rowid IN (SELECT id FROM temp.gone)", err, errlen))
		goto out;
	sqlite3_bind_int(hh, 1, feed_id);
	sqlite3_bind_int64(hh, 2, (sqlite3_int64)head);
	if (sqlite3_step(hh) != SQLITE_DONE)
		goto dberr;
	if (removed)
		*removed = gone;
	rc = 0;
	goto out;
dberr:
	snprintf(err, errlen, "incremental apply: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(gs);
	sqlite3_finalize(up);
	sqlite3_finalize(dp);
	sqlite3_finalize(tp);
	sqlite3_finalize(hh);
	return rc;
}
