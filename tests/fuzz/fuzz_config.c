/* fuzz_config.c - libFuzzer target: the configuration parser (zs_config_parse), the one
 * settings table (zs_config_set through it) and --dump-config on what was accepted. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char err[512];
	zs_config cfg;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	zs_config_defaults(&cfg);
	err[0] = 0;
	int rc = zs_config_parse(&cfg, text, "fuzz.conf", "/nonexistent", err, sizeof err);
	if (rc != 0 && !err[0])
		abort(); /* a refusal always says why */
	if (rc == 0) {
		for (size_t i = 0; i < cfg.nfeeds; i++)
			if (!cfg.feeds[i].url || !cfg.feeds[i].kind || cfg.feeds[i].schedule < 1)
				abort();
		if (devnull)
			zs_config_dump(&cfg, devnull);
	}
	zs_config_free(&cfg);
	free(text);
	return 0;
}
