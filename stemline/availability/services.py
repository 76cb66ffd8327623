"""Every write of vendor availability: growers' offers added or replaced (never below what
was sold of them), the company's markup over them, offers sold onto prebooks, and what was
sold of them bought from the grower on a purchase order.

Each offer is backed by an inventory line with the same id, so holding and selling it (web
orders, checkout, prebooks) go through the inventory rules and its never-oversold constraint.
Lock order: prebook -> inventory lines (by pk) -> offers -> vendor -> purchase orders ->
prebook lines -> counters (a sale locks its lines before it gets here; an upload locks the
offers' lines before their offers; nothing here locks a vendor or a purchase order before an
inventory line of an offer).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from stemline.catalog.models import BoxType, Product, UnitType
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryChange, InventoryLine
from stemline.parties.models import Vendor
from stemline.purchasing import services as purchasing
from stemline.purchasing.models import PurchaseOrder
from stemline.sales import prebooking
from stemline.sales import services as sales
from stemline.sales.models import DocumentStatus, Prebook, PrebookItem

from .models import Offer, Purchase, Settings

MAX_BOXES = 10_000
MAX_ROWS = 1_000
# A grower's boxes shipped one day are on the importer's floor the next (as purchasing has it).
TRANSIT = purchasing.TRANSIT
PRICE_PLACES = Decimal("0.001")


# ---------------------------------------------------------------- the company's markup


def markup(company: Company) -> Decimal:
    found = Settings.objects.filter(company=company).values_list("markup_percent", flat=True)
    return found.first() if found.exists() else Settings._meta.get_field("markup_percent").default


def price_for(cost: Decimal, percent: Decimal) -> Decimal:
    """The unit price of an offer: the grower's cost plus the company's markup."""
    return (cost * (1 + percent / Decimal("100"))).quantize(PRICE_PLACES)


@transaction.atomic
def set_markup(*, company: Company, percent: Decimal) -> Settings:
    """Change the markup; the offers still open are repriced (what is sold keeps its price)."""
    if not Decimal("0") <= percent <= Decimal("1000"):
        raise Invalid("must be between 0 and 1000", field="markupPercent")
    settings, _ = Settings.objects.get_or_create(company=company)
    settings = Settings.objects.select_for_update().get(pk=settings.pk)
    settings.markup_percent = percent
    settings.save(update_fields=["markup_percent"])
    open_ids = Offer.objects.filter(company=company, available_to__gte=stock.today()).values_list(
        "line_id", flat=True
    )
    for line in stock.lock_lines(company, open_ids).values():
        stock.update_line(
            company=company, line_id=line.pk, price_a=price_for(line.unit_cost, percent)
        )
    return settings


# ---------------------------------------------------------------- offering


@dataclass
class OfferRow:
    """One row of what a grower offers (a form, an upload's line, an API item)."""

    line_number: int
    product: Product
    box_type: BoxType
    unit_type: str
    bunches: int
    stems_bunch: int
    boxes: int
    unit_cost: Decimal
    available_from: date
    available_to: date
    vendor_product: str = ""
    field: str = ""

    @property
    def key(self) -> tuple:
        return (
            self.product.pk,
            self.box_type.pk,
            self.unit_type,
            self.bunches,
            self.stems_bunch,
            self.available_from,
            self.available_to,
        )


def _offer_key(offer: Offer, line: InventoryLine) -> tuple:
    return (
        line.product_id,
        line.box_type_id,
        line.unit_type,
        line.bunches,
        line.stems_bunch,
        offer.available_from,
        offer.available_to,
    )


@dataclass
class OfferResult:
    line_number: int
    offer: Offer | None
    created: bool
    offered: int
    available: int
    # Replacing asked for fewer boxes than were sold already: the offer stays at what was sold.
    kept_at_sold: bool = False

    @property
    def message(self) -> str:
        if self.offer is None:
            return "nothing offered"
        if self.kept_at_sold:
            return (
                f"kept at {self.offered} boxes: that many are sold already "
                f"({self.available} left to sell)"
            )
        verb = "offered" if self.created else "now offered"
        return f"{self.offered} boxes {verb} ({self.available} left to sell)"


def _check_row(row: OfferRow, today: date, *, replace: bool) -> None:
    where = row.field or f"line {row.line_number}"
    least = 0 if replace else 1
    if not least <= row.boxes <= MAX_BOXES:
        raise Invalid(f"must be between {least} and {MAX_BOXES} boxes", field=f"{where}.boxes")
    if row.unit_cost < 0:
        raise Invalid("must not be negative", field=f"{where}.unitCost")
    if row.available_to < row.available_from:
        raise Invalid("must not be before availableFrom", field=f"{where}.availableTo")
    if row.available_to < today:
        raise Invalid(f"{row.available_to} has passed", field=f"{where}.availableTo")
    if row.unit_type not in UnitType.values:
        raise Invalid("must be Stem or Bunch", field=f"{where}.unitType")
    if not 1 <= row.bunches <= 100_000 or not 1 <= row.stems_bunch <= 100_000:
        raise Invalid("must be between 1 and 100000", field=f"{where}.bunches")


def _merged(rows: list[OfferRow]) -> list[OfferRow]:
    """Rows naming the same product, pack and window are one offer: their boxes add up (the
    last row's cost wins)."""
    by_key: dict[tuple, OfferRow] = {}
    for row in rows:
        if row.key in by_key:
            first = by_key[row.key]
            first.boxes += row.boxes
            first.unit_cost = row.unit_cost
        else:
            by_key[row.key] = OfferRow(**{**row.__dict__})
    return list(by_key.values())


def _new_offer(company, vendor, location, row: OfferRow, price: Decimal) -> Offer:
    line = InventoryLine.objects.create(
        company=company,
        location=location,
        product=row.product,
        box_type=row.box_type,
        vendor=vendor,
        ship_date=row.available_from,
        arrival_date=row.available_from + TRANSIT,
        offered_until=row.available_to,
        unit_type=row.unit_type,
        bunches=row.bunches,
        stems_bunch=row.stems_bunch,
        unit_cost=row.unit_cost,
        price_a=price,
        total=row.boxes,
    )
    offer = Offer.objects.create(
        company=company,
        line=line,
        vendor=vendor,
        available_from=row.available_from,
        available_to=row.available_to,
        offered=row.boxes,
        vendor_product=row.vendor_product[:100],
    )
    stock.record(line, InventoryChange.Kind.ADDED)
    return offer


def _reoffer(company, offer: Offer, line: InventoryLine, offered: int, cost, price) -> None:
    offer.offered = offered
    offer.save(update_fields=["offered", "updated_at"])
    stock.update_line(
        company=company,
        line_id=line.pk,
        quantity=offered - offer.bought,
        unit_cost=cost,
        price_a=price,
    )


@transaction.atomic
def offer(
    *,
    company: Company,
    vendor: Vendor,
    rows: list[OfferRow],
    replace: bool = False,
    location: Location | None = None,
) -> list[OfferResult]:
    """A grower offers boxes. Adding: each row's boxes are added to the matching offer (same
    product, pack and window) or make a new one. Replacing: the rows are the grower's whole
    offer at the location; each matching offer becomes the row's boxes, and the grower's other
    open offers are withdrawn, but never below what was sold or is being sold of them
    (Komet's overwrite can oversell; this cannot)."""
    if not vendor.active:
        raise Conflict(f"vendor {vendor.name} is inactive", field="vendorId")
    if len(rows) > MAX_ROWS:
        raise Invalid(f"at most {MAX_ROWS} rows at a time", field="items")
    if not rows and not replace:
        raise Invalid("at least one row is required", field="items")
    today = stock.today()
    for row in rows:
        _check_row(row, today, replace=replace)
    location = location or Location.objects.get(company=company, is_default=True)
    percent = markup(company)
    current = list(
        Offer.objects.filter(
            company=company, vendor=vendor, available_to__gte=today, line__location=location
        )
    )
    lines = stock.lock_lines(company, [o.line_id for o in current])
    # Locked after their lines, refreshed: `bought` may have moved since they were read.
    offers = {
        o.pk: o for o in Offer.objects.select_for_update().filter(pk__in=[o.pk for o in current])
    }
    by_key = {_offer_key(o, lines[o.pk]): o for o in offers.values()}
    results = []
    touched = set()
    for row in _merged(rows):
        price = price_for(row.unit_cost, percent)
        found = by_key.get(row.key)
        if found is None:
            if row.boxes == 0:
                results.append(OfferResult(row.line_number, None, False, 0, 0))
                continue
            made = _new_offer(company, vendor, location, row, price)
            results.append(OfferResult(row.line_number, made, True, row.boxes, row.boxes))
            continue
        line = lines[found.pk]
        touched.add(found.pk)
        taken = found.bought + line.committed + line.held
        wanted = row.boxes if replace else found.offered + row.boxes
        offered = max(wanted, taken)
        _reoffer(company, found, line, offered, row.unit_cost, price)
        results.append(
            OfferResult(
                row.line_number,
                found,
                False,
                offered,
                offered - taken,
                kept_at_sold=wanted < taken,
            )
        )
    if replace:
        for pk, other in offers.items():
            if pk in touched:
                continue
            line = lines[pk]
            taken = other.bought + line.committed + line.held
            if other.offered != taken:
                _reoffer(company, other, line, taken, None, None)
    return results


# ---------------------------------------------------------------- selling and buying


def _offer_lines(company, ids) -> dict[int, Offer]:
    return {o.pk: o for o in Offer.objects.filter(company=company, pk__in=list(ids))}


@transaction.atomic
def add_to_prebook(
    *,
    company: Company,
    prebook_id: int,
    offer_ids: list[int],
    boxes: int,
    price: Decimal,
    mark_code: str = "",
    pack: dict | None = None,
) -> list[PrebookItem]:
    """Sell boxes of growers' offers onto a prebook (prebook.vendor.availability.item.add): one
    line per offer, its boxes sold at once under the never-oversold rule, and bought from the
    grower on a purchase order in the same transaction (source_prebook)."""
    prebook = prebooking.lock_prebook(company, prebook_id)
    if prebook.status == DocumentStatus.VOIDED:
        raise Conflict(f"prebook {prebook.number} is voided", field="prebookId")
    ids = list(dict.fromkeys(offer_ids))
    offers = _offer_lines(company, ids)
    today = stock.today()
    for pk in ids:
        found = offers.get(pk)
        if found is None:
            raise NotFound(f"vendor availability item {pk} does not exist", field="inventoryIds")
        if found.available_to < today:
            raise Conflict(
                f"vendor availability item {pk} could be shipped until {found.available_to}",
                field="inventoryIds",
            )
    lines = stock.commit(company=company, wanted=[(pk, boxes) for pk in ids])
    items = []
    for pk in ids:
        line = lines[pk]
        if line.location_id != prebook.location_id:
            raise Invalid(
                f"vendor availability item {pk} is not at the prebook's location",
                field="inventoryIds",
            )
        for name, value in (pack or {}).items():
            if value is not None and getattr(line, name) != value:
                raise Invalid(
                    f"vendor availability item {pk} has {name} {getattr(line, name)}",
                    field="inventoryIds",
                )
        items.append(prebooking.line_item(prebook, line, boxes, price, mark_code))
    prebooking.recompute(prebook)
    prebook.save(update_fields=["amount", "transaction_fee", "updated_at"])
    sales.record_change(prebook, "updated")
    return items


def _ship_date(prebook: Prebook, found: Offer, today: date) -> date:
    """When the grower ships: in time for the prebook's ship date, within the offer's window,
    never in the past."""
    earliest = max(found.available_from, today)
    wanted = prebook.ship_date - TRANSIT if prebook.ship_date else earliest
    return min(max(wanted, earliest), found.available_to)


def _open_order(company, vendor, location, ship_date, today) -> PurchaseOrder | None:
    """The purchase order made from this grower's offers for that day, still open to lines."""
    return (
        PurchaseOrder.objects.filter(
            company=company,
            vendor=vendor,
            location=location,
            ship_date=ship_date,
            arrival_date__gt=today,
            status__in=[
                PurchaseOrder.Status.APPROVED,
                PurchaseOrder.Status.PENDING_APPROVAL,
                PurchaseOrder.Status.CONFIRMED,
            ],
            pk__in=Purchase.objects.filter(company=company).values("po_item__purchase_order_id"),
        )
        .order_by("pk")
        .first()
    )


def source_prebook(prebook: Prebook, kind: str) -> None:
    """Prebook lines sold from growers' offers become purchase needs and are bought at once:
    onto the open purchase order to that grower for that ship date, or a new one. Registered
    with sales.services.on_prebook_change; runs in the sale's transaction."""
    if kind in ("voided", "deleted"):
        return
    items = list(
        PrebookItem.objects.filter(prebook=prebook, line__offered_until__isnull=False)
        .select_related("line")
        .order_by("pk")
    )
    if not items:
        return
    company = prebook.company
    today = stock.today()
    offers = {
        o.pk: o
        for o in Offer.objects.select_for_update()
        .filter(pk__in=sorted({pi.line_id for pi in items}))
        .order_by("pk")
    }
    groups: dict[tuple[int, date], list[PrebookItem]] = {}
    for pi in items:
        found = offers[pi.line_id]
        groups.setdefault((found.vendor_id, _ship_date(prebook, found, today)), []).append(pi)
    for vendor_id, ship_date in sorted(groups):
        group = groups[(vendor_id, ship_date)]
        # One buyer at a time per grower: two sales at once add to one PO, not two new ones.
        vendor = Vendor.objects.select_for_update().get(pk=vendor_id)
        po = _open_order(company, vendor, prebook.location, ship_date, today)
        specs, sources = [], []
        for n, pi in enumerate(group):
            found, line = offers[pi.line_id], pi.line
            stock.hand_over(company=company, line_id=line.pk, boxes=pi.boxes)
            found.bought += pi.boxes
            found.save(update_fields=["bought", "updated_at"])
            # A purchase need now (no line), filled by the PO line below.
            pi.line = None
            pi.vendor_id = vendor.pk
            pi.cost = line.unit_cost
            pi.save(update_fields=["line", "vendor", "cost"])
            specs.append(
                purchasing.LineSpec(
                    field=f"prebookItems[{n}]",
                    prebook_item_id=pi.pk,
                    boxes=pi.boxes,
                    unit_cost=line.unit_cost,
                    stems_bunch=line.stems_bunch,
                    bunches=line.bunches,
                    price_a=line.price_a,
                    price_b=line.price_b,
                )
            )
            sources.append((found, pi))
        po, po_items = purchasing.create_order(
            company=company,
            vendor=vendor,
            specs=specs,
            ship_date=ship_date,
            location=prebook.location,
            number=po.number if po else None,
        )
        Purchase.objects.bulk_create(
            Purchase(
                company=company, offer=found, po_item=po_item, prebook_item=pi, boxes=po_item.boxes
            )
            for (found, pi), po_item in zip(sources, po_items, strict=True)
        )
