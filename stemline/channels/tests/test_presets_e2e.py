"""Each marketplace end to end over real HTTP with the simulator: connect with the preset, the
inventory appears at the marketplace, a buyer orders, the invoice or prebook appears with the
1.5% fee and waits for a sales rep, who confirms it."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests

from stemline.api.registry import registry
from stemline.channels import services
from stemline.channels.models import Channel
from stemline.parties.models import Carrier
from stemline.sales.models import DocumentStatus, Invoice, Prebook
from stemline.tokens.models import ApiToken

from .conftest import deliver

pytestmark = pytest.mark.django_db(transaction=True)


def quantities(market):
    return {int(i["inventoryIds"]): i["quantity"] for i in market.state()["items"]}


def call(live_server, token: str, account: int, method: str, params: dict) -> requests.Response:
    return requests.post(
        f"{live_server.url}/api/{method}",
        json=params,
        headers={"authenticationToken": token, "X-ACCOUNT": str(account)},
        timeout=10,
    )


@pytest.mark.parametrize("marketplace", ["dwf", "ftd", "bloomnet", "ibuyflowers"])
def test_marketplace_end_to_end(marketplace, live_server, simulator, stocked, company_token):
    fedex = Carrier.objects.create(company=stocked.company, name="FedEx", code="FDX")
    on_hand = stocked.add(5, price_a="0.600", price_b="0.550")
    future = stocked.add(4, future_days=6, price_a="0.700", price_b="0.650")

    bundle = services.connect(
        company=stocked.company,
        marketplace=marketplace,
        endpoint_url=simulator.webhook_url(marketplace),
    ).data
    market = simulator.add(marketplace, bundle, live_server.url)
    channel = Channel.objects.get(pk=bundle["channelId"])
    preset = services.PRESETS[marketplace]

    # The hand-off bundle holds what the preset table of product.md says.
    assert bundle["companyId"] == stocked.company.account_id
    assert bundle["customerId"] == channel.customer_id
    assert sorted(t["type"] for t in bundle["tokens"]) == sorted(t for t, _ in preset.tokens)
    assert ("carrierId" in bundle) == (marketplace == "ibuyflowers")
    if "carrierId" in bundle:
        assert bundle["carrierId"] == fedex.pk
    assert "locationId" not in bundle  # a single-location company
    for token in bundle["tokens"]:
        stored = ApiToken.objects.get(channels=channel, token_type=token["type"])
        wanted = services.preset_grants(token["type"], dict(preset.tokens)[token["type"]])
        assert sorted(stored.grants) == sorted(wanted) == token["grants"]

    # The feed: the marketplace holds what it may sell.
    deliver(channel)
    expected = {on_hand.pk: 5, **({future.pk: 4} if preset.sells_future else {})}
    assert quantities(market) == expected

    # A buyer checks out on the marketplace; the order comes back through the API.
    result = market.buy([(on_hand.pk, 2)])
    assert result["ok"], result
    invoice = Invoice.objects.get(pk=result["invoiceId"])
    assert invoice.customer_id == channel.customer_id
    assert invoice.status == DocumentStatus.PENDING_APPROVAL
    fee = (invoice.amount * Decimal("0.015")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert invoice.transaction_fee == fee
    assert invoice.transaction_fee > 0
    if preset.sells_future:
        result = market.buy([(future.pk, 1)])
        assert result["ok"], result
        prebook = Prebook.objects.get(pk=result["prebookId"])
        assert prebook.transaction_fee > 0
        assert prebook.status == DocumentStatus.PENDING_APPROVAL

    # The customer token can do only what its preset granted.
    customer_token = next(t["token"] for t in bundle["tokens"] if t["type"] == "customer")
    refused = call(live_server, customer_token, bundle["companyId"], "invoice.confirm", {})
    assert refused.status_code == 403 and refused.json()["status"] == 0

    # A sales rep confirms.
    confirmed = call(
        live_server,
        company_token.secret,
        stocked.company.account_id,
        "invoice.confirm",
        {"invoiceId": invoice.pk},
    )
    assert confirmed.json()["status"] == 1, confirmed.text
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CONFIRMED

    # What was sold left the marketplace.
    deliver(channel)
    assert quantities(market)[on_hand.pk] == 3
    assert market.state()["refused"] == 0


def test_every_method_a_preset_names_exists_for_its_token_type():
    # preset_grants drops a name the registry does not know; a misspelt or retired method in a
    # preset would silently leave a marketplace without it.
    for preset in services.PRESETS.values():
        for token_type, methods in preset.tokens:
            for name in methods:
                method = registry.get(name)
                assert method is not None, f"{preset.name}: {name} is not in the registry"
                assert token_type in method.grantable_types, f"{preset.name}: {name}"
            assert services.preset_grants(token_type, methods) == list(methods)


def test_ibuyflowers_needs_fedex_and_nothing_is_written_without_it(stocked):
    from stemline.core.errors import Invalid

    with pytest.raises(Invalid) as refused:
        services.connect(company=stocked.company, marketplace="ibuyflowers")
    assert refused.value.field == "carrierId"
    assert not Channel.objects.exists() and not ApiToken.objects.exists()


def test_dwf_sends_the_location_of_a_multi_location_company(stocked):
    stocked.company.multi_location = True
    stocked.company.save()
    bundle = services.connect(company=stocked.company, marketplace="dwf").data
    assert bundle["locationId"] == stocked.location.pk
    assert {t["type"] for t in bundle["tokens"]} == {"customer", "vendor"}


def test_one_channel_and_one_token_per_customer(stocked, make_token):
    services.connect(company=stocked.company, marketplace="ftd", customer_id=stocked.florist.pk)
    from stemline.core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        services.connect(
            company=stocked.company, marketplace="bloomnet", customer_id=stocked.florist.pk
        )
    assert refused.value.field == "customerId"
    make_token(stocked.company, "customer", customer_id=stocked.market.pk)
    with pytest.raises(Conflict) as refused:
        services.connect(
            company=stocked.company, marketplace="bloomnet", customer_id=stocked.market.pk
        )
    assert "one per customer" in refused.value.message
    assert Channel.objects.count() == 1
