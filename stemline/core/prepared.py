"""Hot statements planned once per database connection instead of once per request.

On PostgreSQL the planner costs more than running a small statement: the token check of every
API call (three EXISTS guards) planned in about 0.7 ms and ran in 0.05 ms on a busy 2-core
machine. A statement run through `cursor()` is sent with its parameters apart (server-side
binding) and prepared by psycopg on the connection the first time, then only executed, so a
request pays for running it, not for planning it. Elsewhere (SQLite, whose driver keeps its
own statement cache) `cursor()` is Django's plain cursor.

The cursor is still Django's: errors are Django's, and `CaptureQueriesContext` and the debug
toolbar see each statement with its text. psycopg keeps the prepared statements per server
session and forgets them itself when the session ends or rolls back.

Django turns psycopg's preparing off unless OPTIONS sets `prepare_threshold`; settings.py sets
it so high that only these cursors (which ask for it on every statement) prepare, while
Django's own cursors, which bind parameters on the client, never do. Behind a pooler that
hands one client several server sessions (PgBouncer in transaction mode) set
STEMLINE_DB_PREPARE=0: these cursors then plan each time like any other.

Only for statements whose text does not vary per call except in its parameters (each text is
one prepared statement on each connection, at most psycopg's `prepared_max` of them). Time
stamps come back in the connection's zone, as from Django's cursors. On SQLite the same rule
lets the cursor rewrite a text's `%s` into sqlite3's `?` once per process, not per call.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

_cursor_class = None
_sqlite_class = None
_QMARK_TEXTS = 512  # hot statements' texts kept rewritten (the cache empties when full)


def _qmark_cursor_class():
    global _sqlite_class
    if _sqlite_class is None:
        from django.db.backends.sqlite3.base import SQLiteCursorWrapper

        rewritten: dict[str, str] = {}

        class QmarkCursor(SQLiteCursorWrapper):
            """Django's SQLite cursor, with each text's rewrite to `?` kept."""

            def convert_query(self, query, *, param_names=None):
                if param_names is not None:
                    return super().convert_query(query, param_names=param_names)
                done = rewritten.get(query)
                if done is None:
                    if len(rewritten) >= _QMARK_TEXTS:
                        rewritten.clear()
                    done = rewritten[query] = super().convert_query(query)
                return done

        _sqlite_class = QmarkCursor
    return _sqlite_class


def _preparing_cursor_class():
    global _cursor_class
    if _cursor_class is None:
        from functools import lru_cache

        from django.db.backends.postgresql.base import ServerBindingCursor
        from psycopg import _queries

        # psycopg keeps the rewrite of a text's placeholders only for texts of at most 4 KB
        # and 50 parameters (an ORM's texts that vary per call); these texts never vary, and
        # the longest of them (a document and its lines in one statement, a line's move with
        # every column returned) cost most to rewrite: each is rewritten once per process.
        rewrite = lru_cache(maxsize=_QMARK_TEXTS)(_queries._query2pg_nocache)

        class KeptQuery(_queries.PostgresQuery):
            def convert(self, query, vars):
                if vars is None or not isinstance(query, (str, bytes)):
                    return super().convert(query, vars)
                self.query, self._want_formats, self._order, self._parts = rewrite(
                    self._ensure_bytes(query), self._tx.encoding
                )
                self.dump(vars)

        class PreparingCursor(ServerBindingCursor):
            """Parameters bound on the server; every statement prepared (once: psycopg keeps
            the prepared ones by their text), its placeholders rewritten once."""

            _query_cls = KeptQuery

            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

        _cursor_class = PreparingCursor
    return _cursor_class


_IDLE = "_stemline_idle_cursor"  # on the connection's wrapper: a closed-by-us cursor to reuse
_KEEP_ROWS = 1000


class _Kept(CursorWrapper):
    """Closing gives the driver's cursor back to its connection for the next statement (a
    new psycopg cursor, its adapters and its time-zone loader cost more than a small
    statement's run); one still in use is never handed out twice, and one that read a long
    answer is closed, so its rows do not stay in memory."""

    def close(self):
        made, db = self.cursor, self.db
        if made is None:
            return
        self.cursor = None
        if (
            db.connection is made.connection
            and not made.closed
            and made.rowcount <= _KEEP_ROWS
            and _IDLE not in db.__dict__
        ):
            db.__dict__[_IDLE] = made
        else:
            made.close()


class _DebugCursor(_Kept, CursorDebugWrapper):
    """Logs the statement with its parameters filled in, as Django's cursors show theirs
    (Django reads that back from a client-side cursor, which this is not)."""

    def execute(self, sql, params=None):
        shown = self.db.ops.compose_sql(sql, params) if params else sql
        with self.debug_sql(shown, params):
            return CursorWrapper.execute(self, sql, params)


def _same_time_zone(db, raw, made) -> None:
    """Time stamps read in the connection's zone, as Django's own cursors read them (it
    registers a loader on a cursor only when the connection's disagrees)."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    loader = raw.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if db.timezone != loader.timezone:
        register_tzloader(db.timezone, made)


def cursor(alias: str = DEFAULT_DB_ALIAS):
    """A Django cursor whose statements are planned once per connection (PostgreSQL), whose
    texts are rewritten to `?` once per process (SQLite), else Django's own cursor. Use it as
    `with prepared.cursor() as cursor: ...`."""
    db = connections[alias]
    if db.vendor not in ("sqlite", "postgresql"):
        return db.cursor()
    # What db.cursor() does, with another cursor class.
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    if db.vendor == "postgresql" and raw.prepare_threshold is None:  # STEMLINE_DB_PREPARE=0
        return db.cursor()
    with db.wrap_database_errors:
        db.validate_thread_sharing()
        if db.vendor == "sqlite":
            made = raw.cursor(factory=_qmark_cursor_class())
            return CursorDebugWrapper(made, db) if db.queries_logged else CursorWrapper(made, db)
        made = db.__dict__.pop(_IDLE, None)
        if made is None or made.connection is not raw or made.closed:
            made = _preparing_cursor_class()(raw)
            _same_time_zone(db, raw, made)
        return _DebugCursor(made, db) if db.queries_logged else _Kept(made, db)
