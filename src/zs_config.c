/* zs_config.c - the configuration table, file parser, help, dump and secret checks; the man
 * pages are written from the same table by zs_config_man.c. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "zs_config.h"

#include "zs_config_priv.h"

static int check_log_level(const char *v, char *msg, size_t len);
static int check_redirects(const char *v, char *msg, size_t len);
static int check_hostport(const char *v, char *msg, size_t len);

#define S(n, h, d) { #n, T_STR, offsetof(zs_config, n), d, 0, 0, h, 0, NULL }
#define L(n, h, d, lo, hi) { #n, T_LONG, offsetof(zs_config, n), d, lo, hi, h, 0, NULL }
/* settings that only a restart changes; their help says so */
#define SR(n, h, d) { #n, T_STR, offsetof(zs_config, n), d, 0, 0, h "; restart to change", 1, NULL }
#define LR(n, h, d, lo, hi) \
	{ #n, T_LONG, offsetof(zs_config, n), d, lo, hi, h "; restart to change", 1, NULL }
#define SC(n, h, d, restart, check) { #n, T_STR, offsetof(zs_config, n), d, 0, 0, h, restart, check }

const setting zs_settings[] = {
	SC(listen, "address:port to serve HTTP on; restart to change", "127.0.0.1:8080", 1,
	   check_hostport),
	SR(database, "SQLite database file (created if missing)", "zorgstatus.db"),
	LR(threads, "HTTP serving threads (one event loop each, sharing the port)", "2", 1, 64),
	SC(log_level, "error | warn | info | debug", "info", 0, check_log_level),
	S(access_log, "one line per HTTP request (method, path, status, bytes, microseconds, thread): a file, - for stderr, empty = off; reopened on reload", ""),
	LR(metrics, "serve Prometheus metrics at /metrics: 1 = on, 0 = off", "1", 0, 1),
	SC(metrics_listen, "serve /metrics on this separate address:port instead of the main one; empty = the main address; restart to change", "", 1, check_hostport),
	L(shutdown_timeout, "at SIGTERM/SIGINT, seconds to let requests in flight finish", "10", 0, 600),
	SR(now, "start the clock at this Europe/Amsterdam time (YYYY-MM-DDTHH:MM:SS); empty = real clock", ""),
	SR(www_dir, "directory of the widget's static pages (served at / and /www/); empty = the bundled www/", ""),
	SR(staff_token_file, "file holding the bearer token for staff endpoints; empty = staff endpoints off", ""),
	S(staff_accounts_file, "file of staff accounts, one \"name role hash\" a line (role staff or admin; hash from zorgstatusd --hash-token); read again on reload; empty = none", ""),
	L(staff_auth_failures, "failed staff sign-ins allowed per client address per minute; more are refused with 429 until the minute is over", "10", 1, 10000),
	SR(audit_database, "SQLite file of the staff audit log (who looked up which provider, when); empty = next to database, its name ending in -audit.db", ""),
	L(audit_retention_days, "staff audit log entries are kept this many days (and at most 1000000 entries)", "90", 1, 3650),
	L(connect_timeout, "feed fetch connect timeout, seconds", "10", 1, 600),
	L(fetch_timeout, "feed fetch total timeout, seconds", "600", 1, 86400),
	L(max_feed_mb, "largest feed body accepted, MiB", "2048", 1, 65536),
	L(max_line_kb, "longest feed line accepted, KiB: a longer line is an invalid record, read past without being kept in memory", "1024", 1, 1048576),
	L(max_invalid_percent, "a feed version is rejected when more than this % of its records are invalid (at least one is tolerated unless 0); a feed's max_invalid_rows overrides it", "1", 0, 100),
	SC(follow_redirects, "feed redirects: same_host (only to the feed URL's own host) | any | none", "same_host", 0, check_redirects),
	L(low_speed_limit, "a feed transfer slower than this many bytes/s for low_speed_time seconds is ended; 0 = off", "1024", 0, 1073741824),
	L(low_speed_time, "seconds a feed transfer may stay below low_speed_limit (waiting for the first byte included)", "60", 1, 86400),
	L(fetch_parallel, "feeds fetched at the same time", "4", 1, 64),
	L(retry_min, "first retry delay after a failed fetch, seconds (doubles up to the schedule)", "30", 1, 86400),
	L(default_schedule, "default seconds between fetches of a feed", "300", 1, 604800),
	L(default_stale_after, "default seconds after a feed's last success before it is stale", "86400", 1, 31536000),
	LR(http_timeout, "HTTP request read/write timeout, seconds", "30", 1, 3600),
	LR(max_body_kb, "largest HTTP request body accepted, KiB", "16", 1, 1024),
	LR(response_cache_seconds, "keep rendered public answers this long in the shared response cache (never past local midnight; an answer goes as soon as a snapshot changes something it depends on); 0 = off", "3600", 0, 86400),
	LR(response_cache_mb, "response cache size (JSON and gzip of every kept answer, all serving threads together), MiB", "256", 1, 16384),
	L(rows_in_memory, "hold every provider's effective statuses in memory, one copy per snapshot shared by the serving threads, with every provider's master data (about 80 MB for a national dataset), built in the background at start and after each change, so that an answer reads no statuses from the database; 0 = read them from the database for every answer", "1", 0, 1),
	L(similar_equal_overlap, "similar policies: 'equal' needs at least this % of contracted (provider, care type) pairs in common (Jaccard)", "100", 0, 100),
	L(similar_equal_pct, "similar policies: 'equal' allows at most this many points difference in non-contracted reimbursement", "0", 0, 100),
	L(similar_very_overlap, "similar policies: 'very similar' needs at least this % in common", "95", 0, 100),
	L(similar_very_pct, "similar policies: 'very similar' allows at most this many points difference", "5", 0, 100),
	L(history_keep_years, "keep the history (what was shown when) of this many contract years: the current one and the ones before it; older history is deleted in small steps", "2", 1, 50),
	L(rollover_batch_rows, "when policies (a contract year) leave the feeds, their statuses disappear from answers at once and their rows move into history in transactions of at most this many rows, between ingest rounds", "20000", 100, 10000000),
	L(ingest_nice, "nice value of the ingest thread (fetching, reconciling, similar policies) and of the thread that reads feed lines ahead for it: the higher, the more of a busy machine goes to answering while feeds are applied, and the slower an apply then is; 0 = the same as the serving threads", "10", 0, 19),
	L(wal_limit_mb, "after a checkpoint the SQLite write-ahead log is cut back to this size, MiB (it is checkpointed after every ingest round)", "64", 1, 65536),
	L(changes_retention, "seconds the change feed (/v1/changes, webhooks) keeps its events; a cursor older than this answers 410 (re-sync)", "2592000", 1, 31536000),
};
#define NSETTINGS (sizeof zs_settings / sizeof zs_settings[0])
const size_t zs_nsettings = NSETTINGS;

static void errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int parse_long(const char *v, long *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return -1;
	*out = x;
	return 0;
}

static int set_one(zs_config *cfg, const setting *s, const char *value, char *err, size_t errlen)
{
	char *base = (char *)cfg;
	char why[200];
	if (s->check && s->check(value, why, sizeof why) != 0) {
		errf(err, errlen, "%s: %s", s->name, why);
		return -1;
	}
	if (s->type == T_STR) {
		char **p = (char **)(base + s->off);
		char *nv = strdup(value);
		if (!nv) {
			errf(err, errlen, "%s: out of memory", s->name);
			return -1;
		}
		free(*p);
		*p = nv;
		return 0;
	}
	long x;
	if (parse_long(value, &x) != 0 || x < s->min || x > s->max) {
		errf(err, errlen, "%s: must be a whole number from %ld to %ld, got \"%s\"", s->name,
		     s->min, s->max, value);
		return -1;
	}
	*(long *)(base + s->off) = x;
	return 0;
}

static int check_log_level(const char *v, char *msg, size_t len)
{
	if (strcmp(v, "error") && strcmp(v, "warn") && strcmp(v, "info") && strcmp(v, "debug")) {
		errf(msg, len, "must be error, warn, info or debug, got \"%.40s\"", v);
		return -1;
	}
	return 0;
}

/* "host:port" or "[v6]:port" with a numeric port 1-65535; "" allowed (metrics_listen). */
static int check_hostport(const char *v, char *msg, size_t len)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;
	if (!*v)
		return 0;
	if (colon && colon != v) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (!errno && end != colon + 1 && !*end && port >= 1 && port <= 65535)
			return 0;
	}
	errf(msg, len, "\"%.80s\" is not host:port (e.g. 127.0.0.1:8080 or [::1]:8080)", v);
	return -1;
}

