"""Orders from a marketplace channel: its fee rate, its buffer and cap hold for its orders as for
its feed, and check-out-on-add turns each line into its document at once."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from stemline.channels import services
from stemline.sales.models import DocumentStatus, Invoice, Prebook, WebOrder

pytestmark = pytest.mark.django_db


def ok(response) -> dict:
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1, response.json_body
    return response.json_body


@pytest.fixture
def channel(stocked):
    bundle = services.connect(
        company=stocked.company, marketplace="dwf", customer_id=stocked.market.pk
    ).data
    token = next(t["token"] for t in bundle["tokens"] if t["type"] == "customer")
    channel = services.channel_of(stocked.company, bundle["channelId"])
    channel.token = token
    return channel


def add(api, channel, line, boxes, origin=1):
    return api(
        "web-order-item.add",
        channel.token,
        {"inventoryIds": str(line.pk), "inventoryOrigin": origin, "quantity": boxes},
        account=channel.company.account_id,
    )


def test_the_channels_fee_rate_is_charged(api, channel, stocked):
    services.update(channel=channel, fee_rate=Decimal("0.0200"))
    line = stocked.add(5)
    order = ok(add(api, channel, line, 2))["webOrderId"]
    done = ok(
        api(
            "web-order.checkout",
            channel.token,
            {"webOrderId": order},
            account=channel.company.account_id,
        )
    )
    invoice = Invoice.objects.get(pk=done["invoiceId"])
    assert invoice.fee_rate == Decimal("0.0200")
    assert invoice.transaction_fee == (invoice.amount * Decimal("0.02")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def test_buffer_and_cap_hold_for_the_channels_orders(api, channel, stocked):
    services.update(channel=channel, buffer=2, line_cap=4)
    line = stocked.add(10)
    refused = add(api, channel, line, 5)
    assert refused.status_code == 409
    [shortage] = (
        refused.json_body["errors"][0]["shortages"]
        if "errors" in refused.json_body and refused.json_body["errors"][0].get("shortages")
        else refused.json_body["shortages"]
    )
    assert shortage == {"inventoryId": line.pk, "requested": 5, "available": 4}
    line.refresh_from_db()
    assert line.held == 0  # nothing of the refused request was kept
    ok(add(api, channel, line, 4))
    # Another customer is not bound by the channel's rules.
    from stemline.sales import services as sales

    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[sales.ItemRequest(line.pk, 6)],
    )
    line.refresh_from_db()
    assert line.available == 0


def test_checkout_on_add_makes_the_document_at_once(api, channel, stocked):
    services.update(channel=channel, checkout_on_add=True)
    on_hand, coming = stocked.add(5), stocked.add(5, future_days=4)
    first = ok(add(api, channel, on_hand, 2))
    invoice = Invoice.objects.get(pk=first["invoiceId"])
    assert invoice.status == DocumentStatus.PENDING_APPROVAL and invoice.transaction_fee > 0
    assert first["transactionFee"] == float(invoice.transaction_fee)
    second = ok(add(api, channel, coming, 1, origin=2))
    assert Prebook.objects.get(pk=second["prebookId"]).customer_id == stocked.market.pk
    assert second["webOrderId"] != first["webOrderId"]  # each line its own order
    assert not WebOrder.objects.filter(status=WebOrder.Status.PENDING).exists()
