"""Hoarding: one customer holds at most the company's (or its channel's) share of a line's
unsold boxes and of the open market at once; beyond it web-order-item.add answers 409."""

import functools
import threading
import traceback

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum

from stemline.channels import services as channels
from stemline.channels.models import Channel
from stemline.core.errors import Conflict
from stemline.core.models import Company
from stemline.inventory.models import InventoryLine
from stemline.sales import services
from stemline.sales.models import WebOrder, WebOrderItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _unthrottled(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def florist_token(stocked, make_token):
    return _unthrottled(make_token(stocked.company, "customer", customer_id=stocked.florist.pk))


def _limits(company, line=None, market=None):
    Company.objects.filter(pk=company.pk).update(max_share_of_line=line, max_share_of_market=market)
    company.refresh_from_db()


def _add(api, token, line, boxes, account=None):
    return api(
        "web-order-item.add",
        token,
        {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": boxes},
        account=account,
    )


def _holding(customer) -> int:
    return (
        WebOrderItem.objects.filter(
            web_order__customer=customer, web_order__status=WebOrder.Status.PENDING
        ).aggregate(n=Sum("quantity"))["n"]
        or 0
    )


def test_no_limit_by_default(api, stocked, florist_token):
    line = stocked.add(20)
    assert _add(api, florist_token, line, 20).json_body["status"] == 1


def test_a_customer_holds_at_most_its_share_of_a_line(api, stocked, florist_token):
    _limits(stocked.company, line=25)
    line = stocked.add(20)
    assert _add(api, florist_token, line, 3).json_body["status"] == 1
    assert _add(api, florist_token, line, 2).json_body["status"] == 1  # 5 of 20: the limit

    r = _add(api, florist_token, line, 1)
    assert r.status_code == 409, r.json_body
    assert r.json_body["status"] == 0
    message = r.json_body["message"]
    assert f"customerId {stocked.florist.pk}" in message
    assert f"at most 25% of inventory line {line.pk} (5 of 20 boxes)" in message
    line.refresh_from_db()
    assert line.held == 5  # the refused add held nothing

    # Another line is another share; another customer has its own.
    other = stocked.add(8)
    assert _add(api, florist_token, other, 2).json_body["status"] == 1
    assert _add(api, florist_token, other, 1).status_code == 409


def test_a_held_box_given_back_makes_room_again(api, stocked, florist_token):
    _limits(stocked.company, line=50)
    line = stocked.add(4)
    first = _add(api, florist_token, line, 2).json_body
    assert _add(api, florist_token, line, 1).status_code == 409
    services.cancel(
        company=stocked.company, customer_id=stocked.florist.pk, web_order_id=first["webOrderId"]
    )
    assert _add(api, florist_token, line, 2).json_body["status"] == 1


def test_a_customer_holds_at_most_its_share_of_the_open_market(api, stocked, florist_token):
    _limits(stocked.company, market=10)
    lines = [stocked.add(10) for _ in range(5)]  # 50 boxes on the open market
    reserved = stocked.add(50, reserved_for=stocked.florist)  # no market: neither counted
    assert _add(api, florist_token, lines[0], 3).json_body["status"] == 1
    assert _add(api, florist_token, lines[1], 2).json_body["status"] == 1  # 5 of 50
    r = _add(api, florist_token, lines[2], 1)
    assert r.status_code == 409, r.json_body
    assert "at most 10% of the open market (5 of 50 boxes)" in r.json_body["message"]
    assert _holding(stocked.florist) == 5
    # Boxes reserved for this customer are its own, not the market's.
    r = api(
        "web-order-item.add",
        florist_token,
        {
            "inventoryIds": [reserved.pk],
            "inventoryOrigin": 1,
            "quantity": 30,
            "reservedInventory": True,
        },
    )
    assert r.json_body["status"] == 1, r.json_body


def test_a_channel_overrides_the_company_limits(api, stocked):
    _limits(stocked.company, line=10)
    bundle = channels.connect(company=stocked.company, marketplace="ftd")
    channel = Channel.objects.get(pk=bundle.data["channelId"])
    market_token = next(t["token"] for t in bundle.data["tokens"] if t["type"] == "customer")
    ApiToken.objects.filter(customer_id=channel.customer_id).update(
        rate_per_second=10_000, rate_burst=10_000
    )
    line = stocked.add(20)
    # The company's 10% (2 of 20) binds the channel's customer until the channel says otherwise.
    add = functools.partial(_add, account=stocked.company.account_id)
    assert add(api, market_token, line, 3).status_code == 409
    Channel.objects.filter(pk=channel.pk).update(max_share_of_line=50)
    assert add(api, market_token, line, 10).json_body["status"] == 1
    r = add(api, market_token, line, 1)
    assert r.status_code == 409 and "at most 50%" in r.json_body["message"]
    # 100 on the channel: no limit for it, whatever the company says.
    Channel.objects.filter(pk=channel.pk).update(max_share_of_line=100)
    assert add(api, market_token, line, 10).json_body["status"] == 1


def test_the_channel_settings_form_saves_the_limits(client, stocked):
    from stemline.core.models import Role
    from stemline.core.services import create_user

    bundle = channels.connect(company=stocked.company, marketplace="ftd")
    channel = Channel.objects.get(pk=bundle.data["channelId"])
    admin = create_user(company=stocked.company, email="boss@example.com", role=Role.ADMIN)
    client.force_login(admin)
    url = f"/setup/integrations/{channel.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"max_share_of_line" in page.content
    form = {
        "sells_on_hand": "on",
        "price_level": "B",
        "markup": "10",
        "buffer": "0",
        "fee_rate": "0.0150",
        "snapshot_every": "300",
        "active": "on",
        "max_share_of_line": "30",
        "max_share_of_market": "",
    }
    r = client.post(url, form)
    assert r.status_code == 302, r.content.decode()[:2000]
    channel.refresh_from_db()
    assert (channel.max_share_of_line, channel.max_share_of_market) == (30, None)
    form["max_share_of_line"] = "0"
    r = client.post(url, form)
    assert r.status_code == 200 and b"max_share_of_line" in r.content
    channel.refresh_from_db()
    assert channel.max_share_of_line == 30


def test_the_hoarding_command_sets_the_company_limits(stocked):
    from django.core.management import call_command

    call_command(
        "hoarding", account=stocked.company.account_id, share_of_line="25", share_of_market="off"
    )
    company = Company.objects.get(pk=stocked.company.pk)
    assert (company.max_share_of_line, company.max_share_of_market) == (25, None)
    with pytest.raises(Exception, match="between 1 and 100"):
        call_command("hoarding", account=company.account_id, share_of_line="101")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks and concurrent writers need PostgreSQL (DATABASE_URL=postgres://...)",
)
def test_one_customer_adding_from_many_threads_never_exceeds_its_share(stocked):
    _limits(stocked.company, line=30, market=20)
    lines = [stocked.add(10) for _ in range(10)]  # 100 boxes: at most 3 a line, 20 in all
    # A web order each: the lock on one pending order does not queue them, only the hoarding
    # check's lock on the customer does. Each round, every thread adds one box of its own line.
    threads_n, rounds = 8, 4
    orders = [
        services.create_web_order(
            company=stocked.company, customer_id=stocked.florist.pk, location_id=None
        ).pk
        for _ in range(threads_n)
    ]
    services.add_items(  # 14 held already: the race is for the last 6
        company=stocked.company,
        customer_id=stocked.florist.pk,
        requests=[services.ItemRequest(line.pk, 2) for line in lines[:7]],
        origin=1,
        web_order_id=orders[0],
    )
    errors, answers = [], []
    start = threading.Barrier(threads_n)

    def buyer(n):
        try:
            for round_ in range(rounds):
                start.wait(30)
                line = lines[(n + round_) % len(lines)]
                try:
                    services.add_items(
                        company=stocked.company,
                        customer_id=stocked.florist.pk,
                        requests=[services.ItemRequest(line.pk, 1)],
                        origin=1,
                        web_order_id=orders[n],
                    )
                    answers.append("ok")
                except Conflict as exc:
                    assert "at most" in exc.message, exc.message
                    answers.append("refused")
        except BaseException:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    assert len(answers) == threads_n * rounds
    assert _holding(stocked.florist) == 20
    assert answers.count("ok") == 6
    for line in InventoryLine.objects.filter(pk__in=[x.pk for x in lines]):
        mine = WebOrderItem.objects.filter(
            line=line, web_order__customer=stocked.florist, web_order__status=1
        ).aggregate(n=Sum("quantity"))["n"]
        assert (mine or 0) <= 3
        assert line.held == (mine or 0)
