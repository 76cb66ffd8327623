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

from stemline.catalog.models import Product, UnitType
from stemline.core import prepared, shapes
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company

from . import feeds
from .models import Box, ChangeCounter, Confirmation, InventoryChange, InventoryLine, Origin
from .queries import LINE_RELATIONS

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
ROW_HOOKS: list = []  # rows_for(company_id) -> bool: a hook shows the company's lines as rows

# On a line a guarded UPDATE has just returned whole (`_move`), with the relations its rows
# show read beside it (`lines_of`): the line is as its lock holds it, so a change hook may
# build its rows from it instead of reading it again. One change's worth: taken off once the
# hooks have run (record_many), never left for a later change of the same object.
AS_LOCKED = "_stemline_as_locked"


def on_change(hook, *, rows_for=None) -> None:
    """hook(line, kind): called for every change of a line, inside its transaction.
    `rows_for(company_id)`: whether the hook builds rows of the company's lines (with their
    product, category, box type and grower); for those companies the writers read the lines
    with those relations before their locks, and a line is handed to the hook marked
    `as_locked(line)` when nothing of it needs reading again."""
    if hook not in CHANGE_HOOKS:
        CHANGE_HOOKS.append(hook)
    if rows_for is not None and rows_for not in ROW_HOOKS:
        ROW_HOOKS.append(rows_for)


def rows_wanted(company_id: int) -> bool:
    return any(wanted(company_id) for wanted in ROW_HOOKS)


def as_locked(line: InventoryLine) -> bool:
    """Whether the line (handed to a change hook) is whole as its lock holds it, with the
    relations of its rows (see AS_LOCKED)."""
    return bool(line.__dict__.get(AS_LOCKED))


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
    line.__dict__.pop(AS_LOCKED, None)  # only its quantities are read again here
    ((line.total, line.committed, line.held),) = _QUANTITIES.all(line.pk)
    record_many([line], kind)


def _write_feed_rows(rows: list[tuple[int, int, int]], kind: str) -> None:
    """One INSERT of the feed's rows (company id, line id, boxes left), to be numbered after
    commit."""
    shapes.insert(
        [
            InventoryChange(
                company_id=company_id, seq=None, line_id=line_id, kind=kind, available=available
            )
            for company_id, line_id, available in rows
        ]
    )


def record_many(lines: list[InventoryLine], kind: str, *, written: bool = False) -> None:
    """The feed rows of lines whose quantities are as they are now (one INSERT; `written`:
    the move that changed them wrote them), and the hooks for each line, in the order given."""
    if not lines:
        return
    if not written:
        _write_feed_rows([(line.company_id, line.pk, line.available) for line in lines], kind)
    for company_id in sorted({line.company_id for line in lines}):
        feeds.sequence_after_commit(company_id, "inventory", InventoryChange, spaced=True)
    for line in lines:
        for hook in CHANGE_HOOKS:
            hook(line, kind)
        line.__dict__.pop(AS_LOCKED, None)


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


# NO KEY UPDATE: the lock an UPDATE of the quantities takes, which does not stop a new row
# referring to the line (a web order item, a feed row) as FOR UPDATE would.
_LOCKED_LINES = shapes.Select(
    lambda company_id, *ids: (
        InventoryLine.objects.select_for_update(no_key=True)
        .filter(company_id=company_id, pk__in=ids)
        .order_by("pk")
    )
)
_QUANTITIES = shapes.Select(
    lambda pk: InventoryLine.objects.filter(pk=pk).values_list("total", "committed", "held")
)


def lock_lines(company: Company, line_ids: Iterable[int]) -> dict[int, InventoryLine]:
    """The company's lines, locked in primary-key order (the order every writer uses, so two
    writers never wait on each other in a cycle)."""
    ids = sorted(set(line_ids))
    lines = {line.pk: line for line in _LOCKED_LINES.all(company.pk, *ids)} if ids else {}
    missing = [i for i in ids if i not in lines]
    if missing:
        raise NotFound(f"inventory line {missing[0]} does not exist", field="inventoryIds")
    return lines


def _guarded(line_id: int, condition, **changes) -> bool:
    return bool(InventoryLine.objects.filter(pk=line_id).filter(condition).update(**changes))


