/* zs_api_priv.h - private to the API modules (zs_api.c, zs_search.c, zs_compare.c,
 * zs_similar_api): the reader's per-snapshot caches and the shared status builder. */
#ifndef ZS_API_PRIV_H
#define ZS_API_PRIV_H
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <jansson.h>
#include "zs_api.h"
#include "zs_consequence.h"
#include "zs_memo.h"
#include "zs_jsonw.h"
#include "zs_types.h"

#define ZS_MAX_CARE_TYPES 32

typedef struct {
	char *id, *name, *label, *uzovi, *insurer_name, *concern_id, *concern_name;
	int year;
	zs_ptype type;
	json_t *reimbursement; /* array */
	json_t *summary;       /* {"id","name","label","type","insurer","concern"} */
	struct pol_rule {      /* reimbursement's rules in C (strings point into it) */
		const char *care_type, *basis;
		double percent;
	} *rules;
	size_t nrules;
} pol_entry;

typedef struct {
	int id;
	char *name, *kind;
	long long last_success; /* published last success (zs_fresh.h); -1 never */
	long long stale_after;
	int stale;              /* published stale flag */
	char *publisher;        /* the feed header's publisher name, or NULL */
	const char *disp_name;  /* for people: the section's display_name, else publisher; NULL */
	char checked_on[16];    /* the day of last_success (Europe/Amsterdam), "" when never */
	unsigned mkey_id;       /* what its statuses show of it (disp_name, name, checked_on) as
	                         * a number of the reader's (zs_reader.c feed_mkey): equal numbers
	                         * mean equal texts, in the status memo's key; 0 when it could not
	                         * be made (out of memory, or too long for a key) */
} feed_entry;

/* The texts a feed shows in statuses, by the number the status memo's key holds (zs_reader.c
 * feed_mkey). Kept across snapshots, as the memo is; both are emptied together when it is full. */
typedef struct {
	unsigned char *bytes; /* as zs_mkey_str writes disp_name, name, checked_on */
	size_t len;
	uint64_t hash;
} zs_fkey;
#define ZS_FKEYS_MAX 4096

struct zs_reader {
	const zs_config *cfg;
	sqlite3 *db;
	long long gen;
	pol_entry *pols;       /* ordered by year, concern, insurer, name */
	size_t npols;
	const pol_entry **pols_by_id; /* the same by year, then id (strcmp), or NULL */
	size_t *run;           /* per policy (index in pols), scratch of year_policies_write */
	feed_entry *feeds;
	size_t nfeeds;
	feed_entry **feed_by_id; /* feeds indexed by id (zs_reader_find_feed), or NULL */
	size_t nfeed_by_id;
	json_t *similar;       /* per-snapshot similarity cache (zs_similar), or NULL */
	sqlite3_stmt *sel_gen, *sel_provider, *sel_eff, *sel_history;
	sqlite3_stmt *st_begin, *st_commit; /* the read transaction of each call, prepared once */
	int in_call;           /* inside zs_api_call: one read transaction for the whole answer */
	int snap_used;         /* the call read the snapshot (r->gen is its generation) */
	int held;              /* the read transaction of the last call is kept open (zs_api_call) */
	struct zs_deplist *deps; /* the current call's dependency keys, or NULL (zs_api_dep) */
	struct zs_frozen *frozen; /* text of the snapshot's shared values (zs_jsonw.h) */
	struct zs_tmemo *cons; /* consequence objects by their inputs (zs_reader.c); kept across
	                        * snapshots */
	long long search_gen;  /* last generation that changed the searchable data */
	struct zs_search_idx *sidx; /* search vocabulary and typo index (zs_search); per snapshot */
	struct zs_frozen *raw; /* texts written directly for the answer being built (per call) */
	int direct_ok;         /* zs_reader_set_direct */
	int direct;            /* this call writes its statuses directly (zs_status.c) */
	zs_jbuf scratch;       /* where the direct texts are written (fixed size, reused) */
	long long dep_feeds[32]; /* feeds already named in this call's keys (zs_api_dep_feed) */
	size_t ndep_feeds;
	struct zs_retired *retired; /* policies that left the feeds (zs_rollover.h), by year and
	                             * id; per snapshot */
	size_t nretired;
	int retired_whole;     /* the list was read whole; else zs_reader_retired asks the table */
	struct zs_exempt_slot *exempts; /* parsed ceiling exemptions by their stored text
	                                 * (zs_status.c); freed by zs_status_memo_free */
	unsigned long ncalls;  /* zs_api_call's count: what a call's memo prefix belongs to */
	const zs_request *mreq; /* the request part of the status memo's key, made once per call */
	unsigned long mreq_call;
	unsigned char mreq_key[1024];
	size_t mreq_len;       /* 0: none made (or too long for a key) */
	zs_fkey *fkeys;         /* the feed texts numbered so far (mkey_id - 1 is the index) */
	size_t nfkeys, capfkeys;
	struct zs_front *front; /* the status memo's front (zs_status.c), or NULL */
	int front_ok;          /* the statuses being written are of rows in memory */
	unsigned long fctx_call; /* the call the front's context was checked for */
	uint64_t fctx_serial;  /* the front's context: a new serial each time it changes */
	size_t fctx_len;
	unsigned char fctx[1100]; /* generation, day, request part (zs_status.c front_ctx) */
	struct zs_rows *rows;  /* the effective rows in memory (zs_rows.h), or NULL */
	struct zs_rver *rver;  /* their version of this snapshot (r->gen), or NULL: read the table */
	struct zs_tmemo *smemo; /* status texts by all their inputs (zs_status.c); kept across
	                         * snapshots (the key holds what they change); freed by
	                         * zs_status_memo_free */
};

