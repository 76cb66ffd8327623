"""Every write to sales documents: web orders, checkout into invoices and prebooks, fees,
confirmation, and the release of holds that expired."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.utils import timezone

from stemline.core import atomic, prepared, shapes, timezones
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.hardgoods import queries as hard_goods_queries
from stemline.hardgoods import services as hard_goods
from stemline.hardgoods.models import HardGoodSale
from stemline.inventory import feeds
from stemline.inventory import queries as stock_queries
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine, Origin
from stemline.parties import queries as party_queries
from stemline.parties.models import Carrier, Customer, ShipTo

from . import charges, mailing
from .models import (
    DocumentChange,
    DocumentStatus,
    Invoice,
    InvoiceItem,
    NumberCounter,
    Prebook,
    PrebookItem,
    WebOrder,
    WebOrderItem,
)

CENT = Decimal("0.01")
WEB_ORDER_SALES = HardGoodSale.Document.WEB_ORDER

# The order path's reads, each compiled once per process (core.shapes: issue 16).
_CUSTOMER = shapes.Select(
    lambda company_id, pk: Customer.objects.filter(company_id=company_id, pk=pk, active=True)[:1]
)
_DEFAULT_LOCATION = shapes.Select(
    lambda company_id: Location.objects.filter(company_id=company_id, is_default=True)[:1]
)
_LOCATION = shapes.Select(
    lambda company_id, pk: Location.objects.filter(company_id=company_id, pk=pk, active=True)[:1]
)
_ORDER_NAMED = shapes.Select(
    lambda company_id, customer_id, pk: WebOrder.objects.select_for_update().filter(
        company_id=company_id, customer_id=customer_id, pk=pk
    )[:1]
)
# Checkout's read of the order: locked, with whether it holds hard goods (one statement).
_ORDER_TO_CHECK_OUT = shapes.Select(
    lambda company_id, customer_id, pk: (
        WebOrder.objects.select_for_update()
        .filter(company_id=company_id, customer_id=customer_id, pk=pk)
        .annotate(with_hard_goods=hard_goods_queries.held_on(WEB_ORDER_SALES))[:1]
    )
)
_ORDER_PENDING = shapes.Select(
    lambda company_id, customer_id, location_id: (
        WebOrder.objects.select_for_update()
        .filter(
            company_id=company_id,
            customer_id=customer_id,
            location_id=location_id,
            status=WebOrder.Status.PENDING,
        )
        .order_by("-id")[:1]
    )
)
_ORDER_KINDS = shapes.Select(
    lambda company_id, customer_id, web_order_id: (
        WebOrderItem.objects.filter(
            company_id=company_id,
            web_order_id=web_order_id,
            web_order__customer_id=customer_id,
            web_order__status=WebOrder.Status.PENDING,
        )
        .order_by()
        .values_list("web_order__location_id", "origin")
        .distinct()
    )
)


def _customer_with_location(company_id, pk, locations):
    """The active customer, annotated with the id of the first of `locations` (None: none)."""
    return Customer.objects.filter(company_id=company_id, pk=pk, active=True).annotate(
        location_found=Subquery(locations.values("pk")[:1])
    )[:1]


_CUSTOMER_AT_LOCATION = shapes.Select(
    lambda company_id, pk, location_id: _customer_with_location(
        company_id,
        pk,
        Location.objects.filter(company_id=company_id, pk=location_id, active=True),
    )
)
_CUSTOMER_AT_DEFAULT_LOCATION = shapes.Select(
    lambda company_id, pk: _customer_with_location(
        company_id, pk, Location.objects.filter(company_id=company_id, is_default=True)
    )
)
# Checkout's read of the customer: with its company, its first ship-to and whether any of the
# company's charges could apply (one statement instead of three).
_CUSTOMER_WITH_COMPANY = shapes.Select(
    lambda company_id, pk: party_queries.with_charge_hints(
        Customer.objects.select_related("company")
        .filter(company_id=company_id, pk=pk)
        .annotate(
            first_ship_to_id=Subquery(
                ShipTo.objects.filter(customer_id=OuterRef("pk"), removed_at__isnull=True)
                .order_by(*ShipTo._meta.ordering)
                .values("pk")[:1]
            )
        )
    )[:1]
)


def _order_items(*lines: str) -> shapes.Select:
    return shapes.Select(
        lambda web_order_id: (
            WebOrderItem.objects.filter(web_order_id=web_order_id)
            .select_related("carrier", "ship_to", *lines)
            .order_by("id")
        )
    )


_ORDER_ITEMS = _order_items("line")
# The same, with what the channels' rows show of the lines (inventory.services.rows_wanted).
_ORDER_ITEMS_WITH_ROWS = _order_items(*(f"line__{name}" for name in stock_queries.LINE_RELATIONS))


def customer_of(company: Company, customer_id: int) -> Customer:
    customer = _CUSTOMER.first(company.pk, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    return customer


def customer_at(company: Company, customer_id: int, location_id: int | None) -> tuple:
    """(the active customer, the id of the location it orders at): `customer_of` and
    `location_of` in one statement, with their refusals."""
    if location_id is None:
        if company.multi_location:
            customer_of(company, customer_id)  # the customer's refusal comes first
            _refuse_no_location()
        customer = _CUSTOMER_AT_DEFAULT_LOCATION.first(company.pk, customer_id)
    else:
        customer = _CUSTOMER_AT_LOCATION.first(company.pk, customer_id, location_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    if customer.location_found is None:
        _refuse_unknown_location(location_id)
    return customer, customer.location_found


def _refuse_no_location():
    raise Invalid("required for a multi-location company", field="companyLocationId")


def _refuse_unknown_location(location_id: int | None):
    raise NotFound(f"location {location_id} does not exist", field="companyLocationId")


def location_of(company: Company, location_id: int | None) -> Location:
    if location_id is None:
        if company.multi_location:
            _refuse_no_location()
        location = _DEFAULT_LOCATION.first(company.pk)
    else:
        location = _LOCATION.first(company.pk, location_id)
    if location is None:
        _refuse_unknown_location(location_id)
    return location


def next_number(company: Company, location: Location | int, kind: str) -> int:
    """The location's next invoice / prebook / ... number: one UPDATE ... RETURNING, which
    locks the counter until the transaction ends (so numbers are never reused). Outside a
    transaction the statement commits at once, so nobody waits on the counter for longer
    (web order checkout takes its numbers so, before its transaction; a checkout that then
    fails leaves its number unused)."""
    location_id = getattr(location, "pk", location)
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    with prepared.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = value + 1 "
            "WHERE company_id = %s AND location_id = %s AND kind = %s RETURNING value",
            [company.pk, location_id, kind],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    # The first number of its kind here: make the counter (a racing maker's row wins).
    try:
        with transaction.atomic():
            NumberCounter.objects.create(
                company=company, location_id=location_id, kind=kind, value=0
            )
    except IntegrityError:
        pass
    return next_number(company, location_id, kind)


def fee_for(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


FEEDS = {"Invoice": "invoices", "Prebook": "prebooks"}

# Hooks of higher layers (money registers both in its AppConfig.ready()): what an invoice
# change does to the receivables ledger, in the same transaction; and why a customer's new
# order must wait for a sales rep (credit hold, over the credit limit).
_invoice_hooks: list = []
_order_checks: list = []
# What a prebook change sets off in a higher layer in the same transaction (availability
# registers one: a prebook line sold from a grower's offer is bought from that grower).
_prebook_hooks: list = []


def on_invoice_change(hook) -> None:
    """`hook(invoice, kind)` runs on every invoice change, before its feed row is numbered."""
    if hook not in _invoice_hooks:
        _invoice_hooks.append(hook)


def on_prebook_change(hook) -> None:
    """`hook(prebook, kind)` runs on every prebook change, before its feed row is numbered."""
    if hook not in _prebook_hooks:
        _prebook_hooks.append(hook)


def on_order_check(check) -> None:
    """`check(customer, amount) -> str`: a reason the order waits for a sales rep, or ""."""
    if check not in _order_checks:
        _order_checks.append(check)


# The marketplace channel a customer stands for: the channels app (a higher layer) registers
# how to find it and how its feed limits an order, in its AppConfig.ready(). Sales reads the
# channel only through the attributes named in `channel_for_customer`.
_channel_lookups: list = []
_channel_quantity_checks: list = []


def on_customer_channel(lookup, check_quantities=None) -> None:
    """`lookup(company_id, customer_id)` -> the customer's channel or None;
    `check_quantities(channel, lines, totals)` raises NotEnoughStock for more than the
    channel's feed shows of a line (see add_items)."""
    if lookup not in _channel_lookups:
        _channel_lookups.append(lookup)
    if check_quantities is not None and check_quantities not in _channel_quantity_checks:
        _channel_quantity_checks.append(check_quantities)


