/* zs_util.h - small helpers shared by the core modules. */
#ifndef ZS_UTIL_H
#define ZS_UTIL_H
#include <stddef.h>

/* Make room for element n of the array *pv (elem bytes each, *cap allocated): when n == *cap
 * it grows to twice the size (first when empty). Returns 0; on out-of-memory -1 with *pv and
 * *cap unchanged (still owned by the caller). pv is the address of the array pointer. */
int zs_grow(void *pv, size_t *cap, size_t n, size_t elem, size_t first);

/* Append s to dst (cap bytes, n of them used) as snprintf would: cut to fit, always
 * NUL-terminated (cap > n). Returns the new length. For strings made on every answer, where a
 * formatted print costs more than the copy. */
size_t zs_str_put(char *dst, size_t cap, size_t n, const char *s);

/* v in decimal ("%lld"), written at the end of buf; returns where it starts. Without printf,
 * for numbers made on every answer. */
#define ZS_LL_TEXT 24
const char *zs_ll_text(long long v, char buf[ZS_LL_TEXT]);

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when s starts with an invalid
 * one (bad lead byte, truncated, overlong, surrogate, above U+10FFFF). */
size_t zs_utf8_seq(const unsigned char *s, size_t n);
/* 1 when s[0..n) is valid UTF-8 without NUL bytes. */
int zs_utf8_valid(const char *s, size_t n);
/* Copy s[0..n) into out (outlen bytes, always NUL-terminated) as valid, printable UTF-8:
 * invalid bytes and control characters become "\xHH"; at most maxbytes of output are kept,
 * cut on a character boundary with "..." appended when something was left out. Returns out. */
char *zs_escape_text(const char *s, size_t n, char *out, size_t outlen, size_t maxbytes);

/* gzip (zlib level 1-9) of data[0..n) into a new buffer *out of *outlen bytes (caller frees).
 * 0 ok, -1 on out-of-memory or a zlib error (*out NULL). */
int zs_gzip(const char *data, size_t n, int level, unsigned char **out, size_t *outlen);
/* Read exactly n bytes of fd from offset 0 into buf (pread, EINTR retried): 0, or -1 (errno;
 * EIO when the file is shorter). */
int zs_pread_all(int fd, char *buf, size_t n);
/* zs_gzip keeps one deflate stream per thread (freed when the thread ends); the main thread
 * may give its own back early with this (leak checkers). */
void zs_gzip_thread_done(void);

/* Name the calling thread as top -H, ps -L and /proc/PID/task/TID/comm show it (at most 15
 * bytes; where the C library cannot, nothing happens). */
void zs_thread_name(const char *name);

#endif
