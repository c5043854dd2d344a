/* zs_http.c - evhttp serving threads, router and response encoding. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <zlib.h>
#include "zs_api.h"
#include "zs_changes.h"
#include "zs_consequence.h"
#include "zs_deps.h"
#include "zs_feed.h"
#include "zs_http.h"
#include "zs_log.h"
#include "zs_metrics.h"
#include "zs_notify_http.h"
#include "zs_ready.h"
#include "zs_rcache.h"
#include "zs_staff.h"
#include "zs_static.h"
#include "zs_worker.h"
#include "zs_time.h"
#include "zs_util.h"

#define MOD "http"
#define MAX_PARAMS 32
#define MAX_URI 8192
#define MAX_HEADER_BYTES 16384
#define EVHTTP_HARD_LIMIT (4 << 20) /* request line + headers; body above max_body_kb */

typedef struct {
	const char *prefix;  /* path, or prefix ending in '/' for {arg} routes */
	const char *suffix;  /* after {arg}, or NULL */
	zs_handler fn;
	int public_cache;    /* cacheable by shared caches / CORS public */
} route;

static const route routes[] = {
	{ "/healthz", NULL, zs_api_health, 0 },
	{ "/readyz", NULL, zs_api_ready, 0 },
	{ "/v1/status", NULL, zs_api_status, 1 },
	{ "/v1/policies", NULL, zs_api_policies, 1 },
	{ "/v1/feeds", NULL, zs_api_feeds, 0 },
	{ "/v1/search", NULL, zs_api_search, 1 },
	{ "/v1/openapi.json", NULL, zs_api_openapi, 1 },
	{ "/v1/compare", NULL, zs_api_compare, 1 },
	{ "/v1/labels", NULL, zs_api_labels, 1 },
	{ "/v1/changes", NULL, zs_api_changes, 1 },
	{ "/v1/subscribers", NULL, zs_api_subscribers, 0 },
	{ "/v1", NULL, zs_api_index, 1 },
	{ "/v1/providers/", "/history", zs_api_provider_history, 0 },
	{ "/v1/policies/", "/similar", zs_api_policy_similar, 1 },
	{ "/v1/providers/", NULL, zs_api_provider, 1 },
	{ "/v1/staff/me", NULL, zs_staff_api_me, 0 },
	{ "/v1/staff/feeds", NULL, zs_staff_api_feeds, 0 },
	{ "/v1/staff/audit", NULL, zs_staff_api_audit, 0 },
	{ "/v1/staff/providers/", NULL, zs_staff_api_provider, 0 },
};

typedef struct {
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	zs_reader *reader;
	const zs_config *cfg;
	zs_rcache *cache;                   /* shared by every thread (owned by zs_http) */
	zs_deplist deps;                    /* the current answer's dependency keys */
	int fd;
	struct evhttp_bound_socket *bound;  /* the listener (removed when draining) */
	int index;                          /* 1.. for the access log */
	_Atomic long inflight;              /* requests answered but not yet written out */
} serv_thread;

struct zs_http {
	serv_thread *t;
	size_t n;
	int lock_fd[2];                     /* address claims (main, metrics), see claim_address */
	struct event_base *mbase;           /* the separate metrics listener, if any */
	struct evhttp *mhttp;
	pthread_t mthread;
	int mrunning;
	const zs_config *cfg;
	zs_rcache *cache;                   /* the response cache of every serving thread */
};

/* ---- response helpers -------------------------------------------------------------------- */

/* The ETag: a 64-bit hash of the body, eight bytes a step (FNV-style multiply, then a final
 * mix); the same body gives the same ETag on every replica. */
static uint64_t body_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static int accepts_gzip(struct evhttp_request *req)
{
	const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");
	if (!ae)
		return 0;
	/* "gzip" present and not refused with q=0 */
	const char *g = strcasestr(ae, "gzip");
	if (!g)
		return 0;
	const char *q = strchr(g, ';');
	const char *comma = strchr(g, ',');
	if (q && (!comma || q < comma)) {
		while (*++q == ' ')
			;
		if (strncmp(q, "q=0", 3) == 0 && (q[3] == 0 || q[3] == ',' ||
		                                  (q[3] == '.' && strspn(q + 4, "0") > 0 &&
		                                   (q[4 + strspn(q + 4, "0")] == 0 ||
		                                    q[4 + strspn(q + 4, "0")] == ','))))
			return 0;
	}
	return 1;
}

static int gzip_buf(const char *in, size_t n, struct evbuffer *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, n);
	unsigned char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	size_t len = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	evbuffer_add(out, buf, len);
	free(buf);
	return 0;
}

static void send_error(struct evhttp_request *req, int http, const char *code,
                       const char *param, const char *msg);

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static const char *request_lang(struct evhttp_request *req);

/* Errors carry, besides the developer's message, a plain text for the consumer in the
 * request's language from the phrase catalogue: error.text. */
