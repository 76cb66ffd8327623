"""A line as a buyer sees it in the shop (`ecommerce/inventory.list`) and in a marketplace's
feed (the channels' outbox builds its deltas and snapshots with the same row, so the two never
differ): public here so the channels depend on inventory, not on a private helper of its API."""

from .models import InventoryLine


def pack_fields(line: InventoryLine) -> dict:
    return {
        "boxTypeId": line.box_type_id,
        "boxTypeCode": line.box_type.code,
        "unitType": line.unit_type,
        "bunches": line.bunches,
        "unitsPerBox": line.units_per_box,
        "stemsBunch": line.stems_bunch,
        # A units line (opened boxes, loose bunches or stems): its quantities count units of
        # unitType, sold in whole bunches; unitsPerBox is 1.
        "unitsInventory": line.in_units,
    }


def shop_row(line: InventoryLine, buyer, today, quantity: int | None = None) -> dict:
    """The shop's row of `line` for the customer `buyer` (its price level); `quantity` instead
    of what is available (a channel's capped quantity, or 0 on a date it is not sold)."""
    from . import queries, services

    product = line.product
    start = queries.first_day(line, today)
    return {
        "inventoryIds": str(line.pk),
        "inventoryOrigin": line.origin_on(today),
        "availableDate": start,
        "availableDateTo": queries.available_dates(line, today)[-1],
        "productId": product.pk,
        "companyProductId": product.pk,
        "productDescription": product.description,
        "productCode": product.legacy_code,
        "categoryId": product.category_id,
        "category": product.category.name,
        "variety": product.variety,
        "color": product.color,
        "grade": product.grade,
        **pack_fields(line),
        "quantity": max(0, line.available) if quantity is None else quantity,
        "price": services.customer_price(line, buyer),
        "vendorId": line.vendor_id,
        "vendor": line.vendor.name if line.vendor else "",
        "companyLocationId": line.location_id,
        "markCode": line.mark_code,
    }
