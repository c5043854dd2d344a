/* zs_staff.c - staff accounts, authentication, failed-sign-in rate limit, audit log
 * (see zs_staff.h). Hashing and constant-time comparison: OpenSSL libcrypto. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include "zs_log.h"
#include "zs_staff.h"
#include "zs_time.h"

#define MOD "staff"
#define SALT_LEN 16
#define HASH_LEN 32
#define RL_SLOTS 1024          /* client addresses remembered by the rate limit */
#define RL_WINDOW 60           /* seconds */
#define AUDIT_MAX_ROWS 1000000LL

typedef struct {
	char name[ZS_STAFF_NAME_MAX + 1];
	int admin;
	unsigned char salt[SALT_LEN];
	unsigned char hash[HASH_LEN];
} account;

typedef struct {
	char addr[64];
	long long start;       /* monotonic seconds the window began */
	unsigned fails;
} rl_slot;

static pthread_rwlock_t acc_lock = PTHREAD_RWLOCK_INITIALIZER;
static account *accounts;
static size_t naccounts;

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static rl_slot rl[RL_SLOTS];
static long rl_max = 10;

static pthread_mutex_t audit_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *audit_db;
static sqlite3_stmt *audit_ins;
static long audit_days = 90;
static unsigned audit_since_prune;

/* ---- hashing -------------------------------------------------------------------------------- */

static int sha256_salted(const unsigned char *salt, const char *token, size_t tlen,
                         unsigned char out[HASH_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(c, salt, SALT_LEN) == 1 && EVP_DigestUpdate(c, token, tlen) == 1 &&
	         EVP_DigestFinal_ex(c, out, &n) == 1 && n == HASH_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
}

static int from_hex(const char *s, size_t len, unsigned char *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0)
				return -1;
			v = v * 16 + d;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || n > ZS_STAFF_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._@-", s[i]))
			return 0;
	return 1;
}

static int make_account(account *a, const char *name, int admin, const char *token)
{
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "%s", name);
	a->admin = admin;
	if (RAND_bytes(a->salt, SALT_LEN) != 1)
		return -1;
	return sha256_salted(a->salt, token, strlen(token), a->hash);
}

int zs_staff_hash_line(const char *name, const char *role, const char *token, char *out,
                       size_t outlen, char *err, size_t errlen)
{
	account a;
	char salt[2 * SALT_LEN + 1], hash[2 * HASH_LEN + 1];
	size_t tl = token ? strlen(token) : 0;
	if (!name || !valid_name(name, strlen(name))) {
		snprintf(err, errlen, "a name is 1-%d letters, digits or . _ @ -", ZS_STAFF_NAME_MAX);
		return -1;
	}
	if (!role || (strcmp(role, "staff") && strcmp(role, "admin"))) {
		snprintf(err, errlen, "the role is staff or admin");
		return -1;
	}
	if (tl < ZS_STAFF_TOKEN_MIN || tl > ZS_STAFF_TOKEN_MAX) {
		snprintf(err, errlen, "the token must be %d to %d characters (e.g. openssl rand -base64 32)",
		         ZS_STAFF_TOKEN_MIN, ZS_STAFF_TOKEN_MAX);
		return -1;
	}
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)token[i] <= ' ' || token[i] == 0x7f) {
			snprintf(err, errlen, "the token must not hold spaces or control characters");
			return -1;
		}
	if (make_account(&a, name, 0, token) != 0) {
		snprintf(err, errlen, "hashing failed (libcrypto)");
		return -1;
	}
	to_hex(a.salt, SALT_LEN, salt);
	to_hex(a.hash, HASH_LEN, hash);
	snprintf(out, outlen, "%s %s sha256:%s:%s", name, role, salt, hash);
	OPENSSL_cleanse(&a, sizeof a);
	return 0;
}

int zs_staff_hash_token_main(int argc, char **argv)
{
	char *line = NULL, out[512], err[256];
	size_t cap = 0;
	const char *name = argc > 0 ? argv[0] : NULL, *role = argc > 1 ? argv[1] : "staff";
	if (!name || argc > 2) {
		fprintf(stderr, "usage: zorgstatusd --hash-token NAME [staff|admin] < token\n");
		return 64;
	}
	if (isatty(0))
		fprintf(stderr, "token (input is shown; better: openssl rand -base64 32 | tee token |"
		                " zorgstatusd --hash-token %s): ", name);
	ssize_t n = getline(&line, &cap, stdin);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	int rc = n > 0 ? zs_staff_hash_line(name, role, line, out, sizeof out, err, sizeof err) : -1;
	if (n <= 0)
		snprintf(err, sizeof err, "no token on standard input");
	if (line) {
		OPENSSL_cleanse(line, cap);
		free(line);
	}
	if (rc != 0) {
		fprintf(stderr, "zorgstatusd: --hash-token: %s\n", err);
		return 65;
	}
	printf("%s\n", out);
	return 0;
}

