/* zs_rows.c - the effective table held in memory, a version per snapshot (zs_rows.h). */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#endif
#include "zs_rows.h"
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_log.h"
#include "zs_metrics.h"
#include "zs_provtext.h"
#include "zs_util.h"
#include "zs_worker.h"

#define MOD "rows"
#define CHUNK 4096u   /* items of a pool chunk */
#define MAXCH 4096u   /* chunks of a pool: 16 million items */
#define AGB_MAX ZS_PROVTEXT_AGB_MAX /* an agb this long or longer is not held (read from the
                                    * table) */
#define ARENA 65536u  /* bytes of a text chunk */

/* The columns of a row as zs_eff_from_row reads them, then agb (18) and year (19). */
#define ROW_COLS ZS_EFF_COLS ", agb, year"

/* ---- pools and interning (the builder's only; readers read items of published versions) -- */

/* Items that never move once added (a reader may hold a pointer to one while the builder
 * adds more): chunks of CHUNK items, found by index. */
typedef struct {
	void *ch[MAXCH];
	uint32_t n;
	size_t isz;
} pool;

static inline void *pool_at(const pool *p, uint32_t i)
{
	return (char *)p->ch[i / CHUNK] + (size_t)(i % CHUNK) * p->isz;
}

static int pool_push(pool *p, const void *item, uint32_t *idx)
{
	if (p->n >= CHUNK * MAXCH)
		return -1;
	uint32_t c = p->n / CHUNK;
	if (!p->ch[c] && !(p->ch[c] = malloc(CHUNK * p->isz)))
		return -1;
	memcpy(pool_at(p, p->n), item, p->isz);
	*idx = p->n++;
	return 0;
}

/* A set of pool indices by hash (open addressing; i1 = index + 1, 0 empty). */
typedef struct {
	struct slot {
		uint32_t h, i1;
	} *s;
	size_t cap, n;
} itab;

static int itab_grow(itab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 4096;
	struct slot *s = calloc(cap, sizeof *s);
	if (!s)
		return -1;
	for (size_t k = 0; k < t->cap; k++)
		if (t->s[k].i1) {
			size_t j = t->s[k].h & (cap - 1);
			while (s[j].i1)
				j = (j + 1) & (cap - 1);
			s[j] = t->s[k];
		}
	free(t->s);
	t->s = s;
	t->cap = cap;
	return 0;
}

