/* zs_ready.c - readiness state and the /readyz handler. */
#include "config.h"
#include <stdatomic.h>
#include <string.h>
#include <sqlite3.h>
#include "zs_ready.h"
#include "zs_api_priv.h"
#include "zs_rows.h"
#include "zs_worker.h"

static const char *database;
static _Atomic int ready;
static const char *_Atomic reason = "starting";
/* the generation published when the daemon first became ready; and whether the statuses in
 * memory have since caught up with it (statuses_loading) */
static _Atomic long long ready_gen = -1;
static _Atomic int rows_caught_up;

static const struct { const char *code, *message; } reasons[] = {
	{ "starting", "the feeds have not all been attempted yet" },
	{ "no_feed_loaded", "no feed has been loaded yet" },
	{ "no_feeds_configured", "no feed is configured" },
	{ "database_unreadable", "the database cannot be read" },
	{ "loading_statuses", "the statuses are being loaded into memory" },
};

void zs_ready_init(const char *db)
{
	database = db;
}

void zs_ready_set(int r, const char *why)
{
	if (why)
		atomic_store(&reason, why);
	if (r && !atomic_exchange(&ready, 1))
		atomic_store(&ready_gen, atomic_load(&zs_generation));
}

int zs_ready_get(void)
{
	return atomic_load(&ready);
}

/* A read of our own: the database file is there, readable and has its schema. */
static int database_readable(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ok = database && sqlite3_open_v2(database, &db,
	                                     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                                     NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_busy_timeout(db, 2000);
		ok = sqlite3_prepare_v2(db, "SELECT count(*) FROM feed", -1, &st, NULL) ==
		             SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}

/* Statuses held in memory (zs_rows.h) not yet built for the snapshot that made the daemon
 * ready: answers read them from the database meanwhile, several times slower (a national
 * dataset: ~10 s after a start or after the first load), so a load balancer keeps sending to
 * the replicas that have them. Once they are there the wait is over for good (later snapshots
 * are built while the one before serves, and readiness does not flap with each feed change),
 * and a failed build ends it too: answers stay right from the database, and a replica that
 * cannot build them must not stay out for ever. */
static int statuses_loading(const zs_reader *r)
{
	if (atomic_load(&rows_caught_up) || !r || !r->rows)
		return 0;
	zs_rows_stats st;
	zs_rows_get_stats(r->rows, &st);
	if (st.failures == 0 && (st.state != 2 || st.gen < atomic_load(&ready_gen)))
		return 1;
	atomic_store(&rows_caught_up, 1);
	return 0;
}

json_t *zs_api_ready(zs_reader *r, const zs_request *req, int *status)
{
	(void)req;
	const char *code = NULL;
	if (!atomic_load(&ready))
		code = atomic_load(&reason);
	else if (!database_readable())
		code = "database_unreadable";
	else if (statuses_loading(r))
		code = "loading_statuses";
	if (!code) {
		*status = 200;
		return json_pack("{s:s, s:I}", "status", "ready", "generation",
		                 (json_int_t)atomic_load(&zs_generation));
	}
	const char *msg = code;
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reasons[i].code, code) == 0)
			msg = reasons[i].message;
	*status = 503;
	return json_pack("{s:s, s:s, s:s}", "status", "not_ready", "reason", code, "message", msg);
}

int zs_feed_loaded(sqlite3 *db, int feed_id)
{
	sqlite3_stmt *st;
	int loaded = 0;
	if (sqlite3_prepare_v2(db, "SELECT last_success IS NOT NULL FROM feed WHERE id=?", -1, &st,
	                       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int(st, 1, feed_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		loaded = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return loaded;
}

const char *zs_feed_kept_text(sqlite3 *db, int feed_id)
{
	return zs_feed_loaded(db, feed_id) ? "last good content kept"
	                                   : "the feed has never loaded, nothing of it is served";
}
