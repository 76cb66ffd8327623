"""Reads of purchasing shared by the API, the web application and the Vendor Portal: purchase
orders with their lines, breakdowns and boxes in a constant number of queries, AWBs, vendor
invoices."""

from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from stemline.api.schemas import stamp
from stemline.catalog.models import UnitType
from stemline.core.errors import Invalid, NotFound
from stemline.core.models import Company
from stemline.core.sql import id_in
from stemline.inventory import feeds

from .models import Awb, AwbBox, Breakdown, PurchaseOrder, PurchaseOrderItem, VendorInvoice

SYNC_ROWS = 200
MAX_VENDOR_INVOICES = 1000

ITEM_RELATIONS = (
    "line",
    "line__product",
    "line__box_type",
    "awb",
    "prebook_item__prebook__customer",
)


def _items() -> QuerySet:
    return (
        PurchaseOrderItem.objects.select_related(*ITEM_RELATIONS)
        .prefetch_related(
            Prefetch("breakdowns", queryset=Breakdown.objects.select_related("product")),
            Prefetch(
                "shipped_boxes",
                queryset=AwbBox.objects.select_related("box", "awb").order_by("box_id"),
            ),
        )
        .order_by("line_id")
    )


def with_details(qs: QuerySet, line_status: str | None = None) -> QuerySet:
    """Purchase orders with vendor, carrier, and lines (`details`) with their breakdowns and
    boxes: five queries whatever the number of orders."""
    items = _items()
    if line_status:
        items = items.filter(status=line_status)
    return qs.select_related("vendor", "carrier").prefetch_related(
        Prefetch("items", queryset=items, to_attr="details")
    )


def purchase_orders(
    company: Company,
    *,
    vendor_id: int | None = None,
    ship_from: date | None = None,
    ship_to: date | None = None,
    arrival_from: date | None = None,
    arrival_to: date | None = None,
    vendor: str | None = None,
    vendor_pk: int | None = None,
    customer_id: int | None = None,
    customer_po: str | None = None,
    product: str | None = None,
    numbers: list[str] | None = None,
    origin: str | None = None,
    prebook_number: int | None = None,
    location_id: int | None = None,
    status: str | None = None,
    line_status: str | None = None,
) -> QuerySet:
    """The company's purchase orders matching purchase.order.list's filters (read them with
    list_ids and po_values)."""
    qs = PurchaseOrder.objects.filter(company=company)
    if vendor_id is not None:  # a Vendor token: its own, whatever else it sends
        qs = qs.filter(vendor_id=vendor_id)
    if vendor_pk is not None:
        qs = qs.filter(vendor_id=vendor_pk)
    if ship_from is not None:
        qs = qs.filter(ship_date__gte=ship_from, ship_date__lte=ship_to)
    if arrival_from is not None:
        qs = qs.filter(arrival_date__gte=arrival_from, arrival_date__lte=arrival_to)
    if vendor:
        qs = qs.filter(Q(vendor__name__icontains=vendor) | Q(vendor__code__iexact=vendor))
    if numbers:
        match = Q()
        for number in numbers:
            match |= Q(number__iexact=number)
        qs = qs.filter(match)
    if origin:
        qs = qs.filter(vendor__port_origin__iexact=origin)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if status:
        qs = qs.filter(status=status)
    line = Q()
    if customer_id is not None:
        line &= Q(prebook_item__prebook__customer_id=customer_id)
    if customer_po:
        line &= Q(prebook_item__prebook__customer_po__iexact=customer_po)
    if product:
        line &= Q(line__product__description__icontains=product)
    if prebook_number is not None:
        line &= Q(prebook_item__prebook__number=prebook_number)
    if line_status:
        line &= Q(status=line_status)
    if line:
        qs = qs.filter(
            Exists(PurchaseOrderItem.objects.filter(line, purchase_order=OuterRef("pk")))
        )
    return qs


