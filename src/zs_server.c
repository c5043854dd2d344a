/* zs_server.c - the serving threads: listening sockets (a taken address is refused), one
 * event loop and reader per thread sharing the port, the metrics listener, start, drain, stop. */
#include "config.h"
#include "zs_http_priv.h"
#include "zs_util.h"
#include "zs_rows.h"
#include <event2/bufferevent.h>

#define MOD "http"

/* ---- threads ------------------------------------------------------------------------------ */

/* The bufferevent of each accepted connection: as evhttp's own, but writing an answer in
 * as few system calls as the socket takes (libevent's default is 16 KiB per write: a hospital's
 * 100 KB lookup took seven writes and seven turns of the loop). */
static struct bufferevent *conn_bev(struct event_base *base, void *arg)
{
	(void)arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev) {
		bufferevent_set_max_single_write(bev, 1024 * 1024);
		bufferevent_set_max_single_read(bev, 64 * 1024);
	}
	return bev;
}

/* Once a second, between answers: the thread ends the read transaction its last lookup kept
 * open (the WAL is not held longer), and, with no requests, lets go of the rows in memory of a
 * snapshot that is no longer the newest (~60 MB each after the store starts a new epoch),
 * which it would otherwise hold until its next request. */
static void let_go_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	zs_reader_idle(((serv_thread *)arg)->reader);
}

static void *serve_main(void *arg)
{
	serv_thread *t = arg;
	zs_thread_name("zs-http");
	zs_http_thread_begin(t);
	struct event *tick = event_new(t->base, -1, EV_PERSIST, let_go_tick, t);
	const struct timeval second = { 1, 0 };
	if (tick)
		event_add(tick, &second);
	event_base_dispatch(t->base);
	if (tick)
		event_free(tick);
	return NULL;
}

/* Refuse an address another process already listens on. Our own serving threads share the
 * port through SO_REUSEPORT, which would also let a second daemon of the same user join
 * silently and take part of the traffic. Two checks: a connect() to the address (wildcard:
 * loopback) finds any listener; an abstract unix socket named after the address, bound for the
 * life of the process, closes the race of two daemons starting at the same moment.
 * Returns the claim's descriptor (kept open until exit), or -1 with err naming the address. */
static int claim_address(const struct addrinfo *ai, const char *listen_addr, char *err,
                         size_t errlen)
{
	struct sockaddr_storage ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			a->sin6_addr = in6addr_loopback;
	}
	int probe = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		struct timeval tv = { .tv_sec = 2 };
		setsockopt(probe, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		int taken = connect(probe, (struct sockaddr *)&ss, ai->ai_addrlen) == 0;
		close(probe);
		if (taken) {
			snprintf(err, errlen, "listen %s: address already in use by another process "
			         "(another zorgstatusd?)", listen_addr);
			return -1;
		}
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv, sizeof serv,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof host, "%s", listen_addr), serv[0] = 0;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int n = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "zorgstatusd/%s/%s", host, serv);
	if (n < 0 || (size_t)n >= sizeof un.sun_path - 1)
		n = (int)sizeof un.sun_path - 2;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -2; /* no claim possible: the connect check stands alone */
	if (bind(fd, (struct sockaddr *)&un,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) != 0) {
		int e = errno;
		close(fd);
		if (e != EADDRINUSE)
			return -2;
		snprintf(err, errlen, "listen %s: address already in use by another zorgstatusd",
		         listen_addr);
		return -1;
	}
	return fd;
}

/* A listening socket on listen_addr. With claim (the first socket of an address), the address
 * is claimed first (claim_address): *claim receives the claim's descriptor (-1 if none). */
