/* zs_static.c - static files for the widget (see zs_static.h). */
#include "config.h"
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "zs_static.h"

static const struct { const char *ext, *type; } types[] = {
	{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
	{ ".json", "application/json; charset=utf-8" }, { ".png", "image/png" },
	{ ".ico", "image/x-icon" },              { ".txt", "text/plain; charset=utf-8" },
};

static void not_found(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json; charset=utf-8");
	if (b)
		evbuffer_add_printf(b, "{\"error\":{\"code\":\"not_found\",\"message\":"
		                       "\"no such page\",\"text\":\"Deze pagina bestaat niet.\"}}");
	evhttp_send_reply(req, 404, "Not Found", b);
	if (b)
		evbuffer_free(b);
}

void zs_static_serve(struct evhttp_request *req, const char *dir, const char *rel)
{
	const char *type = NULL;
	size_t n = strlen(rel);
	if (!dir || !*dir || n == 0 || n > 200 || rel[0] == '/' || strstr(rel, "..")) {
		not_found(req);
		return;
	}
	for (const char *p = rel; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-' && *p != '/') {
			not_found(req);
			return;
		}
	for (size_t i = 0; i < sizeof types / sizeof types[0] && !type; i++) {
		size_t el = strlen(types[i].ext);
		if (n > el && strcmp(rel + n - el, types[i].ext) == 0)
			type = types[i].type;
	}
	char path[4400];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	FILE *f = type ? fopen(path, "rb") : NULL;
	if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (16 << 20)) {
		if (f)
			fclose(f);
		not_found(req);
		return;
	}
	char *data = malloc((size_t)sb.st_size + 1);
	size_t got = data ? fread(data, 1, (size_t)sb.st_size, f) : 0;
	fclose(f);
	if (!data || got != (size_t)sb.st_size) {
		free(data);
		not_found(req);
		return;
	}
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < got; i++) {
		h ^= (unsigned char)data[i];
		h *= 1099511628211ULL;
	}
	char etag[24];
	snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)h);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Content-Type", type);
	evhttp_add_header(oh, "ETag", etag);
	evhttp_add_header(oh, "Cache-Control", "public, max-age=300");
	evhttp_add_header(oh, "Access-Control-Allow-Origin", "*");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	if (inm && strstr(inm, etag)) {
		free(data);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (b) {
		if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
			char cl[32];
			snprintf(cl, sizeof cl, "%zu", got);
			evhttp_add_header(oh, "Content-Length", cl);
			evhttp_send_reply(req, 200, "OK", NULL);
		} else {
			evbuffer_add(b, data, got);
			evhttp_send_reply(req, 200, "OK", b);
		}
		evbuffer_free(b);
	}
	free(data);
}
