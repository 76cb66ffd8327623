"""awb.future.list (AWBs shipped and not yet received, with their houses per vendor) and
vendor.invoice.mail.receive (an e-mailed vendor invoice attached to its PO, the token sent as
`companyToken`, the sender checked, the file checked by content)."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.purchasing.models import VendorInvoice

from .conftest import fast, ok, refused, standalone

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _po(api, g, token, vendor_id=None, boxes=2) -> tuple[str, int]:
    body = {"shipDate": str(g.ship), "purchaseOrderItems": [standalone(g, boxes)]}
    if vendor_id:
        body["vendorId"] = vendor_id
    made = ok(api("purchase.order.create", token, body))
    return made["purchaseOrderNumber"], made["purchaseOrderItems"][0]["poItemId"]


def _ship(api, g, token, item, awb, house=""):
    body = {"poItems": [{"poItemId": item, "awb": awb, "shipDate": str(g.ship)}]}
    if house:
        body["poItems"][0]["houseAWB"] = house
    return ok(api("purchase.order.items.awb.add", token, body))


# ---------------------------------------------------------------- awb.future.list


def test_future_awbs_until_the_warehouse_scans_them_in(api, grower):
    g = grower
    _, mine = _po(api, g, g.vendor_token)
    _, theirs = _po(api, g, g.rival_token)
    _ship(api, g, g.vendor_token, mine, "369-1234-5675", house="H-RDM-1")
    _ship(api, g, g.rival_token, theirs, "369-1234-5675")
    _, other = _po(api, g, g.vendor_token)
    _ship(api, g, g.vendor_token, other, "045-0000-1111")
    by_date = ok(api("awb.future.list", g.token, {"shipDate": str(g.ship)}, verb="GET"))
    assert [a["awb"] for a in by_date["awbs"]] == ["369-1234-5675", "045-0000-1111"]
    [first] = ok(api("awb.future.list", g.token, {"awb": "5675"}, verb="GET"))["awbs"]
    assert (first["originCode"], first["shipDate"], first["pieces"]) == ("UIO", str(g.ship), 4)
    assert sorted(h["vendorCode"] for h in first["houses"]) == ["FDS", "RDM"]
    assert {h["house"] for h in first["houses"]} == {"H-RDM-1"}
    assert {h["locationCode"] for h in first["houses"]} == {g.location.code}
    assert (
        ok(api("awb.future.list", g.token, {"awb": "5675", "originCode": "BOG"}, verb="GET"))[
            "awbs"
        ]
        == []
    )
    # One box scanned in: the AWB is being received, no longer future.
    row = ok(api("awb.list", g.token, {"awb": "5675"}, verb="GET"))["awbs"][0]
    code = row["boxesCodes"].split(",")[0]
    ok(api("awb.receive", g.token, {"awbId": row["awbId"], "boxCodes": [code]}))
    left = ok(api("awb.future.list", g.token, {"shipDate": str(g.ship)}, verb="GET"))
    assert [a["awb"] for a in left["awbs"]] == ["045-0000-1111"]
    empty = ok(api("awb.future.list", g.token, {"awb": "9999"}, verb="GET"))
    assert (empty["awbs"], empty["message"]) == ([], "AWBs not found.")


def test_future_awb_refusals(api, grower, make_token, other_company):
    g = grower
    _, item = _po(api, g, g.vendor_token)
    _ship(api, g, g.vendor_token, item, "369-1234-5675")
    refused(api("awb.future.list", g.token, {}, verb="GET"), 422, "awb")
    refused(
        api("awb.future.list", g.token, {"shipDate": "2026-13-01"}, verb="GET"), 422, "shipDate"
    )
    refused(api("awb.future.list", g.vendor_token, {"awb": "5675"}, verb="GET"), 403)
    refused(
        api(
            "awb.future.list",
            make_token(g.company, grants=["awb.list"]),
            {"awb": "5675"},
            verb="GET",
        ),
        403,
    )
    # Another company sees none of these AWBs.
    assert (
        ok(api("awb.future.list", make_token(other_company), {"awb": "5675"}, verb="GET"))["awbs"]
        == []
    )


# ---------------------------------------------------------------- vendor.invoice.mail.receive


@pytest.fixture
def mailed(api, grower, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    g = grower
    g.vendor.email_for_pos = "pos@rosasdelmonte.example; Billing@RosasDelMonte.example"
    g.vendor.save()
    g.po, _ = _po(api, g, g.vendor_token)
    return g


def _mail(api, g, secret, **body):
    # A mail gateway sends the token in the body as `companyToken`, no header.
    return api(
        "vendor.invoice.mail.receive",
        None,
        {"companyToken": secret, **body},
        account=g.company.account_id,
    )


def test_a_mailed_invoice_from_the_vendor_is_attached_to_its_po(api, mailed):
    g = mailed
    signed = ",".join(str(b - 256 if b > 127 else b) for b in PDF)
    answer = ok(
        _mail(
            api,
            g,
            g.token.secret,
            mailFrom="Rosas Billing <billing@rosasdelmonte.example>",
            poNumber=g.po,
            file=signed,
            invoiceNumber="FB00223",
            invoiceTotal="120.50",
        )
    )
    assert answer["message"] == "The invoice was successfully uploaded."
    assert (answer["contentType"], answer["mailFrom"]) == (
        "application/pdf",
        "billing@rosasdelmonte.example",
    )
    stored = VendorInvoice.objects.get()
    assert (stored.purchase_order.number, stored.file.read()) == (g.po, PDF)
    [row] = ok(api("vendor.invoice.list", g.token, {"poNumber": g.po}, verb="GET"))[
        "vendorInvoices"
    ]
    assert (row["invoiceNumber"], row["invoiceTotal"], row["mailFrom"]) == (
        "FB00223",
        120.5,
        "billing@rosasdelmonte.example",
    )
    # A company user forwarding it, and a Vendor Portal user of the grower, may send it too.
    create_user(company=g.company, email="ap@sunrise.example", role=Role.PURCHASING)
    png = io.BytesIO()
    Image.new("RGB", (3, 3)).save(png, "PNG")
    ok(
        _mail(
            api,
            g,
            g.token.secret,
            mailFrom="ap@sunrise.example",
            poNumber=g.po,
            file=base64.b64encode(png.getvalue()).decode(),
        )
    )
    # The usual header works as well.
    ok(
        api(
            "vendor.invoice.mail.receive",
            g.token,
            {
                "mailFrom": "pos@rosasdelmonte.example",
                "poNumber": g.po,
                "file": base64.b64encode(PDF).decode(),
            },
        )
    )
    assert VendorInvoice.objects.count() == 3


def test_mailed_invoice_refusals_store_nothing(api, client, mailed, make_token, other_company):
    g = mailed
    pdf = base64.b64encode(PDF).decode()
    good = {"mailFrom": "pos@rosasdelmonte.example", "poNumber": g.po, "file": pdf}
    # A sender who is neither the vendor nor the company; the other grower's address.
    g.rival.email_for_pos = "sales@floresdelsur.example"
    g.rival.save()
    for sender in ("someone@evil.example", "sales@floresdelsur.example"):
        refused(_mail(api, g, g.token.secret, **{**good, "mailFrom": sender}), 403, "mailFrom")
    refused(
        _mail(api, g, g.token.secret, **{**good, "mailFrom": "not an address"}), 422, "mailFrom"
    )
    refused(
        _mail(api, g, g.token.secret, **{k: v for k, v in good.items() if k != "mailFrom"}),
        422,
        "mailFrom",
    )
    exe = base64.b64encode(b"MZ\x90\x00 an exe").decode()
    refused(_mail(api, g, g.token.secret, **{**good, "file": exe}), 422, "file")
    refused(_mail(api, g, g.token.secret, **{**good, "file": ""}), 422, "file")
    renamed = SimpleUploadedFile("invoice.pdf", b"plain text renamed .pdf")
    r = client.post(
        "/api/vendor.invoice.mail.receive",
        {**good, "file": renamed, "companyToken": g.token.secret},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    big = SimpleUploadedFile("big.pdf", PDF[:-7] + b" " * (20 * 1024 * 1024) + b"%%EOF\n")
    r = client.post(
        "/api/vendor.invoice.mail.receive", {"companyToken": g.token.secret, **good, "file": big}
    )
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "file"
    refused(_mail(api, g, g.token.secret, **{**good, "poNumber": "P999999"}), 404, "poNumber")
    # Another company's token does not find this PO; a Vendor token, an ungranted one: 403.
    other = make_token(other_company)
    refused(api("vendor.invoice.mail.receive", other, good), 404, "poNumber")
    refused(_mail(api, g, g.vendor_token.secret, **good), 403)
    narrow = fast(make_token(g.company, grants=["vendor.invoice.list"]))
    refused(_mail(api, g, narrow.secret, **good), 403)
    refused(_mail(api, g, "wrong-secret-wrong-secret-wrong-secret", **good), 401)
    assert not VendorInvoice.objects.exists()
