"""Revoking or resetting a token stops the webhook endpoint it registered: nothing queued
before is sent after, and nothing new is queued for it."""

import pytest
from django.db import transaction

from stemline.channels import delivery
from stemline.channels.models import Endpoint, Event
from stemline.inventory.models import InventoryLine
from stemline.inventory.tests.test_api_feeds import add_with_confirm, ok, sell
from stemline.tokens import services as tokens
from stemline.web.tests.conftest import as_role, person  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("stop", ["revoke", "reset"])
def test_a_stopped_token_gets_no_more_deliveries(api, stocked, make_token, simulator, stop):
    token = make_token(stocked.company)
    answer = ok(api("webhook.endpoint.set", token, {"url": simulator.webhook_url("erp")}))
    receiver = simulator.add("erp", {"webhook": {"signingSecret": answer["signingSecret"]}}, "")
    line_id = add_with_confirm(api, token, stocked, quantity=5, external_id="erp-1")
    with transaction.atomic():
        sell(stocked, InventoryLine.objects.get(pk=line_id), 1)
    endpoint = Endpoint.objects.get(token=token.token)
    assert Event.objects.filter(endpoint=endpoint, status=Event.Status.PENDING).count() == 1

    if stop == "revoke":
        tokens.revoke_token(token=token.token)
    else:
        tokens.reset_token(token=token.token)

    delivery.drain(endpoint.pk)
    assert receiver.messages == []
    endpoint.refresh_from_db()
    assert endpoint.active is False
    queued = Event.objects.get(endpoint=endpoint)
    assert queued.status == Event.Status.FAILED
    assert (
        queued.last_error == f"not sent: the token was {'revoked' if stop == 'revoke' else 'reset'}"
    )
    # Later changes are not queued for it either.
    with transaction.atomic():
        sell(stocked, InventoryLine.objects.get(pk=line_id), 1)
    delivery.drain(endpoint.pk)
    assert receiver.messages == []
    assert Event.objects.filter(endpoint=endpoint).count() == 1


def test_after_a_reset_the_new_secret_registers_the_endpoint_again(
    api, stocked, make_token, simulator
):
    token = make_token(stocked.company)
    ok(api("webhook.endpoint.set", token, {"url": simulator.webhook_url("erp")}))
    fresh = tokens.reset_token(token=token.token)
    answer = ok(api("webhook.endpoint.set", fresh, {"url": simulator.webhook_url("erp")}))
    receiver = simulator.add("erp", {"webhook": {"signingSecret": answer["signingSecret"]}}, "")
    line_id = add_with_confirm(api, fresh, stocked, quantity=5, external_id="erp-2")
    with transaction.atomic():
        sell(stocked, InventoryLine.objects.get(pk=line_id), 2)
    delivery.drain(Endpoint.objects.get(token=token.token).pk)
    assert [(m["event"], m["quantity"]) for m in receiver.messages] == [("inventory.sold", 2)]


def test_revoking_from_the_tokens_page_stops_the_endpoint(
    api,
    stocked,
    make_token,
    as_role,  # noqa: F811 (the web tests' fixture, imported above)
):
    token = make_token(stocked.company)
    ok(api("webhook.endpoint.set", token, {"url": "https://erp.example/hook"}))
    as_role("admin").post(f"/setup/settings/tokens/{token.token.pk}/revoke/")
    assert Endpoint.objects.get(token=token.token).active is False
