/* zs_typo.c - typo alternatives for search words (see zs_typo.h). */
#include "config.h"
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_text.h"
#include "zs_typo.h"
#include "zs_util.h"

/* ---- the per-snapshot typo index: every vocabulary term under its deletions (up to 2) ---- */
struct zs_search_idx {
	long long gen;
	char **terms;
	long *docs;
	size_t nterms;
	uint32_t *sh, *st; /* slot hash (0 = empty), slot term */
	size_t mask;
};

static void idx_free(struct zs_search_idx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nterms; i++)
		free(x->terms[i]);
	free(x->terms);
	free(x->docs);
	free(x->sh);
	free(x->st);
	free(x);
}

void zs_search_free_cache(zs_reader *r)
{
	idx_free(r->sidx);
	r->sidx = NULL;
}

/* FNV-1a of s[0..n) without the characters at i and j (n = none). */
static uint32_t hash_skip(const char *s, size_t n, size_t i, size_t j)
{
	uint32_t h = 2166136261u;
	for (size_t k = 0; k < n; k++)
		if (k != i && k != j)
			h = (h ^ (unsigned char)s[k]) * 16777619u;
	return h ? h : 1;
}

static size_t ndeletes(size_t len, int maxd)
{
	return 1 + len + (maxd >= 2 && len >= 4 ? len * (len - 1) / 2 : 0);
}

static void idx_put(struct zs_search_idx *x, uint32_t h, uint32_t t)
{
	size_t s = h & x->mask;
	while (x->sh[s])
		s = (s + 1) & x->mask;
	x->sh[s] = h;
	x->st[s] = t;
}

static struct zs_search_idx *idx_build(zs_reader *r)
{
	struct zs_search_idx *x = calloc(1, sizeof *x);
	sqlite3_stmt *q;
	size_t cap = 0, entries = 0;
	if (!x)
		return NULL;
	x->gen = r->search_gen;
	if (sqlite3_prepare_v2(r->db, "SELECT term, sum(doc) FROM provider_vocab_col"
	                       " WHERE col IN ('name', 'alias', 'city') GROUP BY term", -1, &q,
	                       NULL) != SQLITE_OK)
		return x;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		size_t tl = t ? strlen(t) : 0;
		if (tl < 3 || tl > ZS_TYPO_MAX_TERM || !isalpha((unsigned char)t[0]))
			continue;
		if (zs_grow(&x->terms, &cap, x->nterms, sizeof *x->terms, 1024))
			break;
		long *nd = realloc(x->docs, cap * sizeof *nd);
		if (!nd)
			break;
		x->docs = nd;
		if (!(x->terms[x->nterms] = strdup(t)))
			break;
		x->docs[x->nterms++] = (long)sqlite3_column_int64(q, 1);
		entries += ndeletes(tl, 2);
	}
	sqlite3_finalize(q);
	size_t slots = 1024;
	while (slots < 2 * entries)
		slots *= 2;
	x->sh = calloc(slots, sizeof *x->sh);
	x->st = calloc(slots, sizeof *x->st);
	if (!x->sh || !x->st) {
		free(x->sh);
		free(x->st);
		x->sh = x->st = NULL;
		return x;
	}
	x->mask = slots - 1;
	for (size_t t = 0; t < x->nterms; t++) {
		const char *s = x->terms[t];
		size_t n = strlen(s);
		idx_put(x, hash_skip(s, n, n, n), (uint32_t)t);
		for (size_t i = 0; i < n; i++) {
			idx_put(x, hash_skip(s, n, i, n), (uint32_t)t);
			for (size_t j = i + 1; n >= 4 && j < n; j++)
				idx_put(x, hash_skip(s, n, i, j), (uint32_t)t);
		}
	}
	return x;
}

static struct zs_search_idx *idx_get(zs_reader *r)
{
	/* rebuilt only when the searchable data changed (the last snapshot that marked the
	 * dependency key "search", zs_deps.h), not at every snapshot */
	if (r->sidx && r->sidx->gen == r->search_gen)
		return r->sidx;
	zs_search_free_cache(r);
	r->sidx = idx_build(r);
	return r->sidx;
}

void zs_search_warm(zs_reader *r)
{
	idx_get(r);
}


int zs_typo_alternatives(zs_reader *r, const char *w, char alt[][ZS_TYPO_MAX_TERM + 1], int max)
{
	size_t wl = strlen(w);
	int nalt = 0;
	if (max > ZS_TYPO_MAX_ALTS)
		max = ZS_TYPO_MAX_ALTS;
	if (wl < 4 || wl > ZS_TYPO_MAX_TERM || !isalpha((unsigned char)w[0]))
		return 0;
	struct zs_search_idx *x = idx_get(r);
	if (!x || !x->sh)
		return 0;
	int maxd = wl >= 5 ? 2 : 1, best = maxd + 1;
	uint32_t seen[256];
	size_t nseen = 0;
	long docs[ZS_TYPO_MAX_ALTS] = { 0 };
	for (size_t i = 0; i <= wl; i++)
		for (size_t j = i + 1; j <= wl + 1; j++) {
			/* i == wl: no deletion; j > wl: one deletion; else two */
			if ((i == wl && j != wl + 1) || (j <= wl && (maxd < 2 || j == wl)))
				continue;
			uint32_t h = hash_skip(w, wl, i, j <= wl ? j : wl);
			for (size_t s = h & x->mask; x->sh[s]; s = (s + 1) & x->mask) {
				if (x->sh[s] != h)
					continue;
				uint32_t t = x->st[s];
				size_t k;
				for (k = 0; k < nseen && seen[k] != t; k++)
					;
				if (k < nseen || nseen >= sizeof seen / sizeof seen[0])
					continue;
				seen[nseen++] = t;
				const char *term = x->terms[t];
				int d = zs_text_distance(w, wl, term, strlen(term), maxd);
				if (d == 0 || d > maxd || d > best)
					continue;
				if (d < best) {
					best = d;
					nalt = 0;
				}
				/* keep the most frequent ones */
				int at = nalt;
				while (at > 0 && docs[at - 1] < x->docs[t])
					at--;
				if (at >= max)
					continue;
				int last = nalt < max ? nalt : max - 1;
				memmove(&alt[at + 1], &alt[at], (size_t)(last - at) * sizeof alt[0]);
				memmove(&docs[at + 1], &docs[at], (size_t)(last - at) * sizeof docs[0]);
				snprintf(alt[at], sizeof alt[0], "%s", term);
				docs[at] = x->docs[t];
				if (nalt < max)
					nalt++;
			}
		}
	return nalt;
}
