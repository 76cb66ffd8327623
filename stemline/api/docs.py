"""docs/api.md rendered from the method registry: conventions, then every method's contract."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from pydantic.json_schema import GenerateJsonSchema

from .registry import AREA_ROLES, Method, registry
from .schemas import MAX_INT

AREA_TITLES = {
    "auth": "Authentication",
    "master": "Master data",
    "sales": "Sales",
    "inventory": "Inventory",
    "purchasing": "Purchasing",
}
# Fields every answer carries; the header describes them once instead of every table.
ENVELOPE_FIELDS = ("status", "message")
MAX_DEPTH = 6


def default_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "api.md"


class DocSchema(GenerateJsonSchema):
    """JSON schema for reading: decimals keep their precision, which plain JSON schema drops."""

    def decimal_schema(self, schema):
        out: dict[str, Any] = {"type": "decimal"}
        for key, name in (("max_digits", "maxDigits"), ("decimal_places", "decimalPlaces")):
            if schema.get(key) is not None:
                out[name] = schema[key]
        for key, name in (
            ("ge", "minimum"),
            ("le", "maximum"),
            ("gt", "exclusiveMinimum"),
            ("lt", "exclusiveMaximum"),
        ):
            if schema.get(key) is not None:
                out[name] = str(schema[key])
        return out


# ---------------------------------------------------------------- schema reading


def _resolve(node: dict, defs: dict) -> dict:
    ref = node.get("$ref")
    if ref:
        return defs.get(ref.rsplit("/", 1)[-1], {})
    return node


def _alternatives(node: dict) -> tuple[list[dict], bool]:
    """The non-null alternatives of a node, and whether null is allowed."""
    options = node.get("anyOf") or node.get("oneOf")
    if not options:
        return [node], node.get("type") == "null"
    alternatives, nullable = [], False
    for option in options:
        inner, inner_null = _alternatives(option)
        nullable = nullable or inner_null
        alternatives.extend(o for o in inner if o.get("type") != "null")
    return alternatives, nullable


def _ref_name(node: dict) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _type_name(node: dict, defs: dict) -> str:
    alternatives, _ = _alternatives(node)
    names = []
    for alt in alternatives:
        name = _single_type(alt, defs)
        if name not in names:
            names.append(name)
    return " or ".join(names) or "any"


def _single_type(node: dict, defs: dict) -> str:
    ref = _ref_name(node)
    if ref:
        return "object"
    if "anyOf" in node or "oneOf" in node:
        return _type_name(node, defs)
    kind = node.get("type")
    if kind == "array":
        items = node.get("items")
        return f"array of {_type_name(items, defs)}" if items else "array"
    if kind == "string" and node.get("format") in ("date", "date-time", "time"):
        return node["format"]
    if kind == "integer" and node.get("minimum") == 1 and node.get("maximum") == MAX_INT:
        return "ID (integer)"
    if isinstance(kind, list):
        return " or ".join(k for k in kind if k != "null")
    if kind is None and "enum" in node:
        return "enum"
    if kind is None and "const" in node:
        return "constant"
    return kind or "any"


def _fmt(value: Any) -> str:
    return (
        f"`{json.dumps(value, ensure_ascii=False)}`" if not isinstance(value, str) else f"`{value}`"
    )


def _constraints(node: dict, *, with_default: bool = True) -> list[str]:
    """What a value must satisfy, in words, from one field's schema."""
    out: list[str] = []
    alternatives, _ = _alternatives(node)
    for alt in alternatives:
        alt_constraints = _value_constraints(alt)
        for item in alt_constraints:
            if item not in out:
                out.append(item)
    if node.get("transactional"):
        out.append("needs Transactional API Access")
    if with_default and "default" in node and node["default"] not in (None, "", [], {}):
        out.append(f"default {_fmt(node['default'])}")
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _value_constraints(node: dict) -> list[str]:
    out: list[str] = []
    if "enum" in node:
        out.append("one of " + ", ".join(_fmt(v) for v in node["enum"]))
    if "const" in node:
        out.append(f"exactly {_fmt(node['const'])}")
    min_length, max_length = node.get("minLength"), node.get("maxLength")
    if min_length == 1:
        out.append("not empty")
    elif min_length:
        out.append(f"at least {_count(min_length, 'character')}")
    if max_length is not None:
        out.append(f"at most {_count(max_length, 'character')}")
    if node.get("pattern"):
        out.append(f"pattern `{node['pattern']}`")
    if node.get("type") == "decimal":
        digits, places = node.get("maxDigits"), node.get("decimalPlaces")
        if digits is not None:
            out.append(f"at most {_count(digits, 'digit')}")
        if places is not None:
            out.append(f"at most {_count(places, 'decimal place')}")
    is_id = node.get("minimum") == 1 and node.get("maximum") == MAX_INT
    if not is_id:
        for key, word in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
        ):
            if key in node:
                out.append(f"{word} {node[key]}")
    if node.get("multipleOf") is not None:
        out.append(f"multiple of {node['multipleOf']}")
    if node.get("minItems"):
        out.append(f"at least {_count(node['minItems'], 'item')}")
    if node.get("maxItems") is not None:
        out.append(f"at most {_count(node['maxItems'], 'item')}")
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        inner = _alternatives(node["items"])[0]
        for alt in inner:
            if "$ref" not in alt:
                out.extend(f"each {c}" for c in _value_constraints(alt))
    return out


