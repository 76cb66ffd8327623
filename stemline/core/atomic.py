"""One API call, one transaction: no savepoint where nothing would roll back to it.

The gateway runs each write method in `whole()`: any error the method raises leaves the call
and undoes all of it. A service called directly inside that block opens its own block with
`atomic()`, which is `transaction.atomic()` everywhere else (a caller may catch the service's
error and go on, and then needs the savepoint) but takes no savepoint there: SAVEPOINT and
RELEASE are two round trips of every `web-order-item.add` that buy nothing (issue 16).
"""

import functools
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextmanager
def whole(using: str = DEFAULT_DB_ALIAS):
    """A transaction (or savepoint) that any error leaving it undoes whole."""
    with transaction.atomic(using=using):
        connection = connections[using]
        previous = getattr(connection, "stemline_whole_depth", None)
        connection.stemline_whole_depth = len(connection.savepoint_ids)
        try:
            yield
        finally:
            connection.stemline_whole_depth = previous


def atomic(using: str = DEFAULT_DB_ALIAS):
    """`transaction.atomic()`, without a savepoint right inside `whole()`."""
    connection = connections[using]
    depth = getattr(connection, "stemline_whole_depth", None)
    inside = (
        connection.in_atomic_block and depth is not None and depth == len(connection.savepoint_ids)
    )
    return transaction.atomic(using=using, savepoint=not inside)


def atomically(func):
    """Decorate a service with `atomic()` (as `@transaction.atomic` would)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with atomic():
            return func(*args, **kwargs)

    return run
