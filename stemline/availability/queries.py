"""Reads of vendor availability that the API, the Vendor Portal and the web share."""

from datetime import date

from django.db.models import Q

from stemline.core.models import Company
from stemline.purchasing.models import PurchaseOrder, PurchaseOrderItem

from .models import Offer, Purchase

OFFER_RELATIONS = (
    "vendor",
    "line",
    "line__product",
    "line__product__category",
    "line__box_type",
)


def offers(
    company: Company,
    *,
    today: date,
    date_from: date | None = None,
    date_to: date | None = None,
    exact: bool = False,
    location_id: int | None = None,
    vendor_id: int | None = None,
    available_only: bool = False,
) -> list[Offer]:
    """Offers whose shipping window meets `date_from`..`date_to` (covers it all: `exact`),
    still open (last shipping day not passed), sorted by product and window."""
    qs = Offer.objects.filter(company=company, available_to__gte=today).select_related(
        *OFFER_RELATIONS
    )
    if date_from is not None and date_to is not None:
        if exact:
            qs = qs.filter(available_from__lte=date_from, available_to__gte=date_to)
        else:
            qs = qs.filter(available_from__lte=date_to, available_to__gte=date_from)
    if location_id is not None:
        qs = qs.filter(line__location_id=location_id)
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    found = list(qs.order_by("line__product__description", "available_from", "line_id"))
    if available_only:
        found = [o for o in found if o.line.available > 0]
    return found


def purchase_items_of(prebook_item_ids: list[int]) -> list[int]:
    """The purchase-order lines that bought these prebook lines from growers' offers."""
    return list(
        Purchase.objects.filter(prebook_item_id__in=prebook_item_ids)
        .order_by("id")
        .values_list("po_item_id", flat=True)
    )


def va_orders(
    company: Company,
    *,
    numbers: list[str] | None,
    item_ids: list[int] | None,
    ship_date: date | None,
    vendor_id: int | None,
) -> list[dict]:
    """POs with their lines bought from offers, each with the offer it came from."""
    wanted = Q(pk__in=[])
    if numbers:
        upper = [n.strip().upper() for n in numbers]
        wanted |= Q(purchase_order__number__in=upper) | Q(
            purchase_order__number__in=[n.strip() for n in numbers]
        )
    if item_ids:
        wanted |= Q(pk__in=item_ids)
    items = PurchaseOrderItem.objects.filter(
        wanted, company=company, pk__in=Purchase.objects.filter(company=company).values("po_item")
    )
    if ship_date is not None:
        items = items.filter(purchase_order__ship_date=ship_date)
    if vendor_id is not None:
        items = items.filter(purchase_order__vendor_id=vendor_id)
    items = list(
        items.select_related("purchase_order__vendor", "line").order_by(
            "purchase_order_id", "line_id"
        )
    )
    bought: dict[int, list[Purchase]] = {}
    for purchase in (
        Purchase.objects.filter(po_item_id__in=[i.pk for i in items])
        .select_related("offer__line__product")
        .order_by("id")
    ):
        bought.setdefault(purchase.po_item_id, []).append(purchase)
    orders: dict[int, dict] = {}
    for item in items:
        po: PurchaseOrder = item.purchase_order
        row = orders.setdefault(
            po.pk,
            {
                "id": po.pk,
                "number": po.number,
                "shipDate": po.ship_date,
                "vendorId": po.vendor_id,
                "vendorName": po.vendor.name,
                "status": po.status,
                "details": [],
            },
        )
        row["details"].append(
            {
                "poItemId": item.pk,
                "boxes": item.boxes,
                "unitCost": item.line.unit_cost,
                "status": item.status,
                "vendorAvailabilityDetails": [
                    {
                        "productDescription": p.offer.line.product.description,
                        "productCode": p.offer.line.product.legacy_code,
                        "availableFrom": p.offer.available_from,
                        "availableTo": p.offer.available_to,
                        "postHarvest": p.offer.post_harvest,
                        "unitType": p.offer.line.unit_type,
                        "unitsAllocated": p.boxes * p.offer.line.units_per_box,
                        "boxesAllocated": p.boxes,
                        "vendorAvailabilityId": p.offer_id,
                        "prebookItemId": p.prebook_item_id,
                    }
                    for p in bought.get(item.pk, [])
                ],
            }
        )
    return list(orders.values())