/* A (year, policy) hidden from answers from the snapshot it left the feeds in. */
typedef struct zs_retired {
	int year;
	char *policy_id;
} zs_retired;

/* 1 when the policy of that year has left the feeds in the reader's snapshot (from the
 * per-snapshot list, or from the table when the list could not be read whole). */
int zs_reader_retired(const zs_reader *r, int year, const char *policy_id);

/* One stored effective row; strings owned by the rowset. */
typedef struct {
	const char *care_type;
	int status, as_contracted, ceiling, basis;
	const char *ceiling_exempt, *stop;
	long long ins_feed, ins_status, ins_level, ins_said;
	long long prov_feed, prov_status, prov_level, prov_said, since;
	const char *began;     /* "YYYY-MM-DD" the status began per its deciding record, or NULL */
} eff_view;

typedef struct {
	const char *policy_id;
	const eff_view *v;     /* the rest of the row: in own, or a pattern of the rows in memory */
} zs_effrow;

/* The effective rows of one provider for one year. Free with zs_rowset_free. */
typedef struct {
	zs_effrow *rows;
	size_t nrows;
	eff_view *own;         /* the rows read from the table (rows[i].v = &own[i]), or NULL */
	int in_memory;         /* the rows are the reader's version's (v: its patterns) */
	char *care_types[ZS_MAX_CARE_TYPES]; /* distinct, sorted */
	size_t nct;
	char **chunks;         /* the rows' strings, copied into chunks of 16 KiB and more */
	size_t nchunks, used, room;
} zs_rowset;

/* The columns zs_eff_from_row reads, in its order (the reader's sel_eff and the builder of the
 * rows in memory select them): a missing source or moment comes as -1, one call a column there
 * instead of a type check and a read. */
#define ZS_EFF_COLS "policy_id, care_type, status, as_contracted, ceiling, ceiling_exempt, stop," \
	" basis, coalesce(ins_feed, -1), coalesce(ins_status, -1), coalesce(ins_level, -1)," \
	" coalesce(ins_said, -1), coalesce(prov_feed, -1), coalesce(prov_status, -1)," \
	" coalesce(prov_level, -1), coalesce(prov_said, -1), coalesce(since, -1), began"
/* A row of ZS_EFF_COLS into v; strings are the statement's. */
void zs_eff_from_row(sqlite3_stmt *st, eff_view *v);
/* A provider's rows of one year: from the reader's version of the rows in memory when it has
 * one that holds the provider, else from the table. Strings owned by rs or by that version. */
int zs_rowset_load(zs_reader *r, const char *agb, int year, const char *only_care, zs_rowset *rs);
const eff_view *zs_rowset_find(const zs_rowset *rs, const char *policy_id, const char *care_type);
void zs_rowset_free(zs_rowset *rs);

/* Search and compare handlers' private clean-up (called by zs_reader_close). */
void zs_search_free_cache(zs_reader *r);
/* Build the search's per-snapshot typo index now (else the first typo'd query of a snapshot
 * builds it: ~60 ms for a national dataset); call after the snapshot changed. */
void zs_search_warm(zs_reader *r);

/* Record that the answer being built depends on "<type>:<id>" (zs_deps.h). */
void zs_api_dep(const zs_reader *r, const char *type, const char *id);
void zs_api_dep_int(const zs_reader *r, const char *type, long long id);
/* "f:<feed>", once per call (every status names its sources' feeds) */
void zs_api_dep_feed(zs_reader *r, long long feed_id);

