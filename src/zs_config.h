/* zs_config.h - the one configuration table: global settings and feed sections.
 * The file (INI-like, docs/config.md) and the command line share the table. */
#ifndef ZS_CONFIG_H
#define ZS_CONFIG_H
#include <stddef.h>
#include <stdio.h>

#define ZS_FEED_NAME_MAX 64

typedef enum { ZS_FEED_INSURER = 1, ZS_FEED_PROVIDER = 2 } zs_feed_kind;

typedef struct {
	char name[ZS_FEED_NAME_MAX + 1];
	zs_feed_kind kind;
	char *url;               /* absolute URL (relative paths resolved to file://) */
	char *credentials_file;  /* NULL or a path; the file holds "user:pass" or "Bearer x" */
	long schedule;           /* seconds between fetches */
	long stale_after;        /* seconds */
	long max_invalid_rows;
} zs_feed_conf;

typedef struct {
	char *listen;            /* "host:port" */
	char *database;
	long threads;
	char *log_level;
	char *now;               /* "" = real clock */
	char *staff_token_file;
	char *www_dir;
	long connect_timeout;
	long fetch_timeout;
	long max_feed_mb;
	long retry_min;
	long default_schedule;
	long default_stale_after;
	long http_timeout;
	long max_body_kb;
	long response_cache_seconds;
	long response_cache_mb;
	long similar_equal_overlap;     /* percent */
	long similar_equal_pct;
	long similar_very_overlap;      /* percent */
	long similar_very_pct;
	char *base_dir;          /* directory relative feed paths are resolved against */
	zs_feed_conf *feeds;
	size_t nfeeds;
} zs_config;

/* Fill cfg with defaults. Free with zs_config_free. */
void zs_config_defaults(zs_config *cfg);
void zs_config_free(zs_config *cfg);

/* Set one global setting by name (from the command line or the file). Returns 0, or -1 with a
 * message naming the setting in err. */
int zs_config_set(zs_config *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Parse configuration text; source names it in errors ("file.conf"). base_dir resolves
 * relative feed paths. Returns 0, or -1 with "source:line: reason" in err. */
int zs_config_parse(zs_config *cfg, const char *text, const char *source, const char *base_dir,
                    char *err, size_t errlen);
int zs_config_load_file(zs_config *cfg, const char *path, char *err, size_t errlen);

/* Print every setting with default, bounds and meaning. */
void zs_config_help(FILE *out);
/* Print the effective configuration in file syntax (credentials are not printed). */
void zs_config_dump(const zs_config *cfg, FILE *out);

/* Copy url without user:password@ into buf. Returns buf. */
char *zs_url_redact(const char *url, char *buf, size_t len);

#endif