def changed_since(company: Company, since: int, vendor_id: int | None = None) -> list[tuple]:
    """(id, seq) of the purchase orders changed after `since`, at most SYNC_ROWS."""
    # What has committed gets its number first, so nothing committed is skipped.
    feeds.sequence(company.pk, "purchase_orders", PurchaseOrder)
    qs = PurchaseOrder.objects.filter(company=company, seq__gt=since)
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    return list(qs.order_by("seq").values_list("pk", "seq")[:SYNC_ROWS])


# ---------------------------------------------------------------- long lists as plain values
# purchase.order.list and .sync read tuples of values, never a model per row (issue 16 item 4):
# ids in the list's order first, then a chunk of orders with their lines, breakdowns and boxes
# in four queries per chunk, shaped straight into the answer's JSON types.

LIST_ORDER = ("ship_date", "id")
PO_VALUES = (
    "id",
    "number",
    "ship_date",
    "arrival_date",
    "status",
    "vendor_id",
    "vendor__code",
    "vendor__name",
    "vendor__port_origin",
    "carrier_id",
    "carrier__name",
    "awb_number",
    "location_id",
    "created_at",
)
ITEM_VALUES = (
    "purchase_order_id",
    "line_id",
    "prebook_item_id",
    "prebook_item__prebook__number",
    "prebook_item__prebook__ship_date",
    "prebook_item__prebook__customer_id",
    "prebook_item__prebook__customer__name",
    "line__product_id",
    "line__product__description",
    "line__product__legacy_code",
    "boxes",
    "confirmed_boxes",
    "line__box_type_id",
    "line__box_type__code",
    "line__unit_type",
    "line__bunches",
    "line__stems_bunch",
    "line__unit_cost",
    "line__mark_code",
    "notes",
    "order_type",
    "status",
    "is_mixed",
    "split_from_id",
    "awb__number",
    "line__ship_date",
)
BREAKDOWN_VALUES = (
    "item_id",
    "product_id",
    "product__description",
    "unit_type",
    "bunches",
    "stems_bunch",
    "unit_cost",
)
BOX_VALUES = ("item_id", "box__code", "awb__number", "received_at")


def _num(value) -> float:
    return float(value)


def po_values(ids: list[int], line_status: str | None = None) -> list[dict]:
    """These purchase orders (in the order of `ids`) as purchase.order.list's rows, already in
    JSON's types: four queries."""
    orders = {
        row[0]: row for row in PurchaseOrder.objects.filter(id_in(ids)).values_list(*PO_VALUES)
    }
    items = PurchaseOrderItem.objects.filter(id_in(ids, "purchase_order_id"))
    if line_status:
        items = items.filter(status=line_status)
    item_rows = list(items.order_by("line_id").values_list(*ITEM_VALUES))
    item_ids = [row[1] for row in item_rows]
    parts: dict[int, list] = {}
    for item_id, *rest in (
        Breakdown.objects.filter(id_in(item_ids, "item_id"))
        .order_by("id")
        .values_list(*BREAKDOWN_VALUES)
    ):
        product_id, description, unit_type, bunches, stems_bunch, unit_cost = rest
        parts.setdefault(item_id, []).append(
            {
                "productId": product_id,
                "productDescription": description,
                "unitType": unit_type,
                "bunches": bunches,
                "stemsBunch": stems_bunch,
                "unitCost": _num(unit_cost),
            }
        )
    boxes: dict[int, list] = {}
    for item_id, code, awb, received_at in (
        AwbBox.objects.filter(id_in(item_ids, "item_id"))
        .order_by("box_id")
        .values_list(*BOX_VALUES)
    ):
        boxes.setdefault(item_id, []).append(
            {
                "boxCode": code,
                "awb": awb,
                "received": 1 if received_at else 0,
                "receivedAt": stamp(received_at),
            }
        )
    by_order: dict[int, list] = {pk: [] for pk in ids}
    for row in item_rows:
        by_order[row[0]].append(row)
    return [_po_values(orders[pk], by_order[pk], parts, boxes) for pk in ids]


