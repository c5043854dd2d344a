/* zs_static.h - the static pages of www/ (the consumer widget), served read-only by the
 * HTTP threads under /www/ and at /. */
#ifndef ZS_STATIC_H
#define ZS_STATIC_H
#include <event2/http.h>

/* Serve file 'rel' (below dir) to req: 200 with a content type, ETag and Cache-Control; 304
 * on If-None-Match; 404 (JSON) for anything missing or outside dir (no "..", only
 * [A-Za-z0-9._-/] names, and the file, symbolic links resolved, must lie inside dir resolved).
 * A NUL in the path never gets here: zs_http answers 400. */
void zs_static_serve(struct evhttp_request *req, const char *dir, const char *rel);

#endif