static void add_error_text(json_t *body, const char *lang)
{
	json_t *e = json_object_get(body, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *param = json_string_value(json_object_get(e, "parameter"));
	char key[64], out[512];
	if (!code || json_object_get(e, "text"))
		return;
	snprintf(key, sizeof key, "error.%s", code);
	const char *t = zs_phrase(key, lang);
	if (!t)
		t = zs_phrase("error.bad_request", lang);
	if (!t)
		return;
	/* placeholders: {parameter}; for not_yet_published {day} {month} {year} of the
	 * publication date (12 November of the year before) */
	char yearbuf[24] = "";
	json_int_t y = json_integer_value(json_object_get(e, "year"));
	if (y)
		snprintf(yearbuf, sizeof yearbuf, "%lld", (long long)y - 1);
	const char *month = zs_phrase("month.11", lang);
	struct { const char *ph, *val; } subs[] = {
		{ "{parameter}", param ? param : "?" }, { "{day}", "12" },
		{ "{month}", month ? month : "11" }, { "{year}", yearbuf },
	};
	size_t n = 0;
	out[0] = 0;
	for (const char *p = t; *p && n + 1 < sizeof out;) {
		int done = 0;
		for (size_t i = 0; i < sizeof subs / sizeof subs[0] && !done; i++) {
			size_t l = strlen(subs[i].ph);
			if (strncmp(p, subs[i].ph, l) == 0) {
				n += (size_t)snprintf(out + n, sizeof out - n, "%s", subs[i].val);
				if (n >= sizeof out)
					n = sizeof out - 1;
				p += l;
				done = 1;
			}
		}
		if (!done)
			out[n++] = *p++;
		out[n] = 0;
	}
	if (!zs_utf8_valid(out, strlen(out))) { /* cut mid-character: never lose the text */
		char safe[sizeof out];
		zs_escape_text(out, strlen(out), safe, sizeof safe, sizeof safe);
		json_object_set_new(e, "text", json_string(safe));
	} else {
		json_object_set_new(e, "text", json_string(out));
	}
}

/* Render a JSON body: text, ETag (a hash of the text, so replicas with the same content give
 * the same ETag), and for cacheable answers the gzip form. */
static void render(json_t *body, zs_reader *rd, int status, int public_cache, int precompress,
                   zs_rendered *r)
{
	memset(r, 0, sizeof *r);
	/* the reader's writer splices the snapshot's frozen values (zs_jsonw.h): same bytes */
	r->body = rd ? zs_api_dump(rd, body, &r->len)
	             : json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	r->status = status;
	r->public_cache = public_cache;
	if (!r->body) {
		r->body = strdup("{\"error\":{\"code\":\"unavailable\",\"message\":\"encoding failed\"}}");
		r->status = 503;
	}
	r->len = r->body ? strlen(r->body) : 0;
	if (r->status == 200)
		snprintf(r->etag, sizeof r->etag, "\"%016llx\"",
		         (unsigned long long)body_hash(r->body, r->len));
	if (precompress && r->len > 256) {
		struct evbuffer *b = evbuffer_new();
		if (b && gzip_buf(r->body, r->len, b) == 0) {
			r->gzlen = evbuffer_get_length(b);
			r->gz = malloc(r->gzlen);
			if (r->gz)
				evbuffer_remove(b, r->gz, r->gzlen);
			else
				r->gzlen = 0;
		}
		if (b)
			evbuffer_free(b);
	}
}

static void entry_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	zs_rentry_release(arg);
}

/* Add a body to the reply: a cached entry's bytes by reference (no copy; the entry stays alive
 * until evhttp has sent them), anything else copied (it may be freed when this returns). */
static void add_body(struct evbuffer *out, const char *p, size_t n, zs_rentry *e)
{
	if (e) {
		zs_rentry_ref(e);
		if (evbuffer_add_reference(out, p, n, entry_cleanup, e) == 0)
			return;
		zs_rentry_release(e);
	}
	evbuffer_add(out, p, n);
}

/* Send a rendered answer; e: the cache entry it belongs to (or NULL); surrogate: the
 * dependency keys of a public answer (Surrogate-Key / xkey, for a cache tier), or NULL. */
static void send_rendered(struct evhttp_request *req, const zs_rendered *r, zs_rentry *e,
                          const char *surrogate)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	/* a staff answer came with its own "private, no-store" (on_request, send_error) */
	int own_cc = evhttp_find_header(oh, "Cache-Control") != NULL;
	evhttp_add_header(oh, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(oh, "Vary", "Accept-Encoding, Accept-Language");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	if (r->public_cache) {
		evhttp_add_header(oh, "Access-Control-Allow-Origin", "*");
		evhttp_add_header(oh, "Access-Control-Expose-Headers", "ETag");
		if (surrogate && *surrogate) {
			evhttp_add_header(oh, "Surrogate-Key", surrogate);
			evhttp_add_header(oh, "xkey", surrogate);
		}
	}
	if (r->status == 200) {
		evhttp_add_header(oh, "ETag", r->etag);
		if (!own_cc)
			evhttp_add_header(oh, "Cache-Control",
			                  r->public_cache ? "public, max-age=60" : "no-cache");
		const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
		                                     "If-None-Match");
		if (inm && (strstr(inm, r->etag) || strcmp(inm, "*") == 0)) {
			/* no body, so no Content-Type (RFC 9110 15.4.5; docs/openapi.json) */
			evhttp_remove_header(oh, "Content-Type");
			evhttp_send_reply(req, 304, reason(304), NULL);
			return;
		}
	} else if (!own_cc) {
		evhttp_add_header(oh, "Cache-Control", "no-store");
	}
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	if (r->len > 256 && accepts_gzip(req)) {
		if (r->gz) {
			add_body(out, r->gz, r->gzlen, e);
			evhttp_add_header(oh, "Content-Encoding", "gzip");
		} else if (gzip_buf(r->body, r->len, out) == 0) {
			evhttp_add_header(oh, "Content-Encoding", "gzip");
		} else {
			evbuffer_drain(out, evbuffer_get_length(out));
			evbuffer_add(out, r->body, r->len);
		}
	} else {
		add_body(out, r->body, r->len, e);
	}
	if (head) { /* the headers of the GET answer, no body */
		char cl[32];
		snprintf(cl, sizeof cl, "%zu", evbuffer_get_length(out));
		evhttp_add_header(oh, "Content-Length", cl);
		evhttp_send_reply(req, r->status, reason(r->status), NULL);
	} else {
		evhttp_send_reply(req, r->status, reason(r->status), out);
	}
	evbuffer_free(out);
}