def channel_for_customer(company_id: int, customer_id: int):
    """The marketplace channel the customer represents, or None: an object with fee_rate,
    buffer, line_cap, checkout_on_add, max_share_of_line and max_share_of_market."""
    for lookup in _channel_lookups:
        channel = lookup(company_id, customer_id)
        if channel is not None:
            return channel
    return None


_NO_CHANNEL_YET = object()


def fee_rate_for(company: Company, customer_id: int, channel=_NO_CHANNEL_YET) -> Decimal:
    """The transaction fee rate of a customer's API orders: its channel's, when it represents
    a marketplace, else the company's. `channel`: the one already looked up, if it was."""
    if channel is _NO_CHANNEL_YET:
        channel = channel_for_customer(company.pk, customer_id)
    return company.transaction_fee_rate if channel is None else channel.fee_rate


def check_channel_quantities(channel, lines, totals) -> None:
    if channel is not None:
        for check in _channel_quantity_checks:
            check(channel, lines, totals)


def hold_reason(customer: Customer, amount: Decimal = Decimal("0")) -> str:
    return "; ".join(r for r in (check(customer, amount) for check in _order_checks) if r)


def _change_row(document, kind: str) -> DocumentChange:
    return DocumentChange(
        company_id=document.company_id,
        feed=FEEDS[type(document).__name__],
        seq=None,
        document_id=document.pk,
        kind=kind,
    )


def record_change(document, kind: str, *, written: bool = False) -> None:
    """A row of invoice.sync / prebook.sync (numbered after commit). `written`: the row was
    inserted with the document itself (see _document); the hooks and the numbering follow."""
    if isinstance(document, Invoice):
        for hook in _invoice_hooks:
            hook(document, kind)
    else:
        for hook in _prebook_hooks:
            hook(document, kind)
    feed = FEEDS[type(document).__name__]
    if not written:
        shapes.insert([_change_row(document, kind)])
    # Numbered once committed (inventory.feeds): no writer waits on the feed's counter.
    feeds.sequence_after_commit(
        document.company_id, feed, DocumentChange, {"feed": feed}, spaced=True
    )


def refuse_if_synced(invoice: Invoice) -> None:
    """A synchronized invoice is locked for everyone until marked with an error (§1.7)."""
    if invoice.synced:
        raise Conflict(
            f"invoice {invoice.number} ({invoice.get_status_display()}) is synchronized with an "
            "external system and locked; mark it with invoice.mark.sync.status.error to change it",
            field="invoiceId",
            currentStatus=invoice.status,
        )


def _hold_deadline():
    return timezone.now() + timedelta(minutes=settings.WEB_ORDER_HOLD_MINUTES)


@transaction.atomic
def create_web_order(
    *, company: Company, customer_id: int, location_id: int | None, token=None
) -> WebOrder:
    return WebOrder.objects.create(
        company=company,
        customer=customer_of(company, customer_id),
        location=location_of(company, location_id),
        token=token,
        hold_expires_at=_hold_deadline(),
    )


def pending_order(company, customer, location, web_order_id, token, *, queued=False) -> WebOrder:
    """The customer's pending web order at `location` (a Location, or its id as `customer_at`
    gives it), locked: the one named, its latest there, or a new one."""
    location_id = location if isinstance(location, int) else location.pk
    order = _pending_order(company, customer, location_id, web_order_id, token, queued=queued)[0]
    if isinstance(location, Location) and order.location_id == location.pk:
        order.location = location  # read already: order.location makes no query
    return order


