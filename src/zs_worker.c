/* zs_worker.c - the ingest worker: schedules the feeds, runs their transfers together on a
 * libcurl multi handle (at most fetch_parallel at a time; one transfer is zs_fetch.h),
 * applies the fetched versions, publishes snapshots, reloads. */
#include "config.h"
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <curl/curl.h>
#include <sqlite3.h>
#include "zs_changes.h"
#include "zs_db.h"
#include "zs_fetch.h"
#include "zs_fresh.h"
#include "zs_maint.h"
#include "zs_ingest.h"
#include "zs_log.h"
#include "zs_metrics.h"
#include "zs_notify.h"
#include "zs_notify_http.h"
#include "zs_ready.h"
#include "zs_similar.h"
#include "zs_time.h"
#include "zs_util.h"
#include "zs_worker.h"

#define MOD "fetch"

_Atomic long long zs_generation;

struct zs_worker {
	const zs_config *cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic int stop;
	sqlite3 *db;
	const zs_config *pending;  /* a reloaded configuration, applied between rounds (mu) */
	int rounds;                /* rounds done (worker thread only) */
	time_t next_stale;      /* when a fresh feed turns stale next (0: none): wake up then */
};

static int feed_failures(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int failures = 0;
	if (sqlite3_prepare_v2(db, "SELECT failures FROM feed WHERE name=?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			failures = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return failures;
}

/* Apply the fetched versions items[0..m) together (insurer feeds first in the array), then
 * keep their validators. */
static void apply_fetched(zs_worker *w, zs_ingest_item *items, char **etags, char **lastmods,
                          size_t m)
{
	char err[512];
	long long t1 = zs_metrics_now_us();
	int arc = zs_ingest_apply_batch(w->db, items, m, zs_now(), err, sizeof err);
	/* A test may make every apply this much longer, to check that transfers still running
	 * meanwhile keep flowing (pump, below). */
	const char *stall = getenv("ZS_TEST_STALL_APPLY_MS");
	if (stall && *stall)
		usleep((useconds_t)atol(stall) * 1000);
	if (arc != 0)
		ZS_ERROR(MOD, "applying %zu feed version(s): %s", m, err);
	zs_metrics_duration(ZS_DUR_INGEST, (double)(zs_metrics_now_us() - t1) / 1e6);
	for (size_t j = 0; j < m; j++) {
		if (items[j].res.applied || items[j].res.unchanged)
			zs_ingest_set_validators(w->db, items[j].fc, etags[j], lastmods[j]);
		zs_metrics_fetch(items[j].fc->name,
		                 arc != 0 ? ZS_FETCH_FAILED
		                 : items[j].res.applied ? ZS_FETCH_APPLIED
		                 : items[j].res.unchanged ? ZS_FETCH_UNCHANGED : ZS_FETCH_REJECTED);
	}
}

int zs_fetch_apply_now(long long round_ms, long long ready_ms, long long now_ms)
{
	long long wait = ready_ms - round_ms;
	if (wait < 1000)
		wait = 1000;
	return now_ms - ready_ms >= wait;
}

/* the monotonic clock the metrics use, in milliseconds */
static long long mono_ms(void)
{
	return zs_metrics_now_us() / 1000;
}

/* While versions are applied early, the transfers still running keep flowing: a thread of its
 * own drives the multi handle until the apply is done. It starts no transfer and takes no
 * finished one (their messages wait in the multi handle); all that, and everything that writes
 * to the database, stays with the worker, which leaves the multi handle and the running jobs
 * alone meanwhile. Why: a server closes a connection it cannot write to for its send timeout
 * (nginx: 60 s), and an apply can take longer (a first load of a national dataset; measured
 * with four times the national providers: 80 s, four insurer feeds cut off). The transfers
 * keep their own limits (fetch_timeout, low_speed_limit). */
typedef struct {
	CURLM *cm;
	pthread_t thread;
	_Atomic int stop;
	int running;            /* the thread was started */
} pump;

static void *pump_main(void *arg)
{
	pump *p = arg;
	while (!atomic_load(&p->stop)) {
		int still = 0;
		curl_multi_perform(p->cm, &still);
		if (!still)
			break;
		curl_multi_poll(p->cm, NULL, 0, 1000, NULL);
	}
	return NULL;
}

/* Start driving cm from a thread of its own. When the thread cannot start, the transfers wait
 * for the apply, as they would without it. */
static void pump_start(pump *p, CURLM *cm)
{
	p->cm = cm;
	atomic_store(&p->stop, 0);
	p->running = pthread_create(&p->thread, NULL, pump_main, p) == 0;
	if (!p->running)
		ZS_WARN(MOD, "cannot start the thread that keeps transfers going during an apply");
}

/* Stop the thread: cm is the worker's again when this returns. */
static void pump_stop(pump *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, 1);
	curl_multi_wakeup(p->cm);
	pthread_join(p->thread, NULL);
	p->running = 0;
}

/* While other transfers are still running: apply the versions that have waited long enough
 * (zs_fetch_apply_now), insurer feeds any time, provider feeds
 * only when no insurer feed is still to come (provider feeds name the insurers' policies).
 * The new snapshot is published at once. */
static void apply_early(zs_worker *w, CURLM *cm, const zs_fetch_job *jobs, const time_t *due,
                        time_t now, size_t next, char *got, FILE **body, char **etag,
                        char **lastmod)
{
	const zs_config *cfg = w->cfg;
	size_t n = cfg->nfeeds, m = 0;
	int insurer_to_come = 0;
	for (size_t i = 0; i < n; i++)
		if (cfg->feeds[i].kind == ZS_FEED_INSURER &&
		    (jobs[i].c || (i >= next && due[i] <= now)))
			insurer_to_come = 1;
	zs_ingest_item *items = calloc(n, sizeof *items);
	char **et = calloc(n, sizeof *et), **lm = calloc(n, sizeof *lm);
	size_t *idx = calloc(n, sizeof *idx);
	if (items && et && lm && idx)
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < n; i++) {
				int ins = cfg->feeds[i].kind == ZS_FEED_INSURER;
				if (!got[i] || (pass == 0) != ins || (!ins && insurer_to_come))
					continue;
				items[m].fc = &cfg->feeds[i];
				items[m].body = body[i];
				et[m] = etag[i];
				lm[m] = lastmod[i];
				idx[m++] = i;
			}
	if (m) {
		pump p;
		pump_start(&p, cm);
		apply_fetched(w, items, et, lm, m);
		pump_stop(&p);
		atomic_store(&zs_generation, zs_db_generation(w->db));
		for (size_t j = 0; j < m; j++) {
			size_t i = idx[j];
			fclose(body[i]);
			free(etag[i]);
			free(lastmod[i]);
			body[i] = NULL;
			etag[i] = lastmod[i] = NULL;
			got[i] = 0;
		}
	}
	free(items);
	free(et);
	free(lm);
	free(idx);
}

