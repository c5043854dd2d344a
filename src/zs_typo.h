/* zs_typo.h - typo alternatives for search words: the terms of the name, alias and city
 * columns of the search index within edit distance 1 (words of 4 letters) or 2 (5 and more),
 * only those at the smallest distance found, most frequent first. Found through a deletion
 * index (every term under its deletions of up to 2 letters) built from the FTS5 vocabulary
 * when the searchable data changed (the reader's search_gen), never a scan per query.
 * The index belongs to the reader (r->sidx): zs_search_free_cache frees it. */
#ifndef ZS_TYPO_H
#define ZS_TYPO_H
#include "zs_api.h"

#define ZS_TYPO_MAX_ALTS 6
#define ZS_TYPO_MAX_TERM 40

/* Up to max (<= ZS_TYPO_MAX_ALTS) alternatives of w into alt; returns how many. */
int zs_typo_alternatives(zs_reader *r, const char *w, char alt[][ZS_TYPO_MAX_TERM + 1], int max);

#endif
