/* test_lexicon.c - the search lexicon (data/search.json) and a provider's index text
 * (zs_lexicon.h), and the upgrade of a database with the old search index.
 * Expected words are written from data/search.json and the rules in zs_lexicon.c. */
#include "testutil.h"
#include "zs_db.h"
#include "zs_lexicon.h"

/* 1 when w is a whole word of the space-separated text. */
static int has_word(const char *text, const char *w)
{
	size_t wl = strlen(w);
	for (const char *p = text; p && (p = strstr(p, w)); p++)
		if ((p == text || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == 0))
			return 1;
	return 0;
}

static zs_index_text idx(const char *name, const char *kind, const char *locs, const char *al)
{
	zs_index_text t;
	ck_assert_int_eq(zs_lex_index_text(name, kind, locs, al, &t), 0);
	return t;
}

START_TEST(initials)
{
	static const struct { const char *name, *ini; } c[] = {
		{ "Jeroen Bosch Ziekenhuis", "jbz" },
		{ "Leids Universitair Medisch Centrum", "lumc" },
		{ "Universitair Medisch Centrum Groningen", "umcg" },
		{ "Maastricht UMC+", "mumc" },           /* a word in capitals counts whole */
		{ "Ziekenhuisgroep Twente", "zgt" },     /* compound parts: ziekenhuis + groep */
		{ "Antoni van Leeuwenhoek", "avl" },     /* with the stop word */
		{ "Elisabeth-TweeSteden Ziekenhuis", "etz" },
		{ "Canisius Wilhelmina Ziekenhuis", "cwz" },
		{ "Erasmus MC", "emc" },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		zs_index_text t = idx(c[i].name, "hospital", "[]", NULL);
		ck_assert_msg(has_word(t.alias, c[i].ini), "%s: \"%s\" not in \"%s\"", c[i].name,
		              c[i].ini, t.alias);
		zs_index_text_free(&t);
	}
	/* one word: no initials; two letters: too short */
	zs_index_text t = idx("Isala", "hospital", "[]", NULL);
	ck_assert_str_eq(t.alias, "");
	zs_index_text_free(&t);
	t = idx("Martini Ziekenhuis", "hospital", "[]", NULL);
	ck_assert(!has_word(t.alias, "mz"));
	zs_index_text_free(&t);
}
END_TEST

START_TEST(name_parts)
{
	zs_index_text t = idx("Flevoziekenhuis", "hospital", "[]", NULL);
	ck_assert(has_word(t.name, "flevoziekenhuis") && has_word(t.name, "flevo") &&
	          has_word(t.name, "ziekenhuis"));
	ck_assert_str_eq(t.norm, "flevoziekenhuis");
	zs_index_text_free(&t);
	t = idx("HagaZiekenhuis", "hospital", "[]", NULL);
	ck_assert(has_word(t.name, "haga") && has_word(t.name, "ziekenhuis"));
	zs_index_text_free(&t);
	t = idx("Elisabeth-TweeSteden Ziekenhuis", "hospital", "[]", NULL);
	ck_assert(has_word(t.name, "twee") && has_word(t.name, "steden") &&
	          has_word(t.name, "tweesteden"));
	zs_index_text_free(&t);
	t = idx("Sint Maartenskliniek", "hospital", "[]", NULL);
	ck_assert(has_word(t.name, "maartens") && has_word(t.name, "maarten") &&
	          has_word(t.name, "kliniek"));
	zs_index_text_free(&t);
	t = idx("BovenIJ ziekenhuis", "hospital", "[]", NULL);
	ck_assert(has_word(t.name, "boven") && has_word(t.name, "ij") && has_word(t.name, "bovenij"));
	zs_index_text_free(&t);
	/* aliases from the feed, with their parts */
	t = idx("Erasmus MC", "hospital", "[]", "[\"Sophia Kinderziekenhuis\",\"EMC\"]");
	ck_assert(has_word(t.alias, "sophia") && has_word(t.alias, "kinderziekenhuis") &&
	          has_word(t.alias, "kinder") && has_word(t.alias, "ziekenhuis"));
	ck_assert(!has_word(t.name, "sophia"));
	zs_index_text_free(&t);
}
END_TEST

