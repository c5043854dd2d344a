/* zs_consequence.c - the reimbursement consequence engine and its phrase catalogue.
 *
 * Pure: no I/O, no clock, no global state except the phrase catalogue, which is parsed once from
 * the embedded data/phrases.json (pthread_once) and is read-only afterwards, so zs_consequence()
 * and zs_phrase() may be called from any number of threads. zs_phrases_init() need not be called
 * (the first use initialises lazily); calling it again is harmless and returns the same result.
 *
 * Output (one JSON object; docs/consequence.md has the full reference):
 *
 *   {"code":"not_contracted_partial",       consequence code, see below
 *    "reimbursed_percent":75,               integer when whole, real otherwise (62.5); null when
 *                                           not known (codes unknown, not_contracted_no_rule)
 *    "basis":"avg_contracted_tariff",       avg_contracted_tariff | market_tariff |
 *                                           statutory_max_tariff | contracted_tariff | null
 *    "deductible_applies":true,             statutory deductible (eigen risico) for the care type
 *    "deductible_text":"...",               the deductible sentence of text, on its own
 *    "example":{"amount":"8000.00","insurer_pays":"6000.00","patient_pays":"2000.00",
 *               "currency":"EUR"},          only when amount_cents >= 0 and the percentage is known
 *    "warnings":[{"code":"may_change","text":"..."}],       always present, maybe empty
 *    "exceptions":[{"code":"duty_of_care","text":"..."}],   always present, maybe empty
 *    "text":"...",                          summary: status, reimbursement, example, deductible
 *    "presentation":"contracted",           the one visual state (see below)
 *    "headline":"Contract",                 a few words for the presentation, in lang
 *    "lang":"nl"}                           "nl" or "en"
 *
 * Consequence codes: as_contracted, not_contracted_partial, not_contracted_full,
 *   not_contracted_no_rule, exception_acute, exception_gp, continuity_of_treatment, unknown.
 * Warning codes (in this order): provider_reported, may_change, ceiling, patient_stop or
 *   patient_stop_announced, stale. A conflict is no warning: it is said in the text (one message:
 *   what the insurer says, what the provider says, the insurer decides, check with the insurer).
 * Presentation (first match): conflict; contracted_patient_stop (contracted-like with a stop in
 *   force that applies: never plain "contracted"); negotiating; contracted; not_contracted;
 *   ended; unknown. A stop applies unless the patient is in treatment, or its reason is the
 *   ceiling and the care is exempt from the ceiling.
 * Exception codes (in this order): acute_care, gp_care, continuity_of_treatment, duty_of_care.
 *
 * Decision (first match wins):
 *   1. contracted, contracted_ceiling, or negotiating with as_contracted -> as_contracted
 *      (100% of the contracted tariff: no extra cost from the contract status);
 *   2. care type "acute" -> exception_acute; care type "gp" -> exception_gp: reimbursed regardless
 *      of contract, at 100% of the market-conform tariff (001 fn. 3: "een vergoeding tegen
 *      marktconform tarief zoals voor restitutieverzekerden");
 *   3. ended with treatment_in_progress -> continuity_of_treatment (art. 13(5) Zvw, 002 §5.1.6),
 *      reimbursed as under the ended contract;
 *   4. unknown -> unknown (nothing known; ask the insurer; the policy's non-contracted rule is
 *      mentioned as what applies if there is no contract);
 *   5. not_contracted, ended, negotiating without as_contracted -> the policy's non-contracted
 *      rule for the care type: none stated -> not_contracted_no_rule; 100% -> not_contracted_full;
 *      less -> not_contracted_partial. A restitutie policy that states no rule gets 100% of the
 *      market tariff (domain.md); combinatie is "by care type", i.e. just the rule passed in.
 *
 * Money: integer cents. The insurer's share is amount * percent / 100, rounded half up to the
 * cent (percent itself is first rounded to 0.01%); the patient pays amount - insurer's share, so
 * the two always add up to the amount. The example leaves the deductible out (the text says so).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zs_consequence.h"
#include "zs_embedded.h"

/* ------------------------------------------------------------------------------------------ */
/* Phrase catalogue */