static uint64_t hash_words(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* What every version of an epoch shares: its texts and row patterns. Refcounted (the store
 * while it builds into it, and each version). */
typedef struct epoch {
	_Atomic unsigned refs;
	char **arena;          /* text chunks */
	size_t narena, capa, aused, aroom;
	size_t tbytes;         /* text bytes and chunk room held */
	pool texts;            /* const char * */
	itab text_ix;
	pool pats;             /* eff_view, strings interned in texts */
	itab pat_ix;
	uint32_t full_texts, full_pats; /* at the end of the full build */
} epoch;

static epoch *epoch_new(void)
{
	epoch *ep = calloc(1, sizeof *ep);
	if (!ep)
		return NULL;
	atomic_init(&ep->refs, 1);
	ep->texts.isz = sizeof(const char *);
	ep->pats.isz = sizeof(eff_view);
	return ep;
}

static void epoch_release(epoch *ep)
{
	if (!ep || atomic_fetch_sub(&ep->refs, 1) != 1)
		return;
	for (size_t i = 0; i < ep->narena; i++)
		free(ep->arena[i]);
	free(ep->arena);
	for (size_t c = 0; c < MAXCH && ep->texts.ch[c]; c++)
		free(ep->texts.ch[c]);
	for (size_t c = 0; c < MAXCH && ep->pats.ch[c]; c++)
		free(ep->pats.ch[c]);
	free(ep->text_ix.s);
	free(ep->pat_ix.s);
	free(ep);
}

static const char *text_of(const epoch *ep, uint32_t i)
{
	return *(const char *const *)pool_at(&ep->texts, i);
}

/* The index of text s in the epoch (added when new); -1 out of memory or room. */
static int text_intern(epoch *ep, const char *s, uint32_t *out)
{
	if (ep->text_ix.n * 2 >= ep->text_ix.cap && itab_grow(&ep->text_ix))
		return -1;
	uint64_t h64 = hash_text(s);
	uint32_t h = (uint32_t)(h64 ^ (h64 >> 32));
	size_t j = h & (ep->text_ix.cap - 1);
	for (;; j = (j + 1) & (ep->text_ix.cap - 1)) {
		struct slot *sl = &ep->text_ix.s[j];
		if (!sl->i1)
			break;
		if (sl->h == h && strcmp(text_of(ep, sl->i1 - 1), s) == 0) {
			*out = sl->i1 - 1;
			return 0;
		}
	}
	size_t len = strlen(s) + 1;
	if (!ep->narena || ep->aused + len > ep->aroom) {
		size_t room = len > ARENA ? len : ARENA;
		if (zs_grow(&ep->arena, &ep->capa, ep->narena, sizeof *ep->arena, 16))
			return -1;
		if (!(ep->arena[ep->narena] = malloc(room)))
			return -1;
		ep->narena++;
		ep->aused = 0;
		ep->aroom = room;
		ep->tbytes += room;
	}
	char *d = ep->arena[ep->narena - 1] + ep->aused;
	memcpy(d, s, len);
	ep->aused += len;
	if (pool_push(&ep->texts, &d, out))
		return -1;
	ep->text_ix.s[j].h = h;
	ep->text_ix.s[j].i1 = *out + 1;
	ep->text_ix.n++;
	return 0;
}

static int pat_intern(epoch *ep, const eff_view *v, uint32_t *out)
{
	if (ep->pat_ix.n * 2 >= ep->pat_ix.cap && itab_grow(&ep->pat_ix))
		return -1;
	uint64_t h64 = hash_words(v, sizeof *v);
	uint32_t h = (uint32_t)(h64 ^ (h64 >> 32));
	size_t j = h & (ep->pat_ix.cap - 1);
	for (;; j = (j + 1) & (ep->pat_ix.cap - 1)) {
		struct slot *sl = &ep->pat_ix.s[j];
		if (!sl->i1)
			break;
		if (sl->h == h && memcmp(pool_at(&ep->pats, sl->i1 - 1), v, sizeof *v) == 0) {
			*out = sl->i1 - 1;
			return 0;
		}
	}
	if (pool_push(&ep->pats, v, out))
		return -1;
	ep->pat_ix.s[j].h = h;
	ep->pat_ix.s[j].i1 = *out + 1;
	ep->pat_ix.n++;
	return 0;
}

/* ---- versions ---------------------------------------------------------------------------- */

typedef struct rblock {
	_Atomic unsigned refs;
	uint32_t n;
	zs_rrow r[];
} rblock;

typedef struct {
	char agb[AGB_MAX];
	int year;
	rblock *b;
} rent;

struct zs_rver {
	_Atomic unsigned refs;
	zs_rows *owner;        /* its store: a version let go on a serving thread is freed by
	                        * the store's thread (160,000 blocks touched: ~10 ms) */
	struct zs_rver *next;  /* in the store's list of versions to free */
	long long gen;
	epoch *ep;
	rent *e;               /* by agb (strcmp), then year */
	size_t n, cap, nrows;
	zs_provtext *prov;     /* the providers' master data as answers write it */
	int counted;           /* published: counted in the store's versions alive */
};

static void block_release(rblock *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

static int hand_over(zs_rows *s, zs_rver *v);
static void versions_count(zs_rows *s, int d);

static void rver_free(zs_rver *v)
{
	if (v->counted)
		versions_count(v->owner, -1);
	for (size_t i = 0; i < v->n; i++)
		block_release(v->e[i].b);
	free(v->e);
	zs_provtext_free(v->prov);
	epoch_release(v->ep);
	free(v);
}

void zs_rver_release(zs_rver *v)
{
	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	if (!hand_over(v->owner, v))
		rver_free(v);
}

long long zs_rver_gen(const zs_rver *v)
{
	return v->gen;
}

int zs_rver_rows(const zs_rver *v, const char *agb, int year, const zs_rrow **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	if (strlen(agb) >= AGB_MAX)
		return 0;
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const rent *e = &v->e[mid];
		int c = strcmp(e->agb, agb);
		if (c == 0)
			c = e->year < year ? -1 : e->year > year;
		if (c == 0) {
			*rows = e->b->r;
			*n = e->b->n;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 1;
}

int zs_rver_provider(const zs_rver *v, const char *agb, const char **text, size_t *len)
{
	return v->prov ? zs_provtext_find(v->prov, agb, text, len) : -1;
}

const char *zs_rver_policy(const zs_rver *v, uint32_t pol)
{
	return text_of(v->ep, pol);
}

const eff_view *zs_rver_pattern(const zs_rver *v, uint32_t pat)
{
	return pool_at(&v->ep->pats, pat);
}

/* ---- building ------------------------------------------------------------------------------ */

/* A text column, interned; the last text of each column is tried first (most rows of a
 * provider repeat it). */
typedef struct {
	const char *last[5];
	uint32_t last_i[5];
} colcache;

static int col_text(epoch *ep, colcache *cc, int k, const char *s, const char **p, uint32_t *i)
{
	if (!s) {
		*p = NULL;
		return 0;
	}
	if (!cc->last[k] || strcmp(cc->last[k], s) != 0) {
		uint32_t x;
		if (text_intern(ep, s, &x))
			return -1;
		cc->last[k] = text_of(ep, x);
		cc->last_i[k] = x;
	}
	*p = cc->last[k];
	if (i)
		*i = cc->last_i[k];
	return 0;
}

static int row_of(epoch *ep, colcache *cc, sqlite3_stmt *st, zs_rrow *out)
{
	eff_view v;
	memset(&v, 0, sizeof v); /* the pattern is compared whole, padding included */
	zs_eff_from_row(st, &v);
	const char *pid;
	if (col_text(ep, cc, 0, (const char *)sqlite3_column_text(st, 0), &pid, &out->pol) ||
	    col_text(ep, cc, 1, v.care_type, &v.care_type, NULL) ||
	    col_text(ep, cc, 2, v.ceiling_exempt, &v.ceiling_exempt, NULL) ||
	    col_text(ep, cc, 3, v.stop, &v.stop, NULL) ||
	    col_text(ep, cc, 4, v.began, &v.began, NULL) || !pid || !v.care_type)
		return -1;
	return pat_intern(ep, &v, &out->pat);
}

typedef struct {
	zs_rrow *r;
	size_t n, cap;
} rvec;

static int ent_push(zs_rver *v, const char *agb, int year, rblock *b)
{
	if (zs_grow(&v->e, &v->cap, v->n, sizeof *v->e, 1024))
		return -1;
	rent *e = &v->e[v->n++];
	memset(e->agb, 0, sizeof e->agb);
	memcpy(e->agb, agb, strlen(agb));
	e->year = year;
	e->b = b;
	v->nrows += b->n;
	return 0;
}

static int flush_block(zs_rver *v, const char *agb, int year, rvec *rv)
{
	if (!rv->n)
		return 0;
	rblock *b = malloc(sizeof *b + rv->n * sizeof b->r[0]);
	if (!b)
		return -1;
	atomic_init(&b->refs, 1);
	b->n = (uint32_t)rv->n;
	memcpy(b->r, rv->r, rv->n * sizeof b->r[0]);
	rv->n = 0;
	if (ent_push(v, agb, year, b)) {
		free(b);
		return -1;
	}
	return 0;
}

/* The policies that have left the feeds (zs_rollover.h: table retired), by year and id: their
 * rows are not held (readers hide them too, and the rollover deletes them later without marking
 * the providers; a policy retiring or coming back marks everything). Nearly always empty. */
typedef struct {
	struct ret {
		int year;
		char *id;
	} *v;
	size_t n;
} retset;

static int ret_cmp(const void *a, const void *b)
{
	const struct ret *x = a, *y = b;
	return x->year != y->year ? (x->year < y->year ? -1 : 1) : strcmp(x->id, y->id);
}

static void retset_free(retset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].id);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

static int retset_load(sqlite3 *db, retset *rs, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int s;
	rs->v = NULL;
	rs->n = 0;
	if (sqlite3_prepare_v2(db, "SELECT year, policy_id FROM retired", -1, &st, NULL)) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		return -1;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);
		if (!id)
			continue;
		if (zs_grow(&rs->v, &cap, rs->n, sizeof *rs->v, 8) ||
		    !(rs->v[rs->n].id = strdup(id))) {
			s = SQLITE_NOMEM;
			break;
		}
		rs->v[rs->n++].year = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		snprintf(err, errlen, "reading retired policies: %s", sqlite3_errstr(s));
		retset_free(rs);
		return -1;
	}
	if (rs->n > 1) /* nearly always none: qsort is not given a null array */
		qsort(rs->v, rs->n, sizeof *rs->v, ret_cmp);
	return 0;
}

