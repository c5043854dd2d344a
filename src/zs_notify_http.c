/* zs_notify_http.c - webhooks of the change feed and cache-tier purges (zs_notify_http.h). */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sqlite3.h>
#include "zs_api_priv.h"
#include "zs_changes.h"
#include "zs_db.h"
#include "zs_deps.h"
#include "zs_log.h"
#include "zs_notify_http.h"
#include "zs_time.h"
#include "zs_util.h"
#include "zs_worker.h"

#define MOD "notify"
#define BACKOFF_MAX 300      /* seconds */
#define FAILING_AFTER 3      /* consecutive failures before a subscriber is "failing" */
#define POST_TIMEOUT 15      /* seconds per webhook POST */
#define PURGE_TIMEOUT 5
#define PURGE_KEYS 40        /* keys per PURGE request */
#define SCAN_CHUNK 500       /* events read at once while filtering */
#define ROUNDS_PER_WAKE 50   /* batches per subscriber before waiting again */

typedef struct {
	const zs_subscriber_conf *c;
	char *secret;
	size_t secret_len;
	long long acked;           /* last acknowledged seq */
	long long scanned;         /* the seq the batch in flight acknowledges */
	size_t nevents;            /* events in the batch in flight */
	int failures;
	time_t next_try;
	int more;                  /* more events wait after the batch in flight */
	/* the transfer in flight */
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	char errbuf[CURL_ERROR_SIZE];
	/* counters (read by /metrics) */
	_Atomic unsigned long long delivered_batches, failed_batches, events;
	_Atomic int failing;
} sub_state;

typedef struct {
	const zs_cache_conf *c;
	long long purged_gen;
	int failures;
	time_t next_try;
	_Atomic unsigned long long ok, failed;
	_Atomic int failing;
	_Atomic long long purged_gen_pub; /* for /v1/subscribers */
} cache_state;

struct zs_notifier {
	const zs_config *cfg;
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int woken;
	_Atomic int stop;
	sub_state *subs;
	size_t nsubs;
	cache_state *caches;
	size_t ncaches;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static zs_notifier *g_notifier; /* the running one (g_mu) */

/* ---- signing -------------------------------------------------------------------------------- */

void zs_webhook_sign(const char *key, size_t keylen, long long t, const char *body, size_t len,
                     char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char ts[32];
	int tl = snprintf(ts, sizeof ts, "%lld.", t);
	/* HMAC over "<t>." followed by the body, without copying the body */
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;
	hex[0] = 0;
	if (ctx && EVP_MAC_init(ctx, (const unsigned char *)key, keylen, params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)ts, (size_t)tl) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)body, len) == 1 &&
	    EVP_MAC_final(ctx, mac, &outl, sizeof mac) == 1)
		maclen = (unsigned int)outl;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	for (unsigned int i = 0; i < maclen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* ---- state in SQLite ------------------------------------------------------------------------ */

static void save_state(zs_notifier *n, const sub_state *s, const char *error, int success)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(n->db,
	        "INSERT INTO subscriber_state(name, acked, failures, last_error, last_attempt,"
	        " last_success, delivered) VALUES(?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN ?5 END, ?7)"
	        " ON CONFLICT(name) DO UPDATE SET acked=?2, failures=?3,"
	        " last_error=COALESCE(?4, last_error), last_attempt=COALESCE(?5, last_attempt),"
	        " last_success=CASE WHEN ?6 THEN ?5 ELSE last_success END,"
	        " delivered=delivered + ?7", -1, &st, NULL) != SQLITE_OK) {
		ZS_ERROR(MOD, "subscriber %s: cannot store its state: %s", s->c->name,
		         sqlite3_errmsg(n->db));
		return;
	}
	sqlite3_bind_text(st, 1, s->c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, s->acked);
	sqlite3_bind_int(st, 3, s->failures);
	if (error)
		sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	if (error || success)
		sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 6, success);
	sqlite3_bind_int64(st, 7, success ? (sqlite3_int64)s->nevents : 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		ZS_ERROR(MOD, "subscriber %s: cannot store its state: %s", s->c->name,
		         sqlite3_errmsg(n->db));
	sqlite3_finalize(st);
}

