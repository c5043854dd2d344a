/* zs_log.h - leveled logging to stderr, and the optional access log.
 * ZS_LOG checks the level before formatting. Never log credentials or URLs with user info
 * (use zs_url_redact).
 *
 * Format: "2026-12-01T17:00:00Z warn  [module] text" on a terminal or in a file; under journald
 * (JOURNAL_STREAM names our stderr) "<4>warn  [module] text": the sd-daemon priority prefix
 * (journald parses it: journalctl -p warning) and no own timestamp (journald adds one).
 * Nothing here allocates memory that the caller frees. */
#ifndef ZS_LOG_H
#define ZS_LOG_H
#include <stddef.h>
#include <stdatomic.h>

enum { ZS_LOG_ERROR = 0, ZS_LOG_WARN = 1, ZS_LOG_INFO = 2, ZS_LOG_DEBUG = 3 };

/* The threshold; atomic so that a reload (SIGHUP) can change it while threads log. */
extern _Atomic int zs_log_level;

/* Returns the level for "error"/"warn"/"info"/"debug", or -1. */
int zs_log_level_from_name(const char *name);

/* Decide the stderr format once at start: journald format when JOURNAL_STREAM is set and its
 * "device:inode" is our stderr (as sd-daemon(3) describes). Returns 1 for journald format. */
int zs_log_init(void);

void zs_log_write(int level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define ZS_LOG(level, module, ...) \
	do { if ((level) <= zs_log_level) zs_log_write((level), (module), __VA_ARGS__); } while (0)
#define ZS_ERROR(mod, ...) ZS_LOG(ZS_LOG_ERROR, mod, __VA_ARGS__)
#define ZS_WARN(mod, ...)  ZS_LOG(ZS_LOG_WARN, mod, __VA_ARGS__)
#define ZS_INFO(mod, ...)  ZS_LOG(ZS_LOG_INFO, mod, __VA_ARGS__)
#define ZS_DEBUG(mod, ...) ZS_LOG(ZS_LOG_DEBUG, mod, __VA_ARGS__)

/* The access log (setting access_log): "" off, "-" stderr (with the log format's prefix),
 * else a file opened for appending (created 0640). Called at start and on every reload: a
 * file already open is reopened in place (log rotation). 0, or -1 with err (the old log stays). */
int zs_log_access_open(const char *spec, char *err, size_t errlen);
/* Is the access log on? (one atomic load: callers skip building the line when it is off) */
int zs_log_access_on(void);
/* One line per request: "TIME METHOD PATH status=200 bytes=1234 us=567 thread=1". The path
 * is written with control characters, spaces and quotes percent-escaped, cut at 2 KiB. One
 * write(2) per line keeps lines whole across threads. */
void zs_log_access(const char *method, const char *path, int status, size_t bytes,
                   long long usec, int thread);
/* Close the access log (at exit). */
void zs_log_access_close(void);

#endif
