/* zs_notify_http.h - the notifier: ONE thread of its own (never a serving thread, never the
 * ingest worker) that, after each published snapshot,
 *   - POSTs the new change-feed events (zs_changes.h) to every configured [subscriber] in
 *     batches of at most max_batch events, signed with HMAC-SHA256 (OpenSSL libcrypto):
 *       X-Zorgstatus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *     at least once: the last acknowledged (2xx) cursor of each subscriber is stored in SQLite
 *     (table subscriber_state, written on the notifier's own connection in tiny transactions),
 *     a failure is retried with exponential backoff (1 s doubling to 5 min), and subscribers
 *     are sent to concurrently (curl multi), so a failing one never holds the others up;
 *   - purges the keys marked since its last purge (zs_deps.h) at every [cache]: PURGE with
 *     "xkey-purge: k1 k2 ..." (vmod xkey), at most 40 keys a request, retried with backoff;
 *     "*" when everything changed (the shipped VCL bans everything then).
 * TLS verification is always on. Secrets are read once at start and never logged.
 * The configuration's subscribers and caches are read at start: a change needs a restart. */
#ifndef ZS_NOTIFY_HTTP_H
#define ZS_NOTIFY_HTTP_H
#include <stddef.h>
#include <jansson.h>
#include "zs_api.h"
#include "zs_config.h"

typedef struct zs_notifier zs_notifier;

/* Start the thread (cfg must outlive it). Returns NULL with err[0] == 0 when no subscriber and
 * no cache is configured (nothing to do), NULL with err on failure (a secret file that cannot
 * be read, no database). Stop and free with zs_notifier_stop (NULL is fine). */
zs_notifier *zs_notifier_start(const zs_config *cfg, char *err, size_t errlen);
void zs_notifier_stop(zs_notifier *n);
/* Wake the running notifier (a new snapshot was published). Safe from any thread, a no-op
 * when none runs. */
void zs_notifier_wake(void);

/* HMAC-SHA256 of "<t>.<body>" under key, as 64 lowercase hex digits + NUL into hex[65]. */
void zs_webhook_sign(const char *key, size_t keylen, long long t, const char *body, size_t len,
                     char hex[65]);

/* GET /v1/subscribers (staff only): every subscriber's delivery state and every cache's. */
json_t *zs_api_subscribers(zs_reader *r, const zs_request *req, int *status);

/* Prometheus text of the notifier's counters into buf (for /metrics):
 *   zorgstatus_webhook_batches_total{subscriber,outcome="delivered|failed"}
 *   zorgstatus_webhook_events_total{subscriber}
 *   zorgstatus_webhook_failing{subscriber}      1 while the subscriber is failing
 *   zorgstatus_cache_purges_total{cache,outcome="ok|failed"}
 * Returns the length written. */
size_t zs_notifier_metrics(char *buf, size_t len);

#endif
