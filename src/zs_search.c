/* zs_search.c - GET /v1/search: providers by what people type, on SQLite FTS5.
 *
 * The query is folded (lower case, no diacritics) and split into words; every word is a prefix
 * term, so the last, half-typed word matches too, and word order does not matter. Known
 * abbreviations expand ("st" = "sint", "zh"/"zkh" = "ziekenhuis", "mc" = "medisch centrum").
 * When the strict query yields fewer than 20 hits, words of 4+ letters are matched against the
 * index vocabulary within edit distance 1 (2 for 8+ letters), and those hits follow as "fuzzy".
 * Ranking: exact name, then names starting with the query (alphabetical), then any other match
 * by bm25 (name weighs 10x the place), then fuzzy by bm25; remaining ties by name, then AGB. An 8-digit query is an AGB lookup;
 * a postcode (1234 or 1234AB) searches locations.
 */
#include "config.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_catalogue.h"
#include "zs_feed.h"
#include "zs_text.h"
#include "zs_time.h"
#include "zs_util.h"

#define MAX_WORDS 8
#define MAX_CANDIDATES 1000
#define MAX_LIMIT 50
#define FUZZY_BELOW 20 /* fuzzy matching when the strict query finds fewer (independent of paging) */

static const struct { const char *abbr, *expansion; } synonyms[] = {
	{ "st", "sint" }, { "sint", "st" }, { "zh", "ziekenhuis" }, { "zkh", "ziekenhuis" },
	{ "mc", "medisch centrum" }, { "umc", "universitair medisch centrum" },
	{ "ggz", "geestelijke gezondheidszorg" }, { "fysio", "fysiotherapie" },
};

void zs_search_free_cache(zs_reader *r)
{
	for (size_t i = 0; i < r->nvocab; i++)
		free(r->vocab[i]);
	free(r->vocab);
	r->vocab = NULL;
	r->nvocab = 0;
	r->vocab_gen = -1;
}

static void load_vocab(zs_reader *r)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	if (r->vocab && r->vocab_gen == r->gen)
		return;
	zs_search_free_cache(r);
	if (sqlite3_prepare_v2(r->db, "SELECT term FROM provider_vocab", -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (!t || strlen(t) < 3 || isdigit((unsigned char)t[0]))
			continue;
		if (zs_grow(&r->vocab, &cap, r->nvocab, sizeof *r->vocab, 1024))
			break;
		r->vocab[r->nvocab++] = strdup(t);
	}
	sqlite3_finalize(st);
	r->vocab_gen = r->gen;
}

/* Append to a growing string; returns 0, -1 when it does not fit. */
static int app(char *buf, size_t len, size_t *n, const char *s)
{
	size_t l = strlen(s);
	if (*n + l + 1 > len)
		return -1;
	memcpy(buf + *n, s, l + 1);
	*n += l;
	return 0;
}

/* One word as an FTS5 expression: "w"* OR its expansion. Words are [a-z0-9]+ (folded). */
static int word_expr(const char *w, int prefix, char *buf, size_t len, size_t *n)
{
	char t[96];
	snprintf(t, sizeof t, "\"%s\"%s", w, prefix ? "*" : "");
	for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++) {
		if (strcmp(w, synonyms[i].abbr) != 0)
			continue;
		char exp[128];
		size_t k = 0;
		exp[0] = 0;
		/* expansion words are ANDed: ("medisch"* "centrum"*) */
		char copy[96];
		snprintf(copy, sizeof copy, "%s", synonyms[i].expansion);
		for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			char one[64];
			snprintf(one, sizeof one, "%s\"%s\"*", k ? " " : "", tok);
			app(exp, sizeof exp, &k, one);
		}
		return app(buf, len, n, "(") || app(buf, len, n, t) || app(buf, len, n, " OR (") ||
		       app(buf, len, n, exp) || app(buf, len, n, "))");
	}
	return app(buf, len, n, t);
}

/* The query with one-word abbreviations written out ("st antonius" -> "sint antonius"), so
 * that an abbreviated query still ranks as an exact or prefix match of the name. */
static void expand_query(const char *qnorm, char *out, size_t len)
{
	char copy[256];
	size_t n = 0;
	out[0] = 0;
	snprintf(copy, sizeof copy, "%s", qnorm);
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		const char *w = tok;
		for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++)
			if (strcmp(tok, synonyms[i].abbr) == 0 && !strchr(synonyms[i].expansion, ' ') &&
			    strlen(synonyms[i].expansion) > strlen(tok))
				w = synonyms[i].expansion;
		if (n)
			app(out, len, &n, " ");
		app(out, len, &n, w);
	}
}

