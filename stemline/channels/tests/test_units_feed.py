"""Units reach the marketplace channels as boxes do: opening a box tells each channel that the
box line shrank and that its bunches (or stems) are for sale, in units, and a snapshot shows
the units line as its deltas do."""

import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder

from stemline.channels import outbox, services
from stemline.inventory import services as stock

from .conftest import deliver
from .test_outbox import changed_events


def test_opening_a_box_and_selling_its_bunches_reach_the_channel(connect, stocked):
    channel, market, _ = connect("dwf", customer_id=stocked.market.pk)  # price level B
    services.update(channel=channel, buffer=0, markup=Decimal("0"))
    line = stocked.add(4, price_a="0.500", price_b="0.480")  # 250 stems a box
    opened = stock.open_boxes(company=stocked.company, line_id=line.pk, boxes=1, unit_type="Bunch")
    units = opened.units_line
    events = changed_events(channel)
    box_update = [e for e in events if e.line_id == line.pk][-1]
    assert box_update.payload["item"]["quantity"] == 3
    [added] = [e for e in events if e.line_id == units.pk]
    item = added.payload["item"]
    assert (item["unitsInventory"], item["unitType"], item["quantity"]) == (True, "Bunch", 10)
    assert (item["unitsPerBox"], item["stemsBunch"], item["price"]) == (1, 25, "12.000")

    stock.commit(company=stocked.company, wanted=[(units.pk, 4)])  # 4 bunches sold
    sold = [e for e in changed_events(channel) if e.line_id == units.pk][-1]
    assert (sold.payload["change"], sold.payload["item"]["quantity"]) == ("sold", 6)

    deliver(channel)
    rows = outbox.snapshot_payload(channel, 0)["items"]
    rows = json.loads(json.dumps(rows, cls=DjangoJSONEncoder))
    latest = {}
    for message in market.messages:
        if message["type"] == "inventory.changed" and message["item"]:
            latest[message["inventoryId"]] = message["item"]
    [row] = [r for r in rows if r["inventoryIds"] == str(units.pk)]
    assert row == latest[units.pk]
    assert row["unitsInventory"] is True and row["quantity"] == 6


def test_a_channel_that_sells_no_units_hears_of_the_box_only(connect, stocked):
    channel, _, _ = connect("dwf", customer_id=stocked.market.pk)
    services.update(channel=channel, buffer=0, sells_units=False)
    channel.refresh_from_db()
    line = stocked.add(4, price_a="0.500", price_b="0.480")
    opened = stock.open_boxes(company=stocked.company, line_id=line.pk, boxes=1, unit_type="Bunch")
    events = changed_events(channel)
    assert [e.payload["item"]["quantity"] for e in events if e.line_id == line.pk][-1] == 3
    # The units line is not for this channel: no row of it, in the deltas or the snapshot.
    assert all(e.payload["item"] is None for e in events if e.line_id == opened.units_line.pk)
    ids = {r["inventoryIds"] for r in outbox.snapshot_payload(channel, 0)["items"]}
    assert str(line.pk) in ids and str(opened.units_line.pk) not in ids