def _po_values(po: tuple, items: list[tuple], parts: dict, boxes: dict) -> dict:
    (
        pk,
        number,
        ship_date,
        arrival_date,
        status,
        vendor_id,
        vendor_code,
        vendor_name,
        origin,
        carrier_id,
        carrier_name,
        awb_number,
        location_id,
        created_at,
    ) = po
    details, total_boxes, total_cost = [], 0, 0
    for (
        _order,
        item_id,
        prebook_item_id,
        prebook,
        prebook_day,
        customer_id,
        customer_name,
        product_id,
        description,
        product_code,
        item_boxes,
        confirmed,
        box_type_id,
        box_type,
        unit_type,
        bunches,
        stems_bunch,
        unit_cost,
        mark_code,
        notes,
        order_type,
        item_status,
        is_mixed,
        split_from_id,
        awb,
        line_ship_date,
    ) in items:
        per_box = bunches if unit_type == UnitType.BUNCH else bunches * stems_bunch
        if item_status != PurchaseOrderItem.Status.CANCELLED:
            total_boxes += item_boxes
            total_cost += item_boxes * per_box * unit_cost
        details.append(
            {
                "poItemId": item_id,
                "inventoryId": item_id,
                "prebookItemId": prebook_item_id,
                "prebook": prebook,
                "prebookTruckDate": prebook_day.isoformat() if prebook_day else None,
                "customerId": customer_id,
                "customerName": customer_name or "",
                "carrierId": carrier_id,
                "productId": product_id,
                "productDescription": description,
                "productCode": product_code,
                "vendorId": vendor_id,
                "totalBoxes": item_boxes,
                "confirmedBoxes": confirmed,
                "boxTypeId": box_type_id,
                "boxType": box_type,
                "unitType": unit_type,
                "bunches": bunches,
                "stemsBunch": stems_bunch,
                "unitsPerBox": per_box,
                "unitCost": _num(unit_cost),
                "markCode": mark_code,
                "notes": notes,
                "orderType": order_type,
                "status": item_status,
                "isMixed": 1 if is_mixed else 0,
                "splitFromPoItemId": split_from_id,
                "awb": awb or "",
                "shipDate": line_ship_date.isoformat() if line_ship_date else None,
                "breakdowns": parts.get(item_id, []),
                "boxes": boxes.get(item_id, []),
                "CustomFields": [],
            }
        )
    return {
        "id": pk,
        "number": number,
        "shipDate": ship_date.isoformat(),
        "arrivalDate": arrival_date.isoformat(),
        "status": status,
        "vendorId": vendor_id,
        "vendorCode": vendor_code,
        "vendorName": vendor_name,
        "origin": origin,
        "carrierId": carrier_id,
        "carrierName": carrier_name or "",
        "awbNumber": awb_number,
        "locationId": location_id,
        "totalBoxes": total_boxes,
        "totalCost": _num(total_cost),
        "createdAt": stamp(created_at),
        "details": details,
    }


def _detail(item: PurchaseOrderItem, po: PurchaseOrder) -> dict:
    line = item.line
    pi = item.prebook_item
    prebook = pi.prebook if pi else None
    return {
        "poItemId": item.pk,
        "inventoryId": item.pk,
        "prebookItemId": item.prebook_item_id,
        "prebook": prebook.number if prebook else None,
        "prebookTruckDate": prebook.ship_date if prebook else None,
        "customerId": prebook.customer_id if prebook else None,
        "customerName": prebook.customer.name if prebook else "",
        "carrierId": po.carrier_id,
        "productId": line.product_id,
        "productDescription": line.product.description,
        "productCode": line.product.legacy_code,
        "vendorId": po.vendor_id,
        "totalBoxes": item.boxes,
        "confirmedBoxes": item.confirmed_boxes,
        "boxTypeId": line.box_type_id,
        "boxType": line.box_type.code,
        "unitType": line.unit_type,
        "bunches": line.bunches,
        "stemsBunch": line.stems_bunch,
        "unitsPerBox": line.units_per_box,
        "unitCost": line.unit_cost,
        "markCode": line.mark_code,
        "notes": item.notes,
        "orderType": item.order_type,
        "status": item.status,
        "isMixed": 1 if item.is_mixed else 0,
        "splitFromPoItemId": item.split_from_id,
        "awb": item.awb.number if item.awb else "",
        "shipDate": line.ship_date,
        "breakdowns": [
            {
                "productId": b.product_id,
                "productDescription": b.product.description,
                "unitType": b.unit_type,
                "bunches": b.bunches,
                "stemsBunch": b.stems_bunch,
                "unitCost": b.unit_cost,
            }
            for b in item.breakdowns.all()
        ],
        "boxes": [
            {
                "boxCode": s.box.code,
                "awb": s.awb.number,
                "received": 1 if s.received_at else 0,
                "receivedAt": s.received_at,
            }
            for s in item.shipped_boxes.all()
        ],
        "CustomFields": [],
    }


