/* zs_search.c - GET /v1/search: providers by what people type, on SQLite FTS5.
 *
 * The index (zs_lexicon.h) holds per provider: its name with camel-case and compound parts
 * ("Flevoziekenhuis" also as "flevo ziekenhuis"), its aliases (from the feeds, and initials of
 * the name: "Jeroen Bosch Ziekenhuis" -> "jbz"), its places (city, place aliases such as
 * "den bosch" for 's-Hertogenbosch, districts such as "noord" for Amsterdam 1020-1039), its
 * postcodes and streets, and its kind (one token; the words people use for a kind -- "huisarts",
 * "fysio", "ggz", data/search.json care_words -- are mapped onto it when a query is made).
 *
 * The query is folded (lower case, no diacritics) and split into words; every word is a prefix
 * term (word order does not matter; the half-typed last word matches); known abbreviations
 * expand ("st" = "sint", "zh"/"zkh" = "ziekenhuis", "mc" = "medisch centrum"). Words of fewer
 * than 3 letters name a kind only as a whole care word, longer ones also as its beginning.
 *
 * Candidates: FTS5 returns rows in index order, at most 1000 per pass, and the C code ranks
 * them (no bm25 over every match, so a broad query stays cheap at national scale): for a
 * place-only query the hospitals there first; the names starting with the words as typed (250
 * + the page); the providers whose aliases are the words; then every match -- not run when the
 * earlier passes fill the page and the words match 20 or more providers (its own hits rank
 * below theirs; the total is then counted without reading text). total is at most 1000.
 *
 * 1. Strict: every word must match. When that finds fewer than 20 providers, words of 4+
 *    letters also get their typo alternatives (below) and the extra hits follow as "fuzzy".
 * 2. No dead ends: when the strict query finds nothing, a word that matches nothing is replaced
 *    by its typo alternatives, or dropped when it has none; then, while nothing is found, words
 *    are dropped one by one: stop words ("de", "in") first, then generic words ("ziekenhuis",
 *    "praktijk", care words), then the least selective word (the one most providers match).
 *    At least one of the query's specific (not generic, not stop) words must remain. The answer
 *    lists used_words and dropped_words, and did_you_mean when its best hit is fuzzy/fallback.
 * Typo alternatives: terms of the name, alias and city columns within edit distance 1 (4
 *    letters) or 2 (5+ letters), only those at the smallest distance found, most frequent first;
 *    found with a per-snapshot deletion-neighbourhood index (no scan of the vocabulary).
 *
 * Ranking (ties by folded name, then AGB):
 *    agb (an 8-digit query), exact (the whole name), alias (every word an exact alias word),
 *    prefix (the name starts with the query) -- these three alphabetical; then every other
 *    match by score: per word its best field, name 10 (prefix 6), alias 10 (5), kind word 5 (4),
 *    city 4 (2), street/postcode 3 (1), a typo alternative counts half; a place word (a word of
 *    some provider's city) counts 10 when the provider is located there, and at most 6 when it
 *    is only part of the name; then fuzzy, then fallback.
 * A place-only query (every word is a place: "zwolle", "den bosch", "amsterdam noord") lists the
 *    providers located there first, grouped by kind in the documented order of data/search.json
 *    (hospitals first), each group alphabetical by name: a neutral order that favours no insurer.
 * The hit's city/postcode (and matched_location) are those of the location the query matched.
 *
 * Memory: the per-snapshot typo index (r->sidx, zs_typo.c) is owned by the reader.
 */
#include "config.h"
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zs_api_priv.h"
#include "zs_catalogue.h"
#include "zs_feed.h"
#include "zs_lexicon.h"
#include "zs_text.h"
#include "zs_time.h"
#include "zs_typo.h"
#include "zs_util.h"

#define MAX_WORDS 8
#define MAX_ALTS ZS_TYPO_MAX_ALTS
#define MAX_CANDIDATES 1000
#define MAX_LIMIT 50
#define FUZZY_BELOW 20 /* typo alternatives when the strict query finds fewer (independent of paging) */
#define MAX_TERM ZS_TYPO_MAX_TERM
#define NAME_START_CAP 250 /* names starting with a broad query ("huis"): enough of them, sooner */

static const struct { const char *abbr, *expansion; } synonyms[] = {
	{ "st", "sint" }, { "sint", "st" }, { "zh", "ziekenhuis" }, { "zkh", "ziekenhuis" },
	{ "mc", "medisch centrum" }, { "umc", "universitair medisch centrum" },
	{ "ggz", "geestelijke gezondheidszorg" }, { "fysio", "fysiotherapie" },
};

