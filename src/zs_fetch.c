/* zs_fetch.c - one feed transfer through libcurl (see zs_fetch.h): conditional GET with the
 * stored validators, credentials from a file (never logged), redirects by hand within the
 * feed's host, size and speed limits, and the error classes consumers see. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include "zs_fetch.h"
#include "zs_ingest.h"
#include "zs_log.h"
#include "zs_metrics.h"
#include "zs_time.h"
#include "zs_worker.h"

#define MOD "fetch"

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

/* ---- fetching: one job per feed, run together on a libcurl multi handle -------------------- */


void zs_fetch_job_free(zs_fetch_job *j)
{
	if (j->cred) {
		explicit_bzero(j->cred, strlen(j->cred));
		free(j->cred);
	}
	if (j->c)
		curl_easy_cleanup(j->c);
	curl_slist_free_all(j->hdrs);
	free(j->url);
	free(j->x.etag);
	free(j->x.lastmod);
	if (j->x.out)
		fclose(j->x.out);
	memset(j, 0, sizeof *j);
}

/* Is 'to' on the same host as 'from' (same port, or the default port of its scheme)? */
static int same_host(const char *from, const char *to)
{
	CURLU *a = curl_url(), *b = curl_url();
	char *ha = NULL, *hb = NULL, *pa = NULL, *pb = NULL, *sb = NULL;
	int ok = 0;
	if (a && b && !curl_url_set(a, CURLUPART_URL, from, 0) &&
	    !curl_url_set(b, CURLUPART_URL, to, 0) && !curl_url_get(a, CURLUPART_HOST, &ha, 0) &&
	    !curl_url_get(b, CURLUPART_HOST, &hb, 0) &&
	    !curl_url_get(a, CURLUPART_PORT, &pa, CURLU_DEFAULT_PORT) &&
	    !curl_url_get(b, CURLUPART_PORT, &pb, CURLU_DEFAULT_PORT) &&
	    !curl_url_get(b, CURLUPART_SCHEME, &sb, 0))
		ok = strcasecmp(ha, hb) == 0 &&
		     (strcmp(pa, pb) == 0 || (strcmp(sb, "https") == 0 && strcmp(pb, "443") == 0) ||
		      (strcmp(sb, "http") == 0 && strcmp(pb, "80") == 0));
	curl_free(ha);
	curl_free(hb);
	curl_free(pa);
	curl_free(pb);
	curl_free(sb);
	curl_url_cleanup(a);
	curl_url_cleanup(b);
	return ok;
}

/* Prepare the transfer of fc. Returns 1 when ready to run; 0 when the attempt has been
 * recorded (could not start); -1 on a database error. */
int zs_fetch_job_setup(sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                     const _Atomic int *stop_flag, zs_fetch_job *j)
{
	char msg[600], *etag = NULL, *lastmod = NULL;
	time_t now = zs_now();
	memset(j, 0, sizeof *j);
	j->fc = fc;
	j->x.cap = (size_t)cfg->max_feed_mb << 20;
	j->x.stop_flag = stop_flag;
	if (!(j->c = curl_easy_init()) || !(j->x.out = tmpfile()) || !(j->url = strdup(fc->url))) {
		zs_fetch_job_free(j);
		return zs_ingest_fetch_failed(db, fc, now,
		                              "cannot start the transfer: out of resources") < 0 ? -1 : 0;
	}
	zs_ingest_validators(db, fc, &etag, &lastmod);
	if (etag) {
		char h[1100];
		snprintf(h, sizeof h, "If-None-Match: %s", etag);
		j->hdrs = curl_slist_append(j->hdrs, h);
	}
	if (lastmod) {
		char h[300];
		snprintf(h, sizeof h, "If-Modified-Since: %s", lastmod);
		j->hdrs = curl_slist_append(j->hdrs, h);
	}
	free(etag);
	free(lastmod);
	if (fc->credentials_file) {
		char cm[500];
		j->cred = read_credentials(fc->credentials_file, cm, sizeof cm);
		if (!j->cred) {
			snprintf(msg, sizeof msg, "credentials unreadable: %s", cm);
			zs_fetch_job_free(j);
			return zs_ingest_fetch_failed(db, fc, now, msg) < 0 ? -1 : 0;
		}
		if (strncasecmp(j->cred, "Bearer ", 7) == 0) {
			char *h = NULL;
			if (asprintf(&h, "Authorization: %s", j->cred) > 0) {
				j->hdrs = curl_slist_append(j->hdrs, h);
				explicit_bzero(h, strlen(h));
				free(h);
			}
		} else {
			curl_easy_setopt(j->c, CURLOPT_USERPWD, j->cred);
			curl_easy_setopt(j->c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		}
	}
	CURL *c = j->c;
	int any = strcmp(cfg->follow_redirects, "any") == 0;
	curl_easy_setopt(c, CURLOPT_PRIVATE, j);
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* same_host and none: curl never follows; job_done checks the Location itself */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, any ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->fetch_timeout);
	if (cfg->low_speed_limit > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, cfg->low_speed_limit);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_time);
	}
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->x.cap);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "zorgstatusd/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &j->x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &j->x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &j->x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->cerr);
	return 1;
}

/* The message of a failed transfer: "<class>: <detail>". The class alone is what the public
 * /v1/feeds shows (zs_fetch_error_public); staff see all of it. */
