/* zs_feed.h - parse and validate one line of a v1 feed (feeds/README.md).
 * Pure: no I/O. A feed is read line by line by the caller (bounded memory). */
#ifndef ZS_FEED_H
#define ZS_FEED_H
#include <stddef.h>
#include <stdio.h>
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
	const char *concern_id, *concern_name, *uzovi, *insurer_name;
	const char *publisher;        /* display name of who publishes the feed (both formats) */
	time_t generated_at;          /* -1 if absent */
	/* policy */
	const char *id, *name, *label;
	int year;
	zs_ptype ptype;
	json_t *reimbursement;        /* borrowed from json: array of {care_type,percent,basis} */
	/* provider (also name above) */
	const char *agb, *kind, *parent;
	json_t *locations;            /* borrowed: array, postcodes normalised */
	json_t *aliases;              /* borrowed: array of names, or NULL (optional) */
	/* status (also agb, year above) */
	zs_scope scope;
	const char *scope_id;
	const char *care_type;
	zs_status status;
	int as_contracted, ceiling;
	json_t *ceiling_exempt;       /* borrowed: array of codes, or NULL */
	const char *stop_reason, *stop_from, *stop_until, *stop_note;
	time_t said_at;               /* -1 if absent */
	const char *since_date;       /* "YYYY-MM-DD" the status began per the source, or NULL */
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

/* Read one line (newline included) of at most max bytes from f into *buf (*cap bytes, grown
 * as needed; caller frees). Returns its length; 0 at the end; -1 on a read error; -2 when the
 * line is longer than max: it was read past up to and including its newline without being
 * held in memory (memory per line is bounded by max, whatever the feed holds). */
long zs_feed_read_line(FILE *f, char **buf, size_t *cap, size_t max);

/* The key of a record that failed validation, when it can still be read from the line: a
 * status (agb, year, care_type and one of policy / insurer / concern), a provider (agb) or a
 * policy (id, year). Returns 1 with key filled, 0 when no key can be read. */
typedef struct {
	zs_rec_type type;        /* ZS_REC_STATUS, ZS_REC_PROVIDER or ZS_REC_POLICY */
	char agb[9];
	int year;
	char care_type[65];
	zs_scope scope;
	char scope_id[65];       /* status: the policy / insurer / concern; policy: its id */
} zs_rec_key;
int zs_feed_line_key(const char *line, size_t len, zs_rec_key *key);

/* Field validators, shared with the API's parameter checks. */
int zs_valid_agb(const char *s);
int zs_valid_uzovi(const char *s);
int zs_valid_code(const char *s, size_t maxlen); /* [A-Za-z0-9_.-]{1,maxlen} */

#endif