def _order_columns(alias: str = "") -> str:
    """Every column of a web order, in model order (as `_order_from` reads them back)."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}{quote(f.column)}" for f in WebOrder._meta.concrete_fields)


def _order_from(values) -> WebOrder:
    """The web order of a row of `_order_columns()`, as the ORM would make it."""
    fields = [f.attname for f in WebOrder._meta.concrete_fields]
    return WebOrder.from_db(connection.alias, fields, values)


# What a new pending order's columns hold (any other column: NULL).
_NEW_ORDER_VALUES = {
    "company_id": "%(company)s",
    "customer_id": "%(customer)s",
    "location_id": "%(location)s",
    "status": str(int(WebOrder.Status.PENDING)),
    "customer_po": "''",
    "token_id": "%(token)s",
    "hold_expires_at": "%(expires)s",
    "created_at": "%(now)s",
}


@cache
def _latest_or_new_sql() -> str:
    """PostgreSQL: the customer's latest pending order at the location, locked, its hold
    deadline moved on; or, when it has none, a new one: one statement (add_items' first write;
    two on SQLite)."""
    quote = connection.ops.quote_name
    table = quote(WebOrder._meta.db_table)
    fields = [f for f in WebOrder._meta.concrete_fields if not f.primary_key]
    listed = _order_columns()
    made = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(_NEW_ORDER_VALUES.get(f.attname, "NULL") for f in fields)
    returned = _order_columns("o.")
    return (
        f"WITH found AS (SELECT id FROM {table} WHERE company_id = %(company)s "
        "AND customer_id = %(customer)s AND location_id = %(location)s "
        f"AND status = {int(WebOrder.Status.PENDING)} ORDER BY id DESC LIMIT 1 FOR UPDATE), "
        f"bumped AS (UPDATE {table} o SET hold_expires_at = %(expires)s FROM found "
        f"WHERE o.id = found.id RETURNING {returned}), "
        f"made AS (INSERT INTO {table} ({made}) SELECT {values} "
        f"WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING {listed}) "
        f"SELECT {listed} FROM bumped UNION ALL SELECT {listed} FROM made"
    )


def _latest_or_new(company, customer, location_id: int, token) -> WebOrder:
    with prepared.cursor() as cursor:
        cursor.execute(
            _latest_or_new_sql(),
            {
                "company": company.pk,
                "customer": customer.pk,
                "location": location_id,
                "token": token.pk if token is not None else None,
                "expires": _hold_deadline(),
                "now": timezone.now(),
            },
        )
        order = _order_from(cursor.fetchone())
    order.company, order.customer = company, customer
    if token is not None and order.token_id == token.pk:
        order.token = token
    return order


def _pending_order(
    company, customer, location_id: int, web_order_id, token, *, queued=False, bump=False
) -> tuple[WebOrder, bool]:
    """The customer's pending web order, locked (the one named, or its latest at the location,
    or a new one), and whether its hold deadline was set just now: made now, or (`bump`, on
    PostgreSQL) moved on by the statement that found it."""
    if not queued:
        queue_if_limited(company, customer)
    if web_order_id is not None:
        order = _ORDER_NAMED.first(company.pk, customer.pk, web_order_id)
        if order is None:
            raise NotFound(f"web order {web_order_id} does not exist", field="webOrderId")
        if order.status != WebOrder.Status.PENDING:
            raise Conflict(
                f"web order {web_order_id} is {order.get_status_display()}; lines can be added "
                "only to a pending one",
                field="webOrderId",
            )
        return order, False
    if bump and connection.vendor == "postgresql":
        # Made or moved on: its deadline is set either way.
        return _latest_or_new(company, customer, location_id, token), True
    order = _ORDER_PENDING.first(company.pk, customer.pk, location_id)
    if order is not None:
        return order, False
    order = WebOrder(
        company=company,
        customer=customer,
        location_id=location_id,
        token=token,
        hold_expires_at=_hold_deadline(),
    )
    shapes.insert([order])
    return order, True


@dataclass
class ItemRequest:
    inventory_id: int
    quantity: int


@dataclass
class AddResult:
    web_order: WebOrder
    items: list[WebOrderItem] = field(default_factory=list)
    channel: object = None  # the marketplace channel the customer represents, if any


@dataclass(frozen=True)
class ShareLimits:
    """The most one customer may hold at once, in percent; None: no limit."""

    line: int | None = None
    market: int | None = None

    def __bool__(self) -> bool:
        return self.line is not None or self.market is not None


def share_limits(company: Company, channel=None) -> ShareLimits:
    """The company's hoarding limits, or those the customer's marketplace channel overrides
    (any object with max_share_of_line / max_share_of_market; sales does not know channels'
    models). 100 means no limit."""

    def pick(name: str) -> int | None:
        own = getattr(channel, name, None) if channel is not None else None
        value = own if own is not None else getattr(company, name)
        return None if value is None or value >= 100 else value

    return ShareLimits(line=pick("max_share_of_line"), market=pick("max_share_of_market"))


def queue_if_limited(company: Company, customer: Customer) -> tuple[object, ShareLimits]:
    """The customer's marketplace channel and hoarding limits; with a limit, lock the customer
    so its adds count what it holds one at a time. Taken before the order and the lines (as
    prebooking locks the customer first), by every path that adds lines."""
    channel = channel_for_customer(company.pk, customer.pk)
    limits = share_limits(company, channel)
    if limits:
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
    return channel, limits


def _allowed(percent: int, boxes: int) -> int:
    # At least one box: a share of a small line must not shut everyone out of it.
    return max(1, boxes * percent // 100)


def check_shares(
    company: Company,
    customer: Customer,
    limits: ShareLimits,
    lines: dict[int, InventoryLine],
    adding: dict[int, int],
    excluding: list[int] = (),
) -> None:
    """Refuse (409) what would let one customer hold more than its share of a line's unsold
    boxes or of the open market's. Called under the lock on the customer (see add_items), so
    two adds of one customer cannot both pass; lines reserved for someone are no market."""
    open_lines = {pk: n for pk, n in adding.items() if lines[pk].reserved_for_id is None}
    if not open_lines:
        return
    pending = WebOrderItem.objects.filter(
        company=company,
        web_order__customer=customer,
        web_order__status=WebOrder.Status.PENDING,
        line__reserved_for__isnull=True,
    ).exclude(pk__in=list(excluding))  # the items being added, counted in `adding`
    if limits.line is not None:
        already = dict(
            pending.filter(line_id__in=list(open_lines))
            .values("line_id")
            .annotate(boxes=Sum("quantity"))
            .values_list("line_id", "boxes")
        )
        for pk in sorted(open_lines):
            line = lines[pk]
            unsold = line.total - line.committed
            allowed = _allowed(limits.line, unsold)
            would_hold = already.get(pk, 0) + open_lines[pk]
            if would_hold > allowed:
                raise Conflict(
                    f"customerId {customer.pk} may hold at most {limits.line}% of inventory line "
                    f"{pk} ({allowed} of {unsold} boxes); this would make {would_hold}",
                    field="quantity",
                    inventoryId=pk,
                    maxBoxes=allowed,
                )
    if limits.market is not None:
        # The market in boxes: units lines (stems, bunches) are no part of it.
        boxes = pending.filter(line__in_units=False).aggregate(boxes=Sum("quantity"))["boxes"]
        adding_boxes = sum(n for pk, n in open_lines.items() if not lines[pk].in_units)
        held = (boxes or 0) + adding_boxes
        market = (
            InventoryLine.objects.filter(
                company=company, reserved_for__isnull=True, in_units=False, total__gt=F("committed")
            ).aggregate(boxes=Sum(F("total") - F("committed")))["boxes"]
            or 0
        )
        allowed = _allowed(limits.market, market)
        if held > allowed:
            raise Conflict(
                f"customerId {customer.pk} may hold at most {limits.market}% of the open market "
                f"({allowed} of {market} boxes); this would make {held}",
                field="quantity",
                maxBoxes=allowed,
            )


@atomic.atomically  # inside an API call: in its transaction, without a savepoint
def add_items(
    *,
    company: Company,
    customer_id: int,
    requests: list[ItemRequest],
    origin: int,
    location_id: int | None = None,
    web_order_id: int | None = None,
    price: Decimal | None = None,
    carrier_id: int | None = None,
    ship_to_id: int | None = None,
    ship_date: date | None = None,
    mark_code: str = "",
    reserved: bool = False,
    token=None,
    staff_price: Decimal | None = None,
) -> AddResult:
    """Add lines to the customer's pending web order, holding their boxes at once.

    `staff_price`: a sales rep taking an order in the web application sells at this unit
    price instead of the customer's (which then need not exist); the API never sends it."""
    customer, location_id = customer_at(company, customer_id, location_id)
    carrier = ship_to = None
    if carrier_id is not None:
        carrier = Carrier.objects.filter(company=company, pk=carrier_id, active=True).first()
        if carrier is None:
            raise NotFound(f"carrier {carrier_id} does not exist", field="carrierId")
    if ship_to_id is not None:
        ship_to = ShipTo.objects.filter(
            company=company, customer=customer, pk=ship_to_id, removed_at__isnull=True
        ).first()
        if ship_to is None:
            raise NotFound(f"ship-to {ship_to_id} does not exist", field="shipToId")
    channel, limits = queue_if_limited(company, customer)
    # The order is locked before the lines, as checkout, delete_item, cancel and expire_holds
    # lock them; the other way round two of them could wait on each other for good.
    order, deadline_set = _pending_order(
        company, customer, location_id, web_order_id, token, queued=True, bump=True
    )
    held: dict[int, int] = {}
    for r in requests:
        held[r.inventory_id] = held.get(r.inventory_id, 0) + r.quantity
    # Everything that can be read and checked before the lines' locks is: the lines as they
    # are now, where and what they sell, at which price.
    lines = stock.lines_of(company, held)
    for r in requests:
        # Stems sell in whole bunches: a broken bunch is refused as such, short or not.
        stock.check_whole_bunches(lines[r.inventory_id], r.quantity)
    stock.refuse_short(lines, held)
    today = stock.today()
    prices: dict[int, Decimal] = {}
    for r in requests:
        line = lines[r.inventory_id]
        if line.location_id != location_id:
            raise NotFound(
                f"inventory line {line.pk} is not at location {location_id}", field="inventoryIds"
            )
        if line.origin_on(today) != origin:
            raise Invalid(
                f"inventory line {line.pk} is {Origin(line.origin_on(today)).label}, not "
                f"{Origin(origin).label}",
                field="inventoryOrigin",
            )
        if line.reserved_for_id not in (None, customer.pk) or (
            reserved and line.reserved_for_id != customer.pk
        ):
            raise NotFound(f"inventory line {line.pk} does not exist", field="inventoryIds")
        if staff_price is not None:
            prices[line.pk] = staff_price
            continue
        unit_price = stock.customer_price(line, customer)
        if unit_price is None:
            raise Conflict(
                f"inventory line {line.pk} has no price for this customer", field="inventoryIds"
            )
        if price is not None and price.quantize(Decimal("0.001")) != unit_price:
            raise Conflict(
                f"inventory line {line.pk} sells at {unit_price} to this customer, not {price}",
                field="price",
                price=float(unit_price),
            )
        prices[line.pk] = unit_price
    if not deadline_set:
        order.hold_expires_at = _hold_deadline()
        shapes.update(order, ["hold_expires_at"])
    items = [
        WebOrderItem(
            company=company,
            web_order=order,
            line=lines[r.inventory_id],
            origin=origin,
            quantity=r.quantity,
            price=prices[r.inventory_id],
            carrier=carrier,
            ship_to=ship_to,
            ship_date=ship_date,
            mark_code=mark_code or lines[r.inventory_id].mark_code,
        )
        for r in requests
    ]
    # The lines last: from the first guarded UPDATE to the commit, only the feed rows, the
    # items (written by the first line's statement on PostgreSQL) and the checks of what was
    # just held (a refusal undoes it all, one transaction).
    stock.hold(company=company, wanted=list(held.items()), lines=lines, rows=items)
    check_channel_quantities(channel, lines, held)
    if limits:
        check_shares(company, customer, limits, lines, held, excluding=[i.pk for i in items])
    return AddResult(order, items, channel=channel)


