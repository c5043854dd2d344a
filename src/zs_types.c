/* zs_types.c - status and policy-type codes (see zs_types.h). Pure, no allocation. */
#include <string.h>
#include "zs_types.h"

static const char *const status_codes[] = {
	[ZS_STATUS_UNKNOWN] = "unknown",
	[ZS_STATUS_CONTRACTED] = "contracted",
	[ZS_STATUS_CONTRACTED_CEILING] = "contracted_ceiling",
	[ZS_STATUS_NEGOTIATING] = "negotiating",
	[ZS_STATUS_NOT_CONTRACTED] = "not_contracted",
	[ZS_STATUS_ENDED] = "ended",
};
#define N_STATUS (sizeof status_codes / sizeof status_codes[0])

static const char *const ptype_codes[] = {
	[ZS_PTYPE_NATURA] = "natura",
	[ZS_PTYPE_RESTITUTIE] = "restitutie",
	[ZS_PTYPE_COMBINATIE] = "combinatie",
	[ZS_PTYPE_BUDGET] = "budget",
};
#define N_PTYPE (sizeof ptype_codes / sizeof ptype_codes[0])

/* An out-of-range value gives "unknown" (status) or NULL (policy type never has a safe default). */
const char *zs_status_code(zs_status s)
{
	if ((unsigned)s >= N_STATUS)
		return "unknown";
	return status_codes[s];
}

int zs_status_from_code(const char *code)
{
	if (!code)
		return -1;
	for (size_t i = 0; i < N_STATUS; i++)
		if (strcmp(code, status_codes[i]) == 0)
			return (int)i;
	return -1;
}

const char *zs_ptype_code(zs_ptype t)
{
	if ((unsigned)t >= N_PTYPE)
		return NULL;
	return ptype_codes[t];
}

int zs_ptype_from_code(const char *code)
{
	if (!code)
		return -1;
	for (size_t i = 0; i < N_PTYPE; i++)
		if (strcmp(code, ptype_codes[i]) == 0)
			return (int)i;
	return -1;
}

int zs_status_class(zs_status s)
{
	switch (s) {
	case ZS_STATUS_CONTRACTED:
	case ZS_STATUS_CONTRACTED_CEILING:
		return 1;
	case ZS_STATUS_NEGOTIATING:
		return 2;
	case ZS_STATUS_NOT_CONTRACTED:
	case ZS_STATUS_ENDED:
		return 3;
	case ZS_STATUS_UNKNOWN:
	default:
		return 0;
	}
}
