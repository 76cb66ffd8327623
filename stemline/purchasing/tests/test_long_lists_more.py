"""vendor.invoice.list and awb.list as long lists (issue 17 item 4): pages with a total, every
row once in a stable order (newest vendor invoice first; AWBs by ship date, ties by id), bad
paging refused by field, a long answer streamed with the same rows, the same queries for a
page of one or of all, and another company's token seeing none."""

from datetime import timedelta

import pytest

from stemline.api.tests.paging import check_other_company_sees_none, check_paging
from stemline.purchasing import api as purchasing_api
from stemline.purchasing import queries
from stemline.purchasing.models import VendorInvoice

from .conftest import fast, ok, standalone

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _po(api, g, items: int) -> dict:
    body = {"shipDate": str(g.ship), "vendorId": g.vendor.pk}
    body["purchaseOrderItems"] = [standalone(g, 1 + n) for n in range(items)]
    return ok(api("purchase.order.create", g.token, body))


def test_vendor_invoice_list_pages_newest_first(api, grower, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    g = grower
    number = _po(api, g, 1)["purchaseOrderNumber"]
    for n in range(5):
        data = {"poNumber": number, "attachment": ",".join(map(str, PDF)), "invoiceNumber": f"F{n}"}
        if n % 2:
            data["invoiceTotal"] = "12.50"
        ok(api("v2/vendor/invoice", g.vendor_token, data))
    docs = check_paging(
        api,
        g.token,
        "vendor.invoice.list",
        {},
        "vendorInvoices",
        count=5,
        module=purchasing_api,
        monkeypatch=monkeypatch,
    )
    assert [d["invoiceNumber"] for d in docs] == ["F4", "F3", "F2", "F1", "F0"]
    assert docs[1]["invoiceTotal"] == 12.5 and docs[0]["invoiceTotal"] is None
    assert docs[0]["vendorName"] == "Rosas del Monte" and docs[0]["poNumber"] == number
    assert docs[0]["uploadedAt"].endswith("Z") and docs[0]["externalSystemSynced"] == 0

    # Unpaged, at most the newest MAX_VENDOR_INVOICES, as before; pages reach all of them.
    monkeypatch.setattr(queries, "MAX_VENDOR_INVOICES", 3)
    assert ok(api("vendor.invoice.list", g.token, {}, verb="GET"))["vendorInvoices"] == docs[:3]
    body = ok(api("vendor.invoice.list", g.token, {"page": 2, "rows": 3}, verb="GET"))
    assert body["total"] == 5 and body["vendorInvoices"] == docs[3:]
    assert VendorInvoice.objects.count() == 5


def test_awb_list_pages_by_ship_date_then_id(api, grower, monkeypatch):
    g = grower
    items = [i["poItemId"] for i in _po(api, g, 5)["purchaseOrderItems"]]
    for n, item in enumerate(items):
        ship = g.ship + timedelta(days=(n + 1) % 2)  # two ship dates, out of creation order
        ok(
            api(
                "purchase.order.item.awb.add",
                g.vendor_token,
                {"poItemId": item, "awb": f"369-{n:04d}-5675", "shipDate": str(ship)},
            )
        )
    where = {"awb": "5675"}
    docs = check_paging(
        api,
        g.token,
        "awb.list",
        where,
        "awbs",
        count=5,
        module=purchasing_api,
        monkeypatch=monkeypatch,
    )
    keys = [(d["shipDate"], d["awbId"]) for d in docs]
    assert keys == sorted(keys) and len({d["shipDate"] for d in docs}) == 2
    assert [len(d["boxesCodes"].split(",")) for d in sorted(docs, key=lambda d: d["awb"])] == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_another_company_sees_none_of_them(
    api, grower, other_company, make_token, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    g = grower
    made = _po(api, g, 1)
    ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {
                "poItemId": made["purchaseOrderItems"][0]["poItemId"],
                "awb": "369-5555-0001",
                "shipDate": str(g.ship),
            },
        )
    )
    data = {"poNumber": made["purchaseOrderNumber"], "attachment": ",".join(map(str, PDF))}
    ok(api("v2/vendor/invoice", g.vendor_token, data))
    other = fast(make_token(other_company))
    check_other_company_sees_none(api, other, "awb.list", {"awb": "0001"}, "awbs")
    check_other_company_sees_none(api, other, "vendor.invoice.list", {}, "vendorInvoices")
