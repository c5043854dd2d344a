/* zs_rows.h - the effective table held in memory: one version per snapshot, shared by the
 * serving threads' readers, so that an answer reads its provider's rows from memory instead of
 * from SQLite (issue 16 item 4; docs/api.md "Caching").
 *
 * A version is a sorted index of (agb, year) -> block of rows, and the providers' master data
 * as answers write it (zs_provtext.h). A row is 8 bytes: the policy id and the rest of the
 * row (status, sources, moments, texts) as numbers into tables of the version's epoch, where
 * each distinct row pattern and text is kept once (a national dataset: 6.5 million rows,
 * ~11,000 patterns, ~60 MB in all).
 *
 * One builder (zs_rows_update, or the thread of zs_rows_start) makes versions, each inside a
 * read transaction of its own, so a version is exactly one committed snapshot (without the rows
 * of retired policies, which readers hide as well): the first in full, each later one from the
 * one before, with the rows of the providers the dirty table marks changed (p:<agb>, which also
 * marks a change of master data; '*' or pruned marks: in full again). Unchanged blocks and
 * texts are shared between versions. An epoch's tables only grow; when they have grown to
 * several times what a full build needed, the next version is built in full into a new epoch.
 *
 * Readers: zs_rows_get(gen) gives the version of their snapshot's generation, or NULL when it
 * is not built (yet): the reader then reads the table, as without a store. Every pointer read
 * from a version stays valid until zs_rver_release. */
#ifndef ZS_ROWS_H
#define ZS_ROWS_H
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "zs_api_priv.h"
#include "zs_config.h"

typedef struct zs_rows zs_rows;
typedef struct zs_rver zs_rver;

/* One row: its policy id and its pattern (everything else), numbers into the epoch. */
typedef struct {
	uint32_t pol, pat;
} zs_rrow;

zs_rows *zs_rows_new(void);
/* Stops the builder thread if started and frees the store. Every version must have been
 * released before (a reader's with zs_reader_close or zs_reader_set_rows(r, NULL)). */
void zs_rows_free(zs_rows *s);

/* Bring the store to the snapshot of db: opens and ends a read transaction of its own on db
 * (which must have none open). 0 ok (a new version, or the current one is that snapshot's),
 * -1 with err (the current version stays). Not concurrently with itself. */
int zs_rows_update(zs_rows *s, sqlite3 *db, char *err, size_t errlen);

/* The builder thread: its own read-only connection to cfg->database, at nice 19,
 * building a version whenever the published generation (zs_generation) moves; the first
 * at once. 0, or -1 with err. */
int zs_rows_start(zs_rows *s, const zs_config *cfg, char *err, size_t errlen);

/* The version of generation gen with a reference of the caller's, or NULL. */
zs_rver *zs_rows_get(zs_rows *s, long long gen);
void zs_rver_release(zs_rver *v);
long long zs_rver_gen(const zs_rver *v);

/* A provider's rows of one year in v: 1 with *rows, *n (n = 0: it has none that year), in
 * (policy_id, care_type) order; 0 when v cannot hold that provider (an agb too long for the
 * index): read the table. */
int zs_rver_rows(const zs_rver *v, const char *agb, int year, const zs_rrow **rows, size_t *n);
/* A provider's master data in v: the text of an answer's "provider" object for it
 * (zs_provtext.h). 1 with *text, *len (owned by v); 0 when the snapshot has no record of it;
 * -1 when v does not hold it (an agb too long): read the table. */
int zs_rver_provider(const zs_rver *v, const char *agb, const char **text, size_t *len);
/* A row's policy id and the rest of it (care_type, ..., began; strings owned by v). */
const char *zs_rver_policy(const zs_rver *v, uint32_t pol);
const eff_view *zs_rver_pattern(const zs_rver *v, uint32_t pat);

typedef struct {
	int state;            /* 0 off, 1 building the first version, 2 ready */
	long long gen;        /* the current version's generation, -1 none */
	size_t providers, rows, patterns, texts;
	size_t bytes;         /* held by the current version and its epoch */
	size_t versions;      /* published versions alive: the newest, those readers still
	                       * hold, those let go and not yet freed (not one being built) */
	unsigned long builds, full_builds, failures;
	double last_build_ms;
} zs_rows_stats;
/* s NULL: state 0 (off). */
void zs_rows_get_stats(zs_rows *s, zs_rows_stats *st);

#endif
