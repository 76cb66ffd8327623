"""Time stamps read from PostgreSQL by psycopg's C parser instead of Django's Python one.

Django registers its own loader for `timestamptz` on every connection (`BaseTzLoader`: psycopg's
pure-Python parser, then `replace(tzinfo=...)` with the connection's zone), about 5 µs a value
on this machine; an order reads some 25 of them. When the connection's zone is UTC, as Django
sets it with `USE_TZ` and no database `TIME_ZONE`, psycopg's C loader gives the very same
values (aware, `datetime.timezone.utc`) in about 1 µs. This loader hands each value to it and
keeps the `timezone` attribute that Django and `core.prepared` read to decide whether a cursor
needs a loader of its own.

Nothing changes elsewhere: another zone, SQLite, or psycopg without its C module keep Django's
loader.
"""

import datetime
from functools import cache

from django.db.backends.signals import connection_created


@cache
def loader_class():
    """The C-backed loader class, or None where psycopg has no C module."""
    try:
        from psycopg._cmodule import _psycopg
    except ImportError:
        return None
    if _psycopg is None:
        return None
    from psycopg.adapt import Loader

    c_loader = _psycopg.TimestamptzLoader

    class UtcTimestamptzLoader(Loader):
        timezone = datetime.UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = c_loader(oid, context).load

        def load(self, data):
            return self._parse(data)

    return UtcTimestamptzLoader


def install(wrapper) -> bool:
    """Use the C-backed loader on this Django connection if its zone is UTC; whether it did."""
    if wrapper.vendor != "postgresql" or wrapper.timezone is not datetime.UTC:
        return False
    raw = wrapper.connection
    loader = loader_class()
    # psycopg's C loader gives datetime.UTC for a session zone of "UTC" only.
    if loader is None or raw.pgconn.parameter_status(b"TimeZone") != b"UTC":
        return False
    raw.adapters.register_loader("timestamptz", loader)
    return True


def _on_connection_created(sender, connection, **kwargs):
    install(connection)


connection_created.connect(_on_connection_created, dispatch_uid="stemline.timestamps")
