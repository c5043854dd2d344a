/* zs_http.h - the HTTP front: N serving threads, each with its own event base, evhttp and
 * zs_reader, sharing the port through SO_REUSEPORT. Routing, JSON errors, ETag/304, gzip,
 * CORS and limits live here; answers come from the zs_api functions. */
#ifndef ZS_HTTP_H
#define ZS_HTTP_H
#include <stddef.h>
#include "zs_config.h"

typedef struct zs_http zs_http;

/* Bind and start the serving threads. cfg must outlive the server. NULL with err on failure
 * (the message names the address). */
zs_http *zs_http_start(const zs_config *cfg, char *err, size_t errlen);
/* Stop every thread, wait for them, free. */
void zs_http_stop(zs_http *h);

#endif
