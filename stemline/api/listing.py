"""Paging and streaming of the long lists (issue 17 item 4), shared by every app's list methods:
the ids in the list's order (one page, or all), then the rows a chunk of ids at a time."""

from collections.abc import Callable

from stemline.core.sql import id_in

from .schemas import Envelope, Rendered, paging
from .texts import EMPTY

CHUNK = 500
# An unpaged answer longer than this is streamed (each list method passes its own module's
# value, so a test can lower it there).
STREAM_FROM = 1000


class Paged(Envelope):
    # Only in a paged answer (`page`/`rows` sent).
    total: int | None = None
    page: int | None = None
    rows: int | None = None


def list_ids(qs, order, window: tuple[int, int] | None, limit: int | None = None):
    """The ids of a list in `order` (which ends with the id, so ties never move between pages),
    all of them (at most `limit`) or one page (offset, size), and how many match: one narrow
    query (two for a page)."""
    ids = qs.order_by(*order).values_list("pk", flat=True)
    if window is None:
        found = list(ids if limit is None else ids[:limit])
        return found, len(found)
    offset, size = window
    return list(ids[offset : offset + size]), qs.count()


def chunked(ids: list, size: int = CHUNK):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def listing(
    p,
    qs,
    *,
    order,
    key: str,
    rows: Callable[[list], list],
    method: str | None = None,
    empty: str | None = None,
    found: str = "OK",
    stream_from: int = STREAM_FROM,
    limit: int | None = None,
) -> Rendered:
    """A long list's answer: one page (with `total`, `page`, `rows`) or the whole list (at most
    `limit` documents, as before), its rows made by `rows(ids)` a chunk at a time in a fixed
    number of queries, plain values (never a model per row); streamed when unpaged and longer
    than `stream_from`. The empty message is `empty`, else the method's "... not found." text."""
    window = paging(p)
    ids, total = list_ids(qs, order, window, limit)
    if not ids:
        found = empty if empty is not None else EMPTY.get(method or "", found)
    head = {"status": 1, "message": found}
    if window is not None:
        head.update(total=total, page=p.page or 1, rows=window[1])
    chunks = (rows(part) for part in chunked(ids))
    return Rendered(head, key, chunks, stream=window is None and total > stream_from)


def values_in_order(model, ids: list[int], fields) -> list[tuple]:
    """The rows of these ids as tuples of `fields` (the id first), in the order of `ids`: one
    query (relations followed by `__` are joined in it)."""
    found = {
        row[0]: row
        for row in model.objects.filter(id_in(ids)).order_by().values_list("pk", *fields)
    }
    return [found[pk] for pk in ids]


def values_by(qs, key: str, ids: list[int], fields, order=("id",)) -> dict[int, list[tuple]]:
    """Rows of `qs` whose `key` is one of `ids`, as tuples of `fields` in `order`, by key: one
    query (the lines, applications, boxes... of a chunk of documents)."""
    by_key: dict[int, list[tuple]] = {pk: [] for pk in ids}
    for row in qs.filter(id_in(ids, key)).order_by(*order).values_list(key, *fields):
        by_key[row[0]].append(row[1:])
    return by_key