def _nested_object(node: dict, defs: dict) -> tuple[dict | None, str]:
    """The object schema a field holds (directly or as array items), and the name suffix."""
    alternatives, _ = _alternatives(node)
    for alt in alternatives:
        if _ref_name(alt) or (alt.get("type") == "object" and "properties" in alt):
            return _resolve(alt, defs), ""
        if alt.get("type") == "array" and isinstance(alt.get("items"), dict):
            for item in _alternatives(alt["items"])[0]:
                if _ref_name(item) or (item.get("type") == "object" and "properties" in item):
                    return _resolve(item, defs), "[]"
    return None, ""


def field_rows(schema: dict, *, skip: tuple[str, ...] = ()) -> list[dict]:
    """One row per field, nested objects flattened as `parent[].child`."""
    defs = schema.get("$defs", {})
    rows: list[dict] = []

    def walk(obj: dict, prefix: str, depth: int, seen: tuple[str, ...]) -> None:
        required = set(obj.get("required", []))
        for name, node in (obj.get("properties") or {}).items():
            if not prefix and name in skip:
                continue
            full = f"{prefix}{name}"
            _, nullable = _alternatives(node)
            rows.append(
                {
                    "name": full,
                    "type": _type_name(node, defs),
                    "required": name in required,
                    "nullable": nullable,
                    "constraints": _constraints(node),
                    "description": " ".join((node.get("description") or "").split()),
                }
            )
            child, suffix = _nested_object(node, defs)
            ref = next((_ref_name(a) for a in _alternatives(node)[0] if _ref_name(a)), None)
            if ref is None:
                items = [a.get("items") for a in _alternatives(node)[0] if a.get("type") == "array"]
                ref = next(
                    (_ref_name(i) for i in items if isinstance(i, dict) and _ref_name(i)), None
                )
            if child and depth < MAX_DEPTH and (ref is None or ref not in seen):
                walk(child, f"{full}{suffix}.", depth + 1, seen + ((ref,) if ref else ()))

    walk(schema, "", 0, ())
    return rows


def request_schema(method: Method) -> dict:
    return method.request.model_json_schema(schema_generator=DocSchema)


def response_schema(method: Method) -> dict:
    return method.response.model_json_schema(mode="serialization", schema_generator=DocSchema)


# ---------------------------------------------------------------- markdown


