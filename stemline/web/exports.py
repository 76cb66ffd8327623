"""Excel exports: real .xlsx files written row by row (openpyxl's write-only mode), whose `Id`
column holds the IDs an integration needs."""

from io import BytesIO

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet may read as the start of a formula (or DDE call) when a person edits or
# re-saves the cell: names and notes come from customers and the API, so they are never trusted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(sheet, value):
    """`value` as a cell; text that could be taken for a formula is stored as plain text.

    openpyxl turns a string starting with `=` into a formula and `#N/A` into an error value;
    forcing the string type writes it as text, and the quote prefix (Excel's leading `'`) keeps
    it text when someone edits the cell in Excel or LibreOffice.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS + ("#",)):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def xlsx_response(name: str, headers: list[str], rows) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(name.title())
    bold = Font(bold=True)
    header_cells = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([text_cell(sheet, value) for value in row])
    buffer = BytesIO()
    book.save(buffer)
    stamp = timezone.localdate().isoformat()
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.xlsx"'
    return response
