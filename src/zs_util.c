/* zs_util.c - small shared helpers. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "zs_util.h"

int zs_grow(void *pv, size_t *cap, size_t n, size_t elem, size_t first)
{
	void *old;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : first;
	memcpy(&old, pv, sizeof old);
	void *nv = realloc(old, ncap * elem);
	if (!nv)
		return -1;
	memcpy(pv, &nv, sizeof nv);
	*cap = ncap;
	return 0;
}
