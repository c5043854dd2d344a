/* zs_log.c - leveled logging to stderr (plain with a UTC timestamp, or journald's priority
 * prefix without one), and the access log. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "zs_log.h"

_Atomic int zs_log_level = ZS_LOG_INFO;

static int journal;                       /* set once by zs_log_init, before threads start */
static _Atomic int access_fd = -1;        /* -1 off, 2 stderr, else our file */
static int retired_fd = -1;               /* a file replaced by "-" or "": closed later */

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_prio[] = { 3, 4, 6, 7 };

int zs_log_level_from_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

int zs_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	journal = 0;
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		journal = 1;
	return journal;
}

/* "2026-12-01T17:00:00Z " or "" under journald */
static void stamp(char *ts, size_t len, int micro)
{
	struct timespec now;
	struct tm tm;
	if (journal) {
		ts[0] = 0;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(ts + n, len - n, ".%06ldZ ", now.tv_nsec / 1000);
	else
		snprintf(ts + n, len - n, "Z ");
}

void zs_log_write(int level, const char *module, const char *fmt, ...)
{
	char line[2048];
	char ts[40], prio[8] = "";
	va_list ap;
	size_t n;
	int lv = level < 0 ? 0 : level > 3 ? 3 : level;

	stamp(ts, sizeof ts, 0);
	if (journal)
		snprintf(prio, sizeof prio, "<%d>", level_prio[lv]);
	n = (size_t)snprintf(line, sizeof line, "%s%s%-5s [%s] ", prio, ts, level_names[lv],
	                     module);
	if (n < sizeof line) {
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof line - n, fmt, ap);
		va_end(ap);
	}
	/* One fprintf per line keeps lines whole across threads (stderr is locked per call). */
	fprintf(stderr, "%s\n", line);
}

/* ---- access log ---------------------------------------------------------------------------- */

int zs_log_access_open(const char *spec, char *err, size_t errlen)
{
	int cur = atomic_load(&access_fd);
	if (!spec || !*spec || strcmp(spec, "-") == 0) {
		int nfd = spec && *spec ? 2 : -1;
		atomic_store(&access_fd, nfd);
		if (cur > 2 && cur != nfd) {
			/* a thread may be writing to it right now: close it at the next change */
			if (retired_fd > 2)
				close(retired_fd);
			retired_fd = cur;
		}
		return 0;
	}
	int fd = open(spec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "access_log %s: %s", spec, strerror(errno));
		return -1;
	}
	if (cur > 2) {
		/* reopen in place: the descriptor number stays, writers never see a closed one */
		if (dup3(fd, cur, O_CLOEXEC) < 0) {
			snprintf(err, errlen, "access_log %s: %s", spec, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	atomic_store(&access_fd, fd);
	return 0;
}

int zs_log_access_on(void)
{
	return atomic_load_explicit(&access_fd, memory_order_relaxed) >= 0;
}

void zs_log_access(const char *method, const char *path, int status, size_t bytes,
                   long long usec, int thread)
{
	static const char hex[] = "0123456789ABCDEF";
	char line[2600], ts[40];
	int fd = atomic_load(&access_fd);
	size_t n;

	if (fd < 0)
		return;
	stamp(ts, sizeof ts, 1);
	n = (size_t)snprintf(line, sizeof line, "%s%s%s ", fd == 2 && journal ? "<6>" : "", ts,
	                     method);
	for (const char *p = path ? path : "-"; *p && n + 8 < 2048 + 64; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			line[n++] = '%';
			line[n++] = hex[c >> 4];
			line[n++] = hex[c & 15];
		} else {
			line[n++] = (char)c;
		}
	}
	n += (size_t)snprintf(line + n, sizeof line - n, " status=%d bytes=%zu us=%lld thread=%d\n",
	                      status, bytes, usec, thread);
	if (n >= sizeof line)
		n = sizeof line - 1;
	ssize_t w = write(fd, line, n);
	(void)w; /* nowhere to report a failing log */
}

void zs_log_access_close(void)
{
	int fd = atomic_exchange(&access_fd, -1);
	if (fd > 2)
		close(fd);
	if (retired_fd > 2)
		close(retired_fd);
	retired_fd = -1;
}
