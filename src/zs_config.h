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
	long max_invalid_rows;   /* -1 unset: the global max_invalid_percent applies */
	char *display_name;      /* NULL or the name people know the source by; overrides the
	                            feed header's publisher in answers (owned, freed with cfg) */
} zs_feed_conf;

/* [subscriber NAME]: a webhook receiver of the change feed (zs_notify_http.h). */
typedef struct {
	char name[ZS_FEED_NAME_MAX + 1];
	char *url;               /* http(s) URL the batches are POSTed to */
	char *secret_file;       /* the HMAC-SHA256 key, first line of the file (never logged) */
	long year;               /* 0: every year; else only this contract year */
	char *insurer;           /* NULL, or only policies of this UZOVI code */
	char *provider_kind;     /* NULL, or only providers of this kind */
	long max_batch;          /* events per POST */
} zs_subscriber_conf;

/* [cache NAME]: a cache tier (Varnish with vmod xkey) purged by dependency key. */
typedef struct {
	char name[ZS_FEED_NAME_MAX + 1];
	char *url;               /* http URL the PURGE requests go to */
} zs_cache_conf;

typedef struct {
	char *listen;            /* "host:port" */
	char *database;
	long threads;
	char *log_level;
	char *access_log;        /* "" off, "-" stderr, else a file */
	long metrics;            /* 1: serve /metrics */
	char *metrics_listen;    /* "" = on listen, else a separate address:port */
	long shutdown_timeout;   /* seconds for requests in flight at SIGTERM */
	char *now;               /* "" = real clock */
	char *staff_token_file;
	char *staff_accounts_file; /* "" none; lines "name role hash" (zs_staff.h) */
	long staff_auth_failures;  /* failed staff sign-ins per address per minute */
	char *audit_database;      /* "" = derived from database (zs_staff.h) */
	long audit_retention_days;
	char *www_dir;
	long connect_timeout;
	long fetch_timeout;
	long max_feed_mb;
	long max_line_kb;        /* longest feed line kept in memory */
	long max_invalid_percent;
	char *follow_redirects;  /* same_host | any | none */
	long low_speed_limit;    /* bytes/s; 0 off */
	long low_speed_time;     /* seconds */
	long fetch_parallel;     /* feeds fetched at once */
	long retry_min;
	long default_schedule;
	long default_stale_after;
	long http_timeout;
	long max_body_kb;
	long response_cache_seconds;
	long response_cache_mb;
	long rows_in_memory;            /* effective rows held in memory (zs_rows.h) */
	long similar_equal_overlap;     /* percent */
	long similar_equal_pct;
	long similar_very_overlap;      /* percent */
	long similar_very_pct;
	long history_keep_years;        /* contract years of history kept (zs_maint) */
	long ingest_nice;               /* nice of the worker thread (zs_worker.c) */
	long wal_limit_mb;              /* journal_size_limit of the WAL */
	long rollover_batch_rows;       /* rows per transaction moving retired rows (zs_rollover) */
	char *base_dir;          /* directory relative feed paths are resolved against */
	long changes_retention;  /* seconds the change feed keeps its events */
	zs_feed_conf *feeds;
	size_t nfeeds;
	zs_subscriber_conf *subscribers;
	size_t nsubscribers;
	zs_cache_conf *caches;
	size_t ncaches;
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

/* Settings marked "restart to change" that differ between running and next: their names,
 * comma-separated, into names; returns how many. */
int zs_config_restart_changes(const zs_config *running, const zs_config *next, char *names,
                              size_t len);
/* Copy the restart-only settings of running into next (a reload keeps them). 0, or -1. */
int zs_config_copy_restart(zs_config *next, const zs_config *running, char *err, size_t errlen);

/* Print every setting with default, bounds and meaning. */
void zs_config_help(FILE *out);
/* Installed paths named in the man pages; NULL members take the Debian package's paths. */
typedef struct {
	const char *conf_file;   /* e.g. /etc/zorgstatus/zorgstatus.conf */
	const char *data_dir;    /* pkgdatadir: www/ and feeds/ */
	const char *state_dir;   /* the packaged database's directory */
} zs_man_paths;
/* Print the manual page zorgstatusd(8) (section 8) or zorgstatus.conf(5) (section 5) in roff,
 * written from the settings table so it cannot drift from --help. paths may be NULL. */
void zs_config_man(FILE *out, int section, const zs_man_paths *paths);
/* Print the effective configuration in file syntax (credentials are not printed). */
void zs_config_dump(const zs_config *cfg, FILE *out);

/* The staff token file and every credentials file must not be readable by group or others.
 * Returns 0, or -1 with a message naming the file and its mode in err. Missing files pass
 * (they are reported where they are read). */
int zs_config_check_secrets(const zs_config *cfg, char *err, size_t errlen);

/* Copy url without user:password@ into buf. Returns buf. */
char *zs_url_redact(const char *url, char *buf, size_t len);

#endif
