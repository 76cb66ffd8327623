"""The invoice PDF as a customer reads it: letterhead with logo and address, dates and terms,
bill-to and ship-to, carrier, lines with their units and amounts, totals; a long invoice runs
over several pages with the table's header on each."""

import io
import os
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from pypdf import PdfReader

from stemline.parties.models import Carrier, ShipTo
from stemline.sales import invoicing, pdf, queries
from stemline.sales.models import Invoice

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 60), (31, 94, 66)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def lettered(stocked, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    company = stocked.company
    company.address, company.city, company.state, company.zipcode = (
        "2100 NW 70th Ave",
        "Miami",
        "FL",
        "33122",
    )
    company.phone = "+1 305 555 0100"
    company.save()
    company.logo.save(".png", ContentFile(_png()))
    return stocked


def _invoice(s, lines: int, boxes_each: int = 1):
    line = s.add(lines * boxes_each)
    ups = Carrier.objects.create(company=s.company, name="UPS Ground", code="UPS")
    ShipTo.objects.create(
        company=s.company, customer=s.florist, name="Bloom Downtown", address="12 Flower St"
    )
    invoice, _ = invoicing.create_invoice(
        company=s.company,
        customer=s.florist,
        location=s.location,
        ship_date=line.created_at.date(),
        carrier=ups,
        customer_po="PO-778",
        via_api=False,
        lines=[
            invoicing.LineRequest(inventory_id=line.pk, boxes=boxes_each, price=Decimal("0.500"))
            for _ in range(lines)
        ],
    )
    return queries.invoice_details(Invoice.objects.filter(pk=invoice.pk))[0]


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_a_short_invoice_prints_the_letterhead_parties_terms_and_totals(lettered):
    invoice = _invoice(lettered, 2, boxes_each=3)
    data = pdf.render(invoice, invoice.lines)
    (text,) = _pages(data)
    for shown in (
        "Sunrise Floral Imports",
        "2100 NW 70th Ave",
        "Miami, FL 33122",
        "INVOICE",
        f"{invoice.number:06d}",
        "Net 30",  # the company's default terms: the customer has none
        "BILL TO",
        "Bloom Florist",
        "SHIP TO",
        "Bloom Downtown",
        "UPS Ground",
        "PO-778",
        "Rose Freedom Red 50cm",
        "750",  # units: 3 boxes x 250 stems
        "375.00",  # 750 x 0.500
        "750.00",  # the total of both lines
    ):
        assert shown in text, (shown, text)
    # The logo is drawn: the page carries an image.
    assert list(PdfReader(io.BytesIO(data)).pages[0].images)
    if os.environ.get("STEMLINE_PDF_OUT"):
        open(os.environ["STEMLINE_PDF_OUT"], "wb").write(data)


def test_the_companys_default_terms_serve_a_customer_without_its_own(lettered):
    from stemline.core.models import Company

    Company.objects.filter(pk=lettered.company.pk).update(default_terms="COD")
    invoice = _invoice(lettered, 1)
    invoice.company.refresh_from_db()
    terms, due = pdf.terms_and_due_date(invoice)
    assert (terms, due) == ("COD", pdf.invoice_date(invoice))


def test_net_terms_give_a_due_date_after_the_invoice_date(lettered):
    lettered.florist.terms = "Net 30"
    lettered.florist.save()
    invoice = _invoice(lettered, 1)
    terms, due = pdf.terms_and_due_date(invoice)
    assert terms == "Net 30" and (due - pdf.invoice_date(invoice)).days == 30
    assert "Net 30" in _pages(pdf.render(invoice, invoice.lines))[0]


def test_a_long_invoice_runs_over_pages_with_the_header_on_each(lettered):
    invoice = _invoice(lettered, 90)
    data = pdf.render(invoice, invoice.lines)
    pages = _pages(data)
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in text
    # Every page that carries lines repeats the table's header.
    for text in pages:
        if "Rose Freedom Red" in text:
            assert "Unit price" in text and "Amount" in text
    assert sum(text.count("Rose Freedom Red 50cm") for text in pages) == 90
    assert "Total USD 11,250.00" in pages[-1]  # 90 x 250 x 0.5
    if os.environ.get("STEMLINE_PDF_LONG"):
        open(os.environ["STEMLINE_PDF_LONG"], "wb").write(data)
