/* zs_http.h - the HTTP front: N serving threads, each with its own event base, evhttp and
 * zs_reader, sharing the port through SO_REUSEPORT (an address another process listens on is
 * refused). Routing, JSON errors, ETag/304, gzip,
 * CORS and limits live here; answers come from the zs_api functions. */
#ifndef ZS_HTTP_H
#define ZS_HTTP_H
#include <stddef.h>
#include "zs_config.h"

typedef struct zs_http zs_http;

/* Bind and start the serving threads. cfg must outlive the server. NULL with err on failure
 * (the message names the address). */
zs_http *zs_http_start(const zs_config *cfg, char *err, size_t errlen);
/* SIGTERM: stop accepting connections, then wait up to timeout_s seconds until every answer
 * handed to a connection has been written out. Returns how many were left (0: all done). */
int zs_http_drain(zs_http *h, long timeout_s);
/* Stop every thread, wait for them, free. */
void zs_http_stop(zs_http *h);

/* For fuzzers and tests: the router, checks and handlers of one serving thread, without a
 * thread or a response cache. It accepts on listen_fd (a listening socket, owned by it from
 * then on) on the caller's event base, which the caller runs; reader and staff_token stay the
 * caller's and must outlive it. NULL on failure. Free with zs_http_local_free (before the
 * base). */
typedef struct zs_http_local zs_http_local;
struct event_base;
struct zs_reader;
zs_http_local *zs_http_local_new(const zs_config *cfg, struct event_base *base,
                                 struct zs_reader *reader, const char *staff_token,
                                 int listen_fd);
void zs_http_local_free(zs_http_local *l);

#endif
