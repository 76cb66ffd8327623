"""multiple.prebooks.create: a customer by code and address (made when new), one prebook per
carrier and truck date, and with autoGeneratePOsfromPrebooks purchase orders created Approved
that fill every line; all or nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest

from stemline.inventory import services as stock
from stemline.parties.models import Carrier, Customer, ShipTo
from stemline.purchasing.models import PurchaseOrder, PurchaseOrderItem
from stemline.sales.models import Prebook, PrebookItem

from .conftest import check_invariants, ok, refused

pytestmark = pytest.mark.django_db

METHOD = "multiple.prebooks.create"


def _address(prefix, street="100 Bloom St", city="Miami", zipcode="33101"):
    return {
        f"{prefix}Street": street,
        f"{prefix}City": city,
        f"{prefix}State": "FL",
        f"{prefix}Zipcode": zipcode,
        f"{prefix}Country": "USA",
    }


def _line(g, day, **extra):
    return {
        "carrierCode": "TRK",
        "carrierName": "Local Truck",
        "shipDate": str(day),
        "productCode": g.product.legacy_code,
        "boxTypeCode": "HB",
        "boxes": 3,
        "unitType": "Stem",
        "bunches": 10,
        "stemsBunch": 25,
        "price": "0.650",
        **extra,
    }


def _body(g, items, **extra):
    return {
        "customerCode": "NEWFL",
        "customerName": "New Florist",
        **_address("customerBilling"),
        **_address("customerShipping", street="7 Dock Rd", zipcode="33102"),
        "customerPhone": "305-555-0100",
        "customerPO": "PO-77",
        "prebookItems": items,
        **extra,
    }


def test_a_new_customer_prebooks_per_carrier_and_date_and_approved_pos(api, grower):
    g = grower
    air = Carrier.objects.create(company=g.company, name="Air Express", code="AIR")
    day1, day2 = stock.today() + timedelta(days=4), stock.today() + timedelta(days=6)
    items = [
        _line(g, day1, vendorCode="RDM", cost="0.300"),
        _line(g, day1, vendorCode="FDS", vendorName="Flores del Sur", cost="0.280", boxes=2),
        _line(g, day2, vendorCode="RDM", cost="0.310", boxes=1),
        _line(
            g,
            day1,
            carrierCode="AIR",
            carrierName="air express",
            vendorCode="RDM",
            cost="0.3",
            boxes=4,
        ),
    ]
    answer = ok(api(METHOD, g.token, _body(g, items, autoGeneratePOsfromPrebooks=1)))
    customer = Customer.objects.get(pk=answer["customerId"])
    assert answer["customerCreated"] == 1
    assert (customer.code, customer.name, customer.bill_address, customer.phone) == (
        "NEWFL",
        "New Florist",
        "100 Bloom St",
        "305-555-0100",
    )
    ship_to = ShipTo.objects.get(pk=answer["shipToId"])
    assert (ship_to.customer_id, ship_to.address, ship_to.zipcode) == (
        customer.pk,
        "7 Dock Rd",
        "33102",
    )
    # Three prebooks: (truck, day1), (truck, day2), (air, day1).
    prebooks = {(p["carrierId"], p["shipDate"]): p for p in answer["prebooks"]}
    assert set(prebooks) == {(g.truck.pk, str(day1)), (g.truck.pk, str(day2)), (air.pk, str(day1))}
    assert prebooks[(g.truck.pk, str(day1))]["totalBoxes"] == 5
    for row in answer["prebooks"]:
        prebook = Prebook.objects.get(pk=row["prebookId"])
        assert (prebook.customer_id, prebook.ship_to_id, prebook.customer_po) == (
            customer.pk,
            ship_to.pk,
            "PO-77",
        )
        assert prebook.via_api and prebook.transaction_fee > 0
    lines = [PrebookItem.objects.get(pk=r["prebookItemId"]) for r in answer["prebookItems"]]
    assert [line.boxes for line in lines] == [3, 2, 1, 4]
    assert lines[1].vendor_id == g.rival.pk and lines[1].cost == Decimal("0.280")
    # POs: one per vendor and vendor ship date, Approved, every line filled.
    pos = PurchaseOrder.objects.filter(
        pk__in=[o["purchaseOrderId"] for o in answer["purchaseOrders"]]
    )
    assert {o.status for o in pos} == {"Approved"}
    assert sorted((o.vendor_id, o.ship_date) for o in pos) == sorted(
        [
            (g.vendor.pk, day1 - timedelta(days=1)),
            (g.rival.pk, day1 - timedelta(days=1)),
            (g.vendor.pk, day2 - timedelta(days=1)),
        ]
    )
    filled = PurchaseOrderItem.objects.filter(purchase_order__in=pos)
    assert sorted(i.prebook_item_id for i in filled) == sorted(line.pk for line in lines)
    for line in lines:
        line.refresh_from_db()
        assert line.line_id is not None
    check_invariants(g.company)
    # The grower sees its PO in purchase.order.list, Approved, ready to confirm.
    listed = ok(
        api(
            "purchase.order.list",
            g.rival_token,
            {"date": str(day1 - timedelta(days=1))},
            verb="GET",
        )
    )["purchaseOrders"]
    assert [p["status"] for p in listed] == ["Approved"]
    # prebook.list finds them by their truck date.
    found = ok(
        api("prebook.list", g.token, {"dateFrom": str(day1), "dateTo": str(day1)}, verb="GET")
    )["prebooks"]
    assert len(found) == 2


def test_an_existing_customer_is_used_as_is(api, grower):
    g = grower
    florist = g.florist
    florist.bill_address, florist.bill_city, florist.bill_zipcode = "1 Main", "Doral", "33172"
    florist.save()
    no_carrier = _line(g, stock.today() + timedelta(days=2))
    del no_carrier["carrierCode"], no_carrier["carrierName"]
    no_date = {**_line(g, stock.today()), "shipDate": ""}
    body = {
        **_body(g, [no_carrier, no_date], customerCode="bloom", customerName="Another Name"),
        **_address("customerShipping", street="1 main", city="doral", zipcode="33172"),
    }
    answer = ok(api(METHOD, g.token, body))
    assert (answer["customerId"], answer["customerCreated"], answer["shipToId"]) == (
        florist.pk,
        0,
        None,
    )
    florist.refresh_from_db()
    assert florist.name == "Bloom Florist"
    days = sorted(p["shipDate"] for p in answer["prebooks"])
    # No shipDate: the company's next shipping day.
    assert days == [str(stock.today()), str(stock.today() + timedelta(days=2))]
    assert answer["purchaseOrders"] == []
    # Sent again with a ship-to address: the same ship-to is reused, not made twice.
    body = _body(g, [_line(g, stock.today())], customerCode="BLOOM")
    first = ok(api(METHOD, g.token, body))["shipToId"]
    assert ok(api(METHOD, g.token, body))["shipToId"] == first
    # The nested form of the addresses is accepted too.
    nested = _body(g, [_line(g, stock.today())], customerCode="BLOOM")
    for prefix in ("customerBilling", "customerShipping"):
        nested[prefix] = {
            k[len(prefix) :].lower(): nested.pop(k) for k in list(nested) if k.startswith(prefix)
        }
    assert ok(api(METHOD, g.token, nested))["shipToId"] == first


def test_refusals_leave_nothing(api, grower, make_token, other_company):
    g = grower
    day = stock.today() + timedelta(days=4)
    before = (Customer.objects.count(), Prebook.objects.count(), PurchaseOrder.objects.count())

    def refuse(body, status, field, token=None):
        refused(api(METHOD, token or g.token, body), status, field)
        assert (
            Customer.objects.count(),
            Prebook.objects.count(),
            PurchaseOrder.objects.count(),
        ) == before

    auto = {"autoGeneratePOsfromPrebooks": "1"}
    refuse(_body(g, [_line(g, day, cost="0.3")], **auto), 422, "prebookItems[0].vendorCode")
    refuse(
        _body(
            g,
            [_line(g, day, vendorCode="RDM", cost="0.3"), _line(g, day, vendorCode="RDM")],
            **auto,
        ),
        422,
        "prebookItems[1].cost",
    )
    refuse(
        _body(g, [_line(g, stock.today(), vendorCode="RDM", cost="0.3")], **auto),
        422,
        "prebookItems[0].shipDate",
    )
    refuse(_body(g, [_line(g, day, vendorCode="NOPE")]), 404, "prebookItems[0].vendorCode")
    refuse(_body(g, [_line(g, day, carrierCode="NOPE")]), 404, "prebookItems[0].carrierCode")
    refuse(
        _body(g, [_line(g, day, carrierName="Someone Else")]), 422, "prebookItems[0].carrierName"
    )
    refuse(_body(g, [_line(g, day, productCode="NOPE")]), 404, "prebookItems[0].productCode")
    refuse(_body(g, [_line(g, day, boxes=0)]), 422, "prebookItems[0].boxes")
    refuse(_body(g, [_line(g, day, shipDate="2026-02-30")]), 422, "prebookItems[0].shipDate")
    refuse(_body(g, []), 422, "prebookItems")
    body = _body(g, [_line(g, day)])
    del body["customerPhone"]
    refuse(body, 422, "customerPhone")
    refuse(_body(g, [_line(g, day)], shipViaId=3), 422, "shipViaId")
    refuse(_body(g, [_line(g, day)], companyLocationCode="NOPE"), 404, "companyLocationCode")
    # The first line is good, the last one bad: no customer, prebook or PO is left.
    refuse(
        _body(
            g,
            [
                _line(g, day, vendorCode="RDM", cost="0.3"),
                _line(g, day, vendorCode="RDM", cost="0.3", boxTypeCode="ZZ"),
            ],
            **auto,
        ),
        404,
        "prebookItems[1].boxTypeCode",
    )
    # Tokens: a Vendor token, an ungranted one are refused; another company's codes unknown.
    refuse(_body(g, [_line(g, day)]), 403, None, token=g.vendor_token)
    refuse(
        _body(g, [_line(g, day)]), 403, None, token=make_token(g.company, grants=["prebook.create"])
    )
    theirs = make_token(other_company)
    refused(api(METHOD, theirs, _body(g, [_line(g, day)])), 404, "prebookItems[0].carrierCode")
