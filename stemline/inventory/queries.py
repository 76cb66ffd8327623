"""Reads of inventory that several API methods share: who sees which lines, on which dates."""

import base64
import json
from datetime import date, timedelta

from django.db.models import Q, QuerySet

from stemline.core.errors import Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.parties.models import Customer

from .models import Confirmation, InventoryChange, InventoryLine, Origin

# How many days, from the first day a line can ship, a customer may order it for. A company
# setting may replace it; until then every company offers two weeks.
HORIZON_DAYS = 14
# With no `availableDate`, the shop shows future lines arriving within two months (reference
# §2.D, ecommerce/inventory.list).
SEARCH_DAYS = 60
FEED_ROWS = 1000

LINE_RELATIONS = ("product", "product__category", "box_type", "vendor")
# What the rows show of the related records: reading only these makes a row of a list cost
# half as much to build (a product's or vendor's other columns are many and never shown).
ROW_FIELDS = (
    *(f.name for f in InventoryLine._meta.concrete_fields),
    "product__description",
    "product__legacy_code",
    "product__grade",
    "product__color",
    "product__variety",
    "product__category__name",
    "box_type__code",
    "vendor__name",
    "vendor__port_origin",
)
AVAILABLE = Q(has_stock=True)  # total > committed + held, a column the database keeps


BOXES = Q(offered_until__isnull=True)  # boxes, not a grower's offer (vendor availability)


def on_hand(today: date) -> Q:
    return BOXES & Q(in_transit=False) & (Q(arrival_date__isnull=True) | Q(arrival_date__lte=today))


def future(today: date) -> Q:
    # Coming, or in transit past its date (received late): either way not in the warehouse.
    return BOXES & (Q(arrival_date__gt=today) | Q(in_transit=True))


def vendor_availability(today: date) -> Q:
    """Growers' offers that can still be shipped (origin 3)."""
    return Q(offered_until__gte=today)


def of_origin(origin: int, today: date) -> Q:
    if origin == Origin.VENDOR_AVAILABILITY:
        return vendor_availability(today)
    return on_hand(today) if origin == Origin.ON_HAND else future(today)


def lines(company: Company) -> QuerySet:
    """The company's lines with everything a row shows, joined in the same query."""
    return (
        InventoryLine.objects.filter(company=company)
        .select_related(*LINE_RELATIONS)
        .only(*ROW_FIELDS)
    )


def first_day(line: InventoryLine, today: date) -> date:
    """The first day a line's boxes can be bought for: today, or the day they arrive."""
    if line.arrival_date and line.arrival_date > today:
        return line.arrival_date
    # On hand, or in transit and late: from today (a late AWB's boxes are expected any time).
    return today


def available_dates(line: InventoryLine, today: date) -> list[date]:
    start = first_day(line, today)
    return [start + timedelta(days=n) for n in range(HORIZON_DAYS)]


def customer(company: Company, customer_id: int, field: str = "customerId") -> Customer:
    found = Customer.objects.filter(company=company, pk=customer_id, active=True).first()
    if found is None:
        raise NotFound(f"customer {customer_id} does not exist", field=field)
    return found


def location(
    company: Company, location_id: int | None, field: str, *, required_if_multi: bool = False
) -> Location | None:
    """The company's location by ID; None when not given (refused for a multi-location
    company where the reference requires it)."""
    if location_id is None:
        if required_if_multi and company.multi_location:
            raise Invalid("required for a multi-location company", field=field)
        return None
    found = Location.objects.filter(company=company, pk=location_id).first()
    if found is None:
        raise NotFound(f"location {location_id} does not exist", field=field)
    return found


def default_location(company: Company) -> Location:
    return Location.objects.get(company=company, is_default=True)


def visible_to(buyer: Customer, reserved: bool | None) -> Q:
    """Lines a customer may buy: reserved for it (reserved=True), for nobody (False), or
    either (None)."""
    if reserved is None:
        return Q(reserved_for__isnull=True) | Q(reserved_for=buyer)
    return Q(reserved_for=buyer) if reserved else Q(reserved_for__isnull=True)


def priced_for(buyer: Customer) -> Q:
    # A line without a price at the customer's level cannot be sold to it (see customer_price).
    if buyer.default_price == "B":
        return Q(price_b__isnull=False) | Q(price_a__isnull=False)
    return Q(price_a__isnull=False)


def on_date(day: date, today: date) -> Q:
    """Lines that can be bought for `day`: on-hand ones within the horizon from today, future
    ones within the horizon from their arrival."""
    last_on_hand = today + timedelta(days=HORIZON_DAYS - 1)
    hand = on_hand(today) if today <= day <= last_on_hand else Q(pk__in=[])
    earliest_arrival = day - timedelta(days=HORIZON_DAYS - 1)
    coming = future(today) & Q(arrival_date__lte=day, arrival_date__gte=earliest_arrival)
    offered = (
        vendor_availability(today)
        & Q(offered_until__gte=day - timedelta(days=1))
        & Q(arrival_date__lte=day, arrival_date__gte=earliest_arrival)
    )
    return hand | coming | offered


