"""Standing orders: their writes, and the generation of their prebooks (type S) on their truck
days, idempotent per (standing order, truck date) so two workers never make one twice."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from stemline.core.errors import NotFound
from stemline.core.models import Company

from .models import DocumentStatus, Prebook, PrebookItem, StandingOrder, StandingOrderItem
from .prebooking import recompute
from .services import next_number, record_change

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
GENERATE_DAYS_AHEAD = 14


@dataclass
class SOItem:
    product: object
    box_type: object
    unit_type: str
    boxes: int
    bunches: int
    stems_bunch: int
    price: Decimal
    vendor: object = None
    mark_code: str = ""
    notes: str = ""
    item_id: int | None = None


def lock(company: Company, standing_order_id: int) -> StandingOrder:
    found = (
        StandingOrder.objects.select_for_update()
        .filter(company=company, pk=standing_order_id)
        .first()
    )
    if found is None:
        raise NotFound(
            f"standing order {standing_order_id} does not exist", field="standingOrderId"
        )
    return found


def _write_items(order: StandingOrder, items: list[SOItem]) -> None:
    for r in items:
        if r.item_id is not None:
            item = StandingOrderItem.objects.filter(standing_order=order, pk=r.item_id).first()
            if item is None:
                raise NotFound(
                    f"standing order item {r.item_id} does not exist", field="standingOrderItemId"
                )
        else:
            item = StandingOrderItem(company_id=order.company_id, standing_order=order)
        for name in (
            "product",
            "box_type",
            "unit_type",
            "boxes",
            "bunches",
            "stems_bunch",
            "price",
            "vendor",
            "mark_code",
            "notes",
        ):
            setattr(item, name, getattr(r, name))
        item.save()


@transaction.atomic
def create(*, company: Company, location, items: list[SOItem], **fields) -> StandingOrder:
    order = StandingOrder.objects.create(
        company=company,
        location=location,
        number=next_number(company, location, "standing"),
        **fields,
    )
    _write_items(order, items)
    return order


@transaction.atomic
def update(
    *, company: Company, standing_order_id: int, items: list[SOItem], **fields
) -> StandingOrder:
    """Prebooks already generated are not changed (reference §2.F)."""
    order = lock(company, standing_order_id)
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()
    _write_items(order, items)
    return order


@transaction.atomic
def delete_item(*, company: Company, standing_order_id: int, item_id: int) -> None:
    order = lock(company, standing_order_id)
    deleted, _ = StandingOrderItem.objects.filter(standing_order=order, pk=item_id).delete()
    if not deleted:
        raise NotFound(f"standing order item {item_id} does not exist", field="standingOrderItemId")


def truck_dates(order: StandingOrder, start: date, end: date) -> list[date]:
    """The order's truck days between start and end: its weekdays, every `recurrence` weeks
    counted from the week of its start date, inside its own start and end dates."""
    first_week = order.start_date - timedelta(days=order.start_date.weekday())
    days, day = [], max(start, order.start_date)
    last = min(end, order.end_date) if order.end_date else end
    while day <= last:
        weeks = (day - first_week).days // 7
        if day.weekday() in order.truck_days and weeks % order.recurrence == 0:
            days.append(day)
        day += timedelta(days=1)
    return days


def _generate_one(order: StandingOrder, day: date) -> Prebook | None:
    items = list(order.items.all())
    if not items:
        return None
    try:
        with transaction.atomic():
            prebook = Prebook.objects.create(
                company_id=order.company_id,
                location_id=order.location_id,
                number=next_number(order.company, order.location, "prebook"),
                customer_id=order.customer_id,
                ship_to_id=order.ship_to_id,
                carrier_id=order.carrier_id,
                ship_date=day,
                customer_po=order.customer_po,
                comments=order.comments,
                ship_via=order.ship_via,
                status=DocumentStatus.PENDING_APPROVAL,
                kind=Prebook.Kind.STANDING_ORDER,
                standing_order=order,
                via_api=order.via_api,
                fee_rate=order.company.transaction_fee_rate if order.via_api else Decimal("0"),
            )
            PrebookItem.objects.bulk_create(
                [
                    PrebookItem(
                        company_id=order.company_id,
                        prebook=prebook,
                        product_id=i.product_id,
                        box_type_id=i.box_type_id,
                        vendor_id=i.vendor_id,
                        boxes=i.boxes,
                        unit_type=i.unit_type,
                        units_per_box=i.units_per_box,
                        bunches=i.bunches,
                        stems_bunch=i.stems_bunch,
                        price=i.price,
                        mark_code=i.mark_code,
                        notes=i.notes,
                    )
                    for i in items
                ]
            )
            recompute(prebook)
            prebook.save(update_fields=["amount", "transaction_fee"])
            record_change(prebook, "created")
            return prebook
    except IntegrityError:
        # Another worker made this day's prebook first (the unique constraint says so).
        return None


def generate(*, today: date, days_ahead: int = GENERATE_DAYS_AHEAD) -> int:
    """Make the missing prebooks of every active standing order for its truck days from today
    to `days_ahead`; the number made. Each order is taken under its row lock and skipped
    while another worker has it; the unique constraint catches any other race."""
    end = today + timedelta(days=days_ahead)
    made = 0
    ids = list(
        StandingOrder.objects.filter(status=StandingOrder.Status.ACTIVE, start_date__lte=end)
        .exclude(end_date__lt=today)
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            order = (
                StandingOrder.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("company", "location")
                .filter(pk=pk, status=StandingOrder.Status.ACTIVE)
                .first()
            )
            if order is None:
                continue
            done = set(
                Prebook.objects.filter(standing_order=order, ship_date__gte=today).values_list(
                    "ship_date", flat=True
                )
            )
            for day in truck_dates(order, today, end):
                if day not in done and _generate_one(order, day) is not None:
                    made += 1
    return made
