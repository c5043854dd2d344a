#!/usr/bin/env python3
"""A small validator for the subset of JSON Schema / OpenAPI 3.0.3 that docs/openapi.json uses
(Python 3 standard library only).

Supported keywords: type (object, array, string, integer, number, boolean), properties,
required, additionalProperties (boolean or schema), items, enum, pattern (re.search, as JSON
Schema), minimum, maximum, minLength, maxLength, minItems, maxItems, nullable, oneOf, anyOf,
allOf and $ref (local "#/..." pointers only).  Annotations (description, format, example,
default, title, deprecated, readOnly, writeOnly) are ignored.  Any other keyword is an error
(SchemaError), so the document can never silently rely on a check this validator does not make.

nullable follows OpenAPI 3.0.3: a null instance is valid against a schema with
"nullable": true, whatever its other keywords (this is how "type": "object", "nullable": true,
"oneOf": [{"$ref": ...}] expresses "a referenced object or null").

Also here: helpers the black-box tests share (sample-feed daemon, operation lookup), and a
command line:

    openapi_check.py docs/openapi.json                  # check the document itself
    openapi_check.py docs/openapi.json Schema file.json # validate a JSON file against a schema
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
DOC_PATH = os.path.join(TOP, "docs", "openapi.json")

ANNOTATIONS = {"description", "format", "example", "default", "title", "deprecated",
               "readOnly", "writeOnly", "externalDocs"}
KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "enum",
            "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
            "nullable", "oneOf", "anyOf", "allOf", "$ref"}
TYPES = {"object", "array", "string", "integer", "number", "boolean"}


class SchemaError(Exception):
    """The schema itself is broken or uses an unsupported keyword."""


def load_doc(path=DOC_PATH):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def resolve(doc, ref):
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise SchemaError("only local $ref are supported: %r" % (ref,))
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError("unresolvable $ref %s" % ref)
        node = node[part]
    return node


def _type_ok(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    raise SchemaError("unsupported type %r" % t)


def _short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 80 else s[:77] + "..."


def validate(doc, schema, value, where="$", errors=None, depth=0):
    """Return the list of error strings (empty = valid)."""
    if errors is None:
        errors = []
    if depth > 64:
        raise SchemaError("schema recursion too deep at %s" % where)
    if not isinstance(schema, dict):
        raise SchemaError("schema at %s is not an object" % where)
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise SchemaError("unsupported schema keyword(s) %s at %s" % (sorted(unknown), where))
    if "$ref" in schema:
        if len(set(schema) - ANNOTATIONS) > 1:
            raise SchemaError("$ref with sibling keywords at %s (ignored by OpenAPI 3.0)" % where)
        return validate(doc, resolve(doc, schema["$ref"]), value, where, errors, depth + 1)
    if value is None and schema.get("nullable") is True:
        return errors
    t = schema.get("type")
    if t is not None:
        if t not in TYPES:
            raise SchemaError("unsupported type %r at %s" % (t, where))
        if not _type_ok(t, value):
            errors.append("%s: expected %s%s, got %s" % (
                where, t, " or null" if schema.get("nullable") else "", _short(value)))
            return errors
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %s not one of %s" % (where, _short(value), schema["enum"]))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append("%s: %s does not match %s" % (where, _short(value), schema["pattern"]))
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append("%s: longer than %d" % (where, schema["maxLength"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append("%s: %r below minimum %r" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append("%s: %r above maximum %r" % (where, value, schema["maximum"]))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append("%s: more than %d items" % (where, schema["maxItems"]))
        if "items" in schema:
            for k, item in enumerate(value):
                validate(doc, schema["items"], item, "%s[%d]" % (where, k), errors, depth + 1)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for r in schema.get("required", []):
            if r not in value:
                errors.append("%s: required property %r missing" % (where, r))
        for k, v in value.items():
            if k in props:
                validate(doc, props[k], v, "%s.%s" % (where, k), errors, depth + 1)
            else:
                ap = schema.get("additionalProperties", True)
                if ap is False:
                    errors.append("%s: unexpected property %r" % (where, k))
                elif isinstance(ap, dict):
                    validate(doc, ap, v, "%s.%s" % (where, k), errors, depth + 1)
    for kw in ("allOf", "anyOf", "oneOf"):
        if kw not in schema:
            continue
        subs = schema[kw]
        if not isinstance(subs, list) or not subs:
            raise SchemaError("%s must be a non-empty list at %s" % (kw, where))
        results = [validate(doc, sub, value, where, [], depth + 1) for sub in subs]
        good = sum(1 for r in results if not r)
        if kw == "allOf":
            for r in results:
                errors.extend(r)
        elif kw == "anyOf" and good == 0:
            errors.append("%s: matches none of anyOf: %s" % (where, "; ".join(
                r[0] for r in results)))
        elif kw == "oneOf" and good != 1:
            if good == 0:
                if len(results) == 1:
                    errors.extend(results[0])
                else:
                    errors.append("%s: matches none of oneOf: %s" % (where, "; ".join(
                        r[0] for r in results)))
            else:
                errors.append("%s: matches %d of oneOf (exactly one allowed)" % (where, good))
    return errors


def check(doc, schema, value, where="$"):
    """Raise AssertionError listing every violation (at most 20)."""
    errs = validate(doc, schema, value, where)
    if errs:
        more = "" if len(errs) <= 20 else "\n  ... and %d more" % (len(errs) - 20)
        raise AssertionError("%d schema violation(s):\n  %s%s" % (
            len(errs), "\n  ".join(errs[:20]), more))


# --------------------------------------------------------------------------------------------
# checks of the document itself

METHODS = ("get", "head", "options", "post", "put", "delete", "patch", "trace")


def _walk_schemas(doc, node, where, out):
    """Collect (where, schema) of every schema object reachable in node."""
    if not isinstance(node, dict):
        return
    out.append((where, node))
    for key in ("properties",):
        for k, v in node.get(key, {}).items():
            _walk_schemas(doc, v, "%s.properties.%s" % (where, k), out)
    if isinstance(node.get("items"), dict):
        _walk_schemas(doc, node["items"], where + ".items", out)
    if isinstance(node.get("additionalProperties"), dict):
        _walk_schemas(doc, node["additionalProperties"], where + ".additionalProperties", out)
    for kw in ("oneOf", "anyOf", "allOf"):
        for k, sub in enumerate(node.get(kw, []) or []):
            _walk_schemas(doc, sub, "%s.%s[%d]" % (where, kw, k), out)


def doc_problems(doc):
    """Structural problems of an OpenAPI 3.0.3 document, as a list of strings."""
    probs = []
    if doc.get("openapi") != "3.0.3":
        probs.append("openapi must be 3.0.3")
    for k in ("title", "version"):
        if not isinstance(doc.get("info", {}).get(k), str):
            probs.append("info.%s missing" % k)
    comps = doc.get("components", {})
    schemas = []
    for name, sch in comps.get("schemas", {}).items():
        _walk_schemas(doc, sch, "components.schemas." + name, schemas)
    opids = set()
    refs = []

    def find_refs(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    refs.append((where, v))
                else:
                    find_refs(v, where + "." + k)
        elif isinstance(node, list):
            for k, v in enumerate(node):
                find_refs(v, "%s[%d]" % (where, k))

    find_refs(doc, "$")
    for where, r in refs:
        try:
            resolve(doc, r)
        except SchemaError as e:
            probs.append("%s: %s" % (where, e))
    for p, item in doc.get("paths", {}).items():
        if not p.startswith("/"):
            probs.append("path %s must start with /" % p)
        templ = set(re.findall(r"\{([^}]+)\}", p))
        for m, op in item.items():
            if m not in METHODS:
                probs.append("%s: unknown method %s" % (p, m))
                continue
            oid = op.get("operationId")
            if not oid:
                probs.append("%s %s: no operationId" % (m, p))
            elif oid in opids:
                probs.append("%s %s: duplicate operationId %s" % (m, p, oid))
            opids.add(oid)
            if not op.get("responses"):
                probs.append("%s %s: no responses" % (m, p))
            seen = set()
            path_params = set()
            for prm in op.get("parameters", []):
                try:
                    prm = resolve(doc, prm["$ref"]) if "$ref" in prm else prm
                except SchemaError as e:
                    probs.append("%s %s: %s" % (m, p, e))
                    continue
                key = (prm.get("in"), prm.get("name"))
                if key in seen:
                    probs.append("%s %s: parameter %s given twice" % (m, p, key))
                seen.add(key)
                if prm.get("in") not in ("query", "path", "header"):
                    probs.append("%s %s: parameter %s: bad 'in'" % (m, p, prm.get("name")))
                if prm.get("in") == "path":
                    path_params.add(prm.get("name"))
                    if prm.get("required") is not True:
                        probs.append("%s %s: path parameter %s must be required" %
                                     (m, p, prm.get("name")))
                if "schema" not in prm:
                    probs.append("%s %s: parameter %s without schema" % (m, p, prm.get("name")))
                else:
                    _walk_schemas(doc, prm["schema"], "%s %s param %s" % (m, p, prm["name"]),
                                  schemas)
            if op.get("parameters") is not None and path_params != templ:
                probs.append("%s %s: path parameters %s != template %s" %
                             (m, p, sorted(path_params), sorted(templ)))
            for code, resp in op.get("responses", {}).items():
                if not re.match(r"^([1-5][0-9][0-9]|default)$", code):
                    probs.append("%s %s: bad response code %s" % (m, p, code))
                if "$ref" not in resp and "description" not in resp:
                    probs.append("%s %s %s: response without description" % (m, p, code))
                r = resolve(doc, resp["$ref"]) if "$ref" in resp else resp
                for ct, media in (r.get("content") or {}).items():
                    if "schema" in media:
                        _walk_schemas(doc, media["schema"], "%s %s %s %s" % (m, p, code, ct),
                                      schemas)
    for name, r in comps.get("responses", {}).items():
        if "description" not in r:
            probs.append("components.responses.%s: no description" % name)
    for where, sch in schemas:
        unknown = set(sch) - KEYWORDS - ANNOTATIONS
        if unknown:
            probs.append("%s: unsupported keyword(s) %s" % (where, sorted(unknown)))
        if "$ref" in sch and len(set(sch) - ANNOTATIONS) > 1:
            probs.append("%s: $ref with siblings" % where)
        if "type" in sch and sch["type"] not in TYPES:
            probs.append("%s: bad type %r" % (where, sch["type"]))
        if "pattern" in sch:
            try:
                re.compile(sch["pattern"])
            except re.error as e:
                probs.append("%s: bad pattern: %s" % (where, e))
        props = sch.get("properties", {})
        for r in sch.get("required", []):
            if r not in props and sch.get("additionalProperties") is False:
                probs.append("%s: required %r is not a property" % (where, r))
        if "enum" in sch and sch.get("type") and not all(
                _type_ok(sch["type"], v) or (v is None and sch.get("nullable"))
                for v in sch["enum"]):
            probs.append("%s: enum values not of type %s" % (where, sch["type"]))
        if sch.get("nullable") and "enum" in sch and None not in sch["enum"]:
            probs.append("%s: nullable enum without null (OpenAPI 3.0.3 keeps the enum "
                         "constraint)" % where)
        for kw in ("oneOf", "anyOf", "allOf"):
            if kw in sch and (not isinstance(sch[kw], list) or not sch[kw]):
                probs.append("%s: %s must be a non-empty list" % (where, kw))
        if sch.get("nullable") and "type" not in sch:
            probs.append("%s: nullable without type has no effect in OpenAPI 3.0.3" % where)
    return probs


# --------------------------------------------------------------------------------------------
# operation lookup

def find_operation(doc, method, path):
    """(template, operation dict, {param: value}) for a concrete path, or (None, None, {})."""
    method = method.lower()
    best = None
    for templ, item in doc.get("paths", {}).items():
        rx = "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(templ)) + "$"
        m = re.match(rx, path)
        if not m:
            continue
        literal = len(re.sub(r"\{[^}]+\}", "", templ))
        if best is None or literal > best[0]:
            best = (literal, templ, item, m.groupdict())
    if best is None or method not in best[2]:
        return (best[1] if best else None), None, (best[3] if best else {})
    return best[1], best[2][method], best[3]


def operation_params(doc, op):
    """{(in, name): parameter} of an operation, $refs resolved."""
    out = {}
    for prm in op.get("parameters", []):
        prm = resolve(doc, prm["$ref"]) if "$ref" in prm else prm
        out[(prm["in"], prm["name"])] = prm
    return out


def response_for(doc, op, status):
    """The response object for a status code ($ref resolved), or None."""
    r = op.get("responses", {}).get(str(status)) or op.get("responses", {}).get("default")
    if r is None:
        return None
    return resolve(doc, r["$ref"]) if "$ref" in r else r


def response_schema(doc, op, status, content_type="application/json"):
    r = response_for(doc, op, status)
    if r is None:
        return None
    media = (r.get("content") or {}).get(content_type)
    return media.get("schema") if media else None


# --------------------------------------------------------------------------------------------
# sample-feed daemon (feeds/sample.conf, in its order) for the black-box tests

SAMPLE_NOW = "2026-11-20T10:00:00"
SAMPLE_FEEDS = [  # (config name, kind, file), the order of feeds/sample.conf
    ("zuiderzorg", "insurer", "insurer-zuiderzorg.jsonl"),
    ("polderpolis", "insurer", "insurer-polderpolis.jsonl"),
    ("noordkust", "insurer", "insurer-noordkust.jsonl"),
    ("deltazorg", "insurer", "insurer-deltazorg.jsonl"),
    ("rijnenlek", "provider", "provider-rijnenlek.jsonl"),
    ("dijkenduin", "provider", "provider-dijkenduin.jsonl"),
    ("buurtzorg-zuidoost", "provider", "provider-buurtzorg.jsonl"),
    ("debrug", "provider", "provider-debrug.jsonl"),
]


def sample_feeds():
    import harness
    return [harness.Feed(name, kind, os.path.join(TOP, "feeds", fn), schedule=300,
                         stale_after=86400)
            for name, kind, fn in SAMPLE_FEEDS]


def start_sample_daemon(now=SAMPLE_NOW, settings=None):
    """Start zorgstatusd on the bundled sample feeds and wait until every feed has been
    applied.  The caller stops it (d.stop(); d.cleanup())."""
    import harness
    d = harness.Daemon(sample_feeds(), now=now, settings=settings)
    try:
        d.start()
        for name, _, _ in SAMPLE_FEEDS:
            d.wait_feed(name, lambda f: f.get("last_success") and f.get("rows_rejected") == 0
                        and f.get("rows_accepted", 0) > 0, "applied without rejects")
    except BaseException:
        d.cleanup()
        raise
    return d


def stop_daemon(d):
    try:
        d.stop()
    finally:
        d.cleanup()


# --------------------------------------------------------------------------------------------

def main(argv):
    if not argv or len(argv) not in (1, 3):
        sys.stderr.write(__doc__)
        return 2
    doc = load_doc(argv[0])
    if len(argv) == 1:
        probs = doc_problems(doc)
        for p in probs:
            print(p)
        print("%s: %d problem(s)" % (argv[0], len(probs)))
        return 1 if probs else 0
    with open(argv[2], encoding="utf-8") as fh:
        value = json.load(fh)
    errs = validate(doc, {"$ref": "#/components/schemas/" + argv[1]}, value)
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
