"""What the home page tells each role about the day: sales today and this week by channel,
orders waiting for confirmation, top customers, inventory by age, POs and AWBs due. Every
figure is one grouped query, so the page costs the same with ten documents or a million.
"Today" and "this week" are the company's (its time zone is active for the request)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from stemline.channels.models import Channel
from stemline.inventory.models import InventoryLine
from stemline.inventory.queries import AVAILABLE, on_hand
from stemline.purchasing.models import Awb, PurchaseOrder
from stemline.sales.models import DocumentStatus, Invoice, Prebook
from stemline.tokens.models import TokenType

# Where an order came from, in the order the charts stack them.
CHANNELS = [
    ("marketplaces", "Marketplaces"),
    ("api", "API"),
    ("staff", "Staff"),
    ("portal", "Customer portal"),
]
AGE_BUCKETS = [(0, 2, "0–2 days"), (3, 5, "3–5 days"), (6, 9, "6–9 days"), (10, None, "10+ days")]
LIST_SIZE = 8


def channel_of(company_id: int):
    """The channel of an invoice or prebook as an SQL expression: a staff order (the web
    application's), a marketplace's (its customer stands for a connected channel), a
    customer's own shop (a Customer token checked it out), or any other API client."""
    marketplace_customers = Channel.objects.filter(company_id=company_id).values("customer_id")
    return Case(
        When(via_api=False, then=Value("staff")),
        When(customer_id__in=marketplace_customers, then=Value("marketplaces")),
        When(web_order__token__token_type=TokenType.CUSTOMER, then=Value("portal")),
        default=Value("api"),
        output_field=CharField(),
    )


def _sales(company_id: int, since):
    """(day, channel) -> amount and count, invoices and prebooks together, voided left out."""
    totals: dict[tuple, list] = {}
    for model in (Invoice, Prebook):
        rows = (
            model.objects.filter(company_id=company_id, created_at__gte=since)
            .exclude(status=DocumentStatus.VOIDED)
            .annotate(day=TruncDate("created_at"), channel=channel_of(company_id))
            .values("day", "channel")
            .annotate(amount=Sum("amount"), n=Count("id"))
            .order_by()
        )
        for row in rows:
            slot = totals.setdefault((row["day"], row["channel"]), [Decimal(0), 0])
            slot[0] += row["amount"] or 0
            slot[1] += row["n"]
    return totals


def sales(company_id: int) -> dict:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    since = timezone.make_aware(datetime.combine(monday, time.min))
    totals = _sales(company_id, since)
    days = [monday + timedelta(days=i) for i in range(7)]
    keys = [key for key, _ in CHANNELS]
    today_amounts = [float(totals.get((today, key), [0, 0])[0]) for key in keys]
    week = {key: [float(totals.get((day, key), [0, 0])[0]) for day in days] for key in keys}
    return {
        "channels": [label for _, label in CHANNELS],
        "today": today_amounts,
        "today_orders": sum(n for (day, _), (_, n) in totals.items() if day == today),
        "today_total": sum(today_amounts),
        "days": [day.strftime("%a %-d") for day in days],
        "week": [{"label": label, "data": week[key]} for key, label in CHANNELS],
        "week_total": sum(sum(v) for v in week.values()),
        "week_orders": sum(n for _, n in totals.values()),
    }


def pending(company_id: int) -> dict:
    """Orders waiting for someone to confirm them, oldest first."""
    found, count = [], 0
    for model, kind in ((Invoice, "invoice"), (Prebook, "prebook")):
        qs = model.objects.filter(company_id=company_id, status=DocumentStatus.PENDING_APPROVAL)
        count += qs.count()
        for doc in qs.select_related("customer").order_by("created_at", "id")[:LIST_SIZE]:
            found.append({"kind": kind, "doc": doc})
    found.sort(key=lambda row: (row["doc"].created_at, row["doc"].pk))
    return {"count": count, "rows": found[:LIST_SIZE]}


def top_customers(company_id: int, days: int = 30) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    totals: dict[int, dict] = {}
    for model in (Invoice, Prebook):
        rows = (
            model.objects.filter(company_id=company_id, created_at__gte=since)
            .exclude(status=DocumentStatus.VOIDED)
            .values("customer_id", "customer__name")
            .annotate(amount=Sum("amount"), n=Count("id"))
            .order_by("-amount")[: LIST_SIZE * 2]
        )
        for row in rows:
            slot = totals.setdefault(
                row["customer_id"], {"name": row["customer__name"], "amount": 0, "orders": 0}
            )
            slot["amount"] += row["amount"] or 0
            slot["orders"] += row["n"]
    return sorted(totals.values(), key=lambda r: -r["amount"])[:LIST_SIZE]


def inventory_age(company_id: int) -> dict:
    """On-hand boxes still for sale by days since they arrived, and the oldest lines."""
    today = timezone.localdate()
    available = F("total") - F("committed") - F("held")
    lines = (
        # Boxes: the units inventory (opened boxes) counts stems and bunches.
        InventoryLine.objects.filter(company_id=company_id, in_units=False)
        .filter(on_hand(today))
        .filter(AVAILABLE)
        .annotate(
            arrived=Coalesce("arrival_date", TruncDate("created_at"), output_field=DateField())
        )
    )
    sums = {}
    for i, (low, high, _) in enumerate(AGE_BUCKETS):
        window = Q(arrived__lte=today - timedelta(days=low))
        if high is not None:
            window &= Q(arrived__gte=today - timedelta(days=high))
        sums[f"b{i}"] = Sum(available, filter=window, output_field=IntegerField())
    buckets = lines.aggregate(**sums)
    oldest = list(
        lines.select_related("product", "vendor", "box_type").order_by("arrived", "id")[:LIST_SIZE]
    )
    for line in oldest:
        line.age = (today - line.arrived).days
    return {
        "labels": [label for *_, label in AGE_BUCKETS],
        "boxes": [buckets[f"b{i}"] or 0 for i in range(len(AGE_BUCKETS))],
        "oldest": oldest,
    }


def purchasing_due(company_id: int, days: int = 7) -> dict:
    """POs the farms should ship within `days` (and late ones not yet confirmed) and AWBs due
    in the warehouse and not fully received."""
    today = timezone.localdate()
    horizon = today + timedelta(days=days)
    pos = (
        PurchaseOrder.objects.filter(company_id=company_id, ship_date__lte=horizon)
        .filter(
            Q(ship_date__gte=today)
            | Q(status__in=[PurchaseOrder.Status.PENDING_APPROVAL, PurchaseOrder.Status.APPROVED])
        )
        .exclude(status=PurchaseOrder.Status.CANCELLED)
    )
    awbs = Awb.objects.filter(
        company_id=company_id,
        closed_at__isnull=True,
        pieces_received__lt=F("pieces"),
    ).filter(Q(arrival_date__lte=horizon) | Q(arrival_date__isnull=True, ship_date__lte=today))
    return {
        "po_count": pos.count(),
        "pos": list(pos.select_related("vendor").order_by("ship_date", "id")[:LIST_SIZE]),
        "awb_count": awbs.count(),
        "awbs": list(awbs.order_by(F("arrival_date").asc(nulls_first=True), "id")[:LIST_SIZE]),
        "today": today,
    }