/* Reload the caches when the snapshot generation moved. */
void zs_reader_refresh(zs_reader *r);
const pol_entry *zs_find_policy(const zs_reader *r, const char *id, int year);

/* The status object of docs/api.md (new reference). v NULL = nobody spoke (unknown). */
json_t *zs_status_json(zs_reader *r, const zs_request *req, const pol_entry *p,
                       const char *care_type, const eff_view *v, long long amount);
/* compare's summary of a status (zs_compact.h): care_type, status, consequence (its code),
 * reimbursed_percent, conflict. New reference. */
json_t *zs_status_summary(zs_reader *r, const zs_request *req, const pol_entry *p,
                          const char *care_type, const eff_view *v, long long amount);
/* What a direct writer writes from: a provider's rows of one year, for one policy or all. */
typedef struct {
	zs_reader *r;
	const zs_request *req;
	int year;
	const pol_entry *p;    /* one policy, or NULL for every policy of the year */
	const zs_rowset *rs;
	long long amount;
} zs_write_ctx;

/* Direct writing (zs_reader_set_direct): write(ctx, b) writes v's text, which is frozen under
 * v in the call's table (zs_api_dump splices it). Written into the reader's reused scratch
 * buffer, or when that is full into a buffer of its own (write is then called twice). 0, or
 * -1 (table full, out of memory): the caller builds v as a tree after all. */
int zs_direct_freeze(zs_reader *r, json_t *v, void (*write)(void *ctx, zs_jbuf *b), void *ctx);
/* The same summary written as text into b (same bytes). */
void zs_status_summary_write(zs_reader *r, const zs_request *req, const pol_entry *p,
                             const char *care_type, const eff_view *v, long long amount,
                             zs_jbuf *b);
/* Frees the reader's parsed exemptions and status memo (zs_reader_close). */
void zs_status_memo_free(zs_reader *r);
/* The same status object written as text into b (zs_jsonw.h), same bytes as the tree; from
 * the reader's status memo when a status of the same inputs was written before. */
void zs_status_write(zs_reader *r, const zs_request *req, const pol_entry *p,
                     const char *care_type, const eff_view *v, long long amount,
                     zs_jbuf *b);
/* Hits and misses of the reader's status memo, entries and bytes held. */
void zs_status_memo_stats(const zs_reader *r, zs_tmemo_stats *s);
/* {"agb","name","kind","parent","locations"}; *found = 0 when no master data. Written directly
 * with the rows in memory, an empty object whose text (of the version) is spliced. */
json_t *zs_provider_json(zs_reader *r, const char *agb, int *found);
/* The same object from a provider record's columns (locations: its JSON text, or NULL); the
 * one place it is made, for answers and for the texts held in memory (zs_provtext.h). */
json_t *zs_provider_obj(const char *agb, const char *name, const char *kind, const char *parent,
                        const char *locations);

/* Parameter helpers: see zs_api.c. */
int zs_param_year(const zs_request *req, int *year, json_t **err, int *status);
long long zs_param_amount(const zs_request *req);
int zs_check_common(const zs_request *req, long long *amount, json_t **err, int *status);
json_t *zs_not_published(int *status, int year);
/* ?year (default: the current year), checked for form and publication: an error body to
 * return, or NULL with *year set. */
json_t *zs_request_year(const zs_request *req, int *year, int *status);
/* A past year of which no policy is known: a 404 "no_data" body naming the year (its text from
 * error.no_data), else NULL. Call after zs_reader_refresh. */
json_t *zs_no_data(const zs_reader *r, const zs_request *req, int year, int *status);

/* Column helpers: a malloc'ed copy of a text column (NULL for NULL); an integer column, -1
 * for NULL. */
static inline char *zs_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? strdup((const char *)s) : NULL;
}

static inline long long zs_col_ll(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/* zs_reader.c: the snapshot's consequence object for these inputs (a new reference); a feed
 * of the snapshot by id (NULL if unknown); whether the snapshot shows it stale. */
json_t *zs_reader_cons_get(zs_reader *r, const zs_conseq_in *in, const char *lang);
const feed_entry *zs_reader_find_feed(const zs_reader *r, long long id);
int zs_reader_feed_stale(const feed_entry *f);

/* zs_status.c: a provider's statuses of one year, per policy (every policy of the year, or
 * only_policy), one status per care type mentioned; *any = 1 when it has effective rows. */
json_t *zs_year_json(zs_reader *r, const zs_request *req, const char *agb, int year,
                     const char *only_policy, const char *only_care, long long amount, int *any);

/* zs_params.c: agb must be an AGB code (error body in *err otherwise). */
int zs_check_agb(const char *agb, json_t **err, int *status);

#endif