/* acked of a subscriber, or -1 when it has no row yet. */
static long long load_acked(sqlite3 *db, const char *name, int *failures)
{
	sqlite3_stmt *st;
	long long v = -1;
	*failures = 0;
	if (sqlite3_prepare_v2(db, "SELECT acked, failures FROM subscriber_state WHERE name=?", -1,
	                       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		*failures = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return v;
}

static char *read_secret(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f) {
		snprintf(err, errlen, "secret_file %s: %s", path, strerror(errno));
		return NULL;
	}
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	if (n < 16) {
		if (line)
			explicit_bzero(line, cap);
		free(line);
		snprintf(err, errlen, "secret_file %s: the secret must be at least 16 characters", path);
		return NULL;
	}
	*len = (size_t)n;
	return line;
}

/* ---- webhooks ------------------------------------------------------------------------------- */

static int matches(const zs_subscriber_conf *c, const zs_change *e)
{
	if (c->year && e->year != c->year)
		return 0;
	if (!e->agb[0]) /* year_published: for every subscriber of that year */
		return 1;
	if (c->insurer && (!e->uzovi || strcmp(c->insurer, e->uzovi) != 0))
		return 0;
	if (c->provider_kind && (!e->kind || strcmp(c->provider_kind, e->kind) != 0))
		return 0;
	return 1;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	const _Atomic int *stop = ud;
	(void)a; (void)b; (void)c; (void)d;
	return atomic_load(stop);
}

static void easy_common(zs_notifier *n, CURL *e, const char *url, long timeout, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, n->cfg->connect_timeout);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, &n->stop);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "zorgstatusd/" PACKAGE_VERSION);
	errbuf[0] = 0;
}

/* The next batch of s: events after acked that pass its filter. Returns 1 when a POST was
 * prepared, 0 when nothing is to be sent (acked may have moved over filtered events), -1 on a
 * database error. */
static int prepare_batch(zs_notifier *n, sub_state *s)
{
	long long valid_from, head, pos = s->acked;
	int resync = 0;
	size_t max = (size_t)s->c->max_batch;
	json_t *events = json_array();
	if (!events || zs_changes_window(n->db, &valid_from, &head)) {
		json_decref(events);
		return -1;
	}
	if (pos < valid_from || pos > head) { /* down longer than the retention window */
		ZS_WARN(MOD, "subscriber %s: its cursor is outside the retained changes: it must"
		        " re-sync; delivery goes on from the oldest retained change", s->c->name);
		pos = valid_from;
		resync = 1;
	}
	s->more = 0;
	while (json_array_size(events) < max) {
		zs_change *v = NULL;
		size_t nv = 0;
		if (zs_changes_read(n->db, pos, SCAN_CHUNK, &v, &nv)) {
			json_decref(events);
			return -1;
		}
		size_t i = 0;
		for (; i < nv && json_array_size(events) < max; i++) {
			if (matches(s->c, &v[i]))
				json_array_append_new(events, zs_change_json(&v[i]));
			pos = v[i].seq;
		}
		int full = nv == SCAN_CHUNK;
		s->more = i < nv || (full && json_array_size(events) >= max);
		zs_changes_free(v, nv);
		if (!full)
			break;
	}
	if (json_array_size(events) == 0 && !resync) {
		json_decref(events);
		if (pos != s->acked) { /* only filtered-out events: move on */
			s->acked = pos;
			s->nevents = 0;
			save_state(n, s, NULL, 0);
		}
		return 0;
	}
	char next[48], hex[65], hdr[160];
	zs_changes_cursor(pos, next, sizeof next);
	s->nevents = json_array_size(events);
	json_t *o = json_pack("{s:s, s:o, s:s, s:b}", "subscriber", s->c->name, "events", events,
	                      "next", next, "more", s->more);
	if (resync)
		json_object_set_new(o, "resync_required", json_true());
	s->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s->body)
		return -1;
	s->scanned = pos;
	long long t = (long long)time(NULL);
	zs_webhook_sign(s->secret, s->secret_len, t, s->body, strlen(s->body), hex);
	snprintf(hdr, sizeof hdr, "X-Zorgstatus-Signature: t=%lld,v1=%s", t, hex);
	s->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	s->hdrs = curl_slist_append(s->hdrs, hdr);
	s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	s->easy = curl_easy_init();
	if (!s->easy || !s->hdrs) {
		free(s->body);
		s->body = NULL;
		curl_slist_free_all(s->hdrs);
		s->hdrs = NULL;
		return -1;
	}
	easy_common(n, s->easy, s->c->url, POST_TIMEOUT, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	return 1;
}

