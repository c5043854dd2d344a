/* test_feed.c - unit tests of the v1 feed line parser (zs_feed.h).
 * Every expected value is written by hand from feeds/README.md ("feed formats, version 1"),
 * not taken from program output. Lines are written with ' for " (see testutil.h). */
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zs_feed.h"
#include "zs_readahead.h"
#include "zs_time.h"
#include "zs_util.h"

#define INS ZS_FEED_INSURER
#define PRV ZS_FEED_PROVIDER

#define INS_HDR "{'type':'header','format':'zorgstatus-insurer','version':1," \
	"'generated_at':'2026-11-12T06:00:00+01:00','concern':{'id':'achmea','name':'Achmea'}," \
	"'insurer':{'uzovi':'3311','name':'Zilveren Kruis Zorgverzekeringen N.V.'}}"
#define PRV_HDR "{'type':'header','format':'zorgstatus-provider','version':1," \
	"'generated_at':'2026-11-12T08:00:00+01:00','publisher':{'name':'St. Antonius Zorggroep'}}"

/* 2026-11-12T06:00:00+01:00 = 2026-11-12T05:00:00Z. Days 1970-01-01..2026-01-01: 56*365 + 14
 * leap days = 20454; 1 Jan .. 12 Nov 2026 = 304 + 11 = 315 days: 20769 * 86400 + 5 * 3600. */
#define T_2026_11_12_0500Z 1794459600LL
/* 2026-11-10T09:00:00+01:00 = 2026-11-10T08:00:00Z = 20767 * 86400 + 8 * 3600. */
#define T_2026_11_10_0800Z 1794297600LL

static zs_rec hdr_ins, hdr_prv;

static int parse_kind(zs_feed_kind kind, const zs_rec *hdr, const char *sq, zs_rec *rec,
                      zs_rec_err *err)
{
	char *l = tu_q(sq);
	memset(err, 0, sizeof *err);
	int rc = zs_feed_parse_line(kind, hdr, l, strlen(l), rec, err);
	free(l);
	return rc;
}

/* Parse a record line of an insurer feed (with the insurer header) and expect success. */
static void ok_ins(const char *sq, zs_rec *rec)
{
	zs_rec_err err;
	int rc = parse_kind(INS, &hdr_ins, sq, rec, &err);
	ck_assert_msg(rc == 0, "expected ok, got %d: field %s: %s", rc, err.field, err.reason);
}

static void ok_prv(const char *sq, zs_rec *rec)
{
	zs_rec_err err;
	int rc = parse_kind(PRV, &hdr_prv, sq, rec, &err);
	ck_assert_msg(rc == 0, "expected ok, got %d: field %s: %s", rc, err.field, err.reason);
}

/* Expect a record error with this field and a reason containing fragment. */
static void bad(zs_feed_kind kind, const zs_rec *hdr, const char *sq, const char *field,
                const char *fragment)
{
	zs_rec rec;
	zs_rec_err err;
	int rc = parse_kind(kind, hdr, sq, &rec, &err);
	ck_assert_msg(rc == -1, "expected -1 for %s, got %d", sq, rc);
	ck_assert_str_eq(err.field, field);
	tu_assert_contains(err.reason, fragment);
	ck_assert_ptr_null(rec.json); /* the record is cleared on error */
}
#define BAD_INS(line, field, frag) bad(INS, &hdr_ins, line, field, frag)
#define BAD_PRV(line, field, frag) bad(PRV, &hdr_prv, line, field, frag)

static void setup(void)
{
	zs_rec_err err;
	ck_assert_int_eq(zs_time_init(), 0);
	ck_assert_int_eq(parse_kind(INS, NULL, INS_HDR, &hdr_ins, &err), 0);
	ck_assert_int_eq(parse_kind(PRV, NULL, PRV_HDR, &hdr_prv, &err), 0);
}

static void teardown(void)
{
	zs_rec_clear(&hdr_ins);
	zs_rec_clear(&hdr_prv);
}

/* ---- header ------------------------------------------------------------------------------ */

START_TEST(test_header_good)
{
	ck_assert_int_eq(hdr_ins.type, ZS_REC_HEADER);
	ck_assert_str_eq(hdr_ins.concern_id, "achmea");
	ck_assert_str_eq(hdr_ins.concern_name, "Achmea");
	ck_assert_str_eq(hdr_ins.uzovi, "3311");
	ck_assert_str_eq(hdr_ins.insurer_name, "Zilveren Kruis Zorgverzekeringen N.V.");
	ck_assert_int_eq((long long)hdr_ins.generated_at, T_2026_11_12_0500Z);

	ck_assert_int_eq(hdr_prv.type, ZS_REC_HEADER);
	ck_assert_str_eq(hdr_prv.publisher, "St. Antonius Zorggroep");
	/* 08:00+01:00 = 07:00Z, two hours after the insurer header */
	ck_assert_int_eq((long long)hdr_prv.generated_at, T_2026_11_12_0500Z + 7200);

	/* generated_at is optional */
	zs_rec r;
	zs_rec_err err;
	ck_assert_int_eq(parse_kind(PRV, NULL, "{'type':'header','format':'zorgstatus-provider',"
	                                       "'version':1}", &r, &err), 0);
	ck_assert_int_eq((long long)r.generated_at, -1);
	zs_rec_clear(&r);
}
END_TEST