def _order(company: Company, customer_id: int, web_order_id: int, read=_ORDER_NAMED) -> WebOrder:
    order = read.first(company.pk, customer_id, web_order_id)
    if order is None:
        raise NotFound(f"web order {web_order_id} does not exist", field="webOrderId")
    return order


@transaction.atomic
def delete_item(
    *,
    company: Company,
    customer_id: int,
    web_order_id: int,
    item_id: int,
    hard_good: bool | None = None,
) -> None:
    """Take a line off a pending web order; what it held is available again at once.

    `item_id` names a line of boxes or units, or (`hard_good` True) a hard-goods line, whose
    ids come from another sequence. Unsaid (None): whichever of the order's lines has that id,
    refused by name when both do."""
    order = _order(company, customer_id, web_order_id)
    if order.status != WebOrder.Status.PENDING:
        raise Conflict(
            f"web order {web_order_id} is {order.get_status_display()}", field="webOrderId"
        )
    item = sale = None
    if hard_good is not True:
        item = WebOrderItem.objects.filter(web_order=order, pk=item_id).first()
    if hard_good is not False:
        sale = hard_goods.sales_on(company.pk, WEB_ORDER_SALES, order.pk).filter(pk=item_id).first()
    if item is not None and sale is not None:
        raise Invalid(
            f"web order {web_order_id} has a line of boxes and a line of hard goods numbered "
            f"{item_id}: send inventoryOrigin {hard_goods_queries.HARD_GOODS_ORIGIN} for the "
            "hard goods, or the boxes' origin",
            field="inventoryOrigin",
        )
    if sale is not None:
        hard_goods.release_sale(company=company, sale_id=sale.pk)
        return
    if item is None:
        raise NotFound(f"web order item {item_id} does not exist", field="webOrderItemId")
    stock.release(company=company, held=[(item.line_id, item.quantity)])
    item.delete()


