"""Reading a grower's availability file (CSV): each row mapped to the company's products and
box types, or refused with its line number and the reason, before anything is offered."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from stemline.catalog.models import BoxType, Product, UnitType
from stemline.core.models import Company
from stemline.inventory import services as stock

from .services import MAX_BOXES, MAX_ROWS, OfferRow

# Header names as growers write them, reduced to letters: "Stems/Bunch" -> "stemsbunch".
COLUMNS = {
    "product": ("product", "productcode", "code", "productdescription", "description", "item"),
    "box_type": ("boxtype", "boxtypecode", "box", "pack"),
    "unit_type": ("unittype", "unit", "uom"),
    "bunches": ("bunches", "bunchesbox", "bunchesperbox"),
    "stems_bunch": ("stemsbunch", "stemsperbunch", "stems"),
    "boxes": ("boxes", "quantity", "qty"),
    "unit_cost": ("unitcost", "cost", "price"),
    "available_from": ("availablefrom", "from", "shipdate", "date"),
    "available_to": ("availableto", "to", "until"),
}
REQUIRED = ("product", "box_type", "bunches", "stems_bunch", "boxes", "unit_cost", "available_from")
HEADER_EXAMPLE = (
    "product,boxType,unitType,bunches,stemsBunch,boxes,unitCost,availableFrom,availableTo"
)


@dataclass
class PreviewRow:
    line_number: int
    product_text: str
    product: Product | None = None
    row: OfferRow | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


@dataclass
class Preview:
    rows: list[PreviewRow]
    error: str = ""

    @property
    def refused(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.refused]

    @property
    def accepted(self) -> list[OfferRow]:
        return [r.row for r in self.rows if not r.refused]

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.rows) and not self.refused


def _letters(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def _int(text: str, name: str, least: int, most: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a whole number") from None
    if not least <= value <= most:
        raise ValueError(f"{name}: must be between {least} and {most}")
    return value


def _product(company: Company, text: str) -> tuple[Product | None, str]:
    """The company product a grower's row names: by code first, then by description."""
    products = Product.objects.filter(company=company, active=True)
    found = list(products.filter(legacy_code__iexact=text)[:2]) or list(
        products.filter(description__iexact=text)[:2]
    )
    if not found:
        return None, f"product {text!r} is not one of the company's products"
    if len(found) > 1:
        return None, f"product {text!r} names several products; use the product code"
    return found[0], ""


def read(company: Company, content: bytes | str, *, replace: bool = False) -> Preview:
    """Every row of the file with its mapping or the reasons it is refused. Line numbers are
    the file's (the header is line 1)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return Preview([], "the file is not UTF-8 text (save it as CSV UTF-8)")
    if "\x00" in content:
        return Preview([], "the file is not text (save it as CSV)")
    try:
        dialect = csv.Sniffer().sniff(content[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    header = next(reader, None)
    if not header:
        return Preview([], "the file is empty")
    names = [_letters(h) for h in header]
    where: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases and column not in where:
                where[column] = i
    missing = [c for c in REQUIRED if c not in where]
    if missing:
        return Preview(
            [],
            f"the header lacks {', '.join(missing)}; it should read: {HEADER_EXAMPLE}",
        )
    box_types = {b.code.upper(): b for b in BoxType.objects.filter(company=company, active=True)}
    today = stock.today()
    rows: list[PreviewRow] = []
    for cells in reader:
        line_number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            return Preview(rows, f"at most {MAX_ROWS} rows a file")

        def cell(column: str, cells=cells) -> str:
            i = where.get(column)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        preview = PreviewRow(line_number, cell("product"))
        rows.append(preview)
        if not preview.product_text:
            preview.errors.append("no product")
        else:
            preview.product, reason = _product(company, preview.product_text)
            if reason:
                preview.errors.append(reason)
        box_type = box_types.get(cell("box_type").upper())
        if box_type is None:
            preview.errors.append(f"box type {cell('box_type')!r} is not one of the company's")
        unit_text = cell("unit_type").capitalize() or (
            preview.product.default_unit_type if preview.product else UnitType.STEM
        )
        if unit_text not in UnitType.values:
            preview.errors.append(f"unit type {cell('unit_type')!r} is not Stem or Bunch")
        values = {}
        least = 0 if replace else 1
        for column, name, low, high in (
            ("bunches", "bunches", 1, 100_000),
            ("stems_bunch", "stems a bunch", 1, 100_000),
            ("boxes", "boxes", least, MAX_BOXES),
        ):
            try:
                values[column] = _int(cell(column), name, low, high)
            except ValueError as error:
                preview.errors.append(str(error))
        try:
            values["unit_cost"] = Decimal(cell("unit_cost").replace("$", ""))
            if not values["unit_cost"].is_finite() or not 0 <= values["unit_cost"] < 10_000_000:
                raise InvalidOperation
            values["unit_cost"] = values["unit_cost"].quantize(Decimal("0.001"))
        except InvalidOperation:
            preview.errors.append(f"unit cost {cell('unit_cost')!r} is not an amount")
        try:
            start = _date(cell("available_from"))
            end = _date(cell("available_to")) if cell("available_to") else start
            if end < start:
                preview.errors.append("available to is before available from")
            elif end < today:
                preview.errors.append(f"available to ({end}) has passed")
            values["available_from"], values["available_to"] = start, end
        except ValueError as error:
            preview.errors.append(f"date: {error}")
        if not preview.errors:
            preview.row = OfferRow(
                line_number=line_number,
                product=preview.product,
                box_type=box_type,
                unit_type=unit_text,
                vendor_product=preview.product_text,
                field=f"line {line_number}",
                **values,
            )
    if not rows:
        return Preview([], "the file has no rows under its header")
    return Preview(rows)