START_TEST(test_header_bad)
{
	/* an insurer feed must say the insurer format */
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-provider','version':1,"
	               "'concern':{'id':'achmea','name':'Achmea'},"
	               "'insurer':{'uzovi':'3311','name':'ZK'}}", "format", "zorgstatus-insurer");
	bad(PRV, NULL, "{'type':'header','format':'zorgstatus-insurer','version':1}", "format",
	    "zorgstatus-provider");
	bad(INS, NULL, "{'type':'header','version':1,'concern':{'id':'achmea','name':'Achmea'},"
	               "'insurer':{'uzovi':'3311','name':'ZK'}}", "format", "required");
	/* a version greater than 1 is rejected */
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-insurer','version':2,"
	               "'concern':{'id':'achmea','name':'Achmea'},"
	               "'insurer':{'uzovi':'3311','name':'ZK'}}", "version", "not supported");
	bad(PRV, NULL, "{'type':'header','format':'zorgstatus-provider','version':2}", "version",
	    "2");
	bad(PRV, NULL, "{'type':'header','format':'zorgstatus-provider'}", "version", "required");
	/* insurer header: concern and insurer are who speaks */
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-insurer','version':1,"
	               "'insurer':{'uzovi':'3311','name':'ZK'}}", "concern", "required");
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-insurer','version':1,"
	               "'concern':{'id':'achmea','name':'Achmea'}}", "insurer", "required");
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-insurer','version':1,"
	               "'concern':{'id':'achmea','name':'Achmea'},"
	               "'insurer':{'uzovi':'331','name':'ZK'}}", "insurer.uzovi", "331");
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-insurer','version':1,"
	               "'concern':{'id':'ach mea','name':'Achmea'},"
	               "'insurer':{'uzovi':'3311','name':'ZK'}}", "concern.id", "ach mea");
	bad(INS, NULL, "{'type':'header','format':'zorgstatus-insurer','version':1,"
	               "'generated_at':'12-11-2026','concern':{'id':'achmea','name':'Achmea'},"
	               "'insurer':{'uzovi':'3311','name':'ZK'}}", "generated_at", "12-11-2026");
	/* there is only one header */
	BAD_INS(INS_HDR, "type", "second header");
}
END_TEST

START_TEST(test_first_line_header)
{
	/* the first line must be the header; the reason names what came instead */
	bad(INS, NULL, "{'type':'end','records':0}", "type", "header");
	bad(PRV, NULL, "{'type':'status','agb':'06010101','concern':'achmea','year':2027,"
	               "'care_type':'hospital','status':'contracted'}", "type", "status");
}
END_TEST

/* ---- policy ------------------------------------------------------------------------------ */

START_TEST(test_policy_good)
{
	zs_rec r;
	ok_ins("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis Zeker',"
	       "'label':'Zilveren Kruis','kind':'natura','reimbursement':["
	       "{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'},"
	       "{'care_type':'mental_health','percent':62.5,'basis':'avg_contracted_tariff'}],"
	       "'future_field':{'x':1}}", &r);
	ck_assert_int_eq(r.type, ZS_REC_POLICY);
	ck_assert_str_eq(r.id, "3311-BASIS");
	ck_assert_int_eq(r.year, 2027);
	ck_assert_str_eq(r.name, "Basis Zeker");
	ck_assert_str_eq(r.label, "Zilveren Kruis");
	ck_assert_int_eq(r.ptype, ZS_PTYPE_NATURA);
	ck_assert_int_eq(json_array_size(r.reimbursement), 2);
	zs_rec_clear(&r);

	ok_ins("{'type':'policy','id':'3311-EXCL','year':2027,'name':'Exclusief',"
	       "'kind':'restitutie','reimbursement':["
	       "{'care_type':'*','percent':100,'basis':'market_tariff'}]}", &r);
	ck_assert_int_eq(r.ptype, ZS_PTYPE_RESTITUTIE);
	ck_assert_ptr_null(r.label); /* label is optional */
	zs_rec_clear(&r);

	ok_ins("{'type':'policy','id':'3311-C','year':2027,'name':'Combi','kind':'combinatie',"
	       "'reimbursement':[{'care_type':'*','percent':0,'basis':'statutory_max_tariff'}]}", &r);
	ck_assert_int_eq(r.ptype, ZS_PTYPE_COMBINATIE);
	zs_rec_clear(&r);
	ok_ins("{'type':'policy','id':'3311-B','year':2027,'name':'Budget','kind':'budget',"
	       "'reimbursement':[{'care_type':'*','percent':65,'basis':'avg_contracted_tariff'}]}", &r);
	ck_assert_int_eq(r.ptype, ZS_PTYPE_BUDGET);
	zs_rec_clear(&r);
}
END_TEST

START_TEST(test_policy_bad)
{
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natuur',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'}]}",
	        "kind", "natuur");
	/* percent is 0-100; the field names the rule's index */
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'},"
	        "{'care_type':'ggz','percent':120,'basis':'avg_contracted_tariff'}]}",
	        "reimbursement[1]", "ggz");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'avg_contracted_tariff'},"
	        "{'care_type':'mental_health','percent':120,'basis':'avg_contracted_tariff'}]}",
	        "reimbursement[1]", "percent");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':-1,'basis':'avg_contracted_tariff'}]}",
	        "reimbursement[0]", "percent");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':'75','basis':'avg_contracted_tariff'}]}",
	        "reimbursement[0]", "percent");
	/* unknown care type and basis in a reimbursement rule */
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'dentistry','percent':75,'basis':'market_tariff'}]}",
	        "reimbursement[0]", "dentistry");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'list_price'}]}",
	        "reimbursement[0]", "list_price");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[]}", "reimbursement", "");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura'}",
	        "reimbursement", "");
	/* year 2000-2100, id pattern, name required */
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':1999,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'market_tariff'}]}",
	        "year", "2000");
	BAD_INS("{'type':'policy','id':'3311 BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'market_tariff'}]}",
	        "id", "3311 BASIS");
	BAD_INS("{'type':'policy','id':'3311-BASIS','year':2027,'kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'market_tariff'}]}",
	        "name", "required");
	/* policy records belong in insurer feeds */
	BAD_PRV("{'type':'policy','id':'3311-BASIS','year':2027,'name':'Basis','kind':'natura',"
	        "'reimbursement':[{'care_type':'*','percent':75,'basis':'market_tariff'}]}",
	        "type", "insurer");
}
END_TEST