/* ---- the query ---- */
typedef struct {
	char w[64];
	int cls;      /* 0 specific, 1 generic, 2 stop word */
	int place;    /* an exact word of some provider's city column */
	int dropped;  /* left out (fallback) */
	int fuzzy;    /* matched by its typo alternatives only */
	int nalt;
	char alt[MAX_ALTS][MAX_TERM + 1];
	long count;   /* providers matching the word alone (fallback), -1 some (not counted) */
} qword;

typedef struct {
	qword v[MAX_WORDS];
	int n;
	char filt[512];       /* " AND addr : ... AND city : (...)" */
	const char *kind, *care_type;
	int year;
	int place_only;
	size_t want;          /* offset + limit: the hits the page needs */
	long strict_total;    /* providers the strict words match (up to MAX_CANDIDATES), -1 unknown */
	char used[256], used_exp[256]; /* the used words, and with abbreviations written out */
} query;

/* Typo alternatives of the word (zs_typo.h). */
static void find_alts(zs_reader *r, qword *q)
{
	q->nalt = zs_typo_alternatives(r, q->w, q->alt, MAX_ALTS);
}

/* Append to a growing string; returns 0, -1 when it does not fit (buf unchanged). */
static int app(char *buf, size_t len, size_t *n, const char *s)
{
	size_t l = strlen(s);
	if (*n + l + 1 > len)
		return -1;
	memcpy(buf + *n, s, l + 1);
	*n += l;
	return 0;
}

/* " OR kind : (...)": the kinds a care word names ("fysio" -> physiotherapy), if any. */
static int kind_expr(const char *w, char *buf, size_t len, size_t *n)
{
	char tok[12][24];
	int nk = zs_lex_care_kinds(w, tok, 12), rc = 0;
	for (int i = 0; i < nk; i++) {
		rc |= app(buf, len, n, i ? " OR \"" : " OR kind : (\"");
		rc |= app(buf, len, n, tok[i]);
		rc |= app(buf, len, n, "\"");
	}
	return nk ? rc | app(buf, len, n, ")") : rc;
}

/* One word as an FTS5 expression. alts: 0 the word (and its abbreviation), 1 the word or its
 * typo alternatives, 2 the typo alternatives only. Words are [a-z0-9]+ (folded). */
static int word_expr(const qword *q, int alts, char *buf, size_t len, size_t *n)
{
	char t[512];
	size_t k = 0;
	int rc = app(buf, len, n, "(");
	if (alts < 2) {
		snprintf(t, sizeof t, "{name alias city addr} : \"%s\"*", q->w);
		rc |= app(buf, len, n, t);
		rc |= kind_expr(q->w, buf, len, n);
		for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++) {
			if (strcmp(q->w, synonyms[i].abbr) != 0)
				continue;
			char exp[160] = "", copy[96];
			k = 0;
			snprintf(copy, sizeof copy, "%s", synonyms[i].expansion);
			for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				char one[64];
				snprintf(one, sizeof one, "%s\"%s\"*", k ? " " : "", tok);
				app(exp, sizeof exp, &k, one);
			}
			snprintf(t, sizeof t, " OR ({name alias city addr} : (%s))", exp);
			rc |= app(buf, len, n, t);
			if (!strchr(synonyms[i].expansion, ' '))
				rc |= kind_expr(synonyms[i].expansion, buf, len, n);
		}
	}
	if (alts && q->nalt) {
		rc |= app(buf, len, n, alts < 2 ? " OR {name alias city} : (" : "{name alias city} : (");
		for (int a = 0; a < q->nalt; a++) {
			snprintf(t, sizeof t, "%s\"%s\"", a ? " OR " : "", q->alt[a]);
			rc |= app(buf, len, n, t);
		}
		rc |= app(buf, len, n, ")");
	}
	return rc | app(buf, len, n, ")");
}

/* The MATCH expression of the words not dropped (mode as word_expr; fuzzy words use their
 * alternatives only), with the filters. Returns -1 when too long or nothing to match. */
static int build_match(const query *qy, int alts, char *buf, size_t len)
{
	size_t n = 0;
	int any = 0, rc = 0;
	buf[0] = 0;
	for (int i = 0; i < qy->n; i++) {
		const qword *q = &qy->v[i];
		if (q->dropped)
			continue;
		if (any)
			rc |= app(buf, len, &n, " AND ");
		rc |= word_expr(q, q->fuzzy ? 2 : alts, buf, len, &n);
		any = 1;
	}
	rc |= app(buf, len, &n, any ? qy->filt : qy->filt + (qy->filt[0] ? 5 : 0));
	return rc || !buf[0] ? -1 : 0;
}

