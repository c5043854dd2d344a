/* test_consequence.c - unit tests of the consequence engine, the phrase catalogue and the
 * status/policy-type codes. Every expected value below is written by hand from
 * /work/shared/domain.md ("Contract status", "Consequence for reimbursement") and the seeds
 * (001 fn. 3, 002 §5.1.6), not computed by the code under test. */
#include "testutil.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zs_catalogue.h"
#include "zs_consequence.h"
#include "zs_embedded.h"
#include "zs_types.h"

enum {
	F_AS = 1 << 0,		/* as_contracted */
	F_CEIL = 1 << 1,	/* ceiling */
	F_EXEMPT = 1 << 2,	/* ceiling_exempt */
	F_STOP = 1 << 3,	/* patient_stop */
	F_CONFLICT = 1 << 4,	/* conflict */
	F_PROV = 1 << 5,	/* provider_only */
	F_STALE = 1 << 6,	/* stale */
	F_TIP = 1 << 7,		/* treatment_in_progress */
	F_ALL = (1 << 8) - 1
};

#define NAT ZS_PTYPE_NATURA
#define RES ZS_PTYPE_RESTITUTIE
#define COM ZS_PTYPE_COMBINATIE
#define BUD ZS_PTYPE_BUDGET
#define S_CON ZS_STATUS_CONTRACTED
#define S_CEI ZS_STATUS_CONTRACTED_CEILING
#define S_NEG ZS_STATUS_NEGOTIATING
#define S_NC ZS_STATUS_NOT_CONTRACTED
#define S_END ZS_STATUS_ENDED
#define S_UNK ZS_STATUS_UNKNOWN
#define AVG "avg_contracted_tariff"
#define MKT "market_tariff"
#define MAX "statutory_max_tariff"
#define CTR "contracted_tariff"
#define EUR8K 800000

typedef struct {
	const char *name;
	/* input */
	zs_ptype pt;
	const char *ct;
	zs_status st;
	unsigned flags;
	const char *until, *since;
	double pct;
	const char *nc_basis;
	int64_t amount;
	const char *lang;
	/* expected */
	const char *lang_out;
	const char *code;
	const char *percent;	/* JSON text of reimbursed_percent: "75", "62.5", "null" */
	const char *basis;	/* NULL: JSON null */
	int deductible;
	const char *ex_amount, *ex_insurer, *ex_patient;	/* NULL: no example */
	const char *warnings;	/* codes in order, comma-separated */
	const char *exceptions;
	const char *text_has[4];	/* fragments of "text" */
	const char *text_lacks;		/* fragment that must not be in "text" */
	const char *notes_has[2];	/* fragments of some warning or exception text */
} row;

