/* bench/pace.c - an open-loop HTTP/1.1 load generator in one process, for bench/openloop.py.
 *
 *   pace --port P --conns N --rate R --seconds S --lists PREFIX --log FILE [--warmup W]
 *        [--header H]...
 *
 * Opens N keep-alive connections to 127.0.0.1:P. Connection i reads its own request list,
 * PREFIX-i.txt (one path per line, used in order, from the start again at the end), and sends
 * request k when it is due: at t0 + (i + k * N) / R seconds, so that the N connections together
 * offer R requests per second, evenly spaced (sent on a 0.5 ms tick: at most a tick late).
 * What happens to the answers does not change when a request is due (open loop). One request is in flight per connection (HTTP/1.1 without
 * pipelining): a request that falls due while its connection still waits for an answer is sent
 * right after that answer, and its latency from when it was due counts the wait.
 *
 * Why it exists: h2load sends at a fixed rate only per connection and walks one request list in
 * the same order on every connection of a process, so the bench ran 32 h2load processes of one
 * connection each. On a 2-core machine those 32 processes compete with the server for the CPU and
 * wake up thousands of times a second; this tool is one thread with one epoll loop and one timer.
 *
 * The log has one line per request: due_us sent_us done_us status bytes (microseconds from t0,
 * CLOCK_MONOTONIC; status -1: the connection failed or closed before the whole answer came).
 * With --warmup W the first W seconds or more are a warm-up: it ends once no request is more
 * than 10 ms overdue (the server has worked off what it fell behind at its cold start), or 30 s
 * after W at the latest; the S measured seconds follow. The log's first line says where:
 * "# measure_from_us M caught_up 0|1"; a request belongs to the warm-up when due_us < M.
 * Requests due after the end are not sent; the run ends when the last answer is in (or
 * 10 s after S). Answers must carry Content-Length (the daemon's and nginx's do) or have no body
 * (1xx, 204, 304). Needs libevent only; not installed, not part of the product. */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	int64_t due, sent, done;
	int status;
	int64_t bytes;
} rec;

typedef struct conn conn;
struct conn {
	int idx;
	int fd;
	struct event *ev;
	char **paths;
	size_t npaths, next_path;
	int64_t k;        /* requests made due so far */
	int64_t queued;   /* due but not yet sent */
	int busy;         /* a request is in flight */
	int64_t inflight; /* index in recs of the request in flight */
	int64_t body_left;
	int in_body;
	int cur_status;
	int64_t cur_bytes;
	char head[16384]; /* the answer's head until its blank line */
	size_t headlen;
};

static struct event_base *base;
static int port, nconns, seconds, warmup;
static double rate;
static const char *lists, *logpath;
static char *extra_headers;
static int64_t t0;
static rec *recs;
static size_t nrecs, caprecs;
static conn *conns;
static int64_t end_us;
static long failures;
static long why[4]; /* failures by cause: closed by the server, receive error, unreadable, send */
static char rbuf[1 << 20];

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0;
}

static void die(const char *what)
{
	fprintf(stderr, "pace: %s\n", what);
	exit(2);
}

static int64_t due_of(conn *c, int64_t k)
{
	return (int64_t)(((double)c->idx + (double)k * nconns) * 1e6 / rate);
}

static void send_next(conn *c);
static void connect_conn(conn *c);

/* Sends, on every connection, what has fallen due by now. Called every TICK_US from one timer:
 * one wake-up sends what fell due in the tick (a timer per request would wake the process and
 * re-arm a timerfd for every request, tens of thousands of times a second, and make it compete
 * with the server for the CPU). A request is sent up to a tick after it was due; the "from
 * due" latency counts that. */
#define TICK_US 500

/* The warm-up ends once it has lasted --warmup seconds and no request is more than CAUGHT_UP_US
 * overdue (a server that fell behind on its cold start has worked off the backlog), or after
 * WARMUP_MAX_US more at the latest; the S measured seconds start there. */
#define CAUGHT_UP_US 10000
#define WARMUP_MAX_US 30000000LL

static int64_t measure_from = -1; /* due time where the measured part starts; -1: warming up */
static int caught_up;

