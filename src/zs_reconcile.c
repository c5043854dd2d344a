/* zs_reconcile.c - per-provider reconciliation (see zs_reconcile.h for the rules). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "zs_db.h"
#include "zs_feed.h"
#include "zs_reconcile.h"
#include "zs_util.h"

static int covers(const zs_stmt *s, const zs_policy_ref *p)
{
	switch (s->scope) {
	case ZS_SCOPE_POLICY: return strcmp(s->scope_id, p->id) == 0;
	case ZS_SCOPE_INSURER: return p->uzovi && strcmp(s->scope_id, p->uzovi) == 0;
	case ZS_SCOPE_CONCERN: return p->concern_id && strcmp(s->scope_id, p->concern_id) == 0;
	default: return 0;
	}
}

/* Is a better than b? More specific scope (lower number) wins, then the later said_at, then
 * the lower feed id (stable). */
static int better(const zs_stmt *a, const zs_stmt *b)
{
	if (!b)
		return 1;
	if (a->scope != b->scope)
		return a->scope < b->scope;
	if (a->said_at != b->said_at)
		return a->said_at > b->said_at;
	return a->feed_id < b->feed_id;
}

static const zs_stmt *best(const zs_stmt *st, size_t n, int from_insurer, int year,
                           const char *care_type, const zs_policy_ref *p)
{
	const zs_stmt *b = NULL;
	for (size_t i = 0; i < n; i++) {
		const zs_stmt *s = &st[i];
		if (s->from_insurer != from_insurer || s->year != year || s->status == ZS_STATUS_UNKNOWN ||
		    strcmp(s->care_type, care_type) != 0 || !covers(s, p))
			continue;
		if (better(s, b))
			b = s;
	}
	return b;
}

int zs_reconcile(const zs_stmt *st, size_t n, const zs_policy_ref *pol, size_t npol,
                 zs_effective **out, size_t *nout)
{
	size_t cap = 16, cnt = 0;
	zs_effective *rows = malloc(cap * sizeof *rows);
	*out = NULL;
	*nout = 0;
	if (!rows)
		return -1;
	/* Distinct (year, care_type) pairs among the statements. */
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = st[j].year == st[i].year && strcmp(st[j].care_type, st[i].care_type) == 0;
		if (seen)
			continue;
		int year = st[i].year;
		const char *ct = st[i].care_type;
		size_t first = cnt;
		for (size_t k = 0; k < npol; k++) {
			const zs_policy_ref *p = &pol[k];
			if (p->year != year)
				continue;
			const zs_stmt *ins = best(st, n, 1, year, ct, p);
			const zs_stmt *prov = best(st, n, 0, year, ct, p);
			if (!ins && !prov)
				continue;
			if (zs_grow(&rows, &cap, cnt, sizeof *rows, 16)) {
				free(rows);
				return -1;
			}
			zs_effective *e = &rows[cnt++];
			memset(e, 0, sizeof *e);
			e->policy = p;
			e->care_type = ct;
			e->year = year;
			e->ins = ins;
			e->prov = prov;
			const zs_stmt *src = ins ? ins : prov;
			e->status = src->status;
			e->as_contracted = ins ? ins->as_contracted : 0;
			e->ceiling = ins ? ins->ceiling : 0;
			e->ceiling_exempt = ins ? ins->ceiling_exempt : NULL;
			e->stop = ins && ins->stop_from ? ins : prov && prov->stop_from ? prov : NULL;
			e->basis = ins ? ZS_BASIS_INSURER : ZS_BASIS_PROVIDER_ONLY;
		}
		/* Compare at the level the provider spoke. */
		for (size_t r = first; r < cnt; r++) {
			zs_effective *e = &rows[r];
			if (!e->ins || !e->prov)
				continue;
			int pc = zs_status_class(e->prov->status);
			if (zs_status_class(e->ins->status) == pc) {
				e->basis = ZS_BASIS_CONFIRMED;
				continue;
			}
			if (e->prov->scope == ZS_SCOPE_POLICY) {
				e->basis = ZS_BASIS_CONFLICT;
				continue;
			}
			/* Broad provider statement: consistent if the insurer states the same class for
			 * any policy that the statement covers (even where a more specific provider
			 * statement wins for that policy). */
			int agrees_somewhere = 0;
			for (size_t q = first; q < cnt && !agrees_somewhere; q++)
				agrees_somewhere = covers(e->prov, rows[q].policy) && rows[q].ins &&
				                   zs_status_class(rows[q].ins->status) == pc;
			e->basis = agrees_somewhere ? ZS_BASIS_INSURER : ZS_BASIS_CONFLICT;
		}
	}
	*out = rows;
	*nout = cnt;
	return 0;
}
