/* zs_labels.c - GET /v1/labels (display names for every code the API answers with) and
 * GET /v1/ (the list of endpoints).
 *
 * Labels come from the phrase catalogue (data/phrases.json, keys "label.<family>.<code>" and
 * "presentation.<code>"), so a comparison site need not write and translate its own table.
 * Both answers are constant for a given binary: they read no snapshot. Every returned object is
 * new (the caller owns it, json_decref).
 */
#include "config.h"
#include <string.h>
#include "zs_api.h"
#include "zs_api_priv.h"
#include "zs_consequence.h"

/* The label families, in the order of the answer (docs/api.md "Labels"). */
static const char *const families[] = {
	"care_type", "status", "basis", "policy_type", "provider_kind", "reimbursement_basis",
	"consequence", "warning", "exception", "source_kind", "level", "situation", "stop_reason",
};

json_t *zs_api_labels(zs_reader *r, const zs_request *req, int *status)
{
	(void)r;
	const char *ql = zs_param(req, "lang");
	if (ql && strcmp(ql, "nl") && strcmp(ql, "en"))
		return zs_api_error(status, 400, "bad_parameter", "lang", "lang: nl or en");
	const char *lang = ql ? ql : req->lang;
	json_t *o = json_pack("{s:s}", "lang", lang);
	if (!o)
		return zs_api_error(status, 503, "unavailable", NULL, "out of memory");
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "label.%s.", families[i]);
		json_t *f = zs_phrases_family(prefix, lang);
		if (!f || json_object_set_new(o, families[i], f)) {
			json_decref(o);
			return zs_api_error(status, 503, "unavailable", NULL, "the phrase catalogue is missing");
		}
	}
	/* the one visual state of a consequence (consequence.presentation) */
	json_t *p = zs_phrases_family("presentation.", lang);
	if (!p || json_object_set_new(o, "presentation", p)) {
		json_decref(o);
		return zs_api_error(status, 503, "unavailable", NULL, "the phrase catalogue is missing");
	}
	*status = 200;
	return o;
}

/* The endpoints a consumer may call (the staff ones say so). */
static const struct {
	const char *path, *summary;
	int staff;
} endpoints[] = {
	{ "/v1/providers/{agb}", "statuses of one provider for every policy, current and next year", 0 },
	{ "/v1/status", "status of one provider for one policy (?agb=&policy=)", 0 },
	{ "/v1/search", "find providers by name, place, postcode or AGB code (?q=)", 0 },
	{ "/v1/policies", "the policies of a year", 0 },
	{ "/v1/policies/{id}/similar", "policies equal or very similar to one policy", 0 },
	{ "/v1/compare", "compare policies for up to 50 providers (?agb=A,B,C; detail=full for every status object)", 0 },
	{ "/v1/changes", "changes of published statuses after a cursor (?since=)", 0 },
	{ "/v1/labels", "display names of every code (?lang=nl|en)", 0 },
	{ "/v1/feeds", "the feeds and their freshness", 0 },
	{ "/v1/openapi.json", "this API described in OpenAPI", 0 },
	{ "/v1/providers/{agb}/history", "what was shown when (staff only)", 1 },
	{ "/v1/staff/providers/{agb}", "a provider with the statements behind every status, or as shown at a moment (?at=)", 1 },
	{ "/v1/staff/feeds", "the feeds' health with row errors", 1 },
	{ "/v1/staff/audit", "who looked up which provider when (role admin)", 1 },
	{ "/v1/staff/me", "the staff account of the token", 1 },
	{ "/v1/subscribers", "webhook delivery and cache purge state", 1 },
	{ "/healthz", "liveness", 0 },
	{ "/readyz", "readiness", 0 },
};

json_t *zs_api_index(zs_reader *r, const zs_request *req, int *status)
{
	(void)r;
	(void)req;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < sizeof endpoints / sizeof endpoints[0]; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "path", endpoints[i].path,
		                                     "summary", endpoints[i].summary, "staff",
		                                     endpoints[i].staff));
	json_t *o = json_pack("{s:s, s:o?, s:{s:s, s:s}}", "api", "zorgstatus v1", "endpoints", arr,
	                      "links", "openapi", "/v1/openapi.json", "widget", "/www/");
	if (!o)
		return zs_api_error(status, 503, "unavailable", NULL, "out of memory");
	*status = 200;
	return o;
}
