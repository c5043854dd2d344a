/* zs_fetch.h - one feed transfer through libcurl, for the ingest worker's multi handle
 * (zs_worker.c): set up a job, let the multi handle run its easy handle `c`, then finish it.
 * Failures are recorded on the feed (zs_ingest_fetch_failed) by these functions. */
#ifndef ZS_FETCH_H
#define ZS_FETCH_H
#include <stdatomic.h>
#include <stdio.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include "zs_config.h"

typedef struct {
	FILE *out;
	size_t bytes, cap;
	int too_big;
	char *etag, *lastmod;
	const _Atomic int *stop_flag;
} xfer;

/* One transfer. Owns everything it points to except fc; zs_fetch_job_free releases it. */
typedef struct {
	const zs_feed_conf *fc;
	CURL *c;
	struct curl_slist *hdrs;
	char *cred;
	char *url;              /* the URL fetched now: the feed's, or a redirect followed */
	int hops;               /* redirects followed by hand (same_host) */
	int failures_before;
	xfer x;
	char cerr[CURL_ERROR_SIZE];
} zs_fetch_job;

/* Prepare the transfer of fc into *j. Returns 1 when ready to run; 0 when the attempt has been
 * recorded (could not start); -1 on a database error. */
int zs_fetch_job_setup(sqlite3 *db, const zs_config *cfg, const zs_feed_conf *fc,
                       const _Atomic int *stop_flag, zs_fetch_job *j);

/* A finished transfer (cc: its result). Returns 1 with *body (caller fcloses) and the
 * validators (caller frees) when there is a version to apply; 0 when the attempt has been
 * recorded (failure, 304); 2 when a redirect is to be followed (the job is ready to run
 * again); -1 on a database error. */
int zs_fetch_job_done(sqlite3 *db, const zs_config *cfg, zs_fetch_job *j, CURLcode cc,
                      FILE **body, char **resp_etag, char **resp_lastmod);

/* Release everything the job holds (it may be set up again). */
void zs_fetch_job_free(zs_fetch_job *j);

#endif