def _lines(*related: str) -> shapes.Select:
    return shapes.Select(
        lambda company_id, *ids: InventoryLine.objects.filter(
            company_id=company_id, pk__in=ids
        ).select_related(*related)
    )


_LINES = _lines()
# The same, with what a change hook's rows show of them (rows_wanted).
_LINES_WITH_ROWS = _lines(*LINE_RELATIONS)


def _relations_read(line: InventoryLine) -> bool:
    """Whether every relation of LINE_RELATIONS is loaded on the line (none read later)."""
    for path in LINE_RELATIONS:
        obj = line
        for name in path.split("__"):
            if obj is None:
                break
            field = obj._meta.get_field(name)
            if not field.is_cached(obj):
                return False
            obj = field.get_cached_value(obj)
    return True


def lines_of(company: Company, line_ids: Iterable[int]) -> dict[int, InventoryLine]:
    """The company's lines as they are now, not locked: what a writer reads and checks before
    it takes the lines' locks (`hold`, `commit`, `commit_held` with `lines=`)."""
    ids = sorted(set(line_ids))
    read = _LINES_WITH_ROWS if rows_wanted(company.pk) else _LINES
    lines = {line.pk: line for line in read.all(company.pk, *ids)} if ids else {}
    missing = [i for i in ids if i not in lines]
    if missing:
        raise NotFound(f"inventory line {missing[0]} does not exist", field="inventoryIds")
    return lines


def expired(line: InventoryLine, day: date) -> bool:
    """A grower's offer whose last shipping day has passed: it has nothing left to sell."""
    return line.offered_until is not None and line.offered_until < day


def left(line: InventoryLine, day: date | None = None) -> int:
    """What a line has to sell as read (none for an expired offer)."""
    return 0 if expired(line, day or today()) else max(0, line.available)


def refuse_short(lines: dict[int, InventoryLine], totals: dict[int, int]) -> None:
    """NotEnoughStock naming every line that, as read, has fewer boxes than asked (an expired
    offer has none): a writer that reads before it locks refuses at once what it could not
    have (what it can have is settled under the lock)."""
    shortages = [
        {"inventoryId": pk, "requested": totals[pk], "available": left(lines[pk])}
        for pk in sorted(totals)
        if left(lines[pk]) < totals[pk]
    ]
    if shortages:
        raise NotEnoughStock(shortages)


def _totals(pairs: Iterable[tuple[int, int]], *, at_least_one: bool = False) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for line_id, boxes in pairs:
        if at_least_one and boxes < 1:
            raise Invalid("must be at least 1 box", field="quantity")
        totals[line_id] += boxes
    return dict(totals)


_LINE_FIELDS = list(InventoryLine._meta.concrete_fields)
_returning: dict[str, tuple[str, list]] = {}


def _returned() -> tuple[str, list]:
    """The columns a move's UPDATE returns (the whole line, as its lock holds it) and the
    converters that make the driver's values the model's, per database (compiled once)."""
    found = _returning.get(connection.alias)
    if found is None:
        quote = connection.ops.quote_name
        table = InventoryLine._meta.db_table
        columns = ", ".join(quote(f.column) for f in _LINE_FIELDS)
        compiler = InventoryLine.objects.none().query.get_compiler(connection=connection)
        expressions = [f.get_col(table) for f in _LINE_FIELDS]
        found = _returning[connection.alias] = (
            columns,
            list(compiler.get_converters(expressions).items()),
        )
    return found


def _as_model(row) -> dict:
    """A returned line's values by attribute name, converted as the ORM converts them."""
    row = list(row)
    for pos, (convs, expression) in _returned()[1]:
        value = row[pos]
        for convert in convs:
            value = convert(value, expression, connection)
        row[pos] = value
    return {f.attname: value for f, value in zip(_LINE_FIELDS, row, strict=True)}


