/* zs_reader.c - the per-thread reader: its read connection, the per-snapshot caches
 * (policies, feeds, frozen texts), the consequence cache (kept across snapshots: its key is
 * every input), and the snapshot discipline (zs_api_call):
 * every answer from one read transaction, with the keys it depends on. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "zs_api.h"
#include "zs_api_priv.h"
#include "zs_rows.h"
#include "zs_catalogue.h"
#include "zs_compact.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_jsonw.h"
#include "zs_memo.h"
#include "zs_log.h"
#include "zs_metrics.h"
#include "zs_deps.h"
#include "zs_embedded.h"
#include "zs_similar.h"
#include "zs_feed.h"
#include "zs_fresh.h"
#include "zs_time.h"
#include "zs_types.h"
#include "zs_worker.h"
#include "zs_util.h"

/* ---- caches ------------------------------------------------------------------------------- */

static int pol_id_cmp(const void *a, const void *b)
{
	const pol_entry *x = *(const pol_entry *const *)a, *y = *(const pol_entry *const *)b;
	return x->year != y->year ? (x->year < y->year ? -1 : 1) : strcmp(x->id, y->id);
}

static void caches_free(zs_reader *r)
{
	for (size_t i = 0; i < r->npols; i++) {
		pol_entry *p = &r->pols[i];
		zs_frozen_remove(r->frozen, p->summary); /* the consequences stay (below) */
		free(p->id);
		free(p->name);
		free(p->label);
		free(p->uzovi);
		free(p->insurer_name);
		free(p->concern_id);
		free(p->concern_name);
		json_decref(p->reimbursement);
		json_decref(p->summary);
		free(p->rules);
	}
	free(r->pols);
	r->pols = NULL;
	r->npols = 0;
	free(r->pols_by_id);
	r->pols_by_id = NULL;
	free(r->run);
	r->run = NULL;
	for (size_t i = 0; i < r->nfeeds; i++) {
		free(r->feeds[i].name);
		free(r->feeds[i].kind);
		free(r->feeds[i].publisher);
	}
	free(r->feeds);
	r->feeds = NULL;
	r->nfeeds = 0;
	free(r->feed_by_id);
	r->feed_by_id = NULL;
	r->nfeed_by_id = 0;
	for (size_t i = 0; i < r->nretired; i++)
		free(r->retired[i].policy_id);
	free(r->retired);
	r->retired = NULL;
	r->nretired = 0;
}

static int retired_cmp(int year, const char *id, const zs_retired *e)
{
	return year != e->year ? (year < e->year ? -1 : 1) : strcmp(id, e->policy_id);
}

/* The list could not be read whole (an SQLite error, out of memory): ask the table itself, so
 * that a retired policy never shows because of a short list. */
static int retired_in_db(const zs_reader *r, int year, const char *policy_id)
{
	sqlite3_stmt *st;
	int found = 1; /* unknown counts as retired: hidden rather than shown wrongly */
	if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM retired WHERE year=? AND policy_id=?", -1, &st,
	                       NULL) != SQLITE_OK)
		return found;
	sqlite3_bind_int(st, 1, year);
	sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		found = 0;
	sqlite3_finalize(st);
	return found;
}

