/* zs_log.c - leveled logging to stderr, one line per message, with UTC timestamp. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "zs_log.h"

int zs_log_level = ZS_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int zs_log_level_from_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void zs_log_write(int level, const char *module, const char *fmt, ...)
{
	char line[2048];
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = (size_t)snprintf(line, sizeof line, "%s %-5s [%s] ", ts,
	                     level_names[level < 0 ? 0 : level > 3 ? 3 : level], module);
	if (n < sizeof line) {
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof line - n, fmt, ap);
		va_end(ap);
	}
	/* One fputs per line keeps lines whole across threads. */
	fprintf(stderr, "%s\n", line);
}
