/* zs_worker.c - feed fetching (libcurl easy interface on the worker thread) and scheduling. */
#include "config.h"
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include "zs_db.h"
#include "zs_ingest.h"
#include "zs_log.h"
#include "zs_time.h"
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
};

typedef struct {
	FILE *out;
	size_t bytes, cap;
	int too_big;
	char *etag, *lastmod;
	const _Atomic int *stop_flag;
} xfer;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = sz * n;
	if (x->bytes + len > x->cap) {
		x->too_big = 1;
		return 0;
	}
	x->bytes += len;
	return fwrite(p, 1, len, x->out);
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1, *e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	return strndup(v, (size_t)(e - v));
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = sz * n;
	char *v;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (redirect): reset */
		free(x->etag);
		free(x->lastmod);
		x->etag = x->lastmod = NULL;
	} else if ((v = header_value(p, len, "ETag"))) {
		free(x->etag);
		x->etag = v;
	} else if ((v = header_value(p, len, "Last-Modified"))) {
		free(x->lastmod);
		x->lastmod = v;
	}
	return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	xfer *x = ud;
	(void)a; (void)b; (void)c; (void)d;
	return x->stop_flag && atomic_load(x->stop_flag);
}

/* Read the credentials file: "Bearer TOKEN" or "user:password". Never logged. */
static char *read_credentials(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f) {
		snprintf(err, errlen, "credentials file %s: %s", path, strerror(errno));
		return NULL;
	}
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		snprintf(err, errlen, "credentials file %s is empty", path);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	return line;
}

/* Fetch the current version of fc. Returns 1 with *body (the caller fcloses it) and the
 * response's validators (*etag, *lastmod; caller frees) when there is a body to apply; 0 when
 * the attempt has been recorded (failure, 304 not modified); -1 on a database error. */
