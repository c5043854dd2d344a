/* zs_readahead.c - feed lines read and parsed ahead on a thread of their own (zs_readahead.h). */
#include "config.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "zs_log.h"
#include "zs_readahead.h"
#include "zs_util.h"

#define MOD "ingest"
#define RA_PER_BLOCK 64   /* lines handed over under one lock */
#define RA_BLOCKS 16      /* at most this many blocks read ahead of the ingest thread */
/* Memory: a block ends early once its lines hold RA_BLOCK_BYTES, and a line buffer that grew
 * past RA_KEEP_BYTES is given back when its line is reused. So what is read ahead stays under
 * RA_BLOCKS x (RA_BLOCK_BYTES + max_line) plus RA_BLOCKS x RA_PER_BLOCK x RA_KEEP_BYTES (36 MB
 * with the default max_line_kb) whatever a feed holds; national feeds (lines of 100-300 bytes)
 * use well under 1 MB. */
#define RA_BLOCK_BYTES (256 * 1024)
#define RA_KEEP_BYTES (16 * 1024)

typedef struct {
	zs_ra_line v[RA_PER_BLOCK];
	int n;      /* lines in the block */
	int full;   /* the reader filled it; the ingest thread has not given it back */
} ra_block;

struct zs_ra {
	FILE *f;
	zs_feed_kind kind;
	const zs_rec *hdr;
	const zs_incr *x;
	size_t max;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;          /* the ingest thread wants no more lines */
	size_t cb;         /* the block the ingest thread reads */
	int ci;            /* its line in that block; -1 before the first */
	ra_block b[RA_BLOCKS];
};

/* The parse of a line is freed when the reader reuses the line (or at the stop). */
static void line_drop(zs_ra_line *l)
{
	if (l->parsed && l->prc == 0)
		zs_rec_clear(&l->rec);
	l->parsed = 0;
}

static void *ra_main(void *arg)
{
	zs_ra *ra = arg;
	zs_thread_name("zs-readahead");
	for (size_t k = 0;; k++) {
		ra_block *b = &ra->b[k % RA_BLOCKS];
		pthread_mutex_lock(&ra->mu);
		while (b->full && !ra->stop)
			pthread_cond_wait(&ra->cv, &ra->mu);
		int stop = ra->stop;
		pthread_mutex_unlock(&ra->mu);
		if (stop)
			return NULL;
		int n = 0, end = 0;
		size_t bytes = 0;
		while (n < RA_PER_BLOCK && !end && bytes < RA_BLOCK_BYTES) {
			zs_ra_line *l = &b->v[n++];
			line_drop(l);
			if (l->cap > RA_KEEP_BYTES) {
				free(l->line);
				l->line = NULL;
				l->cap = 0;
			}
			l->len = zs_feed_read_line(ra->f, &l->line, &l->cap, ra->max);
			if (l->len > 0) {
				bytes += (size_t)l->len;
				l->lh = zs_incr_hash(l->line, (size_t)l->len);
				if (!zs_incr_known(ra->x, l->lh)) {
					l->prc = zs_feed_parse_line(ra->kind, ra->hdr, l->line, (size_t)l->len,
					                            &l->rec, &l->rerr);
					l->parsed = 1;
				}
			} else if (l->len != -2) {
				end = 1;
			}
		}
		pthread_mutex_lock(&ra->mu);
		b->n = n;
		b->full = 1;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
		if (end)
			return NULL;
	}
}

zs_ra *zs_ra_start(FILE *f, zs_feed_kind kind, const zs_rec *hdr, const zs_incr *x,
                   size_t max_line)
{
	zs_ra *ra = calloc(1, sizeof *ra);
	if (!ra)
		return NULL;
	ra->f = f;
	ra->kind = kind;
	ra->hdr = hdr;
	ra->x = x;
	ra->max = max_line;
	ra->ci = -1;
	if (pthread_mutex_init(&ra->mu, NULL)) {
		free(ra);
		return NULL;
	}
	if (pthread_cond_init(&ra->cv, NULL)) {
		pthread_mutex_destroy(&ra->mu);
		free(ra);
		return NULL;
	}
	if (pthread_create(&ra->thread, NULL, ra_main, ra)) {
		ZS_WARN(MOD, "no thread to read feed lines ahead: reading them in turn");
		pthread_cond_destroy(&ra->cv);
		pthread_mutex_destroy(&ra->mu);
		free(ra);
		return NULL;
	}
	return ra;
}

zs_ra_line *zs_ra_next(zs_ra *ra)
{
	ra_block *b = &ra->b[ra->cb % RA_BLOCKS];
	if (ra->ci >= 0 && ++ra->ci == b->n) {
		/* the block is done: give it back (the reader frees its parses when it reuses it) */
		pthread_mutex_lock(&ra->mu);
		b->full = 0;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
		b = &ra->b[++ra->cb % RA_BLOCKS];
		ra->ci = 0;
	} else if (ra->ci < 0) {
		ra->ci = 0;
	}
	pthread_mutex_lock(&ra->mu);
	while (!b->full)
		pthread_cond_wait(&ra->cv, &ra->mu);
	pthread_mutex_unlock(&ra->mu);
	return &b->v[ra->ci];
}

void zs_ra_stop(zs_ra *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->mu);
	ra->stop = 1;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
	pthread_join(ra->thread, NULL);
	for (int k = 0; k < RA_BLOCKS; k++)
		for (int i = 0; i < RA_PER_BLOCK; i++) {
			line_drop(&ra->b[k].v[i]);
			free(ra->b[k].v[i].line);
		}
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->mu);
	free(ra);
}
