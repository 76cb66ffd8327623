"""`stemline channel`: connect prints the hand-off bundle (JSON with --json), the other actions
look after a channel; mistakes name the option."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stemline.channels.models import Channel, Event
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("channel", *args, stdout=out)
    return out.getvalue()


def test_connect_prints_the_bundle_with_the_signing_secret(stocked):
    account = str(stocked.company.account_id)
    printed = run(
        "connect", "--company", account, "--marketplace", "bloomnet",
        "--endpoint", "https://bloomnet.example/feed", "--json",
    )  # fmt: skip
    bundle = json.loads(printed)
    channel = Channel.objects.get(pk=bundle["channelId"])
    assert bundle["companyId"] == stocked.company.account_id
    assert bundle["customerId"] == channel.customer_id
    assert {t["type"] for t in bundle["tokens"]} == {"company", "customer"}
    assert bundle["webhook"]["signingSecret"].startswith("whsec_")
    for token in bundle["tokens"]:
        assert ApiToken.objects.filter(channels=channel, token_type=token["type"]).exists()
    # The bundle can be printed again later, the same.
    assert json.loads(run("bundle", "--id", str(channel.pk))) == bundle


def test_connect_in_words_and_the_other_actions(stocked):
    printed = run(
        "connect", "--company", str(stocked.company.account_id), "--marketplace", "ftd",
        "--customer", str(stocked.florist.pk), "--endpoint", "http://127.0.0.1:9/ftd",
    )  # fmt: skip
    channel = Channel.objects.get()
    assert f"channel {channel.pk}" in printed and "Customer token:" in printed
    assert "Signing secret: whsec_" in printed
    run("update", "--id", str(channel.pk), "--buffer", "3", "--cap", "10", "--active", "no")
    channel.refresh_from_db()
    assert (channel.buffer, channel.line_cap, channel.active) == (3, 10, False)
    assert "paused" in run("list", "--company", str(stocked.company.account_id))
    assert "inventory.snapshot" in run("deliveries", "--id", str(channel.pk))
    event = Event.objects.filter(endpoint_id=channel.endpoint_id).first()
    assert f"Event {event.pk}:" in run("replay", "--event", str(event.pk))
    assert "events due now" in run("retry", "--id", str(channel.pk))


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--company", "1"], "--company"),
        (["--marketplace", "ibuyflowers"], "--marketplace"),
        (["--customer", "999999"], "--customer"),
        (["--endpoint", "ftp://x"], "--endpoint"),
    ],
)
def test_mistakes_name_the_option(stocked, args, option):
    base = {"--company": str(stocked.company.account_id), "--marketplace": "ftd"}
    for name, value in zip(args[::2], args[1::2], strict=True):
        base[name] = value
    flat = [part for pair in base.items() for part in pair]
    with pytest.raises(CommandError) as refused:
        run("connect", *flat)
    assert str(refused.value).startswith(option)
    assert not Channel.objects.exists()
