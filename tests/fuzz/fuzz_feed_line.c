/* fuzz_feed_line.c - libFuzzer target: the feed line parser (zs_feed_parse_line), the key
 * reader for invalid rows (zs_feed_line_key) and the bounded line reader (zs_feed_read_line).
 * The first byte chooses the feed kind and whether a header has been seen. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_feed.h"
#include "zs_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static zs_rec ins_hdr, prov_hdr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char ih[] = "{\"type\":\"header\",\"format\":\"zorgstatus-insurer\",\"version\":1,"
	        "\"generated_at\":\"2026-11-12T06:00:00+01:00\",\"concern\":{\"id\":\"achmea\","
	        "\"name\":\"Achmea\"},\"insurer\":{\"uzovi\":\"3311\",\"name\":\"Zilveren Kruis\"}}";
	static const char ph[] = "{\"type\":\"header\",\"format\":\"zorgstatus-provider\","
	        "\"version\":1,\"publisher\":{\"name\":\"Groep\"}}";
	zs_rec_err e;
	(void)argc;
	(void)argv;
	if (zs_time_init() != 0 ||
	    zs_feed_parse_line(ZS_FEED_INSURER, NULL, ih, strlen(ih), &ins_hdr, &e) != 0 ||
	    zs_feed_parse_line(ZS_FEED_PROVIDER, NULL, ph, strlen(ph), &prov_hdr, &e) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned mode = data[0];
	const char *line = (const char *)data + 1;
	size_t len = size - 1;
	zs_feed_kind kind = (mode & 1) ? ZS_FEED_PROVIDER : ZS_FEED_INSURER;
	const zs_rec *hdr = (mode & 2) ? NULL : kind == ZS_FEED_INSURER ? &ins_hdr : &prov_hdr;
	zs_rec rec;
	zs_rec_err err;
	int rc = zs_feed_parse_line(kind, hdr, line, len, &rec, &err);
	if (rc == 0) {
		if (!rec.json || rec.type < ZS_REC_HEADER || rec.type > ZS_REC_END)
			abort();
		zs_rec_clear(&rec);
	} else if (rc < 0) {
		/* an invalid record always names a field and a reason */
		if (!err.field[0] || !err.reason[0] || rec.json)
			abort();
		zs_rec_key key;
		if (zs_feed_line_key(line, len, &key) == 1 &&
		    (!zs_valid_agb(key.agb) && key.type != ZS_REC_POLICY))
			abort();
	}
	/* the bounded line reader over the same bytes, with a small limit */
	FILE *f = fmemopen((void *)(uintptr_t)line, len ? len : 1, "r");
	if (f && len) {
		char *buf = NULL;
		size_t cap = 0, total = 0;
		long n;
		while ((n = zs_feed_read_line(f, &buf, &cap, 32)) != 0 && n != -1) {
			if (n > 32 || cap > 34)
				abort(); /* never more than the limit in memory */
			total += n > 0 ? (size_t)n : 0;
		}
		if (total > len)
			abort();
		free(buf);
	}
	if (f)
		fclose(f);
	return 0;
}