/* Every key the engine may look up; the catalogue is rejected at init when one is missing. */
static const char *const required_keys[] = {
	"status.contracted", "status.negotiating", "status.not_contracted", "status.ended",
	"status.unknown",
	"reimb.as_contracted", "reimb.negotiating_as_contracted", "reimb.not_contracted_partial",
	"reimb.not_contracted_full", "reimb.not_contracted_no_rule", "reimb.exception_acute",
	"reimb.exception_gp", "reimb.continuity_of_treatment", "reimb.unknown",
	"reimb.unknown_fallback_partial", "reimb.unknown_fallback_full",
	"basis.avg_contracted_tariff", "basis.market_tariff", "basis.statutory_max_tariff",
	"basis.contracted_tariff", "basis.unknown",
	"example.text", "example.caveat",
	"deductible.applies", "deductible.exempt",
	"warning.may_change", "warning.ceiling", "warning.patient_stop",
	"warning.patient_stop_until", "warning.conflict", "warning.provider_reported",
	"warning.stale", "warning.stale_no_date",
	"exception.acute_care", "exception.gp_care", "exception.continuity_of_treatment",
	"exception.duty_of_care",
	"fmt.money", "fmt.thousands_sep", "fmt.decimal_sep", "fmt.percent", "fmt.date",
	"fmt.datetime",
	"month.1", "month.2", "month.3", "month.4", "month.5", "month.6", "month.7", "month.8",
	"month.9", "month.10", "month.11", "month.12",
	"status.contracted_stop", "status.contracted_stop_until", "status.conflict",
	"status.conflict_unspecified",
	"says.contracted", "says.contracted_ceiling", "says.negotiating", "says.not_contracted",
	"says.ended", "says.unknown",
	"warning.patient_stop_announced", "warning.patient_stop_announced_until",
	"warning.patient_stop_mediation",
	"warning.ceiling_not_acute", "warning.ceiling_not_in_treatment", "warning.stop_not_acute",
	"presentation.contracted", "presentation.contracted_patient_stop",
	"presentation.negotiating", "presentation.not_contracted", "presentation.ended",
	"presentation.conflict", "presentation.unknown",
};

static pthread_once_t cat_once = PTHREAD_ONCE_INIT;
static json_t *catalogue;	/* never freed: phrase pointers live as long as the process */
static int cat_rc = -1;
static char cat_err[256];

static void catalogue_load(void)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)zs_embed_phrases, zs_embed_phrases_len, 0, &jerr);
	if (!root) {
		snprintf(cat_err, sizeof cat_err, "phrases.json line %d: %s", jerr.line, jerr.text);
		return;
	}
	if (!json_is_object(root)) {
		snprintf(cat_err, sizeof cat_err, "phrases.json: top level is not an object");
		json_decref(root);
		return;
	}
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val) {
		const char *langs[] = { "nl", "en" };
		for (size_t i = 0; i < 2; i++) {
			const char *s = json_string_value(json_object_get(val, langs[i]));
			if (!s || !*s) {
				snprintf(cat_err, sizeof cat_err,
					 "phrases.json: key \"%s\" lacks a non-empty \"%s\" text",
					 key, langs[i]);
				json_decref(root);
				return;
			}
		}
	}
	for (size_t i = 0; i < sizeof required_keys / sizeof required_keys[0]; i++) {
		if (!json_object_get(root, required_keys[i])) {
			snprintf(cat_err, sizeof cat_err, "phrases.json: missing key \"%s\"",
				 required_keys[i]);
			json_decref(root);
			return;
		}
	}
	catalogue = root;
	cat_rc = 0;
}

int zs_phrases_init(char *err, size_t errlen)
{
	pthread_once(&cat_once, catalogue_load);
	if (cat_rc != 0 && err && errlen)
		snprintf(err, errlen, "%s", cat_err);
	return cat_rc;
}

static int lang_is_en(const char *lang)
{
	return lang && strcmp(lang, "en") == 0;
}

const char *zs_phrase(const char *key, const char *lang)
{
	pthread_once(&cat_once, catalogue_load);
	if (!catalogue || !key)
		return NULL;
	json_t *entry = json_object_get(catalogue, key);
	return json_string_value(json_object_get(entry, lang_is_en(lang) ? "en" : "nl"));
}

