"""carriers.by.customer.ship.date.list: the retired e-commerce method that tells a customer's
shop on which days it may order and with which carriers (kept for the tokens that hold it)."""

from datetime import timedelta

from django.db.models import F, Q

from stemline.api.registry import CUSTOMER, api_method
from stemline.api.schemas import Id, OptId, OptInt, Out, Params
from stemline.core.errors import Invalid
from stemline.parties.models import Carrier, ShipTo

from . import queries, services
from .models import InventoryLine, Origin

ORIGINS = {1: "On Hand", 2: "Future", 3: "Vendor Availability"}


class ShipDatesIn(Params):
    customerId: Id
    companyLocationId: OptId = None
    inventoryOrigin: OptInt = None


class CarrierOfDateOut(Out):
    carrierId: int
    carrierName: str


class ShipDatesOut(Out):
    status: int = 1
    message: str = "OK"
    deliverDates: list[str]
    defaultCarriersByDate: dict[str, CarrierOfDateOut]
    carrierDate: list[CarrierOfDateOut]


def _us(day) -> str:
    return day.strftime("%m/%d/%Y")


@api_method(
    "carriers.by.customer.ship.date.list",
    request=ShipDatesIn,
    response=ShipDatesOut,
    tokens=[CUSTOMER],
    area="inventory",
    read=True,
    account_required=True,
    deprecated=True,
)
def carriers_by_customer_ship_date_list(call, p: ShipDatesIn):
    """Deprecated: the days a customer may order for, and the carriers of each day.

    Use ecommerce/inventory-available-dates.list and ecommerce/customer-carriers.list. Tokens that hold it may call it; new tokens cannot be granted it. `deliverDates` are
    `MM/DD/YYYY` ship dates: with `inventoryOrigin` 1 (On Hand, the default) from today, with
    2 (Future) from the first arrival of future boxes the customer may buy at the location
    (none: no dates), for as many days as customers may order ahead (14); with 3 (Vendor
    Availability) likewise from the first day growers' offers it may buy can arrive. Every date offers the company's active
    outbound carriers (`carrierDate`); the default of each date (`defaultCarriersByDate`) is
    the carrier of the customer's first ship-to, else the first carrier by name."""
    company = call.company
    buyer = queries.customer(company, call.own_customer(p.customerId))
    location = queries.location(
        company, p.companyLocationId, "companyLocationId", required_if_multi=True
    )
    origin = p.inventoryOrigin or Origin.ON_HAND
    if origin not in ORIGINS:
        raise Invalid("must be 1 (On Hand), 2 (Future) or 3", field="inventoryOrigin")
    if origin not in Origin.values:
        raise Invalid(f"{origin} ({ORIGINS[origin]}) is not offered", field="inventoryOrigin")
    today = services.today()
    if origin == Origin.ON_HAND:
        start = today
    else:
        lines = InventoryLine.objects.filter(
            queries.of_origin(origin, today),
            queries.AVAILABLE,
            Q(reserved_for__isnull=True) | Q(reserved_for=buyer),
            company=company,
        )
        if location is not None:
            lines = lines.filter(location=location)
        # A late AWB (in transit, date passed or unknown) can ship from today.
        first = lines.order_by(F("arrival_date").asc(nulls_first=True)).only("arrival_date").first()
        start = queries.first_day(first, today) if first else None
    days = [start + timedelta(days=n) for n in range(queries.HORIZON_DAYS)] if start else []
    carriers = list(
        Carrier.objects.filter(
            company=company, active=True, direction=Carrier.Direction.OUTBOUND
        ).order_by("name", "id")
    )
    by_id = {c.pk: c for c in carriers}
    preferred = (
        ShipTo.objects.filter(
            company=company, customer=buyer, removed_at__isnull=True, carrier_id__in=by_id
        )
        .order_by("id")
        .values_list("carrier_id", flat=True)
        .first()
    )
    default = by_id.get(preferred) or (carriers[0] if carriers else None)
    options = [{"carrierId": c.pk, "carrierName": c.name} for c in carriers]
    return {
        "deliverDates": [_us(d) for d in days],
        "defaultCarriersByDate": {
            _us(d): {"carrierId": default.pk, "carrierName": default.name} for d in days
        }
        if default
        else {},
        "carrierDate": options,
    }
