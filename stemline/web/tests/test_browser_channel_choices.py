"""Setup > Integrations, a channel's page in a real browser (Debian's Chromium via Playwright),
under the strict CSP: an admin chooses what the marketplace sells beside whole boxes (bunches
and stems, growers' availability, hard goods) and the choice is kept. Screenshot into
docs/screenshots/ with STEMLINE_SCREENSHOTS=1."""

import pytest

from stemline.channels import services as channels
from stemline.channels.models import Channel
from stemline.core.models import Role

from .test_browser import CHROMIUM, browser, shot, sign_in  # noqa: F401 (fixtures)
from .test_browser_units import page  # noqa: F401 (the page under the CSP watch)

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_an_admin_chooses_what_a_channel_sells_beside_boxes(page, person, stocked, shot):  # noqa: F811
    channel = channels.connect(company=stocked.company, marketplace="dwf").channel
    assert (channel.sells_units, channel.sells_availability, channel.sells_hard_goods) == (
        True,
        True,  # DWF sells future boxes, so growers' offers too
        True,
    )
    sign_in(page, person(Role.ADMIN))
    page.goto(f"/setup/integrations/{channel.pk}/")
    assert page.is_checked("#id_sells_units") and page.is_checked("#id_sells_availability")
    page.uncheck("#id_sells_units")
    page.uncheck("#id_sells_hard_goods")
    shot(page, "integration-sells-beside-boxes")
    page.click("#channel-form button[type=submit]")
    page.wait_for_load_state()
    channel = Channel.objects.get(pk=channel.pk)
    assert (channel.sells_units, channel.sells_availability, channel.sells_hard_goods) == (
        False,
        True,
        False,
    )
    page.goto(f"/setup/integrations/{channel.pk}/")
    assert not page.is_checked("#id_sells_units") and page.is_checked("#id_sells_availability")


def test_an_admin_sets_changes_per_message_and_a_wrong_value_is_refused_beside_it(  # noqa: F811
    page,  # noqa: F811
    person,
    stocked,
    shot,  # noqa: F811
):
    channel = channels.connect(company=stocked.company, marketplace="ftd").channel
    sign_in(page, person(Role.ADMIN))
    page.goto(f"/setup/integrations/{channel.pk}/")
    assert page.input_value("#id_deltas_per_message") == "1"
    page.fill("#id_deltas_per_message", "900")
    page.click("#channel-form button[type=submit]")
    page.wait_for_selector("#id_deltas_per_message_errors")
    assert "500" in page.inner_text("#id_deltas_per_message_errors")
    assert Channel.objects.get(pk=channel.pk).deltas_per_message == 1
    page.fill("#id_deltas_per_message", "100")
    shot(page, "integration-changes-per-message")
    page.click("#channel-form button[type=submit]")
    page.wait_for_load_state()
    assert Channel.objects.get(pk=channel.pk).deltas_per_message == 100
    page.goto(f"/setup/integrations/{channel.pk}/")
    assert page.input_value("#id_deltas_per_message") == "100"
