"""Marketplace orders are findable by date (issue 12, item 6): every invoice and prebook a
web-order checkout makes has a ship date (the one sent, else the company's next shipping day,
a prebook never before its boxes arrive), so invoice.list / invoice.details.list and
prebook.list date windows find them."""

from datetime import timedelta

import pytest

from stemline.inventory import services as stock
from stemline.sales.models import Invoice, Prebook
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(stocked, make_token):
    market = make_token(stocked.company, "customer", customer_id=stocked.market.pk)
    company = make_token(stocked.company)
    ApiToken.objects.update(rate_per_second=10_000, rate_burst=10_000)
    return market, company


def _checkout(api, token, lines, **extra):
    order_id = None
    for line, origin in lines:
        body = {"inventoryIds": [line.pk], "inventoryOrigin": origin, "quantity": 1, **extra}
        if order_id:
            body["webOrderId"] = order_id
        r = api("web-order-item.add", token, body)
        assert r.status_code == 200, r.json_body
        order_id = r.json_body["webOrderId"]
    r = api("web-order.checkout", token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    return r.json_body


def _found(api, token, method, day, **extra):
    r = api(
        method, token, {"orderDateFrom": str(day), "orderDateTo": str(day), **extra}, verb="GET"
    )
    assert r.status_code == 200, r.json_body
    return [i["id"] for i in r.json_body["invoices"]]


def test_a_checkout_without_dates_is_found_on_the_next_shipping_day(api, stocked, tokens):
    market, company = tokens
    later = stocked.add(5, future_days=3)
    done = _checkout(api, market, [(stocked.add(5), 1), (later, 2)])
    today = stock.today()
    invoice = Invoice.objects.get(pk=done["invoiceId"])
    assert invoice.ship_date == today
    assert done["invoiceId"] in _found(api, company, "invoice.list", today)
    assert done["invoiceId"] in _found(api, company, "invoice.details.list", today)
    # The customer finds its own order the same way.
    assert done["invoiceId"] in _found(api, market, "invoice.list", today)
    # The prebook of future boxes ships when they have arrived, and prebook.list finds it.
    prebook = Prebook.objects.get(pk=done["prebookId"])
    assert prebook.ship_date == later.arrival_date == today + timedelta(days=3)
    r = api(
        "prebook.list",
        company,
        {"dateFrom": str(prebook.ship_date), "dateTo": str(prebook.ship_date)},
        verb="GET",
    )
    assert r.status_code == 200, r.json_body
    assert [p["id"] for p in r.json_body["prebooks"]] == [prebook.pk]


def test_the_date_sent_with_the_lines_is_the_ship_date(api, stocked, tokens):
    market, company = tokens
    day = stock.today() + timedelta(days=5)
    done = _checkout(api, market, [(stocked.add(5), 1)], date=str(day))
    assert Invoice.objects.get(pk=done["invoiceId"]).ship_date == day
    assert done["invoiceId"] in _found(api, company, "invoice.list", day)
    assert _found(api, company, "invoice.list", stock.today()) == []


@pytest.mark.django_db(transaction=True)
def test_documents_made_without_a_ship_date_get_the_day_they_were_made():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    # The apps below sales stay at their newest: their columns are in the database.
    below = {"core", "parties", "catalog", "tokens", "inventory"}
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] in below]
    before, after = (
        [("sales", "0004_shipping_print_and_pod"), *others],
        [("sales", "0005_backfill_ship_dates"), *others],
    )
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    company = apps.get_model("core", "Company").objects.create(name="Old Co", account_id=424242)
    location = apps.get_model("core", "Location").objects.create(
        company=company, name="Main", code="MAIN", is_default=True
    )
    customer = apps.get_model("parties", "Customer").objects.create(company=company, name="Old")
    common = {"company": company, "location": location, "customer": customer, "number": 1}
    invoice = apps.get_model("sales", "Invoice").objects.create(**common)
    prebook = apps.get_model("sales", "Prebook").objects.create(**common)
    dated = apps.get_model("sales", "Invoice").objects.create(
        **{**common, "number": 2}, ship_date=stock.today() + timedelta(days=9)
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    # Read through the models as they are at `after` (later sales migrations add columns).
    apps = executor.loader.project_state(after).apps
    invoices, prebooks = apps.get_model("sales", "Invoice"), apps.get_model("sales", "Prebook")
    made = stock.today()  # created just now
    assert invoices.objects.get(pk=invoice.pk).ship_date == made
    assert prebooks.objects.get(pk=prebook.pk).ship_date == made
    assert invoices.objects.get(pk=dated.pk).ship_date == made + timedelta(days=9)
    # Back to the newest schema for the tests that follow in this process.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
