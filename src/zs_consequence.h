/* zs_consequence.h - the reimbursement consequence engine (pure: no I/O, no clock).
 *
 * From the policy type, care type, effective status, flags, the policy's non-contracted rule
 * for that care type and an optional amount, compute a stable consequence code, the reimbursed
 * percentage and basis, a worked example, warnings, exceptions, the deductible, and the texts
 * from the phrase catalogue (data/phrases.json, embedded) in the asked language.
 */
#ifndef ZS_CONSEQUENCE_H
#define ZS_CONSEQUENCE_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "zs_types.h"

typedef struct {
	zs_ptype policy_type;
	const char *care_type;        /* catalogue code, e.g. "hospital", "gp", "acute" */
	zs_status status;             /* effective status */
	int as_contracted;            /* negotiating, declared reimbursed as contracted */
	int ceiling;                  /* revenue ceiling / volume agreement in force */
	int ceiling_exempt;           /* this care type/situation is exempt from the ceiling */
	int patient_stop;             /* provider takes no new patients of this insurer */
	const char *stop_until;       /* "YYYY-MM-DD" or NULL */
	int conflict;                 /* insurer and provider disagree */
	int provider_only;            /* only the provider spoke */
	int stale;                    /* a source is older than its configured age */
	const char *stale_since;      /* RFC 3339 of the source's last success, or NULL */
	int treatment_in_progress;    /* the patient is already in treatment (asked by the caller) */
	double nc_percent;            /* policy's non-contracted percentage for this care type;
	                                 < 0 when the policy states none */
	const char *nc_basis;         /* basis code ("avg_contracted_tariff", "market_tariff",
	                                 "statutory_max_tariff") or NULL */
	int64_t amount_cents;         /* tariff amount for a worked example; < 0 for none */
	/* Patient stops beyond "in force today" (issue 13): */
	int stop_announced;           /* a stop starts after today (patient_stop is then 0) */
	const char *stop_from;        /* "YYYY-MM-DD" the stop starts, or NULL */
	int stop_for_ceiling;         /* the stop's reason is the ceiling (ceiling_reached): it
	                                 does not apply where the ceiling does not (ceiling_exempt) */
	/* Exemptions from the ceiling that depend on the patient's situation, not asked: */
	int exempt_if_acute;          /* exempt in an acute situation (e.g. acute_maternity) */
	int exempt_if_in_treatment;   /* exempt for a patient already in treatment */
	/* With conflict: what each side says (ZS_STATUS_UNKNOWN when not passed). */
	zs_status insurer_says, provider_says;
} zs_conseq_in;

/* Returns a new JSON object (caller owns the reference, json_decref). lang is "nl" or "en"
 * (anything else means "nl"). Never returns NULL except on allocation failure. */
json_t *zs_consequence(const zs_conseq_in *in, const char *lang);

/* Initialise the phrase catalogue from the embedded data. Returns 0 on success, -1 and a
 * message in err (caller-provided buffer) on failure. Safe to call more than once. */
int zs_phrases_init(char *err, size_t errlen);

/* Look up a phrase by key in lang ("nl"/"en"); NULL if absent. Pointer valid for the life of
 * the process (owned by the catalogue). */
const char *zs_phrase(const char *key, const char *lang);

/* Every phrase whose key starts with prefix (e.g. "label.care_type."), as a new object
 * {rest-of-key: text} in lang ("nl"/"en"), in catalogue order; caller owns the reference.
 * An empty object when none match; NULL on allocation failure or without a catalogue. */
json_t *zs_phrases_family(const char *prefix, const char *lang);

#endif
