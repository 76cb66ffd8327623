"""Komet's words for answers: what a list says when it finds nothing.

The reference records three of these texts verbatim ("Products not found.", "Boxtype not
found.", "Orders not found."); the other lists follow the same pattern, in the reference's
names for what they list. An empty list keeps `status` 1 and its empty list (contract §1).
Feeds (`*.sync`, `inventory.confirmations.list`) are Stemline's own: an empty feed means
"nothing new", not "not found", and keeps "OK".
"""

from functools import cache

from .leniency import LIST, shapes

EMPTY: dict[str, str] = {
    "awb.list": "AWBs not found.",
    "awb.future.list": "AWBs not found.",
    "boxtype.list": "Boxtype not found.",
    "carrier.list": "Carriers not found.",
    "category.list": "Categories not found.",
    "company.location.list": "Locations not found.",
    "customer.list": "Customers not found.",
    "customer.shipto.list": "Ship tos not found.",
    "ecommerce/customer-carriers.list": "Carriers not found.",
    "ecommerce/inventory-available-dates.list": "Inventory not found.",
    "ecommerce/inventory.get": "Inventory not found.",
    "ecommerce/inventory.list": "Inventory not found.",
    "future.inventory.openmarket.list": "Inventory not found.",
    "hardgood/inventory.list": "Inventory not found.",
    "inventory.list": "Inventory not found.",
    "inventory.openmarket.list": "Inventory not found.",
    "inventory.consolidated.openmarket.list": "Inventory not found.",
    "invoice.details.list": "Orders not found.",
    "invoice.list": "Orders not found.",
    "location.list": "Locations not found.",
    "prebook.details.list": "Prebooks not found.",
    "prebook.list": "Prebooks not found.",
    "product.list": "Products not found.",
    "purchase.order.list": "Purchase orders not found.",
    "standing.order.list": "Standing orders not found.",
    "vendor.invoice.list": "Vendor invoices not found.",
    "vendor.list": "Vendors not found.",
    "web-order-details.list": "Web orders not found.",
    "v2/web-order-details.list": "Web orders not found.",
}

# Lists that are feeds, not searches: their empty answer stays "OK".
FEEDS = frozenset(
    {
        "inventory.sync",
        "invoice.sync",
        "prebook.sync",
        "purchase.order.sync",
        "inventory.confirmations.list",
    }
)


@cache
def _list_field(response_model) -> str | None:
    for name, shape in shapes(response_model).items():
        if shape.kind.kind == LIST:
            return name
    return None


def apply_empty_message(method_name: str, payload) -> None:
    """An answer whose list is empty says the list's "... not found." text."""
    text = EMPTY.get(method_name)
    if text is None or getattr(payload, "message", None) not in ("OK", "", None):
        return
    field = _list_field(type(payload))
    if field is not None and not getattr(payload, field, None):
        payload.message = text
