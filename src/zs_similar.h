/* zs_similar.h - similar policies (TH/NR-027 art. 7(1), domain.md "Similar policies").
 *
 * Computed, per contract year, for every pair of policies of one concern (which includes the
 * pairs within one insurer); policies of different concerns are never compared.
 *  - overlap: Jaccard index of the two policies' contracted sets of (provider, care type) pairs,
 *    where contracted = effective status contracted or contracted_ceiling;
 *  - max_percent_difference: the largest difference, over every care type of the catalogue, of
 *    the non-contracted reimbursement percentage (a care type's own rule, else the "*" rule);
 *  - verdict: "equal" when overlap >= equal_overlap and difference <= equal_pct;
 *    "very_similar" when overlap >= very_overlap and difference <= very_pct; else "different".
 *  - declared: the insurers' own declaration (equal / very_similar) from their feeds;
 *  - finding: "undeclared_twin" (computed equal/very similar, not declared),
 *    "declared_but_different" (declared, computed different), "relation_differs" (declared
 *    equal but computed very similar, or the reverse), or none.
 * Stored in the table 'similar' by zs_similar_compute inside the ingest transaction.
 */
#ifndef ZS_SIMILAR_H
#define ZS_SIMILAR_H
#include <stdatomic.h>
#include <stddef.h>
#include <sqlite3.h>

typedef struct {
	double equal_overlap;   /* 0..1, default 1.00 */
	double equal_pct;       /* percentage points, default 0 */
	double very_overlap;    /* default 0.95 */
	double very_pct;        /* default 5 */
} zs_similar_thresholds;

/* Process-wide thresholds (set once at start, before the worker runs). */
void zs_similar_set_thresholds(const zs_similar_thresholds *t);
const zs_similar_thresholds *zs_similar_get_thresholds(void);

/* The verdict for an overlap and a percentage difference, by the thresholds. */
const char *zs_similar_verdict(double overlap, double max_pct_diff);

/* Recompute the whole 'similar' table from policy, effective and similar_decl. Runs inside the
 * caller's write transaction, which is to bump meta.generation after it (zs_deps.h). The
 * calling thread keeps the year's contracted sets in memory for its next call on the same
 * connection, which then reads again only the providers marked changed since (zs_similar.c);
 * the result is the same as from the tables. 0 ok, -1 with err. */
int zs_similar_compute(sqlite3 *db, char *err, size_t errlen);

/* Read the year's contracted sets into the calling thread's memory now, as zs_similar_compute
 * would on its next call, so that this call does not pay for it (the ingest worker, while
 * nothing is to be applied: after a start, a first changed feed would otherwise wait for a
 * scan of every contracted row, 10 s at four times national). Nothing is written but the
 * connection's TEMP token. Outside a transaction (it runs a read transaction of its own).
 * stop (may be NULL) set: it ends after the year it is reading, keeping nothing (0).
 * 1 when the sets were read, 0 when they are kept already (at once), -1 with err. */
int zs_similar_warm(sqlite3 *db, const _Atomic int *stop, char *err, size_t errlen);

/* Free the calling thread's kept contracted sets (at the end of a thread that computed). */
void zs_similar_thread_done(void);

#endif