/* ---- the account table ---------------------------------------------------------------------- */

static int add(account **v, size_t *n, size_t *cap, const account *a, char *err, size_t errlen,
               const char *where)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].name, a->name) == 0) {
			snprintf(err, errlen, "%s: account %s is listed twice", where, a->name);
			return -1;
		}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		account *nv = realloc(*v, nc * sizeof *nv);
		if (!nv) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *a;
	return 0;
}

static int parse_line(char *s, account *a, char *why, size_t whylen)
{
	char *f[4];
	int nf = 0;
	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (nf < 4)
			f[nf++] = t;
		else
			nf = 5;
	if (nf != 3) {
		snprintf(why, whylen, "expected \"name role sha256:salt:hash\"");
		return -1;
	}
	memset(a, 0, sizeof *a);
	if (!valid_name(f[0], strlen(f[0]))) {
		snprintf(why, whylen, "a name is 1-%d letters, digits or . _ @ -", ZS_STAFF_NAME_MAX);
		return -1;
	}
	snprintf(a->name, sizeof a->name, "%s", f[0]);
	if (strcmp(f[1], "admin") == 0)
		a->admin = 1;
	else if (strcmp(f[1], "staff") != 0) {
		snprintf(why, whylen, "role must be staff or admin");
		return -1;
	}
	char *salt = strncmp(f[2], "sha256:", 7) == 0 ? f[2] + 7 : NULL;
	char *colon = salt ? strchr(salt, ':') : NULL;
	if (!colon || from_hex(salt, (size_t)(colon - salt), a->salt, SALT_LEN) ||
	    from_hex(colon + 1, strlen(colon + 1), a->hash, HASH_LEN)) {
		snprintf(why, whylen, "the hash must be sha256:<32 hex digits>:<64 hex digits>"
		                      " (zorgstatusd --hash-token makes the line)");
		return -1;
	}
	return 0;
}