def _move(
    company_id: int, totals: dict[int, int], changes: str, condition: str, kind: str, rows=()
) -> tuple[dict[int, dict], dict[int, int | None]]:
    """Change the quantities of each line, in primary-key order, by one guarded UPDATE that
    takes the line's lock, checks and writes at once (`%(n)s` in `changes` and `condition` is
    the line's boxes). The lines changed, whole as the UPDATE returned them (values by
    attribute name), and the lines refused with their available boxes at that moment (None: no
    such line of the company's).
    A refused line is read under its lock, so what it is said to have is what it had; boxes
    given back between the UPDATE and that read are taken after all.

    Each line moved gets its feed row of `kind` (record_many, called with `written`, runs the
    rest): on PostgreSQL written by the UPDATE itself (a data-modifying WITH), so the lock is
    held for one statement fewer; on SQLite by one INSERT after the UPDATEs.

    `rows`: unsaved records (of one model) to write with the moves, in the order given (a web
    order's items with the boxes they hold): on PostgreSQL by the first line's UPDATE (written
    only if it moved), on SQLite by one INSERT after the UPDATEs."""
    quote = connection.ops.quote_name
    table = quote(InventoryLine._meta.db_table)
    lock = (
        connection.ops.for_update_sql(no_key=True)
        if connection.features.has_select_for_update
        else ""
    )
    quantities, refused = {}, {}
    columns = _returned()[0]
    # One text per kind of move, the boxes a parameter: planned once per connection.
    update = (
        f"UPDATE {table} SET {changes} WHERE id = %(pk)s AND company_id = %(company)s "
        f"AND {condition} RETURNING {columns}"
    )
    fed = connection.vendor == "postgresql"
    if fed:
        feed = quote(InventoryChange._meta.db_table)
        parts = (
            f"WITH moved AS ({update}), fed AS (INSERT INTO {feed} "
            "(company_id, seq, line_id, kind, available, created_at) "
            "SELECT company_id, NULL, id, %(kind)s, total - committed - held, %(at)s "
            "FROM moved)"
        )
        update = f"{parts} SELECT {columns} FROM moved"
    row_of_feed = {"kind": str(kind), "at": timezone.now()} if fed else {}
    attached = rows if fed else ()
    with prepared.cursor() as cursor:
        for pk in sorted(totals):
            params = {"n": int(totals[pk]), "pk": pk, "company": company_id, **row_of_feed}
            text = update
            if attached:
                # The rows' keys come back in an array after the line's columns.
                written, keys, values = shapes.insert_after(list(attached), "moved")
                text = f"{parts}, {written} SELECT {columns}, ARRAY({keys}) FROM moved"
                params.update(values)
            cursor.execute(text, params)
            row = cursor.fetchone()
            if row is None:
                cursor.execute(
                    f"SELECT total - committed - held FROM {table} WHERE id = %(pk)s AND "
                    f"company_id = %(company)s {lock}",
                    {"pk": pk, "company": company_id},
                )
                found = cursor.fetchone()
                cursor.execute(text, params)  # held now: it cannot change
                row = cursor.fetchone()
                if row is None:
                    refused[pk] = None if found is None else found[0]
                    continue
            if attached:
                shapes.saved(list(attached), row[-1])
                row, attached = row[:-1], ()
            quantities[pk] = _as_model(row)
    if rows and not fed and quantities and not refused:
        shapes.insert(list(rows))
    if not fed and quantities:
        _write_feed_rows(
            [
                (company_id, pk, values["total"] - values["committed"] - values["held"])
                for pk, values in quantities.items()
            ],
            kind,
        )
    return quantities, refused


class _Refused(Exception):
    def __init__(self, refused: dict[int, int | None]):
        self.refused = refused


def _moved(
    company: Company,
    totals: dict[int, int],
    changes: str,
    condition: str,
    lines,
    kind: str,
    rows=(),
) -> tuple[dict[int, InventoryLine], dict[int, int | None]]:
    """`_move` the lines, all or none: with several lines in a savepoint, so a refusal leaves
    none changed. `lines`: as the caller read them (unlocked), else read here. The lines with
    their new quantities, and the refused ids (nothing changed then)."""
    if lines is None:
        lines = lines_of(company, totals)
    else:
        missing = [pk for pk in totals if pk not in lines]
        if missing:
            lines = {**lines, **lines_of(company, missing)}
    try:
        if len(totals) > 1:
            with transaction.atomic():
                quantities, refused = _move(company.pk, totals, changes, condition, kind, rows)
                if refused:
                    raise _Refused(refused)
        else:
            quantities, refused = _move(company.pk, totals, changes, condition, kind, rows)
    except _Refused as undone:
        return lines, undone.refused
    if refused:
        return lines, refused
    for pk, values in quantities.items():
        line = lines[pk]
        # The whole line as locked: a product or grower changed since it was read drops
        # that relation (the foreign key's descriptor does), and then the hooks read it again.
        for attname, value in values.items():
            setattr(line, attname, value)
        if _relations_read(line):
            line.__dict__[AS_LOCKED] = True
    return lines, {}


