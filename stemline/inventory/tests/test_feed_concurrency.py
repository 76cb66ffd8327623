"""The inventory feed under concurrent writers on PostgreSQL: numbered after commit, yet a
reader following `inventory.sync` never skips a number, never sees one twice, and sees each
line's changes in the order they were made."""

import threading
import time
import traceback

import pytest
from django.conf import settings
from django.db import connections, transaction

from stemline.inventory import queries
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryChange

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrent writers need PostgreSQL (SQLite serialises every write)",
    ),
]

WRITERS = 8
ROUNDS = 25


def test_a_reader_following_the_feed_never_skips_a_number_under_concurrent_writers(stocked):
    company = stocked.company
    lines = [stocked.add(boxes=100) for _ in range(4)]
    seen: list[InventoryChange] = []
    errors: list[str] = []
    writing = threading.Event()
    writing.set()

    def writer(n):
        try:
            for i in range(ROUNDS):
                line = lines[(n + i) % len(lines)]
                with transaction.atomic():
                    stock.hold(company=company, wanted=[(line.pk, 1)])
                if i % 3 == 0:
                    with transaction.atomic():
                        stock.release(company=company, held=[(line.pk, 1)])
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    def reader():
        since = 0
        try:
            while True:
                done = not writing.is_set()
                batch = queries.changes(company, since)
                seen.extend(batch)
                if batch:
                    since = batch[-1].seq
                elif done:
                    return
                else:
                    time.sleep(0.005)
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    follower = threading.Thread(target=reader)
    follower.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    writing.clear()
    follower.join(60)
    assert not errors, errors[0]
    assert not any(t.is_alive() for t in threads) and not follower.is_alive()

    total = InventoryChange.objects.filter(company=company).count()
    numbers = [c.seq for c in seen]
    # Every change once, numbered 1..N without a gap, read in order.
    assert numbers == list(range(1, total + 1))
    assert len({c.pk for c in seen}) == total
    # Each line's changes in the order they were made (the line's lock orders them).
    for line in lines:
        of_line = [c.pk for c in seen if c.line_id == line.pk]
        assert of_line == sorted(of_line)
    # Nothing is left unnumbered.
    assert not InventoryChange.objects.filter(company=company, seq__isnull=True).exists()