def po_row(po: PurchaseOrder) -> dict:
    details = [_detail(i, po) for i in po.details]
    live = [i for i in po.details if i.status != PurchaseOrderItem.Status.CANCELLED]
    return {
        "id": po.pk,
        "number": po.number,
        "shipDate": po.ship_date,
        "arrivalDate": po.arrival_date,
        "status": po.status,
        "vendorId": po.vendor_id,
        "vendorCode": po.vendor.code,
        "vendorName": po.vendor.name,
        "origin": po.vendor.port_origin,
        "carrierId": po.carrier_id,
        "carrierName": po.carrier.name if po.carrier else "",
        "awbNumber": po.awb_number,
        "locationId": po.location_id,
        "totalBoxes": sum(i.boxes for i in live),
        "totalCost": sum(
            (i.boxes * i.line.units_per_box * i.line.unit_cost for i in live), start=0
        ),
        "createdAt": po.created_at,
        "details": details,
    }


# ---------------------------------------------------------------- AWBs


def awb_of(company: Company, *, awb_id: int | None = None, number: str | None = None) -> Awb:
    qs = Awb.objects.filter(company=company)
    if awb_id is not None:
        found, name, label = qs.filter(pk=awb_id).first(), "awbId", awb_id
    elif number:
        found, name, label = qs.filter(number__iexact=number).first(), "awb", repr(number)
    else:
        raise Invalid("send awbId or awb", field="awbId")
    if found is None:
        raise NotFound(f"AWB {label} does not exist", field=name)
    return found


def awbs(
    company: Company,
    *,
    awb: str | None = None,
    ship_date: date | None = None,
    origin: str | None = None,
    location_code: str | None = None,
) -> QuerySet[Awb]:
    qs = Awb.objects.filter(company=company)
    if awb:
        digits = awb.strip()
        # The last four digits are how people name an AWB (reference §2.G awb.list).
        qs = qs.filter(Q(number__iexact=digits) | Q(number__endswith=digits))
    if ship_date is not None:
        qs = qs.filter(ship_date=ship_date)
    if origin:
        qs = qs.filter(origin__iexact=origin)
    if location_code:
        qs = qs.filter(location__code__iexact=location_code)
    return qs


AWB_ORDER = ("ship_date", "id")
AWB_VALUES = (
    "id",
    "number",
    "house_awb",
    "origin",
    "ship_date",
    "arrival_date",
    "pieces",
    "pieces_received",
    "location__code",
    "closed_at",
)


def awb_values(ids: list[int]) -> list[dict]:
    """awb.list's rows of these AWBs (in the order of `ids`) with their boxes' codes, already
    in JSON's types: two queries."""
    rows = {r[0]: r for r in Awb.objects.filter(id_in(ids)).order_by().values_list(*AWB_VALUES)}
    codes: dict[int, list[str]] = {pk: [] for pk in ids}
    for awb_id, code in (
        AwbBox.objects.filter(id_in(ids, "awb_id"))
        .order_by("box_id")
        .values_list("awb_id", "box__code")
    ):
        codes[awb_id].append(code)
    out = []
    for pk in ids:
        _, number, house, origin, ship_date, arrival_date, pieces, received, location, closed = (
            rows[pk]
        )
        out.append(
            {
                "awbId": pk,
                "awb": number,
                "houseAWB": house,
                "origin": origin,
                "shipDate": ship_date.isoformat(),
                "arrivalDate": arrival_date.isoformat() if arrival_date else None,
                "pieces": pieces,
                "piecesReceived": received,
                "boxesCodes": ",".join(codes[pk]),
                "locationCode": location,
                "status": 0 if closed else 1,
            }
        )
    return out


