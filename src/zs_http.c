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
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <zlib.h>
#include "zs_api.h"
#include "zs_consequence.h"
#include "zs_http.h"
#include "zs_log.h"
#include "zs_rcache.h"
#include "zs_static.h"
#include "zs_worker.h"
#include "zs_time.h"

#define MOD "http"
#define MAX_PARAMS 32
#define MAX_URI 8192
#define MAX_HEADER_BYTES 16384

typedef struct {
	const char *prefix;  /* path, or prefix ending in '/' for {arg} routes */
	const char *suffix;  /* after {arg}, or NULL */
	zs_handler fn;
	int public_cache;    /* cacheable by shared caches / CORS public */
} route;

static const route routes[] = {
	{ "/healthz", NULL, zs_api_health, 0 },
	{ "/v1/status", NULL, zs_api_status, 1 },
	{ "/v1/policies", NULL, zs_api_policies, 1 },
	{ "/v1/feeds", NULL, zs_api_feeds, 0 },
	{ "/v1/search", NULL, zs_api_search, 1 },
	{ "/v1/openapi.json", NULL, zs_api_openapi, 1 },
	{ "/v1/compare", NULL, zs_api_compare, 1 },
	{ "/v1/providers/", "/history", zs_api_provider_history, 0 },
	{ "/v1/policies/", "/similar", zs_api_policy_similar, 1 },
	{ "/v1/providers/", NULL, zs_api_provider, 1 },
};

typedef struct {
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	zs_reader *reader;
	const zs_config *cfg;
	const char *staff_token;
	zs_rcache *cache;
	int fd;
} serv_thread;

struct zs_http {
	serv_thread *t;
	size_t n;
	char *staff_token;
};

/* ---- response helpers -------------------------------------------------------------------- */

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
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

static int gunzip_buf(const char *in, size_t n, size_t plain_len, struct evbuffer *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	unsigned char *buf = malloc(plain_len ? plain_len : 1);
	if (!buf) {
		inflateEnd(&z);
		return -1;
	}
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)plain_len;
	int rc = inflate(&z, Z_FINISH);
	size_t got = plain_len - z.avail_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END || got != plain_len) {
		free(buf);
		return -1;
	}
	evbuffer_add(out, buf, got);
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
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
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
	json_object_set_new(e, "text", json_string(out));
}

/* Render a JSON body: text, ETag (a hash of the text, so replicas with the same content give
 * the same ETag), and for cacheable answers the gzip form. */