void zs_config_defaults(zs_config *cfg)
{
	char err[128];
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NSETTINGS; i++)
		set_one(cfg, &zs_settings[i], zs_settings[i].def, err, sizeof err);
}

void zs_config_free(zs_config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (zs_settings[i].type == T_STR)
			free(*(char **)((char *)cfg + zs_settings[i].off));
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		free(cfg->feeds[i].url);
		free(cfg->feeds[i].credentials_file);
		free(cfg->feeds[i].display_name);
	}
	free(cfg->feeds);
	for (size_t i = 0; i < cfg->nsubscribers; i++) {
		free(cfg->subscribers[i].url);
		free(cfg->subscribers[i].secret_file);
		free(cfg->subscribers[i].insurer);
		free(cfg->subscribers[i].provider_kind);
	}
	free(cfg->subscribers);
	for (size_t i = 0; i < cfg->ncaches; i++)
		free(cfg->caches[i].url);
	free(cfg->caches);
	free(cfg->base_dir);
	memset(cfg, 0, sizeof *cfg);
}

int zs_config_set(zs_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(zs_settings[i].name, name) == 0)
			return set_one(cfg, &zs_settings[i], value, err, errlen);
	errf(err, errlen, "%s: unknown setting", name);
	return -1;
}

int zs_config_restart_changes(const zs_config *running, const zs_config *next, char *names,
                              size_t len)
{
	int n = 0;
	size_t used = 0;
	if (len)
		names[0] = 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		const setting *s = &zs_settings[i];
		if (!s->restart)
			continue;
		const char *a = (const char *)running + s->off, *b = (const char *)next + s->off;
		int differs = s->type == T_LONG ? *(const long *)a != *(const long *)b
		                                : strcmp(*(char *const *)a, *(char *const *)b) != 0;
		if (!differs)
			continue;
		if (used < len) {
			int w = snprintf(names + used, len - used, "%s%s", n ? ", " : "", s->name);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

int zs_config_copy_restart(zs_config *next, const zs_config *running, char *err, size_t errlen)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const setting *s = &zs_settings[i];
		if (!s->restart)
			continue;
		const char *a = (const char *)running + s->off;
		char *b = (char *)next + s->off;
		if (s->type == T_LONG) {
			*(long *)b = *(const long *)a;
		} else {
			char *v = strdup(*(char *const *)a);
			if (!v) {
				errf(err, errlen, "out of memory");
				return -1;
			}
			free(*(char **)b);
			*(char **)b = v;
		}
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int valid_feed_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > ZS_FEED_NAME_MAX)
		return 0;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_' && *n != '.' && *n != '-')
			return 0;
	return 1;
}