static int retired(const retset *rs, int year, const char *id)
{
	if (!rs->n)
		return 0;
	struct ret k = { year, (char *)id };
	return bsearch(&k, rs->v, rs->n, sizeof *rs->v, ret_cmp) != NULL;
}

/* Every row of st (ordered by agb, year, policy_id, care_type) into blocks of v, but those of
 * retired policies. */
static int scan(zs_rver *v, sqlite3_stmt *st, const retset *ret, char *err, size_t errlen)
{
	colcache cc = { { 0 }, { 0 } };
	rvec rv = { 0 };
	char agb[AGB_MAX] = "";
	int year = INT_MIN, s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 18);
		int y = sqlite3_column_int(st, 19);
		if (!a || strlen(a) >= AGB_MAX)
			continue; /* not held: readers read such a provider from the table */
		if (retired(ret, y, (const char *)sqlite3_column_text(st, 0)))
			continue;
		if (y != year || strcmp(a, agb) != 0) {
			if (flush_block(v, agb, year, &rv)) {
				rc = -1;
				break;
			}
			memcpy(agb, a, strlen(a) + 1);
			year = y;
		}
		if (zs_grow(&rv.r, &rv.cap, rv.n, sizeof *rv.r, 256) ||
		    row_of(v->ep, &cc, st, &rv.r[rv.n])) {
			rc = -1;
			break;
		}
		rv.n++;
	}
	if (rc == 0 && s != SQLITE_DONE) {
		snprintf(err, errlen, "reading effective rows: %s",
		         sqlite3_errmsg(sqlite3_db_handle(st)));
		rc = -1;
	} else if (rc == 0 && flush_block(v, agb, year, &rv)) {
		rc = -1;
	}
	if (rc && !err[0])
		snprintf(err, errlen, "out of memory (or an epoch's tables full)");
	free(rv.r);
	return rc;
}