/* ---- provider ---------------------------------------------------------------------------- */

START_TEST(test_provider_good)
{
	zs_rec r;
	ok_ins("{'type':'provider','agb':'06010101','name':'Sint Antonius Ziekenhuis',"
	       "'kind':'hospital','parent':'St. Antonius Zorggroep','locations':["
	       "{'street':'Koekoekslaan 1','postcode':'3435 cm','city':'Nieuwegein'},"
	       "{'street':'Soestwetering 1','postcode':'3543AZ','city':'Utrecht'}]}", &r);
	ck_assert_int_eq(r.type, ZS_REC_PROVIDER);
	ck_assert_str_eq(r.agb, "06010101");
	ck_assert_str_eq(r.name, "Sint Antonius Ziekenhuis");
	ck_assert_str_eq(r.kind, "hospital");
	ck_assert_str_eq(r.parent, "St. Antonius Zorggroep");
	ck_assert_int_eq(json_array_size(r.locations), 2);
	/* the space is removed and the letters upper-cased */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r.locations, 0),
	                                                   "postcode")), "3435CM");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r.locations, 1),
	                                                   "postcode")), "3543AZ");
	zs_rec_clear(&r);

	/* parent optional; provider records also in provider feeds */
	ok_prv("{'type':'provider','agb':'47470001','name':'Buurtzorg Zuidoost',"
	       "'kind':'district_nursing','locations':[{'postcode':'5611 AB','city':'Eindhoven'}]}",
	       &r);
	ck_assert_ptr_null(r.parent);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r.locations, 0),
	                                                   "postcode")), "5611AB");
	zs_rec_clear(&r);
}
END_TEST

START_TEST(test_provider_bad)
{
	BAD_INS("{'type':'provider','agb':'123','name':'X','kind':'hospital','locations':[]}",
	        "agb", "123");
	BAD_INS("{'type':'provider','agb':'0601010A','name':'X','kind':'hospital'}", "agb",
	        "0601010A");
	BAD_INS("{'type':'provider','agb':'06010101','name':'X','kind':'dentist'}", "kind",
	        "dentist");
	BAD_INS("{'type':'provider','agb':'06010101','kind':'hospital'}", "name", "required");
	/* postcode: 4 digits and 2 letters */
	BAD_INS("{'type':'provider','agb':'06010101','name':'X','kind':'hospital','locations':["
	        "{'postcode':'343CM','city':'Nieuwegein'}]}", "locations[0].postcode", "343CM");
	BAD_INS("{'type':'provider','agb':'06010101','name':'X','kind':'hospital','locations':["
	        "{'postcode':'3435CM','city':'Nieuwegein'},"
	        "{'postcode':'3435-CM','city':'Nieuwegein'}]}", "locations[1].postcode", "3435-CM");
	BAD_INS("{'type':'provider','agb':'06010101','name':'X','kind':'hospital','locations':["
	        "{'postcode':'3435C1','city':'Nieuwegein'}]}", "locations[0].postcode", "3435C1");
	BAD_PRV("{'type':'provider','agb':'06010101','name':'X','kind':'hospital','locations':["
	        "{'postcode':'CM3435','city':'Nieuwegein'}]}", "locations[0].postcode", "CM3435");
	BAD_PRV("{'type':'provider','agb':'06010101','name':'X','kind':'hospital','locations':["
	        "{'postcode':'3435 CMX','city':'Nieuwegein'}]}", "locations[0].postcode", "3435 CMX");
}
END_TEST

/* ---- status ------------------------------------------------------------------------------ */

