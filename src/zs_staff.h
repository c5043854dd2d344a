/* zs_staff.h - staff accounts, their authentication, the failed-sign-in rate limit and the
 * staff audit log (issue 11).
 *
 * Accounts: the file of setting staff_accounts_file, one account a line:
 *     name role sha256:SALT:HASH
 * name [A-Za-z0-9._@-]{1,64}, role "staff" or "admin", SALT 32 hex digits (16 random bytes),
 * HASH the hex SHA-256 (OpenSSL libcrypto) of the salt bytes followed by the token. Blank lines
 * and lines starting with '#' are skipped. `zorgstatusd --hash-token NAME [ROLE]` reads a
 * token on stdin and prints the line. The old staff_token_file is one more account named
 * "staff" (role staff). The table is read at start and again on every reload (SIGHUP): an
 * account taken out of the file is refused from the next request on.
 *
 * State is process-wide: one account table (swapped whole under a lock on reload), one
 * bounded table of failed sign-ins per client address, one audit connection. Nothing here
 * returns memory the caller frees, except zs_audit_query (a new JSON reference).
 * Tokens are never logged and never kept in memory: only their salted hashes. */
#ifndef ZS_STAFF_H
#define ZS_STAFF_H
#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "zs_api.h"
#include "zs_config.h"

#define ZS_STAFF_NAME_MAX 64
#define ZS_STAFF_TOKEN_MIN 24   /* --hash-token refuses shorter tokens */
#define ZS_STAFF_TOKEN_MAX 512

enum { ZS_STAFF_NONE = 0, ZS_STAFF_OK = 1, ZS_STAFF_BAD = -1, ZS_STAFF_LIMITED = -2 };

typedef struct {
	char name[ZS_STAFF_NAME_MAX + 1];
	int admin;
} zs_staff_who;

/* (Re)load the accounts from cfg (staff_accounts_file and staff_token_file) and take its rate
 * limit; the new table replaces the old one only when both files read cleanly. Opens the audit
 * log the first time any account exists. 0, or -1 with "file:line: reason" in err (the
 * running table stays). */
int zs_staff_load(const zs_config *cfg, char *err, size_t errlen);
/* Add one account with a plain token (zs_http_local, tests). 0 or -1. */
int zs_staff_add_token(const char *name, int admin, const char *token);
/* Check an Authorization header value from client address addr (may be NULL).
 * ZS_STAFF_NONE: no bearer token given; ZS_STAFF_OK: *who filled; ZS_STAFF_BAD: wrong token
 * (counted and logged, without the token); ZS_STAFF_LIMITED: too many failures from addr in
 * this minute (*retry_after: seconds), the token is not even checked. */
int zs_staff_auth(const char *authorization, const char *addr, zs_staff_who *who,
                  long *retry_after);
/* Number of accounts now. */
size_t zs_staff_count(void);
/* Free the table, the rate-limit table and close the audit log (at exit). */
void zs_staff_shutdown(void);

/* The accounts-file line for name, role and token into out: 0, or -1 with err. */
int zs_staff_hash_line(const char *name, const char *role, const char *token, char *out,
                       size_t outlen, char *err, size_t errlen);
/* zorgstatusd --hash-token NAME [ROLE]: reads the token from stdin (one line), prints the
 * line. Returns the exit code. */
int zs_staff_hash_token_main(int argc, char **argv);

/* ---- the audit log: its own small SQLite file (the serving threads write it through one
 * mutex-protected connection; the main database has one writer, the ingest). ---------------- */

/* Path of the audit database for cfg into buf. */
const char *zs_audit_path(const zs_config *cfg, char *buf, size_t len);
/* Open (create) the audit database; a no-op when it is open. 0, or -1 with err. */
int zs_audit_open(const zs_config *cfg, char *err, size_t errlen);
/* Record a staff look-up: who, the role, what (action: "provider", "history"), which provider
 * and the moment asked about (NULL = now), at time now. 0 (also when no audit log is open:
 * zs_http_local), -1 when it could not be written (the caller refuses the answer). */
int zs_audit_record(const zs_staff_who *who, const char *action, const char *agb,
                    const char *asked_at, time_t now);
/* The entries, newest first, filtered by agb / who (NULL = any) and time [from, until]
 * (-1 = open), at most limit. New reference {"entries":[...],"retention_days":n}, or NULL
 * with err. */
json_t *zs_audit_query(const char *agb, const char *who, time_t from, time_t until, long limit,
                       char *err, size_t errlen);

/* ---- the staff API (zs_staff_api.c; docs/api.md "Staff") ------------------------------------ */
json_t *zs_staff_api_me(zs_reader *r, const zs_request *req, int *status);
json_t *zs_staff_api_provider(zs_reader *r, const zs_request *req, int *status);
json_t *zs_staff_api_feeds(zs_reader *r, const zs_request *req, int *status);
json_t *zs_staff_api_audit(zs_reader *r, const zs_request *req, int *status);

#endif