static void on_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	int64_t now = now_us(), overdue = 0;
	for (int i = 0; i < nconns; i++) {
		conn *c = &conns[i];
		while (due_of(c, c->k) <= now && due_of(c, c->k) < end_us) {
			c->k++;
			c->queued++;
		}
		if (!c->busy && c->queued)
			send_next(c);
		if (c->queued && now - due_of(c, c->k - c->queued) > overdue)
			overdue = now - due_of(c, c->k - c->queued);
	}
	if (measure_from < 0 && now >= (int64_t)warmup * 1000000) {
		caught_up = overdue <= CAUGHT_UP_US;
		if (caught_up || now >= (int64_t)warmup * 1000000 + WARMUP_MAX_US) {
			measure_from = now;
			end_us = now + (int64_t)seconds * 1000000;
		}
	}
}

static void drop_conn(conn *c, int cause);

static void send_next(conn *c)
{
	if (c->fd < 0)
		connect_conn(c);
	if (c->fd < 0)
		return;
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 65536;
		recs = realloc(recs, caprecs * sizeof *recs);
		if (!recs)
			die("out of memory");
	}
	int64_t k = c->k - c->queued;
	rec *r = &recs[nrecs];
	r->due = due_of(c, k);
	r->sent = now_us();
	r->done = 0;
	r->status = -1;
	r->bytes = 0;
	c->inflight = (int64_t)nrecs++;
	c->queued--;
	c->busy = 1;
	c->in_body = 0;
	c->body_left = 0;
	c->cur_bytes = 0;
	c->headlen = 0;
	const char *path = c->paths[c->next_path];
	c->next_path = (c->next_path + 1) % c->npaths;
	char req[8192];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: pace\r\n%s\r\n",
	                 path, port, extra_headers);
	if (n <= 0 || (size_t)n >= sizeof req || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		drop_conn(c, 3); /* a request fits the socket buffer of a fresh or idle connection */
}

static void finish(conn *c, int status)
{
	rec *r = &recs[c->inflight];
	r->done = now_us();
	r->status = status;
	r->bytes = c->cur_bytes;
	c->busy = 0;
}

static void drop_conn(conn *c, int cause)
{
	if (c->busy)
		why[cause]++;
	if (c->busy) {
		failures++;
		finish(c, -1);
	}
	if (c->fd >= 0) {
		event_free(c->ev);
		close(c->fd);
		c->fd = -1;
	}
}