static void render(json_t *body, int status, int public_cache, int precompress, zs_rendered *r)
{
	memset(r, 0, sizeof *r);
	r->body = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	r->status = status;
	r->public_cache = public_cache;
	if (!r->body) {
		r->body = strdup("{\"error\":{\"code\":\"unavailable\",\"message\":\"encoding failed\"}}");
		r->status = 503;
	}
	r->len = r->body ? strlen(r->body) : 0;
	if (r->status == 200)
		snprintf(r->etag, sizeof r->etag, "\"%016llx\"",
		         (unsigned long long)fnv1a(r->body, r->len));
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

/* The body is copied into the reply: evhttp sends it after this returns, and the rendered
 * buffers may be freed (or evicted from the cache) by then. */
static void send_rendered(struct evhttp_request *req, const zs_rendered *r)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(oh, "Vary", "Accept-Encoding, Accept-Language");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	if (r->public_cache) {
		evhttp_add_header(oh, "Access-Control-Allow-Origin", "*");
		evhttp_add_header(oh, "Access-Control-Expose-Headers", "ETag");
	}
	if (r->status == 200) {
		evhttp_add_header(oh, "ETag", r->etag);
		evhttp_add_header(oh, "Cache-Control", r->public_cache ? "public, max-age=60" : "no-cache");
		const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
		                                     "If-None-Match");
		if (inm && (strstr(inm, r->etag) || strcmp(inm, "*") == 0)) {
			evhttp_send_reply(req, 304, reason(304), NULL);
			return;
		}
	} else {
		evhttp_add_header(oh, "Cache-Control", "no-store");
	}
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	if (!r->body) { /* a cached entry kept compressed */
		if (accepts_gzip(req)) {
			evbuffer_add(out, r->gz, r->gzlen);
			evhttp_add_header(oh, "Content-Encoding", "gzip");
		} else if (gunzip_buf(r->gz, r->gzlen, r->len, out) != 0) {
			evbuffer_free(out);
			send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
			return;
		}
	} else if (r->len > 256 && accepts_gzip(req)) {
		if (r->gz) {
			evbuffer_add(out, r->gz, r->gzlen);
			evhttp_add_header(oh, "Content-Encoding", "gzip");
		} else if (gzip_buf(r->body, r->len, out) == 0) {
			evhttp_add_header(oh, "Content-Encoding", "gzip");
		} else {
			evbuffer_drain(out, evbuffer_get_length(out));
			evbuffer_add(out, r->body, r->len);
		}
	} else {
		evbuffer_add(out, r->body, r->len);
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

static void send_json(struct evhttp_request *req, int status, json_t *body, int public_cache)
{
	zs_rendered r;
	render(body, status, public_cache, 0, &r);
	send_rendered(req, &r);
	free(r.body);
	free(r.gz);
}

static void send_error(struct evhttp_request *req, int http, const char *code,
                       const char *param, const char *msg)
{
	int status;
	json_t *e = zs_api_error(&status, http, code, param, "%s", msg);
	add_error_text(e, request_lang(req));
	send_json(req, status, e, 1);
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

static int staff_ok(struct evhttp_request *req, const char *token)
{
	const char *auth;
	if (!token || !*token)
		return 0;
	auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	/* constant-time comparison */
	const char *given = auth + 7;
	size_t a = strlen(given), b = strlen(token);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < a && i < b; i++)
		diff |= (unsigned char)(given[i] ^ token[i]);
	return diff == 0;
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
	path = raw_path ? evhttp_uridecode(raw_path, 0, NULL) : NULL;
	if (!path) {
		send_error(req, 400, "bad_request", NULL, "the request path cannot be decoded");
		return;
	}
	q.tqh_first = NULL;
	q.tqh_last = &q.tqh_first;
	if (query && evhttp_parse_query_str(query, &q) != 0) {
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
				char msg[160];
				snprintf(msg, sizeof msg, "%.60s: given more than once", kv->key);
				send_error(req, 400, "bad_parameter", kv->key, msg);
				evhttp_clear_headers(&q);
				free(path);
				return;
			}
		params[np].key = kv->key;
		params[np].value = kv->value;
		np++;
	}

	/* The widget's static pages. */
	if (strcmp(path, "/") == 0 || strncmp(path, "/www/", 5) == 0) {
		zs_static_serve(req, t->cfg->www_dir, path[1] ? path + 5 : "index.html");
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
	if (!rt) {
		char msg[300];
		snprintf(msg, sizeof msg, "no such resource: %.200s", path);
		send_error(req, 404, "not_found", NULL, msg);
	} else if (!lang) {
		send_error(req, 400, "bad_parameter", "lang", "lang: nl or en");
	} else {
		zs_request zr = {
			.params = params, .nparams = np, .path_arg = arg_buf, .lang = lang,
			.now = zs_now(), .staff = staff_ok(req, t->staff_token),
		};
		int status = 500;
		char key[2200];
		long long gen = atomic_load(&zs_generation);
		const char *full_uri = evhttp_request_get_uri(req);
		int cacheable = rt->public_cache && t->cache && full_uri && strlen(full_uri) < 2048;
		zs_rendered *hit = NULL;
		if (cacheable) {
			snprintf(key, sizeof key, "%s|%s", lang, full_uri);
			hit = zs_rcache_get(t->cache, key, gen, zr.now);
		}
		if (hit) {
			send_rendered(req, hit);
		} else {
			json_t *body = rt->fn(t->reader, &zr, &status);
			if (body && status >= 400)
				add_error_text(body, lang);
			if (!body) {
				send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
			} else {
				zs_rendered r;
				render(body, status, rt->public_cache, cacheable && status == 200, &r);
				json_decref(body);
				zs_rendered *stored = cacheable && status < 500
				        ? zs_rcache_put(t->cache, key, gen, zr.now, t->cfg->response_cache_seconds, &r)
				        : NULL;
				send_rendered(req, stored ? stored : &r);
				if (!stored) {
					free(r.body);
					free(r.gz);
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
	event_base_dispatch(t->base);
	return NULL;
}

static int listen_socket(const char *listen_addr, char *err, size_t errlen)
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

static char *read_token(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f) {
		snprintf(err, errlen, "staff_token_file %s: %s", path, strerror(errno));
		return NULL;
	}
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = 0;
	if (n < 16) {
		free(line);
		snprintf(err, errlen, "staff_token_file %s: the token must be at least 16 characters",
		         path);
		return NULL;
	}
	return line;
}

zs_http *zs_http_start(const zs_config *cfg, char *err, size_t errlen)
{
	zs_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->staff_token_file && *cfg->staff_token_file &&
	    !(h->staff_token = read_token(cfg->staff_token_file, err, errlen))) {
		free(h);
		return NULL;
	}
	h->t = calloc((size_t)cfg->threads, sizeof *h->t);
	if (!h->t) {
		free(h->staff_token);
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (long i = 0; i < cfg->threads; i++) {
		serv_thread *t = &h->t[i];
		t->cfg = cfg;
		t->staff_token = h->staff_token;
		t->fd = listen_socket(cfg->listen, err, errlen);
		if (t->fd < 0)
			goto fail;
		t->reader = zs_reader_open(cfg, err, errlen);
		if (cfg->response_cache_seconds > 0)
			t->cache = zs_rcache_new(65536, (size_t)cfg->response_cache_mb << 20);
		t->base = event_base_new();
		t->http = t->base ? evhttp_new(t->base) : NULL;
		if (!t->reader || !t->http) {
			if (t->reader && !t->http)
				snprintf(err, errlen, "cannot create the HTTP server");
			goto fail;
		}
		evhttp_set_timeout(t->http, (int)cfg->http_timeout);
		evhttp_set_max_headers_size(t->http, 128 * 1024); /* JSON 414/431 below that */
		evhttp_set_max_body_size(t->http, (ev_ssize_t)cfg->max_body_kb * 1024);
		evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
		                                    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
		                                    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
		                                    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
		evhttp_set_gencb(t->http, on_request, t);
		if (!evhttp_accept_socket_with_handle(t->http, t->fd)) {
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
			zs_rcache_free(t->cache);
			t->cache = NULL;
			t->http = NULL;
			t->base = NULL;
			t->reader = NULL;
			goto fail;
		}
	}
	ZS_INFO(MOD, "serving http://%s with %ld threads", cfg->listen, cfg->threads);
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
		zs_rcache_free(t->cache);
	}
	zs_http_stop(h);
	return NULL;
}

void zs_http_stop(zs_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		event_base_loopbreak(h->t[i].base);
	for (size_t i = 0; i < h->n; i++) {
		serv_thread *t = &h->t[i];
		pthread_join(t->thread, NULL);
		evhttp_free(t->http);
		event_base_free(t->base);
		zs_reader_close(t->reader);
		zs_rcache_free(t->cache);
	}
	if (h->staff_token) {
		explicit_bzero(h->staff_token, strlen(h->staff_token));
		free(h->staff_token);
	}
	free(h->t);
	free(h);
}
