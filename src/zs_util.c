/* zs_util.c - small shared helpers. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <pthread.h>
#include <unistd.h>
#include <zlib.h>
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

size_t zs_str_put(char *dst, size_t cap, size_t n, const char *s)
{
	size_t l = strlen(s);
	if (n + l > cap - 1)
		l = cap - 1 - n;
	memcpy(dst + n, s, l);
	dst[n + l] = 0;
	return n + l;
}

const char *zs_ll_text(long long v, char buf[ZS_LL_TEXT])
{
	char *p = buf + ZS_LL_TEXT;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	*--p = 0;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

size_t zs_utf8_seq(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	size_t len;
	unsigned cp, min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int zs_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t l = zs_utf8_seq(p + i, n - i);
		if (l == 0 || p[i] == 0)
			return 0;
		i += l;
	}
	return 1;
}

char *zs_escape_text(const char *s, size_t n, char *out, size_t outlen, size_t maxbytes)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;
	if (outlen == 0)
		return out;
	if (maxbytes > outlen - 4) /* room for "..." and the NUL */
		maxbytes = outlen > 4 ? outlen - 4 : 0;
	while (i < n) {
		char tmp[8];
		size_t l = zs_utf8_seq(p + i, n - i), tl;
		if (l == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(tmp, sizeof tmp, "\\x%02X", p[i]);
			tl = 4;
			l = 1;
		} else {
			memcpy(tmp, p + i, l);
			tl = l;
		}
		if (o + tl > maxbytes)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
		i += l;
	}
	if (i < n && o + 3 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

/* One deflate stream per thread and level, reset between uses: deflateInit allocates some
 * 270 KB of state, which per answer cost more than the compression of a small one (and, above
 * the mmap threshold, a mmap/munmap pair each time). A serving thread uses two levels (answers
 * at 1, static files at 6), each with its own stream. Freed when the thread ends. */
typedef struct {
	z_stream *z[10];          /* by level 0-9, made on first use */
} gz_streams;

static pthread_key_t gz_key;
static int gz_key_ok;
static pthread_once_t gz_once = PTHREAD_ONCE_INIT;

static void gz_streams_free(void *p)
{
	gz_streams *g = p;
	for (size_t i = 0; g && i < sizeof g->z / sizeof g->z[0]; i++)
		if (g->z[i]) {
			deflateEnd(g->z[i]);
			free(g->z[i]);
		}
	free(g);
}

static void gz_key_make(void)
{
	gz_key_ok = pthread_key_create(&gz_key, gz_streams_free) == 0;
}

static z_stream *gz_stream(int level)
{
	pthread_once(&gz_once, gz_key_make);
	if (!gz_key_ok || level < 0 || level > 9)
		return NULL;
	gz_streams *g = pthread_getspecific(gz_key);
	if (!g) {
		if (!(g = calloc(1, sizeof *g)) || pthread_setspecific(gz_key, g) != 0) {
			free(g);
			return NULL;
		}
	}
	if (g->z[level])
		return deflateReset(g->z[level]) == Z_OK ? g->z[level] : NULL;
	z_stream *z = calloc(1, sizeof *z);
	if (!z || deflateInit2(z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(z);
		return NULL;
	}
	return g->z[level] = z;
}

int zs_gzip(const char *data, size_t n, int level, unsigned char **out, size_t *outlen)
{
	*out = NULL;
	z_stream *z = gz_stream(level);
	if (!z)
		return -1;
	size_t cap = deflateBound(z, (uLong)n);
	unsigned char *buf = malloc(cap);
	if (!buf)
		return -1;
	z->next_in = (unsigned char *)(uintptr_t)data;
	z->avail_in = (uInt)n;
	z->next_out = buf;
	z->avail_out = (uInt)cap;
	int rc = deflate(z, Z_FINISH);
	*outlen = cap - z->avail_out;
	z->next_in = z->next_out = NULL;
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

void zs_gzip_thread_done(void)
{
	pthread_once(&gz_once, gz_key_make);
	if (!gz_key_ok)
		return;
	gz_streams_free(pthread_getspecific(gz_key));
	pthread_setspecific(gz_key, NULL);
}

void zs_thread_name(const char *name)
{
#ifdef __GLIBC__
	pthread_setname_np(pthread_self(), name);
#else
	(void)name;
#endif
}

int zs_pread_all(int fd, char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, buf + done, n - done, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}