START_TEST(places)
{
	char p[600];
	zs_lex_place("'s-Hertogenbosch", "5223GZ", p, sizeof p);
	ck_assert(has_word(p, "s") && has_word(p, "hertogenbosch") && has_word(p, "den") &&
	          has_word(p, "bosch"));
	zs_lex_place("Den Haag", "2545AA", p, sizeof p);
	ck_assert(has_word(p, "gravenhage") && has_word(p, "escamp"));
	ck_assert(!has_word(p, "scheveningen"));
	/* the district of a place alias: 's-Gravenhage is Den Haag */
	zs_lex_place("'s-Gravenhage", "2597AX", p, sizeof p);
	ck_assert(has_word(p, "den") && has_word(p, "haag") && has_word(p, "benoordenhout"));
	zs_lex_place("Amsterdam", "1034CS", p, sizeof p);
	ck_assert(has_word(p, "noord") && !has_word(p, "zuidoost"));
	zs_lex_place("Amsterdam", "1105AZ", p, sizeof p);
	ck_assert(has_word(p, "zuidoost") && has_word(p, "bijlmer") && !has_word(p, "noord"));
	zs_lex_place("Zwolle", "8025AB", p, sizeof p);
	ck_assert_str_eq(p, "zwolle");
	/* a district belongs to its city only: Noord of Rotterdam is 3031-3039 */
	zs_lex_place("Zwolle", "1034AA", p, sizeof p);
	ck_assert_str_eq(p, "zwolle");
	zs_index_text t = idx("X", "gp", "[{\"street\":\"Zamenhofdreef 80\",\"postcode\":\"3562JW\","
	                      "\"city\":\"Utrecht\"}]", NULL);
	ck_assert(has_word(t.city, "overvecht") && has_word(t.addr, "3562jw") &&
	          has_word(t.addr, "zamenhofdreef"));
	ck_assert_str_eq(t.kind, "gp");
	zs_index_text_free(&t);
	t = idx("X", "mental_health", "[]", NULL);
	ck_assert_str_eq(t.kind, "mentalhealth");
	zs_index_text_free(&t);
}
END_TEST

START_TEST(word_classes)
{
	ck_assert(zs_lex_is_stop("de") && zs_lex_is_stop("in") && !zs_lex_is_stop("den"));
	ck_assert(zs_lex_is_generic("ziekenhuis") && zs_lex_is_generic("praktijk"));
	ck_assert(zs_lex_is_generic("huisarts") && zs_lex_is_generic("fysiotherapeut"));
	ck_assert(!zs_lex_is_generic("isala") && !zs_lex_is_generic("zwolle"));
	ck_assert_int_eq(zs_lex_kind_rank("hospital"), 0);
	ck_assert_int_lt(zs_lex_kind_rank("ibc"), zs_lex_kind_rank("gp"));
	ck_assert_int_lt(zs_lex_kind_rank("other"), zs_lex_kind_rank("nonsense"));
	/* care words name kinds: whole (2) or begun, from 3 letters (1) */
	ck_assert_int_eq(zs_lex_care_match("huisarts", "gp"), 2);
	ck_assert_int_eq(zs_lex_care_match("fysio", "physiotherapy"), 2);
	ck_assert_int_eq(zs_lex_care_match("fysiotherapeu", "physiotherapy"), 1);
	ck_assert_int_eq(zs_lex_care_match("gp", "gp"), 2);
	ck_assert_int_eq(zs_lex_care_match("g", "gp"), 0);
	ck_assert_int_eq(zs_lex_care_match("ziekenhuis", "gp"), 0);
	char tok[12][24];
	ck_assert_int_eq(zs_lex_care_kinds("ggz", tok, 12), 1);
	ck_assert_str_eq(tok[0], "mentalhealth");
	/* "thuiszorg" is a district-nursing word and begins "thuiszorgwinkel" (medical devices) */
	ck_assert_int_eq(zs_lex_care_kinds("thuiszorg", tok, 12), 2);
	ck_assert_str_eq(tok[0], "districtnursing");
	ck_assert_str_eq(tok[1], "medicaldevices");
	ck_assert_int_eq(zs_lex_care_match("thuiszorg", "district_nursing"), 2);
	ck_assert_int_eq(zs_lex_care_match("thuiszorg", "medical_devices"), 1);
	ck_assert_int_eq(zs_lex_care_kinds("isala", tok, 12), 0);
}
END_TEST

