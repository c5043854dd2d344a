/* zs_feed.c - v1 feed line parser and validator. */
#include "config.h"
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zs_catalogue.h"
#include "zs_feed.h"
#include "zs_time.h"

static int fail(zs_rec_err *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(zs_rec_err *e, const char *field, const char *fmt, ...)
{
	va_list ap;
	snprintf(e->field, sizeof e->field, "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
	return -1;
}

static int all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int zs_valid_agb(const char *s) { return s && all_digits(s, 8); }
int zs_valid_uzovi(const char *s) { return s && all_digits(s, 4); }

int zs_valid_code(const char *s, size_t maxlen)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > maxlen)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return 0;
	return 1;
}

void zs_rec_clear(zs_rec *rec)
{
	json_decref(rec->json);
	memset(rec, 0, sizeof *rec);
}

/* Optional string field: 0 ok (*out NULL if absent), -1 wrong type. */
static int opt_str(json_t *o, const char *k, const char **out, zs_rec_err *e)
{
	json_t *v = json_object_get(o, k);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(e, k, "must be a string");
	*out = json_string_value(v);
	return 0;
}

static int req_str(json_t *o, const char *k, const char **out, zs_rec_err *e)
{
	if (opt_str(o, k, out, e))
		return -1;
	if (!*out || !**out)
		return fail(e, k, "is required");
	return 0;
}

static int req_year(json_t *o, int *year, zs_rec_err *e)
{
	json_t *v = json_object_get(o, "year");
	if (!v)
		return fail(e, "year", "is required");
	if (!json_is_integer(v) || json_integer_value(v) < 2000 || json_integer_value(v) > 2100)
		return fail(e, "year", "must be a whole number from 2000 to 2100");
	*year = (int)json_integer_value(v);
	return 0;
}

static int opt_time(json_t *o, const char *k, time_t *out, zs_rec_err *e)
{
	const char *s;
	*out = -1;
	if (opt_str(o, k, &s, e))
		return -1;
	if (s && (*out = zs_parse_rfc3339(s)) == (time_t)-1)
		return fail(e, k, "\"%s\" is not an RFC 3339 timestamp", s);
	return 0;
}