def shop(
    company: Company,
    buyer: Customer,
    *,
    today: date,
    reserved: bool,
    location_id: int | None = None,
    search: str | None = None,
    category_id: int | None = None,
    color: str | None = None,
    day: date | None = None,
) -> QuerySet:
    """What a customer can buy in the web shop, on hand and future, best sellers' order
    (by product description)."""
    # The product's company named too, so the products are walked in description order by
    # their index (product_by_desc) and each one's lines by line_available_by_product.
    qs = lines(company).filter(
        AVAILABLE, visible_to(buyer, reserved), priced_for(buyer), product__company=company
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if search:
        qs = qs.filter(product__description__icontains=search)
    if category_id is not None:
        qs = qs.filter(product__category_id=category_id)
    if color:
        qs = qs.filter(product__color__iexact=color)
    if day is not None:
        qs = qs.filter(on_date(day, today))
    else:
        qs = qs.filter(on_hand(today) | Q(arrival_date__lte=today + timedelta(days=SEARCH_DAYS)))
    # A grower's offer whose last shipping day has passed is gone from the shop.
    qs = qs.exclude(offered_until__lt=today)
    return qs.order_by("product__description", "id")


def page(qs: QuerySet, start: int, size: int, *, more: bool = False):
    """One page of a sorted list of lines: the IDs are sorted on narrow rows first, then only
    those lines are read in full (sorting whole joined rows costs twice as much). With
    `more`: (the page, whether another page follows)."""
    ids = list(qs.values_list("id", flat=True)[start : start + size + int(more)])
    found = _read(ids[:size])
    return (found, len(ids) > size) if more else found


def numbered_page(qs: QuerySet, total: int, start: int, size: int):
    """(the page of `size` from row `start` of a sorted list of `total` lines, whether another
    page follows). A page in the list's second half is read from its end backwards, so the
    last page costs what the first does (OFFSET walks every row it skips)."""
    if start >= total:
        return [], False
    end = min(start + size, total)
    if start * 2 <= total:
        return page(qs, start, size, more=True)
    ids = list(qs.reverse().values_list("id", flat=True)[total - end : total - start])
    ids.reverse()
    return _read(ids), end < total


def _read(ids: list[int]) -> list[InventoryLine]:
    found = {
        line.pk: line
        for line in InventoryLine.objects.filter(pk__in=ids)
        .select_related(*LINE_RELATIONS)
        .only(*ROW_FIELDS)
    }
    return [found[pk] for pk in ids]


# Keyset paging of the shop (ecommerce/inventory.list `cursor`): the page after the last row
# of the previous one, by (product description, id), the shop's order; no OFFSET, so the last
# page costs what the first does.


def cursor_of(line: InventoryLine, total: int) -> str:
    """Where the page after `line` starts, and the list's total (counted for the first page:
    the pages after it are not counted again)."""
    raw = json.dumps([line.product.description, line.pk, total], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def read_cursor(text: str, field: str) -> tuple[str, int, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        description, pk, total = json.loads(raw)
        if not isinstance(description, str) or not all(
            type(n) is int and n >= 0 for n in (pk, total)
        ):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Invalid(
            "is not a cursor this list gave (send nextCursor as it came)", field
        ) from None
    return description, pk, total


def page_after(qs: QuerySet, description: str, pk: int, size: int):
    """(the page after the line (description, pk), whether another page follows) of a shop
    list: from the index, whichever page it is."""
    later = Q(product__description__gt=description) | Q(id__gt=pk)
    qs = qs.filter(later, product__description__gte=description)
    ids = list(qs.values_list("id", flat=True)[: size + 1])
    return _read(ids[:size]), len(ids) > size


def market(
    company: Company,
    *,
    today: date,
    origin: int,
    location_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet:
    """Unsold, unreserved boxes of one origin (the open-market lists)."""
    qs = lines(company).filter(AVAILABLE, of_origin(origin, today), reserved_for__isnull=True)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if date_from is not None:
        qs = qs.filter(arrival_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(arrival_date__lte=date_to)
    return qs.order_by("product__description", "id")


def consolidated(lines_) -> list[list[InventoryLine]]:
    """Lines that sell as one offer grouped together: same product, pack, location, mark code
    and prices (the vendor does not matter to a buyer; a different price is another offer).
    Groups keep the order of their first line; each group's lines in id order."""
    groups: dict[tuple, list[InventoryLine]] = {}
    for line in lines_:
        key = (
            line.in_units,
            line.product_id,
            line.box_type_id,
            line.unit_type,
            line.units_per_box,
            line.bunches,
            line.stems_bunch,
            line.location_id,
            line.mark_code.upper(),
            line.price_a,
            line.price_b,
        )
        groups.setdefault(key, []).append(line)
    return [sorted(group, key=lambda line: line.pk) for group in groups.values()]


def changes(company: Company, since: int) -> list[InventoryChange]:
    # What has committed gets its number first, so nothing committed is skipped.
    from .services import number_feed

    number_feed(company.pk)
    return list(
        InventoryChange.objects.filter(company=company, seq__gt=since).order_by("seq")[:FEED_ROWS]
    )


def lines_by_id(company: Company, ids) -> dict[int, InventoryLine]:
    return {line.pk: line for line in lines(company).filter(pk__in=set(ids))}


def confirmations(company: Company, token, since: int) -> list[Confirmation]:
    return list(
        Confirmation.objects.filter(company=company, token=token, seq__gt=since).order_by("seq")[
            :FEED_ROWS
        ]
    )