static char *resolve_url(const char *v, const char *base_dir)
{
	char *out;
	if (strstr(v, "://"))
		return strdup(v);
	if (v[0] == '/' || !base_dir || !*base_dir) {
		if (asprintf(&out, "file://%s", v) < 0)
			return NULL;
	} else if (asprintf(&out, "file://%s/%s", base_dir, v) < 0) {
		return NULL;
	}
	return out;
}

static int feed_set(zs_feed_conf *f, const char *k, const char *v, const char *base_dir,
                    char *err, size_t errlen)
{
	long x;
	if (strcmp(k, "kind") == 0) {
		if (strcmp(v, "insurer") == 0)
			f->kind = ZS_FEED_INSURER;
		else if (strcmp(v, "provider") == 0)
			f->kind = ZS_FEED_PROVIDER;
		else {
			errf(err, errlen, "kind: must be insurer or provider, got \"%s\"", v);
			return -1;
		}
	} else if (strcmp(k, "url") == 0) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8) && strncmp(v, "file://", 7) &&
		    strstr(v, "://")) {
			errf(err, errlen, "url: only http, https and file URLs are supported");
			return -1;
		}
		free(f->url);
		f->url = resolve_url(v, base_dir);
	} else if (strcmp(k, "credentials_file") == 0) {
		free(f->credentials_file);
		f->credentials_file = *v ? strdup(v) : NULL;
	} else if (strcmp(k, "display_name") == 0) {
		if (strlen(v) > 200) {
			errf(err, errlen, "display_name: at most 200 characters");
			return -1;
		}
		free(f->display_name);
		f->display_name = *v ? strdup(v) : NULL;
	} else if (strcmp(k, "schedule") == 0 || strcmp(k, "stale_after") == 0 ||
	           strcmp(k, "max_invalid_rows") == 0) {
		long lo = strcmp(k, "max_invalid_rows") == 0 ? 0 : 1;
		if (parse_long(v, &x) != 0 || x < lo || x > 31536000) {
			errf(err, errlen, "%s: must be a whole number from %ld to 31536000, got \"%s\"", k,
			     lo, v);
			return -1;
		}
		if (k[0] == 's' && k[1] == 'c')
			f->schedule = x;
		else if (k[0] == 's')
			f->stale_after = x;
		else
			f->max_invalid_rows = x;
	} else {
		errf(err, errlen, "%s: unknown feed setting", k);
		return -1;
	}
	return 0;
}