/* Fetch the due feeds, at most fetch_parallel at a time. Per feed i: fetched[i] = 1 when it
 * was due; got[i] = 1 with body[i], etag[i], lastmod[i] when there is a version to apply. */
static void fetch_due(zs_worker *w, const time_t *due, time_t now, char *fetched, char *got,
                      FILE **body, char **etag, char **lastmod)
{
	sqlite3 *db = w->db;
	const zs_config *cfg = w->cfg;
	const _Atomic int *stop = &w->stop;
	size_t n = cfg->nfeeds, next = 0, active = 0;
	long long round_ms = mono_ms(), ready_ms = 0; /* a version waits to be applied since then */
	zs_fetch_job *jobs = calloc(n ? n : 1, sizeof *jobs);
	CURLM *cm = curl_multi_init();
	if (!jobs || !cm) {
		ZS_ERROR(MOD, "out of memory: no fetches this round");
		free(jobs);
		if (cm)
			curl_multi_cleanup(cm);
		return;
	}
	while (!atomic_load(stop)) {
		while (active < (size_t)cfg->fetch_parallel && next < n) {
			size_t i = next++;
			const zs_feed_conf *fc = &cfg->feeds[i];
			if (due[i] > now)
				continue;
			fetched[i] = 1;
			int fb = feed_failures(db, fc->name);
			int rc = zs_fetch_job_setup(db, cfg, fc, stop, &jobs[i]);
			if (rc < 0)
				ZS_ERROR(MOD, "feed %s: database error recording the attempt", fc->name);
			if (rc <= 0) {
				zs_metrics_fetch(fc->name, ZS_FETCH_FAILED);
				continue;
			}
			jobs[i].failures_before = fb;
			if (curl_multi_add_handle(cm, jobs[i].c) != CURLM_OK) {
				zs_ingest_fetch_failed(db, fc, zs_now(), "cannot start the transfer: curl");
				zs_metrics_fetch(fc->name, ZS_FETCH_FAILED);
				zs_fetch_job_free(&jobs[i]);
				continue;
			}
			active++;
		}
		if (active == 0)
			break;
		int running = 0, queued = 0;
		curl_multi_perform(cm, &running);
		CURLMsg *m;
		while ((m = curl_multi_info_read(cm, &queued))) {
			zs_fetch_job *j = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			CURL *e = m->easy_handle;
			CURLcode cc = m->data.result;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
			curl_multi_remove_handle(cm, e);
			active--;
			size_t i = (size_t)(j - jobs);
			int rc = zs_fetch_job_done(db, cfg, j, cc, &body[i], &etag[i], &lastmod[i]);
			if (rc == 2 && curl_multi_add_handle(cm, e) == CURLM_OK) {
				active++;
				continue;
			}
			if (rc < 0)
				ZS_ERROR(MOD, "feed %s: database error recording the attempt", j->fc->name);
			if (rc == 1) {
				got[i] = 1;
				if (!ready_ms)
					ready_ms = mono_ms();
			} else
				zs_metrics_fetch(j->fc->name,
				                 rc < 0 || feed_failures(db, j->fc->name) > j->failures_before
				                 ? ZS_FETCH_FAILED : ZS_FETCH_NOT_MODIFIED);
			zs_fetch_job_free(j);
		}
		if (active)
			curl_multi_poll(cm, NULL, 0, 200, NULL);
		if (active && ready_ms && zs_fetch_apply_now(round_ms, ready_ms, mono_ms())) {
			apply_early(w, cm, jobs, due, now, next, got, body, etag, lastmod);
			/* what comes next is timed from here (a transfer that ended during the apply
			 * is taken only now), and provider versions still waiting for an insurer
			 * feed wait a second again, not as long as the whole round so far */
			round_ms = mono_ms();
			ready_ms = 0;
			for (size_t i = 0; i < n && !ready_ms; i++)
				if (got[i])
					ready_ms = round_ms;
		}
	}
	for (size_t i = 0; i < n; i++) /* stopped: transfers still running are dropped */
		if (jobs[i].c) {
			curl_multi_remove_handle(cm, jobs[i].c);
			zs_fetch_job_free(&jobs[i]);
		}
	curl_multi_cleanup(cm);
	free(jobs);
}

