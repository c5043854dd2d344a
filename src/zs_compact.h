/* zs_compact.h - the compact shapes of an answer, for machines (issue 16):
 *   texts=none    (lookup, status, compare, similar) codes, percentages, amounts, flags and
 *                 dates without consumer texts; the texts come once from /v1/labels and the
 *                 phrase catalogue;
 *   detail=full   (compare) every status object; by default compare gives per policy its
 *                 coverage and per provider, per care type, the status code, the consequence
 *                 code and the reimbursed percentage.
 * Applied to a finished answer by zs_api_call. */
#ifndef ZS_COMPACT_H
#define ZS_COMPACT_H
#include <jansson.h>
#include "zs_api.h"

/* Check the shape parameters: NULL, or an error body (400 naming the parameter). */
json_t *zs_compact_check(const zs_request *req, int *status);

/* Does this compare request want the summary shape (detail=summary, the default)? The
 * compare handler then builds it directly (zs_status_summary) and marks it "detail". */
int zs_compact_compare_summary(const zs_request *req);

/* Reshape body (a 200 answer of handler fn) as the request asks: returns the answer to send
 * (body itself, or a new value that replaces it: the reference to body is taken over). Shared
 * values inside body are never modified. */
json_t *zs_compact_apply(zs_handler fn, const zs_request *req, json_t *body);

#endif