/* The keys of a [subscriber NAME] section (webhooks of the change feed). */
static int subscriber_set(zs_subscriber_conf *s, const char *k, const char *v, char *err,
                          size_t errlen)
{
	long x;
	char **str = strcmp(k, "url") == 0 ? &s->url : strcmp(k, "secret_file") == 0 ? &s->secret_file
	           : strcmp(k, "insurer") == 0 ? &s->insurer
	           : strcmp(k, "provider_kind") == 0 ? &s->provider_kind : NULL;
	if (str) {
		if (str == &s->url && strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
			errf(err, errlen, "url: must be an http or https URL");
			return -1;
		}
		if (strlen(v) > 2000) {
			errf(err, errlen, "%s: at most 2000 characters", k);
			return -1;
		}
		free(*str);
		*str = *v ? strdup(v) : NULL;
	} else if (strcmp(k, "year") == 0 || strcmp(k, "max_batch") == 0) {
		int y = k[0] == 'y';
		long lo = y ? 2000 : 1, hi = y ? 2100 : 1000;
		if (parse_long(v, &x) != 0 || x < lo || x > hi) {
			errf(err, errlen, "%s: must be a whole number from %ld to %ld, got \"%s\"", k, lo,
			     hi, v);
			return -1;
		}
		*(y ? &s->year : &s->max_batch) = x;
	} else {
		errf(err, errlen, "%s: unknown subscriber setting", k);
		return -1;
	}
	return 0;
}

/* The keys of a [cache NAME] section (a cache tier purged by dependency key). */
static int cache_set(zs_cache_conf *c, const char *k, const char *v, char *err, size_t errlen)
{
	if (strcmp(k, "url") != 0) {
		errf(err, errlen, "%s: unknown cache setting", k);
		return -1;
	}
	if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || strlen(v) > 2000) {
		errf(err, errlen, "url: must be an http or https URL");
		return -1;
	}
	free(c->url);
	c->url = strdup(v);
	return 0;
}

/* "[subscriber NAME]" or "[cache NAME]": a new entry in cfg (its name checked like a feed's);
 * *sub / *cache point at it. 0, or -1 with err. */