def _shortages(totals: dict[int, int], refused: dict[int, int | None]) -> NotEnoughStock:
    """Why lines were refused: each short line with what it had when it was refused (NotFound
    for a line that is not the company's)."""
    missing = [pk for pk, available in sorted(refused.items()) if available is None]
    if missing:
        raise NotFound(f"inventory line {missing[0]} does not exist", field="inventoryIds")
    return NotEnoughStock(
        [
            {"inventoryId": pk, "requested": totals[pk], "available": max(0, available)}
            for pk, available in sorted(refused.items())
        ]
    )


def _take(
    company: Company,
    wanted: Iterable[tuple[int, int]],
    into: str,
    kind: str,
    lines=None,
    rows=(),
):
    """Move available boxes into `held` or `committed`. `wanted` is (line id, boxes); lines
    named twice are summed before the check. All or nothing: NotEnoughStock names every short
    line. The lines (with their new quantities) and the boxes taken of each.

    Units lines take stems in whole bunches only (check_whole_bunches), and an offer past its
    last shipping day sells nothing: both settled on the lines as read, before any lock
    (neither a line's unit type nor an offer's window changes while it sells)."""
    wanted = list(wanted)
    totals = _totals(wanted, at_least_one=True)
    if lines is None:
        lines = lines_of(company, totals)
    else:
        missing = [pk for pk in totals if pk not in lines]
        if missing:
            lines = {**lines, **lines_of(company, missing)}
    for line_id, units in wanted:
        check_whole_bunches(lines[line_id], units)
    day = today()
    gone = [pk for pk in sorted(totals) if expired(lines[pk], day)]
    if gone:
        raise NotEnoughStock(
            [{"inventoryId": pk, "requested": totals[pk], "available": 0} for pk in gone]
        )
    lines, refused = _moved(
        company,
        totals,
        f"{into} = {into} + %(n)s",
        "total >= committed + held + %(n)s",
        lines,
        kind,
        rows,
    )
    if refused:
        raise _shortages(totals, refused)
    return lines, totals


def hold(
    *, company: Company, wanted: Iterable[tuple[int, int]], lines=None, rows=()
) -> dict[int, InventoryLine]:
    """Hold boxes for a pending web order (see `_take`). `lines`: the lines as the caller
    read them (`lines_of`), so they are not read twice; their quantities are brought up to
    date. `rows`: unsaved records written with the moves (the order's items that hold the
    boxes: on PostgreSQL by the first line's statement, see `_move`), given their keys."""
    lines, totals = _take(company, wanted, "held", InventoryChange.Kind.HELD, lines, rows)
    record_many([lines[pk] for pk in sorted(totals)], InventoryChange.Kind.HELD, written=True)
    return lines


def commit(*, company: Company, wanted: Iterable[tuple[int, int]]) -> dict[int, InventoryLine]:
    """Sell available boxes straight onto a document (an invoice or prebook made without a web
    order); the same rules as `hold`."""
    lines, totals = _take(company, wanted, "committed", InventoryChange.Kind.SOLD)
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


def commit_held(
    *, company: Company, held: Iterable[tuple[int, int]], lines=None
) -> dict[int, InventoryLine]:
    """Held boxes become sold (on an invoice or prebook). `lines`: as the caller read them."""
    totals = _totals(held)
    lines, refused = _moved(
        company,
        totals,
        "held = held - %(n)s, committed = committed + %(n)s",
        "held >= %(n)s",
        lines,
        InventoryChange.Kind.SOLD,
    )
    if refused:
        raise Conflict(f"inventory line {min(refused)} holds fewer boxes than sold")
    _announce_sold(lines, totals)
    return lines


def _announce_sold(lines: dict[int, InventoryLine], totals: dict[int, int]) -> None:
    for pk in sorted(totals):
        confirm(lines[pk], "inventory.sold", totals[pk])
    # Their feed rows are written (by the move that sold them).
    record_many([lines[pk] for pk in sorted(totals)], InventoryChange.Kind.SOLD, written=True)


