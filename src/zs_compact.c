/* zs_compact.c - compact answer shapes (see zs_compact.h). */
#include "config.h"
#include <string.h>
#include "zs_compact.h"

json_t *zs_compact_check(const zs_request *req, int *status)
{
	const char *t = zs_param(req, "texts"), *d = zs_param(req, "detail");
	if (t && strcmp(t, "full") != 0 && strcmp(t, "none") != 0)
		return zs_api_error(status, 400, "bad_parameter", "texts", "texts: full or none");
	if (d && strcmp(d, "full") != 0 && strcmp(d, "summary") != 0)
		return zs_api_error(status, 400, "bad_parameter", "detail", "detail: summary or full");
	return NULL;
}

/* Consumer texts: every "text" and "headline" member, anywhere (error bodies are not passed
 * here). Codes, numbers, flags, dates and names stay. */
static void strip_texts(json_t *v)
{
	const char *k;
	json_t *x;
	void *tmp;
	size_t i;
	if (json_is_object(v)) {
		json_object_del(v, "text");
		json_object_del(v, "headline");
		json_object_del(v, "deductible_text");
		json_object_foreach_safe(v, tmp, k, x)
			strip_texts(x);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			strip_texts(x);
	}
}

/* compare, summary: per provider and care type only the codes and the percentage. */
static void compare_summary(json_t *body)
{
	size_t i, j, k;
	json_t *pol, *prov, *st;
	json_array_foreach(json_object_get(body, "policies"), i, pol) {
		json_array_foreach(json_object_get(pol, "providers"), j, prov) {
			json_t *out = json_array();
			json_array_foreach(json_object_get(prov, "statuses"), k, st) {
				json_t *c = json_object_get(st, "consequence");
				json_t *flags = json_object_get(st, "flags");
				json_array_append_new(out, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}",
				        "care_type", json_object_get(st, "care_type"),
				        "status", json_object_get(st, "status"),
				        "consequence", json_object_get(c, "code"),
				        "reimbursed_percent", json_object_get(c, "reimbursed_percent"),
				        "conflict", json_object_get(flags, "conflict")));
			}
			json_object_set_new(prov, "statuses", out);
		}
	}
	json_object_set_new(body, "detail", json_string("summary"));
}

/* compare's default shape: summary (detail=full for every status object) */
static const int summary_default = 1;

int zs_compact_compare_summary(const zs_request *req)
{
	const char *d = zs_param(req, "detail");
	return d ? strcmp(d, "summary") == 0 : summary_default;
}

json_t *zs_compact_apply(zs_handler fn, const zs_request *req, json_t *body)
{
	const char *t = zs_param(req, "texts");
	/* (the compare handler builds the summary itself and says so in "detail") */
	if (fn == zs_api_compare && zs_compact_compare_summary(req) && !json_object_get(body, "detail"))
		compare_summary(body);
	if (t && strcmp(t, "none") == 0 &&
	    (fn == zs_api_provider || fn == zs_api_status || fn == zs_api_compare ||
	     fn == zs_api_policy_similar)) {
		/* the answer shares the snapshot's consequence objects and policy summaries with
		 * other answers (and their frozen text): strip a copy, never them */
		json_t *copy = json_deep_copy(body);
		if (copy) {
			json_decref(body);
			body = copy;
			strip_texts(body);
		}
	}
	return body;
}
