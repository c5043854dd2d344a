/* zs_http_priv.h - private to the HTTP modules: zs_http.c (routing, request validation,
 * access log and request metrics, the cache path of on_request), zs_http_io.c (languages,
 * staff sign-in, JSON errors, rendering, gzip, sending) and zs_server.c (serving threads,
 * listening sockets, start, drain, stop). */
#ifndef ZS_HTTP_PRIV_H
#define ZS_HTTP_PRIV_H
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
	struct zs_rows *rows;               /* the effective rows in memory (zs_rows.h), or NULL */
};

/* zs_http.c */
void zs_http_register_routes(void);              /* route labels for metrics; idempotent */
void zs_http_thread_begin(serv_thread *t);       /* on a serving thread, before its loop */
void zs_http_on_request(struct evhttp_request *req, void *arg);          /* arg: serv_thread */
void zs_http_on_metrics_request(struct evhttp_request *req, void *arg);  /* arg: zs_config */
int zs_http_staff_path(const char *path);        /* no CORS, private, never cached */

/* zs_http_io.c */
const char *zs_hio_reason(int status);
int zs_hio_accepts_gzip(struct evhttp_request *req);
int zs_hio_gzip_in(const char *accept_encoding); /* the same from the header's value (or NULL) */
const char *zs_hio_pick_lang(struct evhttp_request *req, const char *qlang);
const char *zs_hio_request_lang(struct evhttp_request *req);
int zs_hio_staff_ok(struct evhttp_request *req, zs_staff_who *who, long *retry_after);
int zs_hio_parse_query(const char *query, struct evkeyvalq *q);
void zs_hio_error_text(json_t *body, const char *lang);
/* Render a JSON body (text through rd's writer when rd is given, ETag, gzip when asked). */
void zs_hio_render(json_t *body, zs_reader *rd, int status, int public_cache, int precompress,
                   zs_rendered *r);

/* A cached answer asked for with gzip that was kept without its gzip form (it was made for a
 * client that did not ask): compress it now, once, for every later client (zs_rcache). */
void zs_hio_ensure_gz(struct zs_rcache *c, zs_rentry *e, int gzip); /* gzip: the client takes it */
/* The gzip form made on the request path is level 1 (fast). An answer sent with gzip
 * ZS_HIO_GZ_BEST_AFTER times from the cache is asked for often: it is compressed once more at
 * level 6 (a hospital's 100 KB lookup: 5.6 KB at level 1, 3.7 KB at 6, ~1 ms once), and that
 * smaller form goes out from then on (r.gzb). Called by zs_hio_ensure_gz. */
#define ZS_HIO_GZ_BEST_AFTER 32
#define ZS_HIO_GZ_BEST_LEVEL 6
/* A cached answer of at least ZS_HIO_FILE_MIN bytes found in the cache (hit) for a client
 * without gzip: copy its body once into an anonymous in-memory file (memfd), from which this
 * and every later identity answer is sent with sendfile(2): the kernel does not copy the body
 * into the socket (nginx's `sendfile on`). The entry then drops its text (zs_rcache_attach_file).
 * At most a quarter of the descriptors the process may open (8,192 at most) are such files;
 * past that, or when anything fails, the body goes out by reference as before. */
#define ZS_HIO_FILE_MIN (32 * 1024)
void zs_hio_ensure_file(struct zs_rcache *c, zs_rentry *e, struct evhttp_request *req, int gzip);
/* The length of the cache file an answer made on this thread since the last call has as its
 * body, 0 when none (it goes out as two writes, the headers then the file: zs_http.c
 * write_now); clears it. */
size_t zs_hio_take_file_added(void);
/* Send r; e: the cache entry it belongs to (its bytes go out from its file or by reference),
 * or NULL; surrogate: the answer's dependency keys for a cache tier, or NULL; cache_state: the
 * X-Zorgstatus-Cache value to send with the other headers, or NULL; gzip: the client takes
 * gzip (zs_hio_accepts_gzip). */
void zs_hio_send_rendered(struct evhttp_request *req, zs_rendered *r, zs_rentry *e,
                          const char *surrogate, const char *cache_state, int gzip);
void zs_hio_send_json(struct evhttp_request *req, int status, json_t *body, int public_cache);
void zs_hio_send_error(struct evhttp_request *req, int http, const char *code,
                       const char *param, const char *msg);

#endif
