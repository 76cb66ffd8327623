"""Shipping an invoice over the API: invoice/print-status/update (box labels, BOL) and the
proof of delivery (invoice.pod.receive checked by content like vendor invoices, kept with the
invoice, read back with invoice.pod.get), with every refusal."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from stemline.core.files import MAX_FILE_BYTES
from stemline.inventory import services as stock
from stemline.sales.models import Invoice, ProofOfDelivery
from stemline.tokens.models import ApiToken
from stemline.tokens.services import create_token

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, kind)
    return out.getvalue()


def _signed(data: bytes) -> str:
    return ", ".join(str(b - 256 if b > 127 else b) for b in data)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def token(stocked, make_token):
    issued = make_token(stocked.company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


def _ok(r):
    assert r.status_code == 200, r.json_body
    return r.json_body


def _refused(r, status, field=None):
    assert r.status_code == status, r.json_body
    assert r.json_body["status"] == 0
    if field:
        assert r.json_body["errors"][0]["field"] == field, r.json_body
    return r.json_body


def _invoice(api, token, stocked, customer=None) -> dict:
    line = stocked.add(5)
    body = {
        "customerId": (customer or stocked.florist).pk,
        "shipDate": str(stock.today()),
        "invoiceItems": [{"orderItemId": line.pk, "boxes": 1, "price": "0.5"}],
    }
    return _ok(api("invoice.create", token, body))


def _listed(api, token, invoice_id) -> dict:
    day = str(stock.today())
    rows = _ok(api("invoice.list", token, {"orderDateFrom": day, "orderDateTo": day}, verb="GET"))[
        "invoices"
    ]
    return next(r for r in rows if r["id"] == invoice_id)


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- print status


def test_print_status_is_recorded_and_shown(api, stocked, token):
    a, b = _invoice(api, token, stocked), _invoice(api, token, stocked)
    ids = f"{a['invoiceId']},{b['invoiceId']}"
    answer = _ok(api("invoice/print-status/update", token, {"orderIds": ids, "printType": 0}))
    assert answer["message"] == f"The invoices with id {ids} were updated successfully."
    row = _listed(api, token, a["invoiceId"])
    assert row["boxLabelsPrintedOn"] is not None and row["bolPrintedOn"] is None
    _ok(api("invoice/print-status/update", token, {"orderIds": [b["invoiceId"]], "printType": "1"}))
    assert _listed(api, token, b["invoiceId"])["bolPrintedOn"] is not None
    assert _listed(api, token, a["invoiceId"])["bolPrintedOn"] is None
    # The change feed carries it.
    feed = _ok(api("invoice.sync", token, {"since": 0}, verb="GET"))
    assert "printed" in {c["change"] for c in feed["changes"]}


def test_print_status_refusals(api, stocked, token, make_token, other_company):
    mine = _invoice(api, token, stocked)["invoiceId"]
    theirs = make_token(other_company)
    r = api("invoice/print-status/update", theirs, {"orderIds": str(mine), "printType": 0})
    _refused(r, 404, "orderIds")
    # All or nothing: one unknown id refuses the call and marks none.
    r = api("invoice/print-status/update", token, {"orderIds": f"{mine},99999999", "printType": 0})
    _refused(r, 404, "orderIds")
    assert Invoice.objects.get(pk=mine).labels_printed_at is None
    _refused(
        api("invoice/print-status/update", token, {"orderIds": str(mine), "printType": 2}),
        422,
        "printType",
    )
    _refused(
        api("invoice/print-status/update", token, {"orderIds": "", "printType": 0}), 422, "orderIds"
    )
    _refused(
        api("invoice/print-status/update", token, {"orderIds": "a,b", "printType": 0}),
        422,
        "orderIds[0]",
    )
    customer = make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    _refused(
        api("invoice/print-status/update", customer, {"orderIds": str(mine), "printType": 0}), 403
    )
    narrow = make_token(stocked.company, grants=["invoice.list"])
    _refused(
        api("invoice/print-status/update", narrow, {"orderIds": str(mine), "printType": 0}), 403
    )
    _ok(api("invoice.void", token, {"invoiceId": mine, "reason": "customer cancelled"}))
    _refused(
        api("invoice/print-status/update", token, {"orderIds": str(mine), "printType": 1}),
        409,
        "orderIds",
    )


# ---------------------------------------------------------------- proof of delivery


def test_pod_pdf_png_jpeg_are_kept_with_the_invoice_and_read_back(
    api, stocked, token, media, django_capture_on_commit_callbacks, other_company, make_token
):
    made = _invoice(api, token, stocked)
    number, invoice_id = made["invoiceNumber"], made["invoiceId"]
    answer = _ok(
        api(
            "invoice.pod.receive",
            token,
            {"invoiceNumber": f"W{number:06d}", "proofOfDeliveryfile": _signed(PDF)},
        )
    )
    assert answer["message"] == "The proof of delivery was successfully received"
    assert (answer["invoiceId"], answer["contentType"], answer["size"]) == (
        invoice_id,
        "application/pdf",
        len(PDF),
    )
    assert _listed(api, token, invoice_id)["proofOfDeliveryReceivedOn"] is not None
    got = _ok(api("invoice.pod.get", token, {"invoiceId": invoice_id}, verb="GET"))
    assert got["file"] == _signed(PDF) and got["suggestedFileName"].endswith(".pdf")
    # The customer reads its own invoice's proof.
    api_customer = create_token(
        company=stocked.company,
        token_type="customer",
        description="florist",
        customer_id=stocked.florist.pk,
        all_methods=True,
    )
    customer = _ok(api("invoice.pod.get", api_customer, {"invoiceId": invoice_id}, verb="GET"))
    assert customer["file"] == _signed(PDF)
    # Another customer, another company: not found; a Vendor token: refused.
    market = create_token(
        company=stocked.company,
        token_type="customer",
        description="market",
        customer_id=stocked.market.pk,
        all_methods=True,
    )
    for other in (
        market,
        create_token(
            company=other_company, token_type="company", description="other", all_methods=True
        ),
    ):
        r = api("invoice.pod.get", other, {"invoiceId": invoice_id}, verb="GET")
        _refused(r, 404, "invoiceId")
    vendor = make_token(stocked.company, "vendor")
    _refused(api("invoice.pod.get", vendor, {"invoiceId": invoice_id}, verb="GET"), 403)
    # A PNG (base64) and then a JPEG (multipart) replace it: one proof per invoice, one file.
    png, jpeg = _image("PNG"), _image("JPEG")
    # The replaced file is deleted once the new one is committed (the test runs in a
    # transaction that never commits, so the callbacks are run by hand).
    replacing = django_capture_on_commit_callbacks(execute=True)
    replacing.__enter__()
    _ok(
        api(
            "invoice.pod.receive",
            token,
            {"invoiceNumber": str(number), "proofOfDeliveryfile": base64.b64encode(png).decode()},
        )
    )
    upload = SimpleUploadedFile("pod.jpg", jpeg, content_type="image/jpeg")
    r = api.client.post(
        "/api/invoice.pod.receive",
        {"invoiceNumber": str(number), "proofOfDeliveryfile": upload},
        HTTP_AUTHENTICATIONTOKEN=token.secret,
    )
    assert r.status_code == 200, r.content
    replacing.__exit__(None, None, None)
    pod = ProofOfDelivery.objects.get(invoice_id=invoice_id)
    assert pod.content_type == "image/jpeg" and pod.file.read() == jpeg
    assert len(_files(media)) == 1
    got = _ok(api("invoice.pod.get", token, {"invoiceId": invoice_id}, verb="GET"))
    assert got["suggestedFileName"].endswith(".jpg") and got["file"] == _signed(jpeg)


def test_pod_refusals_store_nothing(
    api, stocked, token, make_token, other_company, media, settings
):
    made = _invoice(api, token, stocked)
    number = str(made["invoiceNumber"])

    def send(data, tok=token, **extra):
        body = {"invoiceNumber": number, "proofOfDeliveryfile": data, **extra}
        return api("invoice.pod.receive", tok, body)

    exe = base64.b64encode(b"MZ\x90\x00\x03\x00\x00\x00 this program cannot be run").decode()
    _refused(send(exe), 422, "proofOfDeliveryfile")
    renamed = SimpleUploadedFile(
        "pod.pdf", b"just some text, renamed", content_type="application/pdf"
    )
    r = api.client.post(
        "/api/invoice.pod.receive",
        {"invoiceNumber": number, "proofOfDeliveryfile": renamed},
        HTTP_AUTHENTICATIONTOKEN=token.secret,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "proofOfDeliveryfile"
    _refused(send(base64.b64encode(PDF[:-7]).decode()), 422, "proofOfDeliveryfile")  # truncated
    _refused(send(""), 422, "proofOfDeliveryfile")
    _refused(send("not base64 !!"), 422, "proofOfDeliveryfile")
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES, "application/pdf")
    r = api.client.post(
        "/api/invoice.pod.receive",
        {"invoiceNumber": number, "proofOfDeliveryfile": big},
        HTTP_AUTHENTICATIONTOKEN=token.secret,
    )
    assert r.status_code == 413, r.content
    # Unknown or another company's invoice: 404; wrong token type, not granted: 403.
    _refused(send(_signed(PDF), invoiceNumber="999999"), 404, "invoiceNumber")
    _refused(send(_signed(PDF), tok=make_token(other_company)), 404, "invoiceNumber")
    customer = make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    _refused(send(_signed(PDF), tok=customer), 403)
    _refused(send(_signed(PDF), tok=make_token(stocked.company, grants=["invoice.list"])), 403)
    _refused(send(_signed(PDF), invoiceNumber="12x"), 422, "invoiceNumber")
    _ok(api("invoice.void", token, {"invoiceId": made["invoiceId"], "reason": "lost"}))
    _refused(send(_signed(PDF)), 409, "invoiceNumber")
    assert ProofOfDelivery.objects.count() == 0 and _files(media) == []
    # invoice.pod.get: no proof yet, another customer's invoice, another company: 404.
    _refused(
        api("invoice.pod.get", token, {"invoiceId": made["invoiceId"]}, verb="GET"),
        404,
        "invoiceId",
    )
