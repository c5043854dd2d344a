/* zs_catalogue.h - the care-type and provider-kind catalogues (codes with Dutch and English
 * labels). Static data: returned pointers are never freed. */
#ifndef ZS_CATALOGUE_H
#define ZS_CATALOGUE_H

typedef struct {
	const char *code;
	const char *nl;
	const char *en;
} zs_care_type;

/* NULL if code is not in the catalogue. */
const zs_care_type *zs_care_type_find(const char *code);
/* The i-th care type, NULL past the end. */
const zs_care_type *zs_care_type_at(int i);
/* Is code a valid provider kind? */
int zs_provider_kind_valid(const char *code);
/* Valid ceiling exemption: a care type code or a situation code. */
int zs_ceiling_exempt_valid(const char *code);
/* Valid reimbursement basis code. */
int zs_basis_valid(const char *code);

#endif
