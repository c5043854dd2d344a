#!/usr/bin/env python3
"""docs/openapi.json (OpenAPI 3.1.0, JSON Schema 2020-12) for the black-box tests.

Validation is done by a well-kept validator, not by this file: Debian's python3-jsonschema
(Draft202012Validator; jsonschema >= 4.10, the version in Debian 12).  Local "$ref"s such as
"#/components/schemas/Status" resolve into the document's components.  Formats are asserted
where jsonschema can check them (date always; date-time when rfc3339-validator is installed).
jsonschema is imported on first use, so that the daemon helpers below work without it.

Here as well:
  doc_problems()        OpenAPI rules the project holds the document to, beyond what
                        redocly lint checks (tests/openapi/run.sh): 3.1 only, no 3.0 leftovers
                        (nullable, example in schemas), schemas valid against the 2020-12
                        meta-schema, path parameters at path level, no fake operations, 400/413/
                        414/431 on every operation, an example for every parameter.
  find_operation() ...  operation and response lookup for a concrete request.
  start_sample_daemon() zorgstatusd on the bundled sample feeds.

Command line:
    openapi_check.py docs/openapi.json                  # check the document itself
    openapi_check.py docs/openapi.json Schema file.json # validate a JSON file against a schema
"""

import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
DOC_PATH = os.path.join(TOP, "docs", "openapi.json")

OPENAPI_VERSION = "3.1.0"
METHODS = ("get", "head", "options", "post", "put", "delete", "patch", "trace")
SERVED_METHODS = ("get", "head", "options")
EVERY_OPERATION = ("400", "413", "414", "431")     # answers any request can get


class SchemaError(Exception):
    """The schema itself is broken (not a valid JSON Schema 2020-12 schema)."""


def _jsonschema():
    try:
        import jsonschema
        from jsonschema import Draft202012Validator  # noqa: F401  (needs jsonschema >= 4.0)
    except ImportError as e:
        raise ImportError("the OpenAPI tests need python3-jsonschema >= 4.10 (Debian 12: apt-get "
                          "install python3-jsonschema; packaging/install-deps.sh --test): %s" % e)
    return jsonschema


