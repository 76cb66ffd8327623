"""One record named several ways: `carrierId` beside `carrierCode` and `carrierDescription`.

Komet's clients often send every name they know of a record. Where two names are sent they
must name the same record of the caller's company (else 422 naming both); where the method
knows the record by a name the client did not send, the one it did send is translated, so
a client that sends `carrierCode` to a method that takes `carrierId` works unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model

from stemline.catalog.models import BoxType, Product
from stemline.core.models import Company, Location
from stemline.parties.models import Carrier, Customer, Vendor

from .errors import ApiError, FieldError
from .leniency import LIST, MODEL, shapes


@dataclass(frozen=True)
class Group:
    label: str
    model: type[Model]
    # parameter suffix -> model field
    names: dict[str, str]


_PARTY = {"Id": "pk", "Code": "code", "Description": "name", "Name": "name"}
GROUPS: dict[str, Group] = {
    "carrier": Group("carrier", Carrier, _PARTY),
    "customer": Group("customer", Customer, _PARTY),
    "vendor": Group("vendor", Vendor, _PARTY),
    "grower": Group("grower", Vendor, _PARTY),
    "location": Group("location", Location, _PARTY),
    "companyLocation": Group("location", Location, _PARTY),
    "product": Group(
        "product",
        Product,
        {"Id": "pk", "Code": "legacy_code", "Description": "description", "Name": "description"},
    ),
    "boxType": Group(
        "box type", BoxType, {"Id": "pk", "Code": "code", "Description": "name", "Name": "name"}
    ),
}
_KEYS = {
    f"{prefix}{suffix}": (prefix, suffix) for prefix, g in GROUPS.items() for suffix in g.names
}


def _given(value) -> bool:
    return value not in (None, "") and not isinstance(value, (list, dict, bool))


def _matches(company: Company, group: Group, suffix: str, value) -> set[int]:
    rows = group.model.objects.filter(company=company)
    field = group.names[suffix]
    if field == "pk":
        try:
            pk = int(str(value).strip())
        except ValueError:
            return set()
        return set(rows.filter(pk=pk).values_list("pk", flat=True)[:1])
    text = str(value).strip()
    found = set(rows.filter(**{f"{field}__iexact": text}).values_list("pk", flat=True)[:50])
    if not found and suffix in ("Description", "Name"):
        # Name and description filters match a substring (contract §1).
        found = set(rows.filter(**{f"{field}__icontains": text}).values_list("pk", flat=True)[:50])
    return found


def _show(key: str, value) -> str:
    return f"{key} {value}" if key.endswith("Id") else f"{key} {str(value)!r}"


def _reconcile(company: Company, model, data: dict, path: str, used: set[str]) -> dict:
    known = shapes(model)
    by_group: dict[str, list[tuple[str, str]]] = {}
    for key, value in data.items():
        hit = _KEYS.get(key) if isinstance(key, str) else None
        if hit and _given(value):
            by_group.setdefault(hit[0], []).append((key, hit[1]))
    for prefix, sent in by_group.items():
        group = GROUPS[prefix]
        known_sent = [key for key, _ in sent if key in known]
        wanted = [f"{prefix}{s}" for s in group.names if f"{prefix}{s}" in known]
        if len(sent) < 2 and (known_sent or not wanted):
            continue
        used.update(key for key, _ in sent)
        matches = {key: _matches(company, group, suffix, data[key]) for key, suffix in sent}
        if len(sent) >= 2:
            first = sent[0][0]
            for other, _ in sent[1:]:
                if not matches[first] & matches[other]:
                    a, b = f"{path}{first}", f"{path}{other}"
                    reason = f"{_show(first, data[first])} and {_show(other, data[other])} do not name the same {group.label}"
                    raise ApiError(
                        f"{a}, {b}: {reason}",
                        422,
                        [FieldError(a, "disagree", reason), FieldError(b, "disagree", reason)],
                    )
        if len(known_sent) >= 2:
            # They agree: the method hears the record once, by its first name (an id before a
            # code before a description), as handlers that refuse "not both" expect.
            order = list(group.names)
            keep = min(known_sent, key=lambda key: order.index(key[len(prefix) :]))
            for key in known_sent:
                if key != keep:
                    del data[key]
        if not known_sent and wanted:
            common = set.intersection(*matches.values())
            if len(common) == 1:
                pk = next(iter(common))
                target = wanted[0]
                field = group.names[target[len(prefix) :]]
                data[target] = (
                    pk
                    if field == "pk"
                    else group.model.objects.filter(pk=pk).values_list(field, flat=True).first()
                )
    # Names the schema does not know were checked above; they are not "ignored".
    for key, shape in known.items():
        value = data.get(key)
        if shape.kind.kind == MODEL and isinstance(value, dict) and shape.kind.model:
            data[key] = _reconcile(company, shape.kind.model, value, f"{path}{key}.", used)
        elif shape.kind.kind == LIST and isinstance(value, list) and shape.kind.model:
            data[key] = [
                _reconcile(company, shape.kind.model, item, f"{path}{key}[{i}].", used)
                if isinstance(item, dict)
                else item
                for i, item in enumerate(value)
            ]
    return data


def reconcile(company: Company | None, model, data: dict) -> tuple[dict, frozenset[str]]:
    """The parameters with a record's names checked against each other (and translated where
    the method knows the record by another name), and the names so used."""
    if company is None:
        return data, frozenset()
    used: set[str] = set()
    return _reconcile(company, model, dict(data), "", used), frozenset(used)
