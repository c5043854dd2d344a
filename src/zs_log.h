/* zs_log.h - leveled logging to stderr. ZS_LOG checks the level before formatting.
 * Never log credentials or URLs with user info (use zs_url_redact). */
#ifndef ZS_LOG_H
#define ZS_LOG_H

enum { ZS_LOG_ERROR = 0, ZS_LOG_WARN = 1, ZS_LOG_INFO = 2, ZS_LOG_DEBUG = 3 };

extern int zs_log_level;

/* Returns the level for "error"/"warn"/"info"/"debug", or -1. */
int zs_log_level_from_name(const char *name);
void zs_log_write(int level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define ZS_LOG(level, module, ...) \
	do { if ((level) <= zs_log_level) zs_log_write((level), (module), __VA_ARGS__); } while (0)
#define ZS_ERROR(mod, ...) ZS_LOG(ZS_LOG_ERROR, mod, __VA_ARGS__)
#define ZS_WARN(mod, ...)  ZS_LOG(ZS_LOG_WARN, mod, __VA_ARGS__)
#define ZS_INFO(mod, ...)  ZS_LOG(ZS_LOG_INFO, mod, __VA_ARGS__)
#define ZS_DEBUG(mod, ...) ZS_LOG(ZS_LOG_DEBUG, mod, __VA_ARGS__)

#endif
