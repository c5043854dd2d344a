/* zs_params.c - API errors and the parameters every handler shares (year and its
 * publication, amount, care type, in_treatment, AGB codes). */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "zs_api.h"
#include "zs_api_priv.h"
#include "zs_catalogue.h"
#include "zs_compact.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_jsonw.h"
#include "zs_deps.h"
#include "zs_embedded.h"
#include "zs_similar.h"
#include "zs_feed.h"
#include "zs_fresh.h"
#include "zs_time.h"
#include "zs_types.h"
#include "zs_worker.h"
#include "zs_util.h"

/* ---- errors and parameters --------------------------------------------------------------- */

json_t *zs_api_error(int *status, int http, const char *code, const char *parameter,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*status = http;
	/* jansson refuses invalid UTF-8 (a %.Ns cut mid-character, bytes from a request): the
	 * error must still have a body, so such text is escaped, never dropped. */
	char safe[sizeof msg * 2], psafe[256];
	if (!zs_utf8_valid(msg, strlen(msg)))
		zs_escape_text(msg, strlen(msg), safe, sizeof safe, sizeof safe);
	else
		snprintf(safe, sizeof safe, "%s", msg);
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", safe);
	if (e && parameter)
		json_object_set_new(e, "parameter", json_string(
		        zs_utf8_valid(parameter, strlen(parameter)) ? parameter
		        : zs_escape_text(parameter, strlen(parameter), psafe, sizeof psafe, 200)));
	return e ? json_pack("{s:o}", "error", e) : NULL;
}

const char *zs_param(const zs_request *req, const char *key)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value;
	return NULL;
}

/* year parameter: 0 absent, 1 ok, -1 bad (error body set in *err). */
int zs_param_year(const zs_request *req, int *year, json_t **err, int *status)
{
	const char *v = zs_param(req, "year");
	char *end;
	if (!v)
		return 0;
	errno = 0;
	long y = strtol(v, &end, 10);
	if (errno || end == v || *end || y < 2000 || y > 2100) {
		*err = zs_api_error(status, 400, "bad_parameter", "year",
		                    "year: must be a contract year from 2000 to 2100");
		return -1;
	}
	*year = (int)y;
	return 1;
}

json_t *zs_not_published(int *status, int year)
{
	char when[32];
	time_t t = zs_publication_time(year);
	json_t *e = zs_api_error(status, 404, "not_yet_published", "year",
	                         "De contractstatus voor %d wordt gepubliceerd vanaf 12 november %d. "
	                         "/ Contract statuses for %d are published from 12 November %d.",
	                         year, year - 1, year, year - 1);
	json_object_set_new(json_object_get(e, "error"), "published_from",
	                    json_string(zs_fmt_utc(t, when, sizeof when)));
	json_object_set_new(json_object_get(e, "error"), "year", json_integer(year));
	return e;
}

/* The contract year a request is about: ?year, else the current year; an error body (caller
 * returns it) when the parameter is malformed or the year is not published yet, else NULL. */
json_t *zs_request_year(const zs_request *req, int *year, int *status)
{
	json_t *err = NULL;
	*year = 0;
	int given = zs_param_year(req, year, &err, status);
	if (given < 0)
		return err;
	if (!given)
		*year = zs_current_year(req->now);
	if (!zs_year_published(*year, req->now))
		return zs_not_published(status, *year);
	return NULL;
}

/* amount in euros ("8000", "8000.5", "8000,50") -> cents; -1 absent; -2 bad. */
long long zs_param_amount(const zs_request *req)
{
	const char *v = zs_param(req, "amount");
	if (!v)
		return -1;
	char buf[32];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof buf)
		return -2;
	memcpy(buf, v, n + 1);
	char *comma = strchr(buf, ',');
	if (comma)
		*comma = '.';
	long long euros = 0, cents = 0;
	const char *p = buf;
	int digits = 0;
	while (isdigit((unsigned char)*p) && digits < 10) {
		euros = euros * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits)
		return -2;
	if (*p == '.') {
		p++;
		int k = 0;
		while (isdigit((unsigned char)*p) && k < 2) {
			cents = cents * 10 + (*p++ - '0');
			k++;
		}
		if (k == 1)
			cents *= 10;
		if (k == 0)
			return -2;
	}
	if (*p)
		return -2;
	return euros * 100 + cents;
}

int zs_check_agb(const char *agb, json_t **err, int *status)
{
	if (!zs_valid_agb(agb)) {
		*err = zs_api_error(status, 400, "bad_parameter", "agb",
		                    "agb: an AGB code is 8 digits, e.g. 06010101");
		return -1;
	}
	return 0;
}

int zs_check_common(const zs_request *req, long long *amount, json_t **err, int *status)
{
	*amount = zs_param_amount(req);
	if (*amount == -2) {
		*err = zs_api_error(status, 400, "bad_parameter", "amount",
		                    "amount: an amount in euros, e.g. 8000 or 8000.50");
		return -1;
	}
	const char *ct = zs_param(req, "care_type");
	if (ct && !zs_care_type_find(ct)) {
		*err = zs_api_error(status, 400, "bad_parameter", "care_type",
		                    "care_type: unknown care type \"%.40s\"", ct);
		return -1;
	}
	const char *it = zs_param(req, "in_treatment");
	if (it && strcmp(it, "true") && strcmp(it, "false")) {
		*err = zs_api_error(status, 400, "bad_parameter", "in_treatment",
		                    "in_treatment: true or false");
		return -1;
	}
	const char *sit = zs_param(req, "situation");
	if (sit && strcmp(sit, "acute") && strcmp(sit, "planned")) {
		*err = zs_api_error(status, 400, "bad_parameter", "situation",
		                    "situation: acute or planned");
		return -1;
	}
	return 0;
}