static int extra_section(zs_config *cfg, char *s, zs_subscriber_conf **sub, zs_cache_conf **cache,
                         char *err, size_t errlen)
{
	int is_sub = strncmp(s, "[subscriber ", 12) == 0;
	char *name;
	s[strlen(s) - 1] = 0;
	name = trim(s + (is_sub ? 12 : 7));
	if (!valid_feed_name(name)) {
		errf(err, errlen, "%s name \"%s\" must be 1-64 of A-Z a-z 0-9 _ . -",
		     is_sub ? "subscriber" : "cache", name);
		return -1;
	}
	size_t n = is_sub ? cfg->nsubscribers : cfg->ncaches;
	for (size_t i = 0; i < n; i++)
		if (strcmp(is_sub ? cfg->subscribers[i].name : cfg->caches[i].name, name) == 0) {
			errf(err, errlen, "%s \"%s\" defined twice", is_sub ? "subscriber" : "cache",
			     name);
			return -1;
		}
	if (is_sub) {
		zs_subscriber_conf *v = realloc(cfg->subscribers, (n + 1) * sizeof *v);
		if (!v)
			goto oom;
		cfg->subscribers = v;
		*sub = &v[cfg->nsubscribers++];
		memset(*sub, 0, sizeof **sub);
		snprintf((*sub)->name, sizeof (*sub)->name, "%s", name);
		(*sub)->max_batch = 100;
	} else {
		zs_cache_conf *v = realloc(cfg->caches, (n + 1) * sizeof *v);
		if (!v)
			goto oom;
		cfg->caches = v;
		*cache = &v[cfg->ncaches++];
		memset(*cache, 0, sizeof **cache);
		snprintf((*cache)->name, sizeof (*cache)->name, "%s", name);
	}
	return 0;
oom:
	errf(err, errlen, "out of memory");
	return -1;
}