int zs_reader_retired(const zs_reader *r, int year, const char *policy_id)
{
	if (!r->retired_whole)
		return retired_in_db(r, year, policy_id);
	size_t lo = 0, hi = r->nretired; /* none retired (nearly always): no comparison */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = retired_cmp(year, policy_id, &r->retired[mid]);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static void cons_clear(zs_reader *r);

static void fkeys_clear(zs_reader *r)
{
	for (size_t i = 0; i < r->nfkeys; i++)
		free(r->fkeys[i].bytes);
	r->nfkeys = 0;
}

/* A feed's part of the status memo's key (zs_status.c), made once per snapshot: what its
 * statuses show of it, as a number. The same texts keep their number across snapshots (the
 * memo outlives them); new texts get the next one. 0 when it cannot be made (the key is then
 * not made either). */
static unsigned feed_mkey(zs_reader *r, const feed_entry *f)
{
	unsigned char buf[3 * (2 + 255)];
	zs_mkey k;
	zs_mkey_init(&k, buf, sizeof buf);
	zs_mkey_str(&k, f->disp_name);
	zs_mkey_str(&k, f->name);
	zs_mkey_str(&k, f->checked_on);
	if (k.over)
		return 0;
	size_t len = (size_t)(k.p - buf);
	uint64_t h = zs_mkey_hash(buf, len);
	for (size_t i = 0; i < r->nfkeys; i++)
		if (r->fkeys[i].hash == h && r->fkeys[i].len == len &&
		    memcmp(r->fkeys[i].bytes, buf, len) == 0)
			return (unsigned)i + 1;
	unsigned char *copy = malloc(len);
	if (!copy || zs_grow(&r->fkeys, &r->capfkeys, r->nfkeys, sizeof *r->fkeys, 64)) {
		free(copy);
		return 0;
	}
	memcpy(copy, buf, len);
	r->fkeys[r->nfkeys] = (zs_fkey){ copy, len, h };
	return (unsigned)++r->nfkeys;
}

/* Number every feed of the snapshot. When the numbers would pass ZS_FKEYS_MAX (a new day's
 * checked_on is new text for every feed), they start again, and so does the status memo,
 * whose keys hold the old numbers. */
static void feeds_number(zs_reader *r)
{
	if (r->nfkeys + r->nfeeds > ZS_FKEYS_MAX) {
		fkeys_clear(r);
		zs_tmemo_clear(r->smemo);
	}
	for (size_t i = 0; i < r->nfeeds; i++)
		r->feeds[i].mkey_id = feed_mkey(r, &r->feeds[i]);
}

/* The snapshot's feeds by id, for zs_reader_find_feed: a lookup asks for two feeds per
 * status (~2,000 for a hospital), which a scan of the list made ~50,000 comparisons. Left
 * NULL (the scan) when an id is out of the index's range or out of memory. */
static void feeds_index(zs_reader *r)
{
	int max = -1;
	for (size_t i = 0; i < r->nfeeds; i++) {
		if (r->feeds[i].id < 0 || r->feeds[i].id >= 65536)
			return;
		if (r->feeds[i].id > max)
			max = r->feeds[i].id;
	}
	if (max < 0 || !(r->feed_by_id = calloc((size_t)max + 1, sizeof *r->feed_by_id)))
		return;
	r->nfeed_by_id = (size_t)max + 1;
	for (size_t i = 0; i < r->nfeeds; i++)
		r->feed_by_id[r->feeds[i].id] = &r->feeds[i];
}

static int caches_load(zs_reader *r)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	caches_free(r); /* the consequence cache stays: its keys are all its inputs */
	/* inside the caller's read transaction (zs_reader_refresh) */
	if (sqlite3_prepare_v2(r->db,
	        "SELECT p.id, p.year, p.name, p.label, p.type, p.uzovi, i.name, p.concern_id,"
	        " i.concern_name, p.reimbursement FROM policy p LEFT JOIN src_insurer i"
	        " ON i.feed_id = p.feed_id AND i.uzovi = p.uzovi"
	        " ORDER BY p.year, i.concern_name, i.name, p.name, p.id", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (zs_grow(&r->pols, &cap, r->npols, sizeof *r->pols, 64))
				break;
			pol_entry *p = &r->pols[r->npols++];
			memset(p, 0, sizeof *p);
			p->id = zs_col_dup(st, 0);
			p->year = sqlite3_column_int(st, 1);
			p->name = zs_col_dup(st, 2);
			p->label = zs_col_dup(st, 3);
			p->type = (zs_ptype)sqlite3_column_int(st, 4);
			p->uzovi = zs_col_dup(st, 5);
			p->insurer_name = zs_col_dup(st, 6);
			p->concern_id = zs_col_dup(st, 7);
			p->concern_name = zs_col_dup(st, 8);
			const char *rj = (const char *)sqlite3_column_text(st, 9);
			p->reimbursement = rj ? json_loads(rj, 0, NULL) : NULL;
			if (!p->reimbursement)
				p->reimbursement = json_array();
			/* the rules once per snapshot, not looked up in JSON for every status */
			size_t nr = json_array_size(p->reimbursement), k;
			json_t *rule;
			p->rules = nr ? calloc(nr, sizeof *p->rules) : NULL;
			json_array_foreach(p->reimbursement, k, rule) {
				const char *ct = json_string_value(json_object_get(rule, "care_type"));
				if (!p->rules || !ct)
					continue;
				struct pol_rule *pr = &p->rules[p->nrules++];
				pr->care_type = ct;
				pr->percent = json_number_value(json_object_get(rule, "percent"));
				pr->basis = json_string_value(json_object_get(rule, "basis"));
			}
			p->summary = json_pack("{s:s?, s:s?, s:s?, s:s, s:{s:s?, s:s?}, s:{s:s?, s:s?}}",
			                       "id", p->id, "name", p->name, "label", p->label, "type",
			                       zs_ptype_code(p->type), "insurer", "uzovi", p->uzovi, "name",
			                       p->insurer_name, "concern", "id", p->concern_id, "name",
			                       p->concern_name);
		}
		sqlite3_finalize(st);
	}
	/* by year and id, as the effective rows are (a lookup walks both together) */
	r->pols_by_id = r->npols ? malloc(r->npols * sizeof *r->pols_by_id) : NULL;
	r->run = r->npols ? malloc(2 * r->npols * sizeof *r->run) : NULL;
	if (r->pols_by_id && r->run) {
		for (size_t i = 0; i < r->npols; i++)
			r->pols_by_id[i] = &r->pols[i];
		qsort(r->pols_by_id, r->npols, sizeof *r->pols_by_id, pol_id_cmp);
	} else {
		free(r->pols_by_id);
		r->pols_by_id = NULL;
	}
	/* Twins on every policy object: computed equal/very similar, or declared. */
	for (size_t i = 0; i < r->npols; i++)
		json_object_set_new(r->pols[i].summary, "similar", json_array());
	if (sqlite3_prepare_v2(r->db,
	        "SELECT year, a, b, verdict, declared, finding FROM similar"
	        " WHERE verdict <> 'different' OR declared IS NOT NULL ORDER BY year, a, b", -1, &st,
	        NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			int y = sqlite3_column_int(st, 0);
			const char *ids[2] = { (const char *)sqlite3_column_text(st, 1),
				               (const char *)sqlite3_column_text(st, 2) };
			for (int k = 0; k < 2; k++) {
				const pol_entry *pe = zs_find_policy(r, ids[k], y);
				if (!pe)
					continue;
				json_array_append_new(json_object_get(pe->summary, "similar"),
				        json_pack("{s:s, s:s, s:s?, s:s?}", "id", ids[1 - k],
				                  "verdict", (const char *)sqlite3_column_text(st, 3),
				                  "declared", (const char *)sqlite3_column_text(st, 4),
				                  "finding", (const char *)sqlite3_column_text(st, 5)));
			}
		}
		sqlite3_finalize(st);
	}
	cap = 0;
	/* The freshness published with this snapshot (zs_fresh.h), never the exact last fetch:
	 * a poll that changes nothing must not change an answer. */
	if (sqlite3_prepare_v2(r->db, "SELECT id, name, kind, pub_success, stale_after,"
	                       " COALESCE(pub_stale, 1), publisher FROM feed", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (zs_grow(&r->feeds, &cap, r->nfeeds, sizeof *r->feeds, 16))
				break;
			feed_entry *f = &r->feeds[r->nfeeds++];
			f->id = sqlite3_column_int(st, 0);
			f->name = zs_col_dup(st, 1);
			f->kind = zs_col_dup(st, 2);
			f->last_success = sqlite3_column_type(st, 3) == SQLITE_NULL
			                ? -1 : sqlite3_column_int64(st, 3);
			f->stale_after = sqlite3_column_int64(st, 4);
			f->stale = sqlite3_column_int(st, 5);
			f->publisher = zs_col_dup(st, 6); /* display name (issue 13) */
			/* what people know the source by (the feed section's display_name, else the
			 * header's publisher) and the day it was last checked: once per snapshot */
			f->disp_name = f->publisher;
			for (size_t i = 0; f->name && r->cfg && i < r->cfg->nfeeds; i++)
				if (r->cfg->feeds[i].display_name &&
				    strcmp(r->cfg->feeds[i].name, f->name) == 0)
					f->disp_name = r->cfg->feeds[i].display_name;
			f->checked_on[0] = 0;
			if (f->last_success >= 0)
				zs_fresh_day((time_t)f->last_success, f->checked_on, sizeof f->checked_on);
		}
		sqlite3_finalize(st);
	}
	feeds_number(r);
	feeds_index(r);
	/* The retired policies (zs_rollover.h), in the order zs_reader_retired searches: the
	 * effective rows of a provider are filtered with them in memory (a NOT EXISTS per row
	 * in the query was an index seek per row: 7% of a cold lookup). */
	r->retired_whole = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT year, policy_id FROM retired ORDER BY year, policy_id",
	                       -1, &st, NULL) == SQLITE_OK) {
		size_t rcap = 0;
		int rc;
		char *id;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) { /* out of memory: stops short */
			if (zs_grow(&r->retired, &rcap, r->nretired, sizeof *r->retired, 16) ||
			    !(id = zs_col_dup(st, 1)))
				break;
			r->retired[r->nretired].year = sqlite3_column_int(st, 0);
			r->retired[r->nretired++].policy_id = id;
		}
		r->retired_whole = rc == SQLITE_DONE;
		sqlite3_finalize(st);
	}
	/* Policy summaries are in most answers and do not change within the snapshot: their text
	 * is made once (zs_jsonw.h). Nothing may modify them from here on. */
	for (size_t i = 0; i < r->npols; i++)
		zs_frozen_add(r->frozen, r->pols[i].summary);
	return 0;
}

