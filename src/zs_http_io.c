/* zs_http_io.c - request and response helpers: languages, staff sign-in, JSON errors with a
 * consumer text, rendering (ETag, gzip) and sending (cached bytes by reference). */
#include "config.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include "zs_big.h"
#include "zs_http_priv.h"
#include "zs_util.h"

#define MOD "http"

/* ---- response helpers -------------------------------------------------------------------- */

/* one FNV-style step of the ETag hash over 8 bytes */
static inline uint64_t mix8(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* The ETag: a 64-bit hash of the body in four independent lanes of 8 bytes (a 300 KB answer in
 * ~20 us instead of ~80 us with one), folded, the tail 8 and 1 bytes a step, a final mix. The
 * same bytes give the same ETag on every replica of the same version. */
static uint64_t body_hash(const char *p, size_t n)
{
	uint64_t h0 = 1469598103934665603ULL ^ (uint64_t)n, h1 = 0x9e3779b97f4a7c15ULL,
	         h2 = 0xc2b2ae3d27d4eb4fULL, h3 = 0x165667b19e3779f9ULL;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		uint64_t w[4];
		memcpy(w, p + i, 32);
		h0 = mix8(h0, w[0]);
		h1 = mix8(h1, w[1]);
		h2 = mix8(h2, w[2]);
		h3 = mix8(h3, w[3]);
	}
	uint64_t h = h0 ^ ((h1 << 17) | (h1 >> 47)) ^ ((h2 << 31) | (h2 >> 33)) ^
	             ((h3 << 47) | (h3 >> 17));
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = mix8(h, w);
	}
	for (; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int zs_hio_accepts_gzip(struct evhttp_request *req)
{
	return zs_hio_gzip_in(evhttp_find_header(evhttp_request_get_input_headers(req),
	                                         "Accept-Encoding"));
}

int zs_hio_gzip_in(const char *ae)
{
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
	unsigned char *gz;
	size_t len;
	if (zs_gzip(in, n, 1, &gz, &len) != 0) /* level 1: answers are made on the request path */
		return -1;
	evbuffer_add(out, gz, len);
	free(gz);
	return 0;
}

void zs_hio_send_error(struct evhttp_request *req, int http, const char *code,
                       const char *param, const char *msg);

const char *zs_hio_reason(int status)
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

const char *zs_hio_request_lang(struct evhttp_request *req);

/* Errors carry, besides the developer's message, a plain text for the consumer in the
 * request's language from the phrase catalogue: error.text. */
void zs_hio_error_text(json_t *body, const char *lang)
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
void zs_hio_render(json_t *body, zs_reader *rd, int status, int public_cache, int precompress,
                   zs_rendered *r)
{
	memset(r, 0, sizeof *r);
	/* the reader's writer splices the snapshot's frozen values (zs_jsonw.h): same bytes */
	if (rd) {
		r->body = zs_api_dump(rd, body, &r->len);
		r->body_big = r->body != NULL;
	} else {
		r->body = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
		r->len = r->body ? strlen(r->body) : 0;
	}
	r->status = status;
	r->public_cache = public_cache;
	if (!r->body) {
		r->body = strdup("{\"error\":{\"code\":\"unavailable\",\"message\":\"encoding failed\"}}");
		r->len = r->body ? strlen(r->body) : 0;
		r->status = 503;
	}
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

/* A malloc'ed copy of the text of an entry that dropped it for its file (read back with
 * pread), or NULL (out of memory, or the read failed). */
static char *read_back(const zs_rentry *e)
{
	char *text = malloc(e->r.len ? e->r.len : 1);
	if (text && zs_pread_all(e->file_fd, text, e->r.len) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* e's body compressed at level into *gz (malloc'ed), 0; or -1. */
static int entry_gzip(const zs_rentry *e, int level, unsigned char **gz, size_t *len)
{
	/* an entry that dropped its text for its file (zs_rcache_attach_file): read it back */
	char *text = e->r.body ? NULL : read_back(e);
	if (!e->r.body && !text)
		return -1;
	int rc = zs_gzip(text ? text : e->r.body, e->r.len, level, gz, len);
	free(text);
	return rc;
}

void zs_hio_ensure_gz(zs_rcache *c, zs_rentry *e, int gzip)
{
	unsigned char *gz;
	size_t len;
	if (!gzip || e->r.len <= 256)
		return;
	if (!__atomic_load_n(&e->r.gz, __ATOMIC_ACQUIRE)) {
		if (entry_gzip(e, 1, &gz, &len) == 0 && !zs_rcache_attach_gz(c, e, (char *)gz, len))
			free(gz);
		return;
	}
	/* asked for often: the smaller form, once (the thread that counts to the mark makes it;
	 * if that fails, or is not smaller, the entry keeps its first form for good) */
	if (__atomic_load_n(&e->r.gzb, __ATOMIC_ACQUIRE) ||
	    __atomic_add_fetch(&e->gz_sends, 1, __ATOMIC_RELAXED) != ZS_HIO_GZ_BEST_AFTER)
		return;
	if (entry_gzip(e, ZS_HIO_GZ_BEST_LEVEL, &gz, &len) != 0)
		return;
	if (len >= e->r.gzlen || !zs_rcache_attach_gz_best(c, e, (char *)gz, len))
		free(gz);
}

/* Answer files held (each one descriptor until its last send is done) and their bound. */
static _Atomic long files_held;
static long files_cap(void)
{
	static _Atomic long cap = -1;
	long c = atomic_load(&cap);
	if (c < 0) {
		struct rlimit rl;
		c = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
		        ? (long)(rl.rlim_cur / 4) : 1024;
		if (c > 8192)
			c = 8192;
		atomic_store(&cap, c);
	}
	return c;
}

static void file_gone(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
	(void)seg;
	(void)flags;
	(void)arg;
	atomic_fetch_sub(&files_held, 1);
}

/* the entry's reference; answers being sent hold their own (libevent counts them) */
static void file_release(void *file)
{
	evbuffer_file_segment_free(file);
}

void zs_hio_ensure_file(zs_rcache *c, zs_rentry *e, struct evhttp_request *req, int gzip)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	/* only for an answer whose body goes out now: not HEAD, gzip or a revalidation (304) */
	if (gzip || e->r.len < ZS_HIO_FILE_MIN || __atomic_load_n(&e->file, __ATOMIC_ACQUIRE) ||
	    evhttp_request_get_command(req) == EVHTTP_REQ_HEAD ||
	    evhttp_find_header(in, "If-None-Match"))
		return;
	if (atomic_fetch_add(&files_held, 1) >= files_cap()) {
		atomic_fetch_sub(&files_held, 1);
		return;
	}
	int fd = memfd_create("zs-answer", MFD_CLOEXEC);
	size_t done = 0;
	while (fd >= 0 && done < e->r.len) {
		ssize_t w = write(fd, e->r.body + done, e->r.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	struct evbuffer_file_segment *seg =
	        fd >= 0 && done == e->r.len
	                ? evbuffer_file_segment_new(fd, 0, (ev_off_t)done, EVBUF_FS_CLOSE_ON_FREE)
	                : NULL;
	if (!seg) {
		if (fd >= 0)
			close(fd);
		atomic_fetch_sub(&files_held, 1);
		return;
	}
	evbuffer_file_segment_add_cleanup_cb(seg, file_gone, NULL);
	if (!zs_rcache_attach_file(c, e, seg, fd, done, file_release))
		evbuffer_file_segment_free(seg);
}

static void entry_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	zs_rentry_release(arg);
}

static void big_cleanup(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	zs_big_free((void *)(uintptr_t)data);
}

static void heap_cleanup(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

/* Add bytes of a cached entry by reference (the entry stays alive until evhttp has sent
 * them); without an entry, or when that fails, copied. */
static void add_entry_bytes(struct evbuffer *out, const char *p, size_t n, zs_rentry *e)
{
	if (e) {
		zs_rentry_ref(e);
		if (evbuffer_add_reference(out, p, n, entry_cleanup, e) == 0)
			return;
		zs_rentry_release(e);
	}
	evbuffer_add(out, p, n);
}

/* The length of the cache file an answer of this thread went out with as its body (0: none),
 * set by zs_hio_send_rendered; taken by zs_hio_take_file_added. */
static __thread size_t file_added;

size_t zs_hio_take_file_added(void)
{
	size_t v = file_added;
	file_added = 0;
	return v;
}

/* Add r's body without copying it: a cached entry's from its file (sendfile) or by reference;
 * without an entry the body itself is handed over (r->body is NULL after; the reply frees it
 * once sent). Returns 1 (from the entry's file), 0 (otherwise), or -1 when nothing could be
 * added (an entry without its text, whose file could not be added or read: out of memory). */
static int add_body(struct evbuffer *out, zs_rendered *r, zs_rentry *e)
{
	struct evbuffer_file_segment *seg = e ? __atomic_load_n(&e->file, __ATOMIC_ACQUIRE) : NULL;
	if (seg && r == &e->r) {
		/* sendfile(2) once it reaches the connection's buffer: libevent does that for a
		 * segment added to a buffer that drains to a descriptor */
		evbuffer_set_flags(out, EVBUFFER_FLAG_DRAINS_TO_FD);
		if (evbuffer_add_file_segment(out, seg, 0, (ev_off_t)r->len) == 0)
			return 1;
	}
	if (!r->body && seg) { /* the entry dropped its text: read it back from the file */
		char *text = read_back(e);
		if (text && evbuffer_add_reference(out, text, r->len, heap_cleanup, NULL) == 0)
			return 0;
		free(text);
	}
	if (!r->body)
		return -1;
	if (!e && evbuffer_add_reference(out, r->body, r->len,
	                                 r->body_big ? big_cleanup : heap_cleanup, NULL) == 0) {
		r->body = NULL;
		return 0;
	}
	add_entry_bytes(out, r->body, r->len, e);
	return 0;
}

typedef struct {
	const char *name, *value;
} hdr;

/* Append one output header as evhttp_add_header would, without its checks (our own names and
 * values, no line breaks). key and val are malloc'ed: evhttp frees them with the request.
 * -1 (nothing added, key and val freed) when out of memory. */
static int add_entry(struct evkeyvalq *oh, char *key, char *val)
{
	struct evkeyval *kv = key && val ? malloc(sizeof *kv) : NULL;
	if (!kv) {
		free(key);
		free(val);
		return -1;
	}
	kv->key = key;
	kv->value = val;
	/* TAILQ_INSERT_TAIL (event2/keyvalq_struct.h) */
	kv->next.tqe_next = NULL;
	kv->next.tqe_prev = oh->tqh_last;
	*oh->tqh_last = kv;
	oh->tqh_last = &kv->next.tqe_next;
	return 0;
}

/* The Date header's value (RFC 9110 5.6.7, IMF-fixdate), made once a second per thread: the
 * same text evhttp makes for every answer with two printfs of its own. */
static const char *http_date(void)
{
	static _Thread_local char text[32];
	static _Thread_local time_t made = -1;
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	if (now != made && gmtime_r(&now, &tm)) {
		snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		         tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		         tm.tm_sec);
		made = now;
	}
	return text;
}

/* Give evhttp the headers h[0..n) of an answer. evhttp writes each output header with a
 * printf of its own, after three allocations to add it: for an answer from the cache, its
 * dozen headers cost more than sending its bytes. So they go in as one header whose value
 * holds the others, each on a line of its own: the bytes on the wire are those of the n
 * headers. Every name and value here is our own and holds no line break (zs_deps.h keys,
 * hex ETags, constants). evhttp looks for Date, Content-Type and Content-Length by name to
 * add its own when they are missing: h[0] is Date (the block's name), Content-Type goes
 * inside the block (the servers make no default one: evhttp_set_default_content_type NULL),
 * Content-Length is a header of its own (zs_hio_send_rendered). */
static void add_headers(struct evkeyvalq *oh, const hdr *h, size_t n)
{
	size_t lens[2 * 16], len = 0;
	for (size_t i = 0; i < n; i++) {
		lens[2 * i] = strlen(h[i].name);
		lens[2 * i + 1] = strlen(h[i].value);
		len += lens[2 * i + 1] + (i ? 2 + lens[2 * i] + 2 : 0);
	}
	char *val = malloc(len + 1);
	if (!val) {
		for (size_t i = 0; i < n; i++)
			evhttp_add_header(oh, h[i].name, h[i].value);
		return;
	}
	char *w = val;
	for (size_t i = 0; i < n; i++) {
		if (i) { /* "\r\nName: value" */
			memcpy(w, "\r\n", 2);
			memcpy(w + 2, h[i].name, lens[2 * i]);
			memcpy(w + 2 + lens[2 * i], ": ", 2);
			w += 2 + lens[2 * i] + 2;
		}
		memcpy(w, h[i].value, lens[2 * i + 1]);
		w += lens[2 * i + 1];
	}
	*w = 0;
	if (add_entry(oh, strdup(h[0].name), val) != 0)
		for (size_t i = 0; i < n; i++)
			evhttp_add_header(oh, h[i].name, h[i].value);
}

/* Content-Length: n, without evhttp's printf. */
static void add_length(struct evkeyvalq *oh, size_t n)
{
	char digits[ZS_LL_TEXT];
	const char *d = zs_ll_text((long long)n, digits);
	if (add_entry(oh, strdup("Content-Length"), strdup(d)) != 0)
		evhttp_add_header(oh, "Content-Length", d);
}

/* Send a rendered answer; e: the cache entry it belongs to (or NULL: then the body may be
 * handed to the reply, r->body NULL after; the caller still frees r with zs_rendered_free);
 * surrogate: the dependency keys of a public answer (Surrogate-Key / xkey, for a cache tier),
 * or NULL. */
void zs_hio_send_rendered(struct evhttp_request *req, zs_rendered *r, zs_rentry *e,
                          const char *surrogate, const char *cache_state, int gzip)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	hdr h[16];
	size_t n = 0;
	/* a staff answer came with its own "private, no-store" (zs_http_on_request, zs_hio_send_error) */
	int own_cc = evhttp_find_header(oh, "Cache-Control") != NULL;
	h[n++] = (hdr){ "Date", http_date() };
	h[n++] = (hdr){ "Content-Type", "application/json; charset=utf-8" };
	if (cache_state)
		h[n++] = (hdr){ "X-Zorgstatus-Cache", cache_state };
	h[n++] = (hdr){ "Vary", "Accept-Encoding, Accept-Language" };
	h[n++] = (hdr){ "X-Content-Type-Options", "nosniff" };
	if (r->public_cache) {
		h[n++] = (hdr){ "Access-Control-Allow-Origin", "*" };
		h[n++] = (hdr){ "Access-Control-Expose-Headers", "ETag" };
		if (surrogate && *surrogate) {
			h[n++] = (hdr){ "Surrogate-Key", surrogate };
			h[n++] = (hdr){ "xkey", surrogate };
		}
	}
	if (r->status == 200) {
		h[n++] = (hdr){ "ETag", r->etag };
		if (!own_cc)
			h[n++] = (hdr){ "Cache-Control", r->public_cache ? "public, max-age=60" : "no-cache" };
		const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
		                                     "If-None-Match");
		if (inm && (strstr(inm, r->etag) || strcmp(inm, "*") == 0)) {
			/* no body, so no Content-Type (RFC 9110 15.4.5; docs/openapi.json): Date
			 * takes its place, and the block starts one later */
			h[1] = h[0];
			add_headers(oh, h + 1, n - 1);
			evhttp_send_reply(req, 304, zs_hio_reason(304), NULL);
			return;
		}
	} else if (!own_cc) {
		h[n++] = (hdr){ "Cache-Control", "no-store" };
	}
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD, added = 0;
	/* may come later (attach_gz, attach_gz_best); the smaller one when there are both */
	const char *gz = __atomic_load_n(&r->gzb, __ATOMIC_ACQUIRE);
	size_t gzlen = gz ? r->gzblen : 0;
	if (!gz && (gz = __atomic_load_n(&r->gz, __ATOMIC_ACQUIRE)))
		gzlen = r->gzlen;
	if (r->len > 256 && gzip) {
		if (gz) {
			add_entry_bytes(out, gz, gzlen, e);
			h[n++] = (hdr){ "Content-Encoding", "gzip" };
		} else if (r->body && gzip_buf(r->body, r->len, out) == 0) {
			h[n++] = (hdr){ "Content-Encoding", "gzip" };
		} else {
			evbuffer_drain(out, evbuffer_get_length(out));
			added = add_body(out, r, e);
		}
	} else {
		added = add_body(out, r, e);
	}
	if (added == 1 && !head) {
		zs_metrics_file_answer();
		file_added = r->len; /* (HEAD: its body is not sent) */
	}
	if (added < 0) {
		evbuffer_free(out);
		zs_hio_send_error(req, 503, "unavailable", NULL, "temporarily unable to answer");
		return;
	}
	add_headers(oh, h, n);
	add_length(oh, evbuffer_get_length(out)); /* HEAD: the GET answer's */
	if (head) { /* the headers of the GET answer, no body */
		evhttp_send_reply(req, r->status, zs_hio_reason(r->status), NULL);
	} else {
		evhttp_send_reply(req, r->status, zs_hio_reason(r->status), out);
	}
	evbuffer_free(out);
}

/* evhttp_parse_query_str() on the query without its empty pairs: "q=abc&&" is "q=abc&" and
 * "&year=2027" is "year=2027" (docs/api.md, Query strings).  A pair without '=' still fails.
 * Returns 0, or -1 (nothing added to *q) when the query cannot be decoded. */
int zs_hio_parse_query(const char *query, struct evkeyvalq *q)
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

void zs_hio_send_json(struct evhttp_request *req, int status, json_t *body, int public_cache)
{
	zs_rendered r;
	zs_hio_render(body, NULL, status, public_cache, 0, &r);
	zs_hio_send_rendered(req, &r, NULL, NULL, NULL, zs_hio_accepts_gzip(req));
	zs_rendered_free(&r);
}

int zs_http_staff_path(const char *path);

void zs_hio_send_error(struct evhttp_request *req, int http, const char *code,
                       const char *param, const char *msg)
{
	int status;
	json_t *e = zs_api_error(&status, http, code, param, "%s", msg);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	int staff = zs_http_staff_path(u ? evhttp_uri_get_path(u) : NULL); /* no CORS, private */
	if (staff)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
		                  "private, no-store");
	zs_hio_error_text(e, zs_hio_request_lang(req));
	zs_hio_send_json(req, status, e, !staff);
	json_decref(e);
}

/* ---- request handling -------------------------------------------------------------------- */

const char *zs_hio_pick_lang(struct evhttp_request *req, const char *qlang);

/* The language of a request for an error raised before the parameters were parsed. */
const char *zs_hio_request_lang(struct evhttp_request *req)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *query = u ? evhttp_uri_get_query(u) : NULL;
	if (query && (strstr(query, "lang=en")))
		return "en";
	const char *l = zs_hio_pick_lang(req, NULL);
	return l ? l : "nl";
}

const char *zs_hio_pick_lang(struct evhttp_request *req, const char *qlang)
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
int zs_hio_staff_ok(struct evhttp_request *req, zs_staff_who *who, long *retry_after)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	char *host = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	if (conn)
		evhttp_connection_get_peer(conn, &host, &port);
	return zs_staff_auth(auth, host, who, retry_after);
}