static int fetch_body(sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                      const _Atomic int *stop_flag, FILE **body, char **resp_etag,
                      char **resp_lastmod, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE] = "", msg[600], *cred = NULL, *etag = NULL, *lastmod = NULL;
	xfer x = { .cap = (size_t)cfg->max_feed_mb << 20, .stop_flag = stop_flag };
	time_t now = zs_now();
	int rc = 0;
	long code = 0;

	err[0] = 0;
	*body = NULL;
	*resp_etag = *resp_lastmod = NULL;
	if (!c || !(x.out = tmpfile())) {
		curl_easy_cleanup(c);
		return zs_ingest_fetch_failed(db, fc, now, "cannot start the transfer (resources)");
	}
	zs_ingest_validators(db, fc, &etag, &lastmod);
	if (etag) {
		char h[1100];
		snprintf(h, sizeof h, "If-None-Match: %s", etag);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (lastmod) {
		char h[300];
		snprintf(h, sizeof h, "If-Modified-Since: %s", lastmod);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (fc->credentials_file) {
		cred = read_credentials(fc->credentials_file, msg, sizeof msg);
		if (!cred) {
			rc = zs_ingest_fetch_failed(db, fc, now, msg);
			goto out;
		}
		if (strncasecmp(cred, "Bearer ", 7) == 0) {
			char *h = NULL;
			if (asprintf(&h, "Authorization: %s", cred) > 0) {
				hdrs = curl_slist_append(hdrs, h);
				explicit_bzero(h, strlen(h));
				free(h);
			}
		} else {
			curl_easy_setopt(c, CURLOPT_USERPWD, cred);
			curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		}
	}
	curl_easy_setopt(c, CURLOPT_URL, fc->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->fetch_timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.cap);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "zorgstatusd/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);

	CURLcode cc = curl_easy_perform(c);
	if (cred) {
		explicit_bzero(cred, strlen(cred));
		curl_easy_setopt(c, CURLOPT_USERPWD, NULL);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc != CURLE_OK) {
		if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			snprintf(msg, sizeof msg, "feed larger than max_feed_mb (%ld MiB)", cfg->max_feed_mb);
		else if (cc == CURLE_PARTIAL_FILE)
			snprintf(msg, sizeof msg, "transfer cut off: body shorter than announced (%s)",
			         cerr[0] ? cerr : curl_easy_strerror(cc));
		else
			snprintf(msg, sizeof msg, "fetch failed: %s", cerr[0] ? cerr : curl_easy_strerror(cc));
		rc = zs_ingest_fetch_failed(db, fc, now, msg);
		goto out;
	}
	if (code == 304) {
		ZS_DEBUG(MOD, "feed %s: not modified", fc->name);
		rc = zs_ingest_not_modified(db, fc, now);
		goto out;
	}
	if (strncmp(fc->url, "file://", 7) != 0 && code != 200) {
		snprintf(msg, sizeof msg, "HTTP %ld from the feed server", code);
		rc = zs_ingest_fetch_failed(db, fc, now, msg);
		goto out;
	}
	fflush(x.out);
	*body = x.out;
	*resp_etag = x.etag;
	*resp_lastmod = x.lastmod;
	x.out = NULL;
	x.etag = x.lastmod = NULL;
	rc = 1;
out:
	if (cred)
		free(cred);
	free(etag);
	free(lastmod);
	free(x.etag);
	free(x.lastmod);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (x.out)
		fclose(x.out);
	return rc;
}

int zs_fetch_once(sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                  const _Atomic int *stop_flag, char *err, size_t errlen)
{
	FILE *body;
	char *etag, *lastmod;
	int rc = fetch_body(db, cfg, fc, stop_flag, &body, &etag, &lastmod, err, errlen);
	if (rc == 1) {
		zs_ingest_result res;
		rc = zs_ingest_apply(db, fc, body, zs_now(), &res, err, errlen);
		if (rc == 0 && (res.applied || res.unchanged))
			zs_ingest_set_validators(db, fc, etag, lastmod);
		fclose(body);
	}
	free(etag);
	free(lastmod);
	return rc < 0 ? -1 : 0;
}

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

	if (!items || !etags || !lastmods || !fetched) {
		ZS_ERROR(MOD, "out of memory in the fetch round");
		goto out;
	}
	for (size_t k = 0; k < 2 * n && !atomic_load(&w->stop); k++) {
		size_t i = k % n;
		const zs_feed_conf *fc = &w->cfg->feeds[i];
		if (due[i] > now || (k < n) != (fc->kind == ZS_FEED_INSURER))
			continue;
		FILE *body;
		fetched[i] = 1;
		int rc = fetch_body(w->db, w->cfg, fc, &w->stop, &body, &etags[m], &lastmods[m], err,
		                    sizeof err);
		if (rc < 0)
			ZS_ERROR(MOD, "feed %s: %s", fc->name, err);
		if (rc == 1) {
			items[m].fc = fc;
			items[m].body = body;
			m++;
		}
	}
	if (m && !atomic_load(&w->stop)) {
		if (zs_ingest_apply_batch(w->db, items, m, zs_now(), err, sizeof err) != 0)
			ZS_ERROR(MOD, "applying %zu feed version(s): %s", m, err);
		for (size_t j = 0; j < m; j++)
			if (items[j].res.applied || items[j].res.unchanged)
				zs_ingest_set_validators(w->db, items[j].fc, etags[j], lastmods[j]);
	}
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

static void *worker_main(void *arg)
{
	zs_worker *w = arg;
	size_t n = w->cfg->nfeeds;
	time_t *due = calloc(n ? n : 1, sizeof *due);

	if (!due) {
		ZS_ERROR(MOD, "out of memory: worker stops");
		return NULL;
	}
	while (!atomic_load(&w->stop)) {
		time_t now = time(NULL);
		worker_round(w, due);
		time_t next = now + 3600;
		for (size_t i = 0; i < n; i++)
			if (due[i] < next)
				next = due[i];
		pthread_mutex_lock(&w->mu);
		if (!atomic_load(&w->stop) && next > time(NULL)) {
			struct timespec ts = { .tv_sec = next, .tv_nsec = 0 };
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		pthread_mutex_unlock(&w->mu);
	}
	free(due);
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
	if (!w->db) {
		free(w);
		return NULL;
	}
	if (zs_ingest_register(w->db, cfg, err, errlen)) {
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