/* The head is complete in c->head: status line, Content-Length. 0, or -1: not readable. */
static int parse_head(conn *c)
{
	c->head[c->headlen] = 0;
	int st = 0;
	if (sscanf(c->head, "HTTP/1.%*d %d", &st) != 1)
		return -1;
	int64_t cl = -1;
	for (char *l = strstr(c->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n"))
		if (!strncasecmp(l + 2, "content-length:", 15))
			cl = strtoll(l + 17, NULL, 10);
	if (cl < 0 && !(st < 200 || st == 204 || st == 304))
		return -1;
	c->cur_status = st;
	c->body_left = cl > 0 ? cl : 0;
	return 0;
}

/* Reads whole answers: the head up to its blank line, then Content-Length bytes of body. */
static void on_read(evutil_socket_t fd, short ev, void *arg)
{
	(void)ev;
	conn *c = arg;
	for (;;) {
		ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop_conn(c, n == 0 ? 0 : 1);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		char *p = rbuf;
		size_t left = (size_t)n;
		while (left) {
			if (!c->busy) {
				left = 0; /* bytes nobody asked for */
				break;
			}
			if (!c->in_body) {
				/* the head: byte by byte into c->head until its blank line */
				while (left && !c->in_body) {
					if (c->headlen + 1 >= sizeof c->head) {
						drop_conn(c, 2);
						return;
					}
					c->head[c->headlen++] = *p++;
					left--;
					c->cur_bytes++;
					if (c->headlen >= 4 && !memcmp(c->head + c->headlen - 4, "\r\n\r\n", 4)) {
						if (parse_head(c) < 0) {
							drop_conn(c, 2);
							return;
						}
						if (c->cur_status >= 100 && c->cur_status < 200)
							c->headlen = 0; /* an interim answer: the real one follows */
						else
							c->in_body = 1;
					}
				}
				if (!c->in_body)
					break;
			}
			size_t take = (size_t)c->body_left < left ? (size_t)c->body_left : left;
			p += take;
			left -= take;
			c->body_left -= (int64_t)take;
			c->cur_bytes += (int64_t)take;
			if (c->body_left == 0) {
				c->in_body = 0;
				finish(c, c->cur_status);
				if (c->queued)
					send_next(c);
				if (c->fd < 0)
					return;
			}
		}
		if ((size_t)n < sizeof rbuf)
			break;
	}
}

static void connect_conn(conn *c)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* a blocking connect on loopback: immediate */
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	c->fd = fd;
	c->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
	event_add(c->ev, NULL);
}

static void on_end(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	int busy = 0;
	for (int i = 0; i < nconns; i++)
		busy |= conns[i].busy;
	if (measure_from >= 0 && now_us() >= end_us &&
	    (!busy || now_us() > end_us + 10 * 1000000LL))
		event_base_loopbreak(base);
}

static char **read_list(const char *file, size_t *n)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "pace: cannot open %s: %s\n", file, strerror(errno));
		exit(2);
	}
	char **v = NULL, line[4096];
	size_t cap = 0;
	*n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *p = line;
		if (!strncmp(p, "http://", 7)) { /* a full URL: keep the path */
			p = strchr(p + 7, '/');
			if (!p)
				continue;
		}
		if (*p != '/')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof *v);
			if (!v)
				die("out of memory");
		}
		v[(*n)++] = strdup(p);
	}
	fclose(f);
	if (!*n) {
		fprintf(stderr, "pace: no paths in %s\n", file);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	size_t hcap = 1;
	extra_headers = calloc(1, 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			die("every option takes a value; see the comment at the top of pace.c");
		if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--conns"))
			nconns = atoi(v);
		else if (!strcmp(a, "--rate"))
			rate = atof(v);
		else if (!strcmp(a, "--seconds"))
			seconds = atoi(v);
		else if (!strcmp(a, "--warmup"))
			warmup = atoi(v);
		else if (!strcmp(a, "--lists"))
			lists = v;
		else if (!strcmp(a, "--log"))
			logpath = v;
		else if (!strcmp(a, "--header")) {
			size_t l = strlen(extra_headers);
			hcap = l + strlen(v) + 3;
			extra_headers = realloc(extra_headers, hcap);
			if (!extra_headers)
				die("out of memory");
			snprintf(extra_headers + l, hcap - l, "%s\r\n", v);
		} else
			die("unknown option; see the comment at the top of pace.c");
		i++;
	}
	if (port <= 0 || nconns <= 0 || rate <= 0 || seconds <= 0 || warmup < 0 || !lists || !logpath)
		die("--port, --conns, --rate, --seconds, --lists and --log are needed");
	/* the tick on CLOCK_MONOTONIC through a timerfd: libevent's default clock is the coarse one
	 * (4 ms steps with HZ=250), which would send in bursts of 4 ms */
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (!base)
		die("event_base");
	conns = calloc((size_t)nconns, sizeof *conns);
	if (!conns)
		die("out of memory");
	for (int i = 0; i < nconns; i++) {
		char file[4096];
		snprintf(file, sizeof file, "%s-%d.txt", lists, i);
		conns[i].idx = i;
		conns[i].fd = -1;
		conns[i].paths = read_list(file, &conns[i].npaths);
	}
	t0 = 0;
	t0 = now_us();
	for (int i = 0; i < nconns; i++)
		connect_conn(&conns[i]);
	/* the connections are made before the first request is due */
	t0 += 200000;
	end_us = INT64_MAX / 2; /* set when the warm-up ends */
	struct timeval tick = { 0, TICK_US };
	event_add(event_new(base, -1, EV_PERSIST, on_tick, NULL), &tick);
	struct timeval check = { 0, 50000 };
	event_add(event_new(base, -1, EV_PERSIST, on_end, NULL), &check);
	event_base_dispatch(base);
	FILE *lf = fopen(logpath, "w");
	if (!lf)
		die("cannot write the log");
	fprintf(lf, "# measure_from_us %lld caught_up %d\n", (long long)measure_from, caught_up);
	for (size_t i = 0; i < nrecs; i++)
		fprintf(lf, "%lld %lld %lld %d %lld\n", (long long)recs[i].due, (long long)recs[i].sent,
		        (long long)recs[i].done, recs[i].status, (long long)recs[i].bytes);
	fclose(lf);
	fprintf(stderr,
	        "pace: %zu requests, %ld failed (closed by the server %ld, receive error %ld, "
	        "unreadable answer %ld, send error %ld)\n",
	        nrecs, failures, why[0], why[1], why[2], why[3]);
	return 0;
}