START_TEST(test_status_good)
{
	zs_rec r;
	ok_ins("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	       "'care_type':'hospital','status':'negotiating','as_contracted':true,"
	       "'said_at':'2026-11-10T09:00:00+01:00'}", &r);
	ck_assert_int_eq(r.type, ZS_REC_STATUS);
	ck_assert_str_eq(r.agb, "06010101");
	ck_assert_int_eq(r.scope, ZS_SCOPE_POLICY);
	ck_assert_str_eq(r.scope_id, "3311-BASIS");
	ck_assert_int_eq(r.year, 2027);
	ck_assert_str_eq(r.care_type, "hospital");
	ck_assert_int_eq(r.status, ZS_STATUS_NEGOTIATING);
	ck_assert_int_eq(r.as_contracted, 1);
	ck_assert_int_eq(r.ceiling, 0);
	ck_assert_ptr_null(r.stop_from);
	ck_assert_int_eq((long long)r.said_at, T_2026_11_10_0800Z);
	zs_rec_clear(&r);

	/* insurer scope equal to the header's UZOVI; ceiling with exemptions */
	ok_ins("{'type':'status','agb':'06010101','insurer':'3311','year':2027,"
	       "'care_type':'mental_health','status':'contracted_ceiling',"
	       "'ceiling':{'exempt':['acute','treatment_in_progress','acute_maternity']}}", &r);
	ck_assert_int_eq(r.scope, ZS_SCOPE_INSURER);
	ck_assert_str_eq(r.scope_id, "3311");
	ck_assert_int_eq(r.status, ZS_STATUS_CONTRACTED_CEILING);
	ck_assert_int_eq(r.ceiling, 1);
	ck_assert_int_eq(json_array_size(r.ceiling_exempt), 3);
	ck_assert_str_eq(json_string_value(json_array_get(r.ceiling_exempt, 1)),
	                 "treatment_in_progress");
	ck_assert_int_eq((long long)r.said_at, -1); /* absent: the caller uses generated_at */
	ck_assert_int_eq(r.as_contracted, 0);
	zs_rec_clear(&r);

	/* concern scope equal to the header's concern; patient stop */
	ok_ins("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	       "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	       "'reason':'staff_shortage','from':'2026-10-01','until':'2027-01-31',"
	       "'note':'Geen nieuwe clienten door personeelstekort'}}", &r);
	ck_assert_int_eq(r.scope, ZS_SCOPE_CONCERN);
	ck_assert_str_eq(r.scope_id, "achmea");
	ck_assert_int_eq(r.status, ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(r.ceiling, 0);
	ck_assert_str_eq(r.stop_reason, "staff_shortage");
	ck_assert_str_eq(r.stop_from, "2026-10-01");
	ck_assert_str_eq(r.stop_until, "2027-01-31");
	ck_assert_str_eq(r.stop_note, "Geen nieuwe clienten door personeelstekort");
	zs_rec_clear(&r);

	/* until is optional and may equal from */
	ok_ins("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	       "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	       "'reason':'ceiling_reached','from':'2026-10-01'}}", &r);
	ck_assert_str_eq(r.stop_reason, "ceiling_reached");
	ck_assert_ptr_null(r.stop_until);
	ck_assert_ptr_null(r.stop_note);
	zs_rec_clear(&r);
	ok_ins("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	       "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	       "'reason':'other','from':'2026-10-01','until':'2026-10-01'}}", &r);
	zs_rec_clear(&r);

	/* every status code */
	static const struct { const char *code; zs_status st; } codes[] = {
		{ "contracted", ZS_STATUS_CONTRACTED }, { "contracted_ceiling", ZS_STATUS_CONTRACTED_CEILING },
		{ "negotiating", ZS_STATUS_NEGOTIATING }, { "not_contracted", ZS_STATUS_NOT_CONTRACTED },
		{ "ended", ZS_STATUS_ENDED }, { "unknown", ZS_STATUS_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char line[256];
		snprintf(line, sizeof line, "{'type':'status','agb':'06010101','policy':'3311-BASIS',"
		         "'year':2027,'care_type':'gp','status':'%s'}", codes[i].code);
		ok_ins(line, &r);
		ck_assert_int_eq(r.status, codes[i].st);
		zs_rec_clear(&r);
	}
}
END_TEST

START_TEST(test_status_ceiling)
{
	zs_rec r;
	/* contracted_ceiling implies a ceiling even without the object */
	ok_ins("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	       "'care_type':'hospital','status':'contracted_ceiling'}", &r);
	ck_assert_int_eq(r.ceiling, 1);
	ck_assert_ptr_null(r.ceiling_exempt);
	zs_rec_clear(&r);
	/* a ceiling object on a plain contracted status is a ceiling (volume agreement) */
	ok_ins("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	       "'care_type':'hospital','status':'contracted','ceiling':{}}", &r);
	ck_assert_int_eq(r.ceiling, 1);
	zs_rec_clear(&r);
	ok_ins("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	       "'care_type':'hospital','status':'contracted'}", &r);
	ck_assert_int_eq(r.ceiling, 0);
	zs_rec_clear(&r);
	/* exempt lists care type codes and situations only */
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted_ceiling',"
	        "'ceiling':{'exempt':['acute','urgent']}}", "ceiling.exempt", "1");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted_ceiling','ceiling':{'exempt':'acute'}}",
	        "ceiling.exempt", "list");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted_ceiling','ceiling':true}",
	        "ceiling", "object");
}
END_TEST

START_TEST(test_status_scope)
{
	/* exactly one of policy / insurer / concern */
	BAD_INS("{'type':'status','agb':'06010101','year':2027,'care_type':'hospital',"
	        "'status':'contracted'}", "policy", "exactly one");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','insurer':'3311',"
	        "'year':2027,'care_type':'hospital','status':'contracted'}", "policy", "exactly one");
	BAD_INS("{'type':'status','agb':'06010101','insurer':'3311','concern':'achmea',"
	        "'year':2027,'care_type':'hospital','status':'contracted'}", "policy", "exactly one");
	BAD_PRV("{'type':'status','agb':'06010101','policy':'3311-BASIS','concern':'achmea',"
	        "'year':2027,'care_type':'hospital','status':'contracted'}", "policy", "exactly one");
	/* insurer feed: the insurer scope is the header's UZOVI, the concern scope its concern */
	BAD_INS("{'type':'status','agb':'06010101','insurer':'9664','year':2027,"
	        "'care_type':'hospital','status':'contracted'}", "insurer", "9664");
	BAD_INS("{'type':'status','agb':'06010101','concern':'cz','year':2027,"
	        "'care_type':'hospital','status':'contracted'}", "concern", "cz");
	BAD_INS("{'type':'status','agb':'06010101','insurer':'33111','year':2027,"
	        "'care_type':'hospital','status':'contracted'}", "insurer", "33111");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311/BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted'}", "policy", "3311/BASIS");
	/* a provider feed may name any insurer or concern */
	zs_rec r;
	ok_prv("{'type':'status','agb':'06010101','insurer':'9664','year':2027,"
	       "'care_type':'hospital','status':'contracted'}", &r);
	ck_assert_int_eq(r.scope, ZS_SCOPE_INSURER);
	ck_assert_str_eq(r.scope_id, "9664");
	zs_rec_clear(&r);
	ok_prv("{'type':'status','agb':'06010101','concern':'cz','year':2027,"
	       "'care_type':'hospital','status':'not_contracted'}", &r);
	ck_assert_int_eq(r.scope, ZS_SCOPE_CONCERN);
	ck_assert_str_eq(r.scope_id, "cz");
	ck_assert_int_eq(r.status, ZS_STATUS_NOT_CONTRACTED);
	zs_rec_clear(&r);
	BAD_PRV("{'type':'status','agb':'06010101','insurer':'966','year':2027,"
	        "'care_type':'hospital','status':'contracted'}", "insurer", "966");
}
END_TEST