/* ---- hits ---- */
enum { T_AGB = -1, T_EXACT, T_ALIAS, T_PREFIX, T_WORDS, T_FUZZY, T_FALLBACK };

typedef struct {
	char agb[9];
	char *norm;     /* folded name: ranks ties and decides exact/prefix */
	int tier;
	int label_alias; /* some word matched an alias best */
	int located;    /* every place word matched the provider's city column */
	int kind_rank;
	double score;
	signed char alt_used[MAX_WORDS]; /* the typo alternative a word matched, -1 none */
} hit;

#define SEEN_SLOTS 8192 /* > 2 * the hits kept (2 * MAX_CANDIDATES) */

typedef struct {
	hit *v;
	size_t n, cap;
	uint32_t *seen; /* the AGBs found so far (as numbers + 1), open addressing; 0 = empty */
} hits;

static void hits_free(hits *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].norm);
	free(h->v);
	free(h->seen);
}

/* Whether agb was found by an earlier row or pass; remembers it. -1 out of memory. */
static int seen_before(hits *h, const char *agb)
{
	uint32_t key = (uint32_t)strtoul(agb, NULL, 10) + 1, s = (key * 2654435761u) % SEEN_SLOTS;
	if (!h->seen && !(h->seen = calloc(SEEN_SLOTS, sizeof *h->seen)))
		return -1;
	for (; h->seen[s]; s = (s + 1) % SEEN_SLOTS)
		if (h->seen[s] == key)
			return 1;
	h->seen[s] = key;
	return 0;
}

/* 2 when w is a word of text, 1 when it starts one, else 0. */
static int in_text(const char *text, const char *w)
{
	size_t wl = strlen(w);
	int best = 0;
	if (!text || !wl)
		return 0;
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - p) >= wl && strncmp(p, w, wl) == 0) {
			if ((size_t)(e - p) == wl)
				return 2;
			best = 1;
		}
		p = e;
	}
	return best;
}

enum { F_NAME, F_ALIAS, F_CITY, F_ADDR, F_KIND, NF };
static const double W_EXACT[NF] = { 10, 10, 4, 3, 5 }, W_PREFIX[NF] = { 6, 5, 2, 1, 4 };

/* The weight of one text (a word or an expansion) against the fields; *field set. */
static double weigh(const char *const f[NF], const char *w, int exact_only, int *field)
{
	double best = 0;
	for (int k = 0; k < NF; k++) {
		/* the kind: by the care words of the provider's kind (f[F_KIND] is its code) */
		int m = k == F_KIND ? zs_lex_care_match(w, f[k]) : in_text(f[k], w);
		if (m == 1 && exact_only)
			m = 0;
		double x = m == 2 ? W_EXACT[k] : m == 1 ? W_PREFIX[k] : 0;
		/* a postcode area ("3435") is as good as the whole postcode */
		if (k == F_ADDR && m == 1 && isdigit((unsigned char)w[0]))
			x = W_EXACT[k];
		if (x > best) {
			best = x;
			*field = k;
		}
	}
	return best;
}

