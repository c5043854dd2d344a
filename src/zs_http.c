/* zs_http.c - the router: the route table, request validation before routing, the access
 * log and request metrics, answers through the shared response cache, /metrics, and the
 * router without threads for the fuzzers. */
#include "config.h"
#include "zs_http_priv.h"
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define MOD "http"

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

/* ---- request validation (before routing) ------------------------------------------------ */

/* Staff paths: /v1/providers/{agb}/history and /v1/staff/... They never answer with CORS
 * headers, and never to be kept by a shared cache. */
int zs_http_staff_path(const char *path)
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

/* 1 when s holds only ASCII and no '%': decoding it changes nothing but '+' (in a query) and
 * it is valid UTF-8 without NUL bytes, so the checks below have nothing to find. The usual
 * request ("/v1/providers/01234567?year=2027") is that, and is not decoded twice. */
static int plain_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x80 || *p == '%')
			return 0;
	return 1;
}

/* Every query parameter must be valid UTF-8 without NUL bytes (key as evhttp keeps it, value
 * decoded as evhttp decodes it). Returns 1 when an error was answered. */
static int check_params(struct evhttp_request *req, const char *query)
{
	if (!query || plain_ascii(query))
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
				zs_hio_send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
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
				zs_hio_send_error(req, 400, "bad_parameter", key_ok && kraw ? kraw : key, msg);
				free(kraw);
				free(val);
				return 1;
			}
			free(val);
		} else if (!zs_utf8_valid(seg, sl)) {
			char key[256], msg[400];
			zs_escape_text(seg, sl, key, sizeof key, 60);
			snprintf(msg, sizeof msg, "%s: the parameter's name is not valid UTF-8", key);
			zs_hio_send_error(req, 400, "bad_parameter", key, msg);
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
	char *plain = raw_path && plain_ascii(raw_path) ? strdup(raw_path) : NULL;
	if (plain)
		return plain; /* decoding would give the same bytes */
	char *path = raw_path ? evhttp_uridecode(raw_path, 0, &n) : NULL;
	char esc[300], msg[400];
	if (!path) {
		zs_hio_send_error(req, 400, "bad_request", NULL, "the request path cannot be decoded");
		return NULL;
	}
	if (memchr(path, 0, n)) {
		zs_escape_text(path, n, esc, sizeof esc, 200);
		snprintf(msg, sizeof msg, "the request path contains a NUL byte: %s", esc);
		zs_hio_send_error(req, 400, "bad_request", NULL, msg);
		free(path);
		return NULL;
	}
	if (!zs_utf8_valid(path, n)) {
		zs_escape_text(path, n, esc, sizeof esc, 200);
		snprintf(msg, sizeof msg, "no such resource: %s", esc);
		zs_hio_send_error(req, 404, "not_found", NULL, msg);
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

void zs_http_thread_begin(serv_thread *t)
{
	cur_thread = t;
}

/* Route labels for metrics: "/v1/providers/{id}/history", registered once. */
void zs_http_register_routes(void)
{
	if (routes_registered)
		return;
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

/* The metric route id of a raw request path (the same matching as zs_http_on_request). */
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
 * first): one access log line and the request metrics. arg: the start (monotonic us) << 8,
 * or'ed with the metric route + 1 once the router found it (request_route), else 0. */
static void on_complete(struct evhttp_request *req, void *arg)
{
	uintptr_t a = (uintptr_t)arg;
	long long usec = zs_metrics_now_us() - (long long)(a >> 8);
	int status = evhttp_request_get_response_code(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *cl = evhttp_find_header(evhttp_request_get_output_headers(req), "Content-Length");
	size_t bytes = cl && cmd != EVHTTP_REQ_HEAD ? (size_t)strtoull(cl, NULL, 10) : 0;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	serv_thread *t = evhttp_request_get_connection(req) ? cur_thread : NULL;
	int rid = (a & 0xff) ? (int)(a & 0xff) - 1 : metric_route(uri ? evhttp_uri_get_path(uri) : NULL);
	zs_metrics_request(rid, status, bytes, usec);
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

/* Count the request as in flight and arrange for on_complete. Returns the start (monotonic
 * us) for request_route. */
static long long request_begin(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (cur_thread && evcon) {
		atomic_fetch_add(&cur_thread->inflight, 1);
		evhttp_connection_set_closecb(evcon, on_conn_close, (void *)((uintptr_t)cur_thread | 1));
	}
	long long start = zs_metrics_now_us();
	evhttp_request_set_on_complete_cb(req, on_complete, (void *)((uintptr_t)start << 8));
	return start;
}

/* The request's metric route, now that it is known: on_complete need not match its path. */
static void request_route(struct evhttp_request *req, long long start, int metric)
{
	if (metric >= 0 && metric < 0xff)
		evhttp_request_set_on_complete_cb(req, on_complete,
		                                  (void *)((uintptr_t)start << 8 | (uintptr_t)(metric + 1)));
}

/* GET/HEAD /metrics: Prometheus text, no CORS (not for browsers), never cached. */
static void serve_metrics(struct evhttp_request *req, const zs_config *cfg)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(oh, "Allow", "GET, HEAD");
		zs_hio_send_error(req, 405, "method_not_allowed", NULL, "only GET and HEAD are supported");
		return;
	}
	char *text = zs_metrics_render(cfg->database);
	struct evbuffer *out = text ? evbuffer_new() : NULL;
	if (!out) {
		free(text);
		zs_hio_send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
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
void zs_http_on_metrics_request(struct evhttp_request *req, void *arg)
{
	const zs_config *cfg = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	request_begin(req);
	if (path && strcmp(path, "/metrics") == 0) {
		serve_metrics(req, cfg);
		return;
	}
	zs_hio_send_error(req, 404, "not_found", NULL, "this address serves /metrics only");
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

	long long start = request_begin(req); /* access log and metrics when the answer is out */
	/* evhttp's own body limit is set far above ours, so that this answer is JSON. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    (size_t)t->cfg->max_body_kb * 1024) {
		char msg[96];
		snprintf(msg, sizeof msg, "the request body is larger than %ld KiB", t->cfg->max_body_kb);
		zs_hio_send_error(req, 413, "payload_too_large", NULL, msg);
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS && zs_http_staff_path(raw_path)) { /* staff: no CORS at all */
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
		zs_hio_send_error(req, 405, "method_not_allowed", NULL, "only GET and HEAD are supported");
		return;
	}
	/* Our own limits, below evhttp's hard ones, so that the answer is still JSON. */
	const char *ruri = evhttp_request_get_uri(req);
	if (ruri && strlen(ruri) > MAX_URI) {
		zs_hio_send_error(req, 414, "uri_too_long", NULL, "the request URI is longer than 8 KiB");
		return;
	}
	size_t hbytes = 0;
	const char *ae = NULL; /* Accept-Encoding, read on the way */
	for (struct evkeyval *h = evhttp_request_get_input_headers(req)->tqh_first; h;
	     h = h->next.tqe_next) {
		hbytes += strlen(h->key) + strlen(h->value) + 4;
		if (!ae && (h->key[0] == 'A' || h->key[0] == 'a') &&
		    evutil_ascii_strcasecmp(h->key, "Accept-Encoding") == 0)
			ae = h->value;
	}
	int gz = zs_hio_gzip_in(ae);
	if (hbytes > MAX_HEADER_BYTES) {
		zs_hio_send_error(req, 431, "headers_too_large", NULL, "the request headers exceed 16 KiB");
		return;
	}
	if (!(path = checked_path(req, raw_path)) || check_params(req, query)) {
		free(path);
		return;
	}
	q.tqh_first = NULL;
	q.tqh_last = &q.tqh_first;
	if (query && zs_hio_parse_query(query, &q) != 0) {
		free(path);
		zs_hio_send_error(req, 400, "bad_request", NULL, "the query string cannot be decoded");
		return;
	}
	for (struct evkeyval *kv = q.tqh_first; kv; kv = kv->next.tqe_next) {
		if (np == MAX_PARAMS) {
			evhttp_clear_headers(&q);
			free(path);
			zs_hio_send_error(req, 400, "bad_request", NULL, "too many query parameters");
			return;
		}
		for (size_t i = 0; i < np; i++)
			if (strcmp(params[i].key, kv->key) == 0) {
				char msg[160], ek[100];
				snprintf(msg, sizeof msg, "%s: given more than once",
				         zs_escape_text(kv->key, strlen(kv->key), ek, sizeof ek, 60));
				zs_hio_send_error(req, 400, "bad_parameter", kv->key, msg);
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
	if (rt)
		request_route(req, start, route_metric[rt - routes]);
	const char *qlang = NULL;
	for (size_t i = 0; i < np; i++)
		if (strcmp(params[i].key, "lang") == 0)
			qlang = params[i].value;
	const char *lang = zs_hio_pick_lang(req, qlang);
	zs_staff_who who = { .admin = 0 };
	long retry = 0;
	int sa = rt && lang ? zs_hio_staff_ok(req, &who, &retry) : ZS_STAFF_NONE;
	if (!rt) {
		char msg[300], ep[260];
		snprintf(msg, sizeof msg, "no such resource: %s",
		         zs_escape_text(path, strlen(path), ep, sizeof ep, 200));
		zs_hio_send_error(req, 404, "not_found", NULL, msg);
	} else if (!lang) {
		zs_hio_send_error(req, 400, "bad_parameter", "lang", "lang: nl or en");
	} else if (sa == ZS_STAFF_LIMITED) {
		char ra[24];
		snprintf(ra, sizeof ra, "%ld", retry > 0 ? retry : 1);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
		zs_hio_send_error(req, 429, "too_many_requests", NULL,
		           "too many failed staff sign-ins from this address; try again later");
	} else if (sa == ZS_STAFF_OK && audit_failed(rt, arg_buf, &who, params, np)) {
		zs_hio_send_error(req, 503, "unavailable", NULL, "the staff audit log cannot be written");
	} else {
		zs_request zr = {
			.params = params, .nparams = np, .path_arg = arg_buf, .lang = lang,
			.now = zs_now(), .staff = sa == ZS_STAFF_OK,
			.staff_name = sa == ZS_STAFF_OK ? who.name : NULL,
			.staff_admin = sa == ZS_STAFF_OK && who.admin,
		};
		if (zr.staff || zs_http_staff_path(path)) /* never kept by a shared cache */
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
		int stale = 0;
		if (cacheable) {
			/* The shared cache follows the published snapshot: answers depending on
			 * what changed are made again (the previous one is sent only to those who
			 * ask while that is under way), every other answer (and its ETag) stays. */
			zs_rcache_sync(t->cache, gen, fetch_dirty, t->reader);
			size_t ll = strlen(lang), ul = strlen(full_uri); /* "<lang>|<uri>" */
			memcpy(key, lang, ll);
			key[ll] = '|';
			memcpy(key + ll + 1, full_uri, ul + 1);
			hit = zs_rcache_lookup(t->cache, key, zr.now, &stale);
		}
		if (cacheable) {
			if (!hit) /* a hit's goes with its other headers (zs_hio_send_rendered) */
				evhttp_add_header(evhttp_request_get_output_headers(req),
				                  "X-Zorgstatus-Cache", "miss");
			if (hit)
				zs_metrics_cache_hit();
			else
				zs_metrics_cache_miss();
		}
		if (hit) {
			/* a stale answer is not kept by a shared cache in front (no-cache): it asks
			 * again and gets the new one */
			if (stale)
				evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
				                  "no-cache");
			zs_hio_ensure_gz(t->cache, hit, gz);
			if (!stale) /* a stale answer is about to be replaced */
				zs_hio_ensure_file(t->cache, hit, req, gz);
			zs_hio_send_rendered(req, &hit->r, hit, hit->surrogate, stale ? "stale" : "hit",
			                     gz);
			zs_rentry_release(hit);
		} else {
			long long snap = -1;
			json_t *body = zs_api_call(t->reader, rt->fn, &zr, &status, &snap, &t->deps);
			if (body && status >= 400)
				zs_hio_error_text(body, lang);
			if (!body) {
				zs_hio_send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
			} else {
				zs_rendered r;
				zs_hio_render(body, t->reader, status, rt->public_cache && !zr.staff,
				       cacheable && status == 200 && gz,
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
					zs_hio_send_rendered(req, &stored->r, stored, stored->surrogate, NULL,
					                     gz);
					zs_rentry_release(stored);
				} else {
					if (cacheable) /* the next one makes it: no stale answer waits on us */
						zs_rcache_drop_stale(t->cache, key);
					zs_hio_send_rendered(req, &r, NULL, sk, NULL, gz);
					zs_rendered_free(&r);
					free(sk);
				}
			}
		}
	}
	free(arg_buf);
	evhttp_clear_headers(&q);
	free(path);
}

/* Send the first head bytes of out (an answer's headers, all in memory before its file) with
 * MSG_MORE: the kernel holds them for the file that follows (sendfile), so that both leave as
 * full segments, in two system calls instead of four with TCP_CORK on and off around them (a
 * system call is ~1 us on the virtual machines measured; a warm 100 KB answer took 40-45 us of
 * CPU instead of 48-56). When the file has to wait for a full socket, the held headers leave
 * at the next ACK (TCP_NODELAY). The sent bytes are drained. 0 when all of them went; -1
 * (nothing or part sent, the rest still in out) when the caller is to write them the usual
 * way. */
static int head_more(struct evbuffer *out, evutil_socket_t fd, size_t head)
{
	struct evbuffer_iovec v[8];
	struct iovec iov[8];
	int nv = evbuffer_peek(out, (ev_ssize_t)head, NULL, v, 8);
	size_t have = 0;
	if (nv < 1 || nv > 8)
		return -1;
	for (int i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
		have += v[i].iov_len;
	}
	if (have < head)
		return -1;
	iov[nv - 1].iov_len -= have - head; /* only the headers, not a byte of what follows */
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)nv };
	ssize_t sent = sendmsg(fd, &m, MSG_MORE | MSG_NOSIGNAL);
	if (sent > 0)
		evbuffer_drain(out, (size_t)sent);
	return sent == (ssize_t)head ? 0 : -1;
}

/* Write an answer out now, while its request is still being handled, instead of at the loop's
 * next turn. evhttp leaves the answer in the connection's output and asks for the socket to
 * become writable: with a small answer that is two epoll_ctl calls and one more turn of the
 * loop per request (write interest on, write, off again), about a fifth of the CPU of an
 * answer from the cache. Written here, the output is empty, and the write callback
 * (bufferevent_trigger) ends the request as libevent would have: on_complete, the request
 * freed, the connection reading again, all before the loop's next wait, so the change list
 * merges the interest changes away. What the socket does not take at once (a large answer, a
 * slow reader) stays in the output and goes as before; an error is left to the write event,
 * which meets it again and closes the connection through evhttp. An answer from a cached file
 * (file: its length) gets its headers and its file (sendfile) written here too. */
static void write_now(struct bufferevent *bev, size_t file)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	size_t len = evbuffer_get_length(out);
	if (fd < 0 || len == 0)
		return; /* nothing answered yet (or already written) */
	/* as libevent's own write callback (bufferevent_writecb) does: a socket bufferevent keeps
	 * the front of its output frozen between its writes, and a write to a frozen front fails
	 * without trying (so, without this, every answer on a connection after one that libevent
	 * wrote itself, a large or a file's, went the slow way) */
	evbuffer_unfreeze(out, 1);
	int n = 0;
	if (file && file < len && head_more(out, fd, len - file) == 0)
		n = evbuffer_write(out, fd); /* the file: sendfile, which sends the headers with it */
	else if (file) {
		/* evbuffer_write stops where the file begins: the headers, then the file. Corked,
		 * they leave as full segments instead of a small one for the headers first (nginx's
		 * tcp_nopush); a third write would meet a full socket. */
		int on = 1, off = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
		n = evbuffer_write(out, fd);
		if (n > 0 && evbuffer_get_length(out) > 0)
			n = evbuffer_write(out, fd);
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
	} else
		n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	if (n > 0 && evbuffer_get_length(out) == 0)
		bufferevent_trigger(bev, EV_WRITE, 0); /* may free the connection: bev not used after */
}

void zs_http_on_request(struct evhttp_request *req, void *arg)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	(void)zs_hio_take_file_added();
	on_request(req, arg); /* answers req, which stays allocated until it is written out */
	size_t file = zs_hio_take_file_added();
	if (bev)
		write_now(bev, file);
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
	zs_http_register_routes();
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
	if (t->http) /* every answer names its own type (zs_hio_send_rendered's header block) */
		evhttp_set_default_content_type(t->http, NULL);
	if (!t->http) {
		free(l);
		return NULL;
	}
	/* the limits and methods of zs_http_start */
	evhttp_set_timeout(t->http, (int)cfg->http_timeout);
	evhttp_set_max_headers_size(t->http, EVHTTP_HARD_LIMIT);
	evhttp_set_max_body_size(t->http, (ev_ssize_t)cfg->max_body_kb * 1024 + EVHTTP_HARD_LIMIT);
	evhttp_set_allowed_methods(t->http, 0xffff);
	evhttp_set_gencb(t->http, zs_http_on_request, t);
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
