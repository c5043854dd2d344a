/* zs_config_man.c - the manual pages zorgstatusd(8) and zorgstatus.conf(5), written from the
 * one settings table (zs_config_priv.h) so that they cannot drift from --help. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "zs_config.h"
#include "zs_config_priv.h"

/* ---- man pages: zorgstatusd(8) and zorgstatus.conf(5), written from the settings table ---- */

/* Text for roff: backslash and minus escaped, no line starting with a control character. */
static void man_text(FILE *out, const char *s)
{
	for (int bol = 1; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

/* One setting as a tagged paragraph: "--name VALUE" (section 8) or "name = VALUE" (5). */
static void man_setting(FILE *out, const setting *s, int section)
{
	fputs(".TP\n", out);
	if (section == 8) {
		fputs("\\fB\\-\\-", out);
		man_text(out, s->name);
		fputs("\\fR \\fI", out);
	} else {
		fputs("\\fB", out);
		man_text(out, s->name);
		fputs("\\fR = \\fI", out);
	}
	fputs(s->type == T_LONG ? "N" : "VALUE", out);
	fputs("\\fR\n", out);
	man_text(out, s->help);
	if (s->type == T_LONG) {
		fprintf(out, ".\nDefault %s, from %ld to %ld.\n", s->def, s->min, s->max);
	} else if (s->def[0]) {
		fputs(".\nDefault \\(lq", out);
		man_text(out, s->def);
		fputs("\\(rq.\n", out);
	} else {
		fputs(".\nDefault empty.\n", out);
	}
}

/* The keys of a [feed NAME] section (parsed in feed_set above). */
static const struct {
	const char *key, *value, *help;
} feed_keys[] = {
	{ "kind", "insurer|provider", "Required. The feed format: an insurer's statements per policy, or a care provider's (feeds/README.md)." },
	{ "url", "URL", "Required. http://, https:// or file:// URL, or a path; a relative path is taken relative to the directory of the configuration file. TLS certificates are always verified." },
	{ "schedule", "SECONDS", "Seconds between fetches of this feed, from 1 to 31536000. Default: the global default_schedule." },
	{ "stale_after", "SECONDS", "Seconds after the last successful fetch before the feed's statements are shown as stale, from 1 to 31536000. Default: the global default_stale_after." },
	{ "max_invalid_rows", "N", "Invalid records tolerated per version of the feed (skipped and reported on /v1/feeds); more and the version is not applied. From 0 to 31536000. Default: unset, the global max_invalid_percent applies." },
	{ "display_name", "TEXT", "The name people know this source by, e.g. \"Zilveren Kruis\" (at most 200 characters). Shown in answers instead of the feed header's publisher name. Default: the publisher name from the feed header (an insurer feed without one: its insurer's name). The section name is never shown to consumers." },
	{ "credentials_file", "FILE", "A file holding \"user:password\" (HTTP basic authentication) or \"Bearer TOKEN\", readable by the daemon's user only (mode 0600). Never logged, never shown by /v1/feeds or \\-\\-dump\\-config." },
};

/* The keys of [subscriber NAME] and [cache NAME] sections (parsed in subscriber_set and
 * cache_set above), for zorgstatus.conf(5). */
static const struct {
	const char *key, *value, *help;
} extra_keys[] = {
	{ "[subscriber NAME]", "", "A webhook receiver of the change feed (docs/api.md, Webhooks). Subscribers and caches are read at start: a change needs a restart." },
	{ "url", "URL", "Required. http:// or https:// URL the batches of events are POSTed to. TLS certificates are always verified." },
	{ "secret_file", "FILE", "Required. The HMAC\\-SHA256 key (first line, at least 16 characters) the X\\-Zorgstatus\\-Signature header is made with; readable by the daemon's user only (mode 0600). Never logged." },
	{ "max_batch", "N", "Events per POST, from 1 to 1000. Default: 100." },
	{ "year", "YEAR", "Only events of this contract year. Default: every year." },
	{ "insurer", "UZOVI", "Only events of policies of this insurer. Default: every insurer." },
	{ "provider_kind", "KIND", "Only events of providers of this kind. Default: every kind." },
	{ "[cache NAME]", "", "A cache in front of the daemon (Varnish with vmod xkey) purged by dependency key after every snapshot." },
	{ "url", "URL", "Required. http:// or https:// URL the PURGE requests (header xkey\\-purge) go to." },
};

void zs_config_man(FILE *out, int section, const zs_man_paths *paths)
{
	const char *conf = paths && paths->conf_file ? paths->conf_file : "/etc/zorgstatus/zorgstatus.conf";
	const char *data = paths && paths->data_dir ? paths->data_dir : "/usr/share/zorgstatus";
	const char *state = paths && paths->state_dir ? paths->state_dir : "/var/lib/zorgstatus";

	if (section == 5) {
		fprintf(out, ".TH ZORGSTATUS.CONF 5 \"\" \"zorgstatus %s\" \"File Formats\"\n", PACKAGE_VERSION);
		fputs(".SH NAME\nzorgstatus.conf \\- configuration file of zorgstatusd\n"
		      ".SH SYNOPSIS\n", out);
		man_text(out, conf);
		fputs("\n.SH DESCRIPTION\n"
		      "The configuration of \\fBzorgstatusd\\fR(8): which feeds to fetch and how to serve them.\n"
		      "INI\\-like text: \\fIkey\\fR = \\fIvalue\\fR lines, \\fB#\\fR starts a comment, and one\n"
		      "\\fB[feed\\fR \\fINAME\\fR\\fB]\\fR section per feed (NAME: 1 to 64 of A\\-Z a\\-z 0\\-9 _ . \\-).\n"
		      "Settings before the first section are global. Every global setting is also a command\n"
		      "line option \\fB\\-\\-\\fR\\fIname\\fR \\fIvalue\\fR, which wins over the file.\n"
		      "\\fBzorgstatusd \\-\\-dump\\-config\\fR prints the effective configuration.\n"
		      ".PP\nOn \\fBSIGHUP\\fR the daemon reads the file again. A file with an error is refused\n"
		      "with a log line naming the file, the line and the reason; the running configuration stays.\n"
		      ".SH GLOBAL SETTINGS\n", out);
		for (size_t i = 0; i < zs_nsettings; i++)
			man_setting(out, &zs_settings[i], 5);
		fputs(".SH FEED SECTIONS\n", out);
		for (size_t i = 0; i < sizeof feed_keys / sizeof feed_keys[0]; i++) {
			fputs(".TP\n\\fB", out);
			man_text(out, feed_keys[i].key);
			fputs("\\fR = \\fI", out);
			man_text(out, feed_keys[i].value);
			fputs("\\fR\n", out);
			fputs(feed_keys[i].help, out); /* already roff: escaped above where needed */
			fputs("\n", out);
		}
		fputs(".SH SUBSCRIBER AND CACHE SECTIONS\n", out);
		for (size_t i = 0; i < sizeof extra_keys / sizeof extra_keys[0]; i++) {
			fputs(".TP\n\\fB", out);
			man_text(out, extra_keys[i].key);
			if (extra_keys[i].value[0]) {
				fputs("\\fR = \\fI", out);
				man_text(out, extra_keys[i].value);
			}
			fputs("\\fR\n", out);
			fputs(extra_keys[i].help, out);
			fputs("\n", out);
		}
		fputs(".SH EXAMPLE\n.nf\n"
		      "listen = 127.0.0.1:8080\n", out);
		fprintf(out, "database = %s/zorgstatus.db\n", state);
		fputs("\n[feed zuiderzorg]\nkind = insurer\n"
		      "url = https://feeds.example.invalid/insurer/9101.jsonl\n"
		      "schedule = 900\nstale_after = 86400\n", out);
		const char *slash = strrchr(conf, '/');
		fprintf(out, "credentials_file = %.*s/zuiderzorg.cred\n.fi\n.SH FILES\n.TP\n",
		        slash ? (int)(slash - conf) : 1, slash ? conf : ".");
		man_text(out, conf);
		fputs("\nThe configuration the packaged service reads (the bundled sample feeds until changed).\n"
		      ".TP\n", out);
		man_text(out, data);
		fputs("/feeds\nThe bundled sample feeds (fictitious data).\n"
		      ".SH SEE ALSO\n\\fBzorgstatusd\\fR(8)\n", out);
		return;
	}

	fprintf(out, ".TH ZORGSTATUSD 8 \"\" \"zorgstatus %s\" \"System Administration\"\n", PACKAGE_VERSION);
	fputs(".SH NAME\nzorgstatusd \\- contract status of Dutch care providers per health\\-insurance policy\n"
	      ".SH SYNOPSIS\n.B zorgstatusd\n"
	      "[\\fB\\-\\-config\\fR \\fIFILE\\fR] [\\fB\\-\\-\\fR\\fIsetting\\fR \\fIVALUE\\fR ...] [\\fB\\-\\-dump\\-config\\fR]\n"
	      ".br\n.B zorgstatusd\n\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR | \\fB\\-\\-man\\fR \\fI8\\fR|\\fI5\\fR\n"
	      ".SH DESCRIPTION\n"
	      "\\fBzorgstatusd\\fR pulls contract\\-status feeds from Dutch health insurers and care\n"
	      "providers, reconciles them per policy in an SQLite database, and answers over HTTP/JSON\n"
	      "whether a care provider has a contract for a policy and what that means for what the\n"
	      "patient pays. Without \\fB\\-\\-config\\fR it serves the bundled sample feeds.\n"
	      ".PP\nUnder systemd (\\fBType=notify\\fR) it reports readiness once the database is open and\n"
	      "the serving threads listen, a status line with the number of feeds loaded and failing, and\n"
	      "watchdog keep\\-alives when the unit sets \\fBWatchdogSec=\\fR.\n"
	      "\\fB/healthz\\fR answers liveness, \\fB/readyz\\fR readiness (503 until the first snapshot\n"
	      "is loaded and its statuses are held in memory), \\fB/metrics\\fR Prometheus metrics.\n"
	      ".SH OPTIONS\n"
	      ".TP\n\\fB\\-\\-config\\fR \\fIFILE\\fR\nRead the configuration file FILE (\\fBzorgstatus.conf\\fR(5)).\n"
	      ".TP\n\\fB\\-\\-dump\\-config\\fR\nPrint the effective configuration in file syntax and exit (never credentials).\n"
	      ".TP\n\\fB\\-\\-help\\fR\nList every option with its default, bounds and meaning, and exit.\n"
	      ".TP\n\\fB\\-\\-version\\fR\nPrint the version and exit.\n"
	      ".TP\n\\fB\\-\\-man\\fR \\fI8\\fR|\\fI5\\fR\nPrint this manual page (8) or \\fBzorgstatus.conf\\fR(5) in roff and exit.\n"
	      ".SH SETTINGS\n"
	      "Every setting of the configuration file is also an option; the command line wins.\n", out);
	for (size_t i = 0; i < zs_nsettings; i++)
		man_setting(out, &zs_settings[i], 8);
	fputs(".SH SIGNALS\n"
	      ".TP\n\\fBSIGHUP\\fR\nRead the configuration file again: feeds added, removed or changed,\n"
	      "thresholds, log level and schedules take effect without a restart. A file with an error is\n"
	      "refused with a log line naming file, line and reason, and the running configuration stays.\n"
	      ".TP\n\\fBSIGTERM\\fR, \\fBSIGINT\\fR\nStop accepting connections, finish the requests in flight,\n"
	      "stop the ingest at a transaction boundary, close the database and exit 0.\n"
	      ".SH EXIT STATUS\n"
	      "0 on success; otherwise a code from \\fIsysexits.h\\fR: 64 (EX_USAGE) for a bad option,\n"
	      "78 (EX_CONFIG) for a bad configuration file, 69 (EX_UNAVAILABLE) when the listening address\n"
	      "cannot be used (for example another process listens on it), 73 (EX_CANTCREAT) when the\n"
	      "database cannot be opened, 70 (EX_SOFTWARE) for an internal error.\n"
	      ".SH ENVIRONMENT\n"
	      ".TP\n\\fBJOURNAL_STREAM\\fR\nSet by systemd: log lines start with their syslog priority\n"
	      "(\\fB<4>\\fR) and carry no timestamp of their own.\n"
	      ".TP\n\\fBNOTIFY_SOCKET\\fR, \\fBWATCHDOG_USEC\\fR\nSet by systemd for readiness, status and watchdog notifications.\n"
	      ".SH FILES\n.TP\n", out);
	man_text(out, conf);
	fputs("\nThe configuration of the packaged service.\n.TP\n", out);
	man_text(out, state);
	fputs("/zorgstatus.db\nThe SQLite database of the packaged service (WAL mode); back it up with\n"
	      "\\fBsqlite3\\fR \\fIdb\\fR \\(dq.backup \\fIcopy\\fR\\(dq while the daemon runs.\n.TP\n", out);
	man_text(out, data);
	fputs("/www\nThe widget pages, served at / and /www/.\n.TP\n", out);
	man_text(out, data);
	fputs("/feeds\nThe bundled sample feeds (fictitious data).\n"
	      ".SH SEE ALSO\n\\fBzorgstatus.conf\\fR(5), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1),\n"
	      "/usr/share/doc/zorgstatus/README\n", out);
}