/* evhttp_parse_query_str() on the query without its empty pairs: "q=abc&&" is "q=abc&" and
 * "&year=2027" is "year=2027" (docs/api.md, Query strings).  A pair without '=' still fails.
 * Returns 0, or -1 (nothing added to *q) when the query cannot be decoded. */
static int parse_query(const char *query, struct evkeyvalq *q)
{
	size_t n = strlen(query), k = 0;
	char *clean = malloc(n + 1);
	if (!clean)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (query[i] != '&' || (k > 0 && clean[k - 1] != '&'))
			clean[k++] = query[i];
	clean[k] = 0;
	int rc = evhttp_parse_query_str(clean, q);
	free(clean);
	return rc;
}

static void send_json(struct evhttp_request *req, int status, json_t *body, int public_cache)
{
	zs_rendered r;
	render(body, NULL, status, public_cache, 0, &r);
	send_rendered(req, &r, NULL, NULL);
	free(r.body);
	free(r.gz);
}

static int staff_path(const char *path);

static void send_error(struct evhttp_request *req, int http, const char *code,
                       const char *param, const char *msg)
{
	int status;
	json_t *e = zs_api_error(&status, http, code, param, "%s", msg);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	int staff = staff_path(u ? evhttp_uri_get_path(u) : NULL); /* no CORS, private */
	if (staff)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
		                  "private, no-store");
	add_error_text(e, request_lang(req));
	send_json(req, status, e, !staff);
	json_decref(e);
}

/* ---- request handling -------------------------------------------------------------------- */

static const char *pick_lang(struct evhttp_request *req, const char *qlang);

/* The language of a request for an error raised before the parameters were parsed. */
static const char *request_lang(struct evhttp_request *req)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *query = u ? evhttp_uri_get_query(u) : NULL;
	if (query && (strstr(query, "lang=en")))
		return "en";
	const char *l = pick_lang(req, NULL);
	return l ? l : "nl";
}

static const char *pick_lang(struct evhttp_request *req, const char *qlang)
{
	if (qlang)
		return strcmp(qlang, "en") == 0 ? "en" : strcmp(qlang, "nl") == 0 ? "nl" : NULL;
	const char *al = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Language");
	if (al) {
		/* The first of nl / en in the header's order. */
		const char *nl = strcasestr(al, "nl"), *en = strcasestr(al, "en");
		if (en && (!nl || en < nl))
			return "en";
	}
	return "nl";
}

/* The staff account of a request (zs_staff.h): ZS_STAFF_OK with *who, ZS_STAFF_NONE (no bearer
 * token), ZS_STAFF_BAD (wrong: counted per client address) or ZS_STAFF_LIMITED. */
static int staff_ok(struct evhttp_request *req, zs_staff_who *who, long *retry_after)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	char *host = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	if (conn)
		evhttp_connection_get_peer(conn, &host, &port);
	return zs_staff_auth(auth, host, who, retry_after);
}

/* ---- request validation (before routing) ------------------------------------------------ */

/* Staff paths: /v1/providers/{agb}/history and /v1/staff/... They never answer with CORS
 * headers, and never to be kept by a shared cache. */
static int staff_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= 9 && strncmp(path, "/v1/staff", 9) == 0 && (n == 9 || path[9] == '/'))
		return 1;
	if (n == 15 && strncmp(path, "/v1/subscribers", 15) == 0)
		return 1;
	return n > 22 && strncmp(path, "/v1/providers/", 14) == 0 &&
	       strncmp(path + n - 8, "/history", 8) == 0;
}

/* Every query parameter must be valid UTF-8 without NUL bytes (key as evhttp keeps it, value
 * decoded as evhttp decodes it). Returns 1 when an error was answered. */
static int check_params(struct evhttp_request *req, const char *query)
{
	if (!query)
		return 0;
	for (const char *seg = query; *seg;) {
		size_t sl = strcspn(seg, "&");
		const char *eq = memchr(seg, '=', sl);
		if (eq) {
			size_t kl = (size_t)(eq - seg), vl = sl - kl - 1, dl = 0;
			char *raw = strndup(eq + 1, vl);
			char *val = raw ? evhttp_uridecode(raw, 1, &dl) : NULL;
			free(raw);
			if (!val) {
				send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
				return 1;
			}
			int key_ok = zs_utf8_valid(seg, kl), val_ok = zs_utf8_valid(val, dl);
			if (!key_ok || !val_ok) {
				char key[256], esc[256], msg[600], *kraw = strndup(seg, kl);
				zs_escape_text(seg, kl, key, sizeof key, 60);
				zs_escape_text(val, dl, esc, sizeof esc, 120);
				snprintf(msg, sizeof msg, "%s: %s: \"%s\"", key,
				         memchr(val, 0, dl) ? "contains a NUL byte" : "is not valid UTF-8", esc);
				/* the parameter's name as given when it is text, else escaped */
				send_error(req, 400, "bad_parameter", key_ok && kraw ? kraw : key, msg);
				free(kraw);
				free(val);
				return 1;
			}
			free(val);
		} else if (!zs_utf8_valid(seg, sl)) {
			char key[256], msg[400];
			zs_escape_text(seg, sl, key, sizeof key, 60);
			snprintf(msg, sizeof msg, "%s: the parameter's name is not valid UTF-8", key);
			send_error(req, 400, "bad_parameter", key, msg);
			return 1;
		}
		seg += sl;
		if (*seg == '&')
			seg++;
	}
	return 0;
}

/* The decoded path: a NUL in it is 400, invalid UTF-8 is 404 (no resource has such a name).
 * Returns the path (caller frees) or NULL when an error was answered. */
