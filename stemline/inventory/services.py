"""Every write to inventory. Quantities move only here, with the rows locked in primary-key
order and guarded updates, so two buyers can never take the same box."""

import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company

from . import feeds
from .models import Box, ChangeCounter, Confirmation, InventoryChange, InventoryLine

MAX_BOXES_PER_CALL = 100


class NotEnoughStock(Conflict):
    """Some lines do not have the boxes asked for; nothing of the request was written."""

    def __init__(self, shortages: list[dict]):
        first = shortages[0]
        message = (
            f"inventory line {first['inventoryId']} has {first['available']} boxes available, "
            f"{first['requested']} asked"
        )
        if len(shortages) > 1:
            message += f" (and {len(shortages) - 1} more lines short)"
        super().__init__(message, field="inventoryIds", shortages=shortages)


def today() -> date:
    return timezone.localdate()


def next_seq(company_id: int, feed: str) -> int:
    """The company's next number in a feed. The UPDATE locks the counter's row until the
    transaction ends, so numbers follow commit order and readers never skip one; one statement
    (RETURNING: PostgreSQL, SQLite 3.35+), as the company's writers queue on this row."""
    table = connection.ops.quote_name(ChangeCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = value + 1 WHERE company_id = %s AND feed = %s "
            "RETURNING value",
            [company_id, feed],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    # The feed's first number: make its counter (a racing maker's row wins), then count.
    try:
        with transaction.atomic():
            ChangeCounter.objects.create(company_id=company_id, feed=feed, value=0)
    except IntegrityError:
        pass
    return next_seq(company_id, feed)


# What higher layers do in the same transaction as an inventory change (the channels' outbox
# registers here in its AppConfig.ready(), so inventory imports none of them).
CHANGE_HOOKS: list = []
CONFIRMATION_HOOKS: list = []


def on_change(hook) -> None:
    """hook(line, kind): called for every change of a line, inside its transaction."""
    if hook not in CHANGE_HOOKS:
        CHANGE_HOOKS.append(hook)


# Rows a higher app adds to the shop's first page (hard goods register here):
# hook(company, buyer, *, location_id, search) -> list of rows, or None to add nothing;
# location_id None: the company's default location.
SHOP_HOOKS: list = []


def on_shop_list(hook) -> None:
    if hook not in SHOP_HOOKS:
        SHOP_HOOKS.append(hook)


def on_confirmation(hook) -> None:
    """hook(token_id, company_id, payload): a confirmInventory event, inside its transaction."""
    if hook not in CONFIRMATION_HOOKS:
        CONFIRMATION_HOOKS.append(hook)


def record(line: InventoryLine, kind: str) -> None:
    """A row of the inventory feed (numbered after commit: inventory.feeds) and the hooks."""
    line.refresh_from_db(fields=["total", "committed", "held"])
    InventoryChange.objects.create(
        company_id=line.company_id, seq=None, line_id=line.pk, kind=kind, available=line.available
    )
    feeds.sequence_after_commit(line.company_id, "inventory", InventoryChange)
    for hook in CHANGE_HOOKS:
        hook(line, kind)


def number_feed(company_id: int) -> None:
    """Number what is committed of the company's inventory feed (a reader does, first)."""
    feeds.sequence(company_id, "inventory", InventoryChange)


def confirm(line: InventoryLine, event: str, quantity: int) -> None:
    """Tell the system that shared these boxes (confirmInventory) that some are gone."""
    if not line.confirm_inventory or line.source_token_id is None or quantity <= 0:
        return
    # Numbered at once (the pushed event carries the number); the confirmations counter is the
    # only counter a stock writer takes, so it waits on no other.
    confirmation = Confirmation.objects.create(
        company_id=line.company_id,
        seq=next_seq(line.company_id, "confirmations"),
        token_id=line.source_token_id,
        event=event,
        line_id=line.pk,
        external_id=line.external_id,
        quantity=quantity,
    )
    payload = {
        "event": event,
        "confirmationSeq": confirmation.seq,
        "inventoryId": line.pk,
        "externalId": line.external_id,
        "quantity": quantity,
    }
    # Pushed to the endpoint the token registered, if it did (contract §3, confirmInventory).
    for hook in CONFIRMATION_HOOKS:
        hook(line.source_token_id, line.company_id, payload)


def box_codes_taken(company: Company, codes: list[str]) -> list[str]:
    wanted = {code.upper() for code in codes}
    taken = (
        Box.objects.annotate(upper_code=Upper("code"))
        .filter(company=company, upper_code__in=wanted)
        .values_list("code", flat=True)
    )
    return sorted(taken)


def _box_codes(company_id: int, count: int) -> list[str]:
    # Random, so codes from concurrent adds never collide in practice; the unique
    # constraint catches the rest.
    return [f"B{secrets.token_hex(5).upper()}" for _ in range(count)]


@transaction.atomic
def add_line(
    *, company: Company, quantity: int, box_codes: list[str] | None = None, **fields
) -> InventoryLine:
    if not 1 <= quantity <= MAX_BOXES_PER_CALL:
        raise Invalid(f"must be between 1 and {MAX_BOXES_PER_CALL} boxes", field="quantity")
    line = InventoryLine.objects.create(company=company, total=quantity, **fields)
    codes = box_codes or _box_codes(company.pk, quantity)
    if len(codes) != quantity:
        raise Invalid("give one box code per box", field="boxCodes")
    if len({c.upper() for c in codes}) != len(codes):
        raise Conflict("box codes repeat within the request", field="boxCodes")
    # Codes are unique in any case, as the database's constraint has it.
    taken = box_codes_taken(company, codes)
    if taken:
        raise Conflict(f"box codes already used: {', '.join(taken)}", field="boxCodes")
    Box.objects.bulk_create([Box(company=company, line=line, code=c) for c in codes])
    record(line, InventoryChange.Kind.ADDED)
    return line


def lock_lines(company: Company, line_ids: Iterable[int]) -> dict[int, InventoryLine]:
    """The company's lines, locked in primary-key order (the order every writer uses, so two
    writers never wait on each other in a cycle)."""
    ids = sorted(set(line_ids))
    lines = {
        line.pk: line
        for line in InventoryLine.objects.select_for_update()
        .filter(company=company, pk__in=ids)
        .order_by("pk")
    }
    missing = [i for i in ids if i not in lines]
    if missing:
        raise NotFound(f"inventory line {missing[0]} does not exist", field="inventoryIds")
    return lines


def _guarded(line_id: int, condition, **changes) -> bool:
    return bool(InventoryLine.objects.filter(pk=line_id).filter(condition).update(**changes))


def _take(company: Company, wanted: Iterable[tuple[int, int]], into: str):
    """Move available boxes into `held` or `committed`. `wanted` is (line id, boxes); lines
    named twice are summed before the check. All or nothing: NotEnoughStock names every short
    line. The lines and the boxes taken of each."""
    totals: dict[int, int] = defaultdict(int)
    for line_id, boxes in wanted:
        if boxes < 1:
            raise Invalid("must be at least 1 box", field="quantity")
        totals[line_id] += boxes
    lines = lock_lines(company, totals)
    shortages = [
        {"inventoryId": pk, "requested": totals[pk], "available": max(0, lines[pk].available)}
        for pk in sorted(totals)
        if lines[pk].available < totals[pk]
    ]
    if shortages:
        raise NotEnoughStock(shortages)
    for pk in sorted(totals):
        ok = _guarded(
            pk,
            Q(total__gte=F("committed") + F("held") + totals[pk]),
            **{into: F(into) + totals[pk]},
        )
        if not ok:  # only if a lock was not honoured (never on a supported database)
            raise NotEnoughStock([{"inventoryId": pk, "requested": totals[pk], "available": 0}])
    return lines, totals


def hold(*, company: Company, wanted: Iterable[tuple[int, int]]) -> dict[int, InventoryLine]:
    """Hold boxes for a pending web order (see `_take`)."""
    lines, totals = _take(company, wanted, "held")
    for pk in sorted(totals):
        record(lines[pk], InventoryChange.Kind.HELD)
    return lines


def commit(*, company: Company, wanted: Iterable[tuple[int, int]]) -> dict[int, InventoryLine]:
    """Sell available boxes straight onto a document (an invoice or prebook made without a web
    order); the same rules as `hold`."""
    lines, totals = _take(company, wanted, "committed")
    _announce_sold(lines, totals)
    return lines


def release(*, company: Company, held: Iterable[tuple[int, int]]) -> None:
    """Give held boxes back to the open market."""
    totals: dict[int, int] = defaultdict(int)
    for line_id, boxes in held:
        totals[line_id] += boxes
    lines = lock_lines(company, totals)
    for pk in sorted(totals):
        if not _guarded(pk, Q(held__gte=totals[pk]), held=F("held") - totals[pk]):
            raise Conflict(f"inventory line {pk} holds fewer boxes than released")
        record(lines[pk], InventoryChange.Kind.RELEASED)


def commit_held(*, company: Company, held: Iterable[tuple[int, int]]) -> dict[int, InventoryLine]:
    """Held boxes become sold (on an invoice or prebook)."""
    totals: dict[int, int] = defaultdict(int)
    for line_id, boxes in held:
        totals[line_id] += boxes
    lines = lock_lines(company, totals)
    for pk in sorted(totals):
        if not _guarded(
            pk,
            Q(held__gte=totals[pk]),
            held=F("held") - totals[pk],
            committed=F("committed") + totals[pk],
        ):
            raise Conflict(f"inventory line {pk} holds fewer boxes than sold")
    _announce_sold(lines, totals)
    return lines


def _announce_sold(lines: dict[int, InventoryLine], totals: dict[int, int]) -> None:
    for pk in sorted(totals):
        confirm(lines[pk], "inventory.sold", totals[pk])
    for pk in sorted(totals):
        record(lines[pk], InventoryChange.Kind.SOLD)


def uncommit(*, company: Company, sold: Iterable[tuple[int, int]]) -> None:
    """Sold boxes come back to the open market (a voided document or a removed line)."""
    totals: dict[int, int] = defaultdict(int)
    for line_id, boxes in sold:
        totals[line_id] += boxes
    lines = lock_lines(company, totals)
    for pk in sorted(totals):
        if not _guarded(pk, Q(committed__gte=totals[pk]), committed=F("committed") - totals[pk]):
            raise Conflict(f"inventory line {pk} has fewer boxes sold than returned")
        record(lines[pk], InventoryChange.Kind.RELEASED)


@transaction.atomic
def update_line(
    *,
    company: Company,
    line_id: int,
    quantity: int | None = None,
    unit_cost: Decimal | None = None,
    price_a: Decimal | None = None,
    price_b: Decimal | None = None,
) -> InventoryLine:
    """Change cost, prices or the number of boxes (never below what is sold or held)."""
    line = lock_lines(company, [line_id])[line_id]
    if quantity is not None:
        if not 0 <= quantity <= MAX_BOXES_PER_CALL * 100:
            raise Invalid("must be between 0 and 10000 boxes", field="quantity")
        taken = line.committed + line.held
        if quantity < taken:
            raise Conflict(
                f"inventory line {line_id} has {taken} boxes sold or held; it cannot go to "
                f"{quantity}",
                field="quantity",
                available=line.available,
            )
        removed = line.total - quantity
        line.total = quantity
        if removed > 0:
            confirm(line, "inventory.deleted", removed)
    for name, value in (("unit_cost", unit_cost), ("price_a", price_a), ("price_b", price_b)):
        if value is not None:
            setattr(line, name, value)
    line.save()
    record(line, InventoryChange.Kind.UPDATED)
    return line


@transaction.atomic
def delete_boxes(*, company: Company, line_id: int, quantity: int | None = None) -> int:
    """Remove unsold boxes (default: all of them). Sold or held boxes are never deleted."""
    line = lock_lines(company, [line_id])[line_id]
    boxes = line.available if quantity is None else quantity
    if boxes < 1 and quantity is not None:
        raise Invalid("must be at least 1 box", field="quantity")
    if boxes > line.available:
        raise Conflict(
            f"inventory line {line_id} has {line.available} unsold boxes; {boxes} cannot be "
            "deleted",
            field="quantity",
            available=line.available,
        )
    if boxes:
        InventoryLine.objects.filter(pk=line.pk).update(total=F("total") - boxes)
        # Which boxes leave is not tracked per sale: the newest unsold labels go.
        gone = Box.objects.filter(line=line, removed_at__isnull=True).order_by("-id")[:boxes]
        Box.objects.filter(pk__in=list(gone.values_list("pk", flat=True))).update(
            removed_at=timezone.now()
        )
        confirm(line, "inventory.deleted", boxes)
        record(line, InventoryChange.Kind.DELETED)
    return boxes


@dataclass
class Pack:
    """How a line's boxes are counted and priced for one customer."""

    units_per_box: int
    price: Decimal


def customer_price(line: InventoryLine, customer) -> Decimal | None:
    """The unit price this customer pays: its price level, B falling back to A plus markup."""
    if customer is not None and customer.default_price == "B":
        if line.price_b is not None:
            return line.price_b
        if line.price_a is not None:
            markup = (customer.price_b_markup or Decimal("0")) / Decimal("100")
            return (line.price_a * (1 + markup)).quantize(Decimal("0.001"))
        return None
    return line.price_a
