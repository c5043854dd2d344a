// A small typed client for the zorgstatus API, written the way a comparison site would write
// one: on the types openapi-typescript generates from docs/openapi.json (./generated, made by
// run.sh).  tsc --noEmit must accept it; the type assertions below fail to compile when the
// document loses what issue 14 asked for (no fake operations, a boolean in_treatment, named
// enums, null where the API sends null).
import type { components, paths } from "./generated/zorgstatus";

type Schemas = components["schemas"];
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2)
	? true : false;
function assertType<T extends true>(): T | void {}

// ---- the typed client -------------------------------------------------------------------
type GetOp<P extends keyof paths> = paths[P]["get"];
type Ok<P extends keyof paths> =
	GetOp<P> extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;
type Query<P extends keyof paths> =
	GetOp<P> extends { parameters: { query?: infer Q } } ? Q : never;
type PathParams<P extends keyof paths> =
	paths[P] extends { parameters: { path: infer A } } ? A : Record<string, never>;
type ApiError = Schemas["Error"];

export class ZorgstatusError extends Error {
	constructor(readonly status: number, readonly body: ApiError) {
		super(body.error.message);
	}
}

export async function get<P extends keyof paths>(base: string, template: P,
                                                 pathParams: PathParams<P>,
                                                 query?: Query<P>): Promise<Ok<P>> {
	let url = String(template);
	for (const [k, v] of Object.entries(pathParams as Record<string, string>))
		url = url.replace("{" + k + "}", encodeURIComponent(v));
	const qs = new URLSearchParams();
	for (const [k, v] of Object.entries((query ?? {}) as Record<string, string | number | boolean>))
		qs.set(k, String(v));
	const res = await fetch(base + url + (qs.size ? "?" + qs.toString() : ""),
	                        { headers: { "Accept-Language": "nl" } });
	const body: unknown = await res.json();
	if (!res.ok)
		throw new ZorgstatusError(res.status, body as ApiError);
	return body as Ok<P>;
}

// ---- what a consumer does with it ---------------------------------------------------------
export async function example(base: string): Promise<string[]> {
	const out: string[] = [];
	const prov = await get(base, "/v1/providers/{agb}", { agb: "06010101" },
	                       { year: 2027, in_treatment: true, amount: "8000", lang: "en" });
	for (const y of prov.years)
		for (const p of y.policies)
			for (const s of p.statuses) {
				const status: Schemas["ContractStatus"] = s.status;
				const basis: "confirmed" | "conflict" | "insurer" | "provider_only" | "none" = s.basis;
				const stop = s.flags.patient_stop;
				const until: string | null = stop === null ? null : stop.until;
				const pct: number | null = s.consequence.reimbursed_percent;
				out.push(`${p.policy.id} ${p.policy.type} ${status} ${basis} ${until ?? "-"} ${pct ?? "?"}`);
			}
	const hits = await get(base, "/v1/search", {}, { q: "antonius", limit: 5 });
	for (const h of hits.results) {
		const kind: Schemas["ProviderKind"] | null = h.kind;
		out.push(`${h.agb} ${h.name ?? "?"} ${kind ?? "?"}`);
	}
	const cmp = await get(base, "/v1/compare", {}, { agb: "06010101,04040101", policy_type: "natura" });
	out.push(String(cmp.policies.length));
	const sim = await get(base, "/v1/policies/{id}/similar", { id: "9101-NATURA" }, {});
	out.push(String(sim.similar.length));
	// the change feed: follow the cursor until nothing more follows
	let since = "latest";
	for (let page = 0; page < 10; page++) {
		const ch = await get(base, "/v1/changes", {}, { since, limit: 100 });
		for (const ev of ch.changes) {
			if (ev.type === "status")
				out.push(`${ev.agb} ${ev.policy} ${ev.old?.status ?? "-"} -> ${ev.new?.status ?? "-"}`);
			else
				out.push(`year ${ev.year}: ${ev.type}, read it again`);
		}
		since = ch.next;
		if (!ch.more)
			break;
	}
	return out;
}

