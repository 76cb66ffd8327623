"""The shop's `total` without counting every line again (ecommerce/inventory.list page 1).

Counting what a customer can buy reads every line it sees: at 100,000 lines that is most of
a page's time. Which lines a shop list counts depends only on the lines' own columns (and the
customer, the day and the filters, which are in the count's SQL), and every change of a line
is a row of the inventory feed. So a count stays true until a feed row says a line may have
entered or left the list, and this process keeps the counts it made with the feed's counter
as it was.

A hold or a sale that leaves boxes to sell (`held` or `sold` with `available` > 0) changes no
line's place in any list: the line had stock before and has stock after, and nothing else of
it changed. Any other feed row (a line added, updated, released, deleted or sold out), numbered
after the count or not numbered yet, makes the count be taken again. The check is one
statement over the feed rows since the count (by their index), with no lock; rows committed
but not numbered yet are numbered first, as inventory.sync's readers do.

Lists filtered by a product's columns (search, category, color) are always counted: products
change without feed rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.db import connections
from django.db.models import QuerySet

from . import feeds
from .models import ChangeCounter, InventoryChange

KEPT = 512  # counts kept per process (the least recently used go first)
_NEVER = 2**62  # a sequence number no feed reaches: "no numbered rows to look at"

_kept: OrderedDict[tuple, tuple[int, int]] = OrderedDict()
_lock = threading.Lock()


def _check_sql(alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    changes = quote(InventoryChange._meta.db_table)
    counter = quote(ChangeCounter._meta.db_table)
    # A feed row that may move a line into or out of a list.
    kinds = ", ".join(f"'{k}'" for k in (InventoryChange.Kind.HELD, InventoryChange.Kind.SOLD))
    moving = f"NOT (kind IN ({kinds}) AND available > 0)"
    return (
        f"SELECT (SELECT value FROM {counter} WHERE company_id = %s AND feed = 'inventory'), "
        f"EXISTS (SELECT 1 FROM {changes} WHERE company_id = %s AND seq IS NULL AND {moving}), "
        f"EXISTS (SELECT 1 FROM {changes} WHERE company_id = %s AND seq > %s AND {moving})"
    )


def _feed_state(alias: str, company_id: int, since: int) -> tuple[int, bool, bool]:
    """(the feed's counter, whether an unnumbered row may move a line, whether a row numbered
    after `since` may), all as of one snapshot."""
    with connections[alias].cursor() as cursor:
        cursor.execute(_check_sql(alias), [company_id, company_id, company_id, since])
        value, unnumbered, numbered = cursor.fetchone()
    return value or 0, bool(unnumbered), bool(numbered)


def shop_total(company_id: int, qs: QuerySet) -> int:
    """`qs.count()`, from this process's last count of the same list while no feed row since
    may have moved a line into or out of it."""
    alias = qs.db
    sql, params = qs.query.sql_with_params()
    key = (alias, company_id, sql, tuple(params))
    with _lock:
        kept = _kept.get(key)
    since = kept[0] if kept is not None else _NEVER
    value, unnumbered, numbered = _feed_state(alias, company_id, since)
    if unnumbered:
        # Committed, waiting for its number (writers number a busy feed now and then): number
        # it, as inventory.sync's readers do, and look again.
        feeds.sequence(company_id, "inventory", InventoryChange, wait=False)
        value, unnumbered, numbered = _feed_state(alias, company_id, since)
    if kept is not None and not unnumbered and not numbered:
        with _lock:
            _kept[key] = (value, kept[1])  # still true up to here: look from here on
            _kept.move_to_end(key)
        return kept[1]
    # Read before counting: a change that commits in between is counted and, if it may move a
    # line, seen by the next check, which then counts again.
    total = qs.count()
    with _lock:
        if unnumbered:
            _kept.pop(key, None)  # a row not yet numbered would be missed from `value` on
        else:
            _kept[key] = (value, total)
            _kept.move_to_end(key)
            while len(_kept) > KEPT:
                _kept.popitem(last=False)
    return total


def forget() -> None:
    """Drop every kept count (tests, whose databases are made again under the same ids)."""
    with _lock:
        _kept.clear()