def uncommit(*, company: Company, sold: Iterable[tuple[int, int]]) -> None:
    """Sold boxes come back to the open market (a voided document or a removed line)."""
    totals: dict[int, int] = defaultdict(int)
    sold = list(sold)
    for line_id, boxes in sold:
        totals[line_id] += boxes
    lines = lock_lines(company, totals)
    for line_id, units in sold:  # a line made smaller gives back whole bunches too
        check_whole_bunches(lines[line_id], units)
    for pk in sorted(totals):
        if not _guarded(pk, Q(committed__gte=totals[pk]), committed=F("committed") - totals[pk]):
            raise Conflict(f"inventory line {pk} has fewer boxes sold than returned")
        record(lines[pk], InventoryChange.Kind.RELEASED)


def hand_over(*, company: Company, line_id: int, boxes: int) -> InventoryLine:
    """Sold boxes leave their line for another: a grower's offer (vendor availability) whose
    sold boxes are now on a purchase order line. Total and committed drop together, so what
    is left to sell does not change."""
    line = lock_lines(company, [line_id])[line_id]
    if not _guarded(
        line_id, Q(committed__gte=boxes), total=F("total") - boxes, committed=F("committed") - boxes
    ):
        raise Conflict(f"inventory line {line_id} has fewer boxes sold than handed over")
    record(line, InventoryChange.Kind.UPDATED)
    return line


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
        check_whole_bunches(line, quantity)
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
    check_whole_bunches(line, boxes)
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
        gone = Box.objects.filter(
            line=line, removed_at__isnull=True, opened_at__isnull=True
        ).order_by("-id")[:boxes]  # an opened box is no longer a box: whole ones go
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


# ---------------------------------------------------------------- units inventory
# Boxes opened into bunches or stems, and loose units a farm adds (reference §3.9). A units
# line is an InventoryLine with `in_units`: its quantities count units, so holding, selling
# and giving back units are the same guarded writes as for boxes (`_take`, `release`, ...).

UNIT_WORDS = {UnitType.BUNCH: ("bunch", "bunches"), UnitType.STEM: ("stem", "stems")}
THOUSANDTH = Decimal("0.001")


def unit_words(unit_type: str, quantity: int) -> str:
    one, many = UNIT_WORDS[unit_type]
    return f"{quantity} {one if quantity == 1 else many}"


def check_whole_bunches(line: InventoryLine, units: int, field: str = "quantity") -> None:
    """Stems of a units line move only in whole bunches (multiples of stems per bunch)."""
    if line.in_units and line.unit_type == UnitType.STEM and units % line.stems_bunch:
        raise Invalid(
            f"inventory line {line.pk} sells stems in multiples of {line.stems_bunch} "
            f"(stems per bunch); {units} is not one",
            field=field,
        )


def _per_unit(value: Decimal | None, line: InventoryLine, unit_type: str) -> Decimal | None:
    """A box line's price or cost per its unit, as a price per `unit_type` unit."""
    if value is None or unit_type == line.unit_type:
        return value
    if unit_type == UnitType.BUNCH:  # per stem -> per bunch
        return (value * line.stems_bunch).quantize(THOUSANDTH)
    return (value / line.stems_bunch).quantize(THOUSANDTH)  # per bunch -> per stem


def roll_up_product(product):
    """The product a box's contents become in the units inventory (productRollUpCode), or
    the product itself when it has none."""
    code = product.product_roll_up_code
    if not code:
        return product
    rolled = Product.objects.filter(
        company_id=product.company_id, legacy_code__iexact=code, active=True
    ).first()
    if rolled is None:
        raise NotFound(
            f"product {product.pk} rolls up into product code {code!r}, which does not exist",
            field="productRollUpCode",
        )
    return rolled


@dataclass
class Opened:
    box_line: InventoryLine
    units_line: InventoryLine
    boxes: int
    units: int


