/* test_reconcile.c - unit tests of the pure reconciliation (zs_reconcile.h).
 * Statements and the policy catalogue are built by hand; every expected effective row is
 * derived from /work/shared/domain.md "Sources and reconciliation" and the rules in the
 * zs_reconcile.h header comment, never from program output.
 *
 * The catalogue used throughout:
 *   concern achmea: insurer 3311 with 3311-A and 3311-B (2027) and 3311-A (2026);
 *                   insurer 3312 with 3312-C (2027)
 *   concern cz:     insurer 9664 with 9664-X (2027) */
#include "testutil.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "zs_db.h"
#include "zs_feed.h"
#include "zs_reconcile.h"

#define Y 2027
#define HOSP "hospital"
#define GGZ "mental_health"

enum { F_INS = 1, F_INS2 = 2, F_INS_CZ = 3, F_PROV = 10, F_PROV2 = 11 };

static const zs_policy_ref POL[] = {
	{ "3311-A", 2027, "3311", "achmea" },
	{ "3311-B", 2027, "3311", "achmea" },
	{ "3312-C", 2027, "3312", "achmea" },
	{ "9664-X", 2027, "9664", "cz" },
	{ "3311-A", 2026, "3311", "achmea" },
};
#define NPOL (sizeof POL / sizeof POL[0])

/* Statement builders. */
static zs_stmt S(int from_insurer, int feed, int year, const char *ct, int scope, const char *id,
                 zs_status st, int64_t said)
{
	zs_stmt s;
	memset(&s, 0, sizeof s);
	s.feed_id = feed;
	s.from_insurer = from_insurer;
	s.year = year;
	s.care_type = ct;
	s.scope = scope;
	s.scope_id = id;
	s.status = st;
	s.said_at = said;
	return s;
}
#define INS_POL(id, st, said) S(1, F_INS, Y, HOSP, ZS_SCOPE_POLICY, id, st, said)
#define INS_UZ(id, st, said) S(1, F_INS, Y, HOSP, ZS_SCOPE_INSURER, id, st, said)
#define INS_CON(id, st, said) S(1, F_INS, Y, HOSP, ZS_SCOPE_CONCERN, id, st, said)
#define PRV_POL(id, st, said) S(0, F_PROV, Y, HOSP, ZS_SCOPE_POLICY, id, st, said)
#define PRV_UZ(id, st, said) S(0, F_PROV, Y, HOSP, ZS_SCOPE_INSURER, id, st, said)
#define PRV_CON(id, st, said) S(0, F_PROV, Y, HOSP, ZS_SCOPE_CONCERN, id, st, said)

#define CON ZS_STATUS_CONTRACTED
#define CEIL ZS_STATUS_CONTRACTED_CEILING
#define NEG ZS_STATUS_NEGOTIATING
#define NC ZS_STATUS_NOT_CONTRACTED
#define END ZS_STATUS_ENDED
#define UNK ZS_STATUS_UNKNOWN

static zs_effective *rows;
static size_t nrows;

static void run(const zs_stmt *st, size_t n)
{
	free(rows);
	rows = NULL;
	nrows = 0;
	ck_assert_int_eq(zs_reconcile(st, n, POL, NPOL, &rows, &nrows), 0);
}
#define RUN(arr) run(arr, sizeof arr / sizeof arr[0])

static void teardown(void)
{
	free(rows);
	rows = NULL;
	nrows = 0;
}

/* The row for (policy, year, care type); fails if absent or duplicated. */
static const zs_effective *row(const char *pol, int year, const char *ct)
{
	const zs_effective *found = NULL;
	for (size_t i = 0; i < nrows; i++)
		if (strcmp(rows[i].policy->id, pol) == 0 && rows[i].year == year &&
		    strcmp(rows[i].care_type, ct) == 0) {
			ck_assert_msg(!found, "two rows for %s %d %s", pol, year, ct);
			found = &rows[i];
		}
	ck_assert_msg(found != NULL, "no row for %s %d %s", pol, year, ct);
	ck_assert_int_eq(found->policy->year, year);
	return found;
}

static int has_row(const char *pol, int year, const char *ct)
{
	for (size_t i = 0; i < nrows; i++)
		if (strcmp(rows[i].policy->id, pol) == 0 && rows[i].year == year &&
		    strcmp(rows[i].care_type, ct) == 0)
			return 1;
	return 0;
}