def _release_order(order: WebOrder, status: int) -> None:
    held = [(i.line_id, i.quantity) for i in order.items.all()]
    if held:
        stock.release(company=order.company, held=held)
    hard_goods.release(company=order.company, document_kind=WEB_ORDER_SALES, document_id=order.pk)
    order.status = status
    order.canceled_at = timezone.now()
    order.save(update_fields=["status", "canceled_at"])


@transaction.atomic
def cancel(*, company: Company, customer_id: int, web_order_id: int) -> WebOrder:
    """Cancel a web order: a pending one gives its boxes back; a checked-out one is cancelled
    while its documents still wait for approval (their boxes come back, the documents are
    voided), and refused once a sales rep confirmed them."""
    order = _order(company, customer_id, web_order_id)
    if order.status == WebOrder.Status.PENDING:
        _release_order(order, WebOrder.Status.CANCELED)
        return order
    if order.status != WebOrder.Status.CHECKED_OUT:
        raise Conflict(
            f"web order {web_order_id} is already {order.get_status_display()}", field="webOrderId"
        )
    # A document voided on its own already gave its boxes back.
    documents = [
        *Invoice.objects.select_for_update()
        .filter(company=company, web_order=order)
        .exclude(status=DocumentStatus.VOIDED),
        *Prebook.objects.select_for_update()
        .filter(company=company, web_order=order, deleted_at__isnull=True)
        .exclude(status=DocumentStatus.VOIDED),
    ]
    for document in documents:
        if isinstance(document, Invoice):
            refuse_if_synced(document)
    if any(d.status == DocumentStatus.CONFIRMED for d in documents):
        raise Conflict(
            f"web order {web_order_id} was confirmed by the company and can no longer be cancelled",
            field="webOrderId",
        )
    # One call for every document's lines: locking a second batch of lines after the first
    # one's change-feed counter would break the primary-key lock order.
    sold = [(i.line_id, i.boxes) for d in documents for i in d.items.all() if i.line_id]
    if sold:
        stock.uncommit(company=company, sold=sold)
    for document in documents:
        document.status = DocumentStatus.VOIDED
        document.save(update_fields=["status", "updated_at"])
        record_change(document, "voided")
    order.status = WebOrder.Status.CANCELED
    order.canceled_at = timezone.now()
    order.save(update_fields=["status", "canceled_at"])
    return order


@dataclass
class Checkout:
    web_order: WebOrder
    invoice: Invoice | None
    prebook: Prebook | None

    @property
    def transaction_fee(self) -> Decimal:
        return sum((d.transaction_fee for d in (self.invoice, self.prebook) if d), Decimal("0.00"))


def next_shipping_day(company: Company) -> date:
    """The company's next shipping day, for a document whose caller sent no ship date.

    Companies have no shipping calendar or order cut-off yet, so it is today in the company's
    time zone (activated for every call: core.timezones); when a calendar or a cut-off comes,
    this is the one place that applies it."""
    with timezones.company_time(company):
        return stock.today()


def document_ship_date(company: Company, items) -> date:
    """The ship date a web order's invoice or prebook gets: the date its lines were added
    with (the first line that has one), else the company's next shipping day. A prebook of
    future boxes never ships before they arrive: without a sent date it takes the latest
    arrival date of its lines when that is later. So every document made through the API has
    a ship date, and invoice.list / prebook.list date windows find it."""
    sent = next((i.ship_date for i in items if i.ship_date), None)
    if sent is not None:
        return sent
    day = next_shipping_day(company)
    arrivals = [i.line.arrival_date for i in items if i.line.arrival_date]
    return max([day, *arrivals])


