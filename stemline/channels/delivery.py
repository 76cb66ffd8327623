"""Delivering the outbox: one worker per endpoint at a time (a lease), events in sequence order,
signed with Standard Webhooks, retried with backoff for more than a day, every attempt logged.

Delivery is at least once: a worker killed after the endpoint answered but before it wrote that
down sends the event again; receivers drop a `webhook-id` they have seen (the simulator does)."""

import base64
import errno
import hashlib
import hmac
import http.client
import io
import json
import logging
import re
import ssl
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from stemline.core import netguard
from stemline.tokens import crypto

from .models import BATCH, SNAPSHOT, Attempt, Channel, Endpoint, Event
from .outbox import number

log = logging.getLogger("stemline.webhooks")

TIMEOUT_SECONDS = 10
# Komet-style receivers may be down for a night; give them more than a day.
RETRY_FOR = timedelta(hours=26)
MAX_BACKOFF_SECONDS = 30 * 60
BATCH_READ = 200  # events read at a time
SECRET_UNREADABLE = "the signing secret cannot be read (STEMLINE_TOKEN_KEY changed)"


def lease_length() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to 30 minutes between tries: about 60 tries in the retry window."""
    return timedelta(seconds=min(2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS))


def new_secret() -> str:
    import secrets

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(endpoint: Endpoint) -> str | None:
    return crypto.decrypt(endpoint.secret_encrypted)


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    # A send failed in this run: when to try again (the caller queues that retry).
    retry_at: datetime | None = None
    # The first event is waiting for a retry an earlier run queued.
    waiting_until: datetime | None = None


def claim(endpoint_id: int, holder: str) -> bool:
    now = timezone.now()
    return bool(
        Endpoint.objects.filter(pk=endpoint_id, active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_holder=holder))
        .update(lease_holder=holder, lease_until=now + lease_length())
    )


def release(endpoint_id: int, holder: str) -> None:
    Endpoint.objects.filter(pk=endpoint_id, lease_holder=holder).update(
        lease_holder="", lease_until=None
    )


def due_exists(endpoint_id: int, now: datetime | None = None) -> bool:
    """Whether the endpoint's stream has an event due (snapshots are sent beside it)."""
    return (
        Event.objects.filter(
            endpoint_id=endpoint_id,
            status=Event.Status.PENDING,
            next_attempt_at__lte=now or timezone.now(),
        )
        .exclude(kind=SNAPSHOT)
        .exists()
    )


def drain(endpoint_id: int, *, holder: str | None = None) -> Outcome:
    """Send the endpoint's due events in order until none is left or one fails. Safe to call
    from any number of workers at once: one delivers, the others return at once."""
    holder = holder or uuid.uuid4().hex
    # From here on a new event queues a new task: this one may have read past it already.
    Endpoint.objects.filter(pk=endpoint_id).update(kicked=False)
    outcome = Outcome()
    while True:
        if not claim(endpoint_id, holder):
            # Another worker holds the endpoint; it looks again after letting go, so nothing
            # waits for the next event.
            return outcome
        try:
            _send_due(endpoint_id, holder, outcome)
        finally:
            release(endpoint_id, holder)
        stopped = outcome.retry_at is not None or outcome.waiting_until is not None
        if stopped or not due_exists(endpoint_id):
            return outcome


def send_snapshot(endpoint_id: int) -> Outcome:
    """Send the endpoint's newest due snapshot, beside its stream of deltas (which go on being
    sent meanwhile, by `drain`). Older snapshots still waiting are superseded by it. The event
    is claimed for a lease (its next attempt moved past it), so of several workers one sends
    it; a worker killed while sending leaves it due again when the lease runs out."""
    outcome = Outcome()
    now = timezone.now()
    waiting = Event.objects.filter(
        endpoint_id=endpoint_id, kind=SNAPSHOT, status=Event.Status.PENDING
    )
    newest = waiting.order_by("-id").values_list("pk", "next_attempt_at").first()
    if newest is None:
        return outcome
    event_id, due = newest
    if due > now:
        outcome.waiting_until = due
        return outcome
    waiting.filter(pk__lt=event_id).update(
        status=Event.Status.FAILED, last_error="superseded by a newer snapshot"
    )
    claimed = Event.objects.filter(
        pk=event_id, status=Event.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease_length())
    endpoint = Endpoint.objects.filter(pk=endpoint_id, active=True).first()
    if not claimed or endpoint is None:
        return outcome
    event = Event.objects.get(pk=event_id)
    with Poster(endpoint.url) as poster:
        status, error, duration = send(poster, secret_of(endpoint), event)
    now = timezone.now()
    if status is not None and 200 <= status < 300:
        Attempt.objects.create(
            company_id=event.company_id, event=event, status_code=status, duration_ms=duration
        )
        Event.objects.filter(pk=event.pk).update(
            status=Event.Status.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            last_status_code=status,
            last_error="",
        )
        succeeded(endpoint_id, now)
        outcome.sent = 1
        return outcome
    record_failure(endpoint, event, status, error, duration)
    outcome.failed = 1
    if now - event.created_at > RETRY_FOR:
        Event.objects.filter(pk=event.pk).update(status=Event.Status.FAILED)
        return outcome
    outcome.retry_at = now + backoff(event.attempts + 1)
    Event.objects.filter(pk=event.pk).update(next_attempt_at=outcome.retry_at)
    return outcome