static void expect(const char *pol, zs_status st, int basis)
{
	const zs_effective *e = row(pol, Y, HOSP);
	ck_assert_msg(e->status == st, "%s: status %d, expected %d", pol, e->status, st);
	ck_assert_msg(e->basis == basis, "%s: basis %s, expected %s", pol, zs_basis_code(e->basis),
	              zs_basis_code(basis));
}

/* ---- within one source: most specific, then latest --------------------------------------- */

START_TEST(test_most_specific_insurer)
{
	/* The policy statement is the oldest, the concern statement the newest: scope beats time. */
	const zs_stmt st[] = {
		INS_CON("achmea", NC, 300),
		INS_POL("3311-A", CON, 100),
		INS_UZ("3311", NEG, 200),
	};
	RUN(st);
	ck_assert_int_eq(nrows, 3); /* 3311-A, 3311-B, 3312-C; nothing for cz, nothing for 2026 */
	expect("3311-A", CON, ZS_BASIS_INSURER);
	expect("3311-B", NEG, ZS_BASIS_INSURER);
	expect("3312-C", NC, ZS_BASIS_INSURER);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->ins, &st[1]);
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->ins, &st[2]);
	ck_assert_ptr_eq(row("3312-C", Y, HOSP)->ins, &st[0]);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->prov);
	ck_assert(!has_row("9664-X", Y, HOSP));
	ck_assert(!has_row("3311-A", 2026, HOSP));
	ck_assert_str_eq(row("3311-A", Y, HOSP)->care_type, HOSP);
}
END_TEST

START_TEST(test_most_specific_provider)
{
	const zs_stmt st[] = {
		PRV_POL("3311-B", NC, 100),
		PRV_CON("achmea", CON, 300),
		PRV_UZ("3311", NEG, 200),
	};
	RUN(st);
	ck_assert_int_eq(nrows, 3);
	expect("3311-A", NEG, ZS_BASIS_PROVIDER_ONLY);
	expect("3311-B", NC, ZS_BASIS_PROVIDER_ONLY);
	expect("3312-C", CON, ZS_BASIS_PROVIDER_ONLY);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->prov, &st[2]);
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->prov, &st[0]);
	ck_assert_ptr_eq(row("3312-C", Y, HOSP)->prov, &st[1]);
}
END_TEST

START_TEST(test_latest_wins)
{
	/* equal scope: the later said_at wins, whatever the order in the input */
	const zs_stmt a[] = { INS_POL("3311-A", NEG, 100), INS_POL("3311-A", CON, 200) };
	RUN(a);
	ck_assert_int_eq(nrows, 1);
	expect("3311-A", CON, ZS_BASIS_INSURER);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->ins, &a[1]);

	const zs_stmt b[] = { INS_POL("3311-A", CON, 200), INS_POL("3311-A", NEG, 100) };
	RUN(b);
	expect("3311-A", CON, ZS_BASIS_INSURER);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->ins, &b[0]);

	/* two insurer feeds of the concern speaking at concern level: the later one */
	zs_stmt c[] = { INS_CON("achmea", NC, 500), INS_CON("achmea", CON, 400) };
	c[1].feed_id = F_INS2;
	RUN(c);
	ck_assert_int_eq(nrows, 3);
	expect("3311-A", NC, ZS_BASIS_INSURER);
	expect("3312-C", NC, ZS_BASIS_INSURER);

	/* the provider side too */
	const zs_stmt d[] = { PRV_CON("achmea", NC, 100), PRV_CON("achmea", CON, 900) };
	RUN(d);
	expect("3311-B", CON, ZS_BASIS_PROVIDER_ONLY);
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->prov, &d[1]);
}
END_TEST

/* ---- across sources ---------------------------------------------------------------------- */

START_TEST(test_insurer_decides)
{
	zs_stmt st[] = { PRV_POL("3311-A", CON, 900), INS_POL("3311-A", NEG, 100) };
	st[1].as_contracted = 1;
	st[1].ceiling = 0;
	RUN(st);
	ck_assert_int_eq(nrows, 1);
	const zs_effective *e = row("3311-A", Y, HOSP);
	ck_assert_int_eq(e->status, NEG);        /* the insurer's, although the provider is newer */
	ck_assert_int_eq(e->as_contracted, 1);   /* the insurer's declaration travels */
	ck_assert_int_eq(e->basis, ZS_BASIS_CONFLICT);
	ck_assert_ptr_eq(e->ins, &st[1]);
	ck_assert_ptr_eq(e->prov, &st[0]);

	/* ceiling and exemptions come from the insurer */
	zs_stmt c[] = { INS_POL("3311-A", CEIL, 100), PRV_POL("3311-A", CON, 100) };
	c[0].ceiling = 1;
	c[0].ceiling_exempt = "[\"acute\"]";
	RUN(c);
	e = row("3311-A", Y, HOSP);
	ck_assert_int_eq(e->status, CEIL);
	ck_assert_int_eq(e->ceiling, 1);
	ck_assert_str_eq(e->ceiling_exempt, "[\"acute\"]");
}
END_TEST

