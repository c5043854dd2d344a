/* zs_lexicon.c - the search lexicon (data/search.json) and the index text of a provider.
 * See zs_lexicon.h for the contract; data/README.md for the data and its sources. */
#include "config.h"
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "zs_embedded.h"
#include "zs_lexicon.h"
#include "zs_log.h"
#include "zs_text.h"

#define INDEX_LAYOUT 4 /* bump when the index text or its table changes shape */

static pthread_once_t lex_once = PTHREAD_ONCE_INIT;
static json_t *lex;      /* never freed: read-only for the life of the process */
static char lex_err[256];

static void fold_all(json_t *arr)
{
	size_t i;
	json_t *v;
	char f[128];
	json_array_foreach(arr, i, v) {
		zs_text_fold(json_string_value(v) ? json_string_value(v) : "", f, sizeof f);
		json_array_set_new(arr, i, json_string(f));
	}
}

static void lex_load(void)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)zs_embed_search, zs_embed_search_len, 0, &jerr);
	if (!root) {
		snprintf(lex_err, sizeof lex_err, "search.json line %d: %s", jerr.line, jerr.text);
		return;
	}
	static const char *const keys[] = { "place_aliases", "districts", "care_words",
		                             "kind_order", "stop_words", "generic_words",
		                             "compound_parts" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_object_get(root, keys[i])) {
			snprintf(lex_err, sizeof lex_err, "search.json: \"%s\" missing", keys[i]);
			json_decref(root);
			return;
		}
	/* every word folded once here, so that lookups compare folded text directly */
	json_t *v, *g;
	const char *k;
	size_t i;
	json_array_foreach(json_object_get(root, "place_aliases"), i, g)
		fold_all(g);
	json_array_foreach(json_object_get(root, "districts"), i, g) {
		fold_all(json_object_get(g, "names"));
		char f[128];
		zs_text_fold(json_string_value(json_object_get(g, "city")) ?
		             json_string_value(json_object_get(g, "city")) : "", f, sizeof f);
		json_object_set_new(g, "city", json_string(f));
	}
	json_object_foreach(json_object_get(root, "care_words"), k, v)
		fold_all(v);
	fold_all(json_object_get(root, "stop_words"));
	fold_all(json_object_get(root, "generic_words"));
	fold_all(json_object_get(root, "compound_parts"));
	lex = root;
}

static json_t *L(const char *key)
{
	pthread_once(&lex_once, lex_load);
	return lex ? json_object_get(lex, key) : NULL;
}

int zs_lex_init(char *err, size_t errlen)
{
	pthread_once(&lex_once, lex_load);
	if (!lex) {
		snprintf(err, errlen, "%s", lex_err);
		return -1;
	}
	return 0;
}

long long zs_lex_version(void)
{
	unsigned long long h = 1469598103934665603ULL;
	for (size_t i = 0; i < zs_embed_search_len; i++)
		h = (h ^ zs_embed_search[i]) * 1099511628211ULL;
	h = (h ^ INDEX_LAYOUT) * 1099511628211ULL;
	return (long long)(h >> 2);
}

/* 1 when one of the array's (folded) strings equals w. */
static int in_folded(json_t *arr, const char *w)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), w) == 0)
			return 1;
	return 0;
}

int zs_lex_is_stop(const char *w)
{
	return in_folded(L("stop_words"), w);
}

int zs_lex_is_generic(const char *w)
{
	if (in_folded(L("generic_words"), w))
		return 1;
	const char *k;
	json_t *v, *cw = L("care_words");
	json_object_foreach(cw, k, v)
		if (in_folded(v, w))
			return 1;
	return 0;
}

int zs_lex_kind_rank(const char *kind)
{
	size_t i;
	json_t *v, *order = L("kind_order");
	json_array_foreach(order, i, v)
		if (kind && json_string_value(v) && strcmp(json_string_value(v), kind) == 0)
			return (int)i;
	return (int)json_array_size(order);
}

int zs_lex_care_match(const char *w, const char *kind)
{
	size_t i, wl = strlen(w);
	json_t *v;
	int best = 0;
	if (!kind || !wl)
		return 0;
	json_array_foreach(json_object_get(L("care_words"), kind), i, v) {
		const char *cw = json_string_value(v);
		if (strcmp(cw, w) == 0)
			return 2;
		if (wl >= 3 && strncmp(cw, w, wl) == 0)
			best = 1;
	}
	return best;
}