static long long one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A database of the previous version: provider_fts(agb, norm, name, place), no aliases. */
START_TEST(upgrade_old_database)
{
	char *path, err[256];
	ck_assert_int_ge(asprintf(&path, "%s/old.db", tu_tmpbase), 0);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
		"CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
		"INSERT INTO meta VALUES('schema_version', 1), ('generation', 7);"
		"CREATE TABLE src_provider(agb TEXT NOT NULL, feed_id INTEGER NOT NULL,"
		" from_provider INTEGER, name TEXT, kind TEXT, parent TEXT, locations TEXT,"
		" PRIMARY KEY(agb, feed_id)) WITHOUT ROWID;"
		"CREATE TABLE provider(agb TEXT PRIMARY KEY, name TEXT, kind TEXT,"
		" parent TEXT, locations TEXT) WITHOUT ROWID;"
		"CREATE VIRTUAL TABLE provider_fts USING fts5(agb UNINDEXED, norm UNINDEXED,"
		" name, place, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');"
		"CREATE VIRTUAL TABLE provider_vocab USING fts5vocab(provider_fts, row);"
		"INSERT INTO provider VALUES('06500064', 'Jeroen Bosch Ziekenhuis', 'hospital', NULL,"
		" '[{\"street\":\"Henri Dunantstraat 1\",\"postcode\":\"5223GZ\","
		"\"city\":\"''s-Hertogenbosch\"}]');"
		"INSERT INTO provider_fts(rowid, agb, norm, name, place) VALUES(6500064, '06500064',"
		" 'jeroen bosch ziekenhuis', 'Jeroen Bosch Ziekenhuis', '''s-Hertogenbosch');",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM provider_fts WHERE provider_fts MATCH"
	                         " 'alias : jbz AND city : (den bosch) AND kind : hospital'"), 1);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM pragma_table_info('src_provider')"
	                         " WHERE name = 'aliases'"), 1);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM pragma_table_info('provider')"
	                         " WHERE name = 'aliases'"), 1);
	ck_assert_int_eq(one(db, "SELECT value FROM meta WHERE key = 'search_index'"),
	                 zs_lex_version());
	long long gen = one(db, "SELECT value FROM meta WHERE key = 'generation'");
	ck_assert_int_gt(gen, 7);   /* readers reload their caches */
	sqlite3_close(db);
	/* opened again: nothing to do */
	db = zs_db_open(path, 0, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(one(db, "SELECT value FROM meta WHERE key = 'generation'"), gen);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM provider_fts"), 1);
	sqlite3_close(db);
	free(path);
}
END_TEST

int main(void)
{
	tu_tmpbase_create();
	Suite *s = suite_create("lexicon");
	TCase *tc = tcase_create("lexicon");
	tcase_add_test(tc, initials);
	tcase_add_test(tc, name_parts);
	tcase_add_test(tc, places);
	tcase_add_test(tc, word_classes);
	tcase_add_test(tc, upgrade_old_database);
	suite_add_tcase(s, tc);
	int rc = tu_run(s);
	tu_tmpbase_remove();
	return rc;
}