START_TEST(test_provider_only)
{
	zs_stmt st[] = { PRV_CON("achmea", NEG, 100) };
	st[0].as_contracted = 1; /* the insurer's to declare: a provider cannot */
	st[0].ceiling = 1;
	st[0].ceiling_exempt = "[\"acute\"]";
	RUN(st);
	ck_assert_int_eq(nrows, 3);
	for (int i = 0; i < 3; i++) {
		const zs_effective *e = row(POL[i].id, Y, HOSP);
		ck_assert_int_eq(e->status, NEG);
		ck_assert_int_eq(e->basis, ZS_BASIS_PROVIDER_ONLY);
		ck_assert_ptr_null(e->ins);
		ck_assert_ptr_eq(e->prov, &st[0]);
		ck_assert_int_eq(e->as_contracted, 0);
		ck_assert_int_eq(e->ceiling, 0);
		ck_assert_ptr_null(e->ceiling_exempt);
	}
	ck_assert(!has_row("9664-X", Y, HOSP));
}
END_TEST

START_TEST(test_concern_level_conflict_all)
{
	/* provider: contracted with concern achmea; the insurers: not contracted / ended for every
	 * policy of the concern -> the concern-level statement contradicts them: conflict on each */
	zs_stmt st[] = {
		PRV_CON("achmea", CON, 100),
		INS_UZ("3311", NC, 100),
		INS_UZ("3312", END, 100),
	};
	st[2].feed_id = F_INS2;
	RUN(st);
	ck_assert_int_eq(nrows, 3);
	expect("3311-A", NC, ZS_BASIS_CONFLICT);
	expect("3311-B", NC, ZS_BASIS_CONFLICT);
	expect("3312-C", END, ZS_BASIS_CONFLICT);
	ck_assert_ptr_eq(row("3312-C", Y, HOSP)->prov, &st[0]);
	ck_assert_ptr_eq(row("3312-C", Y, HOSP)->ins, &st[2]);
}
END_TEST

START_TEST(test_concern_level_some_contracted)
{
	/* the insurer contracts one of the concern's policies: no conflict anywhere; basis insurer
	 * for the not-contracted ones, confirmed for the contracted one */
	zs_stmt st[] = {
		PRV_CON("achmea", CON, 100),
		INS_POL("3311-A", CON, 100),
		INS_UZ("3311", NC, 100),
		INS_UZ("3312", NC, 100),
	};
	st[3].feed_id = F_INS2;
	RUN(st);
	ck_assert_int_eq(nrows, 3);
	expect("3311-A", CON, ZS_BASIS_CONFIRMED);
	expect("3311-B", NC, ZS_BASIS_INSURER);
	expect("3312-C", NC, ZS_BASIS_INSURER);
	/* both statements are kept */
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->prov, &st[0]);
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->ins, &st[2]);

	/* the contracted one may be under another insurer of the concern, with a ceiling */
	zs_stmt b[] = {
		PRV_CON("achmea", CON, 100),
		INS_UZ("3311", NC, 100),
		INS_UZ("3312", CEIL, 100),
	};
	b[2].feed_id = F_INS2;
	RUN(b);
	expect("3311-A", NC, ZS_BASIS_INSURER);
	expect("3311-B", NC, ZS_BASIS_INSURER);
	expect("3312-C", CEIL, ZS_BASIS_CONFIRMED);

	/* where the insurer is silent on a policy, the provider's word stands for it */
	const zs_stmt c[] = {
		PRV_CON("achmea", CON, 100),
		INS_POL("3311-A", CON, 100),
		INS_POL("3311-B", NC, 100),
	};
	RUN(c);
	expect("3311-A", CON, ZS_BASIS_CONFIRMED);
	expect("3311-B", NC, ZS_BASIS_INSURER);
	expect("3312-C", CON, ZS_BASIS_PROVIDER_ONLY);
}
END_TEST

