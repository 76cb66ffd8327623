"""Setup > Integrations in the web application: the wizard, the bundle to copy and download,
settings with errors beside the field, the delivery log with replay; roles and companies kept
apart."""

import json

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from stemline.channels import services, tasks
from stemline.channels.models import Channel, Event
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(stocked):
    def make(role=Role.SETUP, company=None):
        user = create_user(
            company=company or stocked.company,
            email=f"{role}-{(company or stocked.company).pk}@example.com",
            role=role,
            password="tulip-garden-2026",
        )
        client = Client()
        client.force_login(user)
        return client

    return make


def test_the_wizard_connects_a_marketplace_and_shows_its_bundle(signed_in, stocked):
    client = signed_in()
    page = client.get("/setup/integrations/connect/")
    assert page.status_code == 200 and b"Generate" in page.content
    answer = client.post(
        "/setup/integrations/connect/",
        {
            "marketplace": "dwf",
            "customer": stocked.market.pk,
            "endpoint": "https://dwf.example/feed",
        },
    )
    channel = Channel.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{channel.pk}/")
    detail = client.get(answer["Location"]).content.decode()
    bundle = services.bundle(channel).data
    for token in bundle["tokens"]:
        assert token["token"] in detail  # shown, with a Copy button beside it
    assert str(stocked.company.account_id) in detail
    assert bundle["webhook"]["signingSecret"] in detail

    download = client.get(f"/setup/integrations/{channel.pk}/bundle.json")
    assert download["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.content) == bundle
    listing = client.get("/setup/integrations/").content.decode()
    assert "DWF Wholesale" in listing


def test_errors_show_beside_the_field(signed_in, stocked, make_token):
    client = signed_in()
    make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    answer = client.post(
        "/setup/integrations/connect/", {"marketplace": "ftd", "customer": stocked.florist.pk}
    )
    assert answer.status_code == 200
    assert b'id="id_customer_errors"' in answer.content
    assert b"one per customer" in answer.content
    answer = client.post("/setup/integrations/connect/", {"marketplace": "ibuyflowers"})
    assert b'id="id_marketplace_errors"' in answer.content and b"FedEx" in answer.content
    answer = client.post(
        "/setup/integrations/connect/", {"marketplace": "ftd", "endpoint": "not a url"}
    )
    assert b'id="id_endpoint_errors"' in answer.content
    assert not Channel.objects.exists()


def test_settings_are_saved_and_refused_beside_the_field(signed_in, stocked):
    client = signed_in()
    channel = services.connect(company=stocked.company, marketplace="ftd").channel
    form = {
        "sells_on_hand": "on",
        "price_level": "B",
        "markup": "5",
        "buffer": "2",
        "fee_rate": "0.02",
        "snapshot_every": "120",
        "active": "on",
        "line_cap": "",
    }
    assert client.post(f"/setup/integrations/{channel.pk}/", form).status_code == 302
    channel.refresh_from_db()
    channel.customer.refresh_from_db()
    assert (channel.buffer, channel.snapshot_every, str(channel.fee_rate)) == (2, 120, "0.0200")
    assert channel.customer.default_price == "B"
    answer = client.post(f"/setup/integrations/{channel.pk}/", {**form, "sells_on_hand": ""})
    assert b'id="id_sells_on_hand_errors"' in answer.content
    answer = client.post(f"/setup/integrations/{channel.pk}/", {**form, "snapshot_every": "3"})
    assert b'id="id_snapshot_every_errors"' in answer.content
    # Changes per message: saved, refused beyond 500 beside the field, 1 when left empty.
    answer = client.post(f"/setup/integrations/{channel.pk}/", {**form, "deltas_per_message": "50"})
    assert answer.status_code == 302
    channel.refresh_from_db()
    assert channel.deltas_per_message == 50
    answer = client.post(
        f"/setup/integrations/{channel.pk}/", {**form, "deltas_per_message": "501"}
    )
    assert b'id="id_deltas_per_message_errors"' in answer.content
    channel.refresh_from_db()
    assert channel.deltas_per_message == 50
    assert client.post(f"/setup/integrations/{channel.pk}/", form).status_code == 302
    channel.refresh_from_db()
    assert channel.deltas_per_message == 1


def test_the_delivery_log_replays_an_event(signed_in, stocked, simulator):
    client = signed_in()
    bundle = services.connect(
        company=stocked.company, marketplace="ftd", endpoint_url=simulator.webhook_url("ftd")
    ).data
    market = simulator.add("ftd", bundle, "")
    event = Event.objects.get(kind="inventory.snapshot")
    page = client.get(f"/setup/integrations/{bundle['channelId']}/").content.decode()
    assert "inventory.snapshot" in page and "waiting" in page
    answer = client.post(
        f"/setup/integrations/{bundle['channelId']}/events/{event.pk}/replay/", follow=True
    )
    assert b"queued to be sent again" in answer.content
    # A worker sends it (the page never waits for the marketplace).
    queued = DBTaskResult.objects.get(task_path="stemline.channels.tasks.replay_event")
    assert queued.args_kwargs["args"] == [event.pk]
    assert tasks.replay_event.call(event.pk) is True
    assert market.snapshots == 1
    event.refresh_from_db()
    assert event.status == Event.Status.DELIVERED


def test_only_admin_and_setup_reach_integrations(signed_in, stocked):
    for role in (Role.SALES, Role.PURCHASING):
        assert signed_in(role).get("/setup/integrations/").status_code == 403
    assert signed_in(Role.ADMIN).get("/setup/integrations/").status_code == 200
    assert Client().get("/setup/integrations/").status_code == 302  # to sign-in


def test_another_companys_channel_is_not_found(signed_in, stocked, other_company):
    theirs = services.connect(
        company=stocked.company, marketplace="ftd", name="Sunrise on FTD"
    ).channel
    outsider = signed_in(Role.ADMIN, company=other_company)
    for url in (
        f"/setup/integrations/{theirs.pk}/",
        f"/setup/integrations/{theirs.pk}/bundle.json",
    ):
        assert outsider.get(url).status_code == 404
    assert outsider.post(f"/setup/integrations/{theirs.pk}/retry/").status_code == 404
    assert theirs.name not in outsider.get("/setup/integrations/").content.decode()
    assert ApiToken.objects.filter(company=other_company).count() == 0


def test_forms_need_the_csrf_token(stocked):
    user = create_user(
        company=stocked.company, email="csrf@example.com", role=Role.ADMIN, password="x-y-z-123"
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/setup/integrations/connect/", {"marketplace": "ftd"}).status_code == 403
    assert not Channel.objects.exists()
