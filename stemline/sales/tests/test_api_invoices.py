"""Invoices through the API: create from inventory lines or by spec, line edits and the boxes
they take or give back, every status transition allowed and refused, the sync lock, the fee,
the lists with their windows, the PDF and the change feed."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from stemline.core.models import Location
from stemline.inventory import services as stock
from stemline.parties.models import Carrier
from stemline.sales.models import DocumentStatus, Invoice, InvoiceItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db

DRAFT, PENDING, CONFIRMED, VOIDED = 2, 0, 1, 4


def _fast(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def token(stocked, make_token):
    return _fast(make_token(stocked.company))


def _ok(r):
    assert r.status_code == 200, r.json_body
    return r.json_body


def _available(line) -> int:
    line.refresh_from_db()
    return line.available


def _create(api, token, stocked, items, **header):
    body = {
        "customerId": stocked.florist.pk,
        "shipDate": str(stock.today()),
        "invoiceItems": items,
        **header,
    }
    return api("invoice.create", token, body)


def _invoice(api, token, stocked, boxes=2, price="0.600", draft=False):
    line = stocked.add(10)
    body = _ok(
        _create(
            api,
            token,
            stocked,
            [{"orderItemId": line.pk, "boxes": boxes, "price": price}],
            statusDraft=int(draft),
        )
    )
    return body, line


# ---------------------------------------------------------------- create


def test_create_from_lines_commits_the_boxes_and_charges_the_fee(api, stocked, token):
    carrier = Carrier.objects.create(company=stocked.company, name="Armellini", code="ARM")
    line = stocked.add(10)
    other = stocked.add(4)
    r = _create(
        api,
        token,
        stocked,
        [
            {"orderItemId": line.pk, "boxes": 3, "price": "0.500", "markCode": "BLM"},
            {"inventoryId": other.pk, "boxes": 4, "price": "0.420", "productAlias": "Red 50"},
        ],
        carrierId=carrier.pk,
        poNumber="PO-7",
        returnAvailableBoxes=1,
    )
    body = _ok(r)
    invoice = Invoice.objects.get(pk=body["invoiceId"])
    # 3 x 250 x 0.50 + 4 x 250 x 0.42 = 375 + 420 = 795; fee 1.5% = 11.925 -> 11.93
    assert invoice.amount == Decimal("795.00")
    assert invoice.transaction_fee == Decimal("11.93") == Decimal(str(body["transactionFee"]))
    assert invoice.status == PENDING and body["invoiceStatus"] == PENDING
    assert invoice.number == body["invoiceNumber"] and invoice.carrier == carrier
    assert [i["availableBoxes"] for i in body["invoiceItems"]] == [7, 0]
    assert (_available(line), _available(other)) == (7, 0)
    assert InvoiceItem.objects.get(pk=body["invoiceItems"][1]["invoiceItemId"]).product_alias


def test_create_by_product_spec_picks_oldest_lines_first(api, stocked, token):
    first, second = stocked.add(2), stocked.add(5)
    r = _create(
        api,
        token,
        stocked,
        [{"productCode": "rfr50", "boxTypeCode": "HB", "boxes": 4, "price": "0.5"}],
    )
    body = _ok(r)
    assert [(i["inventoryId"], i["boxes"]) for i in body["invoiceItems"]] == [
        (first.pk, 2),
        (second.pk, 2),
    ]
    assert (_available(first), _available(second)) == (0, 3)


def test_create_refuses_more_than_available_and_writes_nothing(api, stocked, token):
    line, short = stocked.add(10), stocked.add(2)
    r = _create(
        api,
        token,
        stocked,
        [
            {"orderItemId": line.pk, "boxes": 3, "price": "0.5"},
            {"orderItemId": short.pk, "boxes": 3, "price": "0.5"},
        ],
    )
    assert r.status_code == 409 and r.json_body["status"] == 0
    assert r.json_body["shortages"] == [{"inventoryId": short.pk, "requested": 3, "available": 2}]
    assert Invoice.objects.count() == 0
    assert (_available(line), _available(short)) == (10, 2)


def test_create_refuses_future_lines_and_bad_input_by_field(api, stocked, token):
    future = stocked.add(5, future_days=3)
    r = _create(api, token, stocked, [{"orderItemId": future.pk, "boxes": 1, "price": "0.5"}])
    assert r.status_code == 422 and "prebook" in r.json_body["message"]
    assert _available(future) == 5
    r = _create(api, token, stocked, [{"orderItemId": future.pk, "boxes": 0, "price": "0.5"}])
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "invoiceItems[0].boxes"
    r = api("invoice.create", token, {"customerId": stocked.florist.pk})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "shipDate"
    r = _create(api, token, stocked, [], customerId=999999)
    assert r.status_code == 404 and r.json_body["errors"][0]["field"] == "customerId"
    r = _create(api, token, stocked, [{"productCode": "RFR50", "boxes": 1, "price": "1"}])
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "boxTypeCode"


def test_invoice_numbers_run_per_location(api, stocked, token):
    north = Location.objects.create(company=stocked.company, name="North", code="N")
    a, _ = _invoice(api, token, stocked)
    b = _ok(_create(api, token, stocked, [], locationId=north.pk))
    c = _ok(_create(api, token, stocked, [], locationCode="n"))
    assert (b["invoiceNumber"], c["invoiceNumber"]) == (1, 2)
    assert a["invoiceNumber"] == 1


def test_documents_a_user_makes_in_the_web_app_carry_no_fee(stocked):
    from stemline.sales import invoicing

    line = stocked.add(5)
    invoice, _ = invoicing.create_invoice(
        company=stocked.company,
        customer=stocked.florist,
        location=stocked.location,
        ship_date=stock.today(),
        lines=[invoicing.LineRequest(boxes=2, price=Decimal("1"), inventory_id=line.pk)],
        via_api=False,
    )
    assert invoice.amount == Decimal("500.00") and invoice.transaction_fee == 0


# ---------------------------------------------------------------- lines


def test_item_add_update_delete_move_the_boxes_and_the_fee(api, stocked, token):
    body, line = _invoice(api, token, stocked, boxes=2, price="0.400")
    invoice_id = body["invoiceId"]
    added = _ok(
        api(
            "invoice.item.add",
            token,
            {
                "invoiceId": invoice_id,
                "orderItemId": line.pk,
                "boxes": 3,
                "price": "0.400",
                "returnAvailableBoxes": 1,
            },
        )
    )
    assert added["availableBoxes"] == 5 == _available(line)
    item_id = added["invoiceItemId"]
    # 5 boxes x 250 x 0.40 = 500; fee 7.50
    assert Decimal(str(added["transactionFee"])) == Decimal("7.50")

    r = api(
        "invoice.item.update",
        token,
        {
            "invoiceId": invoice_id,
            "invoiceItemId": item_id,
            "boxes": 6,
            "price": "0.500",
            "returnAvailableBoxes": 1,
        },
    )
    assert _ok(r)["availableBoxes"] == 2 == _available(line)
    invoice = Invoice.objects.get(pk=invoice_id)
    # 2 x 250 x 0.40 + 6 x 250 x 0.50 = 200 + 750 = 950; fee 14.25
    assert (invoice.amount, invoice.transaction_fee) == (Decimal("950.00"), Decimal("14.25"))

    r = api("invoice.item.update", token, {"invoiceId": invoice_id, "invoiceItemId": item_id,
                                           "boxes": 9, "price": "0.5"})  # fmt: skip
    assert r.status_code == 409 and _available(line) == 2

    r = api(
        "invoice.item.delete",
        token,
        {"invoiceId": invoice_id, "invoiceItemId": item_id, "returnAvailableBoxes": 1},
    )
    assert _ok(r)["availableBoxes"] == 8 == _available(line)
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.transaction_fee) == (Decimal("200.00"), Decimal("3.00"))
    r = api("invoice.item.delete", token, {"invoiceId": invoice_id, "invoiceItemId": item_id})
    assert r.status_code == 404 and r.json_body["errors"][0]["field"] == "invoiceItemId"


def test_header_update_changes_only_the_header(api, stocked, token):
    body, _ = _invoice(api, token, stocked)
    later = stock.today() + timedelta(days=2)
    r = api(
        "invoice.update",
        token,
        {"invoiceId": body["invoiceId"], "shipDate": str(later), "invoiceNotes": "Handle cold"},
    )
    assert _ok(r)["message"] == "success"
    invoice = Invoice.objects.get(pk=body["invoiceId"])
    assert (invoice.ship_date, invoice.invoice_notes, invoice.items.count()) == (
        later,
        "Handle cold",
        1,
    )


# ---------------------------------------------------------------- statuses


def _act(api, token, method, invoice_number, **extra):
    return api(method, token, {"invoiceNumber": str(invoice_number), **extra})


def test_draft_checkout_confirm_void_in_order(api, stocked, token):
    body, line = _invoice(api, token, stocked, boxes=4, draft=True)
    number = f"W{body['invoiceNumber']:06d}"  # the UI prefix and zeros are stripped
    assert body["invoiceStatus"] == DRAFT
    assert _ok(_act(api, token, "invoice.checkout", number))["invoiceStatus"] == PENDING
    assert _ok(_act(api, token, "invoice.confirm", number))["invoiceId"] == body["invoiceId"]
    assert _available(line) == 6
    r = _act(api, token, "invoice.void", number, reason="Customer cancelled")
    assert _ok(r)["invoiceStatus"] == VOIDED
    assert r.json_body["message"] == "The invoice was successfully voided."
    invoice = Invoice.objects.get(pk=body["invoiceId"])
    assert (invoice.status, invoice.void_reason) == (VOIDED, "Customer cancelled")
    assert _available(line) == 10  # the boxes are back


@pytest.mark.parametrize(
    ("start", "method", "allowed"),
    [
        (DRAFT, "invoice.checkout", True),
        (PENDING, "invoice.checkout", False),
        (CONFIRMED, "invoice.checkout", False),
        (VOIDED, "invoice.checkout", False),
        (DRAFT, "invoice.confirm", True),
        (PENDING, "invoice.confirm", True),
        (CONFIRMED, "invoice.confirm", False),
        (VOIDED, "invoice.confirm", False),
        (DRAFT, "invoice.void", True),
        (PENDING, "invoice.void", True),
        (CONFIRMED, "invoice.void", True),
        (VOIDED, "invoice.void", False),
    ],
)
def test_every_transition_allowed_or_refused_with_the_status(
    api, stocked, token, start, method, allowed
):
    body, _ = _invoice(api, token, stocked, draft=start == DRAFT)
    number = body["invoiceNumber"]
    if start == CONFIRMED:
        _ok(_act(api, token, "invoice.confirm", number))
    if start == VOIDED:
        _ok(_act(api, token, "invoice.void", number, reason="test"))
    extra = {"reason": "again"} if method == "invoice.void" else {}
    r = _act(api, token, method, number, **extra)
    label = DocumentStatus(start).label
    if allowed:
        assert r.status_code == 200, r.json_body
    else:
        assert r.status_code == 409, r.json_body
        assert r.json_body["status"] == 0 and label in r.json_body["message"]
        assert Invoice.objects.get(pk=body["invoiceId"]).status == start


def test_void_needs_a_reason(api, stocked, token):
    body, _ = _invoice(api, token, stocked)
    r = _act(api, token, "invoice.void", body["invoiceNumber"])
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "reason"


def test_a_voided_invoice_takes_no_more_edits(api, stocked, token):
    body, line = _invoice(api, token, stocked)
    _ok(_act(api, token, "invoice.void", body["invoiceNumber"], reason="x"))
    r = api(
        "invoice.item.add",
        token,
        {"invoiceId": body["invoiceId"], "orderItemId": line.pk, "boxes": 1, "price": "1"},
    )
    assert r.status_code == 409 and "Voided" in r.json_body["message"]
    assert _available(line) == 10


# ---------------------------------------------------------------- sync lock


def test_a_synchronized_invoice_is_locked_until_marked_with_an_error(api, stocked, token):
    body, line = _invoice(api, token, stocked, boxes=2)
    invoice_id, number = body["invoiceId"], body["invoiceNumber"]
    _ok(_act(api, token, "invoice.confirm", number))
    assert _ok(api("invoice.mark.sync.status.ok", token, {"invoiceId": invoice_id}))["message"] == (
        "OK"
    )
    item_id = body["invoiceItems"][0]["invoiceItemId"]
    attempts = [
        ("invoice.update", {"invoiceId": invoice_id, "poNumber": "X"}),
        ("invoice.item.add", {"invoiceId": invoice_id, "orderItemId": line.pk, "boxes": 1,
                              "price": "1"}),
        ("invoice.item.update", {"invoiceId": invoice_id, "invoiceItemId": item_id,
                                 "price": "9"}),
        ("invoice.item.delete", {"invoiceId": invoice_id, "invoiceItemId": item_id}),
        ("invoice.void", {"invoiceNumber": str(number), "reason": "x"}),
        ("invoice.confirm", {"invoiceNumber": str(number)}),
        ("invoice.checkout", {"invoiceNumber": str(number)}),
    ]  # fmt: skip
    for method, params in attempts:
        r = api(method, token, params)
        assert r.status_code == 409, (method, r.json_body)
        assert "synchronized" in r.json_body["message"], method
    assert _available(line) == 8

    # Marked with an error (unconfirm defaults to 1): back to Pending Approval and editable.
    r = api("invoice.mark.sync.status.error", token, {"invoiceId": invoice_id, "message": "GL"})
    assert _ok(r)["invoiceStatus"] == PENDING
    invoice = Invoice.objects.get(pk=invoice_id)
    assert (invoice.synced, invoice.sync_error) == (False, "GL")
    _ok(api("invoice.update", token, {"invoiceId": invoice_id, "poNumber": "FIXED"}))


def test_mark_error_without_unconfirm_keeps_it_confirmed(api, stocked, token):
    body, _ = _invoice(api, token, stocked, draft=True)
    _ok(_act(api, token, "invoice.confirm", body["invoiceNumber"]))
    _ok(api("invoice.mark.sync.status.ok", token, {"invoiceId": body["invoiceId"]}))
    r = api(
        "invoice.mark.sync.status.error",
        token,
        {"invoiceId": body["invoiceId"], "message": "later", "unconfirm": "0"},
    )
    assert _ok(r)["invoiceStatus"] == CONFIRMED
    r = api("invoice.mark.sync.status.error", token, {"invoiceId": body["invoiceId"]})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "message"


def test_accounting_sync_scenario(api, stocked, token):
    """An accounting system pulls the day's unsynced invoices, marks them, pulls none again;
    one it could not post is marked with an error, is editable and comes back in the pull."""
    made = [_invoice(api, token, stocked, boxes=1)[0] for _ in range(3)]
    day = str(stock.today())
    pull = {"orderDate": day, "externalSystemSynced": 0}
    found = _ok(api("invoice.details.list", token, pull, verb="GET"))["invoices"]
    assert sorted(i["id"] for i in found) == sorted(m["invoiceId"] for m in made)
    for invoice in found:
        assert invoice["details"] and invoice["externalSystemSynced"] == 0
        _ok(api("invoice.mark.sync.status.ok", token, {"invoiceId": invoice["id"]}))
    again = api("invoice.details.list", token, pull, verb="GET").json_body
    assert (again["invoices"], again["message"]) == ([], "Orders not found.")

    failed = made[1]["invoiceId"]
    _ok(api("invoice.mark.sync.status.error", token, {"invoiceId": failed, "message": "No GL"}))
    _ok(api("invoice.update", token, {"invoiceId": failed, "poNumber": "PO-FIX"}))
    again = _ok(api("invoice.details.list", token, pull, verb="GET"))["invoices"]
    assert [(i["id"], i["customerPONumber"]) for i in again] == [(failed, "PO-FIX")]


# ---------------------------------------------------------------- lists


def test_details_list_shape_filters_and_windows(api, stocked, token, make_token):
    body, line = _invoice(api, token, stocked, boxes=3, price="0.500")
    r = api("invoice.details.list", token, {"orderDate": str(stock.today())}, verb="GET")
    [invoice] = _ok(r)["invoices"]
    assert invoice["number"] == body["invoiceNumber"]
    assert invoice["customerName"] == "Bloom Florist" and invoice["totalBoxes"] == 3
    [detail] = invoice["details"]
    assert (detail["totalBoxes"], detail["units"], detail["totalUnits"]) == (3, 250, 750)
    assert detail["amount"] == 375.0 and detail["growerName"] == "Rosas del Monte"
    assert [b["boxNumber"] for b in invoice["boxes"]] == [1, 2, 3]
    assert invoice["breakdowns"] == [] and invoice["additionalChargesDetails"] == []

    today = stock.today()
    window = {"orderDateFrom": str(today), "orderDateTo": str(today + timedelta(days=5))}
    r = api("invoice.details.list", token, window, verb="GET")
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "orderDateTo"
    r = api("invoice.details.list", token, {}, verb="GET")
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "orderDateFrom"
    r = api("invoice.details.list", token, {"order": str(body["invoiceNumber"])}, verb="GET")
    assert len(_ok(r)["invoices"]) == 1
    for miss in ({"customer": "nobody"}, {"status": 1}, {"product": "tulip"}):
        r = api("invoice.details.list", token, {"orderDate": str(today), **miss}, verb="GET")
        assert _ok(r)["invoices"] == [], miss
    r = api("invoice.details.list", token, {"orderDate": str(today), "product": "rose"}, verb="GET")
    assert len(_ok(r)["invoices"]) == 1

    # A Customer token sees its own invoices only.
    mine = _fast(make_token(stocked.company, "customer", customer_id=stocked.florist.pk))
    other = _fast(make_token(stocked.company, "customer", customer_id=stocked.market.pk))
    r = api("invoice.list", mine, {**window, "orderDateTo": str(today)}, verb="GET")
    assert [i["id"] for i in _ok(r)["invoices"]] == [body["invoiceId"]]
    r = api("invoice.list", other, {**window, "orderDateTo": str(today)}, verb="GET")
    assert _ok(r)["invoices"] == []


def test_invoice_list_window_at_most_six_months(api, stocked, token):
    today = stock.today()
    r = api(
        "invoice.list",
        token,
        {"orderDateFrom": str(today), "orderDateTo": str(today + timedelta(days=200))},
        verb="GET",
    )
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "orderDateTo"


# ---------------------------------------------------------------- PDF


def test_pdf_shows_number_customer_and_line_totals(api, stocked, token, make_token):
    line = stocked.add(10)
    body = _ok(
        _create(
            api,
            token,
            stocked,
            [
                {"orderItemId": line.pk, "boxes": 3, "price": "0.500"},
                {"orderItemId": line.pk, "boxes": 2, "price": "0.612"},
            ],
        )
    )
    r = api("invoice.pdf.get", token, {"invoiceId": body["invoiceId"]})
    answer = _ok(r)
    number = f"{body['invoiceNumber']:06d}"
    assert answer["suggestedFileName"] == f"Invoice #{number}.pdf"
    data = bytes(int(b) % 256 for b in answer["file"].split(","))
    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert number in text and "Bloom Florist" in text
    # 3 x 250 x 0.50 = 375.00; 2 x 250 x 0.612 = 306.00; total 681.00
    for total in ("375.00", "306.00", "681.00"):
        assert total in text

    other = _fast(make_token(stocked.company, "customer", customer_id=stocked.market.pk))
    r = api("invoice.pdf.get", other, {"invoiceId": body["invoiceId"]})
    assert r.status_code == 404


# ---------------------------------------------------------------- feed


def test_invoice_sync_feed_lists_each_change_once(api, stocked, token):
    body, _ = _invoice(api, token, stocked)
    _ok(_act(api, token, "invoice.confirm", body["invoiceNumber"]))
    feed = _ok(api("invoice.sync", token, {"since": 0}, verb="GET"))
    kinds = [(c["invoiceId"], c["change"]) for c in feed["changes"]]
    assert kinds == [(body["invoiceId"], "created"), (body["invoiceId"], "confirmed")]
    assert feed["changes"][-1]["status"] == CONFIRMED
    later = _ok(api("invoice.sync", token, {"since": feed["maxSeq"]}, verb="GET"))
    assert later["changes"] == [] and later["maxSeq"] == feed["maxSeq"]
