/* zs_notify.c - sd_notify wrapper. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include "zs_log.h"
#include "zs_notify.h"

#define MOD "notify"

static void notify_send(const char *msg)
{
	int rc = sd_notify(0, msg);
	if (rc < 0)
		ZS_WARN(MOD, "sd_notify failed (error %d)", -rc);
}

void zs_notify_ready(const char *status)
{
	char msg[512];
	snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status ? status : "");
	notify_send(msg);
}

void zs_notify_status(const char *status)
{
	char msg[512];
	snprintf(msg, sizeof msg, "STATUS=%s", status);
	notify_send(msg);
}

void zs_notify_reloading(void)
{
	char msg[96];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) order the reload */
	unsigned long long us = (unsigned long long)ts.tv_sec * 1000000ULL +
	                        (unsigned long long)ts.tv_nsec / 1000;
	snprintf(msg, sizeof msg,
	         "RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=%llu", us);
	notify_send(msg);
}

void zs_notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
}

void zs_notify_watchdog(void)
{
	notify_send("WATCHDOG=1");
}

unsigned long long zs_notify_watchdog_interval(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2;
}