/* Score one candidate row (columns: agb, norm, kindcode, name, alias, city, addr, kind). */
static void add_hit(hits *h, sqlite3_stmt *st, const query *qy, int pass_tier)
{
	const char *agb = (const char *)sqlite3_column_text(st, 0);
	if (!agb || h->n >= 2 * MAX_CANDIDATES || seen_before(h, agb))
		return;
	if (zs_grow(&h->v, &h->cap, h->n, sizeof *h->v, 64))
		return;
	hit *x = &h->v[h->n++];
	memset(x, 0, sizeof *x);
	memset(x->alt_used, -1, sizeof x->alt_used);
	snprintf(x->agb, sizeof x->agb, "%s", agb);
	const char *norm = (const char *)sqlite3_column_text(st, 1);
	x->norm = norm ? strdup(norm) : NULL;
	x->kind_rank = zs_lex_kind_rank((const char *)sqlite3_column_text(st, 2));
	x->tier = pass_tier;
	if (pass_tier == T_AGB)
		return;
	const char *f[NF];
	for (int k = 0; k < F_KIND; k++)
		f[k] = (const char *)sqlite3_column_text(st, 3 + k);
	f[F_KIND] = (const char *)sqlite3_column_text(st, 2);
	int nwords = 0, alias_exact = 0, places = 0, located = 0;
	for (int i = 0; i < qy->n; i++) {
		const qword *q = &qy->v[i];
		if (q->dropped)
			continue;
		nwords++;
		int field = -1, fa = -1;
		double best = q->fuzzy ? 0 : weigh(f, q->w, 0, &field);
		for (size_t s = 0; !q->fuzzy && s < sizeof synonyms / sizeof synonyms[0]; s++) {
			if (strcmp(q->w, synonyms[s].abbr) != 0)
				continue;
			/* an expansion counts by its weakest word */
			char copy[96];
			double worst = 1e9;
			int ef = -1;
			snprintf(copy, sizeof copy, "%s", synonyms[s].expansion);
			for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				int fk = -1;
				double v = weigh(f, tok, 0, &fk);
				if (v < worst) {
					worst = v;
					ef = fk;
				}
			}
			if (worst < 1e9 && worst > best) {
				best = worst;
				field = ef;
			}
		}
		if (pass_tier >= T_FUZZY || q->fuzzy)
			for (int a = 0; a < q->nalt; a++) {
				int fk = -1;
				double v = weigh(f, q->alt[a], 1, &fk) / 2;
				if (v > best) {
					best = v;
					field = fk;
					fa = a;
				}
			}
		x->alt_used[i] = (signed char)fa;
		if (q->place) {
			/* a place word: being located there counts as much as the name; a name that
			 * only mentions the place ("Ommelander Ziekenhuis Groningen" in Scheemda) less */
			if (in_text(f[F_CITY], fa >= 0 ? q->alt[fa] : q->w) == 2) {
				best = W_EXACT[F_NAME];
				field = F_CITY;
			} else if (field == F_NAME && best > W_PREFIX[F_NAME]) {
				best = W_PREFIX[F_NAME];
			}
		}
		x->score += best;
		if (field == F_ALIAS) {
			x->label_alias = 1;
			if (best >= W_EXACT[F_ALIAS])
				alias_exact++;
		}
		if (q->place) {
			places++;
			if (in_text(f[F_CITY], fa >= 0 ? q->alt[fa] : q->w) == 2)
				located++;
		}
	}
	x->located = places > 0 && located == places;
	if (pass_tier == T_WORDS) {
		if (x->norm && (strcmp(x->norm, qy->used) == 0 || strcmp(x->norm, qy->used_exp) == 0))
			x->tier = T_EXACT;
		else if (nwords && alias_exact == nwords)
			x->tier = T_ALIAS;
		else if (x->norm && qy->used[0] &&
		         (strncmp(x->norm, qy->used, strlen(qy->used)) == 0 ||
		          strncmp(x->norm, qy->used_exp, strlen(qy->used_exp)) == 0))
			x->tier = T_PREFIX;
	}
}

static __thread const query *sort_query; /* qsort has no context argument: set by the caller */

static int hit_cmp(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	int tx = x->tier, ty = y->tier;
	if (sort_query->place_only) {
		/* place-only: name tiers do not count; located there, by kind, by name */
		tx = tx >= T_EXACT && tx <= T_WORDS ? T_WORDS : tx;
		ty = ty >= T_EXACT && ty <= T_WORDS ? T_WORDS : ty;
		if (tx != ty)
			return tx < ty ? -1 : 1;
		if (x->located != y->located)
			return x->located ? -1 : 1;
		if (x->located && x->kind_rank != y->kind_rank)
			return x->kind_rank < y->kind_rank ? -1 : 1;
		if (!x->located && x->score != y->score)
			return x->score > y->score ? -1 : 1;
	} else {
		if (tx != ty)
			return tx < ty ? -1 : 1;
		if (tx >= T_WORDS && x->score != y->score)
			return x->score > y->score ? -1 : 1;
	}
	int c = strcmp(x->norm ? x->norm : "", y->norm ? y->norm : "");
	return c ? c : strcmp(x->agb, y->agb);
}

/* Run one MATCH with the filters; add its hits (at most MAX_CANDIDATES, in index order: the
 * ranking is done in C on what the passes found). Only the index is read here; the page's
 * details come from the provider table afterwards. */