class Delivered:
    """Events sent and answered 2xx, written down together: one UPDATE and one INSERT for a run
    of them instead of three statements each (until written, a killed worker sends them again,
    which receivers take as duplicates)."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.events: list[tuple[Event, int, int]] = []  # event, status, duration

    def add(self, event: Event, status: int, duration_ms: int) -> None:
        self.events.append((event, status, duration_ms))
        if len(self.events) >= 50:
            self.flush()

    def flush(self) -> None:
        if not self.events:
            return
        now = timezone.now()
        Attempt.objects.bulk_create(
            [
                Attempt(company_id=e.company_id, event=e, status_code=code, duration_ms=ms)
                for e, code, ms in self.events
            ]
        )
        Event.objects.filter(pk__in=[e.pk for e, _, _ in self.events]).update(
            status=Event.Status.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            last_status_code=self.events[-1][1],
            last_error="",
        )
        succeeded(self.endpoint.pk, now)
        self.events = []


# How stale "last delivered" may be: the endpoint's row is written on success only when it was
# failing or this long has passed, not at every delivery (a row every change would rewrite).
SUCCESS_STAMP_SECONDS = 5


def succeeded(endpoint_id: int, now: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint_id).filter(
        Q(failures__gt=0)
        | ~Q(last_error="")
        | Q(last_success_at__isnull=True)
        | Q(last_success_at__lt=now - timedelta(seconds=SUCCESS_STAMP_SECONDS))
    ).update(last_success_at=now, failures=0, last_error="")


DELTA = "inventory.changed"


def deltas_per_message(endpoint_id: int) -> int:
    """How many deltas one message may carry: the channel's setting; 1 for a token's endpoint
    (its receivers take Komet's one event per message)."""
    found = Channel.objects.filter(endpoint_id=endpoint_id).values_list(
        "deltas_per_message", flat=True
    )
    return found.first() or 1


def _group(events: list[Event], start: int, size: int, now: datetime) -> list[Event]:
    """The events sent in one message from `start`: the head alone, or with the due deltas
    right behind it, up to `size` (a batch is only of deltas, in their order)."""
    head = events[start]
    group = [head]
    if size > 1 and head.kind == DELTA:
        for event in events[start + 1 : start + size]:
            if event.kind != DELTA or event.next_attempt_at > now:
                break
            group.append(event)
    return group


def _send_due(endpoint_id: int, holder: str, outcome: Outcome) -> None:
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    secret = secret_of(endpoint)
    per_message = deltas_per_message(endpoint_id)
    renewed = time.monotonic()
    delivered = Delivered(endpoint)
    with Poster(endpoint.url) as poster:
        try:
            while True:
                number(endpoint_id)
                events = list(
                    Event.objects.filter(
                        endpoint_id=endpoint_id, status=Event.Status.PENDING, seq__isnull=False
                    ).order_by("seq")[:BATCH_READ]
                )
                if not events:
                    return
                start = 0
                while start < len(events):
                    event = events[start]
                    now = timezone.now()
                    if event.next_attempt_at > now:
                        # Head of line waits, so each line's events arrive in order.
                        outcome.waiting_until = event.next_attempt_at
                        return
                    if time.monotonic() - renewed > lease_length().total_seconds() / 3:
                        delivered.flush()
                        if not claim(endpoint_id, holder):
                            return  # the lease was lost (this worker stalled): the holder goes on
                        renewed = time.monotonic()
                    group = _group(events, start, per_message, now)
                    start += len(group)
                    status, error, duration = send(poster, secret, *group)
                    if status is not None and 200 <= status < 300:
                        for sent in group:
                            delivered.add(sent, status, duration)
                        outcome.sent += len(group)
                        continue
                    delivered.flush()
                    record_failures(endpoint, group, status, error, duration)
                    outcome.failed += len(group)
                    # Given up (tried for the whole retry window): the ones behind go on.
                    expired = [e.pk for e in group if now - e.created_at > RETRY_FOR]
                    if expired:
                        Event.objects.filter(pk__in=expired).update(status=Event.Status.FAILED)
                    waiting = [e.pk for e in group if e.pk not in expired]
                    if not waiting:
                        continue
                    retry_at = now + backoff(event.attempts + 1)
                    Event.objects.filter(pk__in=waiting).update(next_attempt_at=retry_at)
                    outcome.retry_at = retry_at
                    return
                delivered.flush()
        finally:
            delivered.flush()


def batch_body(events: list[Event]) -> str:
    """Several deltas in one message (docs/channels.md, "Several deltas in one message"): each
    exactly as it would come alone, in their order."""
    deltas = [{"type": e.kind, "seq": e.seq, **(e.payload or {})} for e in events]
    payload = {
        "type": BATCH,
        "channelId": deltas[0].get("channelId"),
        "first": events[0].seq,
        "seq": events[-1].seq,
        "events": deltas,
    }
    return json.dumps(payload, separators=(",", ":"), cls=DjangoJSONEncoder)


def batch_id(events: list[Event]) -> str:
    """The same deltas sent again (a retry) carry the same webhook-id: a run of numbered
    events is named by its first and how many."""
    return f"batch_{events[0].msg_id}_{len(events)}"


def snapshot_pieces(event: Event) -> Iterator[bytes]:
    """A snapshot's message in the pieces it is read in (outbox.snapshot_chunks)."""
    from .outbox import snapshot_chunks, snapshot_position

    channel = Channel.objects.select_related("customer", "company").get(
        endpoint_id=event.endpoint_id
    )
    # Its number and the last delta it reflects are taken before its lines are read.
    snapshot, seq = snapshot_position(event.endpoint_id)
    return snapshot_chunks(channel, seq, snapshot)


# A snapshot's body beyond this is written to a temporary file while it is read and signed,
# then sent from there: a worker's memory does not grow with the lines (a 100,000-line
# snapshot is about 50 MB of JSON).
SPOOL_BYTES = 4 * 1024 * 1024


def spooled_snapshot(secret: str, event: Event) -> tuple[tempfile.SpooledTemporaryFile, dict]:
    """The snapshot read, signed and spooled a piece at a time: (its body, rewound; its signed
    headers with Content-Length)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:

        def written(pieces):
            for piece in pieces:
                spool.write(piece)
                yield piece

        now = timezone.now()
        signature = sign_pieces(secret, event.msg_id, now, written(snapshot_pieces(event)))
        length = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    headers = _headers(event.msg_id, now, signature)
    headers["Content-Length"] = str(length)
    return spool, headers


def body_of(event: Event) -> str:
    if event.kind == SNAPSHOT:
        return b"".join(snapshot_pieces(event)).decode()
    else:
        # The type and the endpoint's number lead the body (given when it was numbered).
        payload = {"type": event.kind, "seq": event.seq, **(event.payload or {})}
    return json.dumps(payload, separators=(",", ":"), cls=DjangoJSONEncoder)


class ResponseTooLarge(http.client.HTTPException):
    """The endpoint's answer (its headers) ran past what Stemline reads of one."""


# What is read of an answer at most: its headers, and this much of its body. A receiver says
# what it must in its status; whatever else a foreign service sends is neither read nor kept.
MAX_RESPONSE_BYTES = 16 * 1024
MAX_BODY_BYTES = 4 * 1024


class _Reader(io.RawIOBase):
    """The socket as http.client reads it, under the attempt's total deadline and byte budget:
    each read waits only for what is left of the deadline, so an answer dripping one byte a
    second ends at the deadline like one that never comes."""

    def __init__(self, sock: "_Socket", poster: "Poster"):
        self.sock, self.poster = sock, poster

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self.sock.release()
        super().close()

    def readinto(self, buffer) -> int:
        poster = self.poster
        if poster.budget <= 0:
            raise ResponseTooLarge(f"the answer is longer than {MAX_RESPONSE_BYTES} bytes")
        view = memoryview(buffer)[: min(len(buffer), poster.budget)]
        count = self.sock.recv_into(view)
        poster.budget -= count
        return count


class _Socket:
    """The connected socket, with sends under the deadline and reads through `_Reader`.

    Closed as `socket.socket` is: only once the connection and every reader made from it are
    closed. http.client relies on that: on an answer that ends the connection (HTTP/1.0, or
    `Connection: close`) `getresponse` closes the connection before the body is read, and the
    answer reads its body to the end from its own reader (a socket closed at once made every
    such read fail with EBADF)."""

    def __init__(self, sock, poster: "Poster"):
        self.sock, self.poster = sock, poster
        self.readers = 0
        self.closed = False

    def sendall(self, data) -> None:
        # Since Python 3.5 the timeout bounds the whole sendall, not each piece.
        self.sock.settimeout(self.poster.deadline.left())
        self.sock.sendall(data)

    def recv_into(self, view) -> int:
        self.sock.settimeout(self.poster.deadline.left())
        return self.sock.recv_into(view)

    def makefile(self, mode, *args, **kwargs):
        self.readers += 1
        return io.BufferedReader(_Reader(self, self.poster), buffer_size=4096)

    def release(self) -> None:
        """A reader is closed."""
        self.readers -= 1
        if self.closed and self.readers <= 0:
            self.sock.close()

    def close(self) -> None:
        self.closed = True
        if self.readers <= 0:
            self.sock.close()


class _Connection(http.client.HTTPConnection):
    """http.client's request and answer parsing over a socket from `netguard.connect`: the
    address is checked again at every connection and connected to as checked."""

    def __init__(self, target: netguard.Target, poster: "Poster"):
        super().__init__(target.host, target.port)
        self.target, self.poster = target, poster
        if target.https:
            self.default_port = 443  # the Host header leaves the default port out

    def connect(self) -> None:
        sock = netguard.connect(self.target, self.poster.deadline)
        self.sock = _Socket(sock, self.poster)


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS))