START_TEST(test_insurer_level_provider)
{
	/* a provider statement per insurer is compared over that insurer's policies only */
	const zs_stmt a[] = {
		PRV_UZ("3311", CON, 100),
		INS_POL("3311-A", NC, 100),
		INS_POL("3311-B", CON, 100),
	};
	RUN(a);
	ck_assert_int_eq(nrows, 2);
	expect("3311-A", NC, ZS_BASIS_INSURER);
	expect("3311-B", CON, ZS_BASIS_CONFIRMED);

	/* 3312-C is contracted but not covered by "contracted with insurer 3311" */
	zs_stmt b[] = {
		PRV_UZ("3311", CON, 100),
		INS_UZ("3311", NC, 100),
		INS_UZ("3312", CON, 100),
	};
	b[2].feed_id = F_INS2;
	RUN(b);
	ck_assert_int_eq(nrows, 3);
	expect("3311-A", NC, ZS_BASIS_CONFLICT);
	expect("3311-B", NC, ZS_BASIS_CONFLICT);
	expect("3312-C", CON, ZS_BASIS_INSURER);
	ck_assert_ptr_null(row("3312-C", Y, HOSP)->prov);
}
END_TEST

START_TEST(test_policy_level_provider)
{
	/* a provider statement per policy is compared with that policy alone */
	const zs_stmt a[] = {
		PRV_POL("3311-A", CON, 100),
		INS_POL("3311-A", NC, 100),
		INS_POL("3311-B", CON, 100), /* contracted elsewhere in the concern: irrelevant */
	};
	RUN(a);
	ck_assert_int_eq(nrows, 2);
	expect("3311-A", NC, ZS_BASIS_CONFLICT);
	expect("3311-B", CON, ZS_BASIS_INSURER);

	/* agreement -> confirmed */
	const zs_stmt b[] = { PRV_POL("3311-A", NC, 100), INS_POL("3311-A", NC, 100) };
	RUN(b);
	ck_assert_int_eq(nrows, 1);
	expect("3311-A", NC, ZS_BASIS_CONFIRMED);

	const zs_stmt c[] = { PRV_POL("3311-A", NEG, 100), INS_UZ("3311", NEG, 100) };
	RUN(c);
	expect("3311-A", NEG, ZS_BASIS_CONFIRMED);
	expect("3311-B", NEG, ZS_BASIS_INSURER);

	/* negotiating is its own class */
	const zs_stmt d[] = { PRV_POL("3311-A", CON, 100), INS_POL("3311-A", NEG, 100) };
	RUN(d);
	expect("3311-A", NEG, ZS_BASIS_CONFLICT);
	const zs_stmt e[] = { PRV_POL("3311-A", NEG, 100), INS_POL("3311-A", NC, 100) };
	RUN(e);
	expect("3311-A", NC, ZS_BASIS_CONFLICT);
}
END_TEST

START_TEST(test_classes)
{
	/* contracted and contracted_ceiling are one class; the insurer's status is shown */
	const zs_stmt a[] = { PRV_POL("3311-A", CON, 100), INS_POL("3311-A", CEIL, 100) };
	RUN(a);
	expect("3311-A", CEIL, ZS_BASIS_CONFIRMED);
	const zs_stmt b[] = { PRV_POL("3311-A", CEIL, 100), INS_POL("3311-A", CON, 100) };
	RUN(b);
	expect("3311-A", CON, ZS_BASIS_CONFIRMED);
	/* ended and not_contracted are one class */
	const zs_stmt c[] = { PRV_POL("3311-A", NC, 100), INS_POL("3311-A", END, 100) };
	RUN(c);
	expect("3311-A", END, ZS_BASIS_CONFIRMED);
	const zs_stmt d[] = { PRV_CON("achmea", END, 100), INS_UZ("3311", NC, 100) };
	RUN(d);
	expect("3311-A", NC, ZS_BASIS_CONFIRMED);
	expect("3311-B", NC, ZS_BASIS_CONFIRMED);
	expect("3312-C", END, ZS_BASIS_PROVIDER_ONLY);
	/* contracted vs ended: different classes */
	const zs_stmt e[] = { PRV_POL("3311-A", CON, 100), INS_POL("3311-A", END, 100) };
	RUN(e);
	expect("3311-A", END, ZS_BASIS_CONFLICT);
}
END_TEST

