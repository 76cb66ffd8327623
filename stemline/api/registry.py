"""The method registry: every API method declared once, the single source of truth.

From a declaration come the route, the grant check, the methods offered when a token is
created, the marketplace presets, the OpenAPI document and docs/api.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from stemline.core.models import Role

COMPANY, CUSTOMER, VENDOR, USER = "company", "customer", "vendor", "user"
TOKEN_TYPES = (COMPANY, CUSTOMER, VENDOR, USER)

ALL_STAFF = frozenset({Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING, Role.ACCOUNTING})
# Which company roles a User token (from `login`) acts with, per area: (read, write).
AREA_ROLES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "auth": (ALL_STAFF, ALL_STAFF),
    "master": (ALL_STAFF, frozenset({Role.ADMIN, Role.SETUP})),
    "sales": (
        frozenset({Role.ADMIN, Role.SALES, Role.SETUP}),
        frozenset({Role.ADMIN, Role.SALES}),
    ),
    "inventory": (ALL_STAFF, frozenset({Role.ADMIN, Role.SALES, Role.PURCHASING})),
    "purchasing": (
        frozenset({Role.ADMIN, Role.PURCHASING, Role.SALES}),
        frozenset({Role.ADMIN, Role.PURCHASING}),
    ),
    # Receivables: payments, credits, statements (issue 13); sales reps may look.
    "money": (
        frozenset({Role.ADMIN, Role.ACCOUNTING, Role.SALES}),
        frozenset({Role.ADMIN, Role.ACCOUNTING}),
    ),
}


@dataclass(frozen=True)
class Method:
    name: str
    handler: Callable[..., Any]
    request: type[BaseModel]
    response: type[BaseModel]
    token_types: frozenset[str]
    description: str
    area: str
    read: bool
    verbs: tuple[str, ...]
    roles: frozenset[str]
    account_required: bool = False
    creates: bool = False
    max_body: int | None = None
    deprecated: bool = False
    # Whether a record's several names (customerId, customerCode, customerName) must agree. Off
    # where the names describe a record to be made (multiple.prebooks.create's new customer).
    check_names: bool = True
    # The handler's docstring after its first line: the method's decisions, for docs/api.md.
    notes: str = ""
    # Other paths that reach this same method (`v2/web-order-details.list`): one Method, one
    # grant, listed once; only routing knows them (see Registry.get).
    aliases: tuple[str, ...] = ()
    # Writes run in one transaction so a refused request leaves nothing behind; a method that
    # must keep a write although it answers an error (login's throttle) opts out.
    atomic: bool = True

    @property
    def needs_token(self) -> bool:
        return bool(self.token_types)

    def accepts(self, token_type: str) -> bool:
        return token_type in self.token_types

    @property
    def grantable_types(self) -> frozenset[str]:
        """Token types whose grant list may hold this method (User tokens go by role)."""
        return self.token_types - {USER}


class Registry:
    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}
        self._aliases: dict[str, str] = {}
        self._frozen = False

    def register(self, method: Method) -> None:
        if self._frozen:
            raise RuntimeError(f"registry is frozen; cannot add {method.name}")
        for name in (method.name, *method.aliases):
            if name in self._methods or name in self._aliases:
                raise RuntimeError(f"API method {name} is declared twice")
        self._methods[method.name] = method
        for alias in method.aliases:
            self._aliases[alias] = method.name

    def freeze(self) -> None:
        self._frozen = True

    def get(self, name: str) -> Method | None:
        """The method at this path, an alias answering as its method (same grant)."""
        return self._methods.get(name) or self._methods.get(self._aliases.get(name, ""))

    def aliases(self) -> dict[str, str]:
        """Alias path -> the method's name. Iteration and names() list methods only."""
        return dict(self._aliases)

    def __iter__(self):
        return iter(sorted(self._methods.values(), key=lambda m: m.name))

    def __len__(self) -> int:
        return len(self._methods)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def grantable(self, token_type: str) -> list[Method]:
        """The methods a person may tick for a token of this type (retired ones excluded)."""
        return [m for m in self if token_type in m.grantable_types and not m.deprecated]


registry = Registry()


def api_method(
    name: str,
    *,
    request: type[BaseModel],
    response: type[BaseModel],
    tokens: Iterable[str],
    area: str,
    read: bool = False,
    verbs: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
    account_required: bool = False,
    creates: bool = False,
    max_body: int | None = None,
    deprecated: bool = False,
    check_names: bool = True,
    atomic: bool | None = None,
    aliases: Iterable[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API method. The handler takes (call, params) and returns the payload dict."""

    token_types = frozenset(tokens)
    unknown = token_types - set(TOKEN_TYPES)
    if unknown:
        raise ValueError(f"{name}: unknown token types {sorted(unknown)}")
    if roles is None:
        read_roles, write_roles = AREA_ROLES[area]
        roles = read_roles if read else write_roles

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        doc = inspect.cleandoc(handler.__doc__ or "")
        first, _, rest = doc.partition("\n")
        # Paragraphs of the rest, each on one line (docstrings wrap at the code's width).
        notes = "\n\n".join(
            " ".join(paragraph.split()) for paragraph in rest.split("\n\n") if paragraph.strip()
        )
        registry.register(
            Method(
                name=name,
                handler=handler,
                request=request,
                response=response,
                token_types=token_types,
                description=first.strip() or name,
                notes=notes,
                area=area,
                read=read,
                verbs=tuple(verbs) if verbs else (("GET", "POST") if read else ("POST",)),
                roles=frozenset(roles),
                account_required=account_required,
                creates=creates,
                max_body=max_body,
                deprecated=deprecated,
                check_names=check_names,
                aliases=tuple(aliases),
                atomic=(not read) if atomic is None else atomic,
            )
        )
        return handler

    return decorate