@transaction.atomic
def open_boxes(
    *,
    company: Company,
    line_id: int,
    boxes: int,
    unit_type: str,
    price_a: Decimal | None = None,
    price_b: Decimal | None = None,
) -> Opened:
    """Open unsold boxes of a line, irreversibly, into its bunches or stems.

    The boxes leave the line (its total; `opened` counts them, their labels are marked) and
    their units go to the line's units line of that unit type, made at the first opening,
    as the roll-up product if the product has one. Prices are per unit: those given, else
    the box line's converted to the unit type. Both lines are locked (primary-key order)
    and written with guarded updates, so opening while the same boxes are sold can neither
    lose nor double a box."""
    if unit_type not in UnitType.values:
        raise Invalid("must be Stem or Bunch", field="unitType")
    if boxes < 1:
        raise Invalid("must be at least 1 box", field="boxes")
    line = lock_lines(company, [line_id])[line_id]
    if line.in_units:
        raise Conflict(f"inventory line {line_id} is already units", field="inventoryId")
    if line.origin_on(today()) != Origin.ON_HAND:
        raise Conflict(
            f"inventory line {line_id} has not arrived; only boxes on hand can be opened",
            field="inventoryId",
        )
    if boxes > line.available:
        raise Conflict(
            f"inventory line {line_id} has {line.available} unsold boxes; {boxes} cannot be opened",
            field="boxes",
            available=line.available,
        )
    product = roll_up_product(line.product)
    per_box = line.bunches * (line.stems_bunch if unit_type == UnitType.STEM else 1)
    units = boxes * per_box
    if not _guarded(
        line.pk,
        Q(total__gte=F("committed") + F("held") + boxes),
        total=F("total") - boxes,
        opened=F("opened") + boxes,
    ):  # only if a lock was not honoured
        raise NotEnoughStock([{"inventoryId": line.pk, "requested": boxes, "available": 0}])
    whole = Box.objects.filter(line=line, removed_at__isnull=True, opened_at__isnull=True)
    labels = list(whole.order_by("-id").values_list("pk", flat=True)[:boxes])
    Box.objects.filter(pk__in=labels).update(opened_at=timezone.now())
    # One units line per box line and unit type, locked after the box line (higher pk).
    existing = (
        InventoryLine.objects.select_for_update()
        .filter(company=company, opened_from=line, unit_type=unit_type, in_units=True)
        .order_by("pk")
        .first()
    )
    if existing is None:
        units_line = InventoryLine.objects.create(
            company=company,
            in_units=True,
            opened_from=line,
            location_id=line.location_id,
            product=product,
            box_type_id=line.box_type_id,
            vendor_id=line.vendor_id,
            reserved_for_id=line.reserved_for_id,
            awb=line.awb,
            reference=line.reference,
            lot_number=line.lot_number,
            mark_code=line.mark_code,
            ship_date=line.ship_date,
            arrival_date=line.arrival_date,
            unit_type=unit_type,
            bunches=1,
            stems_bunch=line.stems_bunch,
            unit_cost=_per_unit(line.unit_cost, line, unit_type),
            price_a=price_a if price_a is not None else _per_unit(line.price_a, line, unit_type),
            price_b=price_b if price_b is not None else _per_unit(line.price_b, line, unit_type),
            total=units,
        )
        kind = InventoryChange.Kind.ADDED
    else:
        units_line = existing
        changes = {"total": F("total") + units}
        if price_a is not None:
            changes["price_a"] = price_a
        if price_b is not None:
            changes["price_b"] = price_b
        InventoryLine.objects.filter(pk=units_line.pk).update(**changes)
        units_line.refresh_from_db()
        kind = InventoryChange.Kind.UPDATED
    # The system that shared these boxes hears they are gone as boxes.
    confirm(line, "inventory.deleted", boxes)
    record(line, InventoryChange.Kind.UPDATED)
    record(units_line, kind)
    line.refresh_from_db()
    return Opened(line, units_line, boxes, units)


def _farm_lines(company: Company, *, product, unit_type, stems_bunch, location, **farm):
    """The units lines a farm's units of one product and pack go to (inventory.units.*)."""
    qs = InventoryLine.objects.filter(
        company=company,
        in_units=True,
        product=product,
        unit_type=unit_type,
        stems_bunch=stems_bunch,
        location=location,
    )
    return qs.filter(**{k: v for k, v in farm.items() if v is not None})