/* ---- consequence cache -------------------------------------------------------------------
 * zs_consequence is pure: the same inputs give the same object, so one object serves every
 * status with those inputs (jansson values may sit in several containers). A two-way set-
 * associative memo (zs_tmemo, the most recently used of a set first) holding, as its text, a
 * reference to the object: with one slot per hash a cold
 * national rotation recomputed a consequence for one status in fifty, nearly all collisions,
 * and each recomputed object took another place in the frozen table until it was full (from
 * then on consequences were written out in full, not spliced). An evicted object leaves the
 * frozen table with it (cons_drop). The cache outlives snapshots (nothing of a snapshot is in
 * its keys or objects): emptying it at every new snapshot stalled each serving thread 25-70 ms
 * under load (16,000 objects and texts freed, then made again). */
#define CONS_SETS 8192

/* A consequence leaves the memo: its text leaves the frozen table, its reference goes. */
static void cons_drop(void *ctx, const char *text, size_t len)
{
	zs_reader *r = ctx;
	json_t *v;
	if (len != sizeof v)
		return;
	memcpy(&v, text, sizeof v);
	zs_frozen_remove(r->frozen, v);
	json_decref(v);
}

static void cons_clear(zs_reader *r)
{
	zs_tmemo_free(r->cons);
	r->cons = NULL;
}