// a webhook receiver types the body it gets
export function onWebhook(body: Schemas["WebhookBatch"]): string[] {
	return body.events.map((ev) => ev.cursor);
}

// ---- the contract, as types ----------------------------------------------------------------
type Fake = "post" | "put" | "delete" | "patch" | "trace";
// no fake operations: every path offers GET, HEAD and OPTIONS only
type NoFake<P extends keyof paths> = Equal<paths[P][Fake], undefined>;
assertType<NoFake<"/healthz">>();
assertType<NoFake<"/v1/providers/{agb}">>();
assertType<NoFake<"/v1/providers/{agb}/history">>();
assertType<NoFake<"/v1/status">>();
assertType<NoFake<"/v1/policies">>();
assertType<NoFake<"/v1/policies/{id}/similar">>();
assertType<NoFake<"/v1/feeds">>();
assertType<NoFake<"/v1/search">>();
assertType<NoFake<"/v1/compare">>();
assertType<NoFake<"/v1/openapi.json">>();
assertType<NoFake<"/v1/changes">>();
assertType<NoFake<"/v1/subscribers">>();
assertType<NoFake<"/v1/staff/me">>();
assertType<NoFake<"/v1/staff/providers/{agb}">>();
assertType<NoFake<"/v1/staff/feeds">>();
assertType<NoFake<"/v1/staff/audit">>();
// the change feed: events told apart by type; old/new null for a new / gone status
type Ev = Schemas["ChangeEvent"];
assertType<Equal<Ev["type"], "status" | "year_published" | "year_loaded">>();
assertType<Equal<Schemas["ChangeStatusEvent"]["old"], Schemas["ChangeState"] | null>>();
assertType<Equal<Schemas["WebhookBatch"]["events"][number], Ev>>();
// staff: role, statements' role and overruling rule, the view
assertType<Equal<Schemas["StaffMe"]["role"], "staff" | "admin">>();
assertType<Equal<Schemas["Statement"]["role"], "decides" | "confirms" | "overruled" | "ignored">>();
assertType<Equal<Schemas["Statement"]["overruled_by"], "more_specific" | "later_statement" | "feed_order" | "insurer_decides" | "unknown_ignored" | null>>();
assertType<Equal<Schemas["StaffProviderAnswer"]["view"], "now" | "history">>();
assertType<Equal<PathParams<"/v1/staff/providers/{agb}">, { agb: string }>>();
type E403 = GetOp<"/v1/staff/audit">["responses"][403]["content"]["application/json"];
assertType<Equal<E403, Schemas["Error"]>>();
type E410 = GetOp<"/v1/changes">["responses"][410]["content"]["application/json"];
assertType<Equal<E410, Schemas["Error"]>>();
// path parameters are declared (at path level): agb is a required string
assertType<Equal<PathParams<"/v1/providers/{agb}">, { agb: string }>>();
// in_treatment is a boolean
assertType<Equal<NonNullable<Query<"/v1/providers/{agb}">["in_treatment"]>, boolean>>();
assertType<Equal<NonNullable<Query<"/v1/compare">["in_treatment"]>, boolean>>();
// named enums
assertType<Equal<Schemas["StatusBasis"], "confirmed" | "conflict" | "insurer" | "provider_only" | "none">>();
assertType<Equal<Schemas["PolicyType"], "natura" | "restitutie" | "combinatie" | "budget">>();
assertType<Equal<Schemas["ContractStatus"], "contracted" | "contracted_ceiling" | "negotiating" | "not_contracted" | "ended" | "unknown">>();
assertType<Equal<Schemas["Status"]["status"], Schemas["ContractStatus"]>>();
// null where the API sends null (issue 14: patient_stop)
assertType<Equal<Schemas["Flags"]["patient_stop"], Schemas["PatientStop"] | null>>();
assertType<Equal<Schemas["Provider"]["kind"], Schemas["ProviderKind"] | null>>();
// errors
assertType<Equal<Schemas["Error"]["error"]["code"], Schemas["ErrorCode"]>>();
type E414 = GetOp<"/v1/search">["responses"][414]["content"]["application/json"];
assertType<Equal<E414, Schemas["Error"]>>();
