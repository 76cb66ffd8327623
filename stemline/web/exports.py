"""Excel exports: real .xlsx files written row by row (openpyxl's write-only mode), whose `Id`
column holds the IDs an integration needs."""

from io import BytesIO

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    stamp = timezone.localdate().isoformat()
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.xlsx"'
    return response
