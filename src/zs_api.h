/* zs_api.h - the API v1 as plain functions: parsed parameters in, JSON out. No HTTP here
 * (zs_http.c maps requests onto these). Each serving thread owns one zs_reader. */
#ifndef ZS_API_H
#define ZS_API_H
#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "zs_config.h"

typedef struct zs_reader zs_reader;

/* Open a reader (own read-only connection, prepared statements, per-snapshot caches).
 * cfg must outlive it. NULL with err on failure. Close with zs_reader_close. */
zs_reader *zs_reader_open(const zs_config *cfg, char *err, size_t errlen);
void zs_reader_close(zs_reader *r);

typedef struct {
	const char *key;
	const char *value;
} zs_kv;

typedef struct {
	const zs_kv *params;     /* decoded query parameters */
	size_t nparams;
	const char *path_arg;    /* the {agb} / {id} of the path, or NULL */
	const char *lang;        /* "nl" or "en" */
	time_t now;              /* the daemon clock */
	int staff;               /* authenticated staff request */
} zs_request;

/* Every handler returns a new JSON object (caller decrefs) and sets *status (200, 400, 404...).
 * Error bodies: {"error":{"code","message","parameter"?}}. */
typedef json_t *(*zs_handler)(zs_reader *r, const zs_request *req, int *status);

json_t *zs_api_health(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_provider(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_provider_history(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_status(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_policies(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_feeds(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_openapi(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_policy_similar(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_search(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_compare(zs_reader *r, const zs_request *req, int *status);

/* Build an error body; parameter may be NULL. */
json_t *zs_api_error(int *status, int http, const char *code, const char *parameter,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Query parameter lookup: NULL if absent. */
const char *zs_param(const zs_request *req, const char *key);

#endif