static int run_match(zs_reader *r, const query *qy, const char *match, int tier, int cap,
                     hits *h)
{
	char sql[1024];
	sqlite3_stmt *st;
	snprintf(sql, sizeof sql,
	         "SELECT f.agb, f.norm, f.kindcode, f.name, f.alias, f.city, f.addr, f.kind"
	         " FROM provider_fts f WHERE provider_fts MATCH ?1 %s %s LIMIT %d",
	         qy->kind ? "AND f.kindcode = ?2" : "",
	         qy->care_type ? "AND EXISTS (SELECT 1 FROM effective e WHERE e.agb = f.agb"
	                         " AND e.year = ?4 AND e.care_type = ?3 AND NOT EXISTS"
	                         " (SELECT 1 FROM retired x WHERE x.year = e.year"
	                         " AND x.policy_id = e.policy_id))" : "", cap);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	if (qy->kind)
		sqlite3_bind_text(st, 2, qy->kind, -1, SQLITE_STATIC);
	if (qy->care_type) {
		sqlite3_bind_text(st, 3, qy->care_type, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, qy->year);
	}
	size_t before = h->n;
	while (sqlite3_step(st) == SQLITE_ROW)
		add_hit(h, st, qy, tier);
	sqlite3_finalize(st);
	return (int)(h->n - before);
}

/* How many providers a MATCH finds with the filters, counted up to bound (reads no text). */
static long count_match(zs_reader *r, const query *qy, const char *match, int bound)
{
	char sql[512];
	sqlite3_stmt *st;
	long c = 0;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM provider_fts f"
	         " WHERE provider_fts MATCH ?1 %s %s LIMIT %d)",
	         qy->kind ? "AND f.kindcode = ?2" : "",
	         qy->care_type ? "AND EXISTS (SELECT 1 FROM effective e WHERE e.agb = f.agb"
	                         " AND e.year = ?4 AND e.care_type = ?3 AND NOT EXISTS"
	                         " (SELECT 1 FROM retired x WHERE x.year = e.year"
	                         " AND x.policy_id = e.policy_id))" : "", bound);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	if (qy->kind)
		sqlite3_bind_text(st, 2, qy->kind, -1, SQLITE_STATIC);
	if (qy->care_type) {
		sqlite3_bind_text(st, 3, qy->care_type, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, qy->year);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		c = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return c;
}

/* The candidates of the words in passes, so that a broad query (more matches than
 * MAX_CANDIDATES) still has the ones that rank first and reads few rows: for a place-only
 * query the hospitals there; the names that start with the words as typed (exact and prefix
 * tiers); the providers whose aliases are the words (alias tier); then any match -- skipped
 * when the earlier passes already fill the page, since its own hits rank below theirs
 * (qy->strict_total is then counted without reading text). Returns the hits added. */
static int run_passes(zs_reader *r, query *qy, int tier, hits *h)
{
	char match[4096], m2[4400];
	size_t before = h->n, n = 0;
	int fuzzy = 0, words = 0;
	if (build_match(qy, 0, match, sizeof match))
		return 0;
	m2[0] = 0;
	for (int i = 0; i < qy->n; i++)
		if (!qy->v[i].dropped) {
			fuzzy |= qy->v[i].fuzzy;
			words++;
		}
	if (qy->place_only &&
	    snprintf(m2, sizeof m2, "%s AND kind : \"hospital\"", match) < (int)sizeof m2)
		run_match(r, qy, m2, tier, MAX_CANDIDATES, h);
	if (words && !fuzzy) {
		if (snprintf(m2, sizeof m2, "(name : ^ \"%s\"* OR name : ^ \"%s\"*)%s", qy->used,
		             qy->used_exp, qy->filt) < (int)sizeof m2)
			run_match(r, qy, m2, tier, NAME_START_CAP + (int)qy->want, h);
		int rc = app(m2, sizeof m2, &n, "alias : (");
		for (int i = 0; i < qy->n; i++)
			if (!qy->v[i].dropped) {
				rc |= app(m2, sizeof m2, &n, " \"");
				rc |= app(m2, sizeof m2, &n, qy->v[i].w);
				rc |= app(m2, sizeof m2, &n, "\"");
			}
		rc |= app(m2, sizeof m2, &n, ")");
		if (rc == 0 && app(m2, sizeof m2, &n, qy->filt) == 0)
			run_match(r, qy, m2, tier, MAX_CANDIDATES, h);
		if (!qy->place_only && h->n - before >= qy->want &&
		    (qy->strict_total = count_match(r, qy, match, MAX_CANDIDATES)) >= FUZZY_BELOW)
			return (int)(h->n - before);
	}
	run_match(r, qy, match, tier, MAX_CANDIDATES, h);
	qy->strict_total = (long)(h->n - before);
	return (int)(h->n - before);
}