static int name_tier(const char *norm, const char *q)
{
	size_t ql = q ? strlen(q) : 0;
	if (!norm || !ql)
		return 2;
	if (strcmp(norm, q) == 0)
		return 0;
	return strncmp(norm, q, ql) == 0 ? 1 : 2;
}

typedef struct {
	char agb[9];
	char *norm;     /* folded name: ranks ties and decides exact/prefix */
	int tier;       /* 0 exact, 1 name prefix, 2 other, 3 fuzzy, -1 agb */
	double score;
} hit;

static int hit_cmp(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	/* exact and prefix matches: alphabetical; other matches: by relevance first */
	if (x->tier > 1 && x->score != y->score)
		return x->score < y->score ? -1 : 1; /* bm25: lower is better */
	int c = strcmp(x->norm ? x->norm : "", y->norm ? y->norm : "");
	return c ? c : strcmp(x->agb, y->agb);
}

typedef struct {
	hit *v;
	size_t n, cap;
	size_t nstrict;  /* hits of the strict pass, sorted by AGB while fuzzy hits are added */
} hits;

static int agb_cmp(const void *a, const void *b)
{
	return strcmp(((const hit *)a)->agb, ((const hit *)b)->agb);
}

static int has_hit(const hits *h, const char *agb)
{
	hit key;
	if (h->nstrict == 0) /* bsearch wants a real array */
		return 0;
	snprintf(key.agb, sizeof key.agb, "%s", agb);
	return bsearch(&key, h->v, h->nstrict, sizeof *h->v, agb_cmp) != NULL;
}

static void hits_free(hits *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].norm);
	free(h->v);
}

/* Columns: agb, norm, score. */
static void add_hit(hits *h, sqlite3_stmt *st, int tier, const char *qnorm, const char *qexp)
{
	const char *agb = (const char *)sqlite3_column_text(st, 0);
	if (!agb || h->n >= 2 * MAX_CANDIDATES || (tier == 3 && has_hit(h, agb)))
		return;
	if (zs_grow(&h->v, &h->cap, h->n, sizeof *h->v, 64))
		return;
	hit *x = &h->v[h->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->agb, sizeof x->agb, "%s", agb);
	const char *norm = (const char *)sqlite3_column_text(st, 1);
	x->norm = norm ? strdup(norm) : NULL;
	x->score = sqlite3_column_double(st, 2);
	x->tier = tier;
	if (tier == 2 && qnorm && *qnorm) {
		int t1 = name_tier(norm, qnorm), t2 = name_tier(norm, qexp);
		x->tier = t1 < t2 ? t1 : t2;
	}
}

/* Run one MATCH with the filters; add its hits at the given tier. Only the index is read
 * here; the page's details come from the provider table afterwards. */
