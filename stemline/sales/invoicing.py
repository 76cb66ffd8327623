"""Every write to invoices made through the API: create, header and line edits, checkout, void
and the accounting-sync marks. Lines draw boxes from on-hand inventory with `stock.commit`;
removing a line or voiding gives them back with `stock.uncommit`.

Lock order, the same in every function here and in checkout/cancel: the invoice row, then the
inventory lines (primary-key order, in one stock call), then the number counter, then the
feed counters (`record_change` comes last)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.hardgoods import services as hard_goods
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine, Origin
from stemline.parties.models import Carrier, Customer, ShipTo

from . import charges, queries
from .models import DocumentStatus, Invoice, InvoiceItem
from .services import (
    CENT,
    fee_for,
    fee_rate_for,
    hold_reason,
    next_number,
    record_change,
    refuse_if_synced,
)

EDITABLE = (DocumentStatus.DRAFT, DocumentStatus.PENDING_APPROVAL, DocumentStatus.CONFIRMED)


@dataclass
class LineRequest:
    """One requested invoice line: an inventory line, or a product spec to pick lines for."""

    boxes: int
    price: Decimal
    inventory_id: int | None = None
    product_code: str | None = None
    box_type_code: str | None = None
    units_per_box: int | None = None
    unit_type: str | None = None
    mark_code: str = ""
    product_alias: str = ""
    notes: str = ""
    field: str = "orderItemId"


# ---------------------------------------------------------------- look-ups


def customer_by(company: Company, customer_id: int | None, code: str | None) -> Customer:
    qs = Customer.objects.filter(company=company, active=True)
    if customer_id is not None:
        found = qs.filter(pk=customer_id).first()
        if found is None:
            raise NotFound(f"customer {customer_id} does not exist", field="customerId")
        return found
    if code:
        found = qs.filter(code__iexact=code).first()
        if found is None:
            raise NotFound(f"customer code {code!r} does not exist", field="customerCode")
        return found
    raise Invalid("send customerId or customerCode", field="customerId")


def carrier_by(company: Company, carrier_id: int | None, code: str | None) -> Carrier | None:
    qs = Carrier.objects.filter(company=company, active=True)
    if carrier_id is not None:
        found = qs.filter(pk=carrier_id).first()
        if found is None:
            raise NotFound(f"carrier {carrier_id} does not exist", field="carrierId")
        return found
    if code:
        found = qs.filter(code__iexact=code).first()
        if found is None:
            raise NotFound(f"carrier code {code!r} does not exist", field="carrierCode")
        return found
    return None


def ship_to_by(company: Company, customer: Customer, ship_to_id: int | None) -> ShipTo | None:
    if ship_to_id is None:
        return customer.ship_tos.filter(removed_at__isnull=True).order_by("id").first()
    found = ShipTo.objects.filter(
        company=company, customer=customer, pk=ship_to_id, removed_at__isnull=True
    ).first()
    if found is None:
        raise NotFound(f"ship-to {ship_to_id} does not exist for this customer", field="shipToId")
    return found


def location_by(company: Company, location_id: int | None, code: str | None = None) -> Location:
    qs = Location.objects.filter(company=company, active=True)
    if location_id is not None:
        found = qs.filter(pk=location_id).first()
        if found is None:
            raise NotFound(f"location {location_id} does not exist", field="locationId")
        return found
    if code:
        found = qs.filter(code__iexact=code).first()
        if found is None:
            raise NotFound(f"location code {code!r} does not exist", field="locationCode")
        return found
    if company.multi_location:
        raise Invalid("required for a multi-location company", field="locationId")
    found = qs.filter(is_default=True).first()
    if found is None:
        raise NotFound("the company has no default location", field="locationId")
    return found


def lock_invoice(company: Company, invoice_id: int) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(company=company, pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist", field="invoiceId")
    return invoice


def editable(invoice: Invoice, action: str) -> None:
    refuse_if_synced(invoice)
    if invoice.status not in EDITABLE:
        raise Conflict(
            f"invoice {invoice.number} is {invoice.get_status_display()}; it cannot be {action}",
            field="invoiceId",
            currentStatus=invoice.status,
        )


def recompute(invoice: Invoice) -> None:
    """Amount (the lines' total) and the transaction fee on it, after any line change; the
    customer's additional charges and tax on that amount are written at once."""
    items = InvoiceItem.objects.filter(invoice=invoice).only("boxes", "units_per_box", "price")
    amount = sum((i.amount for i in items), Decimal("0"))
    # Hard goods sold on it count too (sales.hardgood_lines).
    amount += hard_goods.amount_on(invoice.company_id, "invoice", invoice.pk)
    invoice.amount = amount.quantize(CENT, ROUND_HALF_UP)
    invoice.transaction_fee = fee_for(invoice.amount, invoice.fee_rate)
    charges.apply(invoice)


# ---------------------------------------------------------------- lines


def _check_line(line: InventoryLine, invoice: Invoice, field: str, today: date) -> None:
    if line.location_id != invoice.location_id:
        raise Invalid(
            f"inventory line {line.pk} is not at the invoice's location {invoice.location_id}",
            field=field,
        )
    if line.reserved_for_id not in (None, invoice.customer_id):
        raise NotFound(f"inventory line {line.pk} does not exist", field=field)
    if line.origin_on(today) != Origin.ON_HAND:
        raise Invalid(
            f"inventory line {line.pk} is future inventory; sell it on a prebook "
            "(prebook.future.item.add)",
            field=field,
        )


def _draw(invoice: Invoice, requests: list[LineRequest]) -> list[tuple[LineRequest, int, int]]:
    """(request, line id, boxes) for every line the requests take; spec requests are picked
    oldest line first and may span several lines. Nothing is locked yet."""
    drawn = []
    for r in requests:
        if r.inventory_id is not None:
            if r.product_code or r.box_type_code:
                raise Invalid("send an inventory line or a product spec, not both", field=r.field)
            drawn.append((r, r.inventory_id, r.boxes))
            continue
        if not r.product_code:
            raise Invalid("send orderItemId (inventoryId) or productCode", field=r.field)
        if not r.box_type_code:
            raise Invalid("required with productCode", field="boxTypeCode")
        picked = queries.pick_lines(
            company=invoice.company,
            customer=invoice.customer,
            location_id=invoice.location_id,
            product=queries.product_by_spec(
                invoice.company, product_code=r.product_code, product_id=None
            ),
            box_type=queries.box_type_by_code(invoice.company, r.box_type_code),
            origin=Origin.ON_HAND,
            quantity=r.boxes,
            unit_type=r.unit_type,
            units_per_box=r.units_per_box,
            lock=False,
            priced=False,
        )
        drawn.extend((r, line_id, boxes) for line_id, boxes in picked)
    return drawn


def _build_lines(invoice: Invoice, requests: list[LineRequest]) -> list[InvoiceItem]:
    """The lines' boxes committed, and the (unsaved) items that carry them."""
    drawn = _draw(invoice, requests)
    if not drawn:
        return []
    # One call for every line: they are locked together in primary-key order, and a line a
    # concurrent buyer took since it was picked makes the whole request a 409.
    lines = stock.commit(company=invoice.company, wanted=[(pk, n) for _, pk, n in drawn])
    today = stock.today()
    items = []
    for r, pk, boxes in drawn:
        line = lines[pk]
        _check_line(line, invoice, r.field, today)
        items.append(
            InvoiceItem(
                company_id=invoice.company_id,
                invoice=invoice,
                line=line,
                product_id=line.product_id,
                box_type_id=line.box_type_id,
                boxes=boxes,
                unit_type=line.unit_type,
                units_per_box=line.units_per_box,
                price=r.price,
                mark_code=r.mark_code or line.mark_code,
                product_alias=r.product_alias,
                notes=r.notes,
            )
        )
    return items


def available_boxes(items) -> dict[int, int]:
    """What is left to sell on each item's inventory line (returnAvailableBoxes)."""
    ids = {i.line_id for i in items if i.line_id}
    return {
        line.pk: max(0, line.available)
        for line in InventoryLine.objects.filter(pk__in=ids).only("total", "committed", "held")
    }


# ---------------------------------------------------------------- writes


@transaction.atomic
def create_invoice(
    *,
    company: Company,
    customer: Customer,
    location: Location,
    ship_date: date,
    lines: list[LineRequest],
    carrier: Carrier | None = None,
    ship_to_id: int | None = None,
    customer_po: str = "",
    reference: str = "",
    warehouse_instructions: str = "",
    invoice_notes: str = "",
    draft: bool = False,
    via_api: bool = True,
) -> tuple[Invoice, list[InvoiceItem]]:
    """A new invoice (Pending Approval, or Draft) with its lines, carrying the transaction fee
    when made through the API. The number is taken after the stock, as checkout takes it."""
    company = Company.objects.get(pk=company.pk)  # the fee rate as it is now
    invoice = Invoice(
        company=company,
        location=location,
        customer=customer,
        ship_to=ship_to_by(company, customer, ship_to_id),
        carrier=carrier,
        ship_date=ship_date,
        customer_po=customer_po,
        reference=reference,
        warehouse_instructions=warehouse_instructions,
        invoice_notes=invoice_notes,
        status=DocumentStatus.DRAFT if draft else DocumentStatus.PENDING_APPROVAL,
        via_api=via_api,
        fee_rate=fee_rate_for(company, customer.pk) if via_api else Decimal("0"),
    )
    items = _build_lines(invoice, lines)
    invoice.hold_reason = hold_reason(customer)[:200] if via_api else ""
    invoice.number = next_number(company, location, "invoice")
    invoice.save()
    items = InvoiceItem.objects.bulk_create(items)
    recompute(invoice)
    invoice.save(update_fields=["amount", "transaction_fee"])
    record_change(invoice, "created")
    return invoice, items


@transaction.atomic
def update_invoice(*, company: Company, invoice_id: int, **fields) -> Invoice:
    """Header fields only (carrier, shipDate, poNumber, reference, notes)."""
    invoice = lock_invoice(company, invoice_id)
    editable(invoice, "changed")
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice.save()
    record_change(invoice, "updated")
    return invoice


@transaction.atomic
def add_item(*, company: Company, invoice_id: int, line: LineRequest) -> list[InvoiceItem]:
    invoice = lock_invoice(company, invoice_id)
    editable(invoice, "changed")
    items = InvoiceItem.objects.bulk_create(_build_lines(invoice, [line]))
    recompute(invoice)
    invoice.save(update_fields=["amount", "transaction_fee", "updated_at"])
    record_change(invoice, "updated")
    return items


def _item(invoice: Invoice, item_id: int) -> InvoiceItem:
    item = InvoiceItem.objects.filter(invoice=invoice, pk=item_id).first()
    if item is None:
        raise NotFound(
            f"invoice item {item_id} does not exist on invoice {invoice.number}",
            field="invoiceItemId",
        )
    return item


@transaction.atomic
def update_item(
    *,
    company: Company,
    invoice_id: int,
    item_id: int,
    price: Decimal,
    boxes: int | None = None,
    mark_code: str | None = None,
    product_alias: str | None = None,
    notes: str | None = None,
) -> InvoiceItem:
    """Change a line; more boxes are drawn from its inventory line, fewer are given back."""
    invoice = lock_invoice(company, invoice_id)
    editable(invoice, "changed")
    item = _item(invoice, item_id)
    if boxes is not None and boxes != item.boxes:
        if item.line_id is None:
            raise Conflict("this line is not drawn from inventory; its boxes are fixed")
        if boxes > item.boxes:
            stock.commit(company=company, wanted=[(item.line_id, boxes - item.boxes)])
        else:
            stock.uncommit(company=company, sold=[(item.line_id, item.boxes - boxes)])
        item.boxes = boxes
    item.price = price
    for name, value in (
        ("mark_code", mark_code),
        ("product_alias", product_alias),
        ("notes", notes),
    ):
        if value is not None:
            setattr(item, name, value)
    item.save()
    recompute(invoice)
    invoice.save(update_fields=["amount", "transaction_fee", "updated_at"])
    record_change(invoice, "updated")
    return item


@transaction.atomic
def delete_item(*, company: Company, invoice_id: int, item_id: int) -> InvoiceItem:
    """Remove a line; its boxes are available again at once."""
    invoice = lock_invoice(company, invoice_id)
    editable(invoice, "changed")
    item = _item(invoice, item_id)
    if item.line_id:
        stock.uncommit(company=company, sold=[(item.line_id, item.boxes)])
    item.delete()
    recompute(invoice)
    invoice.save(update_fields=["amount", "transaction_fee", "updated_at"])
    record_change(invoice, "updated")
    return item


@transaction.atomic
def checkout(*, company: Company, invoice_id: int) -> Invoice:
    """Draft -> Pending Approval; any other status is refused (reference §3.3)."""
    invoice = lock_invoice(company, invoice_id)
    refuse_if_synced(invoice)
    if invoice.status != DocumentStatus.DRAFT:
        raise Conflict(
            f"invoice {invoice.number} is {invoice.get_status_display()}; only a Draft invoice "
            "can be checked out",
            field="invoiceNumber",
            currentStatus=invoice.status,
        )
    invoice.status = DocumentStatus.PENDING_APPROVAL
    invoice.save(update_fields=["status", "updated_at"])
    record_change(invoice, "checked_out")
    return invoice


@transaction.atomic
def void(*, company: Company, invoice_id: int, reason: str) -> Invoice:
    """Cancel an invoice; every box on it goes back to available."""
    invoice = lock_invoice(company, invoice_id)
    refuse_if_synced(invoice)
    if invoice.status == DocumentStatus.VOIDED:
        raise Conflict(
            f"invoice {invoice.number} is already Voided",
            field="invoiceNumber",
            currentStatus=invoice.status,
        )
    sold = [(i.line_id, i.boxes) for i in invoice.items.all() if i.line_id]
    if sold:
        stock.uncommit(company=company, sold=sold)
    hard_goods.release(company=company, document_kind="invoice", document_id=invoice.pk)
    invoice.status = DocumentStatus.VOIDED
    invoice.void_reason = reason
    invoice.voided_at = timezone.now()
    invoice.save(update_fields=["status", "void_reason", "voided_at", "updated_at"])
    record_change(invoice, "voided")
    return invoice


@transaction.atomic
def mark_synced(*, company: Company, invoice_id: int) -> Invoice:
    """The accounting system has it: nobody may change it until it is marked with an error."""
    invoice = lock_invoice(company, invoice_id)
    if not invoice.synced:
        invoice.synced = True
        invoice.synced_at = timezone.now()
        invoice.sync_error = ""
        invoice.save(update_fields=["synced", "synced_at", "sync_error", "updated_at"])
        record_change(invoice, "synced")
    return invoice


@transaction.atomic
def mark_sync_error(
    *, company: Company, invoice_id: int, message: str, unconfirm: bool = True
) -> Invoice:
    """Not synchronized (unlocks it); with `unconfirm` a confirmed invoice goes back to the
    status it had before it was confirmed."""
    invoice = lock_invoice(company, invoice_id)
    invoice.synced = False
    invoice.sync_error = message
    if unconfirm and invoice.status == DocumentStatus.CONFIRMED:
        invoice.status = invoice.status_before_confirm
        if invoice.status is None:
            invoice.status = DocumentStatus.PENDING_APPROVAL
        invoice.confirmed_at = None
        invoice.confirmed_by = None
    invoice.save(
        update_fields=[
            "synced",
            "sync_error",
            "status",
            "confirmed_at",
            "confirmed_by",
            "updated_at",
        ]
    )
    record_change(invoice, "sync_error")
    return invoice
