"""Numbering a feed after commit, so no writer waits on a company-wide counter.

A writer inserts its feed row (an inventory change, a document change) without a number and
asks, once it has committed, for the feed to be numbered. Numbering takes the feed's counter
for one statement: it gives the committed rows without a number the next numbers, in the
order they were made. A reader numbers the feed before it reads, so it never misses a row:
whatever committed before its read has a number by then, and whatever commits after gets a
larger one. Numbers have no gaps and follow commit order closely enough for a reader that
applies changes in their order (two changes of one line are made one after the other, under
the line's lock, so they are numbered in that order).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from .models import ChangeCounter

log = logging.getLogger("stemline.feeds")

# At most so many rows a statement numbers; a longer backlog takes several.
BATCH = 5000


def _counter(company_id: int, feed: str, *, wait: bool) -> ChangeCounter | None:
    qs = ChangeCounter.objects.filter(company_id=company_id, feed=feed)
    if connection.features.has_select_for_update_skip_locked and not wait:
        found = qs.select_for_update(skip_locked=True).first()
    else:
        found = qs.select_for_update().first()
    if found is not None:
        return found
    if qs.exists():
        return None  # there, but being numbered by someone else just now
    try:
        with transaction.atomic():
            ChangeCounter.objects.create(company_id=company_id, feed=feed, value=0)
    except IntegrityError:
        pass  # a racing numberer made it
    return qs.select_for_update().first()


def number_rows(model: type[Model], start: int, where: dict) -> int:
    """Number the rows of `model` matching `where` that have no `seq` yet, start + 1 onwards in
    id order (at most BATCH of them); the caller holds the counter `start` came from. How many
    were numbered."""
    table = connection.ops.quote_name(model._meta.db_table)
    conditions = " AND ".join(f"{connection.ops.quote_name(c)} = %s" for c in where)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seq = %s + n.rn FROM ("
            f"SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM {table} "
            f"WHERE {conditions} AND seq IS NULL ORDER BY id LIMIT %s"
            f") AS n WHERE {table}.id = n.id",
            [start, *where.values(), BATCH],
        )
        return cursor.rowcount


def sequence(
    company_id: int, feed: str, model: type[Model], *, where: dict | None = None, wait=True
) -> int:
    """Give the feed's committed rows without a number their numbers. With `wait=False` a
    numbering already under way is left to finish (it, or the next reader, numbers ours).
    Returns how many rows were numbered."""
    if connection.vendor == "postgresql" and len(where or {}) <= 1:
        # One round trip: the migration's function does the statements below, each seeing
        # what committed before it as they do here.
        ((column, value),) = (where or {None: None}).items()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT stemline_number_feed(%s::regclass, %s, %s, %s, %s, %s, %s)",
                [
                    connection.ops.quote_name(model._meta.db_table),
                    company_id,
                    feed,
                    column,
                    None if value is None else str(value),
                    BATCH,
                    wait,
                ],
            )
            (numbered,) = cursor.fetchone()
        if numbered is not None:
            return numbered
        # The feed's first number: the counter is made below.
    done = 0
    while True:
        with transaction.atomic():
            counter = _counter(company_id, feed, wait=wait)
            if counter is None:
                return done
            numbered = number_rows(
                model, counter.value, {"company_id": company_id, **(where or {})}
            )
            if numbered:
                ChangeCounter.objects.filter(pk=counter.pk).update(value=counter.value + numbered)
        done += numbered
        if numbered < BATCH:
            return done


# When this process last numbered each feed after a commit (sequence_after_commit, spaced).
_numbered_at: dict[tuple, float] = {}


def sequence_after_commit(
    company_id: int, feed: str, model, where: dict | None = None, *, spaced: bool = False
) -> None:
    """Number the feed once the current transaction commits (at once outside one).

    `spaced`: at most once per `FEED_NUMBER_SECONDS` per process and feed (the busy feeds:
    inventory changes, documents). A reader numbers the feed before it reads and the worker's
    tick numbers what is left (`number_waiting`), so a change left for them is never missed,
    only numbered a little later; what a busy feed saves is a round trip and a commit after
    every order's two transactions."""

    key = (company_id, feed, model._meta.label, tuple(sorted((where or {}).items())))
    if spaced:
        every = settings.FEED_NUMBER_SECONDS
        now = time.monotonic()
        if every > 0 and now - _numbered_at.get(key, -every) < every:
            return
        _numbered_at[key] = now

    def run():
        try:
            sequence(company_id, feed, model, where=where, wait=False)
        except Exception:
            # The next writer, the next reader or the worker's tick numbers it.
            log.warning(
                "could not number the %s feed of company %s", feed, company_id, exc_info=True
            )

    once_on_commit(key, run)


def once_on_commit(key, func, *, robust: bool = False) -> None:
    """`transaction.on_commit(func)`, unless a callback of the same key already waits for
    this transaction's commit (one numbering or one delivery kick per transaction, however
    many rows it wrote). A callback of an enclosing level counts; one of a savepoint that has
    ended does not, as Django drops those of a savepoint rolled back."""
    if connection.in_atomic_block:
        current = set(connection.savepoint_ids)
        for sids, waiting, _ in connection.run_on_commit:
            if getattr(waiting, "once_key", None) == key and sids >= current:
                return
    func.once_key = key
    transaction.on_commit(func, robust=robust)


def number_waiting(model: type[Model], feed: str | None = None, *, field: str | None = None) -> int:
    """Number every company's rows of a feed that are still without a number (the worker's
    tick: a writer that left its rows to the next numbering, and nobody read since). `field`:
    the column that names the feed in a table of several (`feed` its value), else the table
    is the one feed `feed`. Reads only the rows without a number (a partial index)."""
    waiting = model.objects.filter(seq__isnull=True)
    if field is not None:
        waiting = waiting.filter(**{field: feed})
    done = 0
    for company_id in waiting.order_by().values_list("company_id", flat=True).distinct():
        where = {field: feed} if field is not None else None
        done += sequence(company_id, feed, model, where=where, wait=False)
    return done
