/* zs_api.h - the API v1 as plain functions: parsed parameters in, JSON out. No HTTP here
 * (zs_http.c maps requests onto these). Each serving thread owns one zs_reader. */
#ifndef ZS_API_H
#define ZS_API_H
#include <stddef.h>
#include <stdint.h>
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
	const char *staff_name;  /* the staff account's name (zs_staff.h), or NULL */
	int staff_admin;         /* the staff account has role admin */
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
/* zs_labels.c: GET /v1/labels (display names from the phrase catalogue) and GET /v1/. */
json_t *zs_api_labels(zs_reader *r, const zs_request *req, int *status);
json_t *zs_api_index(zs_reader *r, const zs_request *req, int *status);

/* Call a handler inside one read transaction, so that everything the answer holds comes from
 * one committed snapshot. *snapshot (may be NULL) is set to that snapshot's generation, or -1
 * when the handler answered without reading any (e.g. a bad parameter). deps (may be NULL)
 * receives the dependency keys of the answer (zs_deps.h); none for an answer that read a
 * snapshot means "depends on everything". */
struct zs_deplist;
json_t *zs_api_call(zs_reader *r, zs_handler fn, const zs_request *req, int *status,
                    long long *snapshot, struct zs_deplist *deps);

/* The text of an answer (as json_dumps compact, the snapshot's shared values spliced in from
 * their text made once: zs_jsonw.h), in a zs_big block (zs_big.h): the caller frees it with
 * zs_big_free; NULL on out-of-memory. Every answer of
 * zs_api_call must be dumped (or dropped) before the next call on the same reader. */
char *zs_api_dump(zs_reader *r, const json_t *body, size_t *len);

/* Direct writing (on = 1): the caller promises to use the answers of zs_api_call only through
 * zs_api_dump (never to walk or change the tree). Public lookups and statuses are then written
 * straight from the snapshot's rows into text (zs_status.c), with the same bytes; the tree
 * holds placeholders for their status lists. Off by default (tests walk the trees). */
void zs_reader_set_direct(zs_reader *r, int on);
/* Read the effective rows from rows (zs_rows.h; NULL: from the table) whenever it has the
 * version of the snapshot a call reads. rows must outlive the reader's use of it. */
struct zs_rows;
void zs_reader_set_rows(zs_reader *r, struct zs_rows *rows);
/* Let go of r's rows in memory when they are older than the published snapshot (zs_generation):
 * a serving thread that gets no requests would otherwise keep an old version (the next
 * answer takes the newest). Between answers only, on r's thread. */
void zs_reader_let_go_rows(zs_reader *r);
/* A serving thread's tick between answers (about once a second): ends the read transaction a
 * direct call kept open (zs_api_call), then zs_reader_let_go_rows. On r's thread. */
void zs_reader_idle(zs_reader *r);

/* The hashes of the dependency keys dirtied by generations in (from, to] (zs_deps_dirty on
 * the reader's connection; outside a handler call). */
int zs_api_dirty(zs_reader *r, long long from, long long to, uint64_t **keys, size_t *n,
                 int *all);

/* Build an error body; parameter may be NULL. */
json_t *zs_api_error(int *status, int http, const char *code, const char *parameter,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Query parameter lookup: NULL if absent. */
const char *zs_param(const zs_request *req, const char *key);

#endif