START_TEST(test_patient_stop)
{
	zs_stmt a[] = { INS_POL("3311-A", CON, 100), PRV_POL("3311-A", CON, 100) };
	a[0].stop_reason = "ceiling_reached";
	a[0].stop_from = "2026-11-01";
	a[1].stop_reason = "staff_shortage";
	a[1].stop_from = "2026-10-01";
	RUN(a);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->stop, &a[0]); /* the insurer's first */

	zs_stmt b[] = { INS_POL("3311-A", CON, 100), PRV_CON("achmea", CON, 100) };
	b[1].stop_reason = "staff_shortage";
	b[1].stop_from = "2026-10-01";
	b[1].stop_until = "2027-01-31";
	RUN(b);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->stop, &b[1]); /* else the provider's */
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->stop, &b[1]); /* provider-only row */
	ck_assert_int_eq(row("3311-B", Y, HOSP)->basis, ZS_BASIS_PROVIDER_ONLY);

	const zs_stmt c[] = { INS_POL("3311-A", CON, 100), PRV_POL("3311-A", CON, 100) };
	RUN(c);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->stop);

	/* the stop of a statement that lost (less specific) does not travel */
	zs_stmt d[] = { INS_UZ("3311", CON, 100), INS_POL("3311-A", CON, 100) };
	d[0].stop_reason = "other";
	d[0].stop_from = "2026-10-01";
	RUN(d);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->stop);
	ck_assert_ptr_eq(row("3311-B", Y, HOSP)->stop, &d[0]);
}
END_TEST

START_TEST(test_no_leaks_between_keys)
{
	/* another year and another care type are separate keys */
	const zs_stmt st[] = {
		INS_UZ("3311", CON, 100),                                        /* 2027 hospital */
		S(0, F_PROV, 2026, HOSP, ZS_SCOPE_CONCERN, "achmea", NC, 100),   /* 2026 hospital */
		S(1, F_INS, Y, GGZ, ZS_SCOPE_POLICY, "3311-A", NEG, 100),         /* 2027 ggz */
		S(0, F_PROV, Y, GGZ, ZS_SCOPE_POLICY, "3311-B", END, 100),        /* 2027 ggz */
		S(1, F_INS, 2026, GGZ, ZS_SCOPE_POLICY, "3311-A", CON, 999),      /* 2026 ggz */
	};
	RUN(st);
	ck_assert_int_eq(nrows, 6);
	expect("3311-A", CON, ZS_BASIS_INSURER);
	expect("3311-B", CON, ZS_BASIS_INSURER);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->prov); /* the 2026 provider statement stays out */
	ck_assert(!has_row("3312-C", Y, HOSP));
	const zs_effective *e = row("3311-A", 2026, HOSP);
	ck_assert_int_eq(e->status, NC);
	ck_assert_int_eq(e->basis, ZS_BASIS_PROVIDER_ONLY);
	ck_assert_ptr_eq(e->prov, &st[1]);
	e = row("3311-A", Y, GGZ);
	ck_assert_int_eq(e->status, NEG);
	ck_assert_int_eq(e->basis, ZS_BASIS_INSURER);
	ck_assert_ptr_null(e->prov);
	e = row("3311-B", Y, GGZ);
	ck_assert_int_eq(e->status, END);
	ck_assert_int_eq(e->basis, ZS_BASIS_PROVIDER_ONLY);
	e = row("3311-A", 2026, GGZ);
	ck_assert_int_eq(e->status, CON);
	ck_assert_int_eq(e->basis, ZS_BASIS_INSURER);
	ck_assert(!has_row("3312-C", Y, GGZ));
}
END_TEST

START_TEST(test_other_concern_unaffected)
{
	zs_stmt st[] = {
		INS_CON("achmea", NC, 100),
		S(1, F_INS_CZ, Y, HOSP, ZS_SCOPE_CONCERN, "cz", CON, 100),
		PRV_CON("cz", NC, 100),
	};
	RUN(st);
	ck_assert_int_eq(nrows, 4);
	expect("3311-A", NC, ZS_BASIS_INSURER); /* the cz provider statement does not reach achmea */
	expect("3311-B", NC, ZS_BASIS_INSURER);
	expect("3312-C", NC, ZS_BASIS_INSURER);
	expect("9664-X", CON, ZS_BASIS_CONFLICT);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->prov);
	ck_assert_ptr_eq(row("9664-X", Y, HOSP)->ins, &st[1]);

	/* a policy id of another year with the same name is another policy */
	const zs_stmt b[] = { INS_POL("3311-A", CON, 100) };
	RUN(b);
	ck_assert_int_eq(nrows, 1);
	ck_assert(!has_row("3311-A", 2026, HOSP));
}
END_TEST