static char *checked_path(struct evhttp_request *req, const char *raw_path)
{
	size_t n = 0;
	char *path = raw_path ? evhttp_uridecode(raw_path, 0, &n) : NULL;
	char esc[300], msg[400];
	if (!path) {
		send_error(req, 400, "bad_request", NULL, "the request path cannot be decoded");
		return NULL;
	}
	if (memchr(path, 0, n)) {
		zs_escape_text(path, n, esc, sizeof esc, 200);
		snprintf(msg, sizeof msg, "the request path contains a NUL byte: %s", esc);
		send_error(req, 400, "bad_request", NULL, msg);
		free(path);
		return NULL;
	}
	if (!zs_utf8_valid(path, n)) {
		zs_escape_text(path, n, esc, sizeof esc, 200);
		snprintf(msg, sizeof msg, "no such resource: %s", esc);
		send_error(req, 404, "not_found", NULL, msg);
		free(path);
		return NULL;
	}
	return path;
}

/* ---- access log, request metrics, /metrics ------------------------------------------------ */

#define NROUTES (sizeof routes / sizeof routes[0])
static char route_label[NROUTES][64];
static int route_metric[NROUTES];
static int metric_www, metric_metrics, metric_other, routes_registered;
static _Thread_local serv_thread *cur_thread;

/* Route labels for metrics: "/v1/providers/{id}/history", registered once. */
static void register_routes(void)
{
	routes_registered = 1;
	metric_other = zs_metrics_route("other");
	for (size_t i = 0; i < NROUTES; i++) {
		const route *r = &routes[i];
		size_t pl = strlen(r->prefix);
		if (r->prefix[pl - 1] == '/')
			snprintf(route_label[i], sizeof route_label[i], "%s{id}%s", r->prefix,
			         r->suffix ? r->suffix : "");
		else
			snprintf(route_label[i], sizeof route_label[i], "%s", r->prefix);
		route_metric[i] = zs_metrics_route(route_label[i]);
	}
	metric_www = zs_metrics_route("/www");
	metric_metrics = zs_metrics_route("/metrics");
}