START_TEST(test_status_bad)
{
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contractd'}", "status", "unknown status");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contractd'}", "status", "contractd");
	BAD_PRV("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'Contracted'}", "status", "Contracted");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital'}", "status", "required");
	BAD_INS("{'type':'status','agb':'0601010','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted'}", "agb", "0601010");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS',"
	        "'care_type':'hospital','status':'contracted'}", "year", "required");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':'2027',"
	        "'care_type':'hospital','status':'contracted'}", "year", "2000");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2101,"
	        "'care_type':'hospital','status':'contracted'}", "year", "2100");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'dentistry','status':'contracted'}", "care_type", "dentistry");
	/* '*' is a reimbursement default, not a care type of a status */
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'*','status':'contracted'}", "care_type", "*");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted','said_at':'gisteren'}", "said_at",
	        "gisteren");
	/* as_contracted only with negotiating */
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'contracted','as_contracted':true}",
	        "as_contracted", "negotiating");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'not_contracted','as_contracted':true}",
	        "as_contracted", "negotiating");
	BAD_INS("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	        "'care_type':'hospital','status':'negotiating','as_contracted':'yes'}",
	        "as_contracted", "true or false");
	zs_rec r;
	ok_ins("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	       "'care_type':'hospital','status':'contracted','as_contracted':false}", &r);
	ck_assert_int_eq(r.as_contracted, 0);
	zs_rec_clear(&r);
}
END_TEST

START_TEST(test_status_patient_stop)
{
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'reason':'staff_shortage','from':'2026-10-01','until':'2026-09-30'}}",
	        "patient_stop.until", "before");
	BAD_PRV("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'reason':'staff_shortage','from':'2027-01-01','until':'2026-12-31'}}",
	        "patient_stop.until", "before");
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'reason':'staff_shortage','until':'2027-01-31'}}", "patient_stop.from", "required");
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'from':'2026-10-01'}}", "patient_stop.reason", "required");
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'reason':'holiday','from':'2026-10-01'}}", "patient_stop.reason", "holiday");
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'reason':'other','from':'2026-02-29'}}", "patient_stop.from", "2026-02-29");
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':{"
	        "'reason':'other','from':'2026-10-01','until':'2026-13-01'}}", "patient_stop.until",
	        "2026-13-01");
	BAD_INS("{'type':'status','agb':'47470001','concern':'achmea','year':2027,"
	        "'care_type':'district_nursing','status':'contracted','patient_stop':'yes'}",
	        "patient_stop", "object");
}
END_TEST

START_TEST(test_status_provider_feed)
{
	zs_rec r;
	/* as_contracted and ceiling are the insurer's to declare: ignored in provider feeds */
	ok_prv("{'type':'status','agb':'06010101','policy':'3311-BASIS','year':2027,"
	       "'care_type':'hospital','status':'negotiating','as_contracted':true,"
	       "'ceiling':{'exempt':['acute']}}", &r);
	ck_assert_int_eq(r.as_contracted, 0);
	ck_assert_int_eq(r.ceiling, 0);
	ck_assert_ptr_null(r.ceiling_exempt);
	zs_rec_clear(&r);
	ok_prv("{'type':'status','agb':'06010101','concern':'achmea','year':2027,"
	       "'care_type':'hospital','status':'contracted','as_contracted':true,"
	       "'said_at':'2026-11-10T08:00:00Z','patient_stop':{'reason':'ceiling_reached',"
	       "'from':'2026-11-01'}}", &r);
	ck_assert_int_eq(r.status, ZS_STATUS_CONTRACTED);
	ck_assert_int_eq(r.as_contracted, 0);
	ck_assert_int_eq((long long)r.said_at, T_2026_11_10_0800Z);
	ck_assert_str_eq(r.stop_reason, "ceiling_reached");
	ck_assert_str_eq(r.stop_from, "2026-11-01");
	zs_rec_clear(&r);
}
END_TEST

/* ---- similar, end, framing --------------------------------------------------------------- */

START_TEST(test_similar)
{
	zs_rec r;
	ok_ins("{'type':'similar','year':2027,'policies':['3311-BASIS','3311-ZEKER'],"
	       "'relation':'equal'}", &r);
	ck_assert_int_eq(r.type, ZS_REC_SIMILAR);
	ck_assert_int_eq(r.year, 2027);
	ck_assert_str_eq(r.pol_a, "3311-BASIS");
	ck_assert_str_eq(r.pol_b, "3311-ZEKER");
	ck_assert_str_eq(r.relation, "equal");
	zs_rec_clear(&r);
	ok_ins("{'type':'similar','year':2027,'policies':['3311-BASIS','3312-X'],"
	       "'relation':'very_similar'}", &r);
	ck_assert_str_eq(r.relation, "very_similar");
	zs_rec_clear(&r);
	BAD_INS("{'type':'similar','year':2027,'policies':['3311-BASIS','3311-ZEKER'],"
	        "'relation':'same'}", "relation", "same");
	BAD_INS("{'type':'similar','year':2027,'policies':['3311-BASIS'],'relation':'equal'}",
	        "policies", "two");
	BAD_INS("{'type':'similar','year':2027,'policies':['3311-A','3311-B','3311-C'],"
	        "'relation':'equal'}", "policies", "two");
	BAD_INS("{'type':'similar','year':2027,'policies':['3311-BASIS','3311-BASIS'],"
	        "'relation':'equal'}", "policies", "itself");
	BAD_INS("{'type':'similar','policies':['3311-BASIS','3311-ZEKER'],'relation':'equal'}",
	        "year", "required");
	BAD_PRV("{'type':'similar','year':2027,'policies':['3311-BASIS','3311-ZEKER'],"
	        "'relation':'equal'}", "type", "insurer");
}
END_TEST