static void fail_message(const zs_config *cfg, const zs_fetch_job *j, CURLcode cc, char *msg,
                         size_t len)
{
	const char *detail = j->cerr[0] ? j->cerr : curl_easy_strerror(cc);
	switch (cc) {
	case CURLE_FILESIZE_EXCEEDED:
		snprintf(msg, len, "feed too large: larger than max_feed_mb (%ld MiB)", cfg->max_feed_mb);
		break;
	case CURLE_PARTIAL_FILE:
		snprintf(msg, len, "transfer cut off: body shorter than announced (%s)", detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (strstr(detail, "too slow"))
			snprintf(msg, len, "timed out: slower than low_speed_limit (%ld bytes/s) for %ld s"
			         " (%s)", cfg->low_speed_limit, cfg->low_speed_time, detail);
		else
			snprintf(msg, len, "timed out: %s", detail);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		snprintf(msg, len, "connection failed: %s", detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(msg, len, "TLS verification failed: %s", detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(msg, len, "TLS handshake failed: %s", detail);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(msg, len, "redirect not followed: %s", detail);
		break;
	default:
		snprintf(msg, len, "fetch failed: %s", detail);
	}
	if (j->x.too_big)
		snprintf(msg, len, "feed too large: larger than max_feed_mb (%ld MiB)", cfg->max_feed_mb);
}

/* A finished transfer. Returns 1 with *body (caller fcloses) and the validators (caller
 * frees) when there is a version to apply; 0 when the attempt has been recorded (failure,
 * 304); 2 when a redirect is to be followed (the job is ready to run again); -1 on a database
 * error. */
int zs_fetch_job_done(sqlite3 *db, const zs_config *cfg, zs_fetch_job *j, CURLcode cc, FILE **body,
                    char **resp_etag, char **resp_lastmod)
{
	const zs_feed_conf *fc = j->fc;
	char msg[700];
	long code = 0;
	time_t now = zs_now();
	*body = NULL;
	*resp_etag = *resp_lastmod = NULL;
	curl_easy_getinfo(j->c, CURLINFO_RESPONSE_CODE, &code);
	if (cc != CURLE_OK) {
		fail_message(cfg, j, cc, msg, sizeof msg);
		return zs_ingest_fetch_failed(db, fc, now, msg) < 0 ? -1 : 0;
	}
	if (code == 304) {
		ZS_DEBUG(MOD, "feed %s: not modified", fc->name);
		return zs_ingest_not_modified(db, fc, now) < 0 ? -1 : 0;
	}
	if (code >= 300 && code < 400 && code != 304) {
		char *loc = NULL;
		curl_easy_getinfo(j->c, CURLINFO_REDIRECT_URL, &loc);
		const char *mode = cfg->follow_redirects;
		if (loc && strcmp(mode, "same_host") == 0 && j->hops < 5 && same_host(j->url, loc) &&
		    (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)) {
			char *nu = strdup(loc);
			if (nu && fflush(j->x.out) == 0 && ftruncate(fileno(j->x.out), 0) == 0) {
				rewind(j->x.out);
				j->x.bytes = 0;
				free(j->url);
				j->url = nu;
				j->hops++;
				j->cerr[0] = 0;
				curl_easy_setopt(j->c, CURLOPT_URL, j->url);
				ZS_DEBUG(MOD, "feed %s: following HTTP %ld to the same host", fc->name, code);
				return 2;
			}
			free(nu);
		}
		char red[600];
		if (!loc)
			snprintf(msg, sizeof msg, "HTTP %ld: a redirect without Location", code);
		else if (strcmp(mode, "same_host") == 0 && j->hops >= 5)
			snprintf(msg, sizeof msg, "redirect not followed: more than 5 redirects");
		else
			snprintf(msg, sizeof msg, "redirect not followed: HTTP %ld to %s (follow_redirects"
			         " = %s)", code, zs_url_redact(loc, red, sizeof red), mode);
		return zs_ingest_fetch_failed(db, fc, now, msg) < 0 ? -1 : 0;
	}
	if (strncmp(j->url, "file://", 7) != 0 && code != 200) {
		snprintf(msg, sizeof msg, "HTTP %ld: from the feed server", code);
		return zs_ingest_fetch_failed(db, fc, now, msg) < 0 ? -1 : 0;
	}
	fflush(j->x.out);
	*body = j->x.out;
	*resp_etag = j->x.etag;
	*resp_lastmod = j->x.lastmod;
	j->x.out = NULL;
	j->x.etag = j->x.lastmod = NULL;
	return 1;
}

const char *zs_fetch_error_public(const char *msg, char *buf, size_t len)
{
	static const char *const classes[] = {
		"connection failed", "timed out", "TLS verification failed", "TLS handshake failed",
		"redirect not followed", "feed too large", "transfer cut off", "fetch failed",
		"credentials unreadable", "cannot start the transfer", NULL
	};
	if (!msg)
		return NULL;
	if (strncmp(msg, "HTTP ", 5) == 0 && strchr(msg, ':')) {
		snprintf(buf, len, "%.*s", (int)(strchr(msg, ':') - msg), msg);
		return buf;
	}
	for (int i = 0; classes[i]; i++) {
		size_t l = strlen(classes[i]);
		if (strncmp(msg, classes[i], l) == 0 && (msg[l] == ':' || msg[l] == 0)) {
			snprintf(buf, len, "%s", classes[i]);
			return buf;
		}
	}
	return msg; /* not a transfer error: a rejected version, which the feed itself caused */
}
