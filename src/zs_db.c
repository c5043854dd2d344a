/* zs_db.c - schema and connection setup. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "zs_changes.h"
#include "zs_db.h"
#include "zs_lexicon.h"

/* History (what was shown when): one row per closed interval, keyed and ordered by what the
 * staff history reads (provider, year, policy, care type, start): no rowid and no separate index
 * (issue 17: half the bytes of a rowid table with an index on the same columns). Flags are
 * made from ceiling, basis and stop by the view status_history; flags is the JSON of rows of
 * versions before that. */
#define HISTORY_TABLE(name) \
	"CREATE TABLE IF NOT EXISTS " name "(agb TEXT NOT NULL, year INTEGER NOT NULL," \
	" policy_id TEXT NOT NULL, care_type TEXT NOT NULL, valid_from INTEGER NOT NULL," \
	" status INTEGER NOT NULL, as_contracted INTEGER, basis INTEGER NOT NULL, flags TEXT," \
	" valid_until INTEGER, ceiling INTEGER, stop TEXT," \
	" PRIMARY KEY(agb, year, policy_id, care_type, valid_from)) WITHOUT ROWID"
#define HISTORY_COLUMNS "agb, year, policy_id, care_type, valid_from, status, as_contracted," \
	" basis, flags, valid_until, ceiling, stop"

