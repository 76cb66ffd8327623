"""Every write to prebooks made through the API: create (header, lines, breakdowns of assorted
boxes; `useExisting`), header and line edits, delete, Vendor-token line rules, and lines drawn
from future inventory. Lock order as in invoicing: prebook row, stock lines, number counter,
feed counter (`record_change` last)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from stemline.catalog.models import BoxType, Product
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.inventory import services as stock
from stemline.inventory.models import Origin
from stemline.parties.models import Carrier, Customer, Vendor

from .invoicing import ship_to_by
from .models import DocumentStatus, Prebook, PrebookBreakdown, PrebookItem
from .services import CENT, fee_for, fee_rate_for, next_number, record_change


def line_item(prebook: Prebook, line, boxes: int, price, mark_code: str = "") -> PrebookItem:
    """A prebook line of `boxes` boxes of an inventory line (its product, pack, grower and
    cost), at `price`; its mark code, else the line's."""
    return PrebookItem.objects.create(
        company_id=prebook.company_id,
        prebook=prebook,
        line=line,
        product_id=line.product_id,
        box_type_id=line.box_type_id,
        vendor_id=line.vendor_id,
        boxes=boxes,
        unit_type=line.unit_type,
        units_per_box=line.units_per_box,
        bunches=line.bunches,
        stems_bunch=line.stems_bunch,
        cost=line.unit_cost,
        price=price,
        mark_code=mark_code or line.mark_code,
    )


@dataclass
class PartRequest:
    product_id: int
    stems_bunch: int
    bunches: int
    price: Decimal = Decimal("0")


@dataclass
class ItemRequest:
    boxes: int
    product_id: int | None = None
    product_code: str | None = None
    box_type_id: int | None = None
    box_type_code: str | None = None
    unit_type: str = "Stem"
    bunches: int | None = None
    stems_bunch: int | None = None
    vendor_id: int | None = None
    cost: Decimal | None = None
    price: Decimal = Decimal("0")
    mark_code: str = ""
    notes: str = ""
    item_id: int | None = None
    parts: list[PartRequest] = field(default_factory=list)
    field: str = "prebookItems"


def lock_prebook(company: Company, prebook_id: int) -> Prebook:
    prebook = (
        Prebook.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(company=company, pk=prebook_id, deleted_at__isnull=True)
        .first()
    )
    if prebook is None:
        raise NotFound(f"prebook {prebook_id} does not exist", field="prebookId")
    return prebook


def recompute(prebook: Prebook) -> None:
    items = PrebookItem.objects.filter(prebook=prebook).only("boxes", "units_per_box", "price")
    prebook.amount = sum((i.amount for i in items), Decimal("0")).quantize(CENT, ROUND_HALF_UP)
    prebook.transaction_fee = fee_for(prebook.amount, prebook.fee_rate)


def _product(company, r: ItemRequest) -> Product:
    qs = Product.objects.filter(company=company, active=True)
    if r.product_id is not None:
        found = qs.filter(pk=r.product_id).first()
        label, name = r.product_id, "productId"
    elif r.product_code:
        found = qs.filter(legacy_code__iexact=r.product_code).first()
        label, name = repr(r.product_code), "productCode"
    else:
        raise Invalid("send productId or productCode", field=f"{r.field}.productId")
    if found is None:
        raise NotFound(f"product {label} does not exist", field=f"{r.field}.{name}")
    return found


def _box_type(company, r: ItemRequest) -> BoxType:
    qs = BoxType.objects.filter(company=company)
    if r.box_type_id is not None:
        found = qs.filter(pk=r.box_type_id).first()
        label, name = r.box_type_id, "boxTypeId"
    elif r.box_type_code:
        found = qs.filter(code__iexact=r.box_type_code).first()
        label, name = repr(r.box_type_code), "boxTypeCode"
    else:
        raise Invalid("send boxTypeId or boxTypeCode", field=f"{r.field}.boxTypeId")
    if found is None:
        raise NotFound(f"box type {label} does not exist", field=f"{r.field}.{name}")
    return found


def _vendor(company, vendor_id: int | None, where: str) -> Vendor | None:
    if vendor_id is None:
        return None
    found = Vendor.objects.filter(company=company, pk=vendor_id).first()
    if found is None:
        raise NotFound(f"vendor {vendor_id} does not exist", field=f"{where}.vendorId")
    return found