START_TEST(test_end)
{
	zs_rec r;
	ok_ins("{'type':'end','records':3}", &r);
	ck_assert_int_eq(r.type, ZS_REC_END);
	ck_assert_int_eq(r.count, 3);
	zs_rec_clear(&r);
	ok_prv("{'type':'end','records':0}", &r);
	ck_assert_int_eq(r.type, ZS_REC_END);
	ck_assert_int_eq(r.count, 0);
	zs_rec_clear(&r);
	BAD_INS("{'type':'end'}", "records", "count");
	BAD_INS("{'type':'end','records':-1}", "records", "count");
	BAD_INS("{'type':'end','records':'3'}", "records", "count");
}
END_TEST

START_TEST(test_framing)
{
	zs_rec r;
	zs_rec_err err;
	/* invalid JSON and non-objects */
	BAD_INS("{'type':'status','agb':'06010101',", "(line)", "invalid JSON");
	BAD_INS("not json at all", "(line)", "invalid JSON");
	BAD_INS("['status']", "(line)", "object");
	BAD_INS("42", "(line)", "");
	/* type: required, known */
	BAD_INS("{'agb':'06010101'}", "type", "required");
	BAD_INS("{'type':'tarief','agb':'06010101'}", "type", "tarief");
	BAD_PRV("{'type':'Status','agb':'06010101'}", "type", "Status");
	/* blank lines: nothing to do */
	ck_assert_int_eq(zs_feed_parse_line(INS, &hdr_ins, "", 0, &r, &err), 1);
	ck_assert_int_eq(zs_feed_parse_line(INS, &hdr_ins, "\n", 1, &r, &err), 1);
	ck_assert_int_eq(zs_feed_parse_line(INS, &hdr_ins, "  \t \r\n", 6, &r, &err), 1);
	ck_assert_int_eq(zs_feed_parse_line(INS, NULL, "   \n", 4, &r, &err), 1);
	/* the line need not be NUL-terminated: only len bytes count */
	{
		char *l = tu_q("{'type':'end','records':2}{'type':'end','records':9}");
		size_t len = strlen("{'type':'end','records':2}");
		ck_assert_int_eq(zs_feed_parse_line(INS, &hdr_ins, l, len, &r, &err), 0);
		ck_assert_int_eq(r.count, 2);
		zs_rec_clear(&r);
		free(l);
	}
	/* a trailing newline (and CR) is part of the line as read */
	{
		char *l = tu_q("{'type':'end','records':5}\r\n");
		ck_assert_int_eq(zs_feed_parse_line(INS, &hdr_ins, l, strlen(l), &r, &err), 0);
		ck_assert_int_eq(r.count, 5);
		zs_rec_clear(&r);
		free(l);
	}
}
END_TEST

START_TEST(test_validators)
{
	ck_assert(zs_valid_agb("06010101"));
	ck_assert(zs_valid_agb("47470001"));
	ck_assert(!zs_valid_agb("123"));
	ck_assert(!zs_valid_agb("060101011"));
	ck_assert(!zs_valid_agb("0601010a"));
	ck_assert(!zs_valid_agb(""));
	ck_assert(!zs_valid_agb(NULL));
	ck_assert(zs_valid_uzovi("3311"));
	ck_assert(!zs_valid_uzovi("331"));
	ck_assert(!zs_valid_uzovi("33110"));
	ck_assert(!zs_valid_uzovi("33a1"));
	ck_assert(!zs_valid_uzovi(NULL));
	ck_assert(zs_valid_code("achmea", 32));
	ck_assert(zs_valid_code("3311-BASIS_2.0", 64));
	ck_assert(!zs_valid_code("", 32));
	ck_assert(!zs_valid_code(NULL, 32));
	ck_assert(!zs_valid_code("a b", 32));
	ck_assert(!zs_valid_code("a/b", 32));
	ck_assert(zs_valid_code("abcdefghijklmnopqrstuvwxyz012345", 32));   /* 32 */
	ck_assert(!zs_valid_code("abcdefghijklmnopqrstuvwxyz0123456", 32)); /* 33 */
}
END_TEST

/* max_line_kb: a line longer than the limit is read past (-2), the next one is read whole. */
START_TEST(test_read_line_bounded)
{
	char data[300];
	memset(data, 'x', 200);
	memcpy(data + 200, "\nshort\nlast", 12);
	FILE *f = fmemopen(data, strlen(data), "r");
	char *buf = NULL;
	size_t cap = 0;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(zs_feed_read_line(f, &buf, &cap, 100), -2);
	ck_assert_uint_le(cap, 102);                    /* never held more than the limit */
	ck_assert_int_eq(zs_feed_read_line(f, &buf, &cap, 100), 6);
	ck_assert_str_eq(buf, "short\n");
	ck_assert_int_eq(zs_feed_read_line(f, &buf, &cap, 100), 4);   /* no final newline */
	ck_assert_str_eq(buf, "last");
	ck_assert_int_eq(zs_feed_read_line(f, &buf, &cap, 100), 0);
	fclose(f);
	/* exactly the limit, newline included, is still a line */
	char exact[] = "abcd\n";
	f = fmemopen(exact, 5, "r");
	ck_assert_int_eq(zs_feed_read_line(f, &buf, &cap, 5), 5);
	fclose(f);
	free(buf);
}
END_TEST

