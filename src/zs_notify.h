/* zs_notify.h - the service manager protocol (sd_notify(3) through libsystemd).
 * Every call is a no-op when NOTIFY_SOCKET is not set (not started by systemd), so the daemon
 * behaves the same outside systemd. Messages sent:
 *   READY=1 + STATUS=         after the database is open and the serving threads listen, and
 *                              again after a reload was applied or refused
 *   STATUS=N feeds loaded, M failing (of K)   after every ingest round
 *   RELOADING=1 + MONOTONIC_USEC=   when SIGHUP arrives
 *   STOPPING=1                 on SIGTERM / SIGINT
 *   WATCHDOG=1                 every WATCHDOG_USEC/2 when the unit sets WatchdogSec
 * Nothing to free. Thread-safe (sd_notify is). */
#ifndef ZS_NOTIFY_H
#define ZS_NOTIFY_H

void zs_notify_ready(const char *status);
void zs_notify_status(const char *status);
void zs_notify_reloading(void);
void zs_notify_stopping(void);
void zs_notify_watchdog(void);
/* The watchdog ping interval in microseconds (half of WATCHDOG_USEC), 0 when not requested. */
unsigned long long zs_notify_watchdog_interval(void);

#endif