@transaction.atomic
def add_units(
    *,
    company: Company,
    product,
    unit_type: str,
    stems_bunch: int,
    quantity: int,
    location,
    box_type,
    block: str = "",
    bed: str = "",
    cutter: int | None = None,
    cut_date: date | None = None,
    reserved_for=None,
    unit_cost: Decimal | None = None,
    price_a: Decimal | None = None,
    price_b: Decimal | None = None,
) -> InventoryLine:
    """Loose units into the units inventory (inventory.units.add): onto the units line of the
    same product, pack, block, bed, cutter, cut date and customer, or a new one. Prices not
    given are the product's (when they are per this unit type)."""
    if unit_type not in UnitType.values:
        raise Invalid("must be Stem or Bunch", field="unitType")
    if stems_bunch < 1:
        raise Invalid("must be at least 1", field="stemsBunch")
    if quantity < 1:
        raise Invalid("must be at least 1 unit", field="quantity")
    if unit_type == UnitType.STEM and quantity % stems_bunch:
        raise Invalid(
            f"stems are added in multiples of {stems_bunch} (stems per bunch); {quantity} is "
            "not one",
            field="quantity",
        )
    farm = {"block": block, "bed": bed, "cutter": cutter, "cut_date": cut_date}
    line = (
        _farm_lines(
            company,
            product=product,
            unit_type=unit_type,
            stems_bunch=stems_bunch,
            location=location,
            **farm,
        )
        .filter(opened_from__isnull=True, reserved_for=reserved_for)
        .filter(cutter__isnull=cutter is None, cut_date__isnull=cut_date is None)
        .select_for_update()
        .order_by("pk")
        .first()
    )
    if line is not None:
        changes = {"total": F("total") + quantity}
        for name, value in (("unit_cost", unit_cost), ("price_a", price_a), ("price_b", price_b)):
            if value is not None:
                changes[name] = value
        InventoryLine.objects.filter(pk=line.pk).update(**changes)
        record(line, InventoryChange.Kind.UPDATED)
        line.refresh_from_db()
        return line
    own = product.default_unit_type == unit_type
    line = InventoryLine.objects.create(
        company=company,
        in_units=True,
        location=location,
        product=product,
        box_type=box_type,
        reserved_for=reserved_for,
        unit_type=unit_type,
        bunches=1,
        stems_bunch=stems_bunch,
        unit_cost=unit_cost if unit_cost is not None else Decimal("0"),
        price_a=price_a if price_a is not None else (product.price_a if own else None),
        price_b=price_b if price_b is not None else (product.price_b if own else None),
        total=quantity,
        **farm,
    )
    record(line, InventoryChange.Kind.ADDED)
    return line


@transaction.atomic
def delete_units(
    *,
    company: Company,
    product,
    unit_type: str,
    stems_bunch: int,
    quantity: int,
    location,
    block: str | None = None,
    bed: str | None = None,
    cutter: int | None = None,
    reserved_for=None,
) -> list[InventoryLine]:
    """Decrease the units inventory (inventory.units.delete) by units nobody bought or holds,
    from the matching units lines oldest first; all or nothing."""
    if quantity < 1:
        raise Invalid("must be at least 1 unit", field="quantity")
    if unit_type == UnitType.STEM and quantity % stems_bunch:
        raise Invalid(
            f"stems are removed in multiples of {stems_bunch} (stems per bunch); {quantity} is "
            "not one",
            field="quantity",
        )
    farm = {"block": block or None, "bed": bed or None, "cutter": cutter}
    qs = _farm_lines(
        company,
        product=product,
        unit_type=unit_type,
        stems_bunch=stems_bunch,
        location=location,
        **farm,
    )
    if reserved_for is not None:
        qs = qs.filter(reserved_for=reserved_for)
    lines = lock_lines(company, qs.values_list("pk", flat=True))
    available = sum(max(0, line.available) for line in lines.values())
    if available < quantity:
        raise Conflict(
            f"the units inventory has {unit_words(unit_type, available)} of this product unsold; "
            f"{unit_words(unit_type, quantity)} cannot be removed",
            field="quantity",
            available=available,
        )
    left, changed = quantity, []
    for pk in sorted(lines):
        line = lines[pk]
        take = min(left, max(0, line.available))
        if not take:
            continue
        if not _guarded(
            pk, Q(total__gte=F("committed") + F("held") + take), total=F("total") - take
        ):
            raise Conflict(f"inventory line {pk} changed while units were removed")
        record(line, InventoryChange.Kind.DELETED)
        changed.append(line)
        left -= take
        if not left:
            break
    return changed