class Poster:
    """POSTs to one endpoint over one kept-alive connection (a new one after any error). Each
    post has one total deadline (connect, send and answer together) and reads a bounded
    answer; the address is checked when each connection is made."""

    def __init__(self, url: str):
        self.url = url
        self.target: netguard.Target | None = None
        self.conn: _Connection | None = None
        self.deadline = netguard.Deadline(0)
        self.budget = 0

    def __enter__(self) -> "Poster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def post(self, body, headers: dict) -> int:
        """POST `body` (bytes, or a file read from its start under the Content-Length of
        `headers`: a spooled snapshot); the answer's status."""
        self.deadline = netguard.Deadline(timeout_seconds())
        if self.target is None:
            # Parsed (and refused) at the first post: a URL saved before the rules were
            # stricter, or one whose allowance was withdrawn, fails here as delivery failures.
            self.target = netguard.parse(self.url)
        reused = self.conn is not None
        try:
            return self._post(body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The receiver closed the kept-alive connection between two events: one more try
            # on a new connection, within the same deadline.
            return self._post(body, headers)

    def _post(self, body, headers: dict) -> int:
        if hasattr(body, "seek"):
            body.seek(0)  # from its start again on a second try
        if self.conn is None:
            self.conn = _Connection(self.target, self)
        self.budget = MAX_RESPONSE_BYTES
        response = None
        try:
            self.conn.request("POST", self.target.path, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read(MAX_BODY_BYTES)
            if response.will_close or not response.isclosed():
                # Closing instead of reading the rest of a long answer.
                self.close()
            return response.status
        except BaseException:
            self.close()
            raise
        finally:
            if response is not None:
                # Its reader holds the socket open after the connection let go of it (an answer
                # that ends the connection): closed now, not at garbage collection.
                response.close()


CATEGORIES = frozenset(
    (
        "address not allowed",
        "invalid address",
        "name not found",
        "timeout",
        "refused",
        "answer too large",
        "closed without answering",
        "connection reset",
        "TLS certificate not valid",
        "TLS error",
        "invalid HTTP answer",
        "unreachable",
        "connection failed",
        "could not build the message",
        SECRET_UNREADABLE,
    )
)


def shown_error(error: str) -> str:
    """The error as a tenant may see it: a category or "HTTP 503" as written since categories
    were introduced; anything else (raw socket text logged by an older version) as a category."""
    if not error or error in CATEGORIES or re.fullmatch(r"HTTP \d{3}", error):
        return error
    return "connection failed"


def failure_category(exc: BaseException) -> str:
    """What a tenant is shown of a failed connection: a short category, never the socket's
    error text or what a foreign service answered (the server log has the details)."""
    if isinstance(exc, netguard.Refused):
        return exc.category
    if isinstance(exc, netguard.NameNotFound):
        return "name not found"
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ResponseTooLarge):
        return "answer too large"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed without answering"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "connection reset"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not valid"
    if isinstance(exc, ssl.SSLError):
        return "TLS error"
    if isinstance(exc, http.client.HTTPException):
        return "invalid HTTP answer"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    return "connection failed"


def signed_headers(secret: str, msg_id: str, body: str) -> dict:
    now = timezone.now()
    return _headers(msg_id, now, Webhook(secret).sign(msg_id, now, body))


def _headers(msg_id: str, now: datetime, signature: str) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Stemline-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def sign_pieces(secret: str, msg_id: str, timestamp: datetime, pieces: Iterable[bytes]) -> str:
    """Standard Webhooks' `v1` signature (what `Webhook(secret).sign` gives) of a body held in
    pieces: the library takes the body as one string and copies it twice more to sign it, which
    for a 100,000-line snapshot is a few hundred megabytes. The same HMAC over the same bytes,
    fed a piece at a time; a test holds the two equal and the simulator verifies it with the
    library."""
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    mac = hmac.new(key, f"{msg_id}.{int(timestamp.timestamp())}.".encode(), hashlib.sha256)
    for piece in pieces:
        mac.update(piece)
    return "v1," + base64.b64encode(mac.digest()).decode()


def send(poster: Poster, secret: str | None, *events: Event) -> tuple[int | None, str, int]:
    """Build, sign and POST one event, or several deltas as one message: (HTTP status or None,
    error text, milliseconds)."""
    started = time.monotonic()
    status, error = None, ""
    event = events[0]
    msg_id = event.msg_id if len(events) == 1 else batch_id(list(events))
    if secret is None:
        error = SECRET_UNREADABLE
        return status, error, int((time.monotonic() - started) * 1000)
    try:
        if event.kind == SNAPSHOT:
            data, headers = spooled_snapshot(secret, event)
        else:
            body = body_of(event) if len(events) == 1 else batch_body(list(events))
            data, headers = body.encode(), signed_headers(secret, msg_id, body)
    except Exception:  # a snapshot that cannot be built is logged, not fatal
        log.exception("could not build %s", msg_id)
        error = "could not build the message"
        return status, error, int((time.monotonic() - started) * 1000)
    try:
        status = poster.post(data, headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = failure_category(exc)
        log.warning("delivery of %s failed (%s): %r", msg_id, error, exc)
    finally:
        if hasattr(data, "close"):
            data.close()  # a spooled snapshot's file
    return status, error, int((time.monotonic() - started) * 1000)


def record_failure(endpoint, event, status, error, duration_ms, *, replay=False) -> None:
    record_failures(endpoint, [event], status, error, duration_ms, replay=replay)


def record_failures(endpoint, events, status, error, duration_ms, *, replay=False) -> None:
    """A failed message: an attempt for each event it carried."""
    Attempt.objects.bulk_create(
        [
            Attempt(
                company_id=event.company_id,
                event=event,
                status_code=status,
                error=error,
                duration_ms=duration_ms,
                replay=replay,
            )
            for event in events
        ]
    )
    Event.objects.filter(pk__in=[event.pk for event in events]).update(
        attempts=F("attempts") + 1, last_status_code=status, last_error=error
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(
        last_failure_at=timezone.now(),
        last_error=error or f"HTTP {status}",
        failures=F("failures") + 1,
    )


def attempt(endpoint: Endpoint, secret: str | None, event: Event, *, replay=False) -> bool:
    """Send one event now, on its own (a person's replay), and write down how it went."""
    if event.seq is None and event.kind != SNAPSHOT:
        number(endpoint.pk)  # its place in the endpoint's order first
        event.refresh_from_db(fields=["seq"])
    with Poster(endpoint.url) as poster:
        status, error, duration = send(poster, secret, event)
    if status is not None and 200 <= status < 300:
        now = timezone.now()
        Attempt.objects.create(
            company_id=event.company_id,
            event=event,
            status_code=status,
            duration_ms=duration,
            replay=replay,
        )
        Event.objects.filter(pk=event.pk).update(
            status=Event.Status.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            last_status_code=status,
            last_error="",
        )
        succeeded(endpoint.pk, now)
        return True
    record_failure(endpoint, event, status, error, duration, replay=replay)
    return False
