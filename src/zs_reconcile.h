/* zs_reconcile.h - reconciliation of insurer and provider statements for one provider
 * (domain.md "Sources and reconciliation"). Pure: no I/O.
 *
 * Rules:
 *  - within one source kind the most specific statement wins: policy > insurer > concern;
 *    between equally specific statements the latest said_at wins;
 *  - the insurer's statement decides the effective status; where only the provider spoke, the
 *    provider's statement is used (basis provider_only);
 *  - insurer and provider are compared at the level the provider spoke: a statement per policy
 *    is compared with that policy; a statement per insurer or concern contradicts the insurer
 *    only if the insurer states the same class for none of the policies that statement covers
 *    (classes: contracted{,_ceiling} | negotiating | not_contracted/ended).
 */
#ifndef ZS_RECONCILE_H
#define ZS_RECONCILE_H
#include <stddef.h>
#include <stdint.h>
#include "zs_types.h"

typedef struct {
	int feed_id;
	int from_insurer;          /* 1 insurer feed, 0 provider feed */
	int year;
	const char *care_type;
	int scope;                 /* ZS_SCOPE_POLICY / _INSURER / _CONCERN (zs_feed.h) */
	const char *scope_id;
	zs_status status;          /* ZS_STATUS_UNKNOWN statements are ignored */
	int as_contracted;
	int ceiling;
	const char *ceiling_exempt;/* JSON text of the exempt list, or NULL */
	const char *stop_reason, *stop_from, *stop_until, *stop_note;
	int64_t said_at;
	const char *since_date;    /* the record's own "since" date (YYYY-MM-DD), or NULL */
} zs_stmt;

typedef struct {
	const char *id;
	int year;
	const char *uzovi;
	const char *concern_id;
} zs_policy_ref;

typedef struct {
	const zs_policy_ref *policy;
	const char *care_type;
	int year;
	zs_status status;
	int as_contracted;
	int ceiling;
	const char *ceiling_exempt;
	const zs_stmt *stop;       /* statement carrying the patient stop, or NULL */
	int basis;                 /* ZS_BASIS_* (zs_db.h) */
	const zs_stmt *ins, *prov; /* the winning statements (NULL when that side is silent) */
} zs_effective;

/* Compute the effective rows for one provider from all its statements (any years) and the
 * policy catalogue. *out is a new array the caller frees with free(); its pointers point into
 * stmts and policies. Rows are produced only where some source spoke. Returns 0, -1 on ENOMEM. */
int zs_reconcile(const zs_stmt *stmts, size_t nstmts, const zs_policy_ref *policies,
                 size_t npolicies, zs_effective **out, size_t *nout);

#endif
