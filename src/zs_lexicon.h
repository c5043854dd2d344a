/* zs_lexicon.h - the search lexicon and the search index text of a provider.
 *
 * The lexicon is data/search.json, compiled into the binary (data/README.md): place aliases
 * ("Den Bosch" = "'s-Hertogenbosch"), districts of large cities by postcode area, the words
 * people use for each provider kind, stop words, generic words and the parts of Dutch compound
 * care names. It is parsed once (pthread_once) and read-only afterwards: every function here may
 * be called from any thread. zs_lex_init need not be called first (each function loads it);
 * the daemon calls it at start to fail early on a broken lexicon.
 *
 * Memory: zs_index_text's strings are malloc'd by zs_lex_index_text and freed by
 * zs_index_text_free; everything else returns static storage or writes into caller buffers.
 */
#ifndef ZS_LEXICON_H
#define ZS_LEXICON_H
#include <stddef.h>
#include <sqlite3.h>

/* The search index: one row per provider (rowid = the AGB as a number). All indexed text is
 * folded (zs_text_fold). Columns: agb, norm (the folded name, for exact/prefix tiers) and kindcode
 * are not indexed; name (the name, its camel-case and compound parts), alias (aliases from the
 * feeds, their parts, initials of the name), city (every location's city, its place aliases and
 * districts), addr (postcodes and streets), kind (the kind as one token, zs_lex_kind_token: the
 * words people use for a kind are mapped onto it when a query is made, zs_lex_care_kinds). */
#define ZS_LEX_FTS_DDL \
	"CREATE VIRTUAL TABLE IF NOT EXISTS provider_fts USING fts5(agb UNINDEXED, norm UNINDEXED," \
	" kindcode UNINDEXED, name, alias, city, addr, kind," \
	" tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6');" \
	"CREATE VIRTUAL TABLE IF NOT EXISTS provider_vocab USING fts5vocab(provider_fts, row);" \
	"CREATE VIRTUAL TABLE IF NOT EXISTS provider_vocab_col USING fts5vocab(provider_fts, col);"
/* Parameters: rowid, agb, name, kind, locations (JSON), aliases (JSON array or NULL). */
#define ZS_LEX_FTS_INSERT \
	"INSERT INTO provider_fts(rowid, agb, norm, kindcode, name, alias, city, addr, kind)" \
	" VALUES(?,?,?,?,?,?,?,?,?)"

typedef struct {
	char *norm, *name, *alias, *city, *addr, *kind;
} zs_index_text;

int zs_lex_init(char *err, size_t errlen);
/* A number that changes whenever the lexicon or the layout of the index text changes: the
 * database keeps it (meta search_index) and the index is rebuilt when it differs. */
long long zs_lex_version(void);

/* Word classes for the fallback (words are folded). */
int zs_lex_is_stop(const char *w);
int zs_lex_is_generic(const char *w);   /* generic words and the care words of any kind */
/* Position of a provider kind in the documented neutral order (hospitals first). */
int zs_lex_kind_rank(const char *kind);
/* Whether the folded word w names provider kind `kind` (care_words): 2 when it is one of its
 * care words, 1 when w (3+ letters) starts one, else 0. */
int zs_lex_care_match(const char *w, const char *kind);
/* The kinds w names (zs_lex_care_match > 0), as their index tokens ("mentalhealth"), written
 * to tok[max][24]. Returns how many. */
int zs_lex_care_kinds(const char *w, char tok[][24], int max);
/* The index token of a kind: the code without '_' ("mental_health" -> "mentalhealth"). */
void zs_lex_kind_token(const char *kind, char *out, size_t len);

/* The index text of one provider. locations_json: the stored locations array; aliases_json: a
 * JSON array of strings or NULL. Returns 0, -1 on out-of-memory (out cleared). */
int zs_lex_index_text(const char *name, const char *kind, const char *locations_json,
                      const char *aliases_json, zs_index_text *out);
void zs_index_text_free(zs_index_text *t);

/* The folded place words of one location (city, its aliases, its districts), written into out
 * (len bytes, NUL-terminated). */
void zs_lex_place(const char *city, const char *postcode, char *out, size_t len);

/* Bind and run one prepared ZS_LEX_FTS_INSERT for a provider. Returns 0, -1 with err. */
int zs_lex_write_row(sqlite3 *db, sqlite3_stmt *ins, const char *agb, const char *name,
                     const char *kind, const char *locations_json, const char *aliases_json,
                     char *err, size_t errlen);

/* Create or migrate the index: called by zs_db_open for the writer, inside no transaction.
 * Rebuilds provider_fts from the provider table when its layout or the lexicon changed. */
int zs_lex_migrate(sqlite3 *db, char *err, size_t errlen);

#endif