def future_awbs(
    company: Company,
    *,
    awb: str | None = None,
    ship_date: date | None = None,
    origin: str | None = None,
) -> list[dict]:
    """Open AWBs of which nothing is received yet, each with its houses (one per vendor with
    boxes on it): two queries whatever the number."""
    qs = Awb.objects.filter(company=company, closed_at__isnull=True, pieces_received=0)
    if awb:
        digits = awb.strip()
        qs = qs.filter(Q(number__iexact=digits) | Q(number__endswith=digits))
    if ship_date is not None:
        qs = qs.filter(ship_date=ship_date)
    if origin:
        qs = qs.filter(origin__iexact=origin)
    awbs = list(qs.select_related("location").order_by("ship_date", "id"))
    vendors: dict[int, dict[int, object]] = {}
    items = (
        PurchaseOrderItem.objects.filter(awb__in=[a.pk for a in awbs])
        .select_related("purchase_order__vendor")
        .order_by("line_id")
    )
    for item in items:
        vendor = item.purchase_order.vendor
        vendors.setdefault(item.awb_id, {}).setdefault(vendor.pk, vendor)
    return [
        {
            "awbId": a.pk,
            "awb": a.number,
            "originCode": a.origin,
            "shipDate": a.ship_date,
            "pieces": a.pieces,
            "instructions": "",
            "houses": [
                {
                    "house": a.house_awb,
                    "vendorId": v.pk,
                    "vendorCode": v.code,
                    "locationCode": a.location.code,
                    "instructions": "",
                }
                for v in vendors.get(a.pk, {}).values()
            ],
        }
        for a in awbs
    ]


# ---------------------------------------------------------------- vendor invoices


def vendor_invoices(
    company: Company,
    *,
    po_number: str | None = None,
    vendor_id: int | None = None,
    synced: bool | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[VendorInvoice]:
    qs = VendorInvoice.objects.filter(company=company)
    if po_number:
        qs = qs.filter(purchase_order__number__iexact=po_number)
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    if synced is not None:
        qs = qs.filter(synced_at__isnull=not synced)
    if date_from is not None:
        qs = qs.filter(uploaded_at__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(uploaded_at__date__lte=date_to)
    return qs


VENDOR_INVOICE_ORDER = ("-id",)  # newest first
VENDOR_INVOICE_VALUES = (
    "id",
    "purchase_order__number",
    "purchase_order_id",
    "vendor_id",
    "vendor__name",
    "invoice_number",
    "invoice_total",
    "content_type",
    "size",
    "sha256",
    "uploaded_at",
    "mail_from",
    "synced_at",
)


def vendor_invoice_values(ids: list[int]) -> list[dict]:
    """vendor.invoice.list's rows of these vendor invoices (in the order of `ids`), already in
    JSON's types: one query."""
    found = {
        r[0]: r
        for r in VendorInvoice.objects.filter(id_in(ids))
        .order_by()
        .values_list(*VENDOR_INVOICE_VALUES)
    }
    out = []
    for pk in ids:
        (
            _,
            po_number,
            po_id,
            vendor_id,
            vendor_name,
            invoice_number,
            invoice_total,
            content_type,
            size,
            sha256,
            uploaded_at,
            mail_from,
            synced_at,
        ) = found[pk]
        out.append(
            {
                "vendorInvoiceId": pk,
                "poNumber": po_number,
                "purchaseOrderId": po_id,
                "vendorId": vendor_id,
                "vendorName": vendor_name,
                "invoiceNumber": invoice_number,
                "invoiceTotal": None if invoice_total is None else _num(invoice_total),
                "contentType": content_type,
                "size": size,
                "sha256": sha256,
                "uploadedAt": stamp(uploaded_at),
                "mailFrom": mail_from,
                "externalSystemSynced": 1 if synced_at is not None else 0,
            }
        )
    return out
