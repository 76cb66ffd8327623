"""The caller's token: found from a short-lived per-process snapshot, and confirmed, rate
limited and stamped as used by one guarded UPDATE per request.

The snapshot is only a hint. The UPDATE matches the token's row only while its secret, its
`version` (bumped on every change of grants or limits), its revocation and (for a User token)
its user's role and activity are still what the snapshot says, so a reset, a revocation or a
change of grants takes effect on the very next request in every process. A miss reloads the row.
"""

import math
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from stemline.core.models import User
from stemline.core.ratelimit import Verdict
from stemline.tokens.models import ApiToken

SNAPSHOT_SECONDS = 10
MAX_SNAPSHOTS = 10_000
_snapshots: dict[str, tuple[float, ApiToken]] = {}


def load(key_hash: str) -> ApiToken | None:
    """The token as the database has it now (and a fresh snapshot of it)."""
    token = (
        ApiToken.objects.select_related("company", "user")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
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


def _spend_sql() -> str:
    sqlite = connection.vendor == "sqlite"
    greatest = "MAX" if sqlite else "GREATEST"
    table = connection.ops.quote_name(ApiToken._meta.db_table)
    users = connection.ops.quote_name(User._meta.db_table)
    # On PostgreSQL the statement commits without waiting for its WAL flush: every request of a
    # token writes this one row, and a flush per request would queue them all behind the disk.
    # A crash can lose the last few rate-limit steps and last-used stamps, nothing else.
    async_commit = "" if sqlite else "AND set_config('synchronous_commit', 'off', true) = 'off' "
    return (
        f"UPDATE {table} SET rate_tat = {greatest}(rate_tat, %s) + %s, last_used_at = %s "
        f"WHERE id = %s AND key_hash = %s AND revoked_at IS NULL AND version = %s "
        f"AND {greatest}(rate_tat, %s) + %s - %s <= %s "
        f"AND (user_id IS NULL OR EXISTS (SELECT 1 FROM {users} u "
        f"WHERE u.id = {table}.user_id AND u.is_active = %s AND u.role = %s)) "
        f"{async_commit}RETURNING rate_tat"
    )


def spend(token: ApiToken) -> Verdict | None:
    """One request of the token's quota (generic cell rate algorithm on the row's TAT).

    None when the row no longer matches the snapshot (reset, revoked, changed): reload it.
    """
    rate = token.rate_per_second or settings.API_RATE_PER_SECOND
    burst = token.rate_burst or settings.API_RATE_BURST
    interval = 1.0 / rate
    window = burst * interval
    now = time.time()
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    user = token.user if token.user_id else None
    params = [
        now,
        interval,
        stamp,
        token.pk,
        token.key_hash,
        token.version,
        now,
        interval,
        now,
        window + 1e-9,
        True,
        user.role if user else "",
    ]
    with connection.cursor() as cursor:
        cursor.execute(_spend_sql(), params)
        row = cursor.fetchone()
    if row is not None:
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
