/* zs_util.h - small helpers shared by the core modules. */
#ifndef ZS_UTIL_H
#define ZS_UTIL_H
#include <stddef.h>

/* Make room for element n of the array *pv (elem bytes each, *cap allocated): when n == *cap
 * it grows to twice the size (first when empty). Returns 0; on out-of-memory -1 with *pv and
 * *cap unchanged (still owned by the caller). pv is the address of the array pointer. */
int zs_grow(void *pv, size_t *cap, size_t n, size_t elem, size_t first);

#endif
