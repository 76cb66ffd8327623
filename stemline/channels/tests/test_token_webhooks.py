"""confirmInventory pushed: a token registers its endpoint, and every box of its lines sold or
deleted here reaches that endpoint, signed, as the contract's §3 says."""

import pytest
from django.db import transaction

from stemline.channels import delivery
from stemline.channels.models import Endpoint, Event
from stemline.inventory.models import InventoryLine
from stemline.inventory.tests.test_api_feeds import add_with_confirm, ok, refused, sell

pytestmark = pytest.mark.django_db


def register(api, token, url):
    return ok(api("webhook.endpoint.set", token, {"url": url}))


def test_sold_and_deleted_boxes_are_pushed_to_the_tokens_endpoint(
    api, stocked, company_token, simulator
):
    url = simulator.webhook_url("erp")
    answer = register(api, company_token, url)
    assert answer["signingSecret"].startswith("whsec_")
    receiver = simulator.add("erp", {"webhook": {"signingSecret": answer["signingSecret"]}}, "")

    line_id = add_with_confirm(api, company_token, stocked, quantity=5, external_id="erp-7")
    with transaction.atomic():
        sell(stocked, InventoryLine.objects.get(pk=line_id), 2)
    ok(api("inventory.delete", company_token, {"inventoryId": line_id, "quantity": 1}))

    endpoint = Endpoint.objects.get(token=company_token.token)
    delivery.drain(endpoint.pk)

    assert receiver.refused == 0
    pushed = [
        (m["event"], m["inventoryId"], m["externalId"], m["quantity"]) for m in receiver.messages
    ]
    assert pushed == [
        ("inventory.sold", line_id, "erp-7", 2),
        ("inventory.deleted", line_id, "erp-7", 1),
    ]
    # The same events, in the same order, as the feed a poller reads.
    feed = ok(api("inventory.confirmations.list", company_token, verb="GET"))["confirmations"]
    assert [c["seq"] for c in feed] == [m["confirmationSeq"] for m in receiver.messages]


def test_a_token_without_an_endpoint_gets_nothing_pushed(api, stocked, company_token):
    line_id = add_with_confirm(api, company_token, stocked)
    sell(stocked, InventoryLine.objects.get(pk=line_id), 1)
    assert not Event.objects.exists()


def test_endpoint_get_rotate_and_delete(api, company_token):
    refused(api("webhook.endpoint.get", company_token, verb="GET"), 404, "url")
    first = register(api, company_token, "https://erp.example/hooks")
    again = ok(api("webhook.endpoint.get", company_token, verb="GET"))
    assert again["signingSecret"] == first["signingSecret"]
    assert again["url"] == "https://erp.example/hooks"
    rotated = ok(
        api(
            "webhook.endpoint.set",
            company_token,
            {"url": "https://erp.example/v2", "rotateSecret": True},
        )
    )
    assert rotated["signingSecret"] != first["signingSecret"]
    ok(api("webhook.endpoint.delete", company_token))
    refused(api("webhook.endpoint.delete", company_token), 404, "url")


@pytest.mark.parametrize("url", ["ftp://erp.example/x", "not a url", "http://", ""])
def test_endpoint_must_be_an_http_address(api, company_token, url):
    refused(api("webhook.endpoint.set", company_token, {"url": url}), 422, "url")


def test_endpoints_are_per_token(api, stocked, make_token, simulator):
    mine = make_token(stocked.company)
    theirs = make_token(stocked.company)
    register(api, mine, "https://mine.example/hook")
    refused(api("webhook.endpoint.get", theirs, verb="GET"), 404, "url")