int zs_fetch_once(sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                  const _Atomic int *stop_flag, char *err, size_t errlen)
{
	FILE *body = NULL;
	char *etag = NULL, *lastmod = NULL;
	zs_fetch_job j;
	static const _Atomic int never;
	zs_ingest_set_limits(cfg->max_line_kb, cfg->max_invalid_percent);
	err[0] = 0;
	int rc = zs_fetch_job_setup(db, cfg, fc, stop_flag ? stop_flag : &never, &j);
	while (rc == 1 || rc == 2) {
		CURLcode cc = curl_easy_perform(j.c);
		rc = zs_fetch_job_done(db, cfg, &j, cc, &body, &etag, &lastmod);
		if (rc == 1)
			break;
	}
	if (j.c)
		zs_fetch_job_free(&j);
	if (rc == 1) {
		zs_ingest_result res;
		rc = zs_ingest_apply(db, fc, body, zs_now(), &res, err, errlen);
		if (rc == 0 && (res.applied || res.unchanged))
			zs_ingest_set_validators(db, fc, etag, lastmod);
		fclose(body);
	} else if (rc < 0) {
		snprintf(err, errlen, "database error recording the attempt on feed %s", fc->name);
	}
	free(etag);
	free(lastmod);
	return rc < 0 ? -1 : 0;
}