static int opt_bool(json_t *o, const char *k, int *out, zs_rec_err *e)
{
	json_t *v = json_object_get(o, k);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(e, k, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int parse_header(zs_feed_kind kind, json_t *o, zs_rec *r, zs_rec_err *e)
{
	const char *fmt;
	json_t *ver = json_object_get(o, "version");
	const char *want = kind == ZS_FEED_INSURER ? "zorgstatus-insurer" : "zorgstatus-provider";
	if (req_str(o, "format", &fmt, e))
		return -1;
	if (strcmp(fmt, want) != 0)
		return fail(e, "format", "expected \"%s\", got \"%s\"", want, fmt);
	if (!json_is_integer(ver))
		return fail(e, "version", "is required and must be a whole number");
	if (json_integer_value(ver) != ZS_FEED_VERSION)
		return fail(e, "version", "version %lld is not supported (this daemon reads %d)",
		            (long long)json_integer_value(ver), ZS_FEED_VERSION);
	if (opt_time(o, "generated_at", &r->generated_at, e))
		return -1;
	if (kind == ZS_FEED_INSURER) {
		json_t *c = json_object_get(o, "concern"), *i = json_object_get(o, "insurer");
		if (!json_is_object(c))
			return fail(e, "concern", "is required (object with id and name)");
		if (!json_is_object(i))
			return fail(e, "insurer", "is required (object with uzovi and name)");
		r->concern_id = json_string_value(json_object_get(c, "id"));
		r->concern_name = json_string_value(json_object_get(c, "name"));
		r->uzovi = json_string_value(json_object_get(i, "uzovi"));
		r->insurer_name = json_string_value(json_object_get(i, "name"));
		if (!r->concern_id)
			return fail(e, "concern.id", "is required");
		if (!r->concern_name)
			return fail(e, "concern.name", "is required");
		if (!r->uzovi)
			return fail(e, "insurer.uzovi", "is required");
		if (!r->insurer_name)
			return fail(e, "insurer.name", "is required");
		if (!zs_valid_code(r->concern_id, 32))
			return fail(e, "concern.id", "\"%s\" must be 1-32 of A-Z a-z 0-9 _ . -", r->concern_id);
		if (!zs_valid_uzovi(r->uzovi))
			return fail(e, "insurer.uzovi", "\"%s\" is not a 4-digit UZOVI code", r->uzovi);
	}
	/* publisher: the display name people know the source by (both formats, optional) */
	json_t *pub = json_object_get(o, "publisher");
	if (pub && !json_is_null(pub)) {
		if (!json_is_object(pub))
			return fail(e, "publisher", "must be an object with a name");
		if (opt_str(pub, "name", &r->publisher, e)) {
			snprintf(e->field, sizeof e->field, "publisher.name");
			return -1;
		}
		if (r->publisher && (!*r->publisher || strlen(r->publisher) > 200))
			return fail(e, "publisher.name", "must be 1-200 characters");
	}
	return 0;
}

static int parse_policy(json_t *o, zs_rec *r, zs_rec_err *e)
{
	const char *kind;
	if (req_str(o, "id", &r->id, e) || req_year(o, &r->year, e) ||
	    req_str(o, "name", &r->name, e) || opt_str(o, "label", &r->label, e) ||
	    req_str(o, "kind", &kind, e))
		return -1;
	if (!zs_valid_code(r->id, 64))
		return fail(e, "id", "\"%s\" must be 1-64 of A-Z a-z 0-9 _ . -", r->id);
	int t = zs_ptype_from_code(kind);
	if (t < 0)
		return fail(e, "kind", "unknown policy type \"%s\" (natura, restitutie, combinatie, budget)",
		            kind);
	r->ptype = (zs_ptype)t;
	r->reimbursement = json_object_get(o, "reimbursement");
	if (!json_is_array(r->reimbursement) || json_array_size(r->reimbursement) == 0)
		return fail(e, "reimbursement", "is required: a non-empty list of rules");
	size_t i;
	json_t *rule;
	json_array_foreach(r->reimbursement, i, rule) {
		char f[64];
		const char *ct = NULL, *basis = NULL;
		json_t *pct = json_object_get(rule, "percent");
		snprintf(f, sizeof f, "reimbursement[%zu]", i);
		if (!json_is_object(rule))
			return fail(e, f, "must be an object");
		if (!json_is_string(json_object_get(rule, "care_type")) ||
		    !json_is_string(json_object_get(rule, "basis")))
			return fail(e, f, "care_type and basis are required strings");
		ct = json_string_value(json_object_get(rule, "care_type"));
		basis = json_string_value(json_object_get(rule, "basis"));
		if (strcmp(ct, "*") != 0 && !zs_care_type_find(ct))
			return fail(e, f, "unknown care type \"%s\"", ct);
		if (!zs_basis_valid(basis))
			return fail(e, f, "unknown basis \"%s\"", basis);
		if (!json_is_number(pct) || json_number_value(pct) < 0 || json_number_value(pct) > 100 ||
		    !isfinite(json_number_value(pct)))
			return fail(e, f, "percent must be a number from 0 to 100");
	}
	return 0;
}

static int parse_provider(json_t *o, zs_rec *r, zs_rec_err *e)
{
	if (req_str(o, "agb", &r->agb, e) || req_str(o, "name", &r->name, e) ||
	    req_str(o, "kind", &r->kind, e) || opt_str(o, "parent", &r->parent, e))
		return -1;
	if (!zs_valid_agb(r->agb))
		return fail(e, "agb", "\"%s\" is not an 8-digit AGB code", r->agb);
	if (!zs_provider_kind_valid(r->kind))
		return fail(e, "kind", "unknown provider kind \"%s\"", r->kind);
	if (strlen(r->name) > 200)
		return fail(e, "name", "longer than 200 characters");
	r->locations = json_object_get(o, "locations");
	if (!r->locations || json_is_null(r->locations)) {
		r->locations = json_array();
		json_object_set_new(o, "locations", r->locations);
	}
	if (!json_is_array(r->locations))
		return fail(e, "locations", "must be a list");
	size_t i;
	json_t *loc;
	json_array_foreach(r->locations, i, loc) {
		char f[64], pc[8];
		const char *postcode, *city;
		size_t n = 0;
		snprintf(f, sizeof f, "locations[%zu].postcode", i);
		if (!json_is_object(loc))
			return fail(e, f, "location must be an object");
		if (!json_is_string(json_object_get(loc, "postcode")))
			return fail(e, f, "is required");
		postcode = json_string_value(json_object_get(loc, "postcode"));
		for (const char *p = postcode; *p && n < 7; p++)
			if (*p != ' ')
				pc[n++] = (char)toupper((unsigned char)*p);
		pc[n] = 0;
		if (n != 6 || !isdigit((unsigned char)pc[0]) || pc[0] == '0' || !isdigit((unsigned char)pc[1]) || !isdigit((unsigned char)pc[2]) || !isdigit((unsigned char)pc[3]) ||
		    !isupper((unsigned char)pc[4]) || !isupper((unsigned char)pc[5]))
			return fail(e, f, "\"%s\" is not a Dutch postcode (1234AB)", postcode);
		json_object_set_new(loc, "postcode", json_string(pc));
		snprintf(f, sizeof f, "locations[%zu].city", i);
		city = json_string_value(json_object_get(loc, "city"));
		if (!city || !*city)
			return fail(e, f, "is required");
	}
	/* optional: other names people use for the provider ("JBZ", "Sophia Kinderziekenhuis") */
	r->aliases = json_object_get(o, "aliases");
	if (json_is_null(r->aliases))
		r->aliases = NULL;
	if (r->aliases && !json_is_array(r->aliases))
		return fail(e, "aliases", "must be a list of names");
	if (json_array_size(r->aliases) > 20)
		return fail(e, "aliases", "at most 20 names");
	json_t *al;
	json_array_foreach(r->aliases, i, al) {
		char f[64];
		snprintf(f, sizeof f, "aliases[%zu]", i);
		if (!json_is_string(al) || !*json_string_value(al))
			return fail(e, f, "must be a non-empty text");
		if (strlen(json_string_value(al)) > 100)
			return fail(e, f, "longer than 100 characters");
	}
	return 0;
}

static int parse_stop(json_t *o, zs_rec *r, zs_rec_err *e)
{
	json_t *s = json_object_get(o, "patient_stop");
	if (!s || json_is_null(s))
		return 0;
	if (!json_is_object(s))
		return fail(e, "patient_stop", "must be an object");
	if (req_str(s, "reason", &r->stop_reason, e) || req_str(s, "from", &r->stop_from, e) ||
	    opt_str(s, "until", &r->stop_until, e) || opt_str(s, "note", &r->stop_note, e)) {
		char f[sizeof e->field + 16];
		snprintf(f, sizeof f, "patient_stop.%s", e->field);
		snprintf(e->field, sizeof e->field, "%.*s", (int)sizeof e->field - 1, f);
		return -1;
	}
	if (strcmp(r->stop_reason, "ceiling_reached") && strcmp(r->stop_reason, "staff_shortage") &&
	    strcmp(r->stop_reason, "other"))
		return fail(e, "patient_stop.reason",
		            "unknown reason \"%s\" (ceiling_reached, staff_shortage, other)", r->stop_reason);
	if (zs_check_date(r->stop_from))
		return fail(e, "patient_stop.from", "\"%s\" is not a date YYYY-MM-DD", r->stop_from);
	if (r->stop_until && zs_check_date(r->stop_until))
		return fail(e, "patient_stop.until", "\"%s\" is not a date YYYY-MM-DD", r->stop_until);
	if (r->stop_until && strcmp(r->stop_until, r->stop_from) < 0)
		return fail(e, "patient_stop.until", "is before from");
	if (r->stop_note && strlen(r->stop_note) > 500)
		return fail(e, "patient_stop.note", "longer than 500 characters");
	return 0;
}

static int parse_status(zs_feed_kind kind, const zs_rec *hdr, json_t *o, zs_rec *r, zs_rec_err *e)
{
	const char *st;
	int nscope = 0;
	static const char *const scope_keys[] = { NULL, "policy", "insurer", "concern" };
	if (req_str(o, "agb", &r->agb, e))
		return -1;
	if (!zs_valid_agb(r->agb))
		return fail(e, "agb", "\"%s\" is not an 8-digit AGB code", r->agb);
	for (int s = ZS_SCOPE_POLICY; s <= ZS_SCOPE_CONCERN; s++) {
		const char *v;
		if (opt_str(o, scope_keys[s], &v, e))
			return -1;
		if (v) {
			nscope++;
			r->scope = (zs_scope)s;
			r->scope_id = v;
		}
	}
	if (nscope != 1)
		return fail(e, "policy", "exactly one of policy, insurer or concern is required");
	if (req_year(o, &r->year, e) || req_str(o, "care_type", &r->care_type, e) ||
	    req_str(o, "status", &st, e))
		return -1;
	if (!zs_care_type_find(r->care_type))
		return fail(e, "care_type", "unknown care type \"%s\"", r->care_type);
	int s = zs_status_from_code(st);
	if (s < 0)
		return fail(e, "status", "unknown status \"%s\"", st);
	r->status = (zs_status)s;
	const char *sk = scope_keys[r->scope];
	if (r->scope == ZS_SCOPE_POLICY && !zs_valid_code(r->scope_id, 64))
		return fail(e, sk, "\"%s\" is not a policy id", r->scope_id);
	if (r->scope == ZS_SCOPE_INSURER && !zs_valid_uzovi(r->scope_id))
		return fail(e, sk, "\"%s\" is not a 4-digit UZOVI code", r->scope_id);
	if (r->scope == ZS_SCOPE_CONCERN && !zs_valid_code(r->scope_id, 32))
		return fail(e, sk, "\"%s\" is not a concern id", r->scope_id);
	if (kind == ZS_FEED_INSURER && hdr) {
		if (r->scope == ZS_SCOPE_INSURER && strcmp(r->scope_id, hdr->uzovi) != 0)
			return fail(e, sk, "\"%s\" is not this feed's insurer %s", r->scope_id, hdr->uzovi);
		if (r->scope == ZS_SCOPE_CONCERN && strcmp(r->scope_id, hdr->concern_id) != 0)
			return fail(e, sk, "\"%s\" is not this feed's concern %s", r->scope_id,
			            hdr->concern_id);
	}
	if (opt_time(o, "said_at", &r->said_at, e))
		return -1;
	/* since: the day the status began according to the source (optional) */
	if (opt_str(o, "since", &r->since_date, e))
		return -1;
	if (r->since_date && zs_check_date(r->since_date))
		return fail(e, "since", "\"%s\" is not a date YYYY-MM-DD", r->since_date);
	if (kind == ZS_FEED_INSURER) {
		if (opt_bool(o, "as_contracted", &r->as_contracted, e))
			return -1;
		if (r->as_contracted && r->status != ZS_STATUS_NEGOTIATING)
			return fail(e, "as_contracted", "only allowed with status negotiating");
		json_t *c = json_object_get(o, "ceiling");
		if (c && !json_is_null(c)) {
			if (!json_is_object(c))
				return fail(e, "ceiling", "must be an object");
			r->ceiling = 1;
			r->ceiling_exempt = json_object_get(c, "exempt");
			if (r->ceiling_exempt && !json_is_array(r->ceiling_exempt))
				return fail(e, "ceiling.exempt", "must be a list of codes");
			size_t i;
			json_t *x;
			json_array_foreach(r->ceiling_exempt, i, x) {
				if (!json_is_string(x) || !zs_ceiling_exempt_valid(json_string_value(x)))
					return fail(e, "ceiling.exempt", "item %zu is not a care type or situation", i);
			}
		}
		if (r->status == ZS_STATUS_CONTRACTED_CEILING)
			r->ceiling = 1;
	}
	return parse_stop(o, r, e);
}

static int parse_similar(json_t *o, zs_rec *r, zs_rec_err *e)
{
	json_t *p = json_object_get(o, "policies");
	if (req_year(o, &r->year, e) || req_str(o, "relation", &r->relation, e))
		return -1;
	if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_string(json_array_get(p, 0)) ||
	    !json_is_string(json_array_get(p, 1)))
		return fail(e, "policies", "must be a list of two policy ids");
	r->pol_a = json_string_value(json_array_get(p, 0));
	r->pol_b = json_string_value(json_array_get(p, 1));
	if (!zs_valid_code(r->pol_a, 64) || !zs_valid_code(r->pol_b, 64))
		return fail(e, "policies", "must be policy ids");
	if (strcmp(r->pol_a, r->pol_b) == 0)
		return fail(e, "policies", "a policy cannot be similar to itself");
	if (strcmp(r->relation, "equal") && strcmp(r->relation, "very_similar"))
		return fail(e, "relation", "must be equal or very_similar, got \"%s\"", r->relation);
	return 0;
}

int zs_feed_parse_line(zs_feed_kind kind, const zs_rec *hdr, const char *line, size_t len,
                       zs_rec *rec, zs_rec_err *err)
{
	json_error_t je;
	const char *type;
	int rc;

	memset(rec, 0, sizeof *rec);
	rec->generated_at = rec->said_at = -1;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
	               line[len - 1] == '\t'))
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 1;
	rec->json = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!rec->json)
		return fail(err, "(line)", "invalid JSON at column %d: %s", je.column, je.text);
	if (!json_is_object(rec->json)) {
		zs_rec_clear(rec);
		return fail(err, "(line)", "must be a JSON object");
	}
	if (req_str(rec->json, "type", &type, err)) {
		zs_rec_clear(rec);
		return -1;
	}
	if (!hdr && strcmp(type, "header") != 0) {
		fail(err, "type", "the first line must be the header, got \"%.40s\"", type);
		zs_rec_clear(rec); /* type points into rec->json: format the message first */
		return -1;
	}
	if (strcmp(type, "header") == 0) {
		rec->type = ZS_REC_HEADER;
		rc = hdr ? fail(err, "type", "a second header") : parse_header(kind, rec->json, rec, err);
	} else if (strcmp(type, "policy") == 0) {
		rec->type = ZS_REC_POLICY;
		rc = kind == ZS_FEED_INSURER ? parse_policy(rec->json, rec, err)
		                             : fail(err, "type", "policy records belong in insurer feeds");
	} else if (strcmp(type, "provider") == 0) {
		rec->type = ZS_REC_PROVIDER;
		rc = parse_provider(rec->json, rec, err);
	} else if (strcmp(type, "status") == 0) {
		rec->type = ZS_REC_STATUS;
		rc = parse_status(kind, hdr, rec->json, rec, err);
	} else if (strcmp(type, "similar") == 0) {
		rec->type = ZS_REC_SIMILAR;
		rc = kind == ZS_FEED_INSURER ? parse_similar(rec->json, rec, err)
		                             : fail(err, "type", "similar records belong in insurer feeds");
	} else if (strcmp(type, "end") == 0) {
		json_t *n = json_object_get(rec->json, "records");
		rec->type = ZS_REC_END;
		if (!json_is_integer(n) || json_integer_value(n) < 0)
			rc = fail(err, "records", "the trailer needs the record count");
		else {
			rec->count = (long)json_integer_value(n);
			rc = 0;
		}
	} else {
		rc = fail(err, "type", "unknown record type \"%s\"", type);
	}
	if (rc)
		zs_rec_clear(rec);
	return rc;
}