/* The key of an invalid record, when readable (a bad row keeps its last good statement). */
START_TEST(test_line_key)
{
	zs_rec_key k;
	const char *st = "{\"type\":\"status\",\"agb\":\"06010001\",\"policy\":\"3311-BASIS\","
	                 "\"year\":2027,\"care_type\":\"hospital\",\"status\":\"contractd\"}";
	ck_assert_int_eq(zs_feed_line_key(st, strlen(st), &k), 1);
	ck_assert_int_eq(k.type, ZS_REC_STATUS);
	ck_assert_str_eq(k.agb, "06010001");
	ck_assert_int_eq(k.year, 2027);
	ck_assert_str_eq(k.care_type, "hospital");
	ck_assert_int_eq(k.scope, ZS_SCOPE_POLICY);
	ck_assert_str_eq(k.scope_id, "3311-BASIS");
	const char *pr = "{\"type\":\"provider\",\"agb\":\"06010001\",\"kind\":\"nope\"}";
	ck_assert_int_eq(zs_feed_line_key(pr, strlen(pr), &k), 1);
	ck_assert_int_eq(k.type, ZS_REC_PROVIDER);
	const char *po = "{\"type\":\"policy\",\"id\":\"3311-BASIS\",\"year\":2027}";
	ck_assert_int_eq(zs_feed_line_key(po, strlen(po), &k), 1);
	ck_assert_str_eq(k.scope_id, "3311-BASIS");
	/* unreadable keys: broken JSON, two scopes, a bad AGB, no year, unknown care type */
	static const char *const bad[] = {
		"{\"type\":\"status\",\"agb\":\"0601",
		"{\"type\":\"status\",\"agb\":\"06010001\",\"policy\":\"P\",\"insurer\":\"3311\","
		"\"year\":2027,\"care_type\":\"hospital\"}",
		"{\"type\":\"status\",\"agb\":\"601\",\"policy\":\"P\",\"year\":2027,"
		"\"care_type\":\"hospital\"}",
		"{\"type\":\"status\",\"agb\":\"06010001\",\"policy\":\"P\",\"care_type\":\"hospital\"}",
		"{\"type\":\"status\",\"agb\":\"06010001\",\"policy\":\"P\",\"year\":2027,"
		"\"care_type\":\"x\"}",
		"{\"type\":\"similar\",\"year\":2027}", "[1,2]", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(zs_feed_line_key(bad[i], strlen(bad[i]), &k) == 0, "case %zu", i);
}
END_TEST

/* zs_util's UTF-8 checks behind the 400s for invalid bytes and the escaped messages. */
START_TEST(test_utf8_escape)
{
	char out[64];
	ck_assert(zs_utf8_valid("caf\xc3\xa9", 5));
	ck_assert(!zs_utf8_valid("\xff", 1));
	ck_assert(!zs_utf8_valid("caf\xc3", 4));              /* cut mid-character */
	ck_assert(!zs_utf8_valid("\xc0\xaf", 2));             /* overlong "/" */
	ck_assert(!zs_utf8_valid("\xed\xa0\x80", 3));         /* a surrogate */
	ck_assert(!zs_utf8_valid("a\0b", 3));                 /* NUL */
	ck_assert_str_eq(zs_escape_text("a\xff" "b", 3, out, sizeof out, 60), "a\\xFFb");
	ck_assert_str_eq(zs_escape_text("x\n", 2, out, sizeof out, 60), "x\\x0A");
	/* cut on a character boundary, never inside the two bytes of U+00E9 */
	ck_assert_str_eq(zs_escape_text("aaa\xc3\xa9", 5, out, sizeof out, 4), "aaa...");
	ck_assert_str_eq(zs_escape_text("aaa\xc3\xa9", 5, out, sizeof out, 5), "aaa\xc3\xa9");
	ck_assert(zs_utf8_valid(out, strlen(out)));
}
END_TEST

/* ---- lines read ahead (zs_readahead.h) --------------------------------------------------- */

#define RA_LINES 1500 /* more lines than the reader holds ahead (16 blocks of 64) */

/* The record lines of an insurer feed after its header: line i (0-based) is a status of AGB
 * 0601<i>, except line 100 (3,000 bytes: longer than max_line 1,024), line 200 (blank) and
 * line 300 (ceiling.exempt is not a list); then the trailer. */
static FILE *ra_feed(void)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < RA_LINES; i++) {
		if (i == 100) {
			fprintf(f, "{\"type\":\"status\",\"note\":\"");
			for (int k = 0; k < 3000; k++)
				fputc('x', f);
			fprintf(f, "\"}\n");
		} else if (i == 200) {
			fputc('\n', f);
		} else if (i == 300) {
			fprintf(f, "{\"type\":\"status\",\"agb\":\"06010300\",\"policy\":\"3311-BASIS\","
			           "\"year\":2027,\"care_type\":\"hospital\",\"status\":\"contracted_ceiling\","
			           "\"ceiling\":{\"exempt\":\"acute\"}}\n");
		} else {
			fprintf(f, "{\"type\":\"status\",\"agb\":\"0601%04d\",\"policy\":\"3311-BASIS\","
			           "\"year\":2027,\"care_type\":\"hospital\",\"status\":\"contracted\"}\n", i);
		}
	}
	fprintf(f, "{\"type\":\"end\",\"records\":%d}\n", RA_LINES - 1);
	rewind(f);
	return f;
}