static zs_rver *rver_new(zs_rows *s, epoch *ep, long long gen)
{
	zs_rver *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	atomic_init(&v->refs, 1);
	v->owner = s;
	v->gen = gen;
	v->ep = ep;
	atomic_fetch_add(&ep->refs, 1);
	return v;
}

/* A new, empty version of the epoch and the statement its rows come from: NULL with err. */
static zs_rver *version_start(zs_rows *s, epoch *ep, long long gen, sqlite3 *db, const char *sql,
                              sqlite3_stmt **st, char *err, size_t errlen)
{
	zs_rver *v = rver_new(s, ep, gen);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL)) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		zs_rver_release(v);
		return NULL;
	}
	return v;
}

/* Every row of the snapshot into a version of a new epoch: NULL with err. */
static zs_rver *build_full(zs_rows *s, sqlite3 *db, long long gen, const retset *ret, char *err,
                          size_t errlen)
{
	epoch *ep = epoch_new();
	sqlite3_stmt *st;
	zs_rver *v = ep ? version_start(s, ep, gen, db, "SELECT " ROW_COLS " FROM effective"
	                                " ORDER BY agb, year, policy_id, care_type", &st, err, errlen)
	                : NULL;
	epoch_release(ep); /* v holds it */
	if (!v) {
		if (!ep)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rc = scan(v, st, ret, err, errlen);
	sqlite3_finalize(st);
	if (rc || !(v->prov = zs_provtext_full(db, err, errlen))) {
		zs_rver_release(v);
		return NULL;
	}
	ep->full_texts = ep->texts.n;
	ep->full_pats = ep->pats.n;
	return v;
}

/* A version from old and the rows of the providers in agbs (sorted, distinct) read again.
 * NULL with err. */
static zs_rver *build_incr(zs_rows *s, sqlite3 *db, const zs_rver *old, long long gen,
                           char (*agbs)[AGB_MAX], size_t nagb, const retset *ret, char *err,
                           size_t errlen)
{
	sqlite3_stmt *st;
	zs_rver *v = version_start(s, old->ep, gen, db, "SELECT " ROW_COLS " FROM effective"
	                           " WHERE agb=?1 ORDER BY year, policy_id, care_type", &st, err,
	                           errlen);
	if (!v)
		return NULL;
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < old->n || j < nagb)) {
		int c = i == old->n ? 1 : j == nagb ? -1 : strcmp(old->e[i].agb, agbs[j]);
		if (c < 0) { /* unchanged: shared */
			atomic_fetch_add(&old->e[i].b->refs, 1);
			if (ent_push(v, old->e[i].agb, old->e[i].year, old->e[i].b)) {
				block_release(old->e[i].b);
				rc = -1;
			}
			i++;
			continue;
		}
		while (c == 0 && i < old->n && strcmp(old->e[i].agb, agbs[j]) == 0)
			i++; /* changed: its rows come again below */
		sqlite3_bind_text(st, 1, agbs[j], -1, SQLITE_STATIC);
		rc = scan(v, st, ret, err, errlen);
		sqlite3_reset(st);
		j++;
	}
	sqlite3_finalize(st);
	if (rc || (old->prov && !(v->prov = zs_provtext_incr(db, old->prov, agbs, nagb, err,
	                                                       errlen)))) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		zs_rver_release(v);
		return NULL;
	}
	return v;
}