def load_doc(path=DOC_PATH):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def resolve(doc, ref):
    """The node a local "#/..." JSON pointer names."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise SchemaError("only local $ref are used: %r" % (ref,))
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError("unresolvable $ref %s" % ref)
        node = node[part]
    return node


# --------------------------------------------------------------------------------------------
# validation (python3-jsonschema)

_cache = {}


def _validator(doc, schema):
    """A Draft202012Validator for schema whose root also holds the document's components, so
    that "#/components/..." references resolve (same in jsonschema 4.10 and 4.2x)."""
    js = _jsonschema()
    key = (id(doc), json.dumps(schema, sort_keys=True))
    v = _cache.get(key)
    if v is None:
        try:
            js.Draft202012Validator.check_schema(schema)
        except js.exceptions.SchemaError as e:
            raise SchemaError("invalid schema %s: %s" % (json.dumps(schema)[:120], e.message))
        root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": doc.get("components", {}), "allOf": [schema]}
        v = js.Draft202012Validator(root, format_checker=js.FormatChecker())
        _cache[key] = v
    return v


def _short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 80 else s[:77] + "..."


def _flatten(err, out):
    """Leaf errors of a jsonschema error tree (oneOf/anyOf hide the useful ones)."""
    if err.context:
        for sub in err.context:
            _flatten(sub, out)
    else:
        out.append(err)


def validate(doc, schema, value, where="$"):
    """Return the list of error strings (empty = valid)."""
    v = _validator(doc, schema)
    errs = []
    for e in sorted(v.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        leaves = []
        _flatten(e, leaves)
        path = "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in e.absolute_path)
        msg = "%s%s: %s" % (where, path, e.message)
        if e.validator in ("oneOf", "anyOf") and leaves:
            msg += " (" + "; ".join(sorted({x.message[:100] for x in leaves})[:4]) + ")"
        errs.append(msg)
    return errs


def check(doc, schema, value, where="$"):
    """Raise AssertionError listing every violation (at most 20)."""
    errs = validate(doc, schema, value, where)
    if errs:
        more = "" if len(errs) <= 20 else "\n  ... and %d more" % (len(errs) - 20)
        raise AssertionError("%d schema violation(s) of %s:\n  %s%s" % (
            len(errs), _short(schema), "\n  ".join(errs[:20]), more))


# --------------------------------------------------------------------------------------------
# checks of the document itself (beyond redocly lint)

def _walk_schemas(node, where, out):
    """Collect (where, schema) of every schema object reachable in node (2020-12 keywords)."""
    if not isinstance(node, dict):
        return
    out.append((where, node))
    for key in ("properties", "$defs", "patternProperties"):
        for k, v in (node.get(key) or {}).items():
            _walk_schemas(v, "%s.%s.%s" % (where, key, k), out)
    for key in ("items", "additionalProperties", "not", "contains", "if", "then", "else"):
        if isinstance(node.get(key), dict):
            _walk_schemas(node[key], "%s.%s" % (where, key), out)
    for kw in ("oneOf", "anyOf", "allOf", "prefixItems"):
        for k, sub in enumerate(node.get(kw) or []):
            _walk_schemas(sub, "%s.%s[%d]" % (where, kw, k), out)


def _deref(doc, node):
    return resolve(doc, node["$ref"]) if isinstance(node, dict) and "$ref" in node else node


def doc_problems(doc):
    """Problems of the document, as a list of strings."""
    js = _jsonschema()
    probs = []
    if doc.get("openapi") != OPENAPI_VERSION:
        probs.append("openapi must be %s" % OPENAPI_VERSION)
    for k in ("title", "version", "description"):
        if not isinstance(doc.get("info", {}).get(k), str):
            probs.append("info.%s missing" % k)
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
    bad_refs = []
    for where, r in refs:
        try:
            resolve(doc, r)
        except SchemaError as e:
            bad_refs.append("%s: %s" % (where, e))
    if bad_refs:
        return probs + bad_refs
    comps = doc.get("components", {})
    schemas = []
    for name, sch in comps.get("schemas", {}).items():
        _walk_schemas(sch, "components.schemas." + name, schemas)
    for name, prm in comps.get("parameters", {}).items():
        if "example" not in prm and "examples" not in prm:
            probs.append("components.parameters.%s: no example" % name)
        _walk_schemas(prm.get("schema"), "components.parameters.%s.schema" % name, schemas)
    for name, h in comps.get("headers", {}).items():
        _walk_schemas(h.get("schema"), "components.headers.%s.schema" % name, schemas)
    opids = set()
    for p, item in doc.get("paths", {}).items():
        templ = set(re.findall(r"\{([^}]+)\}", p))
        declared = set()
        for prm in item.get("parameters", []):
            prm = _deref(doc, prm)
            if prm.get("in") != "path":
                probs.append("%s: only path parameters belong at path level (%s)" %
                             (p, prm.get("name")))
            elif prm.get("required") is not True:
                probs.append("%s: path parameter %s must be required" % (p, prm.get("name")))
            declared.add(prm.get("name"))
        if declared != templ:
            probs.append("%s: path-level parameters %s != template %s" %
                         (p, sorted(declared), sorted(templ)))
        for m, op in item.items():
            if m in ("parameters", "summary", "description"):
                continue
            if m not in SERVED_METHODS:
                probs.append("%s: operation %s (the API serves only GET, HEAD and OPTIONS; 405 is "
                             "components.responses.MethodNotAllowed)" % (p, m))
                continue
            oid = op.get("operationId")
            if not oid or oid in opids:
                probs.append("%s %s: missing or duplicate operationId %r" % (m, p, oid))
            opids.add(oid)
            seen = set()
            for prm in op.get("parameters", []):
                prm = _deref(doc, prm)
                if prm.get("in") == "path":
                    probs.append("%s %s: path parameter %s belongs at path level" %
                                 (m, p, prm.get("name")))
                key = (prm.get("in"), prm.get("name"))
                if key in seen:
                    probs.append("%s %s: parameter %s given twice" % (m, p, key))
                seen.add(key)
            resp = op.get("responses", {})
            need = list(EVERY_OPERATION) + (["200", "304"] if m in ("get", "head") else ["204"])
            for code in need:
                if code not in resp:
                    probs.append("%s %s: no %s response" % (m, p, code))
            for code, r in resp.items():
                r = _deref(doc, r)
                if not r.get("description"):
                    probs.append("%s %s %s: response without description" % (m, p, code))
                if code in ("204", "304") and r.get("content"):
                    probs.append("%s %s %s: must have no content" % (m, p, code))
                if m == "head" and code in ("200",) and r.get("content"):
                    probs.append("%s %s %s: HEAD has no body" % (m, p, code))
                for ct, media in (r.get("content") or {}).items():
                    if ct != "application/json":
                        probs.append("%s %s %s: content type %s" % (m, p, code, ct))
                    _walk_schemas(media.get("schema"), "%s %s %s" % (m, p, code), schemas)
    mna = comps.get("responses", {}).get("MethodNotAllowed")
    if not mna or not (mna.get("headers") or {}).get("Allow"):
        probs.append("components.responses.MethodNotAllowed with an Allow header is missing")
    for where, sch in schemas:
        for kw in ("nullable", "example", "x-nullable"):
            if kw in sch:
                probs.append("%s: OpenAPI 3.0 keyword %r (3.1: type [..., \"null\"] / examples)" %
                             (where, kw))
        if "$ref" not in sch:
            try:
                js.Draft202012Validator.check_schema(sch)
            except js.exceptions.SchemaError as e:
                probs.append("%s: not a valid 2020-12 schema: %s" % (where, e.message))
        if "pattern" in sch:
            try:
                re.compile(sch["pattern"])
            except re.error as e:
                probs.append("%s: bad pattern: %s" % (where, e))
        if sch.get("additionalProperties") is False:
            for r in sch.get("required", []):
                if r not in sch.get("properties", {}):
                    probs.append("%s: required %r is not a property" % (where, r))
    return probs


# --------------------------------------------------------------------------------------------
# operation lookup

def find_operation(doc, method, path):
    """(template, operation, {param: value}) for a concrete path, or (template or None, None,
    {...}) when the path or the method is not in the document.  The operation returned is a
    copy whose "parameters" also hold the path-level parameters."""
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
    if best is None or method not in SERVED_METHODS or method not in best[2]:
        return (best[1] if best else None), None, (best[3] if best else {})
    op = copy.copy(best[2][method])
    op["parameters"] = list(best[2].get("parameters", [])) + list(op.get("parameters", []))
    return best[1], op, best[3]


def operation_params(doc, op):
    """{(in, name): parameter} of an operation from find_operation(), $refs resolved."""
    out = {}
    for prm in op.get("parameters", []):
        prm = _deref(doc, prm)
        out[(prm["in"], prm["name"])] = prm
    return out


def response_for(doc, op, status):
    """The response object for a status code ($ref resolved), or None.  op None: a method the
    path does not serve, answered by components.responses.MethodNotAllowed (or, when the
    request brings a body over max_body_kb, components.responses.PayloadTooLarge first)."""
    if op is None:
        if int(status) == 405:
            return doc["components"]["responses"]["MethodNotAllowed"]
        if int(status) == 413:
            return doc["components"]["responses"]["PayloadTooLarge"]
        return None
    r = op.get("responses", {}).get(str(status)) or op.get("responses", {}).get("default")
    return _deref(doc, r) if r is not None else None


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


class ConfSection:
    """Another section of the daemon's configuration, as text ("[subscriber NAME]\n...")."""

    def __init__(self, text):
        self.text = text

    def conf(self):
        return self.text


def start_sample_daemon(now=SAMPLE_NOW, settings=None, sections=()):
    """Start zorgstatusd on the bundled sample feeds (and the configuration sections given,
    e.g. ConfSection("[subscriber x]\n...")) and wait until every feed has been applied.  The
    caller stops it (d.stop(); d.cleanup())."""
    import harness
    d = harness.Daemon(sample_feeds() + list(sections), now=now, settings=settings)
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
