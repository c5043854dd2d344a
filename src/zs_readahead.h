/* zs_readahead.h - a feed version's lines read, hashed and parsed on a thread of their own
 * while the ingest thread stores the lines before them (zs_apply.c). On a first load parsing
 * is about a third of reading a feed; with two cores it no longer adds to the time.
 *
 * The reader only reads: what a line means (seen, stored, rejected) is still decided by the
 * ingest thread, in line order. It parses a line ahead only when no stored row of the feed came
 * from a line with the same hash (zs_incr_known): the lines of an unchanged day are hashed,
 * not parsed, as before. Lines go over in blocks, one lock a block; the memory held ahead is
 * bounded whatever a feed holds (zs_readahead.c: 36 MB at most with the default max_line_kb,
 * under 1 MB for national feeds). The reader runs at the
 * creating thread's nice value (the ingest thread's, zs_worker.h). */
#ifndef ZS_READAHEAD_H
#define ZS_READAHEAD_H
#include <stdint.h>
#include <stdio.h>
#include "zs_feed.h"
#include "zs_incr.h"

typedef struct {
	long len;          /* as zs_feed_read_line: > 0 a line; -2 longer than max (read past); 0 the
	                    * end; -1 a read error. The last line a reader gives has 0 or -1. */
	char *line;        /* the line when len > 0; the reader's memory, valid until the next
	                    * zs_ra_next */
	size_t cap;
	uint64_t lh;       /* zs_incr_hash of the line (len > 0) */
	int parsed;        /* prc, rec and rerr hold zs_feed_parse_line of the line; rec stays the
	                    * reader's (it frees it when it reuses the line: allocation and free on
	                    * one thread), so a copy of it is valid until the next zs_ra_next */
	int prc;
	zs_rec rec;
	zs_rec_err rerr;
} zs_ra_line;

typedef struct zs_ra zs_ra;

/* Read f from where it stands, on a new thread. hdr (the version's header, for parsing) and x
 * (the stored lines, may be NULL) must stay unchanged until zs_ra_stop; from now on only the
 * reader touches f. NULL when no thread could be made: the caller reads f itself. */
zs_ra *zs_ra_start(FILE *f, zs_feed_kind kind, const zs_rec *hdr, const zs_incr *x,
                   size_t max_line);

/* The next line (waits for it). The line before it is given back. Not after the last line. */
zs_ra_line *zs_ra_next(zs_ra *ra);

/* Stop the reader (wherever it is), wait for it and free everything, including parses nobody
 * took. After it the caller may use f again. NULL is fine. */
void zs_ra_stop(zs_ra *ra);

#endif