static int listen_socket(const char *listen_addr, int *claim, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
	if (!colon || colon == listen_addr || (size_t)(colon - listen_addr) >= sizeof host) {
		snprintf(err, errlen, "listen: \"%s\" is not host:port", listen_addr);
		return -1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen_addr), listen_addr);
	if (host[0] == '[') { /* [::1]:8080 */
		memmove(host, host + 1, strlen(host));
		char *b = strchr(host, ']');
		if (b)
			*b = 0;
	}
	int gai = getaddrinfo(host, colon + 1, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "listen %s: %s", listen_addr, gai_strerror(gai));
		return -1;
	}
	if (claim) {
		*claim = claim_address(res, listen_addr, err, errlen);
		if (*claim == -1) {
			freeaddrinfo(res);
			return -1;
		}
		if (*claim < 0)
			*claim = -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
	    /* accepted sockets inherit it: no Nagle delay between headers and body */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		snprintf(err, errlen, "listen %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void *metrics_main(void *arg)
{
	zs_thread_name("zs-metrics");
	event_base_dispatch(arg);
	return NULL;
}

/* The separate metrics listener: one more thread with its own event base. */
static int metrics_start(zs_http *h, const zs_config *cfg, char *err, size_t errlen)
{
	int fd = listen_socket(cfg->metrics_listen, &h->lock_fd[1], err, errlen);
	if (fd < 0)
		return -1;
	h->mbase = event_base_new();
	h->mhttp = h->mbase ? evhttp_new(h->mbase) : NULL;
	if (!h->mhttp || (evhttp_set_timeout(h->mhttp, (int)cfg->http_timeout), 0) ||
	    !evhttp_accept_socket_with_handle(h->mhttp, fd)) {
		snprintf(err, errlen, "metrics_listen %s: cannot start the HTTP server",
		         cfg->metrics_listen);
		close(fd);
		return -1;
	}
	evhttp_set_allowed_methods(h->mhttp, 0xffff);
	evhttp_set_default_content_type(h->mhttp, NULL); /* as the serving threads' */
	evhttp_set_gencb(h->mhttp, zs_http_on_metrics_request, (void *)(uintptr_t)cfg);
	if (pthread_create(&h->mthread, NULL, metrics_main, h->mbase) != 0) {
		snprintf(err, errlen, "cannot start the metrics thread");
		return -1;
	}
	h->mrunning = 1;
	return 0;
}

/* A serving thread's event loop. With epoll's change list the interest changes of a request
 * (read off, write on, write off, read on) are made at the next wait, merged: 2 epoll_ctl calls
 * per request instead of 4 (measured with strace; ~10% of a cached answer's CPU). Its one
 * caveat, a descriptor dup()ed while registered, does not occur here: each connection and
 * listening socket is its own. */
static struct event_base *serving_base(void)
{
	struct event_base *b = NULL;
	struct event_config *ec = event_config_new();
	if (ec) {
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		b = event_base_new_with_config(ec);
		event_config_free(ec);
	}
	return b ? b : event_base_new();
}

zs_http *zs_http_start(const zs_config *cfg, char *err, size_t errlen)
{
	zs_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* staff accounts (zs_staff.h): the accounts file and the old single token file */
	if (zs_staff_load(cfg, err, errlen) != 0) {
		free(h);
		return NULL;
	}
	h->lock_fd[0] = h->lock_fd[1] = -1;
	h->cfg = cfg;
	zs_http_register_routes();
	h->t = calloc((size_t)cfg->threads, sizeof *h->t);
	if (cfg->response_cache_seconds > 0)
		h->cache = zs_rcache_new((size_t)cfg->response_cache_mb << 20);
	zs_metrics_set_cache(h->cache);
	if (cfg->rows_in_memory && (h->rows = zs_rows_new()) &&
	    zs_rows_start(h->rows, cfg, err, errlen) != 0) {
		ZS_WARN(MOD, "rows in memory: %s; answers read the database", err);
		zs_rows_free(h->rows);
		h->rows = NULL;
		err[0] = 0;
	}
	zs_metrics_set_rows(h->rows);
	if (!h->t) {
		zs_metrics_set_rows(NULL);
		zs_rows_free(h->rows);
		zs_metrics_set_cache(NULL);
		zs_rcache_free(h->cache);
		zs_staff_shutdown();
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (long i = 0; i < cfg->threads; i++) {
		serv_thread *t = &h->t[i];
		t->cfg = cfg;
		t->index = (int)i + 1;
		t->fd = listen_socket(cfg->listen, i == 0 ? &h->lock_fd[0] : NULL, err, errlen);
		if (t->fd < 0)
			goto fail;
		t->reader = zs_reader_open(cfg, err, errlen);
		if (t->reader) { /* answers go only through zs_hio_render: lookups written directly */
			zs_reader_set_direct(t->reader, 1);
			zs_reader_set_rows(t->reader, h->rows);
		}
		t->cache = h->cache;
		t->base = serving_base();
		t->http = t->base ? evhttp_new(t->base) : NULL;
		if (!t->reader || !t->http) {
			if (t->reader && !t->http)
				snprintf(err, errlen, "cannot create the HTTP server");
			goto fail;
		}
		evhttp_set_timeout(t->http, (int)cfg->http_timeout);
		/* every answer names its own type (zs_hio_send_rendered's header block) */
		evhttp_set_default_content_type(t->http, NULL);
		/* evhttp's own limits far above ours, so that on_request answers 414 / 431 / 413 in
		 * JSON; only beyond these (EVHTTP_HARD_LIMIT) does libevent answer by itself. */
		evhttp_set_max_headers_size(t->http, EVHTTP_HARD_LIMIT);
		evhttp_set_max_body_size(t->http, (ev_ssize_t)cfg->max_body_kb * 1024 + EVHTTP_HARD_LIMIT);
		/* Every method, unknown ones included (libevent 2.1 marks them with bit 15, which
		 * passes this mask): on_request answers 405 in JSON instead of evhttp's 501. */
		evhttp_set_allowed_methods(t->http, 0xffff);
		evhttp_set_gencb(t->http, zs_http_on_request, t);
		evhttp_set_bevcb(t->http, conn_bev, NULL);
		if (!(t->bound = evhttp_accept_socket_with_handle(t->http, t->fd))) {
			snprintf(err, errlen, "listen %s: cannot accept", cfg->listen);
			goto fail;
		}
		t->fd = -1; /* owned by evhttp now */
		h->n = (size_t)i + 1;
		if (pthread_create(&t->thread, NULL, serve_main, t) != 0) {
			snprintf(err, errlen, "cannot start serving thread");
			h->n = (size_t)i;
			evhttp_free(t->http);
			event_base_free(t->base);
			zs_reader_close(t->reader);
			t->cache = NULL;
			t->http = NULL;
			t->base = NULL;
			t->reader = NULL;
			goto fail;
		}
	}
	if (cfg->metrics && cfg->metrics_listen[0] && metrics_start(h, cfg, err, errlen) != 0) {
		zs_http_stop(h);
		return NULL;
	}
	ZS_INFO(MOD, "serving http://%s with %ld threads", cfg->listen, cfg->threads);
	if (cfg->metrics)
		ZS_INFO(MOD, "metrics at http://%s/metrics", cfg->metrics_listen[0] ? cfg->metrics_listen
		                                                                    : cfg->listen);
	return h;
fail:
	{
		serv_thread *t = &h->t[h->n];
		if (t->fd >= 0)
			close(t->fd);
		if (t->http)
			evhttp_free(t->http);
		if (t->base)
			event_base_free(t->base);
		zs_reader_close(t->reader);
		t->reader = NULL;
	}
	zs_http_stop(h);
	return NULL;
}

/* On the serving thread: stop accepting new connections. */
static void stop_accepting(evutil_socket_t fd, short what, void *arg)
{
	serv_thread *t = arg;
	(void)fd;
	(void)what;
	if (t->bound)
		evhttp_del_accept_socket(t->http, t->bound);
	t->bound = NULL;
}

int zs_http_drain(zs_http *h, long timeout_s)
{
	const struct timeval now = { 0, 0 };
	if (!h)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		event_base_once(h->t[i].base, -1, EV_TIMEOUT, stop_accepting, &h->t[i], &now);
	long long deadline = zs_metrics_now_us() + (long long)timeout_s * 1000000LL;
	long left;
	do {
		left = 0;
		for (size_t i = 0; i < h->n; i++)
			left += atomic_load(&h->t[i].inflight);
		if (left <= 0)
			break;
		usleep(10000);
	} while (zs_metrics_now_us() < deadline);
	if (left > 0)
		ZS_WARN(MOD, "stopping with %ld answer(s) not yet written out after %lds", left,
		        timeout_s);
	return left > 0 ? (int)left : 0;
}

void zs_http_stop(zs_http *h)
{
	if (!h)
		return;
	if (h->mrunning) {
		event_base_loopbreak(h->mbase);
		pthread_join(h->mthread, NULL);
	}
	if (h->mhttp)
		evhttp_free(h->mhttp);
	if (h->mbase)
		event_base_free(h->mbase);
	for (int i = 0; i < 2; i++)
		if (h->lock_fd[i] >= 0)
			close(h->lock_fd[i]);
	/* loopexit, not loopbreak: a break asked before a thread has entered its loop is lost
	 * (event_base_loop clears it on entry) and the join below waited for good, e.g. when the
	 * metrics address was taken right after the serving threads started */
	for (size_t i = 0; i < h->n; i++)
		event_base_loopexit(h->t[i].base, NULL);
	for (size_t i = 0; i < h->n; i++) {
		serv_thread *t = &h->t[i];
		pthread_join(t->thread, NULL);
		evhttp_free(t->http);
		event_base_free(t->base);
		zs_reader_close(t->reader);
		zs_deplist_free(&t->deps);
	}
	if (h->n < (size_t)h->cfg->threads && h->t)
		zs_deplist_free(&h->t[h->n].deps);
	zs_metrics_set_cache(NULL);
	zs_rcache_free(h->cache);
	zs_metrics_set_rows(NULL);
	zs_rows_free(h->rows); /* after the readers that held its versions */
	zs_staff_shutdown();
	free(h->t);
	free(h);
}
