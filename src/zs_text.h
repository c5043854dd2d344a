/* zs_text.h - text folding for search: lower case, Latin diacritics removed ("Máxima" ->
 * "maxima"), every run of non-alphanumerics one space, trimmed. */
#ifndef ZS_TEXT_H
#define ZS_TEXT_H
#include <stddef.h>

/* Fold src into dst (dstlen bytes, always NUL-terminated). Returns the length written. */
size_t zs_text_fold(const char *src, char *dst, size_t dstlen);

/* Edit distance between a and b (Damerau: a swap of neighbours counts 1), or max+1 when it
 * exceeds max. */
int zs_text_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

#endif
