"""Database outages: answered 503 with Retry-After (the API's envelope, or a plain page on the
web) and logged once per outage per process instead of a traceback per request."""

import html
import json
import logging
import sys
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.backends.signals import connection_created
from django.http import HttpResponse

log = logging.getLogger("stemline.outage")

# OperationalError: the server is down, refuses connections, restarts, or a statement was cut off
# (PostgreSQL shutting down, SQLite's lock wait running out). InterfaceError: the connection is
# already closed. Both pass when the database is back, so they are "try again", not bugs.
OUTAGE_ERRORS = (OperationalError, InterfaceError)

# While an outage lasts, a reminder is logged this often (with the number of requests refused)
# so a long outage stays visible in the log without a line per request.
REMIND_EVERY = 300.0

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Temporarily unavailable · Stemline</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
<header class="top"><span class="brand">Stemline</span></header>
<main>
  <h1>Temporarily unavailable</h1>
  <p>Stemline cannot reach its database just now. Nothing you sent has been lost or half-done:
  please try again in a minute.</p>
</main>
</body>
</html>
"""


class _State:
    """This process's view of the database: healthy, or down since when (log bookkeeping only;
    every process decides for itself, nothing is shared)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.refused = 0
        self.reminded_at = 0.0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            self.refused += 1
            if self.down_since is None:
                self.down_since = self.reminded_at = now
                first, refused = True, 0
            elif now - self.reminded_at >= REMIND_EVERY:
                self.reminded_at = now
                first, refused = False, self.refused
            else:
                return
        reason = _reason(exc)
        if first:
            log.error("database unavailable, answering 503 until it is back: %s", reason)
        else:
            log.error(
                "database still unavailable after %.0f s (%d requests refused): %s",
                now - (self.down_since or now),
                refused,
                reason,
            )

    def connected(self) -> None:
        if self.down_since is None:  # the common case, without taking the lock
            return
        with self.lock:
            if self.down_since is None:
                return
            lasted, refused = time.monotonic() - self.down_since, self.refused
            self.down_since, self.refused = None, 0
        log.warning("database reachable again after %.0f s (%d requests refused)", lasted, refused)


state = _State()


def _reason(exc: BaseException) -> str:
    # The driver's first line says what happened ("connection refused", "terminating connection
    # due to administrator command"); the rest repeats it with hints.
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _on_connection_created(sender, connection, **kwargs):
    # A new connection succeeded: whatever outage this process saw is over.
    state.connected()


connection_created.connect(_on_connection_created, dispatch_uid="stemline.outage")


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def retry_after() -> int:
    return int(getattr(settings, "OUTAGE_RETRY_AFTER", 10))


def _finish(response: HttpResponse, exc: BaseException) -> HttpResponse:
    state.failed(exc)
    response["Retry-After"] = str(retry_after())
    response["Cache-Control"] = "no-store"
    # Django logs every 5xx response ("Service Unavailable: /path"); this one is logged above,
    # once per outage.
    response._has_been_logged = True
    return response


def api_response(exc: BaseException) -> HttpResponse:
    """The API's answer during an outage: the error envelope, 503, Retry-After."""
    seconds = retry_after()
    body = {
        "status": 0,
        "message": f"the service is temporarily unavailable; retry in {seconds} seconds",
        "errors": [],
    }
    response = HttpResponse(json.dumps(body), status=503, content_type="application/json")
    return _finish(response, exc)


def page_response(exc: BaseException) -> HttpResponse:
    """The web application's answer during an outage: a plain page that needs no database (no
    session, no user, no template context processors)."""
    css = html.escape(f"{settings.STATIC_URL}web/app.css")
    try:
        from django.templatetags.static import static

        css = html.escape(static("web/app.css"))
    except Exception:  # noqa: BLE001 - a missing static manifest must not hide the real answer
        pass
    response = HttpResponse(PAGE.format(css=css), status=503, content_type="text/html")
    return _finish(response, exc)


def response_for(request, exc: BaseException) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_response(exc)
    return page_response(exc)


def server_error(request, *args, **kwargs):
    """handler500: an outage raised outside a view (a session saved by its middleware) is still
    a 503; anything else is Django's plain 500 page."""
    exc = sys.exc_info()[1]
    if is_outage(exc):
        return response_for(request, exc)
    from django.views.defaults import server_error as default

    return default(request, *args, **kwargs)