static void finish(zs_notifier *n, sub_state *s, CURLcode cc)
{
	long code = 0;
	char msg[CURL_ERROR_SIZE + 64];
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK && code >= 200 && code < 300) {
		s->acked = s->scanned;
		s->failures = 0;
		s->next_try = 0;
		atomic_fetch_add(&s->delivered_batches, 1);
		atomic_fetch_add(&s->events, s->nevents);
		atomic_store(&s->failing, 0);
		save_state(n, s, NULL, 1);
		ZS_DEBUG(MOD, "subscriber %s: %zu event(s) delivered", s->c->name, s->nevents);
	} else {
		if (cc != CURLE_OK)
			snprintf(msg, sizeof msg, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
		else
			snprintf(msg, sizeof msg, "HTTP %ld", code);
		s->failures++;
		long back = 1;
		for (int i = 1; i < s->failures && back < BACKOFF_MAX; i++)
			back *= 2;
		if (back > BACKOFF_MAX)
			back = BACKOFF_MAX;
		s->next_try = time(NULL) + back;
		s->more = 0;
		atomic_fetch_add(&s->failed_batches, 1);
		if (s->failures >= FAILING_AFTER)
			atomic_store(&s->failing, 1);
		save_state(n, s, msg, 0);
		ZS_WARN(MOD, "subscriber %s: delivery failed (%s), attempt %d; retry in %ld s",
		        s->c->name, msg, s->failures, back);
	}
	curl_easy_cleanup(s->easy);
	curl_slist_free_all(s->hdrs);
	free(s->body);
	s->easy = NULL;
	s->hdrs = NULL;
	s->body = NULL;
}

/* One round: a batch to every subscriber that is due, all at once. Returns 1 when some
 * subscriber has more waiting (call again), else 0. */
static int deliver_round(zs_notifier *n, CURLM *multi)
{
	time_t now = time(NULL);
	int running = 0, again = 0;
	for (size_t i = 0; i < n->nsubs; i++) {
		sub_state *s = &n->subs[i];
		if (s->next_try > now)
			continue;
		int rc = prepare_batch(n, s);
		if (rc < 0)
			ZS_ERROR(MOD, "subscriber %s: cannot read the change feed", s->c->name);
		if (rc == 1) {
			curl_multi_add_handle(multi, s->easy);
			running++;
		}
	}
	while (running > 0) {
		int still = 0, numfds = 0;
		if (curl_multi_perform(multi, &still) != CURLM_OK)
			break;
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			sub_state *s = NULL;
			CURL *e = m->easy_handle;
			CURLcode cc = m->data.result;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
			curl_multi_remove_handle(multi, e);
			finish(n, s, cc);
			again |= s->more;
			running--;
		}
		if (running > 0 && still > 0)
			curl_multi_poll(multi, NULL, 0, 200, &numfds);
	}
	return again && !atomic_load(&n->stop);
}

/* ---- cache purges --------------------------------------------------------------------------- */

static int purge_one(zs_notifier *n, const cache_state *c, const char *keys)
{
	char errbuf[CURL_ERROR_SIZE], hdr[2048];
	long code = 0;
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	if (!e)
		return -1;
	snprintf(hdr, sizeof hdr, "xkey-purge: %s", keys);
	h = curl_slist_append(h, hdr);
	easy_common(n, e, c->c->url, PURGE_TIMEOUT, errbuf);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PURGE");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	CURLcode cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	if (cc != CURLE_OK || code < 200 || code >= 300) {
		ZS_WARN(MOD, "cache %s: purge failed (%s)", c->c->name,
		        cc != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(cc)) : "HTTP status");
		return -1;
	}
	return 0;
}