def _fill(company, item: PrebookItem, r: ItemRequest, token_vendor_id: int | None) -> list:
    """Set a line's fields from a request; a Vendor token's price and vendor are ignored (the
    vendor is the token's). Returns the breakdowns to write."""
    if token_vendor_id is not None:
        vendor_id, price = token_vendor_id, Decimal("0")
    else:
        vendor_id, price = r.vendor_id, r.price
    parts = r.parts
    bunches = r.bunches if r.bunches is not None else sum(p.bunches for p in parts)
    stems = r.stems_bunch if r.stems_bunch is not None else (parts[0].stems_bunch if parts else 1)
    if not bunches:
        raise Invalid("required (or breakdowns)", field=f"{r.field}.bunches")
    item.product = _product(company, r)
    item.box_type = _box_type(company, r)
    item.vendor = _vendor(company, vendor_id, r.field)
    item.boxes = r.boxes
    item.unit_type = r.unit_type
    item.bunches, item.stems_bunch = bunches, stems
    item.units_per_box = bunches if r.unit_type == "Bunch" else bunches * stems
    item.price = price
    item.cost = r.cost
    item.mark_code = r.mark_code
    item.notes = r.notes
    products = {
        p.pk: p
        for p in Product.objects.filter(company=company, pk__in=[p.product_id for p in parts])
    }
    out = []
    for n, part in enumerate(parts):
        if part.product_id not in products:
            raise NotFound(
                f"product {part.product_id} does not exist",
                field=f"{r.field}.breakdowns[{n}].productId",
            )
        out.append(
            PrebookBreakdown(
                company=company,
                product=products[part.product_id],
                stems_bunch=part.stems_bunch,
                bunches=part.bunches,
                price=Decimal("0") if token_vendor_id is not None else part.price,
            )
        )
    return out


def _write_items(company, prebook, requests, token_vendor_id) -> list[PrebookItem]:
    written = []
    for r in requests:
        if r.item_id is not None:
            item = PrebookItem.objects.filter(prebook=prebook, pk=r.item_id).first()
            if item is None or (token_vendor_id is not None and item.vendor_id != token_vendor_id):
                raise NotFound(
                    f"prebook item {r.item_id} does not exist", field=f"{r.field}.prebookItemId"
                )
            if item.line_id is not None:
                raise Invalid(
                    "a line drawn from future inventory is changed by removing it and adding it "
                    "again",
                    field=f"{r.field}.prebookItemId",
                )
        else:
            item = PrebookItem(company=company, prebook=prebook)
        parts = _fill(company, item, r, token_vendor_id)
        item.save()
        if parts or r.item_id is None:
            PrebookBreakdown.objects.filter(item=item).delete()
            for part in parts:
                part.item = item
            PrebookBreakdown.objects.bulk_create(parts)
        written.append(item)
    return written


@transaction.atomic
def create_prebook(
    *,
    company: Company,
    customer: Customer,
    location: Location,
    ship_date: date,
    items: list[ItemRequest],
    carrier: Carrier | None = None,
    ship_to_id: int | None = None,
    customer_po: str = "",
    comments: str = "",
    ship_via: int = 0,
    is_ecommerce: bool = False,
    use_existing: bool = False,
    token_vendor_id: int | None = None,
    created_by=None,
    via_api: bool = True,
) -> tuple[Prebook, list[PrebookItem], bool]:
    """A prebook (type P) with its lines; with `use_existing` the lines go onto the open
    prebook of the same location, carrier, truck date, customer and customer PO if there is
    one. Answers (prebook, lines written, whether it was new)."""
    company = Company.objects.get(pk=company.pk)
    prebook = None
    if use_existing:
        # Two such calls for one customer queue here, so they never make two prebooks.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        prebook = (
            Prebook.objects.select_for_update(of=("self",))
            .filter(
                company=company,
                location=location,
                carrier=carrier,
                ship_date=ship_date,
                customer=customer,
                customer_po=customer_po,
                kind=Prebook.Kind.PREBOOK,
                deleted_at__isnull=True,
            )
            .exclude(status=DocumentStatus.VOIDED)
            .order_by("id")
            .first()
        )
    created = prebook is None
    if created:
        prebook = Prebook.objects.create(
            company=company,
            location=location,
            number=next_number(company, location, "prebook"),
            customer=customer,
            ship_to=ship_to_by(company, customer, ship_to_id),
            carrier=carrier,
            ship_date=ship_date,
            customer_po=customer_po,
            comments=comments,
            ship_via=ship_via,
            is_ecommerce=is_ecommerce,
            via_api=via_api,
            fee_rate=fee_rate_for(company, customer.pk) if via_api else Decimal("0"),
            created_by=created_by,
        )
    written = _write_items(company, prebook, items, token_vendor_id)
    recompute(prebook)
    prebook.save()
    record_change(prebook, "created" if created else "updated")
    return prebook, written, created