def _document(model, item_model, order, items, fee_rate, status, via_api, **header):
    """The invoice or prebook of a web order's lines, worked out in full before it is written:
    the header, its lines, its charges and its feed row ("created", for record_change with
    `written=True`) in one statement on PostgreSQL. `header`: the number, the default
    ship-to, who confirmed it and why it waits, as checkout settled them."""
    company = order.company
    first = items[0] if items else None  # an invoice of hard goods only has no box line
    rows = [
        item_model(
            company=company,
            line=i.line,
            product_id=i.line.product_id,
            box_type_id=i.line.box_type_id,
            boxes=i.quantity,
            unit_type=i.line.unit_type,
            units_per_box=i.line.units_per_box,
            price=i.price,
            mark_code=i.mark_code,
            web_order_item=i,
        )
        for i in items
    ]
    amount = sum((r.amount for r in rows), Decimal("0")).quantize(CENT, ROUND_HALF_UP)
    fee_rate = fee_rate if via_api else Decimal("0")
    document = model(
        company=company,
        location_id=order.location_id,
        number=header["number"],
        customer=order.customer,
        ship_to_id=(first.ship_to_id if first else None) or header["ship_to"],
        carrier=first.carrier if first else None,
        ship_date=document_ship_date(company, items),
        customer_po=order.customer_po,
        status=status,
        via_api=via_api,
        fee_rate=fee_rate,
        transaction_fee=fee_for(amount, fee_rate),
        amount=amount,
        web_order=order,
        confirmed_at=timezone.now() if status == DocumentStatus.CONFIRMED else None,
        confirmed_by=header.get("confirmed_by"),
    )
    added = []
    if model is Invoice:
        document.hold_reason = header.get("hold_reason", "")[:200]
        added = charges.worked_out(document)
    shapes.insert_family(
        document,
        [
            (rows, f"{model.__name__.lower()}_id"),
            (added, "invoice_id"),
            ([_change_row(document, "created")], "document_id"),
        ],
    )
    if model is Invoice and getattr(order, "with_hard_goods", False):
        # The order's held hard goods are sold on its invoice too (hardgoods, issue 14): the
        # amount, fee and charges then count them.
        sold = hard_goods.check_out(company=company, web_order_id=order.pk, invoice_id=document.pk)
        document.amount = (
            document.amount + sum((sale.amount for sale in sold), Decimal("0"))
        ).quantize(CENT, ROUND_HALF_UP)
        document.transaction_fee = fee_for(document.amount, document.fee_rate)
        document.save(update_fields=["amount", "transaction_fee"])
        charges.apply(document)
    if model is Invoice and status == DocumentStatus.CONFIRMED:
        mailing.send_when_committed(document)
    return document


def _set_header(company, order, items, ship_to_id, carrier_id, ship_date) -> None:
    changes = {}
    if carrier_id is not None:
        changes["carrier"] = Carrier.objects.filter(
            company=company, pk=carrier_id, active=True
        ).first()
        if changes["carrier"] is None:
            raise NotFound(f"carrier {carrier_id} does not exist", field="carrierId")
    if ship_to_id is not None:
        changes["ship_to"] = ShipTo.objects.filter(
            company=company, customer_id=order.customer_id, pk=ship_to_id, removed_at__isnull=True
        ).first()
        if changes["ship_to"] is None:
            raise NotFound(f"ship-to {ship_to_id} does not exist", field="shipToId")
    for item in items:
        for name, value in changes.items():
            setattr(item, name, value)
        if ship_date is not None:
            # Future boxes never ship before they arrive: their prebook takes the later date.
            arrival = item.line.arrival_date if item.origin == Origin.FUTURE else None
            item.ship_date = max(ship_date, arrival) if arrival else ship_date
    fields = [*changes, *(["ship_date"] if ship_date is not None else [])]
    WebOrderItem.objects.bulk_update(items, fields)


def checkout(
    *,
    company: Company,
    customer_id: int,
    web_order_id: int,
    customer_po: str = "",
    via_api: bool = True,
    confirm: bool | None = None,
    user=None,
    ship_to_id: int | None = None,
    carrier_id: int | None = None,
    ship_date: date | None = None,
) -> Checkout:
    """On-hand lines become one invoice, future lines one prebook, with the transaction fee
    (none for the company's own orders, `via_api=False`). `confirm` True or False: a sales rep
    taking the order chooses Confirmed or Pending Approval; None follows the company's
    auto-confirm. `user` is who confirmed it. `ship_to_id`, `carrier_id`, `ship_date`: the
    header a sales rep settled on after adding the lines, given to every line (and so to the
    documents)."""
    numbers = {}
    if not connection.in_atomic_block:
        # Called on its own (the API, the web app): the documents' numbers are taken first,
        # each by a statement that commits at once, so no checkout waits on another's number
        # counter while it holds the lines. One that then fails leaves its number unused.
        numbers = _numbers_first(company, customer_id, web_order_id)
    return _checkout(
        company=company,
        customer_id=customer_id,
        web_order_id=web_order_id,
        customer_po=customer_po,
        via_api=via_api,
        confirm=confirm,
        user=user,
        ship_to_id=ship_to_id,
        carrier_id=carrier_id,
        ship_date=ship_date,
        numbers=numbers,
    )


def _held_hard_goods_sql(order: str) -> str:
    """Whether the web order `order` (an alias) holds hard goods not given back: what
    hardgoods.queries.held_on asks of a document, for statements written by hand here."""
    sales = connection.ops.quote_name(HardGoodSale._meta.db_table)
    return (
        f"EXISTS (SELECT 1 FROM {sales} s WHERE s.company_id = {order}.company_id "
        f"AND s.document_kind = %(hard_goods)s AND s.document_id = {order}.id "
        "AND s.released_at IS NULL)"
    )


@cache
def _check_out_sql() -> str:
    """PostgreSQL: the pending order checked out (locked, its status, time and PO set) with
    whether it holds hard goods, in one statement; no row when it is not pending or not the
    customer's."""
    table = connection.ops.quote_name(WebOrder._meta.db_table)
    return (
        f"UPDATE {table} o SET status = {int(WebOrder.Status.CHECKED_OUT)}, "
        "checked_out_at = %(now)s, "
        "customer_po = CASE WHEN %(po)s = '' THEN o.customer_po ELSE %(po)s END "
        "WHERE o.company_id = %(company)s AND o.customer_id = %(customer)s "
        f"AND o.id = %(order)s AND o.status = {int(WebOrder.Status.PENDING)} "
        f"RETURNING {_order_columns('o.')}, {_held_hard_goods_sql('o')}"
    )


def _checked_out_order(company, customer_id: int, web_order_id: int, customer_po: str):
    """The order to check out, locked (PostgreSQL: already marked checked out, in the
    statement that locks it; SQLite: still pending, read with whether it holds hard goods),
    or the refusal of an order that is not the customer's or not pending."""
    if connection.vendor == "postgresql":
        with prepared.cursor() as cursor:
            cursor.execute(
                _check_out_sql(),
                {
                    "now": timezone.now(),
                    "po": customer_po or "",
                    "company": company.pk,
                    "customer": customer_id,
                    "order": web_order_id,
                    "hard_goods": WEB_ORDER_SALES,
                },
            )
            row = cursor.fetchone()
        if row is not None:
            *values, with_hard_goods = row
            order = _order_from(values)
            order.with_hard_goods = with_hard_goods
            return order
        order = _order(company, customer_id, web_order_id)  # not found: refused here
    else:
        order = _order(company, customer_id, web_order_id, read=_ORDER_TO_CHECK_OUT)
    if order.status != WebOrder.Status.PENDING:
        raise Conflict(
            f"web order {web_order_id} is {order.get_status_display()}; only a pending one can "
            "be checked out",
            field="webOrderId",
        )
    return order