static void purge_caches(zs_notifier *n)
{
	long long gen = atomic_load(&zs_generation);
	time_t now = time(NULL);
	for (size_t i = 0; i < n->ncaches; i++) {
		cache_state *c = &n->caches[i];
		if (c->purged_gen >= gen || c->next_try > now)
			continue;
		char (*keys)[ZS_DEP_KEY_MAX] = NULL;
		size_t nk = 0;
		int all = 0, rc = 0;
		if (zs_deps_dirty_keys(n->db, c->purged_gen, gen, &keys, &nk, &all)) {
			ZS_ERROR(MOD, "cache %s: cannot read what changed", c->c->name);
			continue;
		}
		if (all) {
			rc = purge_one(n, c, "*");
		} else {
			for (size_t k = 0; k < nk && rc == 0; k += PURGE_KEYS) {
				char line[PURGE_KEYS * (ZS_DEP_KEY_MAX + 1) + 1];
				size_t used = 0;
				for (size_t j = k; j < nk && j < k + PURGE_KEYS; j++)
					used += (size_t)snprintf(line + used, sizeof line - used, "%s%s",
					                         used ? " " : "", keys[j]);
				rc = purge_one(n, c, line);
			}
		}
		free(keys);
		if (rc == 0) {
			ZS_DEBUG(MOD, "cache %s: purged generations %lld..%lld (%zu keys%s)", c->c->name,
			         c->purged_gen + 1, gen, nk, all ? ", everything" : "");
			c->purged_gen = gen;
			c->failures = 0;
			c->next_try = 0;
			atomic_store(&c->purged_gen_pub, gen);
			atomic_fetch_add(&c->ok, 1);
			atomic_store(&c->failing, 0);
		} else {
			c->failures++;
			long back = 1;
			for (int f = 1; f < c->failures && back < BACKOFF_MAX; f++)
				back *= 2;
			c->next_try = now + (back > BACKOFF_MAX ? BACKOFF_MAX : back);
			atomic_fetch_add(&c->failed, 1);
			if (c->failures >= FAILING_AFTER)
				atomic_store(&c->failing, 1);
		}
	}
}

/* ---- the thread ----------------------------------------------------------------------------- */

static void *notifier_main(void *arg)
{
	zs_notifier *n = arg;
	zs_thread_name("zs-notify");
	CURLM *multi = curl_multi_init();
	if (!multi) {
		ZS_ERROR(MOD, "out of memory: no webhooks, no purges");
		return NULL;
	}
	while (!atomic_load(&n->stop)) {
		purge_caches(n);
		for (int i = 0; i < ROUNDS_PER_WAKE && !atomic_load(&n->stop); i++) {
			if (!deliver_round(n, multi))
				break;
			purge_caches(n); /* a purge never waits behind a long backlog */
		}
		/* wait for a publication (zs_notifier_wake), at most a second (retries are due) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&n->mu);
		if (!n->woken && !atomic_load(&n->stop))
			pthread_cond_timedwait(&n->cv, &n->mu, &ts);
		n->woken = 0;
		pthread_mutex_unlock(&n->mu);
	}
	curl_multi_cleanup(multi);
	return NULL;
}

static void free_notifier(zs_notifier *n)
{
	for (size_t i = 0; i < n->nsubs; i++)
		if (n->subs[i].secret) {
			explicit_bzero(n->subs[i].secret, n->subs[i].secret_len);
			free(n->subs[i].secret);
		}
	free(n->subs);
	free(n->caches);
	sqlite3_close(n->db);
	free(n);
}

zs_notifier *zs_notifier_start(const zs_config *cfg, char *err, size_t errlen)
{
	err[0] = 0;
	if (cfg->nsubscribers == 0 && cfg->ncaches == 0)
		return NULL;
	zs_notifier *n = calloc(1, sizeof *n);
	if (!n || !(n->subs = calloc(cfg->nsubscribers + 1, sizeof *n->subs)) ||
	    !(n->caches = calloc(cfg->ncaches + 1, sizeof *n->caches))) {
		if (n)
			free(n->subs);
		free(n);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->cfg = cfg;
	n->db = zs_db_open(cfg->database, 0, err, errlen);
	if (!n->db) {
		free_notifier(n);
		return NULL;
	}
	long long valid_from, head;
	if (zs_changes_window(n->db, &valid_from, &head)) {
		snprintf(err, errlen, "change feed: %s", sqlite3_errmsg(n->db));
		free_notifier(n);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nsubscribers; i++) {
		sub_state *s = &n->subs[i];
		char e2[256];
		s->c = &cfg->subscribers[i];
		if (!(s->secret = read_secret(s->c->secret_file, &s->secret_len, e2, sizeof e2))) {
			snprintf(err, errlen, "subscriber %s: %s", s->c->name, e2);
			n->nsubs = i;
			free_notifier(n);
			return NULL;
		}
		n->nsubs = i + 1;
		/* a new subscriber starts at the oldest retained change */
		s->acked = load_acked(n->db, s->c->name, &s->failures);
		if (s->acked < 0) {
			s->acked = valid_from;
			save_state(n, s, NULL, 0);
		}
		if (s->failures >= FAILING_AFTER)
			atomic_store(&s->failing, 1);
	}
	long long gen = zs_db_generation(n->db);
	for (size_t i = 0; i < cfg->ncaches; i++) {
		n->caches[i].c = &cfg->caches[i];
		n->caches[i].purged_gen = gen; /* nothing changed while no daemon ran */
		atomic_store(&n->caches[i].purged_gen_pub, gen);
	}
	n->ncaches = cfg->ncaches;
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	if (pthread_create(&n->thread, NULL, notifier_main, n) != 0) {
		snprintf(err, errlen, "cannot start the notifier thread");
		pthread_mutex_destroy(&n->mu);
		pthread_cond_destroy(&n->cv);
		free_notifier(n);
		return NULL;
	}
	pthread_mutex_lock(&g_mu);
	g_notifier = n;
	pthread_mutex_unlock(&g_mu);
	ZS_INFO(MOD, "notifier started: %zu subscriber(s), %zu cache(s)", n->nsubs, n->ncaches);
	return n;
}

