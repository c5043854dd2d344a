/* zs_types.h - shared enums of the zorgstatus core: statuses, policy types.
 * Pure declarations; no allocation. */
#ifndef ZS_TYPES_H
#define ZS_TYPES_H

typedef enum {
	ZS_STATUS_UNKNOWN = 0,
	ZS_STATUS_CONTRACTED,
	ZS_STATUS_CONTRACTED_CEILING,
	ZS_STATUS_NEGOTIATING,
	ZS_STATUS_NOT_CONTRACTED,
	ZS_STATUS_ENDED
} zs_status;

typedef enum {
	ZS_PTYPE_NATURA = 0,
	ZS_PTYPE_RESTITUTIE,
	ZS_PTYPE_COMBINATIE,
	ZS_PTYPE_BUDGET
} zs_ptype;

/* Code <-> enum. The *_from_code functions return -1 for an unknown code. */
const char *zs_status_code(zs_status s);
int zs_status_from_code(const char *code);
const char *zs_ptype_code(zs_ptype t);
int zs_ptype_from_code(const char *code);

/* Agreement class used by reconciliation: contracted and contracted_ceiling are one class;
 * not_contracted and ended are one class; negotiating its own; unknown is 0. */
int zs_status_class(zs_status s);

#endif