def _cell(text: str) -> str:
    # GFM reads `\|` as a literal bar even inside code spans; other backslashes stay as written.
    return text.replace("|", "\\|").replace("\n", " ")


def slug(text: str, used: set[str]) -> str:
    """The anchor GitHub gives a heading, made unique the way GitHub does."""
    base = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
    candidate, n = base, 0
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def area_order(methods: list[Method]) -> list[str]:
    present = {m.area for m in methods}
    known = [a for a in AREA_ROLES if a in present]
    return known + sorted(present - set(known))


def area_title(area: str) -> str:
    return AREA_TITLES.get(area, area.replace("_", " ").replace("-", " ").capitalize())


def _token_types(method: Method) -> str:
    if not method.token_types:
        return "none: called without a token"
    return ", ".join(t.capitalize() for t in sorted(method.token_types))


def _method_facts(method: Method) -> list[tuple[str, str]]:
    facts = [
        ("Verbs", ", ".join(f"`{v}`" for v in method.verbs)),
        ("Token types", _token_types(method)),
    ]
    if method.aliases:
        paths = ", ".join(f"`/api/{a}`" for a in method.aliases)
        facts.append(("Also at", f"{paths} (the same method: same grant, same answers)"))
    if "user" in method.token_types:
        roles = ", ".join(sorted(str(r) for r in method.roles)) or "none"
        facts.append(("User token roles", roles))
    if method.grantable_types:
        facts.append(("Grant", "must be among the token's granted methods"))
    if method.needs_token:
        facts.append(
            (
                "X-ACCOUNT",
                "**required**"
                if method.account_required
                else "optional; checked against the token's company when sent",
            )
        )
        facts.append(("Idempotency-Key", "supported on `POST`" if method.creates else "not used"))
    limit = method.max_body or 64 * 1024
    facts.append(("Body limit", _size(limit)))
    if method.deprecated:
        facts.append(("Status", "**retired**: works for existing tokens, no longer granted"))
    return facts


def _text(method: Method) -> list[str]:
    """The handler's whole docstring, a line per paragraph (the decisions where the reference
    is silent, as the code states them); the one-line description when it has none."""
    doc = inspect.cleandoc(method.handler.__doc__ or "")
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    return "\n\n".join(paragraphs or [method.description]).split("\n")


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    return f"{n // 1024} KB"