void zs_notifier_wake(void)
{
	pthread_mutex_lock(&g_mu);
	zs_notifier *n = g_notifier;
	if (n) {
		pthread_mutex_lock(&n->mu);
		n->woken = 1;
		pthread_cond_signal(&n->cv);
		pthread_mutex_unlock(&n->mu);
	}
	pthread_mutex_unlock(&g_mu);
}

void zs_notifier_stop(zs_notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&g_mu);
	g_notifier = NULL;
	pthread_mutex_unlock(&g_mu);
	pthread_mutex_lock(&n->mu);
	atomic_store(&n->stop, 1);
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	free_notifier(n);
}

/* ---- status and metrics --------------------------------------------------------------------- */

size_t zs_notifier_metrics(char *buf, size_t len)
{
	size_t used = 0;
#define OUT(...) do { if (used < len) { int w_ = snprintf(buf + used, len - used, __VA_ARGS__); \
		used += w_ > 0 ? (size_t)w_ : 0; } } while (0)
	if (len)
		buf[0] = 0;
	pthread_mutex_lock(&g_mu);
	zs_notifier *n = g_notifier;
	if (n) {
		OUT("# HELP zorgstatus_webhook_batches_total Webhook batches by outcome.\n"
		    "# TYPE zorgstatus_webhook_batches_total counter\n");
		for (size_t i = 0; i < n->nsubs; i++) {
			OUT("zorgstatus_webhook_batches_total{subscriber=\"%s\",outcome=\"delivered\"} %llu\n",
			    n->subs[i].c->name, atomic_load(&n->subs[i].delivered_batches));
			OUT("zorgstatus_webhook_batches_total{subscriber=\"%s\",outcome=\"failed\"} %llu\n",
			    n->subs[i].c->name, atomic_load(&n->subs[i].failed_batches));
		}
		OUT("# HELP zorgstatus_webhook_events_total Change events delivered.\n"
		    "# TYPE zorgstatus_webhook_events_total counter\n");
		for (size_t i = 0; i < n->nsubs; i++)
			OUT("zorgstatus_webhook_events_total{subscriber=\"%s\"} %llu\n",
			    n->subs[i].c->name, atomic_load(&n->subs[i].events));
		OUT("# HELP zorgstatus_webhook_failing 1 while a subscriber fails.\n"
		    "# TYPE zorgstatus_webhook_failing gauge\n");
		for (size_t i = 0; i < n->nsubs; i++)
			OUT("zorgstatus_webhook_failing{subscriber=\"%s\"} %d\n", n->subs[i].c->name,
			    atomic_load(&n->subs[i].failing));
		OUT("# HELP zorgstatus_cache_purges_total Cache purge rounds by outcome.\n"
		    "# TYPE zorgstatus_cache_purges_total counter\n");
		for (size_t i = 0; i < n->ncaches; i++) {
			OUT("zorgstatus_cache_purges_total{cache=\"%s\",outcome=\"ok\"} %llu\n",
			    n->caches[i].c->name, atomic_load(&n->caches[i].ok));
			OUT("zorgstatus_cache_purges_total{cache=\"%s\",outcome=\"failed\"} %llu\n",
			    n->caches[i].c->name, atomic_load(&n->caches[i].failed));
		}
	}
	pthread_mutex_unlock(&g_mu);