json_t *zs_phrases_family(const char *prefix, const char *lang)
{
	pthread_once(&cat_once, catalogue_load);
	if (!catalogue || !prefix)
		return NULL;
	json_t *out = json_object();
	const char *key;
	json_t *val;
	size_t pl = strlen(prefix);
	json_object_foreach(catalogue, key, val) {
		if (strncmp(key, prefix, pl) != 0 || !key[pl])
			continue;
		const char *t = json_string_value(json_object_get(val, lang_is_en(lang) ? "en" : "nl"));
		if (out && t && json_object_set_new(out, key + pl, json_string(t))) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* A phrase, or its key when the catalogue failed to load (visible, never a crash). */
static const char *ph(const char *key, const char *lang)
{
	const char *s = zs_phrase(key, lang);
	return s ? s : key;
}

/* ------------------------------------------------------------------------------------------ */
/* String building */

typedef struct {
	char *s;
	size_t n, cap;
	int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->n + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_adds(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_reset(sbuf *b)
{
	b->n = 0;
	if (b->s)
		b->s[0] = '\0';
}

static const char *sb_str(const sbuf *b)
{
	return b->s ? b->s : "";
}

typedef struct {
	const char *name;
	const char *value;
} var;

/* Append template tpl with {name} replaced by the value of that var; unknown names stay. */
static void render(sbuf *b, const char *tpl, const var *vars, size_t nvars)
{
	const char *p = tpl;
	while (*p) {
		const char *open = strchr(p, '{');
		if (!open) {
			sb_adds(b, p);
			return;
		}
		sb_add(b, p, (size_t)(open - p));
		const char *close = strchr(open, '}');
		if (!close) {
			sb_adds(b, open);
			return;
		}
		size_t len = (size_t)(close - open - 1);
		const char *value = NULL;
		for (size_t i = 0; i < nvars; i++)
			if (vars[i].value && strlen(vars[i].name) == len &&
			    memcmp(vars[i].name, open + 1, len) == 0)
				value = vars[i].value;
		if (value)
			sb_adds(b, value);
		else
			sb_add(b, open, len + 2);
		p = close + 1;
	}
}

/* Append a phrase rendered with vars, preceded by a space when b is not empty. */
static void sentence(sbuf *b, const char *key, const char *lang, const var *vars, size_t nvars)
{
	if (b->n)
		sb_adds(b, " ");
	render(b, ph(key, lang), vars, nvars);
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers, money and dates */

/* "8000.00" for the JSON example (amount >= 0). */
static void money_json(char *out, size_t len, int64_t cents)
{
	snprintf(out, len, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

/* "€ 8.000,00" (nl) / "€8,000.00" (en). */
static void money_text(sbuf *b, int64_t cents, const char *lang)
{
	char digits[32], units[48], c[4];
	snprintf(digits, sizeof digits, "%lld", (long long)(cents / 100));
	snprintf(c, sizeof c, "%02lld", (long long)(cents % 100));
	const char *sep = ph("fmt.thousands_sep", lang);
	size_t nd = strlen(digits), o = 0, sl = strlen(sep);
	for (size_t i = 0; i < nd && o + sl + 2 < sizeof units; i++) {
		if (i && (nd - i) % 3 == 0) {
			memcpy(units + o, sep, sl);
			o += sl;
		}
		units[o++] = digits[i];
	}
	units[o] = '\0';
	var v[] = { { "units", units }, { "cents", c } };
	render(b, ph("fmt.money", lang), v, 2);
}

/* Percentage in hundredths of a percent (7500 = 75%), -1 when absent or out of 0..100. */
static long percent_p100(double p)
{
	if (isnan(p) || p < 0.0 || p > 100.0)
		return -1;
	return (long)(p * 100.0 + 0.5);
}

/* "75%", "62,5%" (nl) / "62.5%" (en), "66,67%". */
static void percent_text(sbuf *b, long p100, const char *lang)
{
	char whole[24], frac[8];
	sbuf num = { 0 };
	long f = p100 % 100;
	snprintf(whole, sizeof whole, "%ld", p100 / 100);
	sb_adds(&num, whole);
	if (f) {
		if (f % 10 == 0)
			snprintf(frac, sizeof frac, "%ld", f / 10);
		else
			snprintf(frac, sizeof frac, "%02ld", f);
		sb_adds(&num, ph("fmt.decimal_sep", lang));
		sb_adds(&num, frac);
	}
	var v[] = { { "number", sb_str(&num) } };
	render(b, ph("fmt.percent", lang), v, 1);
	if (num.oom)
		b->oom = 1;
	free(num.s);
}

/* Insurer's share: amount * p100 / 10000, half up, without overflow for any amount >= 0. */
static int64_t insurer_share(int64_t amount, long p100)
{
	int64_t q = amount / 10000, r = amount % 10000;
	return q * p100 + (r * p100 + 5000) / 10000;
}

static int parse_digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* "YYYY-MM-DD" at the start of s; 0 on success. */
static int parse_date(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' || parse_digits(s, 4, y) ||
	    parse_digits(s + 5, 2, m) || parse_digits(s + 8, 2, d))
		return -1;
	if (*m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Day number of the last Sunday of a 31-day month. */
static int64_t last_sunday(int y, int m)
{
	int64_t last = days_from_civil(y, m, 31);
	int64_t wd = ((last + 4) % 7 + 7) % 7;	/* 0 = Sunday; 1970-01-01 was a Thursday */
	return last - wd;
}

/* RFC 3339 timestamp -> seconds since the epoch (UTC); 0 on success. */
static int parse_rfc3339(const char *s, int64_t *t)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	if (parse_date(s, &y, &mo, &d) || strlen(s) < 19 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' ||
	    parse_digits(s + 11, 2, &h) || parse_digits(s + 14, 2, &mi) ||
	    parse_digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
		   !parse_digits(p + 1, 2, &oh) && !parse_digits(p + 4, 2, &om) && oh < 24 &&
		   om < 60) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -1;
	}
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	     sign * (oh * 3600 + om * 60);
	return 0;
}

/* UTC seconds -> Europe/Amsterdam civil time (CET +1; CEST +2 from the last Sunday of March
 * 01:00 UTC to the last Sunday of October 01:00 UTC, the EU rule). */
static void amsterdam(int64_t t, int *y, int *m, int *d, int *h, int *mi)
{
	int64_t days = (t >= 0 ? t : t - 86399) / 86400;
	int uy, um, ud;
	civil_from_days(days, &uy, &um, &ud);
	int64_t start = last_sunday(uy, 3) * 86400 + 3600;
	int64_t end = last_sunday(uy, 10) * 86400 + 3600;
	int64_t local = t + ((t >= start && t < end) ? 7200 : 3600);
	int64_t ld = (local >= 0 ? local : local - 86399) / 86400;
	int64_t sec = local - ld * 86400;
	civil_from_days(ld, y, m, d);
	*h = (int)(sec / 3600);
	*mi = (int)(sec % 3600 / 60);
}

static void date_text(sbuf *b, int y, int m, int d, const char *time, const char *lang)
{
	char ys[16], ds[8], mk[16];
	snprintf(ys, sizeof ys, "%d", y);
	snprintf(ds, sizeof ds, "%d", d);
	snprintf(mk, sizeof mk, "month.%d", m);
	var v[] = { { "day", ds }, { "month", ph(mk, lang) }, { "year", ys }, { "time", time } };
	render(b, ph(time ? "fmt.datetime" : "fmt.date", lang), v, 4);
}

/* ------------------------------------------------------------------------------------------ */
/* The engine */

typedef enum {
	C_AS_CONTRACTED,
	C_NC_PARTIAL,
	C_NC_FULL,
	C_NC_NO_RULE,
	C_EXC_ACUTE,
	C_EXC_GP,
	C_CONTINUITY,
	C_UNKNOWN
} ccode;

static const char *const ccode_names[] = {
	[C_AS_CONTRACTED] = "as_contracted",
	[C_NC_PARTIAL] = "not_contracted_partial",
	[C_NC_FULL] = "not_contracted_full",
	[C_NC_NO_RULE] = "not_contracted_no_rule",
	[C_EXC_ACUTE] = "exception_acute",
	[C_EXC_GP] = "exception_gp",
	[C_CONTINUITY] = "continuity_of_treatment",
	[C_UNKNOWN] = "unknown",
};

static const char *const known_bases[] = {
	"avg_contracted_tariff", "market_tariff", "statutory_max_tariff",
};

/* Statutory deductible (eigen risico, art. 19 Zvw, art. 2.17 Besluit zorgverzekering): it
 * applies to all care in the basic package except, among others, GP care (huisartsenzorg, incl.
 * the out-of-hours GP post and chain care), district nursing (wijkverpleging), and obstetric and
 * maternity care (verloskundige zorg en kraamzorg). Every other catalogue code - hospital, ibc,
 * mental_health, physiotherapy, paramedical, acute (emergency department, ambulance), pharmacy,
 * medical_devices - and any unknown code: it applies. (Loaned medical devices are exempt too;
 * the care type "medical_devices" as a whole is not, so it answers true. Under-18s never pay it;
 * the text says "if you are 18 or older".) */
static int deductible_applies(const char *care_type)
{
	static const char *const exempt[] = { "gp", "district_nursing", "maternity" };
	for (size_t i = 0; i < sizeof exempt / sizeof exempt[0]; i++)
		if (strcmp(care_type, exempt[i]) == 0)
			return 0;
	return 1;
}

static int add_item(json_t *arr, const char *code, const char *text)
{
	json_t *o = json_pack("{s:s, s:s}", "code", code, "text", text);
	if (!o)
		return -1;
	return json_array_append_new(arr, o);
}

/* Append a note {code, text} rendered from key; -1 on failure. */
static int note(json_t *arr, sbuf *tmp, const char *code, const char *key, const char *lang,
		const var *vars, size_t nvars)
{
	sb_reset(tmp);
	render(tmp, ph(key, lang), vars, nvars);
	if (tmp->oom)
		return -1;
	return add_item(arr, code, sb_str(tmp));
}

json_t *zs_consequence(const zs_conseq_in *in, const char *lang)
{
	lang = lang_is_en(lang) ? "en" : "nl";
	pthread_once(&cat_once, catalogue_load);

	zs_status st = in->status;
	if ((unsigned)st > ZS_STATUS_ENDED)
		st = ZS_STATUS_UNKNOWN;
	const char *ct = in->care_type ? in->care_type : "";

	/* The policy's non-contracted rule for this care type. */
	long rule_p100 = percent_p100(in->nc_percent);
	const char *rule_basis = NULL;
	for (size_t i = 0; in->nc_basis && i < sizeof known_bases / sizeof known_bases[0]; i++)
		if (strcmp(in->nc_basis, known_bases[i]) == 0)
			rule_basis = known_bases[i];
	if (in->policy_type == ZS_PTYPE_RESTITUTIE) {
		if (rule_p100 < 0)
			rule_p100 = 10000;
		if (!rule_basis)
			rule_basis = "market_tariff";
	}

	/* The decision. */
	ccode code;
	long p100 = -1;
	const char *basis = NULL;
	if (st == ZS_STATUS_CONTRACTED || st == ZS_STATUS_CONTRACTED_CEILING ||
	    (st == ZS_STATUS_NEGOTIATING && in->as_contracted)) {
		code = C_AS_CONTRACTED;
		p100 = 10000;
		basis = "contracted_tariff";
	} else if (strcmp(ct, "acute") == 0) {
		code = C_EXC_ACUTE;
		p100 = 10000;
		basis = "market_tariff";
	} else if (strcmp(ct, "gp") == 0) {
		code = C_EXC_GP;
		p100 = 10000;
		basis = "market_tariff";
	} else if (st == ZS_STATUS_ENDED && in->treatment_in_progress) {
		code = C_CONTINUITY;
		p100 = 10000;
		basis = "contracted_tariff";
	} else if (st == ZS_STATUS_UNKNOWN) {
		code = C_UNKNOWN;
	} else if (rule_p100 < 0) {
		code = C_NC_NO_RULE;
	} else {
		code = rule_p100 == 10000 ? C_NC_FULL : C_NC_PARTIAL;
		p100 = rule_p100;
		basis = rule_basis;
	}

	json_t *out = json_object();
	json_t *warnings = json_array();
	json_t *exceptions = json_array();
	sbuf text = { 0 }, tmp = { 0 }, pct = { 0 }, bas = { 0 }, amt = { 0 }, ins = { 0 },
	     pat = { 0 }, until = { 0 }, since = { 0 }, from = { 0 };
	int fail = !out || !warnings || !exceptions;

	/* Placeholder values. */
	long shown_p100 = p100 >= 0 ? p100 : rule_p100;
	const char *shown_basis = p100 >= 0 ? basis : rule_basis;
	if (shown_p100 >= 0)
		percent_text(&pct, shown_p100, lang);
	char bkey[64];
	snprintf(bkey, sizeof bkey, "basis.%s", shown_basis ? shown_basis : "unknown");
	sb_adds(&bas, ph(bkey, lang));
	var vars[] = {
		{ "percent", sb_str(&pct) }, { "basis", sb_str(&bas) },
		{ "amount", NULL }, { "insurer_pays", NULL }, { "patient_pays", NULL },
		{ "until", NULL }, { "since", NULL }, { "from", NULL },
		{ "insurer_says", NULL }, { "provider_says", NULL },
	};
	const size_t nv = sizeof vars / sizeof vars[0];

	/* Worked example. */
	json_t *example = NULL;
	if (!fail && in->amount_cents >= 0 && p100 >= 0) {
		int64_t a = in->amount_cents, i = insurer_share(a, p100), pp = a - i;
		char ja[32], ji[32], jp[32];
		money_json(ja, sizeof ja, a);
		money_json(ji, sizeof ji, i);
		money_json(jp, sizeof jp, pp);
		example = json_pack("{s:s, s:s, s:s, s:s}", "amount", ja, "insurer_pays", ji,
				    "patient_pays", jp, "currency", "EUR");
		if (!example)
			fail = 1;
		money_text(&amt, a, lang);
		money_text(&ins, i, lang);
		money_text(&pat, pp, lang);
		vars[2].value = sb_str(&amt);
		vars[3].value = sb_str(&ins);
		vars[4].value = sb_str(&pat);
	}

	/* Patient stop: a stop concerns new patients (not one already in treatment), and a stop
	 * caused by the ceiling does not apply to care exempt from the ceiling. */
	int y, m, d;
	int stop_applies = (in->patient_stop || in->stop_announced) && !in->treatment_in_progress &&
	                   !(in->stop_for_ceiling && in->ceiling_exempt);
	if (in->stop_until && strlen(in->stop_until) == 10 &&
	    parse_date(in->stop_until, &y, &m, &d) == 0) {
		date_text(&until, y, m, d, NULL, lang);
		vars[5].value = sb_str(&until);
	}
	if (in->stop_from && strlen(in->stop_from) == 10 &&
	    parse_date(in->stop_from, &y, &m, &d) == 0) {
		date_text(&from, y, m, d, NULL, lang);
		vars[7].value = sb_str(&from);
	}
	int contracted_like = st == ZS_STATUS_CONTRACTED || st == ZS_STATUS_CONTRACTED_CEILING ||
	                      (st == ZS_STATUS_NEGOTIATING && in->as_contracted);
	int stop_now = stop_applies && in->patient_stop;
	int says_known = in->insurer_says != ZS_STATUS_UNKNOWN &&
	                 in->provider_says != ZS_STATUS_UNKNOWN &&
	                 (unsigned)in->insurer_says <= ZS_STATUS_ENDED &&
	                 (unsigned)in->provider_says <= ZS_STATUS_ENDED;
	char ikey[48], pkey[48];
	if (says_known) {
		snprintf(ikey, sizeof ikey, "says.%s", zs_status_code(in->insurer_says));
		snprintf(pkey, sizeof pkey, "says.%s", zs_status_code(in->provider_says));
		vars[8].value = ph(ikey, lang);
		vars[9].value = ph(pkey, lang);
	}

	/* Presentation: the one visual state of this answer (docs/consequence.md). */
	const char *pres;
	if (in->conflict)
		pres = "conflict";
	else if (contracted_like && stop_now)
		pres = "contracted_patient_stop";
	else if (contracted_like)
		pres = st == ZS_STATUS_NEGOTIATING ? "negotiating" : "contracted";
	else if (st == ZS_STATUS_NEGOTIATING)
		pres = "negotiating";
	else if (st == ZS_STATUS_NOT_CONTRACTED)
		pres = "not_contracted";
	else if (st == ZS_STATUS_ENDED)
		pres = "ended";
	else
		pres = "unknown";
	char pres_key[64];
	snprintf(pres_key, sizeof pres_key, "presentation.%s", pres);

	/* Summary text: status, reimbursement, example, deductible. */
	const char *skey = "status.unknown";
	switch (st) {
	case ZS_STATUS_CONTRACTED:
	case ZS_STATUS_CONTRACTED_CEILING:
		skey = "status.contracted";
		break;
	case ZS_STATUS_NEGOTIATING:
		skey = "status.negotiating";
		break;
	case ZS_STATUS_NOT_CONTRACTED:
		skey = "status.not_contracted";
		break;
	case ZS_STATUS_ENDED:
		skey = "status.ended";
		break;
	case ZS_STATUS_UNKNOWN:
		break;
	}
	if (in->conflict)
		skey = says_known ? "status.conflict" : "status.conflict_unspecified";
	else if (contracted_like && stop_now && st != ZS_STATUS_NEGOTIATING)
		skey = vars[5].value ? "status.contracted_stop_until" : "status.contracted_stop";
	sentence(&text, skey, lang, vars, nv);
	char rkey[64];
	if (code == C_AS_CONTRACTED && st == ZS_STATUS_NEGOTIATING)
		snprintf(rkey, sizeof rkey, "reimb.negotiating_as_contracted");
	else
		snprintf(rkey, sizeof rkey, "reimb.%s", ccode_names[code]);
	sentence(&text, rkey, lang, vars, nv);
	if (code == C_UNKNOWN && rule_p100 >= 0)
		sentence(&text, rule_p100 == 10000 ? "reimb.unknown_fallback_full"
						   : "reimb.unknown_fallback_partial",
			 lang, vars, nv);
	if (example) {
		sentence(&text, "example.text", lang, vars, nv);
		if (strcmp(basis ? basis : "", "contracted_tariff") != 0)
			sentence(&text, "example.caveat", lang, vars, nv);
	}
	int ded = deductible_applies(ct);
	sentence(&text, ded ? "deductible.applies" : "deductible.exempt", lang, vars, nv);

	/* Warnings. A conflict is said once, in the summary text (presentation "conflict"), not
	 * as an answer plus a doubt. */
	if (!fail && in->provider_only)
		fail |= note(warnings, &tmp, "provider_reported", "warning.provider_reported", lang,
			     vars, nv);
	if (!fail && st == ZS_STATUS_NEGOTIATING)
		fail |= note(warnings, &tmp, "may_change", "warning.may_change", lang, vars, nv);
	if (!fail && (st == ZS_STATUS_CONTRACTED_CEILING || in->ceiling) && !in->ceiling_exempt &&
	    (st == ZS_STATUS_CONTRACTED || st == ZS_STATUS_CONTRACTED_CEILING ||
	     st == ZS_STATUS_NEGOTIATING)) {
		/* An exemption that depends on a situation the caller did not ask about: the warning
		 * stays, and says the exemption. */
		sb_reset(&tmp);
		render(&tmp, ph("warning.ceiling", lang), vars, nv);
		if (in->exempt_if_acute)
			sentence(&tmp, "warning.ceiling_not_acute", lang, vars, nv);
		if (in->exempt_if_in_treatment && !in->treatment_in_progress)
			sentence(&tmp, "warning.ceiling_not_in_treatment", lang, vars, nv);
		fail |= tmp.oom || add_item(warnings, "ceiling", sb_str(&tmp));
	}
	if (!fail && stop_applies) {
		const char *key, *wcode = "patient_stop";
		if (in->patient_stop && strcmp(skey, "status.contracted_stop_until") != 0 &&
		    strcmp(skey, "status.contracted_stop") != 0)
			key = vars[5].value ? "warning.patient_stop_until" : "warning.patient_stop";
		else if (in->patient_stop) /* the status sentence said the stop: only what to do */
			key = "warning.patient_stop_mediation";
		else {
			wcode = "patient_stop_announced";
			key = vars[5].value ? "warning.patient_stop_announced_until"
			                    : "warning.patient_stop_announced";
			if (!vars[7].value) /* an announced stop without a readable date */
				key = "warning.patient_stop";
		}
		sb_reset(&tmp);
		render(&tmp, ph(key, lang), vars, nv);
		if (in->stop_for_ceiling && in->exempt_if_acute)
			sentence(&tmp, "warning.stop_not_acute", lang, vars, nv);
		fail |= tmp.oom || add_item(warnings, wcode, sb_str(&tmp));
	}
	if (!fail && in->stale) {
		int64_t t;
		const char *key = "warning.stale_no_date";
		if (in->stale_since && parse_rfc3339(in->stale_since, &t) == 0) {
			int h, mi;
			char hm[8];
			amsterdam(t, &y, &m, &d, &h, &mi);
			snprintf(hm, sizeof hm, "%02d:%02d", h % 100, mi % 100);
			date_text(&since, y, m, d, hm, lang);
			vars[6].value = sb_str(&since);
			key = "warning.stale";
		}
		fail |= note(warnings, &tmp, "stale", key, lang, vars, nv);
	}

	/* Exceptions. */
	int reduced = code == C_NC_PARTIAL || code == C_NC_NO_RULE ||
		      (code == C_UNKNOWN && rule_p100 != 10000);
	if (!fail && (code == C_EXC_ACUTE || reduced))
		fail |= note(exceptions, &tmp, "acute_care", "exception.acute_care", lang, vars, nv);
	if (!fail && code == C_EXC_GP)
		fail |= note(exceptions, &tmp, "gp_care", "exception.gp_care", lang, vars, nv);
	if (!fail && (code == C_CONTINUITY ||
		      (st == ZS_STATUS_ENDED &&
		       (code == C_NC_PARTIAL || code == C_NC_FULL || code == C_NC_NO_RULE))))
		fail |= note(exceptions, &tmp, "continuity_of_treatment",
			     "exception.continuity_of_treatment", lang, vars, nv);
	if (!fail && reduced)
		fail |= note(exceptions, &tmp, "duty_of_care", "exception.duty_of_care", lang, vars,
			     nv);

	/* Assemble. */
	fail |= text.oom || pct.oom || bas.oom || amt.oom || ins.oom || pat.oom || until.oom ||
		since.oom || from.oom;
	if (!fail) {
		json_t *jp = json_null();
		if (p100 >= 0)
			jp = p100 % 100 == 0 ? json_integer(p100 / 100) : json_real((double)p100 / 100.0);
		fail |= json_object_set_new(out, "code", json_string(ccode_names[code]));
		fail |= json_object_set_new(out, "reimbursed_percent", jp);
		fail |= json_object_set_new(out, "basis", basis ? json_string(basis) : json_null());
		fail |= json_object_set_new(out, "deductible_applies", json_boolean(ded));
		/* the deductible sentence of text on its own, so that a page listing several care
		 * types can say it once per policy instead of on every card */
		fail |= json_object_set_new(out, "deductible_text", json_string(
		                                    ph(ded ? "deductible.applies" : "deductible.exempt", lang)));
		if (example) {
			fail |= json_object_set_new(out, "example", example);
			example = NULL;
		}
		fail |= json_object_set(out, "warnings", warnings);
		fail |= json_object_set(out, "exceptions", exceptions);
		fail |= json_object_set_new(out, "text", json_string(sb_str(&text)));
		fail |= json_object_set_new(out, "presentation", json_string(pres));
		fail |= json_object_set_new(out, "headline", json_string(ph(pres_key, lang)));
		fail |= json_object_set_new(out, "lang", json_string(lang));
	}

	json_decref(example);
	json_decref(warnings);
	json_decref(exceptions);
	free(text.s);
	free(tmp.s);
	free(pct.s);
	free(bas.s);
	free(amt.s);
	free(ins.s);
	free(pat.s);
	free(until.s);
	free(since.s);
	free(from.s);
	if (fail) {
		json_decref(out);
		return NULL;
	}
	return out;
}
