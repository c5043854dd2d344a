/* zs_config_priv.h - the settings table, shared by zs_config.c (parsing, help, dump) and
 * zs_config_man.c (the man pages written from it). */
#ifndef ZS_CONFIG_PRIV_H
#define ZS_CONFIG_PRIV_H
#include <stddef.h>
#include "zs_config.h"

typedef enum { T_STR, T_LONG } stype;

typedef struct {
	const char *name;
	stype type;
	size_t off;
	const char *def;
	long min, max;
	const char *help;
	int restart;             /* a change needs a restart: a reload keeps the running value */
	int (*check)(const char *value, char *msg, size_t len); /* extra validation, or NULL */
} setting;

/* Every global setting, in the order --help lists them. */
extern const setting zs_settings[];
extern const size_t zs_nsettings;

#endif