/* Source tables hold what each feed said (feed_id); derived tables (provider, effective,
 * history, provider_fts) are rebuilt by reconciliation inside the same transaction. */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
	"INSERT OR IGNORE INTO meta VALUES('schema_version', 1);"
	"INSERT OR IGNORE INTO meta VALUES('generation', 0);"
	"CREATE TABLE IF NOT EXISTS feed("
	" id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, kind TEXT NOT NULL, url TEXT NOT NULL,"
	" schedule INTEGER, stale_after INTEGER,"
	" last_attempt INTEGER, last_success INTEGER, last_change INTEGER, generated_at INTEGER,"
	" etag TEXT, last_modified TEXT, content_hash TEXT,"
	" rows_accepted INTEGER NOT NULL DEFAULT 0, rows_rejected INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT, last_error_at INTEGER, failures INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS feed_error(feed_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" line INTEGER, field TEXT, reason TEXT, PRIMARY KEY(feed_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS src_insurer(feed_id INTEGER NOT NULL, uzovi TEXT NOT NULL,"
	" name TEXT, concern_id TEXT, concern_name TEXT, PRIMARY KEY(feed_id, uzovi)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS policy(id TEXT NOT NULL, year INTEGER NOT NULL,"
	" feed_id INTEGER NOT NULL, name TEXT, label TEXT, type INTEGER, uzovi TEXT,"
	" concern_id TEXT, reimbursement TEXT, PRIMARY KEY(id, year)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS policy_feed ON policy(feed_id);"
	"CREATE TABLE IF NOT EXISTS src_provider(agb TEXT NOT NULL, feed_id INTEGER NOT NULL,"
	" from_provider INTEGER, name TEXT, kind TEXT, parent TEXT, locations TEXT,"
	" PRIMARY KEY(agb, feed_id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS src_provider_feed ON src_provider(feed_id);"
	"CREATE TABLE IF NOT EXISTS stmt(agb TEXT NOT NULL, year INTEGER NOT NULL,"
	" feed_id INTEGER NOT NULL, line INTEGER, care_type TEXT NOT NULL, scope INTEGER NOT NULL,"
	" scope_id TEXT NOT NULL, status INTEGER NOT NULL, as_contracted INTEGER, ceiling INTEGER,"
	" ceiling_exempt TEXT, stop_reason TEXT, stop_from TEXT, stop_until TEXT, stop_note TEXT,"
	" said_at INTEGER);"
	"CREATE INDEX IF NOT EXISTS stmt_agb ON stmt(agb, year);"
	"CREATE INDEX IF NOT EXISTS stmt_feed ON stmt(feed_id);"
	"CREATE INDEX IF NOT EXISTS stmt_scope ON stmt(scope_id, scope);"
	"CREATE TABLE IF NOT EXISTS similar_decl(feed_id INTEGER NOT NULL, year INTEGER NOT NULL,"
	" a TEXT NOT NULL, b TEXT NOT NULL, relation TEXT NOT NULL, line INTEGER);"
	"CREATE INDEX IF NOT EXISTS similar_decl_feed ON similar_decl(feed_id);"
	"CREATE TABLE IF NOT EXISTS provider(agb TEXT PRIMARY KEY, name TEXT, kind TEXT,"
	" parent TEXT, locations TEXT) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS effective(agb TEXT NOT NULL, year INTEGER NOT NULL,"
	" policy_id TEXT NOT NULL, care_type TEXT NOT NULL, status INTEGER NOT NULL,"
	" as_contracted INTEGER, ceiling INTEGER, ceiling_exempt TEXT, stop TEXT,"
	" basis INTEGER NOT NULL, ins_feed INTEGER, ins_status INTEGER, ins_level INTEGER,"
	" ins_said INTEGER, prov_feed INTEGER, prov_status INTEGER, prov_level INTEGER,"
	" prov_said INTEGER, since INTEGER,"
	" PRIMARY KEY(agb, year, policy_id, care_type)) WITHOUT ROWID;"
	HISTORY_TABLE("history") ";"
	/* status_history (STATUS_HISTORY_VIEW) is made by migrate() */
	"CREATE TABLE IF NOT EXISTS similar(year INTEGER NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,"
	" concern_id TEXT, overlap REAL, common INTEGER, only_a INTEGER, only_b INTEGER,"
	" max_pct_diff REAL, verdict TEXT NOT NULL, declared TEXT, finding TEXT, reasons TEXT,"
	" PRIMARY KEY(year, a, b)) WITHOUT ROWID;"
	/* the search index (provider_fts, provider_vocab, provider_vocab_col) and the aliases
	 * columns of src_provider and provider: created and upgraded by zs_lex_migrate */
	;

int zs_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The whole history: the closed intervals, and the open one of every key (its effective row,
 * shown since 'since'). Flags as the API shows them, made from ceiling, basis and stop. An
 * effective row of a retired policy (zs_rollover.h) is already closed: shown until the moment
 * its policy left the feeds, before its row is moved into history. */
#define FLAGS_JSON \
	"json_object('ceiling', json(CASE WHEN ceiling THEN 'true' ELSE 'false' END)," \
	" 'conflict', json(CASE WHEN basis=3 THEN 'true' ELSE 'false' END)," \
	" 'patient_stop', json(COALESCE(stop, 'null'))," \
	" 'provider_only', json(CASE WHEN basis=4 THEN 'true' ELSE 'false' END))"
#define STATUS_HISTORY_VIEW \
	"CREATE VIEW status_history AS" \
	" SELECT agb, year, policy_id, care_type, status, as_contracted, basis," \
	" COALESCE(flags, " FLAGS_JSON ") AS flags, valid_from, valid_until FROM history UNION ALL" \
	" SELECT e.agb, e.year, e.policy_id, e.care_type, e.status, e.as_contracted, e.basis, " \
	FLAGS_JSON ", e.since, r.at FROM effective e LEFT JOIN retired r" \
	" ON r.year = e.year AND r.policy_id = e.policy_id;"

/* Add a column to a table created by an older version. 0 ok, -1 with err. */
static int add_column(sqlite3 *db, const char *table, const char *column, const char *decl,
                      char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int have = 0;
	char sql[256];
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2", -1, &st,
	                       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	have = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (have)
		return 0;
	snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, column, decl);
	return zs_db_exec(db, sql, err, errlen);
}

/* A history table of an earlier version (rowid table + index history_key) is copied into the
 * compact form once (zero-length intervals with the same start: the later one stays). */
static int history_compact(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int old = 0;
	if (sqlite3_prepare_v2(db, "SELECT sql NOT LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE"
	                           " type='table' AND name='history'", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		old = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!old)
		return 0;
	char e2[128];
	if (zs_db_exec(db, "BEGIN IMMEDIATE; DROP VIEW IF EXISTS status_history;"
	                   HISTORY_TABLE("history_compact") ";"
	                   "INSERT OR REPLACE INTO history_compact(" HISTORY_COLUMNS ") SELECT "
	                   HISTORY_COLUMNS " FROM history ORDER BY rowid;"
	                   "DROP TABLE history; ALTER TABLE history_compact RENAME TO history;"
	                   "COMMIT", err, errlen)) {
		zs_db_exec(db, "ROLLBACK", e2, sizeof e2);
		return -1;
	}
	return 0;
}

/* Columns added after the first release (databases of earlier versions are upgraded). */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	/* The freshness consumers are shown (zs_fresh.h). */
	return add_column(db, "feed", "pub_success", "INTEGER", err, errlen) ||
	       add_column(db, "feed", "pub_stale", "INTEGER", err, errlen) ||
	       /* issue 13: a feed's publisher (display name); a record's own "since" date and
	        * that of the statement that set an effective status */
	       add_column(db, "feed", "publisher", "TEXT", err, errlen) ||
	       add_column(db, "stmt", "since_date", "TEXT", err, errlen) ||
	       add_column(db, "effective", "began", "TEXT", err, errlen) ||
	       /* Compact history (issue 17): flags from ceiling, basis and stop; rows of older
	        * versions keep their flags text. */
	       add_column(db, "history", "ceiling", "INTEGER", err, errlen) ||
	       add_column(db, "history", "stop", "TEXT", err, errlen) ||
	       history_compact(db, err, errlen) ||
	       /* Incremental apply (zs_incr.h): the hash of the line a row came from, and of
	        * the header its feed's rows were read under. */
	       add_column(db, "stmt", "lh", "INTEGER", err, errlen) ||
	       add_column(db, "src_provider", "lh", "INTEGER", err, errlen) ||
	       add_column(db, "feed", "head_hash", "INTEGER", err, errlen) ||
	       /* Rollover in steps (zs_rollover.h): policies that left the feeds, whose
	        * effective rows are hidden at once and moved into history in batches. */
	       zs_db_exec(db, "CREATE TABLE IF NOT EXISTS retired(year INTEGER NOT NULL,"
	                  " policy_id TEXT NOT NULL, gen INTEGER NOT NULL, at INTEGER NOT NULL,"
	                  " PRIMARY KEY(year, policy_id)) WITHOUT ROWID", err, errlen) ||
	       zs_db_exec(db, "DROP VIEW IF EXISTS status_history;" STATUS_HISTORY_VIEW, err,
	                  errlen) ||
	       /* What changed in each generation, by dependency key (zs_deps.h). */
	       zs_db_exec(db, "CREATE TABLE IF NOT EXISTS dirty(gen INTEGER NOT NULL,"
	                  " key TEXT NOT NULL, PRIMARY KEY(gen, key)) WITHOUT ROWID;"
	                  "CREATE INDEX IF NOT EXISTS dirty_key ON dirty(key, gen)", err, errlen) ||
	       /* The change feed and webhook delivery state (zs_changes.h). */
	       zs_changes_migrate(db, err, errlen);
}

sqlite3 *zs_db_open(const char *path, int readonly, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	flags |= SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	sqlite3_extended_result_codes(db, 1);
	if (!readonly) {
		if (zs_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		                   "PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY;", err, errlen) ||
		    zs_db_exec(db, schema, err, errlen) || migrate(db, err, errlen) ||
		    zs_lex_migrate(db, err, errlen)) {
			sqlite3_close(db);
			return NULL;
		}
	} else {
		char e2[256];
		/* Readers: a private page cache each (mmap would count the whole file in RSS). */
		if (zs_db_exec(db, "PRAGMA cache_size=-32768;", e2,
		               sizeof e2)) {
			snprintf(err, errlen, "database %s: %s", path, e2);
			sqlite3_close(db);
			return NULL;
		}
	}
	return db;
}

long long zs_db_generation(sqlite3 *db)
{
	return zs_db_meta(db, "generation");
}

long long zs_db_meta(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st;
	long long g = -1;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			g = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return g;
}

const char *zs_basis_code(int basis)
{
	static const char *const names[] = { "none", "insurer", "confirmed", "conflict",
		                             "provider_only" };
	return basis >= 0 && basis <= 4 ? names[basis] : "none";
}