void zs_lex_kind_token(const char *kind, char *out, size_t len)
{
	size_t n = 0;
	for (const char *p = kind ? kind : ""; *p && n + 1 < len; p++)
		if (*p != '_')
			out[n++] = *p;
	out[n] = 0;
}

int zs_lex_care_kinds(const char *w, char tok[][24], int max)
{
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach(L("care_words"), k, v)
		if (n < max && zs_lex_care_match(w, k))
			zs_lex_kind_token(k, tok[n++], 24);
	return n;
}

/* ---- a growing space-separated string ---- */
typedef struct {
	char *s;
	size_t n, cap;
	int oom;
} sbuf;

static void sb_add(sbuf *b, const char *w)
{
	size_t l = strlen(w);
	if (b->oom || l == 0)
		return;
	if (b->n + l + 2 > b->cap) {
		size_t nc = (b->n + l + 2) * 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	if (b->n)
		b->s[b->n++] = ' ';
	memcpy(b->s + b->n, w, l + 1);
	b->n += l;
}

static char *sb_take(sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

/* Compound parts of one folded word: "flevoziekenhuis" -> "flevo ziekenhuis",
 * "maartenskliniek" -> "maartens maarten kliniek", "ziekenhuisgroep" -> "ziekenhuis groep". */
static void add_parts(sbuf *b, const char *t, int depth)
{
	size_t tl = strlen(t), i;
	json_t *v;
	if (depth > 3)
		return;
	json_array_foreach(L("compound_parts"), i, v) {
		const char *p = json_string_value(v);
		size_t pl = p ? strlen(p) : 0;
		if (!pl || tl < pl + 3)
			continue;
		char head[96];
		if (strcmp(t + tl - pl, p) == 0 && tl - pl < sizeof head) {
			memcpy(head, t, tl - pl);
			head[tl - pl] = 0;
			sb_add(b, head);
			sb_add(b, p);
			if (tl - pl >= 5 && head[tl - pl - 1] == 's') { /* linking s */
				head[tl - pl - 1] = 0;
				sb_add(b, head);
				head[tl - pl - 1] = 's';
			}
			add_parts(b, head, depth + 1);
			return;
		}
		if (strncmp(t, p, pl) == 0 && tl - pl < sizeof head) {
			sb_add(b, p);
			sb_add(b, t + pl);
			add_parts(b, t + pl, depth + 1);
			return;
		}
	}
}

/* Folded text, plus camel-case parts ("HagaZiekenhuis" -> "haga ziekenhuis") and compound
 * parts of every word. */
static void add_name_text(sbuf *b, const char *raw)
{
	char norm[1024], camel[1024], cf[1024];
	size_t k = 0;
	zs_text_fold(raw, norm, sizeof norm);
	sb_add(b, norm);
	/* a space before an upper-case letter that follows a lower-case one */
	for (const unsigned char *p = (const unsigned char *)raw; *p && k + 2 < sizeof camel; p++) {
		if (p != (const unsigned char *)raw && isupper(*p) && islower(p[-1]))
			camel[k++] = ' ';
		camel[k++] = (char)*p;
	}
	camel[k] = 0;
	zs_text_fold(camel, cf, sizeof cf);
	if (strcmp(cf, norm) != 0)
		sb_add(b, cf);
	char copy[2100];
	snprintf(copy, sizeof copy, "%s %s", norm, strcmp(cf, norm) ? cf : "");
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		add_parts(b, t, 0);
}

/* Initials of a multi-word name: "Jeroen Bosch Ziekenhuis" -> "jbz", "Leids Universitair
 * Medisch Centrum" -> "lumc", "Maastricht UMC+" -> "mumc" (a word in capitals counts whole);
 * with every word, without stop words ("Antoni van Leeuwenhoek": "avl", "al"), and with the
 * parts of compound words ("Wilhelmina Kinderziekenhuis": "wkz").
 * Only initials of 3 to 8 letters from at least 2 words are kept. */
static void add_initials(sbuf *b, const char *raw)
{
	char words[16][64];
	int nw = 0;
	char copy[512];
	snprintf(copy, sizeof copy, "%s", raw);
	for (char *save = NULL, *t = strtok_r(copy, " -&+/.,()", &save); t && nw < 16;
	     t = strtok_r(NULL, " -&+/.,()", &save))
		snprintf(words[nw++], sizeof words[0], "%s", t);
	if (nw < 2)
		return;
	for (int pass = 0; pass < 3; pass++) {
		char ini[32];
		size_t n = 0;
		int from = 0;
		for (int i = 0; i < nw && n + 10 < sizeof ini; i++) {
			char f[64];
			zs_text_fold(words[i], f, sizeof f);
			if (!f[0] || !isalpha((unsigned char)f[0]))
				continue;
			if (pass == 1 && zs_lex_is_stop(f))
				continue;
			size_t caps = 0, len = strlen(words[i]);
			for (size_t c = 0; c < len; c++)
				caps += isupper((unsigned char)words[i][c]) ? 1 : 0;
			if (len >= 2 && len <= 4 && caps == len) {
				memcpy(ini + n, f, strlen(f));
				n += strlen(f);
			} else {
				ini[n++] = f[0];
				/* pass 2: a compound counts by its parts ("Ziekenhuisgroep Twente": zgt) */
				size_t fl = strlen(f), k;
				json_t *v;
				json_array_foreach(pass == 2 ? L("compound_parts") : NULL, k, v) {
					const char *p = json_string_value(v);
					size_t pl = p ? strlen(p) : 0;
					if (pl && fl >= pl + 3 && strcmp(f + fl - pl, p) == 0) {
						ini[n++] = p[0];
						break;
					}
				}
			}
			from++;
		}
		ini[n] = 0;
		if (from >= 2 && n >= 3 && n <= 8 && !strchr(ini, ' '))
			sb_add(b, ini);
	}
}

void zs_lex_place(const char *city, const char *postcode, char *out, size_t len)
{
	char c[128];
	size_t n = 0;
	out[0] = 0;
	zs_text_fold(city ? city : "", c, sizeof c);
	if (!c[0])
		return;
	n += (size_t)snprintf(out + n, len - n, "%s", c);
	size_t i, j;
	json_t *g, *v;
	json_array_foreach(L("place_aliases"), i, g) {
		if (!in_folded(g, c))
			continue;
		json_array_foreach(g, j, v) {
			const char *f = json_string_value(v);
			if (strcmp(f, c) != 0 && n + strlen(f) + 2 < len)
				n += (size_t)snprintf(out + n, len - n, " %s", f);
		}
	}
	int area = 0;
	if (postcode && strlen(postcode) >= 4) {
		for (int k = 0; k < 4 && isdigit((unsigned char)postcode[k]); k++)
			area = area * 10 + (postcode[k] - '0');
		if (area < 1000)
			area = 0;
	}
	char cp[1100];
	snprintf(cp, sizeof cp, " %s ", out);
	json_array_foreach(area ? L("districts") : NULL, i, g) {
		/* the district's city, or a place alias of it ("s gravenhage" for Den Haag) */
		char needle[140];
		snprintf(needle, sizeof needle, " %s ", json_string_value(json_object_get(g, "city")));
		if (!strstr(cp, needle))
			continue;
		int inside = 0;
		json_array_foreach(json_object_get(g, "postcodes"), j, v) {
			long lo = (long)json_integer_value(json_array_get(v, 0));
			long hi = (long)json_integer_value(json_array_get(v, 1));
			if (area >= lo && area <= hi)
				inside = 1;
		}
		if (!inside)
			continue;
		json_array_foreach(json_object_get(g, "names"), j, v) {
			const char *f = json_string_value(v);
			if (n + strlen(f) + 2 < len)
				n += (size_t)snprintf(out + n, len - n, " %s", f);
		}
	}
}

int zs_lex_index_text(const char *name, const char *kind, const char *locations_json,
                      const char *aliases_json, zs_index_text *out)
{
	sbuf nm = { 0 }, al = { 0 }, ci = { 0 }, ad = { 0 }, ki = { 0 };
	char norm[1024], f[1024];
	memset(out, 0, sizeof *out);
	zs_text_fold(name ? name : "", norm, sizeof norm);
	add_name_text(&nm, name ? name : "");
	add_initials(&al, name ? name : "");
	json_t *aliases = aliases_json ? json_loads(aliases_json, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(aliases, i, v)
		if (json_string_value(v)) {
			add_name_text(&al, json_string_value(v));
			add_initials(&al, json_string_value(v));
		}
	json_decref(aliases);
	json_t *locs = locations_json ? json_loads(locations_json, 0, NULL) : NULL;
	json_array_foreach(locs, i, v) {
		const char *city = json_string_value(json_object_get(v, "city"));
		const char *pc = json_string_value(json_object_get(v, "postcode"));
		const char *street = json_string_value(json_object_get(v, "street"));
		char place[1024];
		zs_lex_place(city, pc, place, sizeof place);
		sb_add(&ci, place);
		if (pc) {
			zs_text_fold(pc, f, sizeof f);
			/* "3435 cm" -> "3435cm": one token, so that "3435"* and "3435cm" find it */
			char *sp = strchr(f, ' ');
			if (sp)
				memmove(sp, sp + 1, strlen(sp));
			sb_add(&ad, f);
		}
		if (street) {
			zs_text_fold(street, f, sizeof f);
			sb_add(&ad, f);
		}
	}
	json_decref(locs);
	if (kind) {
		zs_lex_kind_token(kind, f, sizeof f);
		sb_add(&ki, f);
	}
	out->norm = strdup(norm);
	out->name = sb_take(&nm);
	out->alias = sb_take(&al);
	out->city = sb_take(&ci);
	out->addr = sb_take(&ad);
	out->kind = sb_take(&ki);
	if (!out->norm || !out->name || !out->alias || !out->city || !out->addr || !out->kind) {
		zs_index_text_free(out);
		return -1;
	}
	return 0;
}

void zs_index_text_free(zs_index_text *t)
{
	free(t->norm);
	free(t->name);
	free(t->alias);
	free(t->city);
	free(t->addr);
	free(t->kind);
	memset(t, 0, sizeof *t);
}

int zs_lex_write_row(sqlite3 *db, sqlite3_stmt *ins, const char *agb, const char *name,
                     const char *kind, const char *locations_json, const char *aliases_json,
                     char *err, size_t errlen)
{
	zs_index_text t;
	if (zs_lex_index_text(name, kind, locations_json, aliases_json, &t)) {
		snprintf(err, errlen, "search index of %s: out of memory", agb);
		return -1;
	}
	sqlite3_bind_int64(ins, 1, strtoll(agb, NULL, 10));
	sqlite3_bind_text(ins, 2, agb, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 3, t.norm, -1, SQLITE_STATIC);
	if (kind)
		sqlite3_bind_text(ins, 4, kind, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(ins, 4);
	sqlite3_bind_text(ins, 5, t.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, t.alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, t.city, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, t.addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 9, t.kind, -1, SQLITE_STATIC);
	int rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	zs_index_text_free(&t);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "search index of %s: %s", agb, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int has_column(sqlite3 *db, const char *table, const char *col)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
	                       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "search index: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int zs_lex_migrate(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL, *ins = NULL;
	long long want = zs_lex_version(), have = -1;
	int rc = -1;
	if (zs_lex_init(err, errlen))
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'search_index'", -1, &st,
	                       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (have == want && has_column(db, "provider", "aliases"))
		return 0;
	if (exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	/* aliases from the feeds (JSON array), kept with the other master data */
	if ((!has_column(db, "src_provider", "aliases") &&
	     exec(db, "ALTER TABLE src_provider ADD COLUMN aliases TEXT", err, errlen)) ||
	    (!has_column(db, "provider", "aliases") &&
	     exec(db, "ALTER TABLE provider ADD COLUMN aliases TEXT", err, errlen)) ||
	    exec(db, "DROP TABLE IF EXISTS provider_vocab; DROP TABLE IF EXISTS provider_vocab_col;"
	             "DROP TABLE IF EXISTS provider_fts;" ZS_LEX_FTS_DDL, err, errlen))
		goto out;
	if (sqlite3_prepare_v2(db, ZS_LEX_FTS_INSERT, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT agb, name, kind, locations, aliases FROM provider", -1,
	                       &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "search index: %s", sqlite3_errmsg(db));
		goto out;
	}
	long n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *agb = (const char *)sqlite3_column_text(st, 0);
		if (!agb)
			continue;
		if (zs_lex_write_row(db, ins, agb, (const char *)sqlite3_column_text(st, 1),
		                     (const char *)sqlite3_column_text(st, 2),
		                     (const char *)sqlite3_column_text(st, 3),
		                     (const char *)sqlite3_column_text(st, 4), err, errlen))
			goto out;
		n++;
	}
	char sql[160];
	snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES('search_index', %lld);"
	         "UPDATE meta SET value = value + 1 WHERE key = 'generation'", want);
	if (exec(db, sql, err, errlen))
		goto out;
	rc = 0;
	if (n)
		ZS_INFO("search", "search index rebuilt for %ld providers (lexicon or layout changed)", n);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	if (exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", rc == 0 ? err : (char[64]){ 0 },
	         rc == 0 ? errlen : 64))
		rc = -1;
	return rc;
}