#undef OUT
	return used < len ? used : len ? len - 1 : 0;
}

json_t *zs_api_subscribers(zs_reader *r, const zs_request *req, int *status)
{
	char b1[32], b2[32], cur[48], red[2100];
	if (!req->staff)
		return zs_api_error(status, 401, "unauthorized", NULL,
		                    "staff only: send Authorization: Bearer <token>");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT acked, failures, last_error, last_attempt,"
	                              " last_success, delivered FROM subscriber_state WHERE name=?",
	                       -1, &st, NULL) != SQLITE_OK)
		return zs_api_error(status, 503, "unavailable", NULL, "database busy, try again");
	zs_reader_refresh(r);
	long long valid_from = 0, head = 0;
	zs_changes_window(r->db, &valid_from, &head);
	json_t *subs = json_array(), *caches = json_array();
	for (size_t i = 0; i < r->cfg->nsubscribers; i++) {
		const zs_subscriber_conf *c = &r->cfg->subscribers[i];
		json_t *filter = json_object();
		if (c->year)
			json_object_set_new(filter, "year", json_integer(c->year));
		if (c->insurer)
			json_object_set_new(filter, "insurer", json_string(c->insurer));
		if (c->provider_kind)
			json_object_set_new(filter, "provider_kind", json_string(c->provider_kind));
		json_t *o = json_pack("{s:s, s:s, s:o, s:I}", "name", c->name, "url",
		                      zs_url_redact(c->url, red, sizeof red), "filter", filter,
		                      "max_batch", (json_int_t)c->max_batch);
		sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			long long acked = sqlite3_column_int64(st, 0);
			int failures = sqlite3_column_int(st, 1);
			zs_changes_cursor(acked, cur, sizeof cur);
			json_object_set_new(o, "acknowledged", json_string(cur));
			json_object_set_new(o, "behind", json_integer(head > acked ? head - acked : 0));
			json_object_set_new(o, "failures", json_integer(failures));
			json_object_set_new(o, "failing", json_boolean(failures >= FAILING_AFTER));
			json_object_set_new(o, "delivered", json_integer(sqlite3_column_int64(st, 5)));
			json_object_set_new(o, "last_success", sqlite3_column_type(st, 4) == SQLITE_NULL
			        ? json_null()
			        : json_string(zs_fmt_utc((time_t)sqlite3_column_int64(st, 4), b1,
			                                 sizeof b1)));
			json_object_set_new(o, "last_error",
			        failures == 0 || sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null()
			        : json_pack("{s:s?, s:s}", "at", sqlite3_column_type(st, 3) == SQLITE_NULL
			                    ? NULL : zs_fmt_utc((time_t)sqlite3_column_int64(st, 3), b2,
			                                        sizeof b2),
			                    "message", (const char *)sqlite3_column_text(st, 2)));
		} else {
			json_object_set_new(o, "acknowledged", json_null());
			json_object_set_new(o, "failing", json_false());
		}
		sqlite3_reset(st);
		json_array_append_new(subs, o);
	}
	sqlite3_finalize(st);
	pthread_mutex_lock(&g_mu);
	zs_notifier *n = g_notifier;
	for (size_t i = 0; n && i < n->ncaches; i++)
		json_array_append_new(caches, json_pack("{s:s, s:s, s:I, s:b}", "name",
		        n->caches[i].c->name, "url", zs_url_redact(n->caches[i].c->url, red, sizeof red),
		        "purged_generation", (json_int_t)atomic_load(&n->caches[i].purged_gen_pub),
		        "failing", atomic_load(&n->caches[i].failing) != 0));
	pthread_mutex_unlock(&g_mu);
	*status = 200;
	return json_pack("{s:o, s:o}", "subscribers", subs, "caches", caches);
}
