"""v2/vendor/invoice: PDF or image by content, at most 20 MB, stored with Django's storage;
bad uploads get a 4xx naming `attachment` and store nothing. vendor.invoice.mark.sync and the
company's list."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from stemline.purchasing.models import VendorInvoice

from .conftest import ok, refused, standalone

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def po(api, grower, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    body = {"shipDate": str(grower.ship), "vendorId": grower.vendor.pk}
    body["purchaseOrderItems"] = [standalone(grower, 2)]
    return ok(api("purchase.order.create", grower.token, body))["purchaseOrderNumber"]


def files_in(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


def upload(api, token, **data):
    return api("v2/vendor/invoice", token, data)


def test_pdf_as_a_komet_byte_array_and_as_base64(api, grower, po, settings):
    signed = ",".join(str(b - 256 if b > 127 else b) for b in PDF)
    answer = ok(
        upload(api, grower.vendor_token, poNumber=po, attachment=signed, invoiceNumber="A1")
    )
    assert (answer["contentType"], answer["size"]) == ("application/pdf", len(PDF))
    ok(
        upload(
            api,
            grower.vendor_token,
            poNumber=po,
            attachment=base64.b64encode(PDF).decode(),
            invoiceNumber="A2",
        )
    )
    stored = list(VendorInvoice.objects.order_by("id"))
    assert [v.file.read() for v in stored] == [PDF, PDF]
    assert all(v.file.name.endswith(".pdf") for v in stored)
    assert len(files_in(settings.MEDIA_ROOT)) == 2


def test_mark_sync_and_list(api, grower, po):
    ok(
        upload(
            api,
            grower.vendor_token,
            poNumber=po,
            attachment=base64.b64encode(PDF).decode(),
            invoiceNumber="FB00223",
            invoiceTotal="99.90",
        )
    )
    listed = ok(api("vendor.invoice.list", grower.token, {"externalSystemSynced": 0}, verb="GET"))
    [row] = listed["vendorInvoices"]
    assert (row["poNumber"], row["invoiceTotal"], row["externalSystemSynced"]) == (po, 99.9, 0)
    ok(api("vendor.invoice.mark.sync", grower.token, {"poNumber": po, "invoiceNumber": "fb00223"}))
    assert (
        ok(api("vendor.invoice.list", grower.token, {"externalSystemSynced": 0}, verb="GET"))[
            "vendorInvoices"
        ]
        == []
    )
    refused(
        api("vendor.invoice.mark.sync", grower.token, {"poNumber": po, "invoiceNumber": "nope"}),
        404,
        "invoiceNumber",
    )


def test_bad_uploads_are_refused_by_field_and_store_nothing(api, client, grower, po, settings):
    token = grower.vendor_token
    account = str(grower.company.account_id)
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    refused(
        upload(api, token, poNumber=po, attachment=b64(b"MZ\x90\x00 an exe")), 422, "attachment"
    )
    refused(
        upload(api, token, poNumber=po, attachment=b64(b"\x89PNG\r\n\x1a\nbroken")),
        422,
        "attachment",
    )
    refused(
        upload(api, token, poNumber=po, attachment=b64(b"%PDF-1.4 cut short")), 422, "attachment"
    )
    refused(upload(api, token, poNumber=po, attachment=""), 422, "attachment")
    refused(upload(api, token, poNumber=po), 422, "attachment")
    refused(upload(api, token, poNumber=po, attachment="not base64!"), 422, "attachment")
    refused(upload(api, token, poNumber=po, attachment="1,2,999"), 422, "attachment")
    refused(upload(api, token, poNumber="P999999", attachment=b64(PDF)), 404, "poNumber")

    def multipart(content: bytes):
        r = client.post(
            "/api/v2/vendor/invoice",
            {"poNumber": po, "attachment": SimpleUploadedFile("x.pdf", content)},
            HTTP_AUTHENTICATIONTOKEN=token.secret,
            HTTP_X_ACCOUNT=account,
        )
        r.json_body = r.json()
        return r

    refused(multipart(b""), 422, "attachment")
    too_big = PDF[:-7] + b" " * (20 * 1024 * 1024) + b"%%EOF\n"
    refused(multipart(too_big), 413, "attachment")
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4)).save(jpeg, format="JPEG")
    refused(multipart(b"GIF89a" + jpeg.getvalue()), 422, "attachment")
    assert not VendorInvoice.objects.exists()
    assert files_in(settings.MEDIA_ROOT) == []
    assert ok(multipart(jpeg.getvalue()))["contentType"] == "image/jpeg"
