"""A rate limiter whose state is one database row, shared by every server process.

Generic cell rate algorithm: the row holds the theoretical arrival time (TAT) of the next
request; a compare-and-set UPDATE moves it, so two processes never both spend the last slot.
"""

import math
import time
from dataclasses import dataclass

from django.db.models import F, QuerySet


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


def take(
    row: QuerySet, tat: float, *, rate: float, burst: int, field: str = "rate_tat", **also
) -> Verdict | None:
    """Spend one request of `row` (a queryset of exactly one row whose `field` holds the TAT,
    last read as `tat`). `also` are extra columns to write when the request is allowed.

    None when the row is gone (pruned meanwhile): the caller makes it again."""
    interval = 1.0 / rate
    window = burst * interval
    for _ in range(20):
        now = time.time()
        new_tat = max(tat, now) + interval
        if new_tat - now > window + 1e-9:
            wait = max(1, math.ceil(new_tat - now - window))
            return Verdict(False, burst, 0, wait, wait)
        if row.filter(**{field: tat}).update(**{field: new_tat}, **also):
            remaining = int((window - (new_tat - now)) / interval + 1e-9)
            return Verdict(True, burst, max(0, remaining), max(0, math.ceil(new_tat - now)))
        current = row.values_list(field, flat=True).first()
        if current is None:
            return None
        tat = current
    return Verdict(False, burst, 0, 1, 1)


def give_back(row: QuerySet, *, rate: float, field: str = "rate_tat") -> None:
    """Return one request taken from `row` (it turned out not to count): an atomic step back
    of the TAT, whatever other processes did meanwhile."""
    row.update(**{field: F(field) - 1.0 / rate})
