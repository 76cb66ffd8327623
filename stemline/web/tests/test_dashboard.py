"""The home page tells the day: sales today and this week by channel, orders waiting, top
customers, inventory by age and what purchasing has due, each role its own, at a constant
number of queries."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from stemline.channels import services as channels
from stemline.core.models import Role
from stemline.parties.models import Customer
from stemline.purchasing.models import Awb, PurchaseOrder
from stemline.sales.models import DocumentStatus, Invoice, Prebook, WebOrder

from .conftest import queries_of

pytestmark = pytest.mark.django_db


def make_sales(stocked, make_token, *, count=1):
    """Invoices and prebooks today from each channel (and a voided one that must not count)."""
    company = stocked.company
    from stemline.channels.models import Channel
    from stemline.tokens.models import ApiToken

    found = Channel.objects.filter(company=company).first()
    market = (found or channels.connect(company=company, marketplace="ftd").channel).customer
    shop = (
        ApiToken.objects.filter(
            company=company, customer=stocked.florist, revoked_at__isnull=True
        ).first()
        or make_token(company, "customer", customer_id=stocked.florist.pk).token
    )
    number = 100 + sum(m.objects.filter(company=company).count() for m in (Invoice, Prebook))
    order = WebOrder.objects.create(
        company=company,
        customer=stocked.florist,
        location=stocked.location,
        token=shop,
        hold_expires_at=timezone.now(),
    )

    def doc(model, amount, **kw):
        nonlocal number
        number += 1
        return model.objects.create(
            company=company,
            location=stocked.location,
            number=number,
            amount=Decimal(amount),
            status=kw.pop("status", DocumentStatus.CONFIRMED),
            **kw,
        )

    for _ in range(count):
        doc(Invoice, "100.00", customer=market, via_api=True)  # marketplace
        doc(Invoice, "40.00", customer=stocked.market, via_api=True)  # another API client
        doc(Prebook, "25.00", customer=stocked.market, via_api=False)  # staff
        doc(Invoice, "10.00", customer=stocked.florist, via_api=True, web_order=order)  # portal
        doc(Invoice, "999.00", customer=stocked.market, via_api=False, status=DocumentStatus.VOIDED)
        doc(Invoice, "7.00", customer=stocked.florist, via_api=True, status=0)  # pending


def charts(response):
    raw = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    ).group(1)
    return json.loads(raw)


def test_sales_today_by_channel_and_what_waits(as_role, stocked, make_token):
    make_sales(stocked, make_token)
    response = as_role(Role.SALES).get(reverse("home"))
    data = charts(response)
    today = dict(zip(data["today"]["labels"], data["today"]["data"], strict=True))
    assert today == {"Marketplaces": 100.0, "API": 47.0, "Staff": 25.0, "Customer portal": 10.0}
    week = {s["label"]: sum(s["data"]) for s in data["week"]["series"]}
    assert week == today  # everything was today, which is in this week
    page = response.content.decode()
    assert 'id="pending-count">1<' in page
    top = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">\d+</td>", page)
    assert top[0] == "FTD" or top[0].startswith("FTD")  # the marketplace bought the most
    # Sales sees no purchasing; purchasing sees no sales.
    assert "pos-due" not in page
    purchasing = as_role(Role.PURCHASING).get(reverse("home"))
    assert "chart-today" not in purchasing.content.decode()
    assert "pos-due" in purchasing.content.decode()
    assert "today" not in charts(purchasing) and "age" in charts(purchasing)


def test_inventory_by_age_oldest_first(as_role, stocked):
    today = timezone.localdate()
    old = stocked.add(4)
    old.arrival_date = today - timedelta(days=12)
    old.save()
    middle = stocked.add(3)
    middle.arrival_date = today - timedelta(days=4)
    middle.save()
    stocked.add(2)  # arrived today
    stocked.add(5, future_days=3)  # not on hand: not counted
    response = as_role(Role.SETUP).get(reverse("home"))
    age = charts(response)["age"]
    assert dict(zip(age["labels"], age["data"], strict=True)) == {
        "0–2 days": 2,
        "3–5 days": 3,
        "6–9 days": 0,
        "10+ days": 4,
    }
    rows = re.findall(
        r'<td class="num">(\d+)</td><td class="num">(\d+)</td></tr>',
        response.content.decode().split('id="oldest-lines"')[1],
    )
    assert rows == [("4", "12"), ("3", "4"), ("2", "0")]


def test_purchasing_sees_pos_and_awbs_due(as_role, stocked):
    today = timezone.localdate()
    for n, ship, status in (
        ("P1", today + timedelta(days=2), PurchaseOrder.Status.APPROVED),
        ("P2", today - timedelta(days=2), PurchaseOrder.Status.APPROVED),  # late
        ("P3", today - timedelta(days=2), PurchaseOrder.Status.CONFIRMED),  # done
        ("P4", today + timedelta(days=20), PurchaseOrder.Status.APPROVED),  # not yet
        ("P5", today + timedelta(days=1), PurchaseOrder.Status.CANCELLED),
    ):
        PurchaseOrder.objects.create(
            company=stocked.company,
            number=n,
            location=stocked.location,
            vendor=stocked.vendor,
            ship_date=ship,
            arrival_date=ship + timedelta(days=2),
            status=status,
        )
    Awb.objects.create(
        company=stocked.company,
        number="369-11111111",
        location=stocked.location,
        ship_date=today,
        arrival_date=today + timedelta(days=1),
        pieces=10,
    )
    Awb.objects.create(
        company=stocked.company,
        number="369-22222222",
        location=stocked.location,
        ship_date=today,
        arrival_date=today,
        pieces=4,
        pieces_received=4,
    )
    page = as_role(Role.PURCHASING).get(reverse("home")).content.decode()
    pos = page.split('id="pos-due"')[1].split("</table>")[0]
    assert re.findall(r">(P\d)</a>", pos) == ["P2", "P1"]
    assert "late" in pos
    awbs = page.split('id="awbs-due"')[1].split("</table>")[0]
    assert "369-11111111" in awbs and "369-22222222" not in awbs


def test_the_home_page_costs_the_same_queries_with_few_and_many_rows(as_role, stocked, make_token):
    client = as_role(Role.ADMIN)
    make_sales(stocked, make_token)
    stocked.add(2)
    few = queries_of(lambda: client.get(reverse("home")))
    for i in range(15):
        Customer.objects.create(company=stocked.company, name=f"Florist {i}")
        stocked.add(1)
    make_sales(stocked, make_token, count=10)
    assert queries_of(lambda: client.get(reverse("home"))) == few
