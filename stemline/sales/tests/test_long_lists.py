"""invoice.list and invoice.details.list as long lists (issues 16 and 17): paged with
`page`/`rows` and a total, every invoice exactly once across the pages, bad paging refused by
field, the unpaged answer as before (its schema's shape), no 10,000-box refusal, and a long
answer streamed with the same content."""

import json
from decimal import Decimal

import pytest

from stemline.api.registry import registry
from stemline.inventory import services as stock
from stemline.sales import api_invoices, invoicing
from stemline.sales.models import Invoice, InvoiceItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(stocked, make_token):
    issued = make_token(stocked.company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


def _invoices(stocked, count: int, lines: int = 2) -> list[int]:
    made = []
    for n in range(count):
        customer = stocked.florist if n % 2 else stocked.market
        requests = [
            invoicing.LineRequest(
                boxes=1 + (k % 2), price=Decimal("0.55"), inventory_id=stocked.add(3).pk
            )
            for k in range(lines)
        ]
        invoice, _ = invoicing.create_invoice(
            company=stocked.company,
            customer=customer,
            location=stocked.location,
            ship_date=stock.today(),
            lines=requests,
        )
        made.append(invoice.pk)
    return made


def _ok(r):
    assert r.status_code == 200, r.json_body
    return r.json_body


def _schema_shaped(method: str, body: bytes) -> None:
    """The answer is what the response schema would write from it: every field there, of
    its type, written as pydantic writes it."""
    model = registry.get(method).response
    written = model.model_validate_json(body).model_dump_json(exclude_unset=True)
    assert json.loads(written) == json.loads(body)


@pytest.mark.parametrize("method", ["invoice.list", "invoice.details.list"])
def test_pages_return_every_invoice_once_with_the_total(api, stocked, token, method):
    made = _invoices(stocked, 7)
    day = str(stock.today())
    where = {"orderDateFrom": day, "orderDateTo": day}
    whole = _ok(api(method, token, where, verb="GET"))
    assert sorted(i["id"] for i in whole["invoices"]) == sorted(made)
    assert "total" not in whole and "page" not in whole  # unchanged for callers that don't page

    seen = []
    for page in (1, 2, 3):
        body = _ok(api(method, token, {**where, "page": page, "rows": 3}, verb="GET"))
        assert (body["total"], body["page"], body["rows"]) == (7, page, 3)
        assert len(body["invoices"]) == (3 if page < 3 else 1)
        seen += [i["id"] for i in body["invoices"]]
    # Every invoice exactly once, in the order of the whole list.
    assert seen == [i["id"] for i in whole["invoices"]]

    past = _ok(api(method, token, {**where, "page": 4, "rows": 3}, verb="GET"))
    assert past["invoices"] == [] and past["total"] == 7 and past["message"] == "Orders not found."
    only_page = _ok(api(method, token, {**where, "page": 1}, verb="GET"))
    assert only_page["rows"] == 100 and len(only_page["invoices"]) == 7
    only_rows = _ok(api(method, token, {**where, "rows": 2}, verb="GET"))
    assert only_rows["page"] == 1 and [i["id"] for i in only_rows["invoices"]] == seen[:2]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"rows": 0}, "rows"),
        ({"rows": 1001}, "rows"),
        ({"page": 1, "rows": -5}, "rows"),
    ],
)
def test_bad_paging_is_refused_naming_the_field(api, stocked, token, params, field):
    day = str(stock.today())
    for method in ("invoice.list", "invoice.details.list"):
        r = api(method, token, {"orderDateFrom": day, "orderDateTo": day, **params}, verb="GET")
        assert r.status_code == 422, (method, r.json_body)
        assert r.json_body["status"] == 0 and r.json_body["errors"][0]["field"] == field
        assert r.json_body["message"].startswith(f"{field}: ")


def test_unpaged_answers_keep_their_shape_and_values(api, stocked, token):
    [pk] = _invoices(stocked, 1, lines=2)
    day = str(stock.today())
    for method in ("invoice.list", "invoice.details.list"):
        r = api(method, token, {"orderDateFrom": day, "orderDateTo": day}, verb="GET")
        _schema_shaped(method, r.body)
    r = api("invoice.details.list", token, {"orderDate": day}, verb="GET")
    [invoice] = _ok(r)["invoices"]
    row = Invoice.objects.get(pk=pk)
    assert invoice["number"] == row.number and invoice["statusName"] == "Pending Approval"
    assert invoice["customerName"] == "DWF Wholesale" and invoice["shipName"] == "DWF Wholesale"
    assert invoice["createdOn"].endswith("Z") and invoice["shipDate"] == day
    assert invoice["totalBoxes"] == 3 and len(invoice["boxes"]) == 3
    assert invoice["subtotal"] == float(row.amount) == sum(d["amount"] for d in invoice["details"])
    first = invoice["details"][0]
    assert (first["totalBoxes"], first["units"], first["totalUnits"]) == (1, 250, 250)
    assert first["unitPrice"] == 0.55 and first["growerName"] == "Rosas del Monte"
    assert first["awb"] == "369-12345675" and first["stemsBunch"] == 25


def test_more_than_ten_thousand_boxes_are_answered_not_refused(api, stocked, token):
    [pk] = _invoices(stocked, 1, lines=1)
    InvoiceItem.objects.filter(invoice_id=pk).update(boxes=10_500)
    r = api("invoice.details.list", token, {"orderDate": str(stock.today())}, verb="GET")
    [invoice] = _ok(r)["invoices"]
    assert invoice["totalBoxes"] == 10_500 and invoice["boxes"][-1]["boxNumber"] == 10_500


def test_a_long_answer_is_streamed_with_the_same_content(api, stocked, token, monkeypatch):
    _invoices(stocked, 5, lines=1)
    day = {"orderDate": str(stock.today())}
    paged = _ok(api("invoice.details.list", token, {**day, "rows": 1000}, verb="GET"))
    monkeypatch.setattr(api_invoices, "STREAM_FROM", 2)
    r = api("invoice.details.list", token, day, verb="GET")
    assert r.streaming and r["Content-Type"] == "application/json"
    assert _ok(r)["invoices"] == paged["invoices"]
    _schema_shaped("invoice.details.list", r.body)