static int read_accounts(const char *path, account **v, size_t *n, size_t *cap, char *err,
                         size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, why[160], where[300];
	size_t lcap = 0;
	long no = 0;
	int rc = 0;
	if (!fp) {
		snprintf(err, errlen, "staff_accounts_file %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&line, &lcap, fp) >= 0) {
		char *s = line;
		no++;
		s[strcspn(s, "\r\n")] = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		account a;
		snprintf(where, sizeof where, "staff_accounts_file %s:%ld", path, no);
		if (parse_line(s, &a, why, sizeof why) != 0) {
			snprintf(err, errlen, "%s: %s", where, why);
			rc = -1;
		} else {
			rc = add(v, n, cap, &a, err, errlen, where);
		}
	}
	free(line);
	fclose(fp);
	return rc;
}

/* The old single token: one account "staff". */
static int read_token_file(const char *path, account **v, size_t *n, size_t *cap, char *err,
                           size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0;
	if (!fp) {
		snprintf(err, errlen, "staff_token_file %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t len = getline(&line, &lcap, fp);
	fclose(fp);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = 0;
	int rc = -1;
	account a;
	if (len < 16)
		snprintf(err, errlen, "staff_token_file %s: the token must be at least 16 characters",
		         path);
	else if (make_account(&a, "staff", 0, line) != 0)
		snprintf(err, errlen, "staff_token_file %s: hashing failed", path);
	else
		rc = add(v, n, cap, &a, err, errlen, "staff_token_file");
	if (line) {
		OPENSSL_cleanse(line, lcap);
		free(line);
	}
	return rc;
}

static void swap_in(account *v, size_t n)
{
	pthread_rwlock_wrlock(&acc_lock);
	account *old = accounts;
	size_t nold = naccounts;
	accounts = v;
	naccounts = n;
	pthread_rwlock_unlock(&acc_lock);
	if (old)
		OPENSSL_cleanse(old, nold * sizeof *old);
	free(old);
}

int zs_staff_load(const zs_config *cfg, char *err, size_t errlen)
{
	account *v = NULL;
	size_t n = 0, cap = 0;
	if ((cfg->staff_accounts_file && *cfg->staff_accounts_file &&
	     read_accounts(cfg->staff_accounts_file, &v, &n, &cap, err, errlen)) ||
	    (cfg->staff_token_file && *cfg->staff_token_file &&
	     read_token_file(cfg->staff_token_file, &v, &n, &cap, err, errlen))) {
		free(v);
		return -1;
	}
	if (n > 0 && zs_audit_open(cfg, err, errlen) != 0) {
		free(v);
		return -1;
	}
	pthread_mutex_lock(&rl_mu);
	rl_max = cfg->staff_auth_failures > 0 ? cfg->staff_auth_failures : 10;
	pthread_mutex_unlock(&rl_mu);
	pthread_mutex_lock(&audit_mu);
	audit_days = cfg->audit_retention_days > 0 ? cfg->audit_retention_days : 90;
	pthread_mutex_unlock(&audit_mu);
	swap_in(v, n);
	ZS_INFO(MOD, "%zu staff account%s", n, n == 1 ? "" : "s");
	return 0;
}

int zs_staff_add_token(const char *name, int admin, const char *token)
{
	account a;
	if (!token || !*token || make_account(&a, name, admin, token) != 0)
		return -1;
	pthread_rwlock_wrlock(&acc_lock);
	account *nv = realloc(accounts, (naccounts + 1) * sizeof *nv);
	if (nv) {
		accounts = nv;
		accounts[naccounts++] = a;
	}
	pthread_rwlock_unlock(&acc_lock);
	return nv ? 0 : -1;
}

size_t zs_staff_count(void)
{
	pthread_rwlock_rdlock(&acc_lock);
	size_t n = naccounts;
	pthread_rwlock_unlock(&acc_lock);
	return n;
}

/* ---- authentication and the rate limit -------------------------------------------------------- */

static long long mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

/* The slot of addr (locked by the caller); create: take a free or the oldest one. */
static rl_slot *rl_find(const char *addr, int create, long long now)
{
	rl_slot *oldest = NULL;
	for (size_t i = 0; i < RL_SLOTS; i++) {
		rl_slot *s = &rl[i];
		if (s->addr[0] && strcmp(s->addr, addr) == 0)
			return s;
		if (!oldest || !s->addr[0] || (oldest->addr[0] && s->start < oldest->start))
			oldest = s;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
	oldest->start = now;
	return oldest;
}

int zs_staff_auth(const char *authorization, const char *addr, zs_staff_who *who,
                  long *retry_after)
{
	long long now = mono_s();
	if (!addr || !*addr)
		addr = "unknown";
	memset(who, 0, sizeof *who);
	if (retry_after)
		*retry_after = 0;
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return ZS_STAFF_NONE;
	const char *tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	size_t tl = strlen(tok);
	pthread_mutex_lock(&rl_mu);
	rl_slot *s = rl_find(addr, 0, now);
	if (s && now - s->start >= RL_WINDOW) {
		s->fails = 0;
		s->start = now;
	}
	if (s && s->fails >= (unsigned long)rl_max) {
		if (retry_after)
			*retry_after = (long)(RL_WINDOW - (now - s->start));
		pthread_mutex_unlock(&rl_mu);
		ZS_DEBUG(MOD, "staff sign-in from %s refused: too many failures this minute", addr);
		return ZS_STAFF_LIMITED;
	}
	pthread_mutex_unlock(&rl_mu);

	/* Every account is tried (no early exit), each with a constant-time comparison. */
	int found = 0;
	pthread_rwlock_rdlock(&acc_lock);
	for (size_t i = 0; tl > 0 && tl <= ZS_STAFF_TOKEN_MAX && i < naccounts; i++) {
		unsigned char h[HASH_LEN];
		if (sha256_salted(accounts[i].salt, tok, tl, h) != 0)
			continue;
		if (CRYPTO_memcmp(h, accounts[i].hash, HASH_LEN) == 0 && !found) {
			found = 1;
			snprintf(who->name, sizeof who->name, "%s", accounts[i].name);
			who->admin = accounts[i].admin;
		}
	}
	pthread_rwlock_unlock(&acc_lock);

	pthread_mutex_lock(&rl_mu);
	if (found) {
		if ((s = rl_find(addr, 0, now)))
			memset(s, 0, sizeof *s);
		pthread_mutex_unlock(&rl_mu);
		return ZS_STAFF_OK;
	}
	s = rl_find(addr, 1, now);
	if (now - s->start >= RL_WINDOW) {
		s->fails = 0;
		s->start = now;
	}
	unsigned fails = ++s->fails;
	pthread_mutex_unlock(&rl_mu);
	ZS_WARN(MOD, "failed staff sign-in from %s (%u this minute%s)", addr, fails,
	        fails >= (unsigned long)rl_max ? "; further attempts refused until it is over" : "");
	return ZS_STAFF_BAD;
}

/* ---- the audit log ------------------------------------------------------------------------- */

const char *zs_audit_path(const zs_config *cfg, char *buf, size_t len)
{
	if (cfg->audit_database && *cfg->audit_database) {
		snprintf(buf, len, "%s", cfg->audit_database);
		return buf;
	}
	const char *db = cfg->database ? cfg->database : "zorgstatus.db";
	size_t n = strlen(db);
	if (n > 3 && strcmp(db + n - 3, ".db") == 0)
		snprintf(buf, len, "%.*s-audit.db", (int)(n - 3), db);
	else
		snprintf(buf, len, "%s-audit.db", db);
	return buf;
}

int zs_audit_open(const zs_config *cfg, char *err, size_t errlen)
{
	char path[4200];
	int rc = 0;
	pthread_mutex_lock(&audit_mu);
	if (audit_db)
		goto out;
	zs_audit_path(cfg, path, sizeof path);
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                     "CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY,"
	                     " at INTEGER NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL,"
	                     " action TEXT NOT NULL, agb TEXT, asked_at TEXT);"
	                     "CREATE INDEX IF NOT EXISTS audit_at ON audit(at);"
	                     "CREATE INDEX IF NOT EXISTS audit_agb ON audit(agb, at);",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO audit(at, who, role, action, agb, asked_at)"
	                           " VALUES(?,?,?,?,?,?)", -1, &audit_ins, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit_database %s: %s", path,
		         db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		rc = -1;
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	chmod(path, 0600); /* staff names: for the daemon's user only */
	audit_db = db;
	ZS_INFO(MOD, "audit log %s", path);
out:
	pthread_mutex_unlock(&audit_mu);
	return rc;
}

static void audit_prune(time_t now)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(audit_db, "DELETE FROM audit WHERE at < ?1 OR id <="
	                       " (SELECT MAX(id) FROM audit) - ?2", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now - (sqlite3_int64)audit_days * 86400);
	sqlite3_bind_int64(st, 2, AUDIT_MAX_ROWS);
	if (sqlite3_step(st) != SQLITE_DONE)
		ZS_WARN(MOD, "audit log: pruning failed: %s", sqlite3_errmsg(audit_db));
	sqlite3_finalize(st);
}

int zs_audit_record(const zs_staff_who *who, const char *action, const char *agb,
                    const char *asked_at, time_t now)
{
	int rc = 0;
	pthread_mutex_lock(&audit_mu);
	if (!audit_db)
		goto out;
	if (audit_since_prune++ % 256 == 0)
		audit_prune(now);
	sqlite3_stmt *st = audit_ins;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_text(st, 2, who->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, who->admin ? "admin" : "staff", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_TRANSIENT);
	if (agb)
		sqlite3_bind_text(st, 5, agb, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 5);
	if (asked_at) /* as given, at most 40 bytes (a moment is shorter) */
		sqlite3_bind_text(st, 6, asked_at, (int)strnlen(asked_at, 40), SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 6);
	if (sqlite3_step(st) != SQLITE_DONE) {
		ZS_ERROR(MOD, "audit log: writing failed: %s", sqlite3_errmsg(audit_db));
		rc = -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
out:
	pthread_mutex_unlock(&audit_mu);
	return rc;
}

json_t *zs_audit_query(const char *agb, const char *who, time_t from, time_t until, long limit,
                       char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array(), *out = NULL;
	pthread_mutex_lock(&audit_mu);
	if (!audit_db) {
		out = json_pack("{s:o, s:I}", "entries", arr, "retention_days", (json_int_t)audit_days);
		goto done;
	}
	if (sqlite3_prepare_v2(audit_db,
	        "SELECT at, who, role, action, agb, asked_at FROM audit WHERE (?1 IS NULL OR agb=?1)"
	        " AND (?2 IS NULL OR who=?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at <= ?4)"
	        " ORDER BY at DESC, id DESC LIMIT ?5", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit log: %s", sqlite3_errmsg(audit_db));
		json_decref(arr);
		goto done;
	}
	if (agb)
		sqlite3_bind_text(st, 1, agb, -1, SQLITE_STATIC);
	if (who)
		sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
	if (from >= 0)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)from);
	if (until >= 0)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)until);
	sqlite3_bind_int64(st, 5, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char b[32];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}",
		        "at", zs_fmt_utc((time_t)sqlite3_column_int64(st, 0), b, sizeof b),
		        "who", (const char *)sqlite3_column_text(st, 1),
		        "role", (const char *)sqlite3_column_text(st, 2),
		        "action", (const char *)sqlite3_column_text(st, 3),
		        "agb", (const char *)sqlite3_column_text(st, 4),
		        "asked_at", (const char *)sqlite3_column_text(st, 5)));
	}
	sqlite3_finalize(st);
	out = json_pack("{s:o, s:I}", "entries", arr, "retention_days", (json_int_t)audit_days);
done:
	pthread_mutex_unlock(&audit_mu);
	return out;
}

void zs_staff_shutdown(void)
{
	swap_in(NULL, 0);
	pthread_mutex_lock(&rl_mu);
	memset(rl, 0, sizeof rl);
	pthread_mutex_unlock(&rl_mu);
	pthread_mutex_lock(&audit_mu);
	sqlite3_finalize(audit_ins);
	audit_ins = NULL;
	sqlite3_close(audit_db);
	audit_db = NULL;
	pthread_mutex_unlock(&audit_mu);
}