/* The consequence key: every input in a fixed order (zs_memo.h). Built for every status of
 * every answer, so no formatting. A key that does not fit is not cut short: the consequence is
 * then computed uncached. */
json_t *zs_reader_cons_get(zs_reader *r, const zs_conseq_in *in, const char *lang)
{
	unsigned char key[512];
	zs_mkey k;
	zs_mkey_init(&k, key, sizeof key);
	zs_mkey_int(&k, in->policy_type);
	zs_mkey_str(&k, in->care_type);
	zs_mkey_str(&k, in->stop_until);
	zs_mkey_str(&k, in->stale_since);
	zs_mkey_str(&k, in->nc_basis);
	zs_mkey_str(&k, lang);
	zs_mkey_str(&k, in->stop_from);
	zs_mkey_int(&k, in->status);
	zs_mkey_int(&k, in->as_contracted);
	zs_mkey_int(&k, in->ceiling);
	zs_mkey_int(&k, in->ceiling_exempt);
	zs_mkey_int(&k, in->patient_stop);
	zs_mkey_int(&k, in->conflict);
	zs_mkey_int(&k, in->provider_only);
	zs_mkey_int(&k, in->stale);
	zs_mkey_int(&k, in->treatment_in_progress);
	zs_mkey_int(&k, (long long)llround(in->nc_percent * 10000));
	zs_mkey_int(&k, in->amount_cents);
	/* the inputs added for stops, situations and conflicts (issue 13) */
	zs_mkey_int(&k, in->stop_announced);
	zs_mkey_int(&k, in->stop_for_ceiling);
	zs_mkey_int(&k, in->exempt_if_acute);
	zs_mkey_int(&k, in->exempt_if_in_treatment);
	zs_mkey_int(&k, in->insurer_says);
	zs_mkey_int(&k, in->provider_says);
	if (k.over)
		return zs_consequence(in, lang);
	size_t klen = (size_t)(k.p - key), len;
	if (!r->cons && !(r->cons = zs_tmemo_new_with(CONS_SETS, sizeof(json_t *), cons_drop, r)))
		return zs_consequence(in, lang);
	const char *held = zs_tmemo_get(r->cons, key, klen, &len);
	json_t *v;
	if (held) {
		memcpy(&v, held, sizeof v);
		return json_incref(v);
	}
	if (!(v = zs_consequence(in, lang)))
		return NULL;
	if (zs_tmemo_put(r->cons, key, klen, (const char *)&v, sizeof v) != 0)
		return v; /* out of memory: not kept */
	json_incref(v);               /* the memo's reference (cons_drop) */
	zs_frozen_add(r->frozen, v);  /* its text is made once */
	return v;
}