int zs_config_parse(zs_config *cfg, const char *text, const char *source, const char *base_dir,
                    char *err, size_t errlen)
{
	char *copy = strdup(text), *line;
	char msg[256];
	int lineno = 0, rc = 0;
	zs_feed_conf *cur = NULL;
	zs_subscriber_conf *sub = NULL;
	zs_cache_conf *cache = NULL;
	size_t first_new = cfg->nfeeds, first_sub = cfg->nsubscribers, first_cache = cfg->ncaches;

	if (!copy) {
		errf(err, errlen, "%s: out of memory", source);
		return -1;
	}
	if (base_dir) {
		free(cfg->base_dir);
		cfg->base_dir = strdup(base_dir);
	}
	/* line by line, blank lines counted (errors name the line an editor shows) */
	for (char *p = copy; p;) {
		line = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = 0;
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[' && (strncmp(s, "[subscriber ", 12) == 0 || strncmp(s, "[cache ", 7) == 0) &&
		    s[strlen(s) - 1] == ']' && strchr(s, ']') == s + strlen(s) - 1) {
			cur = NULL;
			sub = NULL;
			cache = NULL;
			if (extra_section(cfg, s, &sub, &cache, msg, sizeof msg)) {
				errf(err, errlen, "%s:%d: %s", source, lineno, msg);
				rc = -1;
				break;
			}
			continue;
		}
		if (*s == '[') {
			char *close = strchr(s, ']');
			sub = NULL;
			cache = NULL;
			if (!close || close[1] || strncmp(s, "[feed ", 6) != 0) {
				errf(err, errlen, "%s:%d: expected [feed NAME], [subscriber NAME] or"
				     " [cache NAME]", source, lineno);
				rc = -1;
				break;
			}
			*close = 0;
			char *name = trim(s + 6);
			if (!valid_feed_name(name)) {
				errf(err, errlen, "%s:%d: feed name \"%s\" must be 1-64 of A-Z a-z 0-9 _ . -",
				     source, lineno, name);
				rc = -1;
				break;
			}
			for (size_t i = 0; i < cfg->nfeeds; i++)
				if (strcmp(cfg->feeds[i].name, name) == 0) {
					errf(err, errlen, "%s:%d: feed \"%s\" defined twice", source, lineno, name);
					rc = -1;
				}
			if (rc)
				break;
			zs_feed_conf *nf = realloc(cfg->feeds, (cfg->nfeeds + 1) * sizeof *nf);
			if (!nf) {
				rc = -1;
				errf(err, errlen, "%s: out of memory", source);
				break;
			}
			cfg->feeds = nf;
			cur = &cfg->feeds[cfg->nfeeds++];
			memset(cur, 0, sizeof *cur);
			snprintf(cur->name, sizeof cur->name, "%s", name);
			cur->schedule = -1;
			cur->stale_after = -1;
			cur->max_invalid_rows = -1; /* unset: max_invalid_percent applies */
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			errf(err, errlen, "%s:%d: expected key = value", source, lineno);
			rc = -1;
			break;
		}
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		if (sub || cache) {
			if (sub ? subscriber_set(sub, k, v, msg, sizeof msg)
			        : cache_set(cache, k, v, msg, sizeof msg)) {
				errf(err, errlen, "%s:%d: %s %s: %s", source, lineno,
				     sub ? "subscriber" : "cache", sub ? sub->name : cache->name, msg);
				rc = -1;
				break;
			}
			continue;
		}
		if (cur ? feed_set(cur, k, v, base_dir, msg, sizeof msg)
		        : zs_config_set(cfg, k, v, msg, sizeof msg)) {
			if (cur)
				errf(err, errlen, "%s:%d: feed %s: %s", source, lineno, cur->name, msg);
			else
				errf(err, errlen, "%s:%d: %s", source, lineno, msg);
			rc = -1;
			break;
		}
	}
	free(copy);
	for (size_t i = first_new; rc == 0 && i < cfg->nfeeds; i++) {
		zs_feed_conf *f = &cfg->feeds[i];
		if (!f->kind || !f->url) {
			errf(err, errlen, "%s: feed %s: %s is required", source, f->name,
			     !f->kind ? "kind" : "url");
			rc = -1;
		}
		if (f->schedule < 0)
			f->schedule = cfg->default_schedule;
		if (f->stale_after < 0)
			f->stale_after = cfg->default_stale_after;
	}
	for (size_t i = first_sub; rc == 0 && i < cfg->nsubscribers; i++)
		if (!cfg->subscribers[i].url || !cfg->subscribers[i].secret_file) {
			errf(err, errlen, "%s: subscriber %s: %s is required", source,
			     cfg->subscribers[i].name, !cfg->subscribers[i].url ? "url" : "secret_file");
			rc = -1;
		}
	for (size_t i = first_cache; rc == 0 && i < cfg->ncaches; i++)
		if (!cfg->caches[i].url) {
			errf(err, errlen, "%s: cache %s: url is required", source, cfg->caches[i].name);
			rc = -1;
		}
	return rc;
}

int zs_config_load_file(zs_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		buf = strdup("");
	}
	char *dir = realpath(path, NULL);
	if (dir) {
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = 0;
	}
	int rc = zs_config_parse(cfg, buf ? buf : "", path, dir, err, errlen);
	free(dir);
	free(buf);
	return rc;
}

void zs_config_help(FILE *out)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const setting *s = &zs_settings[i];
		if (s->type == T_LONG)
			fprintf(out, "  --%-20s %s\n  %22s default %s, from %ld to %ld\n", s->name, s->help,
			        "", s->def, s->min, s->max);
		else
			fprintf(out, "  --%-20s %s\n  %22s default \"%s\"\n", s->name, s->help, "", s->def);
	}
}

