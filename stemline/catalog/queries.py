"""Reads of the catalog that several callers need or that must be fast."""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections

from stemline.core import prepared

from .models import Category, Product

PRODUCT_LIST_COLUMNS = (
    "id",
    "description",
    "active",
    "category",
    "division",
    "variety",
    "color",
    "grade",
    "legacy_code",
    "tags",
    "default_unit_type",
)


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def product_rows(
    *,
    company_id: int,
    product_id: int | None = None,
    description: str | None = None,
    legacy_code: str | None = None,
    include_inactive: bool = False,
) -> list[tuple]:
    """The rows of `product.list` (columns: PRODUCT_LIST_COLUMNS), in one written statement.

    It is the integrations' hottest read (growers' and marketplaces' systems poll it), and
    building this query through the ORM costs ten times running it (bench/gateway.py). The
    filters keep the ORM's meaning, which tests/test_product_queries.py checks against the
    ORM for every combination: ID exact; description a case-insensitive substring; code
    case-insensitive exact; inactive products only by ID or with include_inactive.
    """
    by_id = product_id is not None
    active_only = not by_id and not include_inactive
    params: list = [company_id]
    if by_id:
        params.append(product_id)
    elif active_only:
        params.append(True)
    if description:
        params.append(f"%{escape_like(description)}%")
    if legacy_code:
        params.append(legacy_code)
    db = connections[DEFAULT_DB_ALIAS]
    sql = _product_sql(db.vendor, by_id, active_only, bool(description), bool(legacy_code))
    with prepared.cursor() as cursor:
        # A handful of shapes (which filters are given), each planned once per connection.
        cursor.execute(sql, params)
        return cursor.fetchall()


@cache
def _product_sql(
    vendor: str, by_id: bool, active_only: bool, by_description: bool, by_code: bool
) -> str:
    """The statement of one shape of `product_rows` (built once per process)."""
    quote = connection.ops.quote_name
    where = ["p.company_id = %s"]
    if by_id:
        where.append("p.id = %s")
    elif active_only:
        where.append("p.active = %s")
    if by_description:
        where.append("UPPER(p.description) LIKE UPPER(%s) ESCAPE '\\'")
    if by_code:
        where.append("UPPER(p.legacy_code) = UPPER(%s)")
    return (
        "SELECT p.id, p.description, p.active, c.name, p.division, p.variety, p.color, "
        "p.grade, p.legacy_code, p.tags, p.default_unit_type "
        f"FROM {quote(Product._meta.db_table)} p "
        f"JOIN {quote(Category._meta.db_table)} c ON c.id = p.category_id "
        f"WHERE {' AND '.join(where)}" + ("" if by_id else " ORDER BY p.description, p.id")
    )
