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
#include "zs_util.h"

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

/* The client accepts gzip: "gzip" in Accept-Encoding and not refused with q=0. */
static int wants_gzip(struct evhttp_request *req)
{
	const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");
	const char *g = ae ? strcasestr(ae, "gzip") : NULL;
	if (!g)
		return 0;
	const char *semi = strchr(g, ';'), *comma = strchr(g, ',');
	if (semi && (!comma || semi < comma)) {
		const char *q = semi + 1;
		while (*q == ' ')
			q++;
		if (strncmp(q, "q=0", 3) == 0) {
			q += 3;
			if (*q == '.')
				q += 1 + strspn(q + 1, "0");
			if (*q == 0 || *q == ',' || *q == ' ' || *q == ';')
				return 0;
		}
	}
	return 1;
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
	/* No symbolic link may lead out of www_dir: the resolved file must lie inside the
	 * resolved directory. The resolved name is what gets opened. */
	char *real_dir = type ? realpath(dir, NULL) : NULL;
	char *real = real_dir ? realpath(path, NULL) : NULL;
	size_t dl = real_dir ? strlen(real_dir) : 0;
	int inside = real && strncmp(real, real_dir, dl) == 0 &&
	             (real[dl] == '/' || (dl == 1 && real_dir[0] == '/'));
	FILE *f = inside ? fopen(real, "rb") : NULL;
	free(real_dir);
	free(real);
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
	/* Text files go gzip-compressed to clients that accept it (widget.js: 45 KB -> ~12 KB);
	 * each representation has its own ETag, and caches keep them apart (Vary). */
	unsigned char *gz = NULL;
	size_t gzlen = 0;
	int textual = strncmp(type, "text/", 5) == 0 || strstr(type, "json") || strstr(type, "svg");
	int want_gz = textual && got > 256 && wants_gzip(req);
	char etag[32];
	snprintf(etag, sizeof etag, "\"%016llx%s\"", (unsigned long long)h, want_gz ? "-gz" : "");
	/* a revalidation that matches costs no compression (widget.js is fetched again on every
	 * embedding page once its max-age has passed) */
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	int revalidated = inm && strstr(inm, etag);
	if (want_gz && !revalidated && (zs_gzip(data, got, 6, &gz, &gzlen) || gzlen >= got)) {
		free(gz); /* no gain (or no memory): the plain file, under its plain ETag */
		gz = NULL;
		snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)h);
	}
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Content-Type", type);
	evhttp_add_header(oh, "ETag", etag);
	evhttp_add_header(oh, "Cache-Control", "public, max-age=300");
	if (textual)
		evhttp_add_header(oh, "Vary", "Accept-Encoding");
	if (gz) {
		evhttp_add_header(oh, "Content-Encoding", "gzip");
		free(data);
		data = (char *)gz;
		got = gzlen;
	}
	evhttp_add_header(oh, "Access-Control-Allow-Origin", "*");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
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