START_TEST(test_readahead_gives_every_line_in_order)
{
	FILE *f = ra_feed();
	zs_ra *ra = zs_ra_start(f, INS, &hdr_ins, NULL, 1024);
	ck_assert_ptr_nonnull(ra);
	for (int i = 0; i < RA_LINES; i++) {
		zs_ra_line *l = zs_ra_next(ra);
		if (i == 100) {
			ck_assert_int_eq(l->len, -2);
			ck_assert_int_eq(l->parsed, 0);
			continue;
		}
		ck_assert_int_gt(l->len, 0);
		ck_assert_uint_eq(l->lh, zs_incr_hash(l->line, (size_t)l->len));
		ck_assert_int_eq(l->parsed, 1); /* no stored lines: every line is parsed ahead */
		if (i == 200) {
			ck_assert_int_eq(l->prc, 1);
		} else if (i == 300) {
			ck_assert_int_eq(l->prc, -1);
			ck_assert_str_eq(l->rerr.field, "ceiling.exempt");
		} else {
			char agb[16];
			snprintf(agb, sizeof agb, "0601%04d", i);
			ck_assert_msg(l->prc == 0, "line %d: %s: %s", i, l->rerr.field, l->rerr.reason);
			ck_assert_int_eq(l->rec.type, ZS_REC_STATUS);
			ck_assert_str_eq(l->rec.agb, agb);
			ck_assert_int_eq(l->rec.status, ZS_STATUS_CONTRACTED);
		}
	}
	zs_ra_line *end = zs_ra_next(ra);
	ck_assert_int_eq(end->prc, 0);
	ck_assert_int_eq(end->rec.type, ZS_REC_END);
	ck_assert_int_eq(end->rec.count, RA_LINES - 1);
	ck_assert_int_eq(zs_ra_next(ra)->len, 0); /* the end of the file */
	zs_ra_stop(ra);
	fclose(f);
}
END_TEST

/* Long lines (200 KB, under max_line 1 MB): blocks end early on their bytes and big buffers are
 * given back when reused; every line still arrives whole and in order. */
START_TEST(test_readahead_long_lines_whole_and_in_order)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 40; i++) {
		fprintf(f, "{\"i\":%02d,\"pad\":\"", i);
		for (int k = 0; k < 200000 + i; k++)
			fputc('a' + i % 26, f);
		fprintf(f, "\"}\n");
		fprintf(f, "{\"i\":%02d}\n", i); /* a short one between, reusing buffers */
	}
	rewind(f);
	zs_ra *ra = zs_ra_start(f, INS, &hdr_ins, NULL, 1024 * 1024);
	ck_assert_ptr_nonnull(ra);
	for (int i = 0; i < 40; i++) {
		char head[16];
		snprintf(head, sizeof head, "{\"i\":%02d,", i);
		zs_ra_line *l = zs_ra_next(ra);
		ck_assert_int_eq(l->len, 15 + 200000 + i + 3); /* {"i":NN,"pad":" + pad + "}\n */
		ck_assert_int_eq(strncmp(l->line, head, strlen(head)), 0);
		ck_assert_int_eq(l->line[15 + 200000 + i - 1], 'a' + i % 26);
		l = zs_ra_next(ra);
		ck_assert_int_eq(l->len, 9);
		ck_assert_int_eq(strncmp(l->line, head, 7), 0);
	}
	ck_assert_int_eq(zs_ra_next(ra)->len, 0);
	zs_ra_stop(ra);
	fclose(f);
}
END_TEST

/* Stopped after a few lines while the reader is still ahead: it ends and every parse it made is
 * freed (ASan and valgrind runs of the suite see a leak otherwise); the file is the caller's
 * again. */
START_TEST(test_readahead_stopped_early_frees_everything)
{
	FILE *f = ra_feed();
	zs_ra *ra = zs_ra_start(f, INS, &hdr_ins, NULL, 1024);
	ck_assert_ptr_nonnull(ra);
	for (int i = 0; i < 10; i++)
		ck_assert_int_gt(zs_ra_next(ra)->len, 0);
	zs_ra_stop(ra);
	rewind(f);
	char *buf = NULL;
	size_t cap = 0;
	ck_assert_int_gt(zs_feed_read_line(f, &buf, &cap, 1024), 0);
	ck_assert_ptr_nonnull(strstr(buf, "06010000"));
	free(buf);
	fclose(f);
	zs_ra_stop(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("feed");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header_good);
	tcase_add_test(tc, test_header_bad);
	tcase_add_test(tc, test_first_line_header);
	tcase_add_test(tc, test_policy_good);
	tcase_add_test(tc, test_policy_bad);
	tcase_add_test(tc, test_provider_good);
	tcase_add_test(tc, test_provider_bad);
	tcase_add_test(tc, test_status_good);
	tcase_add_test(tc, test_status_ceiling);
	tcase_add_test(tc, test_status_scope);
	tcase_add_test(tc, test_status_bad);
	tcase_add_test(tc, test_status_patient_stop);
	tcase_add_test(tc, test_status_provider_feed);
	tcase_add_test(tc, test_similar);
	tcase_add_test(tc, test_end);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_validators);
	tcase_add_test(tc, test_read_line_bounded);
	tcase_add_test(tc, test_line_key);
	tcase_add_test(tc, test_utf8_escape);
	suite_add_tcase(s, tc);
	TCase *ra = tcase_create("readahead");
	tcase_add_checked_fixture(ra, setup, teardown);
	tcase_add_test(ra, test_readahead_gives_every_line_in_order);
	tcase_add_test(ra, test_readahead_long_lines_whole_and_in_order);
	tcase_add_test(ra, test_readahead_stopped_early_frees_everything);
	suite_add_tcase(s, ra);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