/* The metric route id of a raw request path (the same matching as on_request). */
static int metric_route(const char *path)
{
	char p[512];
	if (!path)
		return metric_other;
	snprintf(p, sizeof p, "%s", path);
	size_t plen = strlen(p);
	while (plen > 1 && p[plen - 1] == '/')
		p[--plen] = 0;
	if (strcmp(p, "/") == 0 || strncmp(p, "/www/", 5) == 0)
		return metric_www;
	if (strcmp(p, "/metrics") == 0)
		return metric_metrics;
	for (size_t i = 0; i < NROUTES; i++) {
		const route *r = &routes[i];
		size_t pl = strlen(r->prefix);
		if (r->prefix[pl - 1] != '/') {
			if (strcmp(p, r->prefix) == 0)
				return route_metric[i];
			continue;
		}
		if (strncmp(p, r->prefix, pl) != 0 || !p[pl])
			continue;
		const char *slash = strchr(p + pl, '/');
		if (r->suffix ? slash && strcmp(slash, r->suffix) == 0 : !slash)
			return route_metric[i];
	}
	return metric_other;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* evhttp calls this when the answer has been written out (not when the client went away
 * first): one access log line and the request metrics. arg: the start, monotonic us. */
static void on_complete(struct evhttp_request *req, void *arg)
{
	long long usec = zs_metrics_now_us() - (long long)(uintptr_t)arg;
	int status = evhttp_request_get_response_code(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *cl = evhttp_find_header(evhttp_request_get_output_headers(req), "Content-Length");
	size_t bytes = cl && cmd != EVHTTP_REQ_HEAD ? (size_t)strtoull(cl, NULL, 10) : 0;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	serv_thread *t = evhttp_request_get_connection(req) ? cur_thread : NULL;
	zs_metrics_request(metric_route(uri ? evhttp_uri_get_path(uri) : NULL), status, bytes, usec);
	if (zs_log_access_on())
		zs_log_access(method_name(cmd), evhttp_request_get_uri(req), status, bytes, usec,
		              cur_thread ? cur_thread->index : 0);
	if (t) {
		struct evhttp_connection *evcon = evhttp_request_get_connection(req);
		if (evcon)
			evhttp_connection_set_closecb(evcon, NULL, NULL);
		atomic_fetch_sub(&t->inflight, 1);
	}
}

/* A connection closed with its answer not written out (the client went away): on_complete
 * will not run, so the request stops counting as in flight here. arg: the serving thread with
 * bit 0 set while a request is pending (evhttp answers one request per connection at a time). */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	uintptr_t v = (uintptr_t)arg;
	(void)evcon;
	if (v & 1)
		atomic_fetch_sub(&((serv_thread *)(v & ~(uintptr_t)1))->inflight, 1);
}

/* Count the request as in flight and arrange for on_complete. */
static void request_begin(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (cur_thread && evcon) {
		atomic_fetch_add(&cur_thread->inflight, 1);
		evhttp_connection_set_closecb(evcon, on_conn_close, (void *)((uintptr_t)cur_thread | 1));
	}
	evhttp_request_set_on_complete_cb(req, on_complete, (void *)(uintptr_t)zs_metrics_now_us());
}

/* GET/HEAD /metrics: Prometheus text, no CORS (not for browsers), never cached. */
static void serve_metrics(struct evhttp_request *req, const zs_config *cfg)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(oh, "Allow", "GET, HEAD");
		send_error(req, 405, "method_not_allowed", NULL, "only GET and HEAD are supported");
		return;
	}
	char *text = zs_metrics_render(cfg->database);
	struct evbuffer *out = text ? evbuffer_new() : NULL;
	if (!out) {
		free(text);
		send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
		return;
	}
	evhttp_add_header(oh, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(oh, "Cache-Control", "no-store");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	if (cmd == EVHTTP_REQ_HEAD) {
		char len[32];
		snprintf(len, sizeof len, "%zu", strlen(text));
		evhttp_add_header(oh, "Content-Length", len);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else {
		evbuffer_add(out, text, strlen(text));
		evhttp_send_reply(req, 200, "OK", out);
	}
	evbuffer_free(out);
	free(text);
}

/* The separate metrics listener (metrics_listen): /metrics only. */
static void on_metrics_request(struct evhttp_request *req, void *arg)
{
	const zs_config *cfg = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	request_begin(req);
	if (path && strcmp(path, "/metrics") == 0) {
		serve_metrics(req, cfg);
		return;
	}
	send_error(req, 404, "not_found", NULL, "this address serves /metrics only");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int fetch_dirty(void *ctx, long long from, long long to, uint64_t **keys, size_t *n,
                       int *all)
{
	return zs_api_dirty(ctx, from, to, keys, n, all);
}

/* A staff look-up of one provider is written to the audit log (zs_staff.h) before it is
 * answered: 1 when that failed (the look-up is then refused). */
static int audit_failed(const route *rt, const char *agb, const zs_staff_who *who,
                        const zs_kv *params, size_t np)
{
	const char *at = NULL;
	if (!agb || !zs_valid_agb(agb) ||
	    (rt->fn != zs_staff_api_provider && rt->fn != zs_api_provider_history))
		return 0;
	for (size_t i = 0; i < np; i++)
		if (strcmp(params[i].key, "at") == 0)
			at = params[i].value;
	return zs_audit_record(who, rt->fn == zs_staff_api_provider ? "provider" : "history", agb,
	                       at, zs_now()) != 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	serv_thread *t = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;
	zs_kv params[MAX_PARAMS];
	size_t np = 0;
	char *path = NULL;

	request_begin(req); /* access log and metrics when the answer is out */
	/* evhttp's own body limit is set far above ours, so that this answer is JSON. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    (size_t)t->cfg->max_body_kb * 1024) {
		char msg[96];
		snprintf(msg, sizeof msg, "the request body is larger than %ld KiB", t->cfg->max_body_kb);
		send_error(req, 413, "payload_too_large", NULL, msg);
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS && staff_path(raw_path)) { /* staff: no CORS at all */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD, OPTIONS");
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS) { /* CORS preflight */
		struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
		evhttp_add_header(oh, "Access-Control-Allow-Origin", "*");
		evhttp_add_header(oh, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
		evhttp_add_header(oh, "Access-Control-Allow-Headers",
		                  "Accept-Language, If-None-Match, Authorization");
		evhttp_add_header(oh, "Access-Control-Max-Age", "86400");
		evhttp_send_reply(req, 204, "No Content", NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD, OPTIONS");
		send_error(req, 405, "method_not_allowed", NULL, "only GET and HEAD are supported");
		return;
	}
	/* Our own limits, below evhttp's hard ones, so that the answer is still JSON. */
	const char *ruri = evhttp_request_get_uri(req);
	if (ruri && strlen(ruri) > MAX_URI) {
		send_error(req, 414, "uri_too_long", NULL, "the request URI is longer than 8 KiB");
		return;
	}
	size_t hbytes = 0;
	for (struct evkeyval *h = evhttp_request_get_input_headers(req)->tqh_first; h;
	     h = h->next.tqe_next)
		hbytes += strlen(h->key) + strlen(h->value) + 4;
	if (hbytes > MAX_HEADER_BYTES) {
		send_error(req, 431, "headers_too_large", NULL, "the request headers exceed 16 KiB");
		return;
	}
	if (!(path = checked_path(req, raw_path)) || check_params(req, query)) {
		free(path);
		return;
	}
	q.tqh_first = NULL;
	q.tqh_last = &q.tqh_first;
	if (query && parse_query(query, &q) != 0) {
		free(path);
		send_error(req, 400, "bad_request", NULL, "the query string cannot be decoded");
		return;
	}
	for (struct evkeyval *kv = q.tqh_first; kv; kv = kv->next.tqe_next) {
		if (np == MAX_PARAMS) {
			evhttp_clear_headers(&q);
			free(path);
			send_error(req, 400, "bad_request", NULL, "too many query parameters");
			return;
		}
		for (size_t i = 0; i < np; i++)
			if (strcmp(params[i].key, kv->key) == 0) {
				char msg[160], ek[100];
				snprintf(msg, sizeof msg, "%s: given more than once",
				         zs_escape_text(kv->key, strlen(kv->key), ek, sizeof ek, 60));
				send_error(req, 400, "bad_parameter", kv->key, msg);
				evhttp_clear_headers(&q);
				free(path);
				return;
			}
		params[np].key = kv->key;
		params[np].value = kv->value;
		np++;
	}

	/* Prometheus metrics, unless they are off or on their own address. */
	if (strcmp(path, "/metrics") == 0 && t->cfg->metrics && !t->cfg->metrics_listen[0]) {
		serve_metrics(req, t->cfg);
		evhttp_clear_headers(&q);
		free(path);
		return;
	}
	/* The widget's static pages. */
	if (strcmp(path, "/") == 0 || strncmp(path, "/www/", 5) == 0) {
		/* "/" and "/www/" are the widget's index page */
		zs_static_serve(req, t->cfg->www_dir, path[1] && path[5] ? path + 5 : "index.html");
		evhttp_clear_headers(&q);
		free(path);
		return;
	}
	/* The call-centre workspace (www/staff/): "/staff" and "/staff/" are its page. */
	if (strcmp(path, "/staff") == 0 || strncmp(path, "/staff/", 7) == 0) {
		zs_static_serve(req, t->cfg->www_dir, path[6] && path[7] ? path + 1 : "staff/index.html");
		evhttp_clear_headers(&q);
		free(path);
		return;
	}
	const route *rt = NULL;
	char *arg_buf = NULL;
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		path[--plen] = 0;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !rt; i++) {
		const route *r = &routes[i];
		size_t pl = strlen(r->prefix);
		if (r->prefix[pl - 1] != '/') {
			if (strcmp(path, r->prefix) == 0)
				rt = r;
			continue;
		}
		if (strncmp(path, r->prefix, pl) != 0 || !path[pl])
			continue;
		const char *rest = path + pl;
		const char *slash = strchr(rest, '/');
		if (r->suffix) {
			if (!slash || strcmp(slash, r->suffix) != 0)
				continue;
			arg_buf = strndup(rest, (size_t)(slash - rest));
		} else {
			if (slash)
				continue;
			arg_buf = strdup(rest);
		}
		rt = r;
	}
	const char *qlang = NULL;
	for (size_t i = 0; i < np; i++)
		if (strcmp(params[i].key, "lang") == 0)
			qlang = params[i].value;
	const char *lang = pick_lang(req, qlang);
	zs_staff_who who = { .admin = 0 };
	long retry = 0;
	int sa = rt && lang ? staff_ok(req, &who, &retry) : ZS_STAFF_NONE;
	if (!rt) {
		char msg[300], ep[260];
		snprintf(msg, sizeof msg, "no such resource: %s",
		         zs_escape_text(path, strlen(path), ep, sizeof ep, 200));
		send_error(req, 404, "not_found", NULL, msg);
	} else if (!lang) {
		send_error(req, 400, "bad_parameter", "lang", "lang: nl or en");
	} else if (sa == ZS_STAFF_LIMITED) {
		char ra[24];
		snprintf(ra, sizeof ra, "%ld", retry > 0 ? retry : 1);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
		send_error(req, 429, "too_many_requests", NULL,
		           "too many failed staff sign-ins from this address; try again later");
	} else if (sa == ZS_STAFF_OK && audit_failed(rt, arg_buf, &who, params, np)) {
		send_error(req, 503, "unavailable", NULL, "the staff audit log cannot be written");
	} else {
		zs_request zr = {
			.params = params, .nparams = np, .path_arg = arg_buf, .lang = lang,
			.now = zs_now(), .staff = sa == ZS_STAFF_OK,
			.staff_name = sa == ZS_STAFF_OK ? who.name : NULL,
			.staff_admin = sa == ZS_STAFF_OK && who.admin,
		};
		if (zr.staff || staff_path(path)) /* never kept by a shared cache */
			evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
			                  "private, no-store");
		int status = 500;
		char key[2200];
		long long gen = atomic_load(&zs_generation);
		const char *full_uri = evhttp_request_get_uri(req);
		/* a staff answer (it holds shown_since) is never shared or publicly cached */
		int cacheable = rt->public_cache && !zr.staff && t->cache && full_uri &&
		                strlen(full_uri) < 2048;
		zs_rentry *hit = NULL;
		if (cacheable) {
			/* The shared cache follows the published snapshot: answers depending on
			 * what changed are dropped, every other answer (and its ETag) stays. */
			zs_rcache_sync(t->cache, gen, fetch_dirty, t->reader);
			snprintf(key, sizeof key, "%s|%s", lang, full_uri);
			hit = zs_rcache_get(t->cache, key, zr.now);
		}
		if (cacheable) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "X-Zorgstatus-Cache",
			                  hit ? "hit" : "miss");
			if (hit)
				zs_metrics_cache_hit();
			else
				zs_metrics_cache_miss();
		}
		if (hit) {
			send_rendered(req, &hit->r, hit, hit->surrogate);
			zs_rentry_release(hit);
		} else {
			long long snap = -1;
			json_t *body = zs_api_call(t->reader, rt->fn, &zr, &status, &snap, &t->deps);
			if (body && status >= 400)
				add_error_text(body, lang);
			if (!body) {
				send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
			} else {
				zs_rendered r;
				render(body, t->reader, status, rt->public_cache && !zr.staff,
				       cacheable && status == 200,
				       &r);
				json_decref(body);
				char *sk = NULL;
				uint64_t dh[256];
				size_t nd = 0;
				if (snap >= 0 && t->deps.n <= sizeof dh / sizeof dh[0]) {
					char hdr[4096];
					zs_deplist_header(&t->deps, hdr, sizeof hdr);
					sk = hdr[0] ? strdup(hdr) : NULL;
					for (size_t i = 0; i < t->deps.n; i++)
						dh[nd++] = zs_dep_hash(t->deps.keys[i]);
					qsort(dh, nd, sizeof dh[0], cmp_u64);
				}
				/* Kept under the snapshot it was computed from (never older than the
				 * cache's own generation: zs_rcache_put refuses those). An answer that
				 * read no snapshot (a bad parameter) depends on nothing but the clock;
				 * one that read a snapshot but named no keys depends on everything. */
				zs_rentry *stored = cacheable && status < 500 && (snap < 0 || t->deps.n <= 256)
				        ? zs_rcache_put(t->cache, key, snap >= 0 ? snap : gen, zr.now,
				                        t->cfg->response_cache_seconds, &r,
				                        snap < 0 ? (const uint64_t[]){ 0 } : dh,
				                        snap < 0 ? 1 : nd, sk)
				        : NULL;
				if (stored) {
					send_rendered(req, &stored->r, stored, stored->surrogate);
					zs_rentry_release(stored);
				} else {
					send_rendered(req, &r, NULL, sk);
					free(r.body);
					free(r.gz);
					free(sk);
				}
			}
		}
	}
	free(arg_buf);
	evhttp_clear_headers(&q);
	free(path);
}