def _request_table(method: Method) -> list[str]:
    rows = field_rows(request_schema(method))
    if not rows:
        return ["No parameters."]
    described = any(row["description"] for row in rows)
    header = ["Parameter", "Type", "Required", "Constraints"] + (
        ["Description"] if described else []
    )
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        type_text = row["type"] + (" or null" if row["nullable"] else "")
        cells = [
            _cell(f"`{row['name']}`"),
            _cell(type_text),
            "yes" if row["required"] else "no",
            _cell("; ".join(row["constraints"])),
        ]
        if described:
            cells.append(_cell(row["description"]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _response_table(method: Method) -> list[str]:
    rows = field_rows(response_schema(method), skip=ENVELOPE_FIELDS)
    if not rows:
        return ["Only the envelope: `status` and `message`."]
    lines = [
        "Besides `status` and `message`:",
        "",
        "| Field | Type | Notes |",
        "| --- | --- | --- |",
    ]
    for row in rows:
        notes = []
        if row["nullable"]:
            notes.append("may be null")
        notes.extend(c for c in row["constraints"] if not c.startswith("default "))
        if row["description"]:
            notes.append(row["description"])
        lines.append(
            f"| {_cell('`' + row['name'] + '`')} | {_cell(row['type'])} | {_cell('; '.join(notes))} |"
        )
    return lines


HEADER = """\
# Stemline API reference

<!-- Generated by `stemline apidocs` from the method registry. Do not edit by hand. -->

Stemline's API is wire-compatible with the Komet Sales API. This page is generated from the
method registry (`stemline/api/registry.py`), the same declarations that route requests, check
grants and produce the OpenAPI document served at `/api/openapi.json` (readable at `/api/docs`).
Run `stemline apidocs` after changing a method; `stemline apidocs --check` fails when this page
is stale.

## Conventions

### Path and verbs
- Every method is `/api/<method>`, spelled as the method name: `/api/product.list`,
  `/api/ecommerce/inventory.list`, `/api/v2/vendor/invoice`.
- List and get methods answer `GET` and `POST`; the others answer `POST` (and the v2 methods the
  verbs listed under them). Another verb gets 405 with an `Allow` header.
- Parameters are read from the query string, a form body
  (`application/x-www-form-urlencoded` or `multipart/form-data`) or a JSON object body, whichever
  the caller used; JSON body values win over query-string values of the same name. A form or
  query key ending in `[]` (`ids[]=1&ids[]=2`) is read as a list.
- Booleans accept `1`/`0`, `"1"`/`"0"` and `true`/`false`; numbers may be sent as strings.
  Dates are `YYYY-MM-DD`, date-times ISO 8601 in UTC. Money is exact decimal: a *decimal*
  parameter takes a JSON number or a numeric string, within the digits listed; answers write
  it as a JSON number.

### Leniency (as Komet's server is)
Programs written for Komet were written against a lenient server, and work unchanged here:
- **Unknown parameters are ignored**, never refused, on every method; the answer names them in
  an `X-Ignored-Parameters` header (`X-Ignored-Parameters: colour, items[0].note`). A token
  with **Strict parameters** ticked (Setup > Settings > Tokens) is refused instead: 422 naming
  each (`colour: is not a parameter of this method`).
- **One record named several ways**: `carrierId` beside `carrierCode` and
  `carrierDescription` (and the same for customers, vendors/growers, locations, products and
  box types, in line items too) is accepted when they name the same record of your company and
  refused with 422 naming both when they do not. A method that knows the record by another
  name takes the one sent (`customerCode` where the method takes `customerId`).
- **Lists** take commas or colons (`inventoryIds=1,2,3` or `1:2:3`), a JSON list, or `ids[]=`.
- **Dates** take `YYYY-MM-DD`, ISO date-times with or without a zone and milliseconds (what
  JavaScript's `toISOString()` sends: its UTC date is the date), `YYYY-MM-DD hh:mm:ss` and
  `MM/DD/YYYY`. "Today" is the company's, in its time zone (Setup > Company).
- **Empty strings** for optional values mean "not given" (or "clear it", where a method says an
  empty value clears); numbers, ids and booleans may come as strings; a POST's query string
  counts, with a body or without.
- Strict where it protects data: types, ranges, lengths, states and grants.
- **Failures as HTTP 200**: a token with that setting gets every failure with HTTP 200 and the
  same envelope (`status: 0`), the honest code in `X-Stemline-Status`, for clients whose HTTP
  library throws on any non-2xx answer. Honest codes are the default.
- **Texts**: an empty list says what the reference says for it (`Products not found.`,
  `Boxtype not found.`, `Orders not found.`, and the same pattern for the other lists) with
  `status` 1 and the empty list; success messages are the reference's samples.

### Headers
| Header | Meaning |
| --- | --- |
| `authenticationToken` | The API token. Also accepted as `Authorization: Bearer <token>`, or as an `authenticationToken` parameter in the query string or JSON body (first found: header, bearer, parameters). |
| `X-ACCOUNT` | Your Company ID. Required where a method says so; wherever it is sent it must match the token's company, else 403. A `companyId` parameter, where sent, must match too. |
| `Idempotency-Key` | Optional on `POST` methods that create something (see below); at most 255 characters. |
| `Content-Type` | `application/json` for a JSON body (a body starting with `{` is read as JSON when no type is given). |

### Answers
Every answer is a JSON object with `status` (`1` success, `0` failure) and `message`, plus the
method's fields as listed below. A failure names the field at fault:

```json
{"status": 0, "message": "quantity: must be between 1 and 100",
 "errors": [{"field": "quantity", "code": "out_of_range", "message": "must be between 1 and 100"}]}
```

| HTTP status | When |
| --- | --- |
| 200 | success |
| 400 | malformed request: body is not JSON, `X-ACCOUNT` missing where required or not a number |
| 401 | no token, or an unknown or revoked token |
| 403 | method not granted to the token, token type not accepted, user role not allowed, another company's `X-ACCOUNT` or `companyId`, a Transactional-API-Access field without that flag |
| 404 | unknown method, or a referenced record that does not exist for your company |
| 405 | verb not answered by the method |
| 409 | conflict: stock gone, state does not allow it, duplicate, `Idempotency-Key` reused with other parameters |
| 413 | body larger than the method's limit (64 KB; 20 MB for methods that carry a file) |
| 422 | a parameter is invalid or unknown (strict methods refuse parameters they do not define) |
| 429 | rate limit exceeded; see `Retry-After` |

### Tokens and grants
Tokens are of four types: **Company**, **Customer** (bound to one customer and seeing only its
data), **Vendor** (bound to one vendor) and **User** (the key `login` returns, acting with the
person's role). A token may call a method only when the method accepts its type and, for
Company, Customer and Vendor tokens, the method is among the token's grants; a User token is
limited by the roles listed under each method instead. Parameters marked *needs Transactional
API Access* are honoured only for tokens with that flag; otherwise they are refused with 403.

### Idempotency-Key
On methods marked *Idempotency-Key: supported*, a `POST` with an `Idempotency-Key` header is
run once: its answer (success or failure) is stored for 24 hours and replayed, with the header
`Idempotent-Replayed: true`, for a retry with the same key and token. The same key with other
parameters gets 409.

### Rate limit
Each token has a quota shared by all server processes: by default 10 requests per second with a
burst of 100 (set per token, or for the installation with `STEMLINE_API_RATE` and
`STEMLINE_API_BURST`). Answers carry `RateLimit-Limit` (the burst), `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the quota is full again); over the quota the answer is 429
with `Retry-After` in seconds.
"""


def render() -> str:
    """The whole of docs/api.md; the same registry always gives the same bytes."""
    methods = list(registry)
    used: set[str] = set()
    for heading in (
        "Stemline API reference",
        "Conventions",
        "Path and verbs",
        "Headers",
        "Answers",
        "Tokens and grants",
        "Idempotency-Key",
        "Rate limit",
        "Contents",
    ):
        slug(heading, used)
    areas = area_order(methods)
    anchors: dict[str, str] = {}
    for area in areas:
        anchors[f"area:{area}"] = slug(area_title(area), used)
        for method in (m for m in methods if m.area == area):
            anchors[method.name] = slug(method.name, used)

    lines = [HEADER.rstrip("\n"), "", "## Contents", ""]
    lines.append(f"{len(methods)} methods.")
    lines.append("")
    for area in areas:
        members = [m for m in methods if m.area == area]
        lines.append(f"- [{area_title(area)}](#{anchors['area:' + area]}) ({len(members)})")
        for method in members:
            lines.append(f"  - [`{method.name}`](#{anchors[method.name]}): {method.description}")
    for area in areas:
        lines += ["", f"## {area_title(area)}"]
        for method in (m for m in methods if m.area == area):
            lines += ["", f"### `{method.name}`", ""]
            lines += [*_text(method), ""]
            lines += ["| | |", "| --- | --- |"]
            lines += [f"| {name} | {_cell(value)} |" for name, value in _method_facts(method)]
            lines += ["", "**Request parameters**", ""]
            lines += _request_table(method)
            lines += ["", "**Response**", ""]
            lines += _response_table(method)
    return "\n".join(lines) + "\n"