char *zs_url_redact(const char *url, char *buf, size_t len)
{
	const char *scheme = strstr(url, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	if (scheme && at && (!slash || at < slash))
		snprintf(buf, len, "%.*s%s", (int)(scheme + 3 - url), url, at + 1);
	else
		snprintf(buf, len, "%s", url);
	return buf;
}

void zs_config_dump(const zs_config *cfg, FILE *out)
{
	char red[2048];
	for (size_t i = 0; i < NSETTINGS; i++) {
		const setting *s = &zs_settings[i];
		const char *base = (const char *)cfg;
		if (s->type == T_LONG)
			fprintf(out, "%s = %ld\n", s->name, *(const long *)(base + s->off));
		else
			fprintf(out, "%s = %s\n", s->name, *(char *const *)(base + s->off));
	}
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		const zs_feed_conf *f = &cfg->feeds[i];
		fprintf(out, "\n[feed %s]\nkind = %s\nurl = %s\nschedule = %ld\nstale_after = %ld\n",
		        f->name, f->kind == ZS_FEED_INSURER ? "insurer" : "provider",
		        zs_url_redact(f->url, red, sizeof red), f->schedule, f->stale_after);
		if (f->max_invalid_rows >= 0) /* unset: max_invalid_percent */
			fprintf(out, "max_invalid_rows = %ld\n", f->max_invalid_rows);
		if (f->display_name)
			fprintf(out, "display_name = %s\n", f->display_name);
		if (f->credentials_file)
			fprintf(out, "credentials_file = %s\n", f->credentials_file);
	}
	for (size_t i = 0; i < cfg->nsubscribers; i++) {
		const zs_subscriber_conf *s = &cfg->subscribers[i];
		fprintf(out, "\n[subscriber %s]\nurl = %s\nsecret_file = %s\nmax_batch = %ld\n", s->name,
		        zs_url_redact(s->url, red, sizeof red), s->secret_file, s->max_batch);
		if (s->year)
			fprintf(out, "year = %ld\n", s->year);
		if (s->insurer)
			fprintf(out, "insurer = %s\n", s->insurer);
		if (s->provider_kind)
			fprintf(out, "provider_kind = %s\n", s->provider_kind);
	}
	for (size_t i = 0; i < cfg->ncaches; i++)
		fprintf(out, "\n[cache %s]\nurl = %s\n", cfg->caches[i].name,
		        zs_url_redact(cfg->caches[i].url, red, sizeof red));
}

/* A secret file readable by group or others: refuse (the caller exits with EX_CONFIG). */
static int secret_ok(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	if (!path || !*path || stat(path, &sb) != 0) /* a missing file is reported where it is read */
		return 0;
	if (sb.st_mode & (S_IRGRP | S_IROTH)) {
		errf(err, errlen, "%s %s has mode %04o: it is readable by %s; make it readable by the"
		     " daemon's user only (chmod 600 %s)", what, path, (unsigned)(sb.st_mode & 07777),
		     (sb.st_mode & S_IRGRP) && (sb.st_mode & S_IROTH) ? "group and others"
		     : (sb.st_mode & S_IRGRP) ? "its group" : "others", path);
		return -1;
	}
	return 0;
}

int zs_config_check_secrets(const zs_config *cfg, char *err, size_t errlen)
{
	if (secret_ok("staff_token_file", cfg->staff_token_file, err, errlen))
		return -1;
	if (secret_ok("staff_accounts_file", cfg->staff_accounts_file, err, errlen))
		return -1;
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		char what[ZS_FEED_NAME_MAX + 40];
		snprintf(what, sizeof what, "feed %s: credentials_file", cfg->feeds[i].name);
		if (secret_ok(what, cfg->feeds[i].credentials_file, err, errlen))
			return -1;
	}
	for (size_t i = 0; i < cfg->nsubscribers; i++) {
		char what[ZS_FEED_NAME_MAX + 40];
		snprintf(what, sizeof what, "subscriber %s: secret_file", cfg->subscribers[i].name);
		if (secret_ok(what, cfg->subscribers[i].secret_file, err, errlen))
			return -1;
	}
	return 0;
}

static int check_redirects(const char *v, char *msg, size_t len)
{
	if (strcmp(v, "same_host") && strcmp(v, "any") && strcmp(v, "none")) {
		snprintf(msg, len, "must be same_host, any or none, got \"%.40s\"", v);
		return -1;
	}
	return 0;
}