long zs_feed_read_line(FILE *f, char **buf, size_t *cap, size_t max)
{
	size_t n = 0;
	int c, too_long = 0;
	while ((c = getc_unlocked(f)) != EOF) {
		if (!too_long) {
			if (n + 2 > *cap) {
				size_t ncap = *cap ? *cap * 2 : 4096;
				if (ncap > max + 2)
					ncap = max + 2;
				char *nb = realloc(*buf, ncap);
				if (!nb)
					return -1;
				*buf = nb;
				*cap = ncap;
			}
			(*buf)[n++] = (char)c;
			if (n > max)
				too_long = 1; /* keep reading, keep nothing */
		}
		if (c == '\n')
			break;
	}
	if (ferror(f))
		return -1;
	if (too_long)
		return -2;
	if (*buf)
		(*buf)[n] = 0;
	return (long)n;
}

static int key_str(json_t *o, const char *k, char *out, size_t outlen)
{
	const char *v = json_string_value(json_object_get(o, k));
	if (!v || !*v || strlen(v) >= outlen)
		return 0;
	memcpy(out, v, strlen(v) + 1);
	return 1;
}

int zs_feed_line_key(const char *line, size_t len, zs_rec_key *key)
{
	json_t *o = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(o, "type"));
	json_t *y = json_object_get(o, "year");
	int ok = 0;
	memset(key, 0, sizeof *key);
	if (!json_is_object(o) || !type)
		goto out;
	if (json_is_integer(y) && json_integer_value(y) >= 2000 && json_integer_value(y) <= 2100)
		key->year = (int)json_integer_value(y);
	if (strcmp(type, "provider") == 0) {
		key->type = ZS_REC_PROVIDER;
		ok = key_str(o, "agb", key->agb, sizeof key->agb) && zs_valid_agb(key->agb);
	} else if (strcmp(type, "policy") == 0) {
		key->type = ZS_REC_POLICY;
		ok = key->year && key_str(o, "id", key->scope_id, sizeof key->scope_id) &&
		     zs_valid_code(key->scope_id, 64);
	} else if (strcmp(type, "status") == 0) {
		static const char *const sk[] = { NULL, "policy", "insurer", "concern" };
		int nscope = 0;
		key->type = ZS_REC_STATUS;
		for (int s = ZS_SCOPE_POLICY; s <= ZS_SCOPE_CONCERN; s++)
			if (json_object_get(o, sk[s])) {
				nscope++;
				key->scope = (zs_scope)s;
			}
		ok = nscope == 1 && key->year && key_str(o, "agb", key->agb, sizeof key->agb) &&
		     zs_valid_agb(key->agb) &&
		     key_str(o, sk[key->scope], key->scope_id, sizeof key->scope_id) &&
		     zs_valid_code(key->scope_id, 64) &&
		     key_str(o, "care_type", key->care_type, sizeof key->care_type) &&
		     zs_care_type_find(key->care_type) != NULL;
	}
out:
	json_decref(o);
	return ok;
}