@cache
def _numbers_sql(committed_at_once: bool) -> str:
    """The statement that takes an order's numbers. `committed_at_once`: it runs on its own
    (autocommit), so it may commit without waiting for the disk; inside a transaction it may
    not (that would make the documents' commit asynchronous too)."""
    quote = connection.ops.quote_name
    items, orders, counters = (
        quote(m._meta.db_table) for m in (WebOrderItem, WebOrder, NumberCounter)
    )
    return (
        "WITH wanted AS ("
        "SELECT DISTINCT o.location_id, "
        "CASE WHEN i.origin = %(on_hand)s THEN 'invoice' ELSE 'prebook' END AS kind "
        f"FROM {items} i JOIN {orders} o ON o.id = i.web_order_id "
        "WHERE i.company_id = %(company)s AND i.web_order_id = %(order)s "
        "AND o.customer_id = %(customer)s AND o.status = %(pending)s "
        # Hard goods held on the order go on its invoice, so they want an invoice number too
        # (taken here with the others, never alone after them in another order).
        f"UNION SELECT o.location_id, 'invoice' FROM {orders} o "
        "WHERE o.company_id = %(company)s AND o.id = %(order)s "
        "AND o.customer_id = %(customer)s AND o.status = %(pending)s "
        f"AND {_held_hard_goods_sql('o')}), "
        # The counters locked in one order, so two checkouts taking two numbers each never
        # wait on each other's second.
        f"locked AS (SELECT c.id FROM {counters} c JOIN wanted w ON c.location_id = w.location_id "
        "AND c.kind = w.kind WHERE c.company_id = %(company)s ORDER BY c.id FOR UPDATE), "
        f"taken AS (UPDATE {counters} c SET value = c.value + 1 FROM locked "
        "WHERE c.id = locked.id "
        # Committed without waiting for the disk: the document that uses the number commits
        # after it and waits for the log up to there, this write included. A crash before that
        # can lose only a number no document has.
        + (
            "AND set_config('synchronous_commit', 'off', true) = 'off' "
            if committed_at_once
            else ""
        )
        + "RETURNING c.location_id, c.kind, c.value) "
        "SELECT w.location_id, w.kind, t.value FROM wanted w "
        "LEFT JOIN taken t ON t.location_id = w.location_id AND t.kind = w.kind"
    )


def _numbers_first(company: Company, customer_id: int, web_order_id: int) -> dict:
    """The numbers of the documents a pending order would make, by (location id, kind), each
    taken by a statement that commits at once (on PostgreSQL all of them in one)."""
    if connection.vendor != "postgresql":
        return {
            (location_id, kind): next_number(company, location_id, kind)
            for location_id, kind in _document_kinds(company, customer_id, web_order_id)
        }
    return _numbers_taken(company, customer_id, web_order_id, committed_at_once=True)


def _numbers_taken(
    company, customer_id, web_order_id, *, committed_at_once, status=WebOrder.Status.PENDING
) -> dict:
    """PostgreSQL: all of the order's numbers in one statement that locks their counters in
    the order of their ids, as every checkout does. Inside a transaction (a checkout with an
    Idempotency-Key) the counters stay locked until it commits; taking them one by one in
    another order there would deadlock with a checkout whose statement holds the first and
    waits for the second."""
    with prepared.cursor() as cursor:
        cursor.execute(
            _numbers_sql(committed_at_once),
            {
                "on_hand": int(Origin.ON_HAND),
                "company": company.pk,
                "order": web_order_id,
                "customer": customer_id,
                # The order's status: pending, or (inside the checkout's transaction, once
                # its statement locked the order) checked out by this very checkout.
                "pending": int(status),
                "hard_goods": WEB_ORDER_SALES,
            },
        )
        found = cursor.fetchall()
    numbers = {}
    for location_id, kind, value in sorted(found):
        # The first number of its kind at the location: its counter is made first.
        numbers[location_id, kind] = (
            next_number(company, location_id, kind) if value is None else value
        )
    return numbers


def _document_kinds(company: Company, customer_id: int, web_order_id: int) -> list[tuple]:
    """(location id, "invoice" / "prebook") of the documents a pending order would make."""
    found = _ORDER_KINDS.all(company.pk, customer_id, web_order_id)
    # On-hand boxes go on the invoice; future boxes and growers' offers on the prebook, as
    # _checkout splits them.
    return sorted(
        {
            (location_id, "invoice" if origin == Origin.ON_HAND else "prebook")
            for location_id, origin in found
        }
    )


