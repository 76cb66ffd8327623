"""A hold or a sale that leaves a line with boxes to sell changes no indexed column, so on
PostgreSQL it is a HOT update: no new entry in any of the line table's indexes. The busiest
lines of a busy week are updated twice an order; with the index of lines to sell naming
`total`, `committed` and `held`, each of those updates added an entry to every index."""

import pytest
from django.db import connection

from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's HOT updates"),
]


def updates_of_lines() -> tuple[int, int]:
    """(updates, HOT updates) of inventory lines in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [InventoryLine._meta.db_table],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def test_holds_and_sales_that_leave_boxes_are_hot_updates(stocked):
    company = stocked.company
    line = stocked.add(5)
    before = updates_of_lines()
    for _ in range(3):
        stock.hold(company=company, wanted=[(line.pk, 1)])
    stock.commit_held(company=company, held=[(line.pk, 2)])
    stock.release(company=company, held=[(line.pk, 1)])
    updates, hot = (a - b for a, b in zip(updates_of_lines(), before, strict=True))
    assert updates == 5
    assert hot == 5
    line.refresh_from_db()
    assert (line.total, line.committed, line.held, line.has_stock) == (5, 2, 0, True)
    # Selling the last boxes flips the indexed column: that update cannot be HOT, and the
    # line leaves the index of lines to sell.
    before = updates_of_lines()
    stock.commit(company=company, wanted=[(line.pk, 3)])
    updates, hot = (a - b for a, b in zip(updates_of_lines(), before, strict=True))
    assert (updates, hot) == (1, 0)
    line.refresh_from_db()
    assert line.has_stock is False
    assert not InventoryLine.objects.filter(pk=line.pk, has_stock=True).exists()