/* Providers matching one word alone (with the filters), counted up to bound. */
static long count_word(zs_reader *r, const query *qy, const qword *q, int alts, int bound)
{
	char m[2048];
	size_t n = 0;
	if (word_expr(q, alts, m, sizeof m, &n) || app(m, sizeof m, &n, qy->filt))
		return 0;
	return count_match(r, qy, m, bound);
}

static int is_city_word(zs_reader *r, const char *w)
{
	sqlite3_stmt *st;
	int yes = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM provider_vocab_col WHERE term = ?1"
	                       " AND col = 'city' LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* qy->used and used_exp from the words not dropped; qy->place_only. */
static void set_used(zs_reader *r, query *qy)
{
	size_t n = 0, m = 0;
	int words = 0, places = 0;
	qy->used[0] = qy->used_exp[0] = 0;
	for (int i = 0; i < qy->n; i++) {
		qword *q = &qy->v[i];
		if (q->dropped)
			continue;
		const char *e = q->w;
		for (size_t s = 0; s < sizeof synonyms / sizeof synonyms[0]; s++)
			if (strcmp(q->w, synonyms[s].abbr) == 0 && !strchr(synonyms[s].expansion, ' ') &&
			    strlen(synonyms[s].expansion) > strlen(q->w))
				e = synonyms[s].expansion;
		if (n)
			app(qy->used, sizeof qy->used, &n, " ");
		if (m)
			app(qy->used_exp, sizeof qy->used_exp, &m, " ");
		app(qy->used, sizeof qy->used, &n, q->w);
		app(qy->used_exp, sizeof qy->used_exp, &m, e);
		q->place = is_city_word(r, q->fuzzy && q->nalt ? q->alt[0] : q->w);
		words++;
		places += q->place;
	}
	qy->place_only = words > 0 && places == words;
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

/* The strict pass, the typo pass and the fallback (see the header comment). */
static void search_words(zs_reader *r, query *qy, hits *h)
{
	char match[4096];
	set_used(r, qy);
	run_passes(r, qy, T_WORDS, h);
	if (qy->n == 0)
		return;
	if (h->n > 0) {
		if (qy->strict_total >= FUZZY_BELOW)
			return;
		int any = 0;
		for (int i = 0; i < qy->n; i++) {
			find_alts(r, &qy->v[i]);
			any |= qy->v[i].nalt > 0;
		}
		if (any && build_match(qy, 1, match, sizeof match) == 0)
			run_match(r, qy, match, T_FUZZY, MAX_CANDIDATES, h);
		return;
	}
	/* Nothing: words that match nothing get their typo alternatives or are dropped. */
	int specific = 0, changed = 0;
	for (int i = 0; i < qy->n; i++) {
		qword *q = &qy->v[i];
		specific |= q->cls == 0;
		/* whether it matches anything (counted only when a specific word must go) */
		if (count_word(r, qy, q, 0, 1) > 0) {
			q->count = -1;
			continue;
		}
		find_alts(r, q);
		if (q->nalt && count_word(r, qy, q, 2, 1) > 0)
			q->fuzzy = 1, q->count = -1;
		else
			q->dropped = 1, changed = 1, q->count = 0;
		changed |= q->fuzzy;
	}
	for (int round = 0; round <= qy->n; round++) {
		int live = 0, live_specific = 0, drop = -1, maxcls = 0;
		for (int i = 0; i < qy->n; i++)
			if (!qy->v[i].dropped && qy->v[i].cls > maxcls)
				maxcls = qy->v[i].cls;
		for (int i = 0; i < qy->n; i++) {
			qword *q = &qy->v[i];
			if (q->dropped)
				continue;
			live++;
			live_specific |= q->cls == 0;
			/* the next to drop: stop words, then generic words, then the least selective */
			if (q->cls != maxcls)
				continue;
			if (maxcls == 0 && q->count < 0)
				q->count = count_word(r, qy, q, q->fuzzy ? 2 : 0, 20 * MAX_CANDIDATES);
			if (drop < 0 || q->count >= qy->v[drop].count)
				drop = i;
		}
		if (!live || (specific && !live_specific))
			return;
		set_used(r, qy);
		int tier = T_WORDS;
		for (int i = 0; i < qy->n; i++) {
			if (qy->v[i].dropped && qy->v[i].cls != 2)
				tier = T_FALLBACK;
			else if (!qy->v[i].dropped && qy->v[i].fuzzy && tier < T_FUZZY)
				tier = T_FUZZY;
		}
		/* (the first round repeats the strict query only when a word changed) */
		if ((changed || round > 0) && run_passes(r, qy, tier, h) > 0)
			return;
		if (live == 1)
			return;
		qy->v[drop].dropped = 1;
	}
}

/* The location the query matched best (the first when none matched); *matched set. */
static json_t *pick_location(json_t *locs, const query *qy, const hit *x, const char *pc,
                             const char *citynorm, int *matched)
{
	size_t i;
	json_t *loc, *best = json_array_get(locs, 0);
	int best_n = 0;
	json_array_foreach(locs, i, loc) {
		const char *city = json_string_value(json_object_get(loc, "city"));
		const char *postcode = json_string_value(json_object_get(loc, "postcode"));
		const char *street = json_string_value(json_object_get(loc, "street"));
		char text[1200], place[600], f1[64], f2[256];
		zs_lex_place(city, postcode, place, sizeof place);
		zs_text_fold(postcode ? postcode : "", f1, sizeof f1);
		char *sp = strchr(f1, ' ');
		if (sp)
			memmove(sp, sp + 1, strlen(sp));
		zs_text_fold(street ? street : "", f2, sizeof f2);
		snprintf(text, sizeof text, "%s %s %s", place, f1, f2);
		int n = 0;
		for (int k = 0; k < qy->n; k++) {
			const qword *q = &qy->v[k];
			if (q->dropped)
				continue;
			const char *w = x->alt_used[k] >= 0 ? q->alt[(int)x->alt_used[k]] : q->w;
			n += in_text(text, w) ? 1 : 0;
		}
		if (pc[0] && in_text(text, pc))
			n++;
		if (citynorm[0] && strstr(place, citynorm))
			n++;
		if (n > best_n) {
			best_n = n;
			best = loc;
		}
	}
	*matched = best_n > 0;
	return best;
}

json_t *zs_api_search(zs_reader *r, const zs_request *req, int *status)
{
	const char *q = zs_param(req, "q"), *postcode = zs_param(req, "postcode"),
	           *city = zs_param(req, "city"), *kind = zs_param(req, "kind"),
	           *care_type = zs_param(req, "care_type");
	long limit = 10, offset = 0;
	int year = 0;
	json_t *err = NULL;
	char qnorm[256] = "", pc[8] = "", citynorm[128] = "";

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
	/* What the answer depends on (zs_deps.h): the search index (names, aliases, places and
	 * kinds of every provider; marked when any of them changes), and with a care type the
	 * year's statuses. A snapshot that changes only statuses keeps every other search answer
	 * in the response cache (before, none named a key, so every snapshot dropped them all). */
	zs_api_dep(r, "search", NULL);
	if (care_type)
		zs_api_dep_int(r, "s", year);
	hits h = { 0 };
	query qy;
	memset(&qy, 0, sizeof qy);
	qy.kind = kind;
	qy.want = (size_t)(offset + limit);
	qy.strict_total = -1;
	qy.care_type = care_type;
	qy.year = year; /* the reads below are in the call's transaction (zs_reader_refresh) */

	if (zs_valid_agb(qnorm)) {
		/* An 8-digit query is an AGB code. */
		sqlite3_stmt *st;
		snprintf(qy.v[0].w, sizeof qy.v[0].w, "%s", qnorm);
		qy.n = 1;
		if (sqlite3_prepare_v2(r->db, "SELECT agb, name, kind FROM provider WHERE agb = ?", -1,
		                       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, qnorm, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				add_hit(&h, st, &qy, T_AGB);
			sqlite3_finalize(st);
		}
	} else {
		/* Filters as column-restricted terms. */
		size_t fn = 0;
		if (pc[0]) {
			char t[40];
			snprintf(t, sizeof t, " AND addr : \"%s\"%s", pc, strlen(pc) == 4 ? "*" : "");
			app(qy.filt, sizeof qy.filt, &fn, t);
		}
		if (citynorm[0]) {
			app(qy.filt, sizeof qy.filt, &fn, " AND city : (");
			char copy[128];
			snprintf(copy, sizeof copy, "%s", citynorm);
			for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				char t[80];
				snprintf(t, sizeof t, " \"%s\"", tok);
				app(qy.filt, sizeof qy.filt, &fn, t);
			}
			app(qy.filt, sizeof qy.filt, &fn, ")");
		}
		char copy[256];
		snprintf(copy, sizeof copy, "%s", qnorm);
		for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok && qy.n < MAX_WORDS;
		     tok = strtok_r(NULL, " ", &save))
			snprintf(qy.v[qy.n++].w, sizeof qy.v[0].w, "%.63s", tok);
		/* "3435 cm" typed with a space is one postcode token */
		for (int i = 0; i + 1 < qy.n; i++) {
			char *a = qy.v[i].w, *b = qy.v[i + 1].w;
			int digits = strlen(a) == 4, letters = strlen(b) == 2;
			for (int k = 0; k < 4 && digits; k++)
				digits = isdigit((unsigned char)a[k]);
			for (int k = 0; k < 2 && letters; k++)
				letters = isalpha((unsigned char)b[k]);
			if (digits && letters) {
				strcat(a, b);
				memmove(&qy.v[i + 1], &qy.v[i + 2], (size_t)(qy.n - i - 2) * sizeof qy.v[0]);
				qy.n--;
			}
		}
		for (int i = 0; i < qy.n; i++) {
			qy.v[i].cls = zs_lex_is_stop(qy.v[i].w) ? 2 : zs_lex_is_generic(qy.v[i].w) ? 1 : 0;
			qy.v[i].count = -1;
		}
		search_words(r, &qy, &h);
	}
	sort_query = &qy;
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, hit_cmp);
	sort_query = NULL;

	json_t *arr = json_array();
	sqlite3_stmt *det = NULL;
	sqlite3_prepare_v2(r->db, "SELECT name, kind, locations FROM provider WHERE agb = ?", -1,
	                   &det, NULL);
	for (size_t i = (size_t)offset; det && i < h.n && i < (size_t)(offset + limit); i++) {
		const hit *x = &h.v[i];
		char href[64];
		static const char *const tiers[] = { "agb", "exact", "alias", "prefix", "words",
			                             "fuzzy", "fallback" };
		const char *label = tiers[x->tier + 1];
		if (x->tier == T_WORDS && x->label_alias)
			label = "alias";
		snprintf(href, sizeof href, "/v1/providers/%s", x->agb);
		sqlite3_bind_text(det, 1, x->agb, -1, SQLITE_STATIC);
		if (sqlite3_step(det) == SQLITE_ROW) {
			const char *locs = (const char *)sqlite3_column_text(det, 2);
			json_t *l = locs ? json_loads(locs, 0, NULL) : NULL;
			int matched = 0;
			json_t *loc = pick_location(l, &qy, x, pc, citynorm, &matched);
			json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s}",
			        "agb", x->agb, "name", (const char *)sqlite3_column_text(det, 0),
			        "kind", (const char *)sqlite3_column_text(det, 1),
			        "city", json_string_value(json_object_get(loc, "city")),
			        "postcode", json_string_value(json_object_get(loc, "postcode")),
			        "match", label, "href", href);
			if (o && matched && loc)
				json_object_set(o, "matched_location", loc);
			json_array_append_new(arr, o);
			json_decref(l);
		}
		sqlite3_reset(det);
	}
	sqlite3_finalize(det);

	json_t *used = json_array(), *dropped = json_array();
	char dym[512] = "";
	size_t dn = 0;
	for (int i = 0; i < qy.n; i++) {
		const qword *w = &qy.v[i];
		json_array_append_new(w->dropped ? dropped : used, json_string(w->w));
		if (w->dropped || !h.n)
			continue;
		int a = h.v[0].alt_used[i];
		if (dn)
			app(dym, sizeof dym, &dn, " ");
		app(dym, sizeof dym, &dn, a >= 0 ? w->alt[a] : w->w);
	}
	/* every hit, or (when the last pass was not needed for this page) the count of the
	 * strict matches; at most MAX_CANDIDATES */
	size_t total = h.n;
	if (qy.strict_total > 0 && (size_t)qy.strict_total > total)
		total = (size_t)qy.strict_total;
	if (total > MAX_CANDIDATES)
		total = MAX_CANDIDATES;
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "query", q ? q : "",
	                      "total", (json_int_t)total, "limit", (json_int_t)limit,
	                      "offset", (json_int_t)offset, "used_words", used,
	                      "dropped_words", dropped, "results", arr);
	if (o && h.n && h.v[0].tier >= T_FUZZY && dym[0])
		json_object_set_new(o, "did_you_mean", json_string(dym));
	hits_free(&h);
	*status = 200;
	return o;
}
