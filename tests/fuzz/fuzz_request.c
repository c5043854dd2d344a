/* fuzz_request.c - libFuzzer target: raw HTTP requests through libevent's parser, the
 * request checks, the router and every handler (zs_http_local: the serving code without its
 * thread), on a database loaded with the bundled sample feeds. The input is the request as it
 * comes off the wire. Asserted: an answer is JSON with a body, and never a 5xx (the database is
 * healthy, so no answer may say the server cannot answer).
 *
 * Environment: ZS_FUZZ_FEEDS_DIR (default: the source tree's feeds/, compiled in). */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "zs_ready.h"
#include "zs_api.h"
#include "zs_config.h"
#include "zs_consequence.h"
#include "zs_db.h"
#include "zs_http.h"
#include "zs_ingest.h"
#include "zs_log.h"
#include "zs_time.h"
#include "zs_worker.h"

#ifndef ZS_FUZZ_FEEDS_DIR
#define ZS_FUZZ_FEEDS_DIR "feeds"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static zs_config cfg;
static struct event_base *base;
static zs_reader *reader;
static zs_http_local *srv;
static struct sockaddr_in addr;
static const char token[] = "fuzz-staff-token-0123456789";

static char tmpdir[] = "/tmp/zsfuzz-XXXXXX";

static void cleanup(void)
{
	static const char *const files[] = { "fuzz.db", "fuzz.db-wal", "fuzz.db-shm" };
	char p[sizeof tmpdir + 16];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_request: %s: %s\n", what, err);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[1024], conf[4096], dbpath[300];
	const char *dir = getenv("ZS_FUZZ_FEEDS_DIR");
	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		dir = ZS_FUZZ_FEEDS_DIR;
	zs_log_level = ZS_LOG_ERROR;
	if (zs_time_init() != 0 || zs_clock_set("2026-11-20T12:00:00") != 0)
		die("clock", "time zone");
	if (zs_phrases_init(err, sizeof err) != 0)
		die("phrases", err);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(conf, sizeof conf, "%s/sample.conf", dir);
	zs_config_defaults(&cfg);
	if (zs_config_load_file(&cfg, conf, err, sizeof err) != 0)
		die(conf, err);
	if (!mkdtemp(tmpdir))
		die("mkdtemp", strerror(errno));
	atexit(cleanup);
	snprintf(dbpath, sizeof dbpath, "%s/fuzz.db", tmpdir);
	zs_config_set(&cfg, "database", dbpath, err, sizeof err);
	sqlite3 *db = zs_db_open(dbpath, 0, err, sizeof err);
	if (!db || zs_ingest_register(db, &cfg, err, sizeof err) != 0)
		die("database", err);
	for (int pass = 0; pass < 2; pass++) /* insurer feeds first */
		for (size_t i = 0; i < cfg.nfeeds; i++)
			if ((pass == 0) == (cfg.feeds[i].kind == ZS_FEED_INSURER) &&
			    zs_fetch_once(db, &cfg, &cfg.feeds[i], NULL, err, sizeof err) != 0)
				die(cfg.feeds[i].name, err);
	sqlite3_close(db);
	/* every feed is loaded: ready, as the daemon is after its first round (else /readyz
	 * answers its designed 503, which the 5xx check below would take for a failure) */
	static char ready_db[sizeof dbpath];
	snprintf(ready_db, sizeof ready_db, "%s", dbpath);
	zs_ready_init(ready_db);
	zs_ready_set(1, NULL);
	if (!(reader = zs_reader_open(&cfg, err, sizeof err)))
		die("reader", err);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t al = sizeof addr;
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&addr, &al))
		die("listen", strerror(errno));
	if (!(base = event_base_new()) || !(srv = zs_http_local_new(&cfg, base, reader, token, fd)))
		die("http", "cannot set up the router");
	return 0;
}

/* The status of the first response in buf, and whether it is complete. */
static int response_done(const char *buf, size_t n, int head, int *status)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	if (!end || n < 12)
		return 0;
	*status = atoi(buf + 9);
	if (head || *status == 204 || *status == 304)
		return 1;
	const char *cl = memmem(buf, (size_t)(end - buf), "Content-Length: ", 16);
	if (!cl)
		return 0;
	size_t want = strtoul(cl + 16, NULL, 10);
	return (size_t)(buf + n - (end + 4)) >= want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char resp[1 << 22];
	size_t n = 0;
	int status = 0, done = 0;
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof addr) != 0) {
		if (c >= 0)
			close(c);
		return 0;
	}
	int head = size >= 5 && memcmp(data, "HEAD ", 5) == 0;
	size_t off = 0;
	/* Write while the server reads, without blocking on a full socket. Loopback delivers at
	 * once and the handlers run inside event_base_loop, so a request that is complete has
	 * its answer after a few rounds; an incomplete one (evhttp waits for more) gets none. */
	for (int idle = 0; idle < 8 && !done;) {
		if (off < size) {
			ssize_t w = send(c, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0) {
				off += (size_t)w;
				idle = 0;
			} else if (w < 0 && errno != EAGAIN) {
				off = size;
			}
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		ssize_t r = recv(c, resp + n, sizeof resp - 1 - n, MSG_DONTWAIT);
		if (r > 0) {
			n += (size_t)r;
			idle = 0;
			done = response_done(resp, n, head, &status);
			continue;
		}
		if (r == 0)
			break; /* the server closed the connection */
		idle++;
	}
	close(c);
	for (int i = 0; i < 4; i++) /* let evhttp see the close and free the connection */
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (n >= 12 && memcmp(resp, "HTTP/1.", 7) == 0) {
		/* the status follows the first space: libevent echoes the request's minor version,
		 * which can have several digits ("HTTP/1.107 400 Bad Request") */
		const char *sp = memchr(resp, ' ', n);
		status = sp ? atoi(sp + 1) : 0;
		if (status >= 500) {
			resp[n < 600 ? n : 600] = 0;
			fprintf(stderr, "fuzz_request: a 5xx answer:\n%s\n", resp);
			abort();
		}
		/* Every answer of ours is JSON. libevent 2.1 answers a request line it cannot parse
		 * (not HTTP at all) with its own HTML 400 before any callback of ours: allowed. */
		int libevent_400 = status == 400 && memmem(resp, n, "<TITLE>400 Bad Request", 22);
		if (done && !head && status != 204 && status != 304 && status != 200 &&
		    !libevent_400 && !memmem(resp, n, "Content-Type: application/json", 30)) {
			resp[n < 600 ? n : 600] = 0;
			fprintf(stderr, "fuzz_request: an error answer that is not JSON:\n%s\n", resp);
			abort();
		}
	}
	return 0;
}