START_TEST(test_unknown_ignored)
{
	/* an explicit unknown counts as not having spoken */
	const zs_stmt a[] = { INS_UZ("3311", CON, 100), INS_POL("3311-A", UNK, 900) };
	RUN(a);
	ck_assert_int_eq(nrows, 2);
	expect("3311-A", CON, ZS_BASIS_INSURER);
	ck_assert_ptr_eq(row("3311-A", Y, HOSP)->ins, &a[0]);

	const zs_stmt b[] = { INS_POL("3311-A", UNK, 100), PRV_POL("3311-A", CON, 100) };
	RUN(b);
	ck_assert_int_eq(nrows, 1);
	expect("3311-A", CON, ZS_BASIS_PROVIDER_ONLY);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->ins);

	const zs_stmt c[] = { INS_POL("3311-A", UNK, 100), PRV_CON("achmea", UNK, 100) };
	RUN(c);
	ck_assert_int_eq(nrows, 0);

	const zs_stmt d[] = { INS_POL("3311-A", CON, 100), PRV_POL("3311-A", UNK, 900) };
	RUN(d);
	expect("3311-A", CON, ZS_BASIS_INSURER);
	ck_assert_ptr_null(row("3311-A", Y, HOSP)->prov);

	/* nothing at all */
	run(NULL, 0);
	ck_assert_int_eq(nrows, 0);
	/* statements about policies nobody declared produce no rows */
	const zs_stmt e[] = { INS_POL("3311-NOPE", CON, 100), PRV_CON("menzis", CON, 100) };
	RUN(e);
	ck_assert_int_eq(nrows, 0);
}
END_TEST

START_TEST(test_concern_statement_with_specific_override)
{
	/* The provider says "contracted with concern achmea" and, more specifically, "contracted
	 * for 3311-A". The insurers contract 3311-A and not 3311-B / 3312-C. The concern-level
	 * statement covers 3311-A, where the insurer states the same class, so it does not
	 * contradict the insurer (zs_reconcile.h: "contradicts the insurer only if the insurer
	 * states the same class for none of the policies that statement covers"). */
	zs_stmt st[] = {
		PRV_CON("achmea", CON, 100),
		PRV_POL("3311-A", CON, 100),
		INS_POL("3311-A", CON, 100),
		INS_UZ("3311", NC, 100),
		INS_UZ("3312", NC, 100),
	};
	st[4].feed_id = F_INS2;
	RUN(st);
	ck_assert_int_eq(nrows, 3);
	expect("3311-A", CON, ZS_BASIS_CONFIRMED);
	expect("3311-B", NC, ZS_BASIS_INSURER);
	expect("3312-C", NC, ZS_BASIS_INSURER);
}
END_TEST

START_TEST(test_concern_statement_override_conflict)
{
	/* Same shape, but the policy-level provider statement is not_contracted (agreeing with the
	 * insurer on 3311-A) and the insurers contract nothing: the concern-level "contracted"
	 * contradicts the insurers for 3311-B and 3312-C. */
	zs_stmt st[] = {
		PRV_CON("achmea", CON, 100),
		PRV_POL("3311-A", NC, 100),
		INS_UZ("3311", NC, 100),
		INS_UZ("3312", NC, 100),
	};
	st[3].feed_id = F_INS2;
	RUN(st);
	expect("3311-A", NC, ZS_BASIS_CONFIRMED);
	expect("3311-B", NC, ZS_BASIS_CONFLICT);
	expect("3312-C", NC, ZS_BASIS_CONFLICT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_most_specific_insurer);
	tcase_add_test(tc, test_most_specific_provider);
	tcase_add_test(tc, test_latest_wins);
	tcase_add_test(tc, test_insurer_decides);
	tcase_add_test(tc, test_provider_only);
	tcase_add_test(tc, test_concern_level_conflict_all);
	tcase_add_test(tc, test_concern_level_some_contracted);
	tcase_add_test(tc, test_insurer_level_provider);
	tcase_add_test(tc, test_policy_level_provider);
	tcase_add_test(tc, test_classes);
	tcase_add_test(tc, test_patient_stop);
	tcase_add_test(tc, test_no_leaks_between_keys);
	tcase_add_test(tc, test_other_concern_unaffected);
	tcase_add_test(tc, test_unknown_ignored);
	tcase_add_test(tc, test_concern_statement_with_specific_override);
	tcase_add_test(tc, test_concern_statement_override_conflict);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