/* Snapshot discipline: every answer is computed inside one read transaction. The first
 * zs_reader_refresh of a call opens it and reads the snapshot's generation there (never the
 * published hint zs_generation, which lags the commit); the per-snapshot caches (policies,
 * rates, twins, feeds, search vocabulary) are reloaded inside the same
 * transaction when it moved. So statuses and caches always belong to one committed version.
 * zs_api_call ends the transaction; a handler called directly (unit tests) keeps it open until
 * its next refresh, which starts from the newest snapshot.
 *
 * A public answer written directly (a lookup, status or compare; r->direct) reads only what a
 * new generation versions: statuses, policies, rates, feeds' dates, master data. Its
 * transaction is kept open after the call (r->held), and the next such call answers from the
 * same snapshot while no newer generation is published (zs_generation): no BEGIN, no read of
 * the generation, no COMMIT per answer. Every other call, a fetch of dirty marks and the
 * serving thread's tick once a second (zs_reader_idle) end it first, so a kept snapshot never
 * lags what those read, and the WAL is never held for more than about a second. */
/* Run a prepared BEGIN or COMMIT (each answer runs both: prepared once instead of parsed by
 * sqlite3_exec every time). */
static int txn(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* End the read transaction if one is open. A COMMIT that fails would leave it open, and the
 * reader on that snapshot for good: then ROLLBACK (for a read transaction the same). */
static void txn_end(zs_reader *r)
{
	r->held = 0;
	if (!sqlite3_get_autocommit(r->db) && txn(r->st_commit) != SQLITE_OK)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

void zs_reader_idle(zs_reader *r)
{
	if (!r)
		return;
	if (r->held)
		txn_end(r);
	zs_reader_let_go_rows(r);
}

/* The rows in memory of the reader's snapshot (r->gen), once the builder has made them. */
static void rows_follow(zs_reader *r)
{
	if (r->rows && (!r->rver || zs_rver_gen(r->rver) != r->gen)) {
		zs_rver_release(r->rver);
		r->rver = zs_rows_get(r->rows, r->gen);
	}
}

void zs_reader_refresh(zs_reader *r)
{
	if (!sqlite3_get_autocommit(r->db)) {
		if (r->in_call) {
			r->snap_used = 1;
			return;
		}
		txn_end(r);
	}
	long long g = -1;
	if (txn(r->st_begin) == SQLITE_OK &&
	    sqlite3_step(r->sel_gen) == SQLITE_ROW)
		g = sqlite3_column_int64(r->sel_gen, 0);
	sqlite3_reset(r->sel_gen);
	if (g != r->gen || !r->pols) {
		long long t0 = zs_metrics_now_us();
		caches_load(r);
		ZS_DEBUG("reader", "snapshot %lld: per-snapshot caches loaded in %.1f ms", g,
		         (double)(zs_metrics_now_us() - t0) / 1000.0);
		r->gen = g;
		r->search_gen = zs_deps_last_change(r->db, "search");
	}
	rows_follow(r);
	r->snap_used = 1;
}

void zs_reader_let_go_rows(zs_reader *r)
{
	/* older only: a snapshot is committed before its generation is published, so a reader can
	 * be ahead of zs_generation for a moment */
	if (r && r->rver && zs_rver_gen(r->rver) < atomic_load(&zs_generation)) {
		zs_rver_release(r->rver);
		r->rver = NULL;
	}
}

void zs_reader_set_rows(zs_reader *r, struct zs_rows *rows)
{
	zs_rver_release(r->rver);
	r->rver = NULL;
	r->rows = rows;
}

void zs_api_dep(const zs_reader *r, const char *type, const char *id)
{
	if (r->deps)
		zs_deplist_add(r->deps, type, id);
}

void zs_api_dep_int(const zs_reader *r, const char *type, long long id)
{
	if (r->deps)
		zs_deplist_add_int(r->deps, type, id);
}

void zs_api_dep_feed(zs_reader *r, long long feed_id)
{
	if (!r->deps)
		return;
	for (size_t i = 0; i < r->ndep_feeds; i++)
		if (r->dep_feeds[i] == feed_id)
			return;
	if (r->ndep_feeds < sizeof r->dep_feeds / sizeof r->dep_feeds[0])
		r->dep_feeds[r->ndep_feeds++] = feed_id;
	zs_deplist_add_int(r->deps, "f", feed_id);
}

char *zs_api_dump(zs_reader *r, const json_t *body, size_t *len)
{
	char *t = zs_json_dump_big(body, r->frozen, r->raw, len);
	zs_frozen_clear(r->raw); /* the call's direct texts are spent */
	return t;
}

void zs_reader_set_direct(zs_reader *r, int on)
{
	r->direct_ok = on && r->raw;
}

int zs_api_dirty(zs_reader *r, long long from, long long to, uint64_t **keys, size_t *n,
                 int *all)
{
	txn_end(r); /* the marks up to `to`: never those of a kept, older snapshot */
	return zs_deps_dirty(r->db, from, to, keys, n, all);
}

json_t *zs_api_call(zs_reader *r, zs_handler fn, const zs_request *req, int *status,
                    long long *snapshot, zs_deplist *deps)
{
	/* direct writing: public lookups, statuses and compares (texts=none and staff answers are
	 * changed after the handler, or hold more: they keep the tree) */
	const char *texts = zs_param(req, "texts");
	r->direct = r->direct_ok && !req->staff &&
	            (fn == zs_api_provider || fn == zs_api_status || fn == zs_api_compare) &&
	            !(texts && strcmp(texts, "none") == 0);
	/* the snapshot kept by the last direct call, while it is the newest published (see above);
	 * else end what is open (also what a direct handler call left open) */
	if (r->direct && r->held && r->gen == atomic_load(&zs_generation))
		rows_follow(r); /* they may have been built since the snapshot was opened */
	else
		txn_end(r);
	r->in_call = 1;
	r->ncalls++;
	r->snap_used = 0;
	r->deps = deps;
	if (deps)
		zs_deplist_clear(deps);
	zs_frozen_clear(r->raw);
	r->scratch.len = 0;
	r->scratch.oom = 0;
	r->ndep_feeds = 0;
	zs_tmemo_stats m0, m1;
	zs_status_memo_stats(r, &m0);
	json_t *body = zs_compact_check(req, status);
	if (!body) {
		body = fn(r, req, status);
		if (body && *status == 200)
			body = zs_compact_apply(fn, req, body);
	}
	zs_status_memo_stats(r, &m1);
	if (m1.hits != m0.hits || m1.misses != m0.misses)
		zs_metrics_status_memo(m1.hits - m0.hits, m1.misses - m0.misses);
	r->deps = NULL;
	r->in_call = 0;
	if (r->direct && !sqlite3_get_autocommit(r->db))
		r->held = 1; /* kept for the next direct call */
	else
		txn_end(r);
	r->direct = 0;
	if (snapshot)
		*snapshot = r->snap_used ? r->gen : -1;
	return body;
}

const pol_entry *zs_find_policy(const zs_reader *r, const char *id, int year)
{
	for (size_t i = 0; i < r->npols; i++)
		if (r->pols[i].year == year && strcmp(r->pols[i].id, id) == 0)
			return &r->pols[i];
	return NULL;
}

const feed_entry *zs_reader_find_feed(const zs_reader *r, long long id)
{
	if (r->feed_by_id)
		return id >= 0 && (size_t)id < r->nfeed_by_id ? r->feed_by_id[id] : NULL;
	for (size_t i = 0; i < r->nfeeds; i++)
		if (r->feeds[i].id == id)
			return &r->feeds[i];
	return NULL;
}

int zs_reader_feed_stale(const feed_entry *f)
{
	return !f || f->last_success < 0 || f->stale;
}

zs_reader *zs_reader_open(const zs_config *cfg, char *err, size_t errlen)
{
	zs_reader *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->gen = -2;
	r->frozen = zs_frozen_new(32768); /* the snapshot's policies, the kept consequences */
	r->raw = zs_frozen_new(1024);
	/* 1 MiB of address space, reused by every answer: its pages are touched once, where a new
	 * buffer per answer page-faulted (and was copied when it grew) every time */
	r->scratch.cap = 1 << 20;
	r->scratch.p = malloc(r->scratch.cap);
	r->scratch.fixed = 1;
	if (!r->scratch.p)
		r->scratch.cap = 0;
	r->db = zs_db_open(cfg->database, 1, err, errlen);
	if (!r->db) {
		free(r);
		return NULL;
	}
	if (sqlite3_prepare_v3(r->db, "SELECT value FROM meta WHERE key='generation'", -1,
	                       SQLITE_PREPARE_PERSISTENT, &r->sel_gen, NULL) ||
	    sqlite3_prepare_v3(r->db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &r->st_begin, NULL) ||
	    sqlite3_prepare_v3(r->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &r->st_commit,
	                       NULL) ||
	    sqlite3_prepare_v3(r->db, "SELECT name, kind, parent, locations FROM provider WHERE agb=?",
	                       -1, SQLITE_PREPARE_PERSISTENT, &r->sel_provider, NULL) ||
	    sqlite3_prepare_v3(r->db,
	        "SELECT " ZS_EFF_COLS " FROM effective WHERE agb=? AND year=?"
	        /* rows of retired policies are left out by zs_rowset_load (zs_reader_retired) */
	        " ORDER BY policy_id, care_type", -1, SQLITE_PREPARE_PERSISTENT, &r->sel_eff, NULL) ||
	    sqlite3_prepare_v3(r->db,
	        "SELECT year, policy_id, care_type, status, as_contracted, basis, flags, valid_from,"
	        " valid_until FROM status_history WHERE agb=?1 AND (?2 IS NULL OR year=?2)"
	        " AND (?3 IS NULL OR policy_id=?3) AND (?4 IS NULL OR care_type=?4)"
	        " AND (?5 IS NULL OR (valid_from <= ?5 AND (valid_until IS NULL OR valid_until > ?5)))"
	        " AND (?6 IS NULL OR (year, policy_id, care_type, valid_from,"
	        " COALESCE(valid_until, 9223372036854775807)) > (?6, ?7, ?8, ?9, ?10))"
	        " ORDER BY year, policy_id, care_type, valid_from,"
	        " COALESCE(valid_until, 9223372036854775807) LIMIT ?11", -1, SQLITE_PREPARE_PERSISTENT,
	        &r->sel_history, NULL)) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(r->db));
		zs_reader_close(r);
		return NULL;
	}
	return r;
}

void zs_reader_close(zs_reader *r)
{
	if (!r)
		return;
	txn_end(r);
	caches_free(r);
	cons_clear(r);
	zs_status_memo_free(r);
	fkeys_clear(r);
	free(r->fkeys);
	zs_search_free_cache(r);
	zs_frozen_free(r->frozen);
	zs_frozen_free(r->raw);
	free(r->scratch.p);
	sqlite3_finalize(r->sel_gen);
	sqlite3_finalize(r->st_begin);
	sqlite3_finalize(r->st_commit);
	sqlite3_finalize(r->sel_provider);
	sqlite3_finalize(r->sel_eff);
	zs_rver_release(r->rver);
	sqlite3_finalize(r->sel_history);
	sqlite3_close(r->db);
	free(r);
}