/* ---- threads ------------------------------------------------------------------------------ */

static void *serve_main(void *arg)
{
	serv_thread *t = arg;
	cur_thread = t;
	event_base_dispatch(t->base);
	return NULL;
}

/* Refuse an address another process already listens on. Our own serving threads share the
 * port through SO_REUSEPORT, which would also let a second daemon of the same user join
 * silently and take part of the traffic. Two checks: a connect() to the address (wildcard:
 * loopback) finds any listener; an abstract unix socket named after the address, bound for the
 * life of the process, closes the race of two daemons starting at the same moment.
 * Returns the claim's descriptor (kept open until exit), or -1 with err naming the address. */
static int claim_address(const struct addrinfo *ai, const char *listen_addr, char *err,
                         size_t errlen)
{
	struct sockaddr_storage ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			a->sin6_addr = in6addr_loopback;
	}
	int probe = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		struct timeval tv = { .tv_sec = 2 };
		setsockopt(probe, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		int taken = connect(probe, (struct sockaddr *)&ss, ai->ai_addrlen) == 0;
		close(probe);
		if (taken) {
			snprintf(err, errlen, "listen %s: address already in use by another process "
			         "(another zorgstatusd?)", listen_addr);
			return -1;
		}
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv, sizeof serv,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof host, "%s", listen_addr), serv[0] = 0;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int n = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "zorgstatusd/%s/%s", host, serv);
	if (n < 0 || (size_t)n >= sizeof un.sun_path - 1)
		n = (int)sizeof un.sun_path - 2;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -2; /* no claim possible: the connect check stands alone */
	if (bind(fd, (struct sockaddr *)&un,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) != 0) {
		int e = errno;
		close(fd);
		if (e != EADDRINUSE)
			return -2;
		snprintf(err, errlen, "listen %s: address already in use by another zorgstatusd",
		         listen_addr);
		return -1;
	}
	return fd;
}

