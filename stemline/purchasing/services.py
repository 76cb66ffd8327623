"""Every write of purchasing: purchase orders and their lines, confirmation by the farm,
shipping on AWBs (splitting a line shipped short), relabelling boxes, receiving, and vendor
invoice files.

Each PO line is backed by an inventory line with the same id. Quantities of those lines move
here under the inventory rules: rows locked in one order, guarded updates, the database's
never-oversold constraint. The order every write here takes its locks in:
purchase orders (by pk) -> AWB -> prebook lines (by pk) -> inventory lines (by pk) -> the
inventory change-feed counter -> invoice number counters -> the purchase-order feed counter.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parseaddr

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from stemline.catalog.models import BoxType, Product, UnitType
from stemline.core import files
from stemline.core.errors import Conflict, Invalid, NotFound, PermissionDenied
from stemline.core.models import Company, Location, User
from stemline.inventory import feeds
from stemline.inventory import services as stock
from stemline.inventory.models import Box, InventoryChange, InventoryLine
from stemline.parties import services as parties
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor
from stemline.sales import charges as sales_charges
from stemline.sales import mailing as sales_mailing
from stemline.sales import prebooking
from stemline.sales import services as sales
from stemline.sales.models import DocumentStatus, Invoice, InvoiceItem, PrebookItem

from .models import (
    Awb,
    AwbBox,
    Breakdown,
    PrebookDelivery,
    PurchaseOrder,
    PurchaseOrderItem,
    VendorInvoice,
)

MAX_BOXES_PER_LINE = 10_000
CENT = Decimal("0.01")
# Boxes shipped one day are on the importer's floor the next (Bogota or Quito to Miami).
TRANSIT = timedelta(days=1)
Status = PurchaseOrder.Status
LineStatus = PurchaseOrderItem.Status


# ---------------------------------------------------------------- small helpers


def touch(company_id: int, orders) -> None:
    """Changed purchase orders take the next numbers of the purchase-order feed once this
    transaction commits (inventory.feeds: no writer waits on the feed's counter)."""
    ids = sorted({po.pk for po in orders})
    PurchaseOrder.objects.filter(pk__in=ids).update(seq=None, updated_at=timezone.now())
    for po in orders:
        po.seq = None
    feeds.sequence_after_commit(company_id, "purchase_orders", PurchaseOrder)


def lock_orders(company: Company, ids) -> dict[int, PurchaseOrder]:
    return {
        po.pk: po
        for po in PurchaseOrder.objects.select_for_update(of=("self",))
        .filter(company=company, pk__in=sorted(set(ids)))
        .order_by("pk")
    }


def lock_prebook_items(company: Company, *, ids=(), line_ids=()) -> dict[int, PrebookItem]:
    """Prebook lines by id or by the inventory lines they are sourced from, locked in pk order
    (before any inventory line)."""
    query = Q(pk__in=list(ids)) | Q(line_id__in=list(line_ids))
    return {
        pi.pk: pi
        for pi in PrebookItem.objects.select_for_update(of=("self",))
        .select_related("prebook")
        .filter(query, company=company)
        .order_by("pk")
    }


def delivered_ids(prebook_item_ids) -> set[int]:
    return set(
        PrebookDelivery.objects.filter(prebook_item_id__in=list(prebook_item_ids)).values_list(
            "prebook_item_id", flat=True
        )
    )


def _clone(instance, **changes):
    """A copy of a row with some fields changed (fields another app adds are copied too)."""
    copy = type(instance).objects.get(pk=instance.pk)
    copy.pk = None
    if hasattr(copy, "id"):
        copy.id = None
    copy._state.adding = True
    for name, value in changes.items():
        setattr(copy, name, value)
    copy.save()
    return copy


def _move_prebook_boxes(pi: PrebookItem, boxes: int, line: InventoryLine | None) -> PrebookItem:
    """Move `boxes` of a prebook line to another inventory line (None: back to a purchase
    need). The prebook's amount does not change: the line is split, never repriced."""
    if boxes >= pi.boxes:
        pi.line = line
        pi.save(update_fields=["line"])
        return pi
    PrebookItem.objects.filter(pk=pi.pk).update(boxes=F("boxes") - boxes)
    pi.boxes -= boxes
    return _clone(pi, boxes=boxes, line=line)


def _change_line(line_id: int, condition: Q, **changes) -> None:
    if not InventoryLine.objects.filter(pk=line_id).filter(condition).update(**changes):
        # Only if a lock was not honoured: the constraint or a guard caught it.
        raise Conflict(f"inventory line {line_id} changed under us; retry")


def _scope(qs, vendor_id: int | None, path: str = "vendor_id"):
    return qs.filter(**{path: vendor_id}) if vendor_id is not None else qs


# ---------------------------------------------------------------- look-ups


def vendor_of(company, *, vendor_id=None, vendor_code=None, token_vendor_id=None) -> Vendor:
    """The PO's vendor: a Vendor token's own (vendorId/vendorCode ignored), else by id or code."""
    if token_vendor_id is not None:
        return Vendor.objects.get(company=company, pk=token_vendor_id)
    if vendor_id is not None and vendor_code:
        raise Invalid("send vendorId or vendorCode, not both", field="vendorCode")
    if vendor_id is not None:
        found = Vendor.objects.filter(company=company, pk=vendor_id).first()
        if found is None:
            raise NotFound(f"vendor {vendor_id} does not exist", field="vendorId")
    elif vendor_code:
        found = Vendor.objects.filter(company=company, code__iexact=vendor_code).first()
        if found is None:
            raise NotFound(f"vendor {vendor_code!r} does not exist", field="vendorCode")
    else:
        raise Invalid("send vendorId or vendorCode", field="vendorId")
    if not found.active:
        raise Invalid(f"vendor {found.name!r} is inactive", field="vendorId")
    return found


def inbound_carrier(company, *, carrier_id=None, carrier_code=None) -> Carrier | None:
    if carrier_id is None and not carrier_code:
        return None
    qs = Carrier.objects.filter(company=company, active=True)
    name = "carrierId" if carrier_id is not None else "carrierCode"
    found = (
        qs.filter(pk=carrier_id).first()
        if carrier_id is not None
        else qs.filter(code__iexact=carrier_code).first()
    )
    if found is None:
        raise NotFound(f"carrier {carrier_id or carrier_code!r} does not exist", field=name)
    if found.direction != Carrier.Direction.INBOUND:
        raise Invalid(
            f"carrier {found.code} is an outbound carrier; a purchase order needs an inbound one",
            field=name,
        )
    return found


def location_for(company, *, location_id=None, location_code=None) -> Location:
    qs = Location.objects.filter(company=company, active=True)
    if location_id is not None:
        found = qs.filter(pk=location_id).first()
        if found is None:
            raise NotFound(f"location {location_id} does not exist", field="companyLocationId")
        return found
    if location_code:
        found = qs.filter(code__iexact=location_code).first()
        if found is None:
            raise NotFound(
                f"location {location_code!r} does not exist", field="companyLocationCode"
            )
        return found
    if company.multi_location:
        raise Invalid("required for a multi-location company", field="companyLocationCode")
    return Location.objects.get(company=company, is_default=True)


def product_of(company, *, product_id=None, code=None, description=None, field: str) -> Product:
    products = Product.objects.filter(company=company)
    if product_id is not None:
        name, label, found = "productId", product_id, list(products.filter(pk=product_id))
    elif code:
        name, label = "productCode", repr(code)
        found = list(products.filter(legacy_code__iexact=code)[:2])
    elif description:
        name, label = "productDescription", repr(description)
        found = list(products.filter(description__iexact=description)[:2])
    else:
        raise Invalid(
            "send productId, productCode or productDescription", field=f"{field}.productId"
        )
    if not found:
        raise NotFound(f"product {label} does not exist", field=f"{field}.{name}")
    if len(found) > 1:
        raise Invalid(
            f"product {label} names several products; send productId", field=f"{field}.{name}"
        )
    if not found[0].active:
        raise Invalid(f"product {label} is inactive", field=f"{field}.{name}")
    return found[0]


def box_type_of(company, *, box_type_id=None, code=None, field: str) -> BoxType:
    qs = BoxType.objects.filter(company=company)
    if box_type_id is not None:
        name, found = "boxTypeId", qs.filter(pk=box_type_id).first()
    elif code:
        name, found = "boxTypeCode", qs.filter(code__iexact=code).first()
    else:
        raise Invalid("send boxTypeCode or boxTypeId", field=f"{field}.boxTypeCode")
    if found is None:
        raise NotFound(f"box type {box_type_id or code!r} does not exist", field=f"{field}.{name}")
    if not found.active:
        raise Invalid(f"box type {found.code} is inactive", field=f"{field}.{name}")
    return found


def order_of(company, *, vendor_id=None, po_id=None, number=None, field=None) -> PurchaseOrder:
    qs = _scope(PurchaseOrder.objects.filter(company=company), vendor_id)
    if po_id is not None:
        found, name, label = qs.filter(pk=po_id).first(), field or "purchaseOrderId", po_id
    elif number:
        found = qs.filter(number__iexact=number).first()
        name, label = field or "purchaseOrderNumber", repr(number)
    else:
        raise Invalid("send purchaseOrderId or purchaseOrderNumber", field="purchaseOrderId")
    if found is None:
        raise NotFound(f"purchase order {label} does not exist", field=name)
    return found


def item_of(company, item_id: int, vendor_id=None, field: str = "poItemId") -> PurchaseOrderItem:
    qs = _scope(
        PurchaseOrderItem.objects.filter(company=company), vendor_id, "purchase_order__vendor_id"
    )
    found = qs.filter(pk=item_id).first()
    if found is None:
        raise NotFound(f"purchase order item {item_id} does not exist", field=field)
    return found


# ---------------------------------------------------------------- creating purchase orders


@dataclass
class BreakdownSpec:
    product: Product
    unit_type: str
    bunches: int
    stems_bunch: int
    unit_cost: Decimal


@dataclass
class LineSpec:
    field: str
    prebook_item_id: int | None = None
    product: Product | None = None
    box_type: BoxType | None = None
    boxes: int | None = None
    unit_type: str | None = None
    bunches: int | None = None
    stems_bunch: int | None = None
    unit_cost: Decimal | None = None
    price_a: Decimal | None = None
    price_b: Decimal | None = None
    mark_code: str = ""
    notes: str = ""
    breakdowns: list[BreakdownSpec] = field(default_factory=list)


def _pack_from_prebook(pi: PrebookItem, spec: LineSpec) -> tuple[str, int, int]:
    """bunches and stems a bunch for a line filling a prebook line: the prebook line's pack,
    else one matching its units per box."""
    units = pi.units_per_box
    bunches = getattr(pi, "bunches", None)
    stems = spec.stems_bunch or getattr(pi, "stems_bunch", None)
    if pi.unit_type == UnitType.BUNCH:
        return UnitType.BUNCH, units, stems or 1
    if bunches and units % bunches == 0:
        return UnitType.STEM, bunches, units // bunches
    if stems and units % stems == 0:
        return UnitType.STEM, units // stems, stems
    return UnitType.STEM, 1, units


def _mixed_pack(spec: LineSpec) -> tuple[str, int, int, Decimal]:
    """An assorted box is counted in bunches; its cost per bunch is the contents' cost over
    their bunches."""
    bunches = sum(b.bunches for b in spec.breakdowns)
    cost = sum(
        (
            b.bunches * (b.stems_bunch if b.unit_type == UnitType.STEM else 1) * b.unit_cost
            for b in spec.breakdowns
        ),
        Decimal("0"),
    )
    stems = max(b.stems_bunch for b in spec.breakdowns)
    return UnitType.BUNCH, bunches, stems, (cost / bunches).quantize(Decimal("0.001"))


@transaction.atomic
def create_order(
    *,
    company: Company,
    vendor: Vendor,
    specs: list[LineSpec],
    ship_date: date,
    arrival_date: date | None = None,
    location: Location | None = None,
    carrier: Carrier | None = None,
    awb_number: str = "",
    number: str | None = None,
    by_vendor: bool = False,
    mixed: bool = False,
) -> tuple[PurchaseOrder, list[PurchaseOrderItem]]:
    """A new PO (or lines appended to an existing one by number) for a vendor: lines filling
    prebook lines, or standalone open-market lines that become future inventory once the farm
    confirms them."""
    if not specs:
        raise Invalid("at least one line is required", field="purchaseOrderItems")
    today = stock.today()
    if number:
        found = order_of(company, number=number, vendor_id=vendor.pk if by_vendor else None)
        po = lock_orders(company, [found.pk])[found.pk]
        if po.vendor_id != vendor.pk:
            raise Conflict(
                f"purchase order {po.number} is for another vendor", field="purchaseOrderNumber"
            )
        if po.status == Status.CANCELLED:
            raise Conflict(f"purchase order {po.number} is cancelled", field="purchaseOrderNumber")
        if po.arrival_date <= today:
            raise Conflict(
                f"purchase order {po.number} arrives on {po.arrival_date}; lines can no longer "
                "be added",
                field="purchaseOrderNumber",
            )
        if po.status == Status.CONFIRMED:
            # New lines need the farm's confirmation again.
            po.status = Status.PENDING_APPROVAL if by_vendor else Status.APPROVED
            po.save(update_fields=["status"])
    else:
        arrival = arrival_date or ship_date + TRANSIT
        if arrival <= today:
            raise Invalid(
                f"the boxes would arrive on {arrival}; a purchase order is for boxes still to "
                "come (send a later shipDate or arrivalDate)",
                field="arrivalDate" if arrival_date else "shipDate",
            )
        if arrival < ship_date:
            raise Invalid("must not be before shipDate", field="arrivalDate")
        po = PurchaseOrder.objects.create(
            company=company,
            number=f"P{stock.next_seq(company.pk, 'po_number'):06d}",
            location=location or location_for(company),
            vendor=vendor,
            carrier=carrier,
            ship_date=ship_date,
            arrival_date=arrival,
            awb_number=awb_number,
            # A grower's own PO waits for the buyer's approval; the buyer's is approved.
            status=Status.PENDING_APPROVAL if by_vendor else Status.APPROVED,
            created_by_vendor=by_vendor,
        )

    wanted = [s.prebook_item_id for s in specs if s.prebook_item_id is not None]
    if len(set(wanted)) != len(wanted):
        raise Invalid("a prebook line is named twice", field="purchaseOrderItems")
    prebook_items = lock_prebook_items(company, ids=wanted)
    done = delivered_ids(prebook_items)
    items = []
    for spec in specs:
        pi = None
        if spec.prebook_item_id is not None:
            pi = _check_prebook_item(prebook_items, done, spec, po, vendor)
        items.append(_create_item(company, po, spec, pi, mixed))
    touch(company.pk, [po])
    return po, items


def _check_prebook_item(prebook_items, done, spec: LineSpec, po, vendor) -> PrebookItem:
    name = f"{spec.field}.prebookItemId"
    pi = prebook_items.get(spec.prebook_item_id)
    if pi is None:
        raise NotFound(f"prebook item {spec.prebook_item_id} does not exist", field=name)
    if getattr(pi, "vendor_id", None) not in (None, vendor.pk):
        # A prebook line already given to a grower is filled by that grower only.
        raise PermissionDenied(f"prebook item {pi.pk} belongs to another vendor", field=name)
    if pi.prebook.status == DocumentStatus.VOIDED or getattr(pi.prebook, "deleted_at", None):
        raise Conflict(f"prebook {pi.prebook.number} is voided", field=name)
    if pi.line_id is not None or pi.pk in done:
        raise Conflict(
            f"prebook item {pi.pk} is already filled (inventory line {pi.line_id})", field=name
        )
    if pi.boxes < 1:
        raise Conflict(f"prebook item {pi.pk} has no boxes to fill", field=name)
    if pi.prebook.location_id != po.location_id:
        raise Conflict(
            f"prebook item {pi.pk} is for another location than purchase order {po.number}",
            field=name,
        )
    if spec.boxes is not None and spec.boxes > pi.boxes:
        raise Invalid(f"prebook item {pi.pk} has {pi.boxes} boxes", field=f"{spec.field}.boxes")
    return pi


def _create_item(company, po, spec: LineSpec, pi: PrebookItem | None, mixed: bool):
    if pi is not None:
        boxes = spec.boxes or pi.boxes
        unit_type, bunches, stems = _pack_from_prebook(pi, spec)
        product, box_type = pi.product, pi.box_type
        cost = spec.unit_cost
        if cost is None:
            cost = getattr(pi, "cost", None) or Decimal("0")
        mark_code = spec.mark_code or pi.mark_code
    else:
        if spec.product is None or spec.box_type is None:
            raise Invalid("a standalone line needs a product and a box type", field=spec.field)
        if spec.boxes is None:
            raise Invalid("required", field=f"{spec.field}.boxes")
        boxes, product, box_type, mark_code = (
            spec.boxes,
            spec.product,
            spec.box_type,
            spec.mark_code,
        )
        if mixed:
            unit_type, bunches, stems, cost = _mixed_pack(spec)
        else:
            for name, value in (
                ("bunches", spec.bunches),
                ("stemsBunch", spec.stems_bunch),
                ("unitCost", spec.unit_cost),
            ):
                if value is None:
                    raise Invalid("required for a standalone line", field=f"{spec.field}.{name}")
            unit_type = spec.unit_type or product.default_unit_type
            bunches, stems, cost = spec.bunches, spec.stems_bunch, spec.unit_cost
    # Filling a prebook line: the boxes are sold already (committed = total). Open market:
    # nothing to sell (total 0) until the farm confirms.
    filled = boxes if pi is not None else 0
    line = InventoryLine.objects.create(
        company=company,
        location=po.location,
        product=product,
        box_type=box_type,
        vendor=po.vendor,
        ship_date=po.ship_date,
        arrival_date=po.arrival_date,
        unit_type=unit_type,
        bunches=bunches,
        stems_bunch=stems,
        unit_cost=cost,
        # A PO line without prices takes the product's default prices (Setup > Products).
        price_a=spec.price_a if spec.price_a is not None else product.price_a,
        price_b=spec.price_b if spec.price_b is not None else product.price_b,
        mark_code=mark_code,
        total=filled,
        committed=filled,
        in_transit=True,
    )
    if pi is not None:
        if boxes < pi.boxes:
            # The rest of the prebook line stays a purchase need for another PO.
            _move_prebook_boxes(pi, pi.boxes - boxes, None)
        pi.line = line
        pi.save(update_fields=["line"])
    item = PurchaseOrderItem.objects.create(
        company=company,
        line=line,
        purchase_order=po,
        prebook_item=pi,
        order_type="P" if pi is not None else "",
        boxes=boxes,
        notes=spec.notes,
        is_mixed=mixed,
    )
    if spec.breakdowns:
        Breakdown.objects.bulk_create(
            Breakdown(
                company=company,
                item=item,
                product=b.product,
                unit_type=b.unit_type,
                bunches=b.bunches,
                stems_bunch=b.stems_bunch,
                unit_cost=b.unit_cost,
            )
            for b in spec.breakdowns
        )
    return item


# ---------------------------------------------------------------- confirmation by the farm


def _confirm(company, items: list[PurchaseOrderItem], boxes: dict[int, int]) -> None:
    """Pending lines get the boxes the farm confirms (default: all ordered). Open-market lines
    become sellable future inventory; boxes a prebook line loses go back to a purchase need.
    The caller holds the purchase order's lock."""
    pending = [i for i in items if i.status == LineStatus.PENDING]
    for item in pending:
        n = boxes.get(item.pk, item.boxes)
        if not 0 <= n <= item.boxes:
            raise Invalid(
                f"purchase order item {item.pk} has {item.boxes} boxes ordered; {n} cannot be "
                "confirmed",
                field="poItems.boxes",
            )
    line_ids = [i.pk for i in pending]
    prebook_items = lock_prebook_items(company, line_ids=line_ids)
    done = delivered_ids(prebook_items)
    lines = stock.lock_lines(company, line_ids) if line_ids else {}
    for item in pending:
        n = boxes.get(item.pk, item.boxes)
        line = lines[item.pk]
        short = item.boxes - n
        if item.order_type == "P":
            if short:
                own = [
                    pi
                    for pi in prebook_items.values()
                    if pi.line_id == line.pk and pi.pk not in done
                ]
                _unsource(own, short)
                _change_line(
                    line.pk,
                    Q(committed__gte=short),
                    total=F("total") - short,
                    committed=F("committed") - short,
                )
        elif n:
            _change_line(line.pk, Q(committed=0, held=0), total=n)
            stock.record(line, InventoryChange.Kind.UPDATED)
        item.confirmed_boxes = n
        item.status = (
            LineStatus.CONFIRMED
            if n == item.boxes
            else LineStatus.CANCELLED
            if n == 0
            else LineStatus.PARTIAL
        )
        item.save(update_fields=["confirmed_boxes", "status"])


def _unsource(prebook_items: list[PrebookItem], boxes: int) -> None:
    """Give `boxes` of these prebook lines back to purchase needs, the newest first."""
    for pi in sorted(prebook_items, key=lambda p: -p.pk):
        if boxes <= 0:
            break
        take = min(boxes, pi.boxes)
        _move_prebook_boxes(pi, take, None)
        boxes -= take


@transaction.atomic
def confirm_order(
    *, company: Company, po: PurchaseOrder, boxes: dict[int, int] | None = None
) -> PurchaseOrder:
    """The farm confirms its PO ("Confirmed by Farm"), all boxes or, per line, fewer."""
    po = lock_orders(company, [po.pk])[po.pk]
    if po.status == Status.CANCELLED:
        raise Conflict(f"purchase order {po.number} is cancelled", field="purchaseOrderId")
    items = list(po.items.order_by("line_id"))
    unknown = set(boxes or {}) - {i.pk for i in items}
    if unknown:
        raise NotFound(
            f"purchase order item {min(unknown)} is not on purchase order {po.number}",
            field="poItems.poItemId",
        )
    _confirm(company, items, boxes or {})
    live = [i for i in items if i.status != LineStatus.CANCELLED]
    po.status = Status.CONFIRMED if live else Status.CANCELLED
    po.confirmed_at = timezone.now()
    po.save(update_fields=["status", "confirmed_at"])
    touch(company.pk, [po])
    return po


# ---------------------------------------------------------------- deleting a line


@transaction.atomic
def delete_item(*, company: Company, item: PurchaseOrderItem) -> PurchaseOrderItem:
    """Cancel a PO line that has not shipped. A line filling prebook lines gives them back to
    purchase needs; an open-market line must have nothing sold ahead."""
    po = lock_orders(company, [item.purchase_order_id])[item.purchase_order_id]
    item = PurchaseOrderItem.objects.get(pk=item.pk)
    if item.status == LineStatus.CANCELLED:
        raise Conflict(f"purchase order item {item.pk} is already cancelled", field="poItemId")
    if item.awb_id is not None:
        raise Conflict(
            f"purchase order item {item.pk} has shipped on an AWB; it cannot be deleted",
            field="poItemId",
        )
    prebook_items = lock_prebook_items(company, line_ids=[item.pk])
    done = delivered_ids(prebook_items)
    line = stock.lock_lines(company, [item.pk])[item.pk]
    if item.order_type == "P":
        own = [pi for pi in prebook_items.values() if pi.pk not in done]
        _unsource(own, sum(pi.boxes for pi in own))
        _change_line(line.pk, Q(held=0), total=0, committed=0)
    else:
        if line.committed or line.held:
            raise Conflict(
                f"purchase order item {item.pk} has {line.committed + line.held} boxes sold "
                "ahead to customers; it cannot be deleted",
                field="poItemId",
                sold=line.committed,
                held=line.held,
            )
        if line.total:
            _change_line(line.pk, Q(committed=0, held=0), total=0)
            stock.record(line, InventoryChange.Kind.DELETED)
    item.status = LineStatus.CANCELLED
    item.confirmed_boxes = 0
    item.save(update_fields=["status", "confirmed_boxes"])
    if not po.items.exclude(status=LineStatus.CANCELLED).exists():
        po.status = Status.CANCELLED
        po.save(update_fields=["status"])
    touch(company.pk, [po])
    return item


# ---------------------------------------------------------------- shipping on an AWB


@dataclass
class Shipment:
    item: PurchaseOrderItem
    box_codes: list[str]
    new_item: PurchaseOrderItem | None = None
    awb: Awb | None = None


def _new_codes(company, count: int) -> list[str]:
    for _ in range(5):
        codes = [f"B{secrets.token_hex(5).upper()}" for _ in range(count)]
        if not stock.box_codes_taken(company, codes):
            return codes
    raise Conflict("could not generate free box codes; retry")  # pragma: no cover


def _lock_awb(company, po, number: str, ship_date: date, house_awb: str) -> Awb:
    awb = Awb.objects.select_for_update().filter(company=company, number__iexact=number).first()
    if awb is None:
        try:
            with transaction.atomic():
                awb = Awb.objects.create(
                    company=company,
                    number=number,
                    house_awb=house_awb,
                    origin=po.vendor.port_origin,
                    location=po.location,
                    ship_date=ship_date,
                )
        except IntegrityError:
            # Another grower opened the same AWB at the same moment.
            awb = Awb.objects.select_for_update().get(company=company, number__iexact=number)
    if awb.closed_at is not None:
        raise Conflict(f"AWB {awb.number} is received and closed", field="awb")
    if awb.location_id != po.location_id:
        raise Conflict(f"AWB {awb.number} goes to another location", field="awb")
    return awb


def ship_item(
    *,
    company: Company,
    item: PurchaseOrderItem,
    awb_number: str,
    ship_date: date,
    box_codes: list[str] | None = None,
    boxes: int | None = None,
    lot_number: str = "",
    house_awb: str = "",
    locked: bool = False,
) -> Shipment:
    """Put a PO line's boxes on an AWB with box codes (given or generated). Shipping fewer
    boxes than confirmed splits the line: the rest becomes a new PO line with its own
    inventory line, still future."""
    with transaction.atomic():
        po_id = item.purchase_order_id
        po = PurchaseOrder.objects.get(pk=po_id) if locked else lock_orders(company, [po_id])[po_id]
        item = PurchaseOrderItem.objects.get(pk=item.pk)
        if item.status == LineStatus.CANCELLED:
            raise Conflict(f"purchase order item {item.pk} is cancelled", field="poItemId")
        if item.awb_id is not None:
            raise Conflict(
                f"purchase order item {item.pk} is already shipped on AWB {item.awb.number}",
                field="poItemId",
            )
        if po.status == Status.CANCELLED:
            raise Conflict(f"purchase order {po.number} is cancelled", field="poItemId")
        codes = list(box_codes or [])
        if codes and boxes is not None and boxes != len(codes):
            raise Invalid(f"{len(codes)} box codes for {boxes} boxes", field="boxCodes")
        if len({c.upper() for c in codes}) != len(codes):
            raise Invalid("box codes repeat within the request", field="boxCodes")
        awb = _lock_awb(company, po, awb_number, ship_date, house_awb)
        prebook_items = lock_prebook_items(company, line_ids=[item.pk])
        if item.status == LineStatus.PENDING:
            # Shipping is the farm's confirmation of what it ships (Komet growers often skip
            # the confirmation step).
            _confirm(company, [item], {})
            po.status = Status.CONFIRMED
            po.confirmed_at = timezone.now()
            po.save(update_fields=["status", "confirmed_at"])
        line = stock.lock_lines(company, [item.pk])[item.pk]
        n = len(codes) if codes else (boxes if boxes is not None else item.confirmed_boxes)
        if not 1 <= n <= item.confirmed_boxes:
            raise Invalid(
                f"purchase order item {item.pk} has {item.confirmed_boxes} confirmed boxes; "
                f"{n} cannot ship",
                field="boxCodes" if codes else "boxes",
            )
        if codes:
            taken = stock.box_codes_taken(company, codes)
            if taken:
                raise Conflict(f"box codes already used: {', '.join(taken)}", field="boxCodes")
        else:
            codes = _new_codes(company, n)
        shipment = Shipment(item=item, box_codes=codes, awb=awb)
        if n < item.confirmed_boxes:
            done = delivered_ids(prebook_items)
            own = [pi for pi in prebook_items.values() if pi.pk not in done]
            shipment.new_item = _split(company, po, item, line, item.confirmed_boxes - n, own)
        created = Box.objects.bulk_create(
            [Box(company=company, line_id=line.pk, code=c) for c in codes]
        )
        AwbBox.objects.bulk_create(
            [AwbBox(company=company, box=b, awb=awb, item=item) for b in created]
        )
        InventoryLine.objects.filter(pk=line.pk).update(
            awb=awb.number, is_tmp_awb=False, ship_date=ship_date, lot_number=lot_number
        )
        stock.record(line, InventoryChange.Kind.UPDATED)
        Awb.objects.filter(pk=awb.pk).update(pieces=F("pieces") + n)
        item.awb = awb
        item.shipped_at = timezone.now()
        item.save(update_fields=["awb", "shipped_at"])
        touch(company.pk, [po])
        return shipment


def _split(company, po, item, line: InventoryLine, rest: int, prebook_items) -> PurchaseOrderItem:
    """The `rest` boxes that did not ship move to a new PO line and inventory line. Unsold
    boxes move first, so what was sold ahead ships first; held boxes never move."""
    free = line.total - line.committed - line.held
    move_committed = max(0, rest - free)
    if move_committed > line.committed:
        raise Conflict(
            f"purchase order item {item.pk}: {line.held} boxes are held in pending web orders; "
            f"at least {line.committed + line.held} boxes must ship",
            field="boxCodes",
        )
    _change_line(
        line.pk,
        Q(committed__gte=move_committed),
        total=F("total") - rest,
        committed=F("committed") - move_committed,
    )
    new_line = _clone(line, total=rest, committed=move_committed, held=0)
    moved_from_own = None
    need = move_committed
    for pi in sorted(prebook_items, key=lambda p: -p.pk):
        if need <= 0:
            break
        take = min(need, pi.boxes)
        moved = _move_prebook_boxes(pi, take, new_line)
        if pi.pk == item.prebook_item_id:
            moved_from_own = moved
        need -= take
    stock.record(new_line, InventoryChange.Kind.ADDED)
    item.boxes = item.confirmed_boxes = item.confirmed_boxes - rest
    item.save(update_fields=["boxes", "confirmed_boxes"])
    return PurchaseOrderItem.objects.create(
        company=company,
        line=new_line,
        purchase_order=po,
        prebook_item=moved_from_own,
        order_type=item.order_type,
        status=LineStatus.CONFIRMED,
        boxes=rest,
        confirmed_boxes=rest,
        notes=item.notes,
        is_mixed=item.is_mixed,
        split_from=item,
    )


# ---------------------------------------------------------------- box codes


@dataclass
class Relabel:
    current: str
    new: str
    ok: bool
    message: str


def change_box_codes(*, company: Company, pairs: list[tuple[str, str]], vendor_id=None):
    """Relabel boxes one by one; each succeeds or fails on its own."""
    results = []
    for current, new in pairs:
        try:
            with transaction.atomic():
                _relabel(company, current, new, vendor_id)
            results.append(Relabel(current, new, True, "The box code was successfully updated"))
        except (Conflict, NotFound, Invalid) as exc:
            results.append(Relabel(current, new, False, exc.message))
        except IntegrityError:
            results.append(Relabel(current, new, False, f"box code {new} is already used"))
    return results


def _relabel(company, current: str, new: str, vendor_id) -> None:
    box = (
        _scope(
            Box.objects.select_for_update(of=("self",)).filter(company=company),
            vendor_id,
            "line__vendor_id",
        )
        .annotate(upper_code=Upper("code"))
        .filter(upper_code=current.upper(), removed_at__isnull=True)
        .first()
    )
    if box is None:
        raise NotFound("Box code does not exist")
    if not new:
        raise Invalid("the new box code is empty")
    clash = (
        Box.objects.annotate(upper_code=Upper("code"))
        .filter(company=company, upper_code=new.upper())
        .exclude(pk=box.pk)
        .exists()
    )
    if clash:
        raise Conflict(f"box code {new} is already used")
    Box.objects.filter(pk=box.pk).update(code=new)


# ---------------------------------------------------------------- receiving


@dataclass
class Receipt:
    awb: Awb
    received: list[str]
    lines_on_hand: list[int]
    invoices: list[Invoice]


@transaction.atomic
def receive(
    *, company: Company, awb: Awb, box_codes: list[str] | None = None, user=None
) -> Receipt:
    """The warehouse receives an AWB's boxes (all still expected, or those named). A PO line
    whose boxes are all in becomes on-hand inventory; what customers prebooked of it stays
    committed and goes onto an invoice for each prebook."""
    po_ids = set(
        PurchaseOrderItem.objects.filter(awb=awb).values_list("purchase_order_id", flat=True)
    )
    orders = lock_orders(company, po_ids)
    awb = Awb.objects.select_for_update().get(pk=awb.pk)
    expected = list(
        AwbBox.objects.filter(awb=awb, received_at__isnull=True)
        .select_related("box")
        .order_by("box_id")
    )
    if box_codes:
        by_code = {b.box.code.upper(): b for b in expected}
        wanted = [c.upper() for c in box_codes]
        missing = [c for c, w in zip(box_codes, wanted, strict=True) if w not in by_code]
        if missing:
            raise NotFound(
                f"box codes not expected on AWB {awb.number}: {', '.join(missing)}",
                field="boxCodes",
                boxCodes=missing,
            )
        expected = [by_code[w] for w in dict.fromkeys(wanted)]
    if not expected:
        raise Conflict(f"every box of AWB {awb.number} is received already", field="awb")
    now = timezone.now()
    today = stock.today()
    AwbBox.objects.filter(pk__in=[b.pk for b in expected]).update(received_at=now)
    awb.pieces_received += len(expected)
    if awb.pieces_received == awb.pieces:
        awb.closed_at, awb.arrival_date = now, today
    awb.save(update_fields=["pieces_received", "closed_at", "arrival_date"])

    touched = {b.item_id for b in expected}
    still_out = set(
        AwbBox.objects.filter(item_id__in=touched, received_at__isnull=True).values_list(
            "item_id", flat=True
        )
    )
    complete = sorted(touched - still_out)
    prebook_items = lock_prebook_items(company, line_ids=complete)
    lines = stock.lock_lines(company, complete) if complete else {}
    for pk in complete:
        # On hand from today: the line now sells as open market, not future.
        InventoryLine.objects.filter(pk=pk).update(arrival_date=today, in_transit=False)
        stock.record(lines[pk], InventoryChange.Kind.UPDATED)
    PurchaseOrderItem.objects.filter(pk__in=complete).update(received_at=now)
    done = delivered_ids(prebook_items)
    to_invoice = [
        pi
        for pi in prebook_items.values()
        if pi.pk not in done
        and pi.boxes > 0
        and pi.prebook.status != DocumentStatus.VOIDED
        and not getattr(pi.prebook, "deleted_at", None)
    ]
    invoices = _invoice_prebooked(company, to_invoice, lines, user)
    touch(company.pk, orders.values())
    return Receipt(awb, [b.box.code for b in expected], complete, invoices)


def _invoice_prebooked(company, prebook_items, lines, user) -> list[Invoice]:
    """Each prebook's arrived lines become one invoice. The fee was charged on the prebook,
    so the invoice carries none."""
    by_prebook: dict[int, list[PrebookItem]] = {}
    for pi in prebook_items:
        by_prebook.setdefault(pi.prebook_id, []).append(pi)
    company = Company.objects.get(pk=company.pk)
    invoices = []
    for items in by_prebook.values():
        prebook = items[0].prebook
        status = (
            DocumentStatus.CONFIRMED if company.auto_confirm else DocumentStatus.PENDING_APPROVAL
        )
        invoice = Invoice.objects.create(
            company=company,
            location=prebook.location,
            number=sales.next_number(company, prebook.location, "invoice"),
            customer=prebook.customer,
            ship_to=prebook.ship_to,
            carrier=prebook.carrier,
            # A prebook made before every document had a ship date may have none.
            ship_date=prebook.ship_date or sales.next_shipping_day(company),
            customer_po=prebook.customer_po,
            status=status,
            via_api=False,
            fee_rate=Decimal("0"),
            confirmed_at=timezone.now() if status == DocumentStatus.CONFIRMED else None,
            confirmed_by=user if status == DocumentStatus.CONFIRMED else None,
        )
        rows = []
        for pi in items:
            line = lines[pi.line_id]
            rows.append(
                InvoiceItem.objects.create(
                    company=company,
                    invoice=invoice,
                    line_id=line.pk,
                    product_id=pi.product_id,
                    box_type_id=pi.box_type_id,
                    boxes=pi.boxes,
                    unit_type=pi.unit_type,
                    units_per_box=pi.units_per_box,
                    price=pi.price,
                    mark_code=pi.mark_code,
                    web_order_item_id=pi.web_order_item_id,
                )
            )
            PrebookDelivery.objects.create(company=company, prebook_item=pi, invoice_item=rows[-1])
        invoice.amount = sum((r.amount for r in rows), Decimal("0")).quantize(CENT, ROUND_HALF_UP)
        invoice.save(update_fields=["amount"])
        # The customer's additional charges and tax, as on every invoice.
        sales_charges.apply(invoice)
        if status == DocumentStatus.CONFIRMED:
            sales_mailing.send_when_committed(invoice)
        invoices.append(invoice)
    return invoices


# ---------------------------------------------------------------- vendor invoices

MAX_FILE_BYTES = files.MAX_FILE_BYTES


def upload_vendor_invoice(
    *,
    company: Company,
    po: PurchaseOrder,
    data: bytes,
    invoice_number: str = "",
    invoice_total: Decimal | None = None,
    mail_from: str = "",
    field: str = "attachment",
) -> VendorInvoice:
    """Store a vendor's invoice file for a PO. Nothing is stored unless it is all valid."""
    if not data:
        raise Invalid("the file is empty", field=field)
    if len(data) > MAX_FILE_BYTES:
        raise files.TooLarge("the file is larger than 20 MB", field=field)
    kind = files.sniff(data, field)
    invoice = VendorInvoice(
        company=company,
        purchase_order=po,
        vendor_id=po.vendor_id,
        invoice_number=invoice_number,
        invoice_total=invoice_total,
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        mail_from=mail_from,
    )
    invoice.file.save(files.EXTENSIONS[kind], ContentFile(data), save=False)
    try:
        with transaction.atomic():
            invoice.save()
    except Exception:
        invoice.file.delete(save=False)
        raise
    return invoice


def authorised_sender(company: Company, po: PurchaseOrder, mail_from: str) -> str:
    """The address of an e-mailed vendor invoice, if it may send one for this PO: one of the
    vendor's "e-mail for POs" addresses, a Vendor Portal user of that vendor, or a company user
    (someone of the company forwarding it). Anyone else is refused, naming `mailFrom`."""
    address = parseaddr(mail_from)[1].strip().lower()
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise Invalid("must be an e-mail address", field="mailFrom")
    vendor = po.vendor
    listed = {a.strip().lower() for a in re.split(r"[;,]", vendor.email_for_pos) if a.strip()}
    if address in listed:
        return address
    users = User.objects.filter(is_active=True).filter(
        Q(vendor_id=vendor.pk) | Q(company_id=company.pk, vendor__isnull=True)
    )
    if users.filter(Q(email__iexact=address) | Q(username__iexact=address)).exists():
        return address
    raise PermissionDenied(
        f"{address} is neither an address of vendor {vendor.name} nor of the company",
        field="mailFrom",
    )


@transaction.atomic
def mark_vendor_invoice_synced(*, company: Company, po_number: str, invoice_number: str) -> int:
    found = VendorInvoice.objects.filter(
        company=company,
        purchase_order__number__iexact=po_number,
        invoice_number__iexact=invoice_number,
    )
    if not found.exists():
        raise NotFound(
            f"no invoice {invoice_number!r} uploaded for purchase order {po_number!r}",
            field="invoiceNumber",
        )
    return found.update(synced_at=timezone.now())


# ---------------------------------------------------------------- multiple.prebooks.create


@dataclass
class Address:
    street: str
    city: str
    state: str
    zipcode: str
    country: str

    def same_as(self, street: str, city: str, zipcode: str) -> bool:
        return (self.street.lower(), self.city.lower(), self.zipcode.lower()) == (
            street.strip().lower(),
            city.strip().lower(),
            zipcode.strip().lower(),
        )


@dataclass
class BatchLine:
    """One line of multiple.prebooks.create: a prebook line, the prebook it goes on named by
    its carrier and truck date, and (for automatic POs) its vendor and cost."""

    item: object  # sales.prebooking.ItemRequest
    ship_date: date
    carrier_code: str | None = None
    carrier_name: str | None = None
    vendor_code: str | None = None
    vendor_name: str | None = None


@dataclass
class Batch:
    customer: Customer
    customer_created: bool
    ship_to: object
    prebooks: list = field(default_factory=list)  # (prebook, [items in request order])
    items: list = field(default_factory=list)  # the prebook lines, in request order
    orders: list = field(default_factory=list)  # (purchase order, its lines)


def _batch_customer(company, code, name, billing: Address, phone) -> tuple[Customer, bool]:
    customer = Customer.objects.filter(company=company, code__iexact=code).first()
    if customer is not None:
        if not customer.active:
            raise Conflict(f"customer {customer.code} is inactive", field="customerCode")
        return customer, False
    try:
        customer = parties.add_customer(
            company=company,
            name=name,
            code=code,
            phone=phone,
            bill_address=billing.street,
            bill_city=billing.city,
            bill_state=billing.state,
            bill_zipcode=billing.zipcode,
            bill_country=billing.country,
        )
    except Conflict as exc:
        # A concurrent call made this new customer first (its insert committed while ours
        # waited on the unique code): use it, as if it had been there.
        customer = Customer.objects.filter(company=company, code__iexact=code).first()
        if customer is None:
            raise exc
        return customer, False
    return customer, True


def _batch_ship_to(customer: Customer, shipping: Address, phone: str):
    """Where the prebooks ship: nowhere special when it is the customer's own address, else
    the customer's ship-to at that address, made when there is none yet."""
    if shipping.same_as(customer.bill_address, customer.bill_city, customer.bill_zipcode):
        return None
    for ship_to in customer.ship_tos.filter(removed_at__isnull=True).order_by("id"):
        if shipping.same_as(ship_to.address, ship_to.city, ship_to.zipcode):
            return ship_to
    return ShipTo.objects.create(
        company=customer.company,
        customer=customer,
        name=customer.name,
        address=shipping.street,
        city=shipping.city,
        state=shipping.state,
        zipcode=shipping.zipcode,
        country=shipping.country,
        phone=phone,
    )


def _by_code(model, company, code, name, where: str, what: str):
    """A carrier or vendor by its code, its name (when sent too) checked to agree."""
    found = model.objects.filter(company=company, code__iexact=code, active=True).first()
    if found is None:
        raise NotFound(f"{what} {code!r} does not exist", field=f"{where}.{what}Code")
    if name and name.strip().lower() != found.name.lower():
        raise Invalid(
            f"{what} {found.code} is {found.name!r}, not {name!r}",
            field=f"{where}.{what}Name",
        )
    return found


@transaction.atomic
def create_prebook_batch(
    *,
    company: Company,
    customer_code: str,
    customer_name: str,
    billing: Address,
    shipping: Address,
    phone: str,
    lines: list[BatchLine],
    location: Location,
    ship_via: int = 0,
    customer_po: str = "",
    comments: str = "",
    auto_orders: bool = False,
) -> Batch:
    """multiple.prebooks.create: the customer (found by code, or made from the code, name,
    addresses and phone), one prebook per carrier and truck date of the lines, and with
    `auto_orders` one Approved purchase order per vendor and vendor ship date filling every
    line. All or nothing.

    Locks as create_prebook then create_order take them: the customer, the prebook number
    and feed counters, then (POs) the new prebook lines, the PO number and feed counters;
    nothing else here waits on a prebook feed counter while holding the PO counters."""
    today = stock.today()
    carriers: dict[str, Carrier] = {}
    vendors: dict[str, Vendor] = {}
    groups: dict[tuple, list[int]] = {}
    for n, line in enumerate(lines):
        where = line.item.field
        carrier = None
        if line.carrier_code:
            key = line.carrier_code.lower()
            carrier = carriers.get(key) or _by_code(
                Carrier, company, line.carrier_code, line.carrier_name, where, "carrier"
            )
            carriers[key] = carrier
        elif line.carrier_name:
            raise Invalid("send carrierCode with carrierName", field=f"{where}.carrierCode")
        if line.vendor_code:
            key = line.vendor_code.lower()
            vendor = vendors.get(key) or _by_code(
                Vendor, company, line.vendor_code, line.vendor_name, where, "vendor"
            )
            vendors[key] = vendor
            line.item.vendor_id = vendor.pk
        if auto_orders:
            if line.item.vendor_id is None:
                raise Invalid(
                    "required when autoGeneratePOsfromPrebooks is 1", field=f"{where}.vendorCode"
                )
            if line.item.cost is None:
                raise Invalid(
                    "required when autoGeneratePOsfromPrebooks is 1", field=f"{where}.cost"
                )
            if line.ship_date <= today:
                raise Invalid(
                    "a purchase order is for boxes still to come: must be after today",
                    field=f"{where}.shipDate",
                )
        groups.setdefault((carrier.pk if carrier else None, line.ship_date), []).append(n)

    customer, created = _batch_customer(company, customer_code, customer_name, billing, phone)
    # Two batches for one customer queue here, so a new shipping address becomes one ship-to.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ship_to = _batch_ship_to(customer, shipping, phone)
    batch = Batch(customer, created, ship_to, items=[None] * len(lines))
    by_pk = {c.pk: c for c in carriers.values()}
    for (carrier_pk, ship_date), members in groups.items():
        prebook, written, _ = prebooking.create_prebook(
            company=company,
            customer=customer,
            location=location,
            ship_date=ship_date,
            items=[lines[n].item for n in members],
            carrier=by_pk.get(carrier_pk),
            ship_to_id=ship_to.pk if ship_to else None,
            customer_po=customer_po,
            comments=comments,
            ship_via=ship_via,
        )
        batch.prebooks.append((prebook, written))
        for n, item in zip(members, written, strict=True):
            batch.items[n] = item

    if auto_orders:
        orders: dict[tuple, list[LineSpec]] = {}
        for n, line in enumerate(lines):
            item = batch.items[n]
            # From the warehouse the farm ships the day before the truck (so the boxes are in
            # by then); shipped by the grower, the farm ships on the truck date itself.
            if ship_via == 1:
                po_ship, arrival = line.ship_date, line.ship_date + TRANSIT
            else:
                po_ship, arrival = max(today, line.ship_date - TRANSIT), line.ship_date
            spec = LineSpec(field=line.item.field, prebook_item_id=item.pk)
            spec.unit_cost = line.item.cost
            orders.setdefault((item.vendor_id, po_ship, arrival), []).append(spec)
        for (vendor_id, po_ship, arrival), specs in orders.items():
            po, po_items = create_order(
                company=company,
                vendor=Vendor.objects.get(pk=vendor_id),
                specs=specs,
                ship_date=po_ship,
                arrival_date=arrival,
                location=location,
            )
            batch.orders.append((po, po_items))
    return batch