/* ---- the store ------------------------------------------------------------------------------ */

struct zs_rows {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	zs_rver *cur;          /* the newest version (the store's reference) */
	zs_rows_stats pub;     /* of the newest version, made by the builder as it publishes */
	/* the builder thread */
	sqlite3 *db;
	const zs_config *cfg;
	pthread_t thread;
	int running, stop;
	zs_rver *graveyard;    /* versions let go, for the thread to free */
	_Atomic size_t versions; /* alive (zs_rows_stats.versions) */
};

/* One version more (d 1) or less (-1) alive. */
static void versions_count(zs_rows *s, int d)
{
	if (d > 0)
		atomic_fetch_add(&s->versions, 1);
	else
		atomic_fetch_sub(&s->versions, 1);
}

/* A version let go while the thread runs: to the thread (1), else freed by the caller (0). */
static int hand_over(zs_rows *s, zs_rver *v)
{
	int taken = 0;
	pthread_mutex_lock(&s->mu);
	if (s->running && !s->stop) {
		v->next = s->graveyard;
		s->graveyard = v;
		pthread_cond_signal(&s->cv);
		taken = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return taken;
}

static void bury(zs_rows *s)
{
	pthread_mutex_lock(&s->mu);
	zs_rver *g = s->graveyard;
	s->graveyard = NULL;
	pthread_mutex_unlock(&s->mu);
	while (g) {
		zs_rver *next = g->next;
		rver_free(g);
		g = next;
	}
}

zs_rows *zs_rows_new(void)
{
	zs_rows *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

void zs_rows_free(zs_rows *s)
{
	if (!s)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
		bury(s);
	}
	if (s->db)
		sqlite3_close(s->db);
	zs_rver_release(s->cur);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

zs_rver *zs_rows_get(zs_rows *s, long long gen)
{
	zs_rver *v = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->cur && s->cur->gen == gen) {
		v = s->cur;
		atomic_fetch_add(&v->refs, 1);
	}
	pthread_mutex_unlock(&s->mu);
	return v;
}

/* Whether the epoch has grown so much past its full build that a new one is due. */
static int epoch_worn(const epoch *ep)
{
	return ep->pats.n > 2 * (size_t)ep->full_pats + 65536 ||
	       ep->texts.n > 2 * (size_t)ep->full_texts + 65536;
}

static int agb_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The providers marked changed in (from, to], sorted; *all when that is not known. */
static int changed_agbs(sqlite3 *db, long long from, long long to, char (**out)[AGB_MAX],
                        size_t *n, int *all)
{
	char (*keys)[ZS_DEP_KEY_MAX] = NULL;
	size_t nk = 0;
	*out = NULL;
	*n = 0;
	if (zs_deps_dirty_keys(db, from, to, &keys, &nk, all))
		return -1;
	if (*all || !nk) {
		free(keys);
		return 0;
	}
	*out = malloc(nk * sizeof **out);
	if (!*out) {
		free(keys);
		return -1;
	}
	for (size_t k = 0; k < nk; k++) {
		if (strncmp(keys[k], "p:", 2) != 0 || strlen(keys[k] + 2) >= AGB_MAX)
			continue; /* other keys change no row; a long agb is not held */
		memcpy((*out)[*n], keys[k] + 2, strlen(keys[k] + 2) + 1);
		(*n)++;
	}
	free(keys);
	/* distinct and in strcmp order (the keys came sorted; sorted again to not depend on it) */
	if (*n > 1)
		qsort(*out, *n, sizeof **out, agb_cmp);
	size_t w = 0;
	for (size_t k = 0; k < *n; k++)
		if (w == 0 || strcmp((*out)[w - 1], (*out)[k]) != 0)
			memmove((*out)[w++], (*out)[k], AGB_MAX);
	*n = w;
	return 0;
}

int zs_rows_update(zs_rows *s, sqlite3 *db, char *err, size_t errlen)
{
	err[0] = 0;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "begin: %s", sqlite3_errmsg(db));
		pthread_mutex_lock(&s->mu);
		s->pub.failures++; /* a build that failed (/readyz stops waiting for one) */
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	long long t0 = zs_metrics_now_us();
	long long gen = zs_db_generation(db);
	pthread_mutex_lock(&s->mu);
	zs_rver *old = s->cur;
	if (old)
		atomic_fetch_add(&old->refs, 1);
	pthread_mutex_unlock(&s->mu);
	zs_rver *v = NULL;
	int full = 1, rc = 0;
	retset ret = { NULL, 0 };
	if (gen < 0) {
		snprintf(err, errlen, "no generation in the database");
		rc = -1;
	} else if (old && old->gen == gen) {
		full = -1; /* nothing to do */
	} else if (retset_load(db, &ret, err, errlen)) {
		rc = -1;
	} else if (old && old->gen < gen && !epoch_worn(old->ep)) {
		char (*agbs)[AGB_MAX];
		size_t n;
		int all = 0;
		if (changed_agbs(db, old->gen, gen, &agbs, &n, &all) == 0 && !all) {
			full = 0;
			v = build_incr(s, db, old, gen, agbs, n, &ret, err, errlen);
		}
		free(agbs);
	}
	if (full == 1 && rc == 0)
		v = build_full(s, db, gen, &ret, err, errlen);
	else if (full == 0 && !v) { /* an incremental build failed (e.g. the epoch is full) */
		err[0] = 0;
		v = build_full(s, db, gen, &ret, err, errlen);
		full = 1;
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	retset_free(&ret);
	zs_rver_release(old);
	if (full < 0)
		return 0;
	double ms = (double)(zs_metrics_now_us() - t0) / 1000.0;
	zs_rows_stats st = { 0 };
	if (v) { /* read here: only this builder adds to the epoch */
		const epoch *ep = v->ep;
		st.state = 2;
		st.gen = v->gen;
		st.providers = v->n;
		st.rows = v->nrows;
		st.patterns = ep->pats.n;
		st.texts = ep->texts.n;
		st.bytes = v->cap * sizeof *v->e + v->n * sizeof(rblock) +
		           v->nrows * sizeof(zs_rrow) + ep->tbytes +
		           ((size_t)ep->pats.n + CHUNK) * sizeof(eff_view) +
		           ((size_t)ep->texts.n + CHUNK) * sizeof(char *) +
		           (ep->pat_ix.cap + ep->text_ix.cap) * sizeof(struct slot) +
		           zs_provtext_bytes(v->prov);
	}
	pthread_mutex_lock(&s->mu);
	if (v) {
		old = s->cur;
		s->cur = v;
		v->counted = 1; /* a version being built is not counted */
		versions_count(s, 1);
		st.builds = s->pub.builds + 1;
		st.full_builds = s->pub.full_builds + (full == 1);
		st.failures = s->pub.failures;
		st.last_build_ms = ms;
		s->pub = st;
	} else {
		old = NULL;
		s->pub.failures++;
	}
	pthread_mutex_unlock(&s->mu);
	zs_rver_release(old);
	if (!v)
		return -1;
	if (full)
		ZS_INFO(MOD, "snapshot %lld in memory: %zu rows of %zu provider-years, %zu patterns,"
		        " %.1f MiB, built in %.0f ms", gen, st.rows, st.providers, st.patterns,
		        (double)st.bytes / 1048576.0, ms);
	else
		ZS_DEBUG(MOD, "snapshot %lld in memory: %zu rows, %zu patterns, %.1f ms", gen, st.rows,
		         st.patterns, ms);
	return 0;
}

static void *rows_main(void *arg)
{
	zs_rows *s = arg;
	zs_thread_name("zs-rows");
#ifdef __linux__
	/* the lowest priority: a build only speeds answers up (until it is there they read the
	 * table), so it yields to serving and to the ingest; while the feeds are first loaded,
	 * every insurer feed changes most providers and the builds follow one another */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#endif
	long long seen = LLONG_MIN;
	int failing = 0;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->mu);
		bury(s);
		long long g = atomic_load(&zs_generation);
		if (g != seen) {
			char err[256];
			if (zs_rows_update(s, s->db, err, sizeof err) == 0) {
				seen = g;
				if (failing)
					ZS_INFO(MOD, "rows in memory again");
				failing = 0;
			} else if (!failing++) {
				ZS_WARN(MOD, "rows in memory: %s; answers read the database until a build"
				        " succeeds", err);
			}
		}
		pthread_mutex_lock(&s->mu);
		if (s->stop || s->graveyard)
			continue;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long wait_ms = failing ? 5000 : 50;
		ts.tv_nsec += wait_ms % 1000 * 1000000L;
		ts.tv_sec += wait_ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int zs_rows_start(zs_rows *s, const zs_config *cfg, char *err, size_t errlen)
{
	s->cfg = cfg;
	s->db = zs_db_open(cfg->database, 1, err, errlen);
	if (!s->db)
		return -1;
	pthread_mutex_lock(&s->mu);
	s->running = 1; /* before the thread: it may hand a version over to itself */
	pthread_mutex_unlock(&s->mu);
	if (pthread_create(&s->thread, NULL, rows_main, s) != 0) {
		snprintf(err, errlen, "cannot start the rows thread");
		pthread_mutex_lock(&s->mu);
		s->running = 0;
		pthread_mutex_unlock(&s->mu);
		sqlite3_close(s->db);
		s->db = NULL;
		return -1;
	}
	return 0;
}

void zs_rows_get_stats(zs_rows *s, zs_rows_stats *st)
{
	memset(st, 0, sizeof *st);
	st->gen = -1;
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	*st = s->pub;
	st->versions = atomic_load(&s->versions);
	if (!s->cur) {
		st->state = 1;
		st->gen = -1;
	}
	pthread_mutex_unlock(&s->mu);
}
