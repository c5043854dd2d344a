/* zs_db.h - SQLite database: open in WAL mode, schema, small helpers.
 * One connection per thread: the ingest worker writes, every HTTP thread reads. */
#ifndef ZS_DB_H
#define ZS_DB_H
#include <stddef.h>
#include <sqlite3.h>

#define ZS_DB_SCHEMA_VERSION 1

/* Open (and create/migrate when !readonly) the database. Returns the connection (caller closes
 * it with sqlite3_close), or NULL with a message in err. */
sqlite3 *zs_db_open(const char *path, int readonly, char *err, size_t errlen);

/* Run SQL with no results; 0 ok, -1 with err filled. */
int zs_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Current snapshot generation stored in meta (bumped by every committed ingest). */
long long zs_db_generation(sqlite3 *db);
/* A counter kept in the meta table, by key; -1 if absent. */
long long zs_db_meta(sqlite3 *db, const char *key);

/* Effective basis codes (stored as integers). */
enum { ZS_BASIS_NONE = 0, ZS_BASIS_INSURER = 1, ZS_BASIS_CONFIRMED = 2, ZS_BASIS_CONFLICT = 3,
       ZS_BASIS_PROVIDER_ONLY = 4 };
const char *zs_basis_code(int basis);

#endif