/* One round: fetch every due feed (insurer feeds first: provider feeds name their policies),
 * then apply all fetched versions together (statuses, history and similar policies in one
 * snapshot), then schedule the next fetches (failed ones sooner: retry_min, doubling up to
 * the schedule). */
static void worker_round(zs_worker *w, time_t *due)
{
	size_t n = w->cfg->nfeeds, m = 0;
	zs_ingest_item *items = calloc(n ? n : 1, sizeof *items);
	char **etags = calloc(n ? n : 1, sizeof *etags), **lastmods = calloc(n ? n : 1, sizeof *lastmods);
	char *fetched = calloc(n ? n : 1, 1);
	char err[512];
	time_t now = time(NULL);
	long long t0 = zs_metrics_now_us();

	if (!items || !etags || !lastmods || !fetched) {
		ZS_ERROR(MOD, "out of memory in the fetch round");
		goto out;
	}
	{ /* concurrent fetches (fetch_parallel), then applied insurers first: provider feeds
	   * name the insurers' policies */
		char *got = calloc(n ? n : 1, 1);
		FILE **bodies = calloc(n ? n : 1, sizeof *bodies);
		char **etag_of = calloc(n ? n : 1, sizeof *etag_of);
		char **lastmod_of = calloc(n ? n : 1, sizeof *lastmod_of);
		if (got && bodies && etag_of && lastmod_of) {
			zs_ingest_set_limits(w->cfg->max_line_kb, w->cfg->max_invalid_percent);
			fetch_due(w, due, now, fetched, got, bodies, etag_of, lastmod_of);
			for (int pass = 0; pass < 2; pass++)
				for (size_t i = 0; i < n; i++)
					if (got[i] && (pass == 0) == (w->cfg->feeds[i].kind == ZS_FEED_INSURER)) {
						items[m].fc = &w->cfg->feeds[i];
						items[m].body = bodies[i];
						etags[m] = etag_of[i];
						lastmods[m] = lastmod_of[i];
						m++;
					}
		} else {
			ZS_ERROR(MOD, "out of memory in the fetch round");
		}
		free(got);
		free(bodies);
		free(etag_of);
		free(lastmod_of);
	}
	zs_metrics_duration(ZS_DUR_FETCH, (double)(zs_metrics_now_us() - t0) / 1e6);
	if (m && !atomic_load(&w->stop))
		apply_fetched(w, items, etags, lastmods, m);
	for (size_t i = 0; i < n; i++) {
		if (!fetched[i])
			continue;
		const zs_feed_conf *fc = &w->cfg->feeds[i];
		int failures = feed_failures(w->db, fc->name);
		long delay = fc->schedule;
		if (failures > 0) {
			long back = w->cfg->retry_min;
			for (int f = 1; f < failures && back < fc->schedule; f++)
				back *= 2;
			if (back < delay)
				delay = back;
		}
		due[i] = time(NULL) + delay;
	}
	/* Readers take their snapshot's generation from the database inside their own read
	 * transaction (zs_api.c), so this value is only the hint that tells them, and the
	 * response caches, that a new snapshot exists. A test may stall here, between commit
	 * and publication, to check that no answer mixes two snapshots. */
	const char *stall = getenv("ZS_TEST_STALL_PUBLISH_MS");
	if (m && stall && *stall)
		usleep((useconds_t)atol(stall) * 1000);
	if (zs_fresh_publish(w->db, zs_now(), &w->next_stale, err, sizeof err) < 0)
		ZS_ERROR(MOD, "publishing feed freshness: %s", err);
	atomic_store(&zs_generation, zs_db_generation(w->db));
	/* Bounded storage: history retention in small steps, old dependency marks, the WAL. */
	long pruned = 0;
	if (zs_maint_run(w->db, w->cfg, zs_now(), &pruned, err, sizeof err) < 0)
		ZS_WARN(MOD, "maintenance: %s", err);
	else if (pruned)
		ZS_INFO(MOD, "history: %ld rows older than %ld contract years deleted", pruned,
		        w->cfg->history_keep_years);
	/* the rollover's steps write change-log events: published too (the snapshot above was
	 * published first, so that serving never waits for maintenance) */
	atomic_store(&zs_generation, zs_db_generation(w->db));
out:
	for (size_t j = 0; j < m; j++) {
		fclose(items[j].body);
		free(etags[j]);
		free(lastmods[j]);
	}
	free(items);
	free(etags);
	free(lastmods);
	free(fetched);
}

