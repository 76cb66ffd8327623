"""Building blocks of request and response schemas: lenient input, Komet-shaped output."""

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

MAX_INT = 2**63 - 1

# Input types. Komet clients send numbers and booleans as strings; pydantic's lax mode takes
# "12" for 12 and "1"/"0"/"true"/"false" for booleans, which is exactly the contract.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
Count = Annotated[int, Field(ge=0, le=2_000_000_000)]


def Str(max_length: int, min_length: int = 0):  # noqa: N802  (reads like a type)
    return Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=max_length, min_length=min_length)
    ]


def Required(max_length: int):  # noqa: N802
    return Str(max_length, min_length=1)


def Money(max_digits: int = 12, decimal_places: int = 2):  # noqa: N802
    """Decimal in, JSON number out, never float arithmetic in between."""
    return Annotated[
        Decimal,
        Field(max_digits=max_digits, decimal_places=decimal_places, allow_inf_nan=False),
        PlainSerializer(float, return_type=float, when_used="json"),
    ]


# Output type for decimals already computed: written as a JSON number.
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def blank_to_none(value):
    # Form posts and query strings send an empty value for "not given" (and for creditLimit
    # "empty" means unlimited); a number or date field takes it as null.
    return None if isinstance(value, str) and not value.strip() else value


OptId = Annotated[Id | None, BeforeValidator(blank_to_none)]
OptCount = Annotated[Count | None, BeforeValidator(blank_to_none)]
OptInt = Annotated[int | None, BeforeValidator(blank_to_none)]
OptBool = Annotated[bool | None, BeforeValidator(blank_to_none)]


def as_utc(value: datetime | None) -> datetime | None:
    """Date-times without a zone are GMT (contract §1); others are moved to UTC, which every
    database stores (PostgreSQL refuses offsets beyond 15:59)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date-time out of range") from exc


OptDateTime = Annotated[datetime | None, BeforeValidator(blank_to_none), AfterValidator(as_utc)]

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _in_range(value: date) -> date:
    # Date arithmetic (horizons, windows) must never overflow on a client's far-off date.
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def or_default(default):
    """Blank means the default (form posts and query strings send empty values)."""
    return BeforeValidator(lambda v: default if blank_to_none(v) is None else v)


# The dates, costs and feed positions every app's methods take.
Day = Annotated[date, AfterValidator(_in_range)]
OptDay = Annotated[Day | None, BeforeValidator(blank_to_none)]
Cost = Annotated[Money(10, 3), Field(ge=0)]
OptCost = Annotated[Cost | None, BeforeValidator(blank_to_none)]
Since = Annotated[int, Field(ge=0, le=2**62), or_default(0)]


def OptMoney(max_digits: int = 12, decimal_places: int = 2):  # noqa: N802
    return Annotated[Money(max_digits, decimal_places) | None, BeforeValidator(blank_to_none)]


class Params(BaseModel):
    """Request parameters. Unknown fields are refused by the schema; the gateway's leniency
    (api/leniency.py) sets them aside first, naming them, unless the token is strict.

    Plain pydantic, as `Out` is: ninja's Schema validates a schema that refuses unknown fields
    twice (the second time through its attribute getter), which was a tenth of a small API
    call's time; ninja renders the documentation from plain models just the same."""

    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class Out(BaseModel):
    """Base of every answer and answer row. Plain pydantic: ninja's Schema validates through a
    wrapper that costs six times as much on a 1,000-row list."""


class Envelope(Out):
    status: int = 1
    message: str = "OK"


class ErrorItem(Out):
    field: str | None = None
    code: str
    message: str


class ErrorOut(Out):
    status: int = 0
    message: str
    errors: list[ErrorItem] = []


def flag(value: bool) -> int:
    """Komet writes booleans as 1/0."""
    return 1 if value else 0


# ---------------------------------------------------------------- long lists (issue 16/17)

MAX_PAGE = 1_000_000
MAX_PAGE_ROWS = 1000
OptPage = Annotated[Annotated[int, Field(ge=1, le=MAX_PAGE)] | None, BeforeValidator(blank_to_none)]
OptRows = Annotated[
    Annotated[int, Field(ge=1, le=MAX_PAGE_ROWS)] | None, BeforeValidator(blank_to_none)
]


def paging(p) -> tuple[int, int] | None:
    """(offset, size) of the page asked for by `page`/`rows`, None for the whole list."""
    page, rows = getattr(p, "page", None), getattr(p, "rows", None)
    if page is None and rows is None:
        return None
    size = rows or 100
    return ((page or 1) - 1) * size, size


def number(value) -> float | None:
    """A decimal as the answer writes it (a JSON number), as `Number` serializes it."""
    return None if value is None else float(value)


def stamp(value: datetime | None) -> str | None:
    """A date-time as pydantic writes it: ISO 8601, `Z` for UTC."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def day(value) -> str | None:
    return None if value is None else value.isoformat()


def _dumps(value, default=None) -> bytes:
    """Compact UTF-8 JSON. orjson writes the long lists' rows (plain dicts of JSON's own types)
    about eight times faster than the standard library, which was a fifth of a 2,000-invoice
    `invoice.details.list`."""
    return orjson.dumps(value, default=default)


class Rendered:
    """An answer whose rows are already JSON's own types (str, int, float, bool, None, lists,
    dicts: see number/stamp/day), written as they are, without a model per row: the long lists
    (issue 16 item 4). `head` is the envelope and its other fields; `rows` yields the list
    under `key` in chunks (lists of rows), so a long answer is written a chunk at a time and,
    with `stream`, sent while the next chunk is read (the worker holds one chunk, not the
    answer). The handler answers for the shape: tests check it against the response schema."""

    def __init__(
        self, head: dict, key: str, rows: Iterable[list], *, stream: bool = False, default=None
    ):
        self.head, self.key, self.rows, self.stream = head, key, rows, stream
        # For values orjson does not write itself (the feeds' Decimal prices, as strings).
        self.default = default

    def chunks(self) -> Iterator[bytes]:
        yield _dumps(self.head)[:-1] + b"," + _dumps(self.key) + b":["
        first = True
        for chunk in self.rows:
            if not chunk:
                continue
            text = _dumps(chunk, self.default)[1:-1]
            yield text if first else b"," + text
            first = False
        yield b"]}"

    def body(self) -> bytes:
        return b"".join(self.chunks())