static const row rows[] = {
	/* ---- natura: 75% of the average contracted tariff, 60% for mental health ---- */
	{ "nat contracted hospital", NAT, "hospital", S_CON, 0, NULL, NULL, 75, AVG, EUR8K, "nl",
	  "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00", "", "",
	  { "Deze zorgaanbieder heeft een contract met uw zorgverzekeraar voor uw polis.",
	    "U krijgt deze zorg vergoed zoals uw polis dat zegt.",
	    "betaalt uw zorgverzekeraar € 8.000,00 en betaalt u zelf € 0,00",
	    "Voor deze zorg geldt ook het eigen risico" },
	  "Dit voorbeeld gaat ervan uit", { NULL, NULL } },
	{ "nat ceiling hospital", NAT, "hospital", S_CEI, 0, NULL, NULL, 75, AVG, EUR8K, "nl",
	  "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00", "ceiling", "",
	  { "heeft een contract", NULL, NULL, NULL }, NULL, { "omzetplafond", "zorgbemiddeling" } },
	{ "nat ceiling exempt", NAT, "hospital", S_CEI, F_EXEMPT, NULL, NULL, 75, AVG, EUR8K, "nl",
	  "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00", "", "",
	  { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "nat contracted + ceiling flag", NAT, "mental_health", S_CON, F_CEIL, NULL, NULL, 60, AVG,
	  EUR8K, "nl", "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00",
	  "ceiling", "", { NULL, NULL, NULL, NULL }, NULL, { "zorgbemiddeling", NULL } },
	{ "nat negotiating as contracted", NAT, "hospital", S_NEG, F_AS, NULL, NULL, 75, AVG, EUR8K,
	  "nl", "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00", "may_change", "",
	  { "praten nog over een contract", "alsof er een contract is", NULL, NULL },
	  "Zonder contract", { "kan dus nog veranderen", NULL } },
	{ "nat negotiating not declared", NAT, "hospital", S_NEG, 0, NULL, NULL, 75, AVG, EUR8K,
	  "nl", "nl", "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00",
	  "may_change", "acute_care,duty_of_care",
	  { "praten nog over een contract", "Zonder contract vergoedt uw zorgverzekeraar 75% van het gemiddelde tarief",
	    "betaalt u zelf € 2.000,00", NULL },
	  NULL, { "kan dus nog veranderen", "mag uw zorgverzekeraar de vergoeding niet verlagen" } },
	{ "nat not contracted hospital", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "nl",
	  "nl", "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,duty_of_care",
	  { "Deze zorgaanbieder heeft geen contract met uw zorgverzekeraar voor uw polis.",
	    "Zonder contract vergoedt uw zorgverzekeraar 75% van het gemiddelde tarief dat uw "
	    "zorgverzekeraar met zorgaanbieders heeft afgesproken. De rest betaalt u zelf.",
	    "kost de behandeling € 8.000,00, dan betaalt uw zorgverzekeraar € 6.000,00 en betaalt u "
	    "zelf € 2.000,00.",
	    "Rekent de zorgaanbieder meer, dan betaalt u het verschil ook zelf." },
	  NULL, { "Acute zorg (spoedzorg) krijgt u altijd vergoed", "Vraag uw zorgverzekeraar om "
	    "zorgbemiddeling" } },
	{ "nat not contracted mental health 60", NAT, "mental_health", S_NC, 0, NULL, NULL, 60, AVG,
	  EUR8K, "nl", "nl", "not_contracted_partial", "60", AVG, 1, "8000.00", "4800.00",
	  "3200.00", "", "acute_care,duty_of_care",
	  { "Zonder contract vergoedt uw zorgverzekeraar 60% van", "€ 4.800,00", "€ 3.200,00", NULL }, NULL,
	  { NULL, NULL } },
	{ "nat ended, not in treatment", NAT, "hospital", S_END, 0, NULL, NULL, 75, AVG, EUR8K, "nl",
	  "nl", "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,continuity_of_treatment,duty_of_care",
	  { "Het contract tussen deze zorgaanbieder en uw zorgverzekeraar is gestopt.",
	    "Zonder contract vergoedt uw zorgverzekeraar 75%", NULL, NULL },
	  NULL, { "Was u al in behandeling toen het contract stopte?", "artikel 13, lid 5" } },
	{ "nat ended, treatment in progress", NAT, "hospital", S_END, F_TIP, NULL, NULL, 75, AVG,
	  EUR8K, "nl", "nl", "continuity_of_treatment", "100", CTR, 1, "8000.00", "8000.00", "0.00",
	  "", "continuity_of_treatment",
	  { "is gestopt.", "U mag die behandeling afmaken zonder extra kosten.",
	    "betaalt u zelf € 0,00", NULL },
	  "Zonder contract", { "artikel 13, lid 5 Zorgverzekeringswet", NULL } },
	{ "nat unknown hospital", NAT, "hospital", S_UNK, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "unknown", "null", NULL, 1, NULL, NULL, NULL, "", "acute_care,duty_of_care",
	  { "Wij weten niet of deze zorgaanbieder een contract heeft",
	    "Vraag uw zorgverzekeraar of deze zorgaanbieder een contract heeft en hoeveel u vergoed "
	    "krijgt.",
	    "Heeft deze zorgaanbieder geen contract, dan vergoedt uw zorgverzekeraar volgens uw "
	    "polis 75% van het gemiddelde tarief", NULL },
	  "Een voorbeeld", { NULL, NULL } },
	{ "nat not contracted acute", NAT, "acute", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "exception_acute", "100", MKT, 1, "8000.00", "8000.00", "0.00", "", "acute_care",
	  { "Acute zorg krijgt u altijd vergoed, ook zonder contract: tot 100% van het "
	    "marktconforme tarief",
	    "Dit voorbeeld gaat ervan uit dat het bedrag gelijk is aan het marktconforme tarief",
	    "Voor deze zorg geldt ook het eigen risico", NULL },
	  NULL, { "Acute zorg (spoedzorg)", NULL } },
	{ "nat not contracted gp", NAT, "gp", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "exception_gp", "100", MKT, 0, "8000.00", "8000.00", "0.00", "", "gp_care",
	  { "Zorg van de huisarts krijgt u altijd vergoed, ook zonder contract",
	    "Voor deze zorg geldt geen eigen risico.", NULL, NULL },
	  "geldt ook het eigen risico", { "ook als de huisarts geen contract heeft", NULL } },
	{ "nat unknown gp", NAT, "gp", S_UNK, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "exception_gp", "100", MKT, 0, "8000.00", "8000.00", "0.00", "", "gp_care",
	  { "Wij weten niet", "Zorg van de huisarts krijgt u altijd vergoed", NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "nat negotiating acute", NAT, "acute", S_NEG, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "exception_acute", "100", MKT, 1, "8000.00", "8000.00", "0.00", "may_change",
	  "acute_care", { "praten nog", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "nat contracted gp", NAT, "gp", S_CON, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "as_contracted", "100", CTR, 0, "8000.00", "8000.00", "0.00", "", "",
	  { "Voor deze zorg geldt geen eigen risico.", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "nat ended in treatment acute", NAT, "acute", S_END, F_TIP, NULL, NULL, 75, AVG, EUR8K,
	  "nl", "nl", "exception_acute", "100", MKT, 1, "8000.00", "8000.00", "0.00", "",
	  "acute_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "nat not contracted 100%", NAT, "hospital", S_NC, 0, NULL, NULL, 100, AVG, EUR8K, "nl",
	  "nl", "not_contracted_full", "100", AVG, 1, "8000.00", "8000.00", "0.00", "", "",
	  { "Zonder contract vergoedt uw zorgverzekeraar tot 100% van het gemiddelde tarief", NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "nat not contracted 0%", NAT, "hospital", S_NC, 0, NULL, NULL, 0, AVG, EUR8K, "nl", "nl",
	  "not_contracted_partial", "0", AVG, 1, "8000.00", "0.00", "8000.00", "",
	  "acute_care,duty_of_care", { "zorgverzekeraar 0% van", NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "nat not contracted, no rule", NAT, "hospital", S_NC, 0, NULL, NULL, -1, NULL, EUR8K, "nl",
	  "nl", "not_contracted_no_rule", "null", NULL, 1, NULL, NULL, NULL, "",
	  "acute_care,duty_of_care",
	  { "Uw polis zegt niet hoeveel u zonder contract vergoed krijgt voor deze zorg.", NULL,
	    NULL, NULL },
	  "Een voorbeeld", { NULL, NULL } },
	{ "nat not contracted, percent without basis", NAT, "hospital", S_NC, 0, NULL, NULL, 75,
	  NULL, EUR8K, "nl", "nl", "not_contracted_partial", "75", NULL, 1, "8000.00", "6000.00",
	  "2000.00", "", "acute_care,duty_of_care",
	  { "75% van het tarief waarmee uw zorgverzekeraar rekent", NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "nat not contracted, unknown basis code", NAT, "hospital", S_NC, 0, NULL, NULL, 75,
	  "whatever", EUR8K, "nl", "nl", "not_contracted_partial", "75", NULL, 1, "8000.00",
	  "6000.00", "2000.00", "", "acute_care,duty_of_care",
	  { "75% van het tarief waarmee", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "nat not contracted maternity", NAT, "maternity", S_NC, 0, NULL, NULL, 75, AVG, EUR8K,
	  "nl", "nl", "not_contracted_partial", "75", AVG, 0, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,duty_of_care", { "Voor deze zorg geldt geen eigen risico.", NULL, NULL, NULL },
	  NULL, { NULL, NULL } },
	{ "nat not contracted district nursing", NAT, "district_nursing", S_NC, 0, NULL, NULL, 75,
	  AVG, EUR8K, "nl", "nl", "not_contracted_partial", "75", AVG, 0, "8000.00", "6000.00",
	  "2000.00", "", "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "nat not contracted pharmacy", NAT, "pharmacy", S_NC, 0, NULL, NULL, 80, AVG, EUR8K, "nl",
	  "nl", "not_contracted_partial", "80", AVG, 1, "8000.00", "6400.00", "1600.00", "",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },

	/* ---- restitutie: up to 100% of the market-conform tariff ---- */
	{ "res not contracted hospital", RES, "hospital", S_NC, 0, NULL, NULL, 100, MKT, EUR8K, "nl",
	  "nl", "not_contracted_full", "100", MKT, 1, "8000.00", "8000.00", "0.00", "", "",
	  { "Zonder contract vergoedt uw zorgverzekeraar tot 100% van het marktconforme tarief",
	    "Rekent de zorgaanbieder meer, dan betaalt u het verschil ook zelf.", NULL, NULL },
	  "De rest betaalt u zelf", { NULL, NULL } },
	{ "res not contracted, no rule stated", RES, "hospital", S_NC, 0, NULL, NULL, -1, NULL,
	  EUR8K, "nl", "nl", "not_contracted_full", "100", MKT, 1, "8000.00", "8000.00", "0.00", "",
	  "", { "tot 100% van het marktconforme tarief", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "res contracted", RES, "hospital", S_CON, 0, NULL, NULL, 100, MKT, EUR8K, "nl", "nl",
	  "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00", "", "",
	  { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "res ended", RES, "ibc", S_END, 0, NULL, NULL, 100, MKT, EUR8K, "nl", "nl",
	  "not_contracted_full", "100", MKT, 1, "8000.00", "8000.00", "0.00", "",
	  "continuity_of_treatment", { "is gestopt", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "res negotiating not declared", RES, "hospital", S_NEG, 0, NULL, NULL, 100, MKT, EUR8K,
	  "nl", "nl", "not_contracted_full", "100", MKT, 1, "8000.00", "8000.00", "0.00",
	  "may_change", "", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "res unknown", RES, "hospital", S_UNK, 0, NULL, NULL, 100, MKT, EUR8K, "nl", "nl",
	  "unknown", "null", NULL, 1, NULL, NULL, NULL, "", "",
	  { "Heeft deze zorgaanbieder geen contract, dan vergoedt uw zorgverzekeraar volgens uw "
	    "polis tot 100% van het marktconforme tarief", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "res statutory max tariff", RES, "physiotherapy", S_NC, 0, NULL, NULL, 100, MAX, 4500,
	  "nl", "nl", "not_contracted_full", "100", MAX, 1, "45.00", "45.00", "0.00", "", "",
	  { "tot 100% van het wettelijke maximumtarief", "€ 45,00", NULL, NULL }, NULL,
	  { NULL, NULL } },

	/* ---- combinatie: by care type (100% market, 85% mental health and district nursing) --- */
	{ "com not contracted hospital", COM, "hospital", S_NC, 0, NULL, NULL, 100, MKT, EUR8K, "nl",
	  "nl", "not_contracted_full", "100", MKT, 1, "8000.00", "8000.00", "0.00", "", "",
	  { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "com not contracted mental health", COM, "mental_health", S_NC, 0, NULL, NULL, 85, MKT,
	  EUR8K, "nl", "nl", "not_contracted_partial", "85", MKT, 1, "8000.00", "6800.00",
	  "1200.00", "", "acute_care,duty_of_care",
	  { "Zonder contract vergoedt uw zorgverzekeraar 85% van het marktconforme tarief", "€ 6.800,00",
	    "€ 1.200,00", NULL }, NULL, { NULL, NULL } },
	{ "com not contracted district nursing", COM, "district_nursing", S_NC, 0, NULL, NULL, 85,
	  MKT, EUR8K, "nl", "nl", "not_contracted_partial", "85", MKT, 0, "8000.00", "6800.00",
	  "1200.00", "", "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "com not contracted, no rule", COM, "pharmacy", S_NC, 0, NULL, NULL, -1, NULL, EUR8K, "nl",
	  "nl", "not_contracted_no_rule", "null", NULL, 1, NULL, NULL, NULL, "",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "com negotiating as contracted", COM, "mental_health", S_NEG, F_AS, NULL, NULL, 85, MKT,
	  EUR8K, "nl", "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00",
	  "may_change", "", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "com ended in treatment", COM, "mental_health", S_END, F_TIP, NULL, NULL, 85, MKT, EUR8K,
	  "nl", "nl", "continuity_of_treatment", "100", CTR, 1, "8000.00", "8000.00", "0.00", "",
	  "continuity_of_treatment", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },

	/* ---- budget: 65% ---- */
	{ "bud not contracted hospital", BUD, "hospital", S_NC, 0, NULL, NULL, 65, AVG, EUR8K, "nl",
	  "nl", "not_contracted_partial", "65", AVG, 1, "8000.00", "5200.00", "2800.00", "",
	  "acute_care,duty_of_care", { "65%", "€ 5.200,00", "€ 2.800,00", NULL }, NULL,
	  { NULL, NULL } },
	{ "bud ceiling + stop until", BUD, "mental_health", S_CEI, F_STOP, "2027-01-31", NULL, 65,
	  AVG, EUR8K, "nl", "nl", "as_contracted", "100", CTR, 1, "8000.00", "8000.00", "0.00",
	  "ceiling,patient_stop", "",
	  { "neemt tot en met 31 januari 2027 geen nieuwe patiënten van uw zorgverzekeraar aan",
	    NULL, NULL, NULL }, NULL, { "zorgbemiddeling", NULL } },
	{ "bud stop but in treatment", BUD, "district_nursing", S_CON, F_STOP | F_TIP, "2027-01-31",
	  NULL, 65, AVG, EUR8K, "nl", "nl", "as_contracted", "100", CTR, 0, "8000.00", "8000.00",
	  "0.00", "", "", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "bud stop without until", BUD, "district_nursing", S_NC, F_STOP, NULL, NULL, 65, AVG,
	  EUR8K, "nl", "nl", "not_contracted_partial", "65", AVG, 0, "8000.00", "5200.00",
	  "2800.00", "patient_stop", "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL,
	  { "neemt nu geen nieuwe patiënten", NULL } },
	{ "bud stop with invalid until", BUD, "district_nursing", S_CON, F_STOP, "2027-02-30", NULL,
	  65, AVG, EUR8K, "nl", "nl", "as_contracted", "100", CTR, 0, "8000.00", "8000.00", "0.00",
	  "patient_stop", "", { "maar neemt nu geen nieuwe patiënten", NULL, NULL, NULL }, NULL,
	  { "zorgbemiddeling", NULL } },
	{ "bud unknown", BUD, "hospital", S_UNK, 0, NULL, NULL, 65, AVG, EUR8K, "nl", "nl",
	  "unknown", "null", NULL, 1, NULL, NULL, NULL, "", "acute_care,duty_of_care",
	  { "volgens uw polis 65% van", NULL, NULL, NULL }, NULL, { NULL, NULL } },

	/* ---- source flags ---- */
	/* a conflict is one message in the text (what each side said: see test_conflict), never
	 * a definite status sentence plus a separate doubt */
	{ "conflict", NAT, "hospital", S_CON, F_CONFLICT, NULL, NULL, 75, AVG, -1, "nl", "nl",
	  "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "", "",
	  { "zeggen niet hetzelfde over het contract", "Vraag het na bij uw zorgverzekeraar",
	    "volgt wat uw zorgverzekeraar zegt", NULL },
	  "Deze zorgaanbieder heeft een contract", { NULL, NULL } },
	{ "provider only", NAT, "hospital", S_NC, F_PROV, NULL, NULL, 75, AVG, -1, "nl", "nl",
	  "not_contracted_partial", "75", AVG, 1, NULL, NULL, NULL, "provider_reported",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL,
	  { "Dit heeft alleen de zorgaanbieder gemeld", NULL } },
	{ "stale winter offset", NAT, "hospital", S_CON, F_STALE, NULL, "2026-12-03T09:00:00+01:00",
	  75, AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL,
	  { "Deze informatie is van 3 december 2026 om 09:00.", NULL } },
	{ "stale summer UTC", NAT, "hospital", S_CON, F_STALE, NULL, "2026-07-01T07:00:00Z", 75, AVG,
	  -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "van 1 juli 2026 om 09:00.", NULL } },
	{ "stale new year UTC", NAT, "hospital", S_CON, F_STALE, NULL, "2026-12-31T23:30:00.123Z",
	  75, AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "van 1 januari 2027 om 00:30.", NULL } },
	{ "stale before DST start", NAT, "hospital", S_CON, F_STALE, NULL, "2026-03-29T00:59:00Z",
	  75, AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "van 29 maart 2026 om 01:59.", NULL } },
	{ "stale at DST start", NAT, "hospital", S_CON, F_STALE, NULL, "2026-03-29T01:00:00Z", 75,
	  AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "van 29 maart 2026 om 03:00.", NULL } },
	{ "stale before DST end", NAT, "hospital", S_CON, F_STALE, NULL, "2026-10-25T00:59:00Z", 75,
	  AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "van 25 oktober 2026 om 02:59.", NULL } },
	{ "stale at DST end", NAT, "hospital", S_CON, F_STALE, NULL, "2026-10-25T01:00:00Z", 75,
	  AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "van 25 oktober 2026 om 02:00.", NULL } },
	{ "stale negative offset", NAT, "hospital", S_CON, F_STALE, NULL,
	  "2026-11-11T20:30:00-05:00", 75, AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1,
	  NULL, NULL, NULL, "stale", "", { NULL, NULL, NULL, NULL }, NULL,
	  { "van 12 november 2026 om 02:30.", NULL } },
	{ "stale without date", NAT, "hospital", S_CON, F_STALE, NULL, NULL, 75, AVG, -1, "nl", "nl",
	  "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "", { NULL, NULL, NULL, NULL },
	  NULL, { "Deze informatie is misschien niet meer actueel.", NULL } },
	{ "stale with bad date", NAT, "hospital", S_CON, F_STALE, NULL, "yesterday", 75, AVG, -1,
	  "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { "misschien niet meer actueel", NULL } },
	{ "negotiating as contracted with ceiling", NAT, "hospital", S_NEG, F_AS | F_CEIL, NULL,
	  NULL, 75, AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL,
	  "may_change,ceiling", "", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "all warnings, contracted", NAT, "hospital", S_CEI,
	  F_CONFLICT | F_PROV | F_STOP | F_STALE, "2027-01-31", "2026-12-03T09:00:00+01:00", 75,
	  AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL,
	  "provider_reported,ceiling,patient_stop,stale", "", { NULL, NULL, NULL, NULL },
	  NULL, { NULL, NULL } },
	{ "all warnings, negotiating", NAT, "hospital", S_NEG, F_AS | F_CEIL | F_CONFLICT | F_PROV |
	  F_STOP | F_STALE, NULL, NULL, 75, AVG, -1, "nl", "nl", "as_contracted", "100", CTR, 1,
	  NULL, NULL, NULL, "provider_reported,may_change,ceiling,patient_stop,stale", "",
	  { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "ceiling flag on not contracted: no warning", NAT, "hospital", S_NC, F_CEIL, NULL, NULL,
	  75, AVG, -1, "nl", "nl", "not_contracted_partial", "75", AVG, 1, NULL, NULL, NULL, "",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "ceiling on acute without exemption", NAT, "acute", S_CEI, 0, NULL, NULL, 75, AVG, -1,
	  "nl", "nl", "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "ceiling", "",
	  { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "ended, in treatment, stop", NAT, "mental_health", S_END, F_TIP | F_STOP, "2027-01-31",
	  NULL, 60, AVG, EUR8K, "nl", "nl", "continuity_of_treatment", "100", CTR, 1, "8000.00",
	  "8000.00", "0.00", "", "continuity_of_treatment", { NULL, NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },

	/* ---- languages, amounts, odd inputs ---- */
	{ "english not contracted", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "en", "en",
	  "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,duty_of_care",
	  { "This care provider has no contract with your insurer for your policy.",
	    "Without a contract your insurer pays 75% of the average rate your insurer has agreed "
	    "with care providers. You pay the rest yourself.",
	    "if the treatment costs €8,000.00, your insurer pays €6,000.00 and you pay €2,000.00 "
	    "yourself.",
	    "The deductible (eigen risico) also applies" },
	  "Zonder", { "Acute (emergency) care is always covered", "care mediation (zorgbemiddeling)" } },
	{ "english stop and stale", NAT, "hospital", S_CON, F_STOP | F_STALE, "2027-01-31",
	  "2026-12-03T09:00:00+01:00", 75, AVG, -1, "en", "en", "as_contracted", "100", CTR, 1, NULL,
	  NULL, NULL, "patient_stop,stale", "", { "This care provider has a contract",
	  "until 31 January 2027 (inclusive)", NULL, NULL }, NULL,
	  { "care mediation (zorgbemiddeling)", "dates from 3 December 2026 at 09:00" } },
	{ "english gp", NAT, "gp", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "en", "en", "exception_gp",
	  "100", MKT, 0, "8000.00", "8000.00", "0.00", "", "gp_care",
	  { "Care from a GP is always covered", "does not apply to this care", NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "other language -> nl", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "de", "nl",
	  "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,duty_of_care", { "Zonder contract", NULL, NULL, NULL }, "Without",
	  { NULL, NULL } },
	{ "NULL language -> nl", NAT, "hospital", S_CON, 0, NULL, NULL, 75, AVG, -1, NULL, "nl",
	  "as_contracted", "100", CTR, 1, NULL, NULL, NULL, "", "",
	  { "heeft een contract", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "decimal percent nl", NAT, "hospital", S_NC, 0, NULL, NULL, 62.5, AVG, EUR8K, "nl", "nl",
	  "not_contracted_partial", "62.5", AVG, 1, "8000.00", "5000.00", "3000.00", "",
	  "acute_care,duty_of_care", { "zorgverzekeraar 62,5% van", NULL, NULL, NULL }, NULL,
	  { NULL, NULL } },
	{ "decimal percent en", NAT, "hospital", S_NC, 0, NULL, NULL, 62.5, AVG, EUR8K, "en", "en",
	  "not_contracted_partial", "62.5", AVG, 1, "8000.00", "5000.00", "3000.00", "",
	  "acute_care,duty_of_care", { "pays 62.5% of", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "two decimals percent", NAT, "hospital", S_NC, 0, NULL, NULL, 66.67, AVG, 10000, "nl",
	  "nl", "not_contracted_partial", "66.67", AVG, 1, "100.00", "66.67", "33.33", "",
	  "acute_care,duty_of_care", { "66,67%", "€ 66,67", "€ 33,33", NULL }, NULL,
	  { NULL, NULL } },
	{ "no amount", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, -1, "nl", "nl",
	  "not_contracted_partial", "75", AVG, 1, NULL, NULL, NULL, "", "acute_care,duty_of_care",
	  { NULL, NULL, NULL, NULL }, "Een voorbeeld", { NULL, NULL } },
	{ "zero amount", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, 0, "nl", "nl",
	  "not_contracted_partial", "75", AVG, 1, "0.00", "0.00", "0.00", "",
	  "acute_care,duty_of_care", { "€ 0,00", NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "large amount, thousands", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, 123456789, "nl",
	  "nl", "not_contracted_partial", "75", AVG, 1, "1234567.89", "925925.92", "308641.97", "",
	  "acute_care,duty_of_care", { "€ 1.234.567,89", "€ 925.925,92", "€ 308.641,97", NULL },
	  NULL, { NULL, NULL } },
	{ "large amount, english", NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, 123456789, "en",
	  "en", "not_contracted_partial", "75", AVG, 1, "1234567.89", "925925.92", "308641.97", "",
	  "acute_care,duty_of_care", { "€1,234,567.89", "€925,925.92", "€308,641.97", NULL }, NULL,
	  { NULL, NULL } },
	{ "care type NULL", NAT, NULL, S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "unknown care type code", NAT, "dental", S_NC, 0, NULL, NULL, 75, AVG, EUR8K, "nl", "nl",
	  "not_contracted_partial", "75", AVG, 1, "8000.00", "6000.00", "2000.00", "",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "percent above 100 is no rule", NAT, "hospital", S_NC, 0, NULL, NULL, 120, AVG, EUR8K,
	  "nl", "nl", "not_contracted_no_rule", "null", NULL, 1, NULL, NULL, NULL, "",
	  "acute_care,duty_of_care", { NULL, NULL, NULL, NULL }, NULL, { NULL, NULL } },
	{ "out-of-range status is unknown", NAT, "hospital", (zs_status)42, 0, NULL, NULL, 75, AVG,
	  EUR8K, "nl", "nl", "unknown", "null", NULL, 1, NULL, NULL, NULL, "",
	  "acute_care,duty_of_care", { "Wij weten niet", NULL, NULL, NULL }, NULL, { NULL, NULL } },
};

#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

static zs_conseq_in make_in(zs_ptype pt, const char *ct, zs_status st, unsigned f,
			    const char *until, const char *since, double pct, const char *basis,
			    int64_t amount)
{
	zs_conseq_in in;
	memset(&in, 0, sizeof in);
	in.policy_type = pt;
	in.care_type = ct;
	in.status = st;
	in.as_contracted = !!(f & F_AS);
	in.ceiling = !!(f & F_CEIL);
	in.ceiling_exempt = !!(f & F_EXEMPT);
	in.patient_stop = !!(f & F_STOP);
	in.stop_until = until;
	in.conflict = !!(f & F_CONFLICT);
	in.provider_only = !!(f & F_PROV);
	in.stale = !!(f & F_STALE);
	in.stale_since = since;
	in.treatment_in_progress = !!(f & F_TIP);
	in.nc_percent = pct;
	in.nc_basis = basis;
	in.amount_cents = amount;
	return in;
}

/* "a,b,c" of the codes of a notes array. */
static void codes_of(json_t *arr, char *out, size_t len)
{
	size_t i;
	json_t *v;
	out[0] = '\0';
	json_array_foreach(arr, i, v) {
		if (i)
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, json_string_value(json_object_get(v, "code")), len - strlen(out) - 1);
	}
}

static int notes_contain(json_t *o, const char *frag)
{
	const char *arrs[] = { "warnings", "exceptions" };
	for (size_t a = 0; a < 2; a++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(o, arrs[a]), i, v)
			if (strstr(json_string_value(json_object_get(v, "text")), frag))
				return 1;
	}
	return 0;
}

START_TEST(test_table)
{
	const row *r = &rows[_i];
	zs_conseq_in in = make_in(r->pt, r->ct, r->st, r->flags, r->until, r->since, r->pct,
				  r->nc_basis, r->amount);
	json_t *o = zs_consequence(&in, r->lang);
	ck_assert_msg(o != NULL, "%s: NULL", r->name);

	ck_assert_msg(strcmp(json_string_value(json_object_get(o, "code")), r->code) == 0,
		      "%s: code %s, want %s", r->name,
		      json_string_value(json_object_get(o, "code")), r->code);
	char *p = json_dumps(json_object_get(o, "reimbursed_percent"),
			     JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	ck_assert_msg(p && strcmp(p, r->percent) == 0, "%s: percent %s, want %s", r->name, p,
		      r->percent);
	free(p);
	if (strcmp(r->percent, "null") != 0 && !strchr(r->percent, '.'))
		ck_assert_msg(json_is_integer(json_object_get(o, "reimbursed_percent")),
			      "%s: whole percentage not an integer", r->name);
	json_t *b = json_object_get(o, "basis");
	if (r->basis)
		ck_assert_msg(json_is_string(b) && strcmp(json_string_value(b), r->basis) == 0,
			      "%s: basis %s, want %s", r->name, json_string_value(b), r->basis);
	else
		ck_assert_msg(json_is_null(b), "%s: basis not null", r->name);
	json_t *d = json_object_get(o, "deductible_applies");
	ck_assert_msg(json_is_boolean(d) && json_is_true(d) == r->deductible,
		      "%s: deductible_applies", r->name);

	json_t *ex = json_object_get(o, "example");
	if (r->ex_amount) {
		ck_assert_msg(json_is_object(ex), "%s: no example", r->name);
		ck_assert_str_eq(json_string_value(json_object_get(ex, "amount")), r->ex_amount);
		ck_assert_str_eq(json_string_value(json_object_get(ex, "insurer_pays")),
				 r->ex_insurer);
		ck_assert_str_eq(json_string_value(json_object_get(ex, "patient_pays")),
				 r->ex_patient);
		ck_assert_str_eq(json_string_value(json_object_get(ex, "currency")), "EUR");
	} else {
		ck_assert_msg(ex == NULL, "%s: unexpected example", r->name);
	}

	char codes[256];
	ck_assert_msg(json_is_array(json_object_get(o, "warnings")), "%s: warnings", r->name);
	ck_assert_msg(json_is_array(json_object_get(o, "exceptions")), "%s: exceptions", r->name);
	codes_of(json_object_get(o, "warnings"), codes, sizeof codes);
	ck_assert_msg(strcmp(codes, r->warnings) == 0, "%s: warnings [%s], want [%s]", r->name,
		      codes, r->warnings);
	codes_of(json_object_get(o, "exceptions"), codes, sizeof codes);
	ck_assert_msg(strcmp(codes, r->exceptions) == 0, "%s: exceptions [%s], want [%s]",
		      r->name, codes, r->exceptions);

	const char *text = json_string_value(json_object_get(o, "text"));
	ck_assert_msg(text && *text, "%s: no text", r->name);
	for (int k = 0; k < 4; k++)
		if (r->text_has[k])
			ck_assert_msg(strstr(text, r->text_has[k]) != NULL,
				      "%s: text lacks \"%s\": %s", r->name, r->text_has[k], text);
	if (r->text_lacks)
		ck_assert_msg(strstr(text, r->text_lacks) == NULL, "%s: text has \"%s\": %s",
			      r->name, r->text_lacks, text);
	for (int k = 0; k < 2; k++)
		if (r->notes_has[k])
			ck_assert_msg(notes_contain(o, r->notes_has[k]), "%s: no note with \"%s\"",
				      r->name, r->notes_has[k]);
	ck_assert_str_eq(json_string_value(json_object_get(o, "lang")), r->lang_out);
	json_decref(o);
}
END_TEST

/* Money: insurer's share rounded half up to the cent; patient pays the rest. */
static const struct {
	double pct;
	int64_t amount;
	const char *insurer, *patient;
} money[] = {
	{ 75, 1, "0.01", "0.00" },		/* 0.75 ct -> 1 */
	{ 75, 2, "0.02", "0.00" },		/* 1.5 ct -> 2 (half up) */
	{ 75, 3, "0.02", "0.01" },		/* 2.25 ct -> 2 */
	{ 65, 10, "0.07", "0.03" },		/* 6.5 ct -> 7 */
	{ 70, 5, "0.04", "0.01" },		/* 3.5 ct -> 4 */
	{ 85, 1, "0.01", "0.00" },		/* 0.85 ct -> 1 */
	{ 60, 0, "0.00", "0.00" },
	{ 62.5, 1, "0.01", "0.00" },		/* 0.625 ct -> 1 */
	{ 62.5, 3, "0.02", "0.01" },		/* 1.875 ct -> 2 */
	{ 66.67, 10000, "66.67", "33.33" },
	{ 33.33, 100, "0.33", "0.67" },		/* 33.33 ct -> 33 */
	{ 33.333, 300, "1.00", "2.00" },	/* percent rounded to 33.33: 99.99 ct -> 100 */
	{ 80, 99999, "799.99", "200.00" },	/* 79999.2 ct -> 79999 */
	{ 75, 800000, "6000.00", "2000.00" },
	{ 75, 9000000000000000000LL, "67500000000000000.00", "22500000000000000.00" },
	{ 50, INT64_MAX, "46116860184273879.04", "46116860184273879.03" },
};

START_TEST(test_money)
{
	zs_conseq_in in = make_in(NAT, "hospital", S_NC, 0, NULL, NULL, money[_i].pct, AVG,
				  money[_i].amount);
	json_t *o = zs_consequence(&in, "nl");
	ck_assert_ptr_nonnull(o);
	json_t *ex = json_object_get(o, "example");
	ck_assert_ptr_nonnull(ex);
	ck_assert_str_eq(json_string_value(json_object_get(ex, "insurer_pays")), money[_i].insurer);
	ck_assert_str_eq(json_string_value(json_object_get(ex, "patient_pays")), money[_i].patient);
	json_decref(o);
}
END_TEST

/* ---- the sweep: every policy type x status x flag combination x care type, checking the
 * rules of domain.md as invariants (the hand table above pins the exact values). ---- */

static const char *const care_types[] = {
	"hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp", "acute",
	"maternity", "pharmacy", "medical_devices", "paramedical",
};

static int has_code(json_t *arr, const char *code)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(json_object_get(v, "code")), code) == 0)
			return 1;
	return 0;
}

static int has_brace(const char *s)
{
	return strchr(s, '{') || strchr(s, '}');
}

START_TEST(test_sweep)
{
	/* policy rules: natura 75% avg, restitutie 100% market, combinatie 85% market, budget 65%
	 * avg; amount EUR 8000. */
	static const double pcts[] = { 75, 100, 85, 65 };
	static const char *const bases[] = { AVG, MKT, MKT, AVG };
	static const char *const insurer_pays[] = { "6000.00", "8000.00", "6800.00", "5200.00" };
	const zs_ptype pt = (zs_ptype)_i;
	int n = 0;
	for (int st = 0; st <= ZS_STATUS_ENDED; st++)
	for (size_t c = 0; c < sizeof care_types / sizeof care_types[0]; c++)
	for (unsigned f = 0; f <= F_ALL; f++) {
		const char *ct = care_types[c];
		zs_conseq_in in = make_in(pt, ct, (zs_status)st, f, "2027-01-31",
					  "2026-12-03T09:00:00+01:00", pcts[pt], bases[pt], EUR8K);
		json_t *o = zs_consequence(&in, (f & 1) ? "en" : "nl");
		ck_assert_ptr_nonnull(o);
		const char *code = json_string_value(json_object_get(o, "code"));
		json_t *w = json_object_get(o, "warnings"), *e = json_object_get(o, "exceptions");
		json_t *ex = json_object_get(o, "example");
		int acute = !strcmp(ct, "acute"), gp = !strcmp(ct, "gp");
		int contracted = st == S_CON || st == S_CEI || (st == S_NEG && (f & F_AS));

		/* the code */
		const char *want;
		if (contracted)
			want = "as_contracted";
		else if (acute)
			want = "exception_acute";
		else if (gp)
			want = "exception_gp";
		else if (st == S_END && (f & F_TIP))
			want = "continuity_of_treatment";
		else if (st == S_UNK)
			want = "unknown";
		else
			want = pt == RES ? "not_contracted_full" : "not_contracted_partial";
		ck_assert_msg(!strcmp(code, want), "pt %d st %d %s f %u: %s, want %s", pt, st, ct, f,
			      code, want);

		/* the example: insurer + patient = amount, share as per policy */
		if (!strcmp(code, "unknown")) {
			ck_assert_ptr_null(ex);
		} else {
			ck_assert_ptr_nonnull(ex);
			const char *ins = json_string_value(json_object_get(ex, "insurer_pays"));
			const char *pat = json_string_value(json_object_get(ex, "patient_pays"));
			if (!strcmp(code, "not_contracted_partial") ||
			    !strcmp(code, "not_contracted_full"))
				ck_assert_str_eq(ins, insurer_pays[pt]);
			else
				ck_assert_str_eq(ins, "8000.00");
			ck_assert_int_eq(atof(ins) * 100 + atof(pat) * 100 + 0.5 >= EUR8K, 1);
			ck_assert_int_eq(atof(ins) * 100 + atof(pat) * 100 - 0.5 <= EUR8K, 1);
		}

		/* warnings */
		ck_assert_int_eq(has_code(w, "may_change"), st == S_NEG);
		ck_assert_int_eq(has_code(w, "conflict"), 0); /* said in the text */
		const char *pres = json_string_value(json_object_get(o, "presentation"));
		const char *wantp;
		if (f & F_CONFLICT)
			wantp = "conflict";
		else if (contracted && (f & F_STOP) && !(f & F_TIP))
			wantp = "contracted_patient_stop";
		else if (st == S_NEG)
			wantp = "negotiating";
		else if (contracted)
			wantp = "contracted";
		else if (st == S_NC)
			wantp = "not_contracted";
		else if (st == S_END)
			wantp = "ended";
		else
			wantp = "unknown";
		ck_assert_msg(pres && !strcmp(pres, wantp), "pt %d st %d %s f %u: presentation %s, "
			      "want %s", pt, st, ct, f, pres, wantp);
		ck_assert(json_string_length(json_object_get(o, "headline")) > 0);
		ck_assert_int_eq(has_code(w, "provider_reported"), !!(f & F_PROV));
		ck_assert_int_eq(has_code(w, "stale"), !!(f & F_STALE));
		ck_assert_int_eq(has_code(w, "patient_stop"), (f & F_STOP) && !(f & F_TIP));
		ck_assert_int_eq(has_code(w, "ceiling"),
				 (st == S_CEI || ((f & F_CEIL) && (st == S_CON || st == S_NEG))) &&
				 !(f & F_EXEMPT));

		/* exceptions: duty of care on every reduced answer, and only there */
		int reduced = !strcmp(code, "not_contracted_partial") ||
			      (!strcmp(code, "unknown") && pt != RES);
		ck_assert_int_eq(has_code(e, "duty_of_care"), reduced);
		ck_assert_int_eq(has_code(e, "gp_care"), !strcmp(code, "exception_gp"));
		ck_assert_int_eq(has_code(e, "continuity_of_treatment"),
				 st == S_END && !acute && !gp);
		if (!strcmp(code, "exception_acute") || reduced)
			ck_assert(has_code(e, "acute_care"));

		/* deductible: all but GP care, district nursing and maternity care */
		ck_assert_int_eq(json_is_true(json_object_get(o, "deductible_applies")),
				 !(gp || !strcmp(ct, "district_nursing") ||
				   !strcmp(ct, "maternity")));

		/* every placeholder was substituted */
		ck_assert(!has_brace(json_string_value(json_object_get(o, "text"))));
		size_t i;
		json_t *v;
		json_array_foreach(w, i, v)
			ck_assert(!has_brace(json_string_value(json_object_get(v, "text"))));
		json_array_foreach(e, i, v)
			ck_assert(!has_brace(json_string_value(json_object_get(v, "text"))));
		json_decref(o);
		n++;
	}
	ck_assert_int_eq(n, 6 * 11 * 256);
}
END_TEST

/* ---- the phrase catalogue ---- */

START_TEST(test_phrases_init)
{
	char err[256] = "untouched";
	ck_assert_int_eq(zs_phrases_init(err, sizeof err), 0);
	ck_assert_int_eq(zs_phrases_init(err, sizeof err), 0);
	ck_assert_int_eq(zs_phrases_init(NULL, 0), 0);
	ck_assert_str_eq(err, "untouched");
	ck_assert_str_eq(zs_phrase("status.ended", "nl"),
			 "Het contract tussen deze zorgaanbieder en uw zorgverzekeraar is gestopt.");
	ck_assert_str_eq(zs_phrase("status.ended", "en"),
			 "The contract between this care provider and your insurer has ended.");
	ck_assert_str_eq(zs_phrase("month.3", "nl"), "maart");
	ck_assert_str_eq(zs_phrase("month.3", "fr"), "maart");
	ck_assert_str_eq(zs_phrase("month.3", NULL), "maart");
	ck_assert_ptr_null(zs_phrase("no.such.key", "nl"));
	ck_assert_ptr_null(zs_phrase(NULL, "nl"));
	/* pointers are stable */
	ck_assert_ptr_eq(zs_phrase("month.3", "en"), zs_phrase("month.3", "en"));
}
END_TEST

START_TEST(test_lazy_init)
{
	/* check runs each test in its own process: nothing initialised the catalogue here. */
	zs_conseq_in in = make_in(BUD, "hospital", S_NC, 0, NULL, NULL, 65, AVG, EUR8K);
	json_t *o = zs_consequence(&in, "nl");
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "text")),
				     "zorgverzekeraar 65% van het gemiddelde tarief"));
	json_decref(o);
}
END_TEST

static const char *const allowed_placeholders[] = {
	"percent", "basis", "amount", "insurer_pays", "patient_pays", "until", "since", "from",
	"insurer_says", "provider_says",
	"units", "cents", "number", "day", "month", "year", "time", "parameter",
};

/* Words that would steer the reader towards a policy (002 §5.2.1) or name a policy type. */
static const char *const steering[] = {
	"overstap", "stap over", "kies ", "kiezen", "switch", "choose", "restitutie", "natura",
	"combinatie", "budgetpolis", "andere polis", "another policy", "better policy",
	"betere polis", "goedkoper", "cheaper",
};

START_TEST(test_catalogue_content)
{
	json_error_t jerr;
	json_t *cat = json_loadb((const char *)zs_embed_phrases, zs_embed_phrases_len, 0, &jerr);
	ck_assert_msg(cat != NULL, "phrases.json: %s", jerr.text);
	const char *key;
	json_t *val;
	int n = 0;
	json_object_foreach(cat, key, val) {
		const char *langs[] = { "nl", "en" };
		ck_assert_msg(json_object_size(val) == 2, "%s: not exactly nl and en", key);
		for (int l = 0; l < 2; l++) {
			const char *s = json_string_value(json_object_get(val, langs[l]));
			ck_assert_msg(s && *s, "%s.%s empty", key, langs[l]);
			/* placeholders are balanced and known */
			for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
				const char *q = strchr(p, '}');
				ck_assert_msg(q != NULL, "%s.%s: unbalanced {", key, langs[l]);
				int ok = 0;
				for (size_t a = 0; a < sizeof allowed_placeholders /
							   sizeof allowed_placeholders[0]; a++)
					if (strlen(allowed_placeholders[a]) == (size_t)(q - p - 1) &&
					    !strncmp(p + 1, allowed_placeholders[a],
						     (size_t)(q - p - 1)))
						ok = 1;
				ck_assert_msg(ok, "%s.%s: unknown placeholder", key, langs[l]);
			}
			if (strcmp(key, "_comment") == 0)
				continue;
			/* a policy type's display name names the type: a label, not a steer */
			if (strncmp(key, "label.policy_type.", 18) == 0)
				continue;
			for (size_t w = 0; w < sizeof steering / sizeof steering[0]; w++)
				ck_assert_msg(!strcasestr(s, steering[w]), "%s.%s steers: \"%s\"",
					      key, langs[l], steering[w]);
			/* plain language: no sentence longer than 30 words */
			int words = 0;
			for (const char *p = s; *p; p++) {
				if (*p == ' ')
					words++;
				if (*p == '.' || *p == '?' || *p == ':')
					words = 0;
				ck_assert_msg(words < 30, "%s.%s: sentence too long", key,
					      langs[l]);
			}
		}
		/* placeholders are the same in both languages */
		const char *nl = json_string_value(json_object_get(val, "nl"));
		const char *en = json_string_value(json_object_get(val, "en"));
		for (size_t a = 0; a < sizeof allowed_placeholders / sizeof allowed_placeholders[0];
		     a++) {
			char ph[32];
			snprintf(ph, sizeof ph, "{%s}", allowed_placeholders[a]);
			ck_assert_msg(!strstr(nl, ph) == !strstr(en, ph), "%s: %s in one language",
				      key, ph);
		}
		n++;
	}
	ck_assert_int_ge(n, 50);
	json_decref(cat);
}
END_TEST

/* ---- threads: concurrent first use ---- */

static void *worker(void *arg)
{
	long id = (long)arg;
	for (int k = 0; k < 200; k++) {
		zs_conseq_in in = make_in(NAT, "hospital", S_NC, 0, NULL, NULL, 75, AVG, EUR8K + id);
		json_t *o = zs_consequence(&in, (k & 1) ? "en" : "nl");
		if (!o)
			return (void *)1;
		const char *code = json_string_value(json_object_get(o, "code"));
		const char *text = json_string_value(json_object_get(o, "text"));
		int bad = strcmp(code, "not_contracted_partial") != 0 || !strstr(text, "75%") ||
			  strstr(text, "reimb.");
		json_decref(o);
		if (bad)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[8];
	for (long i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)i), 0);
	for (int i = 0; i < 8; i++) {
		void *rv;
		ck_assert_int_eq(pthread_join(t[i], &rv), 0);
		ck_assert_ptr_null(rv);
	}
}
END_TEST

/* ---- zs_types ---- */

START_TEST(test_types)
{
	static const struct {
		zs_status s;
		const char *code;
		int cls;
	} st[] = {
		{ ZS_STATUS_UNKNOWN, "unknown", 0 },
		{ ZS_STATUS_CONTRACTED, "contracted", 1 },
		{ ZS_STATUS_CONTRACTED_CEILING, "contracted_ceiling", 1 },
		{ ZS_STATUS_NEGOTIATING, "negotiating", 2 },
		{ ZS_STATUS_NOT_CONTRACTED, "not_contracted", 3 },
		{ ZS_STATUS_ENDED, "ended", 3 },
	};
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
		ck_assert_str_eq(zs_status_code(st[i].s), st[i].code);
		ck_assert_int_eq(zs_status_from_code(st[i].code), (int)st[i].s);
		ck_assert_int_eq(zs_status_class(st[i].s), st[i].cls);
	}
	ck_assert_int_eq(zs_status_from_code("contractd"), -1);
	ck_assert_int_eq(zs_status_from_code("Contracted"), -1);
	ck_assert_int_eq(zs_status_from_code(""), -1);
	ck_assert_int_eq(zs_status_from_code(NULL), -1);
	ck_assert_str_eq(zs_status_code((zs_status)99), "unknown");
	ck_assert_int_eq(zs_status_class((zs_status)99), 0);

	static const struct {
		zs_ptype t;
		const char *code;
	} pt[] = {
		{ ZS_PTYPE_NATURA, "natura" },
		{ ZS_PTYPE_RESTITUTIE, "restitutie" },
		{ ZS_PTYPE_COMBINATIE, "combinatie" },
		{ ZS_PTYPE_BUDGET, "budget" },
	};
	for (size_t i = 0; i < sizeof pt / sizeof pt[0]; i++) {
		ck_assert_str_eq(zs_ptype_code(pt[i].t), pt[i].code);
		ck_assert_int_eq(zs_ptype_from_code(pt[i].code), (int)pt[i].t);
	}
	ck_assert_int_eq(zs_ptype_from_code("restitution"), -1);
	ck_assert_int_eq(zs_ptype_from_code(NULL), -1);
	ck_assert_ptr_null(zs_ptype_code((zs_ptype)7));
}
END_TEST


/* ---- issue 13: patient stops, situations, conflicts (expected texts written from
 * domain.md "Contract status" and "Consequence for reimbursement", and data/phrases.json) ---- */

static json_t *run13(zs_conseq_in *in, const char *lang)
{
	json_t *o = zs_consequence(in, lang);
	ck_assert_ptr_nonnull(o);
	return o;
}

static int starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *note_text(json_t *o, const char *code)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "warnings"), i, v)
		if (!strcmp(jstr(v, "code"), code))
			return jstr(v, "text");
	return NULL;
}

START_TEST(test_stop_active_not_plain_contracted)
{
	zs_conseq_in in = make_in(NAT, "hospital", S_CON, F_STOP, "2027-01-31", NULL, 75, AVG, -1);
	json_t *o = run13(&in, "nl");
	char codes[128];
	ck_assert_str_eq(jstr(o, "presentation"), "contracted_patient_stop");
	ck_assert_str_eq(jstr(o, "headline"), "Contract, maar geen nieuwe patiënten");
	ck_assert_str_eq(jstr(o, "code"), "as_contracted");
	ck_assert_msg(starts(jstr(o, "text"), "Deze zorgaanbieder heeft een contract met uw "
			      "zorgverzekeraar, maar neemt tot en met 31 januari 2027 geen nieuwe "
			      "patiënten van uw zorgverzekeraar aan. "), "%s", jstr(o, "text"));
	codes_of(json_object_get(o, "warnings"), codes, sizeof codes);
	ck_assert_str_eq(codes, "patient_stop");
	/* the warning does not repeat the stop: it says what to do */
	ck_assert_str_eq(note_text(o, "patient_stop"), "Vraag uw zorgverzekeraar om "
			 "zorgbemiddeling: hulp bij het vinden van een zorgaanbieder die u op tijd kan "
			 "helpen.");
	json_decref(o);
	/* without an end date */
	in.stop_until = NULL;
	o = run13(&in, "en");
	ck_assert_ptr_nonnull(strstr(jstr(o, "text"), "This care provider has a contract with "
				     "your insurer, but is not taking new patients from your insurer at the "
				     "moment."));
	ck_assert_str_eq(jstr(o, "headline"), "Contract, but no new patients");
	json_decref(o);
}
END_TEST

START_TEST(test_stop_announced)
{
	zs_conseq_in in = make_in(NAT, "district_nursing", S_CON, 0, NULL, NULL, 75, AVG, -1);
	in.stop_announced = 1;
	in.stop_from = "2026-12-01";
	json_t *o = run13(&in, "nl");
	char codes[128];
	ck_assert_str_eq(jstr(o, "presentation"), "contracted");	/* not in force yet */
	codes_of(json_object_get(o, "warnings"), codes, sizeof codes);
	ck_assert_str_eq(codes, "patient_stop_announced");
	ck_assert_ptr_nonnull(strstr(note_text(o, "patient_stop_announced"),
				     "Vanaf 1 december 2026 neemt deze zorgaanbieder geen nieuwe patiënten"));
	json_decref(o);
	in.stop_until = "2027-01-31";
	o = run13(&in, "en");
	ck_assert_ptr_nonnull(strstr(note_text(o, "patient_stop_announced"),
				     "From 1 December 2026 until 31 January 2027 (inclusive)"));
	json_decref(o);
	/* an announced stop concerns new patients too */
	in.treatment_in_progress = 1;
	o = run13(&in, "nl");
	ck_assert_int_eq(json_array_size(json_object_get(o, "warnings")), 0);
	json_decref(o);
}
END_TEST

START_TEST(test_stop_ceiling_exempt)
{
	/* 10 December: acute care at a provider whose stop is caused by the ceiling, acute care
	 * exempt from the ceiling: neither the ceiling warning nor the stop. */
	zs_conseq_in in = make_in(NAT, "acute", S_CEI, F_STOP | F_EXEMPT, "2027-01-31", NULL, 75,
				  AVG, -1);
	in.stop_for_ceiling = 1;
	json_t *o = run13(&in, "nl");
	ck_assert_str_eq(jstr(o, "presentation"), "contracted");
	ck_assert_int_eq(json_array_size(json_object_get(o, "warnings")), 0);
	ck_assert_ptr_null(strstr(jstr(o, "text"), "nieuwe patiënten"));
	json_decref(o);
	/* a stop for lack of staff applies to exempt care as well */
	in.stop_for_ceiling = 0;
	o = run13(&in, "nl");
	ck_assert_str_eq(jstr(o, "presentation"), "contracted_patient_stop");
	ck_assert_ptr_nonnull(note_text(o, "patient_stop"));
	json_decref(o);
}
END_TEST

START_TEST(test_exemption_by_situation)
{
	/* planned maternity care, the ceiling exempts acute maternity care only: the warning stays
	 * and says the exemption; so does a stop caused by the ceiling. */
	zs_conseq_in in = make_in(NAT, "maternity", S_CEI, F_STOP, NULL, NULL, 75, AVG, -1);
	in.exempt_if_acute = 1;
	in.stop_for_ceiling = 1;
	json_t *o = run13(&in, "nl");
	char codes[128];
	codes_of(json_object_get(o, "warnings"), codes, sizeof codes);
	ck_assert_str_eq(codes, "ceiling,patient_stop");
	ck_assert_ptr_nonnull(strstr(note_text(o, "ceiling"),
				     "Bij spoed (acute zorg) geldt deze grens niet."));
	ck_assert_ptr_nonnull(strstr(note_text(o, "patient_stop"),
				     "Bij spoed (acute zorg) geldt deze stop niet."));
	json_decref(o);
	in = make_in(NAT, "hospital", S_CEI, 0, NULL, NULL, 75, AVG, -1);
	in.exempt_if_in_treatment = 1;
	o = run13(&in, "en");
	ck_assert_ptr_nonnull(strstr(note_text(o, "ceiling"), "If you are already in treatment "
				     "here, this limit does not apply to that treatment."));
	json_decref(o);
}
END_TEST

START_TEST(test_conflict_one_message)
{
	zs_conseq_in in = make_in(NAT, "hospital", S_NC, F_CONFLICT, NULL, NULL, 75, AVG, EUR8K);
	in.insurer_says = S_NC;
	in.provider_says = S_CON;
	json_t *o = run13(&in, "nl");
	ck_assert_str_eq(jstr(o, "presentation"), "conflict");
	ck_assert_str_eq(jstr(o, "headline"), "Onduidelijk: vraag het na bij uw zorgverzekeraar");
	ck_assert_str_eq(jstr(o, "code"), "not_contracted_partial");
	const char *t = jstr(o, "text");
	ck_assert_msg(starts(t, "Uw zorgverzekeraar zegt: er is geen contract. De zorgaanbieder "
			      "zegt: er is een contract. Wat u vergoed krijgt, volgt wat uw "
			      "zorgverzekeraar zegt. Vraag het na bij uw zorgverzekeraar. Zonder "
			      "contract vergoedt uw zorgverzekeraar 75% van"), "%s", t);
	ck_assert_ptr_null(strstr(t, "heeft geen contract met uw zorgverzekeraar"));
	ck_assert_ptr_null(note_text(o, "conflict"));
	json_decref(o);
	in.insurer_says = S_CON;
	in.provider_says = S_NC;
	in.status = S_CON;
	o = run13(&in, "en");
	ck_assert_msg(starts(jstr(o, "text"), "Your insurer says: there is a contract. The care "
			      "provider says: there is no contract. What you get back follows what "
			      "your insurer says. Check with your insurer."), "%s",
		      jstr(o, "text"));
	ck_assert_str_eq(jstr(o, "presentation"), "conflict");
	json_decref(o);
}
END_TEST

/* GET /v1/labels: every code the API answers with has a display name in both languages. */
START_TEST(test_labels_cover_every_code)
{
	const char *langs[] = { "nl", "en" };
	for (int l = 0; l < 2; l++) {
		json_t *ct = zs_phrases_family("label.care_type.", langs[l]);
		ck_assert_ptr_nonnull(ct);
		int n = 0;
		for (int i = 0; zs_care_type_at(i); i++, n++)
			ck_assert_msg(json_string_length(json_object_get(ct, zs_care_type_at(i)->code)) > 0,
				      "care type %s in %s", zs_care_type_at(i)->code, langs[l]);
		ck_assert_int_eq((int)json_object_size(ct), n);
		json_decref(ct);
		json_t *st = zs_phrases_family("label.status.", langs[l]);
		for (int s = 0; s <= ZS_STATUS_ENDED; s++)
			ck_assert(json_string_length(json_object_get(st, zs_status_code((zs_status)s))) > 0);
		json_decref(st);
		json_t *pt = zs_phrases_family("label.policy_type.", langs[l]);
		for (int t = 0; zs_ptype_code((zs_ptype)t); t++)
			ck_assert(json_string_length(json_object_get(pt, zs_ptype_code((zs_ptype)t))) > 0);
		json_decref(pt);
		json_t *pk = zs_phrases_family("label.provider_kind.", langs[l]);
		const char *kinds[] = { "hospital", "ibc", "mental_health", "district_nursing",
					"physiotherapy", "gp", "pharmacy", "maternity", "medical_devices",
					"other" };
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			ck_assert(zs_provider_kind_valid(kinds[k]));
			ck_assert(json_string_length(json_object_get(pk, kinds[k])) > 0);
		}
		json_decref(pk);
		/* every warning code the engine emits, and every presentation */
		json_t *w = zs_phrases_family("label.warning.", langs[l]);
		const char *wc[] = { "provider_reported", "may_change", "ceiling", "patient_stop",
				     "patient_stop_announced", "stale" };
		for (size_t k = 0; k < sizeof wc / sizeof wc[0]; k++)
			ck_assert(json_string_length(json_object_get(w, wc[k])) > 0);
		json_decref(w);
		json_t *p = zs_phrases_family("presentation.", langs[l]);
		ck_assert_int_eq((int)json_object_size(p), 7);
		json_decref(p);
	}
	json_t *nl = zs_phrases_family("label.status.", "nl");
	ck_assert_str_eq(json_string_value(json_object_get(nl, "not_contracted")), "Geen contract");
	json_decref(nl);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("consequence");
	TCase *tc = tcase_create("engine");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_table, 0, N_ROWS);
	tcase_add_loop_test(tc, test_money, 0, (int)(sizeof money / sizeof money[0]));
	tcase_add_loop_test(tc, test_sweep, 0, 4);
	tcase_add_test(tc, test_lazy_init);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_stop_active_not_plain_contracted);
	tcase_add_test(tc, test_stop_announced);
	tcase_add_test(tc, test_stop_ceiling_exempt);
	tcase_add_test(tc, test_exemption_by_situation);
	tcase_add_test(tc, test_conflict_one_message);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("catalogue");
	tcase_add_test(tp, test_phrases_init);
	tcase_add_test(tp, test_catalogue_content);
	tcase_add_test(tp, test_labels_cover_every_code);
	suite_add_tcase(s, tp);
	TCase *tt = tcase_create("types");
	tcase_add_test(tt, test_types);
	suite_add_tcase(s, tt);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
