"""The caller's token: found from a short-lived per-process snapshot, then confirmed and
charged against its rate limit in the database on every request.

The snapshot is only a hint. Every request runs a statement that matches the token's row only
while its secret, its `version` (bumped on every change of grants or limits), its revocation,
(for a User token) its user's role and activity, and (for a Customer or Vendor token) that its
customer or vendor is still active are what the snapshot says, so a
reset, a revocation or a change of grants takes effect on the very next request in every
process. That statement is the UPDATE that takes requests from the token's shared quota (and
stamps last use), or, while this process holds a lease of already-taken requests, a read.
"""

import math
import threading
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from stemline.core import prepared
from stemline.core.models import User
from stemline.core.ratelimit import Verdict
from stemline.parties.models import Customer, Vendor
from stemline.tokens.models import ApiToken

SNAPSHOT_SECONDS = 10
MAX_SNAPSHOTS = 10_000
_snapshots: dict[str, tuple[float, ApiToken]] = {}


def load(key_hash: str) -> ApiToken | None:
    """The token as the database has it now (and a fresh snapshot of it)."""
    token = (
        ApiToken.objects.select_related("company", "user")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        # A deactivated customer or vendor closes its token, as if revoked (it comes back
        # when the party is active again).
        .exclude(customer__active=False)
        .exclude(vendor__active=False)
        .first()
    )
    if token is None:
        _snapshots.pop(key_hash, None)
        return None
    if len(_snapshots) >= MAX_SNAPSHOTS:
        _snapshots.clear()
    _snapshots[key_hash] = (time.monotonic() + SNAPSHOT_SECONDS, token)
    return token


def snapshot(key_hash: str) -> tuple[ApiToken | None, bool]:
    """(token, fresh): a recent snapshot when there is one, else the row itself."""
    hit = _snapshots.get(key_hash)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1], False
    return load(key_hash), True


def forget_all() -> None:
    _snapshots.clear()
    with _lease_lock:
        _leases.clear()


def _guard(table: str, users: str) -> str:
    """The row still is what the snapshot says (params: id, key_hash, version, True, role,
    True, True)."""
    customers, vendors = _party_names()
    return (
        f"id = %s AND key_hash = %s AND revoked_at IS NULL AND version = %s "
        f"AND (user_id IS NULL OR EXISTS (SELECT 1 FROM {users} u "
        f"WHERE u.id = {table}.user_id AND u.is_active = %s AND u.role = %s)) "
        f"AND (customer_id IS NULL OR EXISTS (SELECT 1 FROM {customers} c "
        f"WHERE c.id = {table}.customer_id AND c.active = %s)) "
        f"AND (vendor_id IS NULL OR EXISTS (SELECT 1 FROM {vendors} v "
        f"WHERE v.id = {table}.vendor_id AND v.active = %s)) "
    )


def _names() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(ApiToken._meta.db_table), quote(User._meta.db_table)


def _party_names() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(Customer._meta.db_table), quote(Vendor._meta.db_table)


@cache
def _lease_sql(vendor: str) -> str:
    sqlite = vendor == "sqlite"
    greatest = "MAX" if sqlite else "GREATEST"
    table, users = _names()
    # On PostgreSQL the statement commits without waiting for its WAL flush: a busy token
    # writes this one row often, and a flush each time would queue its requests behind the
    # disk. A crash can lose the last few rate-limit steps and last-used stamps, nothing else.
    async_commit = "" if sqlite else "AND set_config('synchronous_commit', 'off', true) = 'off' "
    return (
        f"UPDATE {table} SET rate_tat = {greatest}(rate_tat, %s) + %s, last_used_at = %s "
        f"WHERE {_guard(table, users)}"
        f"AND {greatest}(rate_tat, %s) + %s - %s <= %s "
        f"{async_commit}RETURNING rate_tat"
    )


@cache
def _check_sql(vendor: str) -> str:
    table, users = _names()
    return f"SELECT 1 FROM {table} WHERE {_guard(table, users)}"


@dataclass
class Lease:
    """Requests this process has already taken from a token's shared quota."""

    slots: int
    version: int
    expires: float


# A busy token takes several requests of its quota in one write (at most 50 ms of its rate, a
# tenth of its burst, 50 requests) and spends them from here, each request still confirmed by
# a read; at the default 10 requests/s a lease is one request, so one write each. Leased slots
# are already spent from the shared quota, so all processes together never exceed it; a lease
# unused for a second lapses.
LEASE_MAX = 50
LEASE_SECONDS = 1.0
_leases: dict[str, Lease] = {}  # by the secret's hash: a reset or a new token starts afresh
# Guards this process's own leases between its threads; the quota itself lives in the database.
_lease_lock = threading.Lock()


def lease_size(rate: float, burst: int) -> int:
    return max(1, min(LEASE_MAX, int(rate * 0.05), burst // 10))


def _take_leased(token: ApiToken) -> int | None:
    """One request from this process's lease, if it holds one: the slots left after it."""
    with _lease_lock:
        lease = _leases.get(token.key_hash)
        if (
            lease is None
            or lease.slots <= 0
            or lease.version != token.version
            or lease.expires <= time.monotonic()
        ):
            return None
        lease.slots -= 1
        return lease.slots


def _guard_params(token: ApiToken, user) -> list:
    return [token.pk, token.key_hash, token.version, True, user.role if user else "", True, True]


def spend(token: ApiToken) -> Verdict | None:
    """One request of the token's quota (generic cell rate algorithm on the row's TAT).

    None when the row no longer matches the snapshot (reset, revoked, changed): reload it.
    """
    rate = token.rate_per_second or settings.API_RATE_PER_SECOND
    burst = token.rate_burst or settings.API_RATE_BURST
    interval = 1.0 / rate
    window = burst * interval
    user = token.user if token.user_id else None
    guard = _guard_params(token, user)

    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` looks the connection up
    slot = _take_leased(token)
    if slot is not None:
        with prepared.cursor() as cursor:
            cursor.execute(_check_sql(db.vendor), guard)
            confirmed = cursor.fetchone() is not None
        if confirmed:
            return Verdict(True, burst, slot, 1)
        with _lease_lock:
            _leases.pop(token.key_hash, None)
        return None

    now = time.time()
    stamp = db.ops.adapt_datetimefield_value(timezone.now())
    size = lease_size(rate, burst)
    for take in dict.fromkeys((size, 1)):
        with prepared.cursor() as cursor:
            cursor.execute(
                _lease_sql(db.vendor),
                [now, take * interval, stamp, *guard, now, take * interval, now, window + 1e-9],
            )
            row = cursor.fetchone()
        if row is not None:
            if take > 1:
                with _lease_lock:
                    _leases[token.key_hash] = Lease(
                        take - 1, token.version, time.monotonic() + LEASE_SECONDS
                    )
            new_tat = row[0]
            remaining = int((window - (new_tat - now)) / interval + 1e-9)
            return Verdict(True, burst, max(0, remaining), max(0, math.ceil(new_tat - now)))
    fresh = load(token.key_hash)
    if (
        fresh is None
        or fresh.version != token.version
        or (user is not None and (not fresh.user.is_active or fresh.user.role != user.role))
    ):
        return None
    wait = max(1, math.ceil(max(fresh.rate_tat, now) + interval - now - window))
    return Verdict(False, burst, 0, wait, wait)
