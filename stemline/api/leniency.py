"""Komet's leniency at the gateway: what a client written for Komet's server may send.

Before a request meets its method's schema, its parameters are brought to the schema's shape:
unknown parameters are set aside (and named in `X-Ignored-Parameters`, or refused for a token
with strict parameters), lists sent as "1,2,3" or "1:2:3" become lists, dates sent the ways
Komet's clients send them become dates, empty strings for optional non-text values mean "not
given", and an id sent beside its code and description is checked to name the same record
(refused naming both when it does not) or, where the method knows the record by another name,
translated to it. Types, ranges, lengths, states and grants stay strict: that is the schema's.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from .errors import ApiError, FieldError

# Which kind of value a field takes, as far as leniency cares.
STR, INT, NUMBER, BOOL, DATE, DATETIME, LIST, MODEL, OTHER = (
    "str",
    "int",
    "number",
    "bool",
    "date",
    "datetime",
    "list",
    "model",
    "other",
)


@dataclass(frozen=True)
class Kind:
    kind: str
    inner: Kind | None = None  # of a list
    model: type[BaseModel] | None = None  # of a model, or a list's items


@dataclass(frozen=True)
class FieldShape:
    name: str
    kind: Kind
    required: bool
    nullable: bool


def _nullable(tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is Annotated:
        return _nullable(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return any(arg is type(None) or _nullable(arg) for arg in get_args(tp))
    return tp is type(None)


def _kind(tp: Any) -> Kind:
    origin = get_origin(tp)
    if origin is Annotated:
        return _kind(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        kinds = [_kind(arg) for arg in get_args(tp) if arg is not type(None)]
        known = [k for k in kinds if k.kind != OTHER]
        return known[0] if known else Kind(OTHER)
    if origin in (list, tuple, set, frozenset):
        args = get_args(tp)
        inner = _kind(args[0]) if args else Kind(OTHER)
        return Kind(LIST, inner=inner, model=inner.model)
    if isinstance(tp, type):
        if issubclass(tp, BaseModel):
            return Kind(MODEL, model=tp)
        if tp is bool:
            return Kind(BOOL)
        if issubclass(tp, datetime):
            return Kind(DATETIME)
        if issubclass(tp, date):
            return Kind(DATE)
        if issubclass(tp, int):
            return Kind(INT)
        if issubclass(tp, (Decimal, float)):
            return Kind(NUMBER)
        if issubclass(tp, str):
            return Kind(STR)
    return Kind(OTHER)


@cache
def shapes(model: type[BaseModel]) -> dict[str, FieldShape]:
    """The parameters a schema knows, by every name it accepts (field name and alias)."""
    out: dict[str, FieldShape] = {}
    for name, info in model.model_fields.items():
        shape = FieldShape(
            name, _kind(info.annotation), info.is_required(), _nullable(info.annotation)
        )
        out[name] = shape
        for alias in (info.alias, info.validation_alias):
            if isinstance(alias, str):
                out[alias] = shape
    return out


# ---------------------------------------------------------------- values

_LIST_SEPARATORS = re.compile(r"[,:]")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SPACED_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(.*)$")


def _to_date(value: str) -> Any:
    text = value.strip()
    if len(text) == 10 and text[4:5] == "-":
        return text
    us = _US_DATE.match(text)
    if us:
        month, day, year = int(us[1]), int(us[2]), int(us[3])
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text  # the schema names the field and the reason
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        # Date-times are UTC (contract §1); JavaScript's toISOString() sends them so.
        moment = moment.astimezone(UTC)
    return moment.date().isoformat()


def _to_datetime(value: str) -> Any:
    text = value.strip()
    us = _US_DATE.match(text)
    if us:
        month, day, year = int(us[1]), int(us[2]), int(us[3])
        hour, minute, second = int(us[4] or 0), int(us[5] or 0), int(us[6] or 0)
        try:
            return datetime(year, month, day, hour, minute, second).isoformat()
        except ValueError:
            return text
    if len(text) == 10 and text[4:5] == "-":
        return f"{text}T00:00:00"
    return text


def _split(value: str, inner: Kind | None) -> list[str]:
    # Dates and date-times carry colons of their own: only commas separate those.
    if inner is not None and inner.kind in (DATE, DATETIME):
        parts = value.split(",")
    else:
        parts = _LIST_SEPARATORS.split(value)
    return [part.strip() for part in parts if part.strip()]


@dataclass
class Outcome:
    data: dict
    ignored: list[str]


def _value(kind: Kind, value: Any, path: str, ignored: list[str], consumed: frozenset) -> Any:
    if kind.kind == DATE and isinstance(value, str):
        return _to_date(value)
    if kind.kind == DATETIME and isinstance(value, str):
        return _to_datetime(value)
    if kind.kind == BOOL and isinstance(value, str):
        return value.strip()
    if kind.kind in (INT, NUMBER) and isinstance(value, str):
        return value.strip()
    if kind.kind == MODEL and isinstance(value, dict) and kind.model is not None:
        return _model(kind.model, value, path, ignored, consumed)
    if kind.kind == LIST:
        if isinstance(value, str):
            value = _split(value, kind.inner)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            value = [value]
        elif isinstance(value, dict) and kind.model is not None:
            value = [value]
        if isinstance(value, list) and kind.inner is not None:
            return [
                _value(kind.inner, item, f"{path}[{index}]", ignored, consumed)
                for index, item in enumerate(value)
            ]
    return value


def _blank(kind: Kind, value: Any) -> bool:
    return kind.kind not in (STR, OTHER) and isinstance(value, str) and not value.strip()


def _model(
    model: type[BaseModel], data: dict, path: str, ignored: list[str], consumed: frozenset
) -> dict:
    # A schema that takes another shape of its input (an address as an object) says so.
    prepare = getattr(model, "prepare_input", None)
    if prepare is not None:
        data = prepare(data)
    known = shapes(model)
    out = {}
    for key, value in data.items():
        shape = known.get(key) if isinstance(key, str) else None
        where = f"{path}.{key}" if path else str(key)
        if shape is None:
            if key not in consumed:
                ignored.append(where)
            continue
        if _blank(shape.kind, value):
            if shape.nullable:
                # An empty value is null: "not given" on a filter, "clear it" on an update
                # (an empty creditLimit means unlimited), as the schemas' blank_to_none say.
                out[key] = None
                continue
            if not shape.required:
                continue  # the schema's default applies
        out[key] = _value(shape.kind, value, where, ignored, consumed)
    return out


def normalize(
    model: type[BaseModel],
    params: dict,
    *,
    skip: frozenset[str],
    strict: bool,
    consumed: frozenset[str] = frozenset(),
) -> Outcome:
    """The parameters in the schema's shape, and the names of those set aside. `consumed`:
    names used before the schema (a record's other names, checked by `naming`), neither
    passed on nor reported."""
    ignored: list[str] = []
    data = {k: v for k, v in params.items() if k not in skip}
    data = _model(model, data, "", ignored, consumed)
    if ignored and strict:
        errors = [
            FieldError(name, "unknown", "is not a parameter of this method") for name in ignored
        ]
        message = f"{ignored[0]}: is not a parameter of this method"
        if len(ignored) > 1:
            message += f" (and {len(ignored) - 1} more)"
        raise ApiError(message, 422, errors)
    return Outcome(data, ignored)


_HEADER_SAFE = re.compile(r"[^A-Za-z0-9_.\[\]\-]")


def ignored_header(names: list[str]) -> str:
    """`X-Ignored-Parameters`: the names set aside, made safe for a header and kept short."""
    cleaned = []
    for name in names[:50]:
        cleaned.append(_HEADER_SAFE.sub("?", name)[:100])
    text = ", ".join(cleaned)
    if len(names) > 50:
        text += f", ... ({len(names) - 50} more)"
    return text
