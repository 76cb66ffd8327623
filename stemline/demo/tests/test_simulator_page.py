"""The marketplace simulator's storefront: a restarted simulator starts full (it asks the API
for what it may buy before any feed arrives), and a quantity typed on its self-refreshing page
survives the refresh (in a real browser, under the simulator's own policy)."""

import os
import time

import pytest

from stemline.channels import services as channels
from stemline.demo.simulator import Simulator
from stemline.web.tests.test_browser import CHROMIUM, browser, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _full(market, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if market.state()["items"]:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def restarted(stocked, live_server):
    """The stocked company's FTD channel and a simulator started fresh, no feed delivered."""
    for _ in range(3):
        stocked.add(5)
    bundle = channels.connect(
        company=stocked.company,
        marketplace="ftd",
        endpoint_url="http://127.0.0.1:9/ftd/webhook",  # nothing is delivered in this test
    ).data
    simulator = Simulator({"ftd": bundle}, api_url=live_server.url, port=0).start()
    yield simulator
    simulator.stop()


def test_a_restarted_simulator_starts_full_without_waiting_for_the_feed(restarted):
    market = restarted.markets["ftd"]
    assert _full(market)
    state = market.state()
    assert state["received"] == 0  # no webhook came: the API filled it
    assert len(state["items"]) == 3
    assert {item["quantity"] for item in state["items"]} == {5}


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing")
@pytest.mark.xdist_group("browser")
def test_a_typed_quantity_survives_the_pages_refresh(restarted, page):  # noqa: F811
    market = restarted.markets["ftd"]
    assert _full(market)
    line = sorted(int(i["inventoryIds"]) for i in market.state()["items"])[0]
    page.goto(restarted.url + "/ftd/")
    field = page.locator(f"input[data-line='{line}']")
    field.fill("4")
    page.locator("header").click()  # typing done: the field loses the focus
    # The page reloads itself (every 5 s); the typed 4 is back after it.
    with page.expect_navigation(timeout=12_000):
        pass
    assert page.locator(f"input[data-line='{line}']").input_value() == "4"
    # The other lines keep their default.
    others = page.locator("input[name=boxes]").all()
    assert sorted(o.input_value() for o in others) == ["1", "1", "4"]
