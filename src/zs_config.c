/* zs_config.c - configuration table, file parser, help and dump. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "zs_config.h"

typedef enum { T_STR, T_LONG } stype;

typedef struct {
	const char *name;
	stype type;
	size_t off;
	const char *def;
	long min, max;
	const char *help;
} setting;

#define S(n, h, d) { #n, T_STR, offsetof(zs_config, n), d, 0, 0, h }
#define L(n, h, d, lo, hi) { #n, T_LONG, offsetof(zs_config, n), d, lo, hi, h }

static const setting settings[] = {
	S(listen, "address:port to serve HTTP on", "127.0.0.1:8080"),
	S(database, "SQLite database file (created if missing)", "zorgstatus.db"),
	L(threads, "HTTP serving threads (one event loop each, SO_REUSEPORT)", "2", 1, 64),
	S(log_level, "error | warn | info | debug", "info"),
	S(now, "start the clock at this Europe/Amsterdam time (YYYY-MM-DDTHH:MM:SS); empty = real clock", ""),
	S(www_dir, "directory of the widget's static pages (served at / and /www/); empty = the bundled www/", ""),
	S(staff_token_file, "file holding the bearer token for staff endpoints; empty = staff endpoints off", ""),
	L(connect_timeout, "feed fetch connect timeout, seconds", "10", 1, 600),
	L(fetch_timeout, "feed fetch total timeout, seconds", "600", 1, 86400),
	L(max_feed_mb, "largest feed body accepted, MiB", "2048", 1, 65536),
	L(retry_min, "first retry delay after a failed fetch, seconds (doubles up to the schedule)", "30", 1, 86400),
	L(default_schedule, "default seconds between fetches of a feed", "300", 1, 604800),
	L(default_stale_after, "default seconds after a feed's last success before it is stale", "86400", 1, 31536000),
	L(http_timeout, "HTTP request read/write timeout, seconds", "30", 1, 3600),
	L(max_body_kb, "largest HTTP request body accepted, KiB", "16", 1, 1024),
	L(response_cache_seconds, "keep rendered public answers this long per serving thread (never past a snapshot change or local midnight); 0 = off", "10", 0, 3600),
	L(response_cache_mb, "response cache size per serving thread, MiB", "64", 1, 4096),
	L(similar_equal_overlap, "similar policies: 'equal' needs at least this % of contracted (provider, care type) pairs in common (Jaccard)", "100", 0, 100),
	L(similar_equal_pct, "similar policies: 'equal' allows at most this many points difference in non-contracted reimbursement", "0", 0, 100),
	L(similar_very_overlap, "similar policies: 'very similar' needs at least this % in common", "95", 0, 100),
	L(similar_very_pct, "similar policies: 'very similar' allows at most this many points difference", "5", 0, 100),
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

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

void zs_config_defaults(zs_config *cfg)
{
	char err[128];
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NSETTINGS; i++)
		set_one(cfg, &settings[i], settings[i].def, err, sizeof err);
}

void zs_config_free(zs_config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].type == T_STR)
			free(*(char **)((char *)cfg + settings[i].off));
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		free(cfg->feeds[i].url);
		free(cfg->feeds[i].credentials_file);
	}
	free(cfg->feeds);
	free(cfg->base_dir);
	memset(cfg, 0, sizeof *cfg);
}

int zs_config_set(zs_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return set_one(cfg, &settings[i], value, err, errlen);
	errf(err, errlen, "%s: unknown setting", name);
	return -1;
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

int zs_config_parse(zs_config *cfg, const char *text, const char *source, const char *base_dir,
                    char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *line;
	char msg[256];
	int lineno = 0, rc = 0;
	zs_feed_conf *cur = NULL;
	size_t first_new = cfg->nfeeds;

	if (!copy) {
		errf(err, errlen, "%s: out of memory", source);
		return -1;
	}
	if (base_dir) {
		free(cfg->base_dir);
		cfg->base_dir = strdup(base_dir);
	}
	for (char *p = copy; (line = strtok_r(p, "\n", &save)) != NULL; p = NULL) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] || strncmp(s, "[feed ", 6) != 0) {
				errf(err, errlen, "%s:%d: expected [feed NAME]", source, lineno);
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
		const setting *s = &settings[i];
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
		const setting *s = &settings[i];
		const char *base = (const char *)cfg;
		if (s->type == T_LONG)
			fprintf(out, "%s = %ld\n", s->name, *(const long *)(base + s->off));
		else
			fprintf(out, "%s = %s\n", s->name, *(char *const *)(base + s->off));
	}
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		const zs_feed_conf *f = &cfg->feeds[i];
		fprintf(out, "\n[feed %s]\nkind = %s\nurl = %s\nschedule = %ld\nstale_after = %ld\n"
		        "max_invalid_rows = %ld\n",
		        f->name, f->kind == ZS_FEED_INSURER ? "insurer" : "provider",
		        zs_url_redact(f->url, red, sizeof red), f->schedule, f->stale_after,
		        f->max_invalid_rows);
		if (f->credentials_file)
			fprintf(out, "credentials_file = %s\n", f->credentials_file);
	}
}
