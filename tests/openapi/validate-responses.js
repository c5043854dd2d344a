#!/usr/bin/env node
// Validate real answers of zorgstatusd against docs/openapi.json with Ajv (JSON Schema 2020-12,
// strict mode, ajv-formats): status declared for the operation, required headers present and
// valid, no body and no Content-Type on 204/304, the JSON body valid against the declared schema.
// Every JSON body of a described operation is also given to openapi-response-validator (the
// validator of express-openapi / openapi-framework, with the operation's responses dereferenced
// as those frameworks do), which must accept it too.
//
//   node validate-responses.js DOC DIR     DIR: the JSON files tests/blackbox/harness.py writes
//                                           with ZS_DUMP_RESPONSES=DIR (one answer each)
//
// A path the document does not describe is checked only when it answers 404 or 405 (the Error
// shape, "every error is JSON"); other answers there (static widget files, /metrics) are counted
// as skipped.  Prints failures, then "N passed, N failed, N skipped"; exit 1 on any failure.
"use strict";

const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const OpenAPIResponseValidator = require("openapi-response-validator").default;

const [docPath, dir] = process.argv.slice(2);
if (!docPath || !dir) {
	console.error("usage: validate-responses.js docs/openapi.json DUMP_DIR");
	process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(docPath, "utf8"));
const ROOT = "https://zorgstatus.invalid/openapi.json";

const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: true });
addFormats(ajv);
// OpenAPI's own keywords at the places a schema reference may lead through (the document root
// is registered as a schema so that "#/components/schemas/X" resolves), and the annotation
// extension the document uses on enums.
ajv.addVocabulary(["openapi", "info", "servers", "tags", "paths", "webhooks", "components",
	"x-enumDescriptions"]);
ajv.addSchema(Object.assign({ $id: ROOT }, doc));

const compiled = new Map();
function validator(schema) {
	const text = JSON.stringify(schema).split('"#/').join('"' + ROOT + "#/");
	let v = compiled.get(text);
	if (!v) {
		v = ajv.compile(JSON.parse(text));
		compiled.set(text, v);
	}
	return v;
}

function deref(node) {
	if (!node || typeof node !== "object" || !node.$ref) return node;
	let cur = doc;
	for (const part of node.$ref.slice(2).split("/"))
		cur = cur[part.replace(/~1/g, "/").replace(/~0/g, "~")];
	if (cur === undefined) throw new Error("unresolvable $ref " + node.$ref);
	return deref(cur);
}

const templates = Object.keys(doc.paths).map((t) => ({
	t,
	rx: new RegExp("^" + t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\{[^}]+\\\}/g, "[^/]+") + "$"),
	literal: t.replace(/\{[^}]+\}/g, "").length,
}));

function findTemplate(p) {
	let best = null;
	for (const c of templates)
		if (c.rx.test(p) && (!best || c.literal > best.literal)) best = c;
	return best ? best.t : null;
}

function decodePath(url) {
	const raw = url.split("?")[0];
	try {
		return decodeURIComponent(raw);
	} catch (e) {
		return raw;
	}
}

const orvs = new Map();
function orvFor(templ, method) {
	const key = method + " " + templ;
	let v = orvs.get(key);
	if (!v) {
		const responses = {};
		for (const [code, r] of Object.entries(doc.paths[templ][method].responses))
			responses[code] = deref(r);
		v = new OpenAPIResponseValidator({ responses, components: doc.components });
		orvs.set(key, v);
	}
	return v;
}

function errText(errors) {
	return (errors || []).slice(0, 8)
		.map((e) => `${e.instancePath || "$"} ${e.message}${e.params && e.params.allowedValues ? " " + JSON.stringify(e.params.allowedValues) : ""}${e.params && e.params.additionalProperty ? " (" + e.params.additionalProperty + ")" : ""}`)
		.join("; ");
}

function check(rec) {
	const problems = [];
	const method = rec.method.toLowerCase();
	const p = decodePath(rec.url);
	const templ = findTemplate(p);
	const status = String(rec.status);
	const hdrs = rec.headers || {};
	let resp;
	if (!templ) {
		if (status !== "404" && status !== "405") return { skipped: true };
		resp = status === "405" ? deref(doc.components.responses.MethodNotAllowed)
			: { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
	} else if (!["get", "head", "options"].includes(method) || !doc.paths[templ][method]) {
		// 405, or 413 first when the request brings a body over max_body_kb (info.description)
		if (status === "413") {
			resp = deref(doc.paths[templ].get.responses["413"]);
		} else {
			if (status !== "405") problems.push(`${rec.method} on ${templ} answered ${status}; the document says 405 (or 413)`);
			resp = deref(doc.components.responses.MethodNotAllowed);
		}
	} else {
		const op = doc.paths[templ][method];
		resp = deref(op.responses[status] || op.responses.default);
		if (!resp) {
			problems.push(`status ${status} is not declared for ${method.toUpperCase()} ${templ} (declared: ${Object.keys(op.responses).join(", ")})`);
			return { problems };
		}
	}
	for (const [name, h0] of Object.entries(resp.headers || {})) {
		const h = deref(h0);
		const v = hdrs[name.toLowerCase()];
		if (v === undefined) {
			if (h.required) problems.push(`required header ${name} missing`);
			continue;
		}
		if (h.schema) {
			const vf = validator(h.schema);
			if (!vf(v)) problems.push(`header ${name}: ${JSON.stringify(v)}: ${errText(vf.errors)}`);
		}
	}
	const media = resp.content && resp.content["application/json"];
	const body = rec.body;
	if (status === "204" || status === "304") {
		if (body) problems.push(`${status} with a body`);
		if (hdrs["content-type"] !== undefined) problems.push(`${status} with Content-Type ${hdrs["content-type"]}`);
	} else if (method === "head") {
		if (body) problems.push("HEAD answer with a body");
	} else if (media) {
		if (!String(hdrs["content-type"] || "").startsWith("application/json"))
			problems.push(`Content-Type ${hdrs["content-type"]}, not application/json`);
		let parsed;
		try {
			parsed = JSON.parse(body);
		} catch (e) {
			problems.push(`body is not JSON: ${String(body).slice(0, 100)}`);
			return { problems };
		}
		if (media.schema) {
			const vf = validator(media.schema);
			if (!vf(parsed)) problems.push(`body: ${errText(vf.errors)}`);
		}
		if (templ && doc.paths[templ][method]) {
			const e = orvFor(templ, method).validateResponse(Number(status), parsed);
			if (e) problems.push("openapi-response-validator: " + JSON.stringify(e.errors).slice(0, 400));
		}
	} else if (body) {
		problems.push(`a body, but the document declares none for ${status}`);
	}
	return { problems };
}

let passed = 0, failed = 0, skipped = 0;
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
for (const f of files) {
	let rec;
	try {
		rec = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
	} catch (e) {
		console.log(`FAIL ${f}: unreadable dump: ${e.message}`);
		failed++;
		continue;
	}
	const r = check(rec);
	if (r.skipped) {
		skipped++;
	} else if (r.problems.length) {
		failed++;
		const shown = rec.url.length > 100 ? rec.url.slice(0, 90) + "..." : rec.url;
		console.log(`FAIL ${f}: ${rec.method} ${shown} -> ${rec.status}\n  ${r.problems.join("\n  ")}`);
	} else {
		passed++;
	}
}
console.log(`ajv + openapi-response-validator: ${files.length} answers from ${dir}: ${passed} valid, ${failed} invalid, ${skipped} skipped (paths the document does not describe)`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed || !passed ? 1 : 0);
