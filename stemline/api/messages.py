"""Validation errors in the contract's words ("quantity: must be between 1 and 100"), never
the validation library's ("Input should be less than or equal to 100")."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel


@cache
def _schema(model: type[BaseModel]) -> dict:
    try:
        return model.model_json_schema()
    except Exception:  # a schema pydantic cannot draw: bounds then come from the error alone
        return {}


def _resolve(root: dict, node: dict, want: str | None = None) -> dict:
    for _ in range(20):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = root.get("$defs", {}).get(name, {})
            continue
        options = node.get("anyOf") or node.get("oneOf") or node.get("allOf")
        if options:
            candidates = [o for o in options if o.get("type") != "null"]
            if want:
                picked = [o for o in candidates if want in _resolve(root, o)]
                candidates = picked or candidates
            if not candidates:
                return node
            node = candidates[0]
            continue
        return node
    return node


def _node(model: type[BaseModel], loc: tuple) -> dict:
    root = _schema(model)
    node = root
    for part in loc:
        if isinstance(part, int):
            node = _resolve(root, node, "items").get("items", {})
        else:
            props = _resolve(root, node, "properties").get("properties", {})
            if part not in props:
                return {}
            node = props[part]
    # Keep the anyOf/null wrapper's own bounds, if any, else the inner ones.
    return _resolve(root, node) if not any(k in node for k in _BOUND_KEYS) else node


_BOUND_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}".replace(",", "")
    return str(value)


def _range(node: dict, ctx: dict) -> str | None:
    low = node.get("minimum", ctx.get("ge"))
    high = node.get("maximum", ctx.get("le"))
    if low is not None and high is not None:
        return f"must be between {_num(low)} and {_num(high)}"
    return None


def _choices(ctx: dict) -> str:
    expected = str(ctx.get("expected", ""))
    return f"must be one of {expected}" if expected else "is not one of the allowed values"


def reason(model: type[BaseModel], err: dict) -> str:
    """The contract's words for one pydantic error."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc = tuple(err.get("loc") or ())
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a parameter of this method"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        between = _range(_node(model, loc), ctx)
        if between:
            return between
        if kind == "greater_than_equal":
            return f"must be at least {_num(ctx.get('ge'))}"
        if kind == "less_than_equal":
            return f"must be at most {_num(ctx.get('le'))}"
        if kind == "greater_than":
            return f"must be more than {_num(ctx.get('gt'))}"
        return f"must be less than {_num(ctx.get('lt'))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("int_parsing_size",):
        return "is too large"
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return "must be a number"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "decimal_max_places":
        return f"must have at most {ctx.get('decimal_places')} decimal places"
    if kind == "decimal_max_digits":
        return f"must have at most {ctx.get('max_digits')} digits"
    if kind == "decimal_whole_digits":
        return f"must have at most {ctx.get('whole_digits')} digits before the decimal point"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false (1 or 0)"
    if kind.startswith("date_") or kind == "date_type":
        return "must be a date (YYYY-MM-DD)"
    if kind.startswith("datetime_") or kind == "datetime_type":
        return "must be a date-time (ISO 8601, e.g. 2026-02-10T09:30:00Z)"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must be at least {n} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must have at least {n} items"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind in ("string_type", "string_unicode"):
        return "must be text"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be an object"
    if kind in ("literal_error", "enum"):
        return _choices(ctx)
    if kind == "string_pattern_mismatch":
        return "is not in the expected format"
    if kind == "json_invalid":
        return "is not valid JSON"
    message = str(err.get("msg", "is not valid"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, ") :]
    if message.startswith("Input should be "):
        message = "must be " + message[len("Input should be ") :]
    return message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