static int run_match(zs_reader *r, const char *match, const char *kind, const char *care_type,
                     int year, int tier, const char *qnorm, hits *h)
{
	char sql[1024], qexp[256] = "";
	sqlite3_stmt *st;
	if (qnorm)
		expand_query(qnorm, qexp, sizeof qexp);
	snprintf(sql, sizeof sql,
	         "SELECT f.agb, f.norm, bm25(provider_fts, 0.0, 0.0, 10.0, 1.0) AS score"
	         " FROM provider_fts f %s WHERE provider_fts MATCH ?1 %s ORDER BY score LIMIT %d",
	         kind ? "JOIN provider p ON p.agb = f.agb AND p.kind = ?2" : "",
	         care_type ? "AND EXISTS (SELECT 1 FROM effective e WHERE e.agb = f.agb"
	                     " AND e.year = ?4 AND e.care_type = ?3)" : "",
	         MAX_CANDIDATES);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	if (kind)
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (care_type) {
		sqlite3_bind_text(st, 3, care_type, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, year);
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		add_hit(h, st, tier, qnorm, qexp);
	sqlite3_finalize(st);
	return 0;
}

static int parse_uint(const char *v, long lo, long hi, long *out)
{
	char *end;
	if (!v || !*v)
		return -1;
	long x = strtol(v, &end, 10);
	if (*end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

json_t *zs_api_search(zs_reader *r, const zs_request *req, int *status)
{
	const char *q = zs_param(req, "q"), *postcode = zs_param(req, "postcode"),
	           *city = zs_param(req, "city"), *kind = zs_param(req, "kind"),
	           *care_type = zs_param(req, "care_type");
	long limit = 10, offset = 0;
	int year = 0;
	json_t *err = NULL;
	char qnorm[256] = "", pc[8] = "", match[1024], citynorm[128] = "";
	size_t n = 0;

	if (zs_param(req, "limit") && parse_uint(zs_param(req, "limit"), 1, MAX_LIMIT, &limit))
		return zs_api_error(status, 400, "bad_parameter", "limit",
		                    "limit: a whole number from 1 to %d", MAX_LIMIT);
	if (zs_param(req, "offset") && parse_uint(zs_param(req, "offset"), 0, MAX_CANDIDATES, &offset))
		return zs_api_error(status, 400, "bad_parameter", "offset",
		                    "offset: a whole number from 0 to %d", MAX_CANDIDATES);
	if (q && strlen(q) > 200)
		return zs_api_error(status, 400, "bad_parameter", "q", "q: at most 200 characters");
	if (kind && !zs_provider_kind_valid(kind))
		return zs_api_error(status, 400, "bad_parameter", "kind", "kind: unknown provider kind");
	if (care_type && !zs_care_type_find(care_type))
		return zs_api_error(status, 400, "bad_parameter", "care_type",
		                    "care_type: unknown care type");
	if ((err = zs_request_year(req, &year, status)))
		return err;
	if (postcode) {
		size_t k = 0;
		for (const char *p = postcode; *p && k < 7; p++)
			if (*p != ' ')
				pc[k++] = (char)tolower((unsigned char)*p);
		pc[k] = 0;
		int ok = (k == 4 || k == 6) && pc[0] >= '1' && pc[0] <= '9';
		for (size_t i = 1; ok && i < 4; i++)
			ok = isdigit((unsigned char)pc[i]);
		for (size_t i = 4; ok && i < k; i++)
			ok = pc[i] >= 'a' && pc[i] <= 'z';
		if (!ok || strlen(postcode) > 8)
			return zs_api_error(status, 400, "bad_parameter", "postcode",
			                    "postcode: 4 digits (area) or 4 digits and 2 letters, e.g. 3435CM");
	}
	if (city) {
		if (strlen(city) > 100)
			return zs_api_error(status, 400, "bad_parameter", "city", "city: too long");
		zs_text_fold(city, citynorm, sizeof citynorm);
		if (!citynorm[0])
			return zs_api_error(status, 400, "bad_parameter", "city", "city: no letters");
	}
	if (q)
		zs_text_fold(q, qnorm, sizeof qnorm);
	if (!qnorm[0] && !pc[0] && !citynorm[0])
		return zs_api_error(status, 400, "missing_parameter", "q",
		                    "q: type part of a name, an AGB code or a postcode"
		                    " (or give postcode or city)");

	zs_reader_refresh(r);
	hits h = { 0 };
	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);

	/* An 8-digit query is an AGB code. */
	if (zs_valid_agb(qnorm)) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(r->db, "SELECT agb, '', 0.0 FROM provider WHERE agb = ?", -1,
		                       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, qnorm, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				add_hit(&h, st, -1, NULL, NULL);
			sqlite3_finalize(st);
		}
	} else {
		/* Filters as column-restricted terms. */
		char filt[512] = "";
		size_t fn = 0;
		if (pc[0]) {
			char t[32];
			snprintf(t, sizeof t, " AND place : \"%s\"%s", pc, strlen(pc) == 4 ? "*" : "");
			app(filt, sizeof filt, &fn, t);
		}
		if (citynorm[0]) {
			app(filt, sizeof filt, &fn, " AND place : (");
			char copy[128];
			snprintf(copy, sizeof copy, "%s", citynorm);
			for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				char t[80];
				snprintf(t, sizeof t, " \"%s\"", tok);
				app(filt, sizeof filt, &fn, t);
			}
			app(filt, sizeof filt, &fn, ")");
		}
		/* A query that is itself a postcode searches locations. */
		char words[MAX_WORDS][64];
		int nw = 0;
		char copy[256];
		snprintf(copy, sizeof copy, "%s", qnorm);
		for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok && nw < MAX_WORDS;
		     tok = strtok_r(NULL, " ", &save))
			snprintf(words[nw++], sizeof words[0], "%.63s", tok);
		/* "3435 cm" typed with a space is one postcode token */
		for (int i = 0; i + 1 < nw; i++) {
			int digits = strlen(words[i]) == 4, letters = strlen(words[i + 1]) == 2;
			for (int k = 0; k < 4 && digits; k++)
				digits = isdigit((unsigned char)words[i][k]);
			for (int k = 0; k < 2 && letters; k++)
				letters = isalpha((unsigned char)words[i + 1][k]);
			if (digits && letters) {
				strcat(words[i], words[i + 1]);
				memmove(&words[i + 1], &words[i + 2], (size_t)(nw - i - 2) * sizeof words[0]);
				nw--;
			}
		}
		n = 0;
		match[0] = 0;
		for (int i = 0; i < nw; i++) {
			if (i)
				app(match, sizeof match, &n, " AND ");
			word_expr(words[i], 1, match, sizeof match, &n);
		}
		/* without words, the filters stand alone: drop the leading " AND " */
		app(match, sizeof match, &n, nw ? filt : filt + (filt[0] ? 5 : 0));
		run_match(r, match, kind, care_type, year, 2, qnorm, &h);
		h.nstrict = h.n;
		if (h.n > 1)
			qsort(h.v, h.n, sizeof *h.v, agb_cmp);

		/* Fuzzy: when the strict query leaves room. */
		if (h.n < FUZZY_BELOW && nw > 0) {
			load_vocab(r);
			char fz[4096];
			size_t fzn = 0;
			int any_alt = 0;
			fz[0] = 0;
			for (int i = 0; i < nw; i++) {
				size_t wl = strlen(words[i]);
				int maxd = wl >= 8 ? 2 : 1;
				size_t start = fzn;
				app(fz, sizeof fz, &fzn, i ? " AND (" : "(");
				word_expr(words[i], 1, fz, sizeof fz, &fzn);
				if (wl >= 4 && !isdigit((unsigned char)words[i][0])) {
					int alts = 0;
					for (size_t v = 0; v < r->nvocab && alts < 8; v++) {
						const char *t = r->vocab[v];
						/* cheap rejection first: a typo rarely hits both first letters */
						if (t[0] != words[i][0] && t[1] != words[i][1])
							continue;
						size_t tl = strlen(t);
						/* whole term, or the term's prefix of the typed length */
						int d = zs_text_distance(words[i], wl, t, tl, maxd);
						if (d > maxd && tl > wl)
							d = zs_text_distance(words[i], wl, t, wl, maxd);
						if (d <= maxd && d > 0) {
							char one[96];
							snprintf(one, sizeof one, " OR \"%s\"", t);
							/* keep room for the closing and the filters */
							if (fzn + strlen(one) + strlen(filt) + 64 < sizeof fz &&
							    app(fz, sizeof fz, &fzn, one) == 0) {
								alts++;
								any_alt = 1;
							}
						}
					}
				}
				if (app(fz, sizeof fz, &fzn, ")")) {
					fz[start] = 0;
					fzn = start;
				}
			}
			app(fz, sizeof fz, &fzn, filt);
			if (any_alt)
				run_match(r, fz, kind, care_type, year, 3, NULL, &h);
		}
	}
	/* Exact and prefix matches first; stable order. Fuzzy hits were appended after the
	 * strict ones and keep their own tier. */
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, hit_cmp);
	json_t *arr = json_array();
	sqlite3_stmt *det = NULL;
	sqlite3_prepare_v2(r->db, "SELECT name, kind, locations FROM provider WHERE agb = ?", -1,
	                   &det, NULL);
	for (size_t i = (size_t)offset; det && i < h.n && i < (size_t)(offset + limit); i++) {
		const hit *x = &h.v[i];
		char href[64];
		static const char *const tiers[] = { "agb", "exact", "prefix", "words", "fuzzy" };
		snprintf(href, sizeof href, "/v1/providers/%s", x->agb);
		sqlite3_bind_text(det, 1, x->agb, -1, SQLITE_STATIC);
		if (sqlite3_step(det) == SQLITE_ROW) {
			const char *locs = (const char *)sqlite3_column_text(det, 2);
			json_t *l = locs ? json_loads(locs, 0, NULL) : NULL;
			json_t *first = json_array_get(l, 0);
			json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s}",
			        "agb", x->agb, "name", (const char *)sqlite3_column_text(det, 0),
			        "kind", (const char *)sqlite3_column_text(det, 1),
			        "city", json_string_value(json_object_get(first, "city")),
			        "postcode", json_string_value(json_object_get(first, "postcode")),
			        "match", tiers[x->tier + 1], "href", href));
			json_decref(l);
		}
		sqlite3_reset(det);
	}
	sqlite3_finalize(det);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:o}", "query", q ? q : "",
	                      "total", (json_int_t)h.n, "limit", (json_int_t)limit,
	                      "offset", (json_int_t)offset, "results", arr);
	hits_free(&h);
	*status = 200;
	return o;
}