/* zs_ingest_register, twice: when one call both drops a feed and adds another, its clean-up
 * ("DELETE FROM feed ... AND last_success IS NULL") also deletes the row of the feed just
 * added; the second call (nothing left to drop) registers it again. */
static int register_feeds(sqlite3 *db, const zs_config *cfg, char *err, size_t errlen)
{
	if (zs_ingest_register(db, cfg, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (zs_ingest_feed_id(db, cfg->feeds[i].name) < 0)
			return zs_ingest_register(db, cfg, err, errlen);
	return 0;
}

/* Feeds loaded (content from a successful fetch) and failing (last attempt failed), for the
 * service manager's STATUS= and readiness. Returns 0, or -1 when the database cannot be read. */
static int feed_counts(sqlite3 *db, long *loaded, long *failing, long *total)
{
	sqlite3_stmt *st;
	int rc = -1;
	*loaded = *failing = *total = 0;
	if (sqlite3_prepare_v2(db, "SELECT count(last_success), count(*) FILTER (WHERE failures > 0),"
	                       " count(*) FROM feed", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*loaded = sqlite3_column_int(st, 0);
		*failing = sqlite3_column_int(st, 1);
		*total = sqlite3_column_int(st, 2);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* After a round: STATUS= for the service manager; readiness once every configured feed has
 * been attempted (the first round attempts them all) and at least one is loaded. */
static void report_round(zs_worker *w)
{
	long loaded, failing, total;
	char status[160];
	w->rounds++;
	if (feed_counts(w->db, &loaded, &failing, &total) != 0) {
		zs_notify_status("database cannot be read");
		return;
	}
	snprintf(status, sizeof status, "%ld of %ld feeds loaded, %ld failing", loaded, total, failing);
	zs_notify_status(status);
	ZS_DEBUG(MOD, "round %d done: %s", w->rounds, status);
	if (!zs_ready_get()) {
		if (loaded > 0) {
			zs_ready_set(1, NULL);
			ZS_INFO(MOD, "ready: %s", status);
		} else {
			zs_ready_set(0, total ? "no_feed_loaded" : "no_feeds_configured");
		}
	}
}

/* A reloaded configuration: register its feeds (new ones get a row, removed ones lose their
 * data, reconciled), carry the schedule of unchanged feeds over and fetch new or changed ones
 * at once, and apply the similar-policy thresholds. Worker thread only, between rounds. */
static void apply_reload(zs_worker *w, const zs_config *next, time_t **due, size_t *n)
{
	char err[512];
	const zs_config *old = w->cfg;
	time_t *nd = calloc(next->nfeeds ? next->nfeeds : 1, sizeof *nd);
	size_t added = 0, changed = 0, removed = 0;
	long long t0 = zs_metrics_now_us();

	if (!nd) {
		ZS_ERROR(MOD, "reload: out of memory: the running configuration stays");
		return;
	}
	if (register_feeds(w->db, next, err, sizeof err) != 0) {
		ZS_ERROR(MOD, "reload: registering the feeds failed: %s; the running configuration "
		         "stays", err);
		free(nd);
		return;
	}
	for (size_t i = 0; i < next->nfeeds; i++) {
		const zs_feed_conf *f = &next->feeds[i];
		size_t j = 0;
		while (j < old->nfeeds && strcmp(old->feeds[j].name, f->name) != 0)
			j++;
		if (j == old->nfeeds) {
			added++;
			continue; /* due now */
		}
		const zs_feed_conf *o = &old->feeds[j];
		int same = o->kind == f->kind && strcmp(o->url, f->url) == 0 &&
		           !o->credentials_file == !f->credentials_file &&
		           (!o->credentials_file || strcmp(o->credentials_file, f->credentials_file) == 0) &&
		           o->max_invalid_rows == f->max_invalid_rows;
		if (!same) {
			changed++;
			continue;
		}
		nd[i] = (*due)[j];
		/* a shorter schedule takes effect now rather than after the old wait */
		if (f->schedule < o->schedule && nd[i] > time(NULL) + f->schedule)
			nd[i] = time(NULL) + f->schedule;
	}
	for (size_t j = 0; j < old->nfeeds; j++) {
		size_t i = 0;
		while (i < next->nfeeds && strcmp(old->feeds[j].name, next->feeds[i].name) != 0)
			i++;
		removed += i == next->nfeeds;
	}
	zs_similar_thresholds th = {
		.equal_overlap = (double)next->similar_equal_overlap / 100.0,
		.equal_pct = (double)next->similar_equal_pct,
		.very_overlap = (double)next->similar_very_overlap / 100.0,
		.very_pct = (double)next->similar_very_pct,
	};
	const zs_similar_thresholds *cur = zs_similar_get_thresholds();
	if (memcmp(cur, &th, sizeof th) != 0) {
		zs_similar_set_thresholds(&th);
		if (zs_db_exec(w->db, "BEGIN IMMEDIATE", err, sizeof err) == 0) {
			if (zs_similar_compute(w->db, err, sizeof err) == 0 &&
			    zs_db_exec(w->db, "UPDATE meta SET value=value+1 WHERE key='generation'", err,
			               sizeof err) == 0 &&
			    zs_db_exec(w->db, "COMMIT", err, sizeof err) == 0) {
				ZS_INFO(MOD, "reload: similar policies recomputed with the new thresholds");
			} else {
				char e2[128];
				ZS_ERROR(MOD, "reload: recomputing similar policies: %s", err);
				zs_db_exec(w->db, "ROLLBACK", e2, sizeof e2);
			}
		} else {
			ZS_ERROR(MOD, "reload: recomputing similar policies: %s", err);
		}
	}
	if (removed)
		zs_metrics_duration(ZS_DUR_RECONCILE, (double)(zs_metrics_now_us() - t0) / 1e6);
	atomic_store(&zs_generation, zs_db_generation(w->db));
	free(*due);
	*due = nd;
	*n = next->nfeeds;
	w->cfg = next;
	ZS_INFO(MOD, "configuration reloaded: %zu feeds (%zu added, %zu removed, %zu changed)",
	        next->nfeeds, added, removed, changed);
}

/* The ingest thread's nice value (setting ingest_nice): on Linux a thread has its own, so a
 * busy machine gives the serving threads the CPU first while a feed is applied. Raising it
 * always works; lowering it again needs CAP_SYS_NICE, so a reload that asks for less says
 * so and keeps the current one. */
static void worker_nice(long want, long *asked)
{
	if (want == *asked)
		return; /* once per value: a refused lowering is not logged every round */
	*asked = want;
#ifdef __linux__
	pid_t tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int cur = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno == 0 && cur == (int)want)
		return;
	if (setpriority(PRIO_PROCESS, (id_t)tid, (int)want) != 0)
		ZS_WARN(MOD, "ingest_nice %ld: %s; the ingest thread stays at nice %d", want,
		        strerror(errno), cur);
	else
		ZS_DEBUG(MOD, "ingest thread at nice %ld", want);
#else
	(void)want;
#endif
}

/* The similar policies' contracted sets, read while nothing is to be applied (after a start),
 * not by the first changed feed's apply (zs_similar.h); a stop, a reload or a feed due goes
 * first. Worker thread only, between rounds. */
static void warm_similar(zs_worker *w, const time_t *due, size_t n)
{
	int busy = atomic_load(&w->stop);
	pthread_mutex_lock(&w->mu);
	busy |= w->pending != NULL;
	pthread_mutex_unlock(&w->mu);
	time_t now = time(NULL);
	for (size_t i = 0; i < n && !busy; i++)
		busy = due[i] <= now;
	if (busy)
		return;
	char err[256];
	long long t0 = zs_metrics_now_us();
	int warm = zs_similar_warm(w->db, &w->stop, err, sizeof err);
	if (warm < 0)
		ZS_ERROR(MOD, "%s", err);
	else if (warm > 0)
		ZS_DEBUG(MOD, "similar policies: contracted sets read in %lld ms",
		         (zs_metrics_now_us() - t0) / 1000);
}

static void *worker_main(void *arg)
{
	zs_worker *w = arg;
	size_t n = w->cfg->nfeeds;
	time_t *due = calloc(n ? n : 1, sizeof *due);
	long nice_asked = -1;

	zs_thread_name("zs-ingest");
	if (!due) {
		ZS_ERROR(MOD, "out of memory: worker stops");
		return NULL;
	}
	while (!atomic_load(&w->stop)) {
		pthread_mutex_lock(&w->mu);
		const zs_config *reload = w->pending;
		w->pending = NULL;
		pthread_mutex_unlock(&w->mu);
		if (reload)
			apply_reload(w, reload, &due, &n);
		worker_nice(w->cfg->ingest_nice, &nice_asked);
		time_t now = time(NULL);
		worker_round(w, due);
		if (!atomic_load(&w->stop))
			report_round(w);
		/* the change feed: year_published events when due, retention (zs_changes.h) */
		char cerr[256];
		int cchanged = 0;
		if (zs_changes_tick(w->db, zs_now(), w->cfg->changes_retention, &cchanged, cerr,
		                    sizeof cerr))
			ZS_ERROR(MOD, "change feed: %s", cerr);
		if (cchanged)
			atomic_store(&zs_generation, zs_db_generation(w->db));
		zs_notifier_wake(); /* webhooks and cache purges of what was just published */
		warm_similar(w, due, n);
		time_t next = now + 3600;
		for (size_t i = 0; i < n; i++)
			if (due[i] < next)
				next = due[i];
		/* next_stale is on the daemon clock (zs_now), which --now may shift */
		time_t off = zs_now() - time(NULL);
		if (w->next_stale > 0 && w->next_stale - off < next)
			next = w->next_stale - off;
		time_t pub = zs_changes_next_publication(zs_now());
		if (pub - off < next)
			next = pub - off;
		pthread_mutex_lock(&w->mu);
		if (!atomic_load(&w->stop) && !w->pending && next > time(NULL)) {
			struct timespec ts = { .tv_sec = next, .tv_nsec = 0 };
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		pthread_mutex_unlock(&w->mu);
	}
	free(due);
	zs_similar_thread_done(); /* the contracted sets it kept (zs_similar.h) */
	return NULL;
}

zs_worker *zs_worker_start(const zs_config *cfg, char *err, size_t errlen)
{
	zs_worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->cfg = cfg;
	w->db = zs_db_open(cfg->database, 0, err, errlen);
	if (w->db && zs_maint_setup(w->db, cfg, err, errlen)) {
		sqlite3_close(w->db);
		w->db = NULL;
	}
	if (!w->db) {
		free(w);
		return NULL;
	}
	int reg = register_feeds(w->db, cfg, err, errlen);
	zs_similar_thread_done(); /* a dropped feed computed on this (the main) thread: not kept */
	if (reg) {
		sqlite3_close(w->db);
		free(w);
		return NULL;
	}
	atomic_store(&zs_generation, zs_db_generation(w->db));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start the ingest thread");
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		sqlite3_close(w->db);
		free(w);
		return NULL;
	}
	return w;
}

void zs_worker_reload(zs_worker *w, const zs_config *cfg)
{
	pthread_mutex_lock(&w->mu);
	w->pending = cfg;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void zs_worker_stop(zs_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, 1);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	sqlite3_close(w->db);
	free(w);
}
