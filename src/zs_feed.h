/* zs_feed.h - parse and validate one line of a v1 feed (feeds/README.md).
 * Pure: no I/O. A feed is read line by line by the caller (bounded memory). */
#ifndef ZS_FEED_H
#define ZS_FEED_H
#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "zs_config.h"
#include "zs_types.h"

#define ZS_FEED_VERSION 1

typedef enum {
	ZS_REC_HEADER = 1, ZS_REC_POLICY, ZS_REC_PROVIDER, ZS_REC_STATUS, ZS_REC_SIMILAR, ZS_REC_END
} zs_rec_type;

typedef enum { ZS_SCOPE_POLICY = 1, ZS_SCOPE_INSURER = 2, ZS_SCOPE_CONCERN = 3 } zs_scope;

/* One parsed record. All const char* fields point into 'json' and live as long as the record;
 * zs_rec_clear releases everything. */
typedef struct {
	zs_rec_type type;
	json_t *json;
	/* header */
	const char *concern_id, *concern_name, *uzovi, *insurer_name, *publisher;
	time_t generated_at;          /* -1 if absent */
	/* policy */
	const char *id, *name, *label;
	int year;
	zs_ptype ptype;
	json_t *reimbursement;        /* borrowed from json: array of {care_type,percent,basis} */
	/* provider (also name above) */
	const char *agb, *kind, *parent;
	json_t *locations;            /* borrowed: array, postcodes normalised */
	/* status (also agb, year above) */
	zs_scope scope;
	const char *scope_id;
	const char *care_type;
	zs_status status;
	int as_contracted, ceiling;
	json_t *ceiling_exempt;       /* borrowed: array of codes, or NULL */
	const char *stop_reason, *stop_from, *stop_until, *stop_note;
	time_t said_at;               /* -1 if absent */
	/* similar */
	const char *pol_a, *pol_b, *relation;
	/* end */
	long count;
} zs_rec;

typedef struct {
	char field[64];
	char reason[256];
} zs_rec_err;

/* Parse one line (need not be NUL-terminated). kind says which format is expected; hdr is the
 * feed's header record (NULL when parsing the header itself) and is used for scope checks.
 * Returns 0 and fills rec (caller calls zs_rec_clear), or -1 with err filled (rec is cleared).
 * A blank line returns 1 (nothing to do). */
int zs_feed_parse_line(zs_feed_kind kind, const zs_rec *hdr, const char *line, size_t len,
                       zs_rec *rec, zs_rec_err *err);
void zs_rec_clear(zs_rec *rec);

/* Field validators, shared with the API's parameter checks. */
int zs_valid_agb(const char *s);
int zs_valid_uzovi(const char *s);
int zs_valid_code(const char *s, size_t maxlen); /* [A-Za-z0-9_.-]{1,maxlen} */

#endif