/* A listening socket on listen_addr. With claim (the first socket of an address), the address
 * is claimed first (claim_address): *claim receives the claim's descriptor (-1 if none). */
static int listen_socket(const char *listen_addr, int *claim, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
	if (!colon || colon == listen_addr || (size_t)(colon - listen_addr) >= sizeof host) {
		snprintf(err, errlen, "listen: \"%s\" is not host:port", listen_addr);
		return -1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen_addr), listen_addr);
	if (host[0] == '[') { /* [::1]:8080 */
		memmove(host, host + 1, strlen(host));
		char *b = strchr(host, ']');
		if (b)
			*b = 0;
	}
	int gai = getaddrinfo(host, colon + 1, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "listen %s: %s", listen_addr, gai_strerror(gai));
		return -1;
	}
	if (claim) {
		*claim = claim_address(res, listen_addr, err, errlen);
		if (*claim == -1) {
			freeaddrinfo(res);
			return -1;
		}
		if (*claim < 0)
			*claim = -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
	    /* accepted sockets inherit it: no Nagle delay between headers and body */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		snprintf(err, errlen, "listen %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void *metrics_main(void *arg)
{
	event_base_dispatch(arg);
	return NULL;
}

/* The separate metrics listener: one more thread with its own event base. */
static int metrics_start(zs_http *h, const zs_config *cfg, char *err, size_t errlen)
{
	int fd = listen_socket(cfg->metrics_listen, &h->lock_fd[1], err, errlen);
	if (fd < 0)
		return -1;
	h->mbase = event_base_new();
	h->mhttp = h->mbase ? evhttp_new(h->mbase) : NULL;
	if (!h->mhttp || (evhttp_set_timeout(h->mhttp, (int)cfg->http_timeout), 0) ||
	    !evhttp_accept_socket_with_handle(h->mhttp, fd)) {
		snprintf(err, errlen, "metrics_listen %s: cannot start the HTTP server",
		         cfg->metrics_listen);
		close(fd);
		return -1;
	}
	evhttp_set_allowed_methods(h->mhttp, 0xffff);
	evhttp_set_gencb(h->mhttp, on_metrics_request, (void *)(uintptr_t)cfg);
	if (pthread_create(&h->mthread, NULL, metrics_main, h->mbase) != 0) {
		snprintf(err, errlen, "cannot start the metrics thread");
		return -1;
	}
	h->mrunning = 1;
	return 0;
}

zs_http *zs_http_start(const zs_config *cfg, char *err, size_t errlen)
{
	zs_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* staff accounts (zs_staff.h): the accounts file and the old single token file */
	if (zs_staff_load(cfg, err, errlen) != 0) {
		free(h);
		return NULL;
	}
	h->lock_fd[0] = h->lock_fd[1] = -1;
	h->cfg = cfg;
	if (!routes_registered)
		register_routes();
	h->t = calloc((size_t)cfg->threads, sizeof *h->t);
	if (cfg->response_cache_seconds > 0)
		h->cache = zs_rcache_new((size_t)cfg->response_cache_mb << 20);
	zs_metrics_set_cache(h->cache);
	if (!h->t) {
		zs_metrics_set_cache(NULL);
		zs_rcache_free(h->cache);
		zs_staff_shutdown();
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (long i = 0; i < cfg->threads; i++) {
		serv_thread *t = &h->t[i];
		t->cfg = cfg;
		t->index = (int)i + 1;
		t->fd = listen_socket(cfg->listen, i == 0 ? &h->lock_fd[0] : NULL, err, errlen);
		if (t->fd < 0)
			goto fail;
		t->reader = zs_reader_open(cfg, err, errlen);
		t->cache = h->cache;
		t->base = event_base_new();
		t->http = t->base ? evhttp_new(t->base) : NULL;
		if (!t->reader || !t->http) {
			if (t->reader && !t->http)
				snprintf(err, errlen, "cannot create the HTTP server");
			goto fail;
		}
		evhttp_set_timeout(t->http, (int)cfg->http_timeout);
		/* evhttp's own limits far above ours, so that on_request answers 414 / 431 / 413 in
		 * JSON; only beyond these (EVHTTP_HARD_LIMIT) does libevent answer by itself. */
		evhttp_set_max_headers_size(t->http, EVHTTP_HARD_LIMIT);
		evhttp_set_max_body_size(t->http, (ev_ssize_t)cfg->max_body_kb * 1024 + EVHTTP_HARD_LIMIT);
		/* Every method, unknown ones included (libevent 2.1 marks them with bit 15, which
		 * passes this mask): on_request answers 405 in JSON instead of evhttp's 501. */
		evhttp_set_allowed_methods(t->http, 0xffff);
		evhttp_set_gencb(t->http, on_request, t);
		if (!(t->bound = evhttp_accept_socket_with_handle(t->http, t->fd))) {
			snprintf(err, errlen, "listen %s: cannot accept", cfg->listen);
			goto fail;
		}
		t->fd = -1; /* owned by evhttp now */
		h->n = (size_t)i + 1;
		if (pthread_create(&t->thread, NULL, serve_main, t) != 0) {
			snprintf(err, errlen, "cannot start serving thread");
			h->n = (size_t)i;
			evhttp_free(t->http);
			event_base_free(t->base);
			zs_reader_close(t->reader);
			t->cache = NULL;
			t->http = NULL;
			t->base = NULL;
			t->reader = NULL;
			goto fail;
		}
	}
	if (cfg->metrics && cfg->metrics_listen[0] && metrics_start(h, cfg, err, errlen) != 0) {
		zs_http_stop(h);
		return NULL;
	}
	ZS_INFO(MOD, "serving http://%s with %ld threads", cfg->listen, cfg->threads);
	if (cfg->metrics)
		ZS_INFO(MOD, "metrics at http://%s/metrics", cfg->metrics_listen[0] ? cfg->metrics_listen
		                                                                    : cfg->listen);
	return h;
fail:
	{
		serv_thread *t = &h->t[h->n];
		if (t->fd >= 0)
			close(t->fd);
		if (t->http)
			evhttp_free(t->http);
		if (t->base)
			event_base_free(t->base);
		zs_reader_close(t->reader);
		t->reader = NULL;
	}
	zs_http_stop(h);
	return NULL;
}

/* On the serving thread: stop accepting new connections. */
static void stop_accepting(evutil_socket_t fd, short what, void *arg)
{
	serv_thread *t = arg;
	(void)fd;
	(void)what;
	if (t->bound)
		evhttp_del_accept_socket(t->http, t->bound);
	t->bound = NULL;
}

int zs_http_drain(zs_http *h, long timeout_s)
{
	const struct timeval now = { 0, 0 };
	if (!h)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		event_base_once(h->t[i].base, -1, EV_TIMEOUT, stop_accepting, &h->t[i], &now);
	long long deadline = zs_metrics_now_us() + (long long)timeout_s * 1000000LL;
	long left;
	do {
		left = 0;
		for (size_t i = 0; i < h->n; i++)
			left += atomic_load(&h->t[i].inflight);
		if (left <= 0)
			break;
		usleep(10000);
	} while (zs_metrics_now_us() < deadline);
	if (left > 0)
		ZS_WARN(MOD, "stopping with %ld answer(s) not yet written out after %lds", left,
		        timeout_s);
	return left > 0 ? (int)left : 0;
}

void zs_http_stop(zs_http *h)
{
	if (!h)
		return;
	if (h->mrunning) {
		event_base_loopbreak(h->mbase);
		pthread_join(h->mthread, NULL);
	}
	if (h->mhttp)
		evhttp_free(h->mhttp);
	if (h->mbase)
		event_base_free(h->mbase);
	for (int i = 0; i < 2; i++)
		if (h->lock_fd[i] >= 0)
			close(h->lock_fd[i]);
	for (size_t i = 0; i < h->n; i++)
		event_base_loopbreak(h->t[i].base);
	for (size_t i = 0; i < h->n; i++) {
		serv_thread *t = &h->t[i];
		pthread_join(t->thread, NULL);
		evhttp_free(t->http);
		event_base_free(t->base);
		zs_reader_close(t->reader);
		zs_deplist_free(&t->deps);
	}
	if (h->n < (size_t)h->cfg->threads && h->t)
		zs_deplist_free(&h->t[h->n].deps);
	zs_metrics_set_cache(NULL);
	zs_rcache_free(h->cache);
	zs_staff_shutdown();
	free(h->t);
	free(h);
}

/* ---- the router without threads (fuzzers, tests) -------------------------------------------- */

struct zs_http_local {
	serv_thread t;
};

zs_http_local *zs_http_local_new(const zs_config *cfg, struct event_base *base,
                                 struct zs_reader *reader, const char *staff_token, int listen_fd)
{
	zs_http_local *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	if (!routes_registered)
		register_routes();
	serv_thread *t = &l->t;
	t->cfg = cfg;
	if (staff_token && *staff_token && zs_staff_add_token("staff", 0, staff_token) != 0) {
		free(l);
		return NULL;
	}
	t->index = 1;
	t->reader = reader;
	t->base = base;
	t->fd = -1;
	t->http = evhttp_new(base);
	if (!t->http) {
		free(l);
		return NULL;
	}
	/* the limits and methods of zs_http_start */
	evhttp_set_timeout(t->http, (int)cfg->http_timeout);
	evhttp_set_max_headers_size(t->http, EVHTTP_HARD_LIMIT);
	evhttp_set_max_body_size(t->http, (ev_ssize_t)cfg->max_body_kb * 1024 + EVHTTP_HARD_LIMIT);
	evhttp_set_allowed_methods(t->http, 0xffff);
	evhttp_set_gencb(t->http, on_request, t);
	if (!(t->bound = evhttp_accept_socket_with_handle(t->http, listen_fd))) {
		evhttp_free(t->http);
		free(l);
		return NULL;
	}
	return l;
}

void zs_http_local_free(zs_http_local *l)
{
	if (!l)
		return;
	evhttp_free(l->t.http);
	free(l);
}
