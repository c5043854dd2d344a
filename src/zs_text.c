/* zs_text.c - folding and edit distance for search. */
#include <ctype.h>
#include <string.h>
#include "zs_text.h"

/* U+00C0..U+017F to ASCII base letters ('\0' = drop, ' ' = separator). */
static const char latin[] =
	"AAAAAAACEEEEIIII" "DNOOOOO OUUUUYTs"  /* C0-DF (D7 x, DF ss -> s) */
	"aaaaaaaceeeeiiii" "dnooooo ouuuuyty"  /* E0-FF */
	"AaAaAaCcCcCcCcDd" "DdEeEeEeEeEeGgGg"  /* 100-11F */
	"GgGgHhHhIiIiIiIi" "IiJjJjKkkLlLlLlL"  /* 120-13F (132/133 IJ ij -> i, j) */
	"lLlNnNnNnnNnOoOo" "OoOoRrRrRrSsSsSs"  /* 140-15F */
	"SsTtTtTtUuUuUuUu" "UuUuWwYyYZzZzZzs"; /* 160-17F */

size_t zs_text_fold(const char *src, char *dst, size_t dstlen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0;
	int space = 1; /* suppress leading separators */
	if (dstlen == 0)
		return 0;
	while (*s && n + 1 < dstlen) {
		unsigned int cp;
		int len;
		if (*s < 0x80) {
			cp = *s;
			len = 1;
		} else if ((*s & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
			cp = ((unsigned)(*s & 0x1F) << 6) | (s[1] & 0x3F);
			len = 2;
		} else if ((*s & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
			cp = ((unsigned)(*s & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
			len = 3;
		} else {
			/* 4-byte or invalid: skip the lead byte and its continuation bytes */
			s++;
			while ((*s & 0xC0) == 0x80)
				s++;
			continue;
		}
		s += len;
		char c = 0;
		if (cp >= 0x300 && cp <= 0x36F) /* combining marks (decomposed accents): drop */
			continue;
		if (cp < 0x80)
			c = isalnum((int)cp) ? (char)tolower((int)cp) : ' ';
		else if (cp >= 0xC0 && cp <= 0x17F)
			c = (char)tolower((unsigned char)latin[cp - 0xC0]);
		else if (cp == 0x2019 || cp == 0xB4) /* apostrophes: 't Hofje */
			c = ' ';
		else
			c = ' ';
		if (c == ' ') {
			if (!space && n + 1 < dstlen) {
				dst[n++] = ' ';
				space = 1;
			}
			continue;
		}
		dst[n++] = c;
		space = 0;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = 0;
	return n;
}

int zs_text_distance(const char *a, size_t alen, const char *b, size_t blen, int max)
{
	int d[3][40];
	if (alen >= 39 || blen >= 39)
		return max + 1;
	if ((alen > blen ? alen - blen : blen - alen) > (size_t)max)
		return max + 1;
	/* rows i-2, i-1, i kept in a ring of 3 */
	for (size_t j = 0; j <= blen; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= alen; i++) {
		int *cur = d[i % 3], *prev = d[(i - 1) % 3], *pp = d[(i + 1) % 3];
		int rowmin;
		cur[0] = (int)i;
		rowmin = cur[0];
		for (size_t j = 1; j <= blen; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (rowmin > max)
			return max + 1;
	}
	return d[alen % 3][blen] > max ? max + 1 : d[alen % 3][blen];
}
