/* zs_provtext.c - providers' master data texts held with the rows in memory (zs_provtext.h). */
#include "config.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_jsonw.h"
#include "zs_provtext.h"
#include "zs_util.h"

#define AGB_MAX ZS_PROVTEXT_AGB_MAX
#define COLS "agb, name, kind, parent, locations"

typedef struct ptext {
	_Atomic unsigned refs;
	uint32_t len;
	char s[];
} ptext;

typedef struct {
	char agb[AGB_MAX];
	ptext *t;
} pent;

struct zs_provtext {
	pent *e;               /* by agb (strcmp) */
	size_t n, cap;
	size_t bytes;          /* of the texts (each counted in every table that holds it) */
};

static void ptext_release(ptext *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1)
		free(t);
}

void zs_provtext_free(zs_provtext *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		ptext_release(t->e[i].t);
	free(t->e);
	free(t);
}

/* Add agb's text p (the table takes over the caller's reference). */
static int push(zs_provtext *t, const char *agb, ptext *p)
{
	if (zs_grow(&t->e, &t->cap, t->n, sizeof *t->e, 1024))
		return -1;
	pent *e = &t->e[t->n++];
	memset(e->agb, 0, sizeof e->agb);
	memcpy(e->agb, agb, strlen(agb));
	e->t = p;
	t->bytes += sizeof *p + p->len + 1;
	return 0;
}

/* The provider of the current row of st (COLS) as an answer writes it; NULL out of memory. */
static ptext *render(sqlite3_stmt *st)
{
	json_t *o = zs_provider_obj((const char *)sqlite3_column_text(st, 0),
	                            (const char *)sqlite3_column_text(st, 1),
	                            (const char *)sqlite3_column_text(st, 2),
	                            (const char *)sqlite3_column_text(st, 3),
	                            (const char *)sqlite3_column_text(st, 4));
	size_t len = 0;
	char *text = o ? zs_json_dump(o, NULL, &len) : NULL;
	json_decref(o);
	ptext *p = text && len < UINT32_MAX ? malloc(sizeof *p + len + 1) : NULL;
	if (p) {
		atomic_init(&p->refs, 1);
		p->len = (uint32_t)len;
		memcpy(p->s, text, len + 1);
	}
	free(text);
	return p;
}

/* Every row of st into t (the agbs in order, none twice); SQLITE_DONE or the error. */
static int scan(zs_provtext *t, sqlite3_stmt *st)
{
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *agb = (const char *)sqlite3_column_text(st, 0);
		if (!agb || strlen(agb) >= AGB_MAX)
			continue; /* not held: its reader reads the table */
		ptext *p = render(st);
		if (!p || push(t, agb, p)) {
			free(p);
			return SQLITE_NOMEM;
		}
	}
	return s;
}

/* Finalize st; t when the scan ended with SQLITE_DONE, else NULL with err (t freed). */
static zs_provtext *finish(sqlite3 *db, zs_provtext *t, sqlite3_stmt *st, int s, char *err,
                           size_t errlen)
{
	if (s != SQLITE_DONE)
		snprintf(err, errlen, "reading providers: %s",
		         s == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (s == SQLITE_DONE)
		return t;
	zs_provtext_free(t);
	return NULL;
}

/* An empty table and its statement (sql): NULL with err. */
static zs_provtext *start(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err,
                          size_t errlen)
{
	zs_provtext *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL)) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		zs_provtext_free(t);
		return NULL;
	}
	return t;
}

zs_provtext *zs_provtext_full(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	zs_provtext *t = start(db, "SELECT " COLS " FROM provider ORDER BY agb", &st, err, errlen);
	if (!t)
		return NULL;
	int s = scan(t, st);
	return finish(db, t, st, s, err, errlen);
}

zs_provtext *zs_provtext_incr(sqlite3 *db, const zs_provtext *old,
                              char (*agbs)[ZS_PROVTEXT_AGB_MAX], size_t nagb, char *err,
                              size_t errlen)
{
	sqlite3_stmt *st;
	zs_provtext *t = start(db, "SELECT " COLS " FROM provider WHERE agb=?1", &st, err, errlen);
	if (!t)
		return NULL;
	size_t i = 0, j = 0;
	int s = SQLITE_DONE;
	while (s == SQLITE_DONE && (i < old->n || j < nagb)) {
		int c = i == old->n ? 1 : j == nagb ? -1 : strcmp(old->e[i].agb, agbs[j]);
		if (c < 0) { /* not read again: shared */
			atomic_fetch_add(&old->e[i].t->refs, 1);
			if (push(t, old->e[i].agb, old->e[i].t)) {
				ptext_release(old->e[i].t);
				s = SQLITE_NOMEM;
			}
			i++;
			continue;
		}
		if (c == 0)
			i++; /* read again below (or gone) */
		sqlite3_bind_text(st, 1, agbs[j], -1, SQLITE_STATIC);
		s = scan(t, st);
		sqlite3_reset(st);
		j++;
	}
	return finish(db, t, st, s, err, errlen);
}

static int agb_key_cmp(const void *key, const void *ent)
{
	return strcmp(key, ((const pent *)ent)->agb);
}

int zs_provtext_find(const zs_provtext *t, const char *agb, const char **text, size_t *len)
{
	if (strlen(agb) >= AGB_MAX)
		return -1;
	const pent *e = t->n ? bsearch(agb, t->e, t->n, sizeof *t->e, agb_key_cmp) : NULL;
	if (!e)
		return 0;
	*text = e->t->s;
	*len = e->t->len;
	return 1;
}

size_t zs_provtext_count(const zs_provtext *t)
{
	return t ? t->n : 0;
}

size_t zs_provtext_bytes(const zs_provtext *t)
{
	return t ? t->cap * sizeof *t->e + t->bytes : 0;
}