@transaction.atomic
def update_prebook(
    *, company: Company, prebook_id: int, items: list[ItemRequest], **fields
) -> tuple[Prebook, list[PrebookItem]]:
    prebook = lock_prebook(company, prebook_id)
    for name, value in fields.items():
        setattr(prebook, name, value)
    written = _write_items(company, prebook, items, None)
    recompute(prebook)
    prebook.save()
    record_change(prebook, "updated")
    return prebook, written


@transaction.atomic
def delete_prebook(*, company: Company, prebook_id: int) -> Prebook:
    """Delete a prebook: boxes drawn from future inventory come back; the row stays, hidden
    from the lists, for the purchase orders that may name its lines."""
    prebook = lock_prebook(company, prebook_id)
    sold = [(i.line_id, i.boxes) for i in prebook.items.all() if i.line_id and i.boxes]
    if sold:
        stock.uncommit(company=company, sold=sold)
    prebook.deleted_at = timezone.now()
    prebook.save(update_fields=["deleted_at", "updated_at"])
    record_change(prebook, "deleted")
    return prebook


@transaction.atomic
def delete_item(
    *, company: Company, prebook_id: int, item_id: int, token_vendor_id: int | None = None
) -> PrebookItem | None:
    """Remove a line. A Vendor token may touch only its own lines, and its delete keeps the
    line with quantity 0 (reference §1.4); answers the kept line, or None when deleted."""
    prebook = lock_prebook(company, prebook_id)
    item = PrebookItem.objects.filter(prebook=prebook, pk=item_id).first()
    if item is None or (token_vendor_id is not None and item.vendor_id != token_vendor_id):
        raise NotFound(f"prebook item {item_id} does not exist", field="prebookItemId")
    if item.line_id and item.boxes:
        stock.uncommit(company=company, sold=[(item.line_id, item.boxes)])
    if token_vendor_id is not None:
        item.boxes = 0
        item.save(update_fields=["boxes"])
        kept = item
    else:
        item.delete()
        kept = None
    recompute(prebook)
    prebook.save(update_fields=["amount", "transaction_fee", "updated_at"])
    record_change(prebook, "updated")
    return kept


@transaction.atomic
def add_future_item(
    *,
    company: Company,
    prebook_id: int,
    inventory_id: int,
    boxes: int,
    price: Decimal,
    mark_code: str = "",
) -> PrebookItem:
    """A line drawn from future inventory (future.inventory.openmarket.list's id): its boxes
    are sold onto the prebook at once, with the no-oversell guarantee of every sale."""
    prebook = lock_prebook(company, prebook_id)
    line = stock.commit(company=company, wanted=[(inventory_id, boxes)])[inventory_id]
    if line.reserved_for_id not in (None, prebook.customer_id):
        raise NotFound(f"inventory line {inventory_id} does not exist", field="inventoryId")
    if line.location_id != prebook.location_id:
        raise Invalid(
            f"inventory line {inventory_id} is not at the prebook's location", field="inventoryId"
        )
    if line.origin_on(stock.today()) != Origin.FUTURE:
        raise Invalid(
            f"inventory line {inventory_id} is on hand, not future inventory; sell it on an "
            "invoice",
            field="inventoryId",
        )
    item = line_item(prebook, line, boxes, price, mark_code)
    recompute(prebook)
    prebook.save(update_fields=["amount", "transaction_fee", "updated_at"])
    record_change(prebook, "updated")
    return item


@transaction.atomic
def void_prebook(*, company: Company, prebook_id: int, reason: str) -> Prebook:
    """Void (or reject, for an API order the company will not take) a prebook, saying why:
    boxes drawn from future inventory come back; the prebook stays in the lists, Voided, with
    its reason (prebook.list `voidReason`), as invoice.void leaves an invoice."""
    prebook = lock_prebook(company, prebook_id)
    if prebook.status == DocumentStatus.VOIDED:
        raise Conflict(
            f"prebook {prebook.number} is already Voided",
            field="prebookId",
            currentStatus=prebook.status,
        )
    sold = [(i.line_id, i.boxes) for i in prebook.items.all() if i.line_id and i.boxes]
    if sold:
        stock.uncommit(company=company, sold=sold)
    prebook.status = DocumentStatus.VOIDED
    prebook.void_reason = reason
    prebook.voided_at = timezone.now()
    prebook.save(update_fields=["status", "void_reason", "voided_at", "updated_at"])
    record_change(prebook, "voided")
    return prebook