@transaction.atomic
def _checkout(
    *,
    company,
    customer_id,
    web_order_id,
    customer_po,
    via_api,
    confirm,
    user,
    ship_to_id,
    carrier_id,
    ship_date,
    numbers,
) -> Checkout:
    # The customer with its company as they are now (fee rate, auto-confirm, credit).
    customer = _CUSTOMER_WITH_COMPANY.first(company.pk, customer_id)
    if customer is not None and (customer.credit_limit is not None or customer.credit_hold):
        # A customer with a credit limit (or on hold) checks out one order at a time, its row
        # locked first as add_items locks it: two orders at once cannot both pass the limit.
        list(Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk"))
    # Whether it holds hard goods is read with it and kept on it for _document.
    order = _checked_out_order(company, customer_id, web_order_id, customer_po)
    # On PostgreSQL the statement that locked it marked it checked out (undone with the rest
    # if the checkout fails).
    marked = order.status == WebOrder.Status.CHECKED_OUT
    items = (_ORDER_ITEMS_WITH_ROWS if stock.rows_wanted(company.pk) else _ORDER_ITEMS).all(
        order.pk
    )
    with_hard_goods = bool(order.with_hard_goods)
    if not items and not with_hard_goods:
        raise Conflict(f"web order {web_order_id} has no lines", field="webOrderId")
    if not numbers and connection.vendor == "postgresql":
        # Inside the caller's transaction: the numbers now, their counters locked in the order
        # every checkout locks them (SQLite writes one transaction at a time).
        numbers = _numbers_taken(
            company, customer_id, order.pk, committed_at_once=False, status=order.status
        )
    if ship_to_id is not None or carrier_id is not None or ship_date is not None:
        _set_header(company, order, items, ship_to_id, carrier_id, ship_date)
    company = customer.company
    order.company, order.customer = company, customer
    order.customer_po = customer_po or order.customer_po
    confirmed = company.auto_confirm if confirm is None else confirm
    status = DocumentStatus.CONFIRMED if confirmed else DocumentStatus.PENDING_APPROVAL
    on_hand = [i for i in items if i.origin == Origin.ON_HAND]
    # Future boxes and growers' offers (vendor availability) are sold ahead, on the prebook.
    future = [i for i in items if i.origin != Origin.ON_HAND]
    rate = fee_rate_for(company, customer_id)
    # A customer on credit hold or over its limit: the invoice arrives but waits for a rep.
    on_invoice = sum((i.quantity * i.line.units_per_box * i.price for i in on_hand), Decimal("0"))
    if with_hard_goods:
        # The hard goods held go on the invoice too, so they count against the credit limit.
        on_invoice += hard_goods.amount_on(company.pk, WEB_ORDER_SALES, order.pk)
    held = hold_reason(customer, on_invoice)
    # The customer's first ship-to (read with it), for a document whose lines name none.
    ship_to = customer.first_ship_to_id

    def header(kind: str) -> dict:
        number = numbers.get((order.location_id, kind))
        return {
            "number": number or next_number(company, order.location_id, kind),
            "ship_to": ship_to,
            "confirmed_by": user if user is not None and confirmed else None,
            "hold_reason": held,
        }

    invoice_status = DocumentStatus.PENDING_APPROVAL if held else status
    invoice = (
        _document(
            Invoice,
            InvoiceItem,
            order,
            on_hand,
            rate,
            invoice_status,
            via_api,
            **header("invoice"),
        )
        if on_hand or with_hard_goods
        else None
    )
    prebook = (
        _document(Prebook, PrebookItem, order, future, rate, status, via_api, **header("prebook"))
        if future
        else None
    )
    if not marked:
        order.status = WebOrder.Status.CHECKED_OUT
        order.checked_out_at = timezone.now()
        shapes.update(order, ["status", "checked_out_at", "customer_po"])
    if invoice is not None:
        record_change(invoice, "created", written=True)
    # The lines last: from their guarded UPDATEs to the commit, only the feed rows ...
    stock.commit_held(
        company=company,
        held=[(i.line_id, i.quantity) for i in items],
        lines={i.line_id: i.line for i in items},
    )
    if prebook is not None:
        # ... and the prebook's hooks, which need its boxes sold: a prebook of a grower's offer
        # hands them over to a purchase order (availability), under the offer's lock already.
        record_change(prebook, "created", written=True)
    return Checkout(order, invoice, prebook)


@transaction.atomic
def confirm_invoice(*, company: Company, invoice_id: int, user=None) -> Invoice:
    invoice = Invoice.objects.select_for_update().filter(company=company, pk=invoice_id).first()
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist", field="invoiceId")
    refuse_if_synced(invoice)
    if invoice.status not in (DocumentStatus.PENDING_APPROVAL, DocumentStatus.DRAFT):
        raise Conflict(
            f"invoice {invoice.number} is {invoice.get_status_display()}; only a Draft or Pending "
            "Approval invoice can be confirmed",
            field="invoiceId",
            currentStatus=invoice.status,
        )
    # The charges as the customer's settings are when the invoice is confirmed: what it is
    # sent with, and what it keeps.
    charges.apply(invoice)
    invoice.status_before_confirm = invoice.status
    invoice.status = DocumentStatus.CONFIRMED
    invoice.confirmed_at = timezone.now()
    invoice.confirmed_by = user
    invoice.save(
        update_fields=[
            "status",
            "status_before_confirm",
            "confirmed_at",
            "confirmed_by",
            "updated_at",
        ]
    )
    record_change(invoice, "confirmed")
    mailing.send_when_committed(invoice)
    return invoice


def expire_holds(*, now=None, limit: int = 500) -> int:
    """Release the boxes of pending web orders whose hold ran out; safe with several workers
    (each order is taken under its row lock and skipped when another worker has it)."""
    now = now or timezone.now()
    done = 0
    ids = list(
        WebOrder.objects.filter(status=WebOrder.Status.PENDING, hold_expires_at__lt=now)
        .order_by("hold_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            order = (
                # of=self: with the join, FOR UPDATE would lock the company row as well, which
                # every insert of the company's rows waits on.
                WebOrder.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("company")
                .filter(pk=pk, status=WebOrder.Status.PENDING, hold_expires_at__lt=now)
                .first()
            )
            if order is None:
                continue
            _release_order(order, WebOrder.Status.EXPIRED)
            done += 1
    return done


@transaction.atomic
def confirm_prebook(*, company: Company, prebook_id: int, user=None) -> Prebook:
    """A sales rep confirms a prebook that came through the API or a marketplace."""
    prebook = (
        Prebook.objects.select_for_update()
        .filter(company=company, pk=prebook_id, deleted_at__isnull=True)
        .first()
    )
    if prebook is None:
        raise NotFound(f"prebook {prebook_id} does not exist", field="prebookId")
    if prebook.status not in (DocumentStatus.PENDING_APPROVAL, DocumentStatus.DRAFT):
        raise Conflict(
            f"prebook {prebook.number} is {prebook.get_status_display()}; only a Draft or Pending "
            "Approval prebook can be confirmed",
            field="prebookId",
            currentStatus=prebook.status,
        )
    prebook.status = DocumentStatus.CONFIRMED
    prebook.confirmed_at = timezone.now()
    prebook.confirmed_by = user
    prebook.save(update_fields=["status", "confirmed_at", "confirmed_by", "updated_at"])
    record_change(prebook, "confirmed")
    return prebook
