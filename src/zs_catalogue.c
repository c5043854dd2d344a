/* zs_catalogue.c - care-type and provider-kind catalogues. */
#include "config.h"
#include <string.h>
#include "zs_catalogue.h"

static const zs_care_type care_types[] = {
	{ "hospital", "medisch-specialistische zorg (ziekenhuis)", "hospital care" },
	{ "ibc", "zelfstandig behandelcentrum (ZBC)", "independent treatment centre" },
	{ "mental_health", "geestelijke gezondheidszorg (ggz)", "mental health care" },
	{ "district_nursing", "wijkverpleging", "district nursing" },
	{ "physiotherapy", "fysiotherapie", "physiotherapy" },
	{ "gp", "huisartsenzorg", "GP care" },
	{ "acute", "acute zorg", "acute care" },
	{ "maternity", "kraamzorg en verloskunde", "maternity care" },
	{ "pharmacy", "farmacie", "pharmacy" },
	{ "medical_devices", "hulpmiddelen", "medical devices" },
	{ "paramedical", "paramedische zorg", "paramedical care" },
};

static const char *const provider_kinds[] = {
	"hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp",
	"pharmacy", "maternity", "medical_devices", "other", NULL
};

static const char *const situations[] = { "treatment_in_progress", "acute_maternity", NULL };
static const char *const bases[] = { "avg_contracted_tariff", "market_tariff",
	                             "statutory_max_tariff", NULL };

static int in_list(const char *const *list, const char *code)
{
	for (; *list; list++)
		if (strcmp(*list, code) == 0)
			return 1;
	return 0;
}

const zs_care_type *zs_care_type_find(const char *code)
{
	for (size_t i = 0; i < sizeof care_types / sizeof care_types[0]; i++)
		if (strcmp(care_types[i].code, code) == 0)
			return &care_types[i];
	return NULL;
}

const zs_care_type *zs_care_type_at(int i)
{
	if (i < 0 || (size_t)i >= sizeof care_types / sizeof care_types[0])
		return NULL;
	return &care_types[i];
}

int zs_provider_kind_valid(const char *code) { return in_list(provider_kinds, code); }
int zs_ceiling_exempt_valid(const char *code)
{
	return zs_care_type_find(code) != NULL || in_list(situations, code);
}
int zs_basis_valid(const char *code) { return in_list(bases, code); }
