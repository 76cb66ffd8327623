"""Any sequence of stock and web-order writes keeps every box accounted for (hypothesis),
boxes opened into bunches and stems and those units sold included."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from stemline.core.errors import DomainError
from stemline.inventory import services as stock
from stemline.inventory.models import (
    Box,
    ChangeCounter,
    Confirmation,
    InventoryChange,
    InventoryLine,
    Origin,
)
from stemline.sales import services
from stemline.sales.models import (
    DocumentStatus,
    Invoice,
    InvoiceItem,
    NumberCounter,
    Prebook,
    PrebookItem,
    WebOrder,
    WebOrderItem,
)

pytestmark = pytest.mark.django_db

PENDING, CHECKED_OUT = WebOrder.Status.PENDING, WebOrder.Status.CHECKED_OUT


def quantities(company) -> dict[int, tuple[int, int, int]]:
    return {
        pk: (total, committed, held)
        for pk, total, committed, held in InventoryLine.objects.filter(company=company).values_list(
            "pk", "total", "committed", "held"
        )
    }


WRITTEN = [
    InventoryLine,
    Box,
    InventoryChange,
    ChangeCounter,
    Confirmation,
    WebOrder,
    WebOrderItem,
    Invoice,
    InvoiceItem,
    Prebook,
    PrebookItem,
    NumberCounter,
]


def snapshot():
    """Every row a stock or sales write can touch, to show a refused one touched nothing."""
    with connection.cursor() as cursor:
        rows = []
        for model in WRITTEN:
            cursor.execute(f"SELECT * FROM {model._meta.db_table} ORDER BY id")
            rows.append(cursor.fetchall())
        return rows


def test_every_sequence_of_writes_keeps_the_books(stocked, make_token):
    company = stocked.company
    customers = [stocked.florist, stocked.market]
    source = make_token(company).token

    class StockAndOrders(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            # Each run starts from the fixture's data: everything it wrote is rolled back.
            self.savepoint = transaction.savepoint()
            self.sells: dict[int, dict] = {}  # line id -> origin, priced, who may buy it
            # Units lines: units opened into each, and units removed from it since.
            self.opened_units: Counter = Counter()
            self.removed_units: Counter = Counter()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def attempt(self, write, **kw):
            """Run a write; a refusal (Invalid, NotFound, Conflict) must leave no trace."""
            before = snapshot()
            try:
                return write(**kw)
            except DomainError as refusal:
                assert snapshot() == before, f"refused {write.__name__} left a trace"
                return refusal

        # ------------------------------------------------------------ inventory

        @initialize(on_hand=st.integers(1, 20), future=st.integers(1, 20))
        def stock_up(self, on_hand, future):
            # A line of each origin that both customers may buy, so holds can start at once.
            self.add_inventory(on_hand, False, False, "A and B", None)
            self.add_inventory(future, True, False, "A and B", None)

        @rule(
            boxes=st.integers(0, 20),
            future=st.booleans(),
            confirm=st.booleans(),
            prices=st.sampled_from(["A and B", "A and B", "A only", "none"]),
            reserved_for=st.sampled_from([None, None, None, 0, 1]),
        )
        def add_inventory(self, boxes, future, confirm, prices, reserved_for):
            line = self.attempt(
                stock.add_line,
                company=company,
                quantity=boxes,
                location=stocked.location,
                product=stocked.product,
                box_type=stocked.box,
                unit_type="Stem",
                bunches=10,
                stems_bunch=25,
                unit_cost=Decimal("0.300"),
                price_a=None if prices == "none" else Decimal("0.500"),
                price_b=Decimal("0.450") if prices == "A and B" else None,
                arrival_date=stock.today() + timedelta(days=3) if future else None,
                confirm_inventory=confirm,
                source_token=source if confirm else None,
                reserved_for=None if reserved_for is None else customers[reserved_for],
            )
            if isinstance(line, DomainError):
                assert boxes == 0
                return
            assert (line.total, line.committed, line.held) == (boxes, 0, 0)
            self.sells[line.pk] = {
                "origin": Origin.FUTURE if future else Origin.ON_HAND,
                # Price level B falls back to A (plus the markup); a line with neither price
                # cannot be sold to anyone.
                "priced": prices != "none",
                "customers": {0, 1} if reserved_for is None else {reserved_for},
            }

        def some_line(self, data) -> int:
            """Often a box line with boxes sold or held: where a slip would oversell. (Units
            lines change their units with delete_units.)"""
            lines = InventoryLine.objects.filter(company=company, in_units=False).values_list(
                "pk", flat=True
            )
            return self.pick(data, lines.exclude(committed=0, held=0), lines)

        def stems_line(self, pk: int) -> bool:
            return self.sells[pk].get("units") == "Stem"

        # ------------------------------------------------------------ units

        @rule(data=st.data(), unit_type=st.sampled_from(["Bunch", "Stem"]))
        def open_boxes(self, data, unit_type):
            """Open boxes of any line (mostly on hand with boxes unsold) into units."""
            lines = InventoryLine.objects.filter(company=company)
            line_id = self.pick(
                data,
                lines.filter(
                    in_units=False, arrival_date__isnull=True, total__gt=F("committed") + F("held")
                ).values_list("pk", flat=True),
                lines.values_list("pk", flat=True),
            )
            line = InventoryLine.objects.get(pk=line_id)
            boxes = data.draw(st.integers(max(0, line.available - 1), line.available + 1))
            before = quantities(company)
            units_before = dict(
                InventoryLine.objects.filter(opened_from=line).values_list("unit_type", "total")
            )
            done = self.attempt(
                stock.open_boxes,
                company=company,
                line_id=line_id,
                boxes=boxes,
                unit_type=unit_type,
            )
            refused = (
                line.in_units
                or self.sells[line_id]["origin"] != Origin.ON_HAND
                or not 1 <= boxes <= line.available
            )
            assert isinstance(done, DomainError) == refused, done
            if refused:
                return
            total, committed, held = before[line_id]
            assert quantities(company)[line_id] == (total - boxes, committed, held)
            units = boxes * line.bunches * (line.stems_bunch if unit_type == "Stem" else 1)
            assert done.units_line.total == units_before.get(unit_type, 0) + units
            self.opened_units[done.units_line.pk] += units
            self.sells[done.units_line.pk] = {**self.sells[line_id], "units": unit_type}

        @precondition(lambda self: self.opened_units)
        @rule(
            unit_type=st.sampled_from(["Bunch", "Stem"]),
            quantity=st.integers(0, 30) | st.sampled_from([25, 50, 250]),
        )
        def delete_units(self, unit_type, quantity):
            """inventory.units.delete: unsold units only, stems in whole bunches."""
            lines = InventoryLine.objects.filter(
                company=company, in_units=True, unit_type=unit_type
            )
            before = dict(lines.values_list("pk", "total"))
            unsold = sum(max(0, line.available) for line in lines)
            done = self.attempt(
                stock.delete_units,
                company=company,
                product=stocked.product,
                unit_type=unit_type,
                stems_bunch=25,
                quantity=quantity,
                location=stocked.location,
            )
            refused = quantity < 1 or quantity > unsold or (unit_type == "Stem" and quantity % 25)
            assert isinstance(done, DomainError) == bool(refused), done
            after = dict(lines.values_list("pk", "total"))
            for pk in before:
                self.removed_units[pk] += before[pk] - after[pk]
            assert sum(before.values()) - sum(after.values()) == (0 if refused else quantity)

        @rule(data=st.data())
        def update_quantity(self, data):
            line = self.some_line(data)
            total, committed, held = quantities(company)[line]
            # Often right around the boxes sold and held, where a slip would oversell.
            taken = committed + held
            quantity = data.draw(st.integers(max(0, taken - 2), taken + 2) | st.integers(0, 20))
            done = self.attempt(stock.update_line, company=company, line_id=line, quantity=quantity)
            refused = isinstance(done, DomainError)
            # Refused exactly when it would drop below the boxes sold and held.
            assert refused == (quantity < committed + held)
            if not refused:
                assert quantities(company)[line] == (quantity, committed, held)

        @rule(data=st.data())
        def delete_boxes(self, data):
            line = self.some_line(data)
            total, committed, held = quantities(company)[line]
            available = total - committed - held
            # None: every unsold box; else often around what is unsold.
            quantity = data.draw(
                st.none() | st.integers(max(0, available - 2), available + 2) | st.integers(0, 20)
            )
            deleted = self.attempt(
                stock.delete_boxes, company=company, line_id=line, quantity=quantity
            )
            if quantity is None:
                assert deleted == available
            else:
                # Refused exactly when it would delete a box that is sold or held.
                assert isinstance(deleted, DomainError) == (quantity == 0 or quantity > available)
                if isinstance(deleted, DomainError):
                    return
            assert quantities(company)[line] == (total - deleted, committed, held)

        # ------------------------------------------------------------ web orders

        def orders(self):
            return list(WebOrder.objects.filter(company=company).values_list("pk", flat=True))

        def pick(self, data, likely, anything):
            """Mostly one of the `likely` targets (where the write should succeed), sometimes
            any at all (where it may be refused)."""
            likely, anything = list(likely), list(anything)
            pool = likely if likely and data.draw(st.integers(0, 3)) else anything
            return data.draw(st.sampled_from(pool))

        @precondition(lambda self: self.sells)
        @rule(
            customer=st.sampled_from([0, 1]),
            origin=st.sampled_from(Origin.values),
            sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
            any_line=st.integers(0, 4),
            name_order=st.integers(0, 3),
            data=st.data(),
        )
        def hold(self, customer, origin, sizes, any_line, name_order, data):
            """add_items: into the customer's pending order, or a named (maybe closed) one."""
            # Mostly lines this customer may buy with this origin and no order named, so most
            # holds can succeed (or fall short); the rest are refusals to check.
            sellable = [
                pk
                for pk, sells in self.sells.items()
                if sells["origin"] == origin and sells["priced"] and customer in sells["customers"]
            ]
            pool = sellable if sellable and any_line else sorted(self.sells)
            wanted = []
            for boxes in sizes:
                pk = data.draw(st.sampled_from(pool))
                # Stems sell in whole bunches (25 stems): mostly asked so, sometimes not.
                if self.stems_line(pk) and data.draw(st.integers(0, 3)):
                    boxes *= 25
                wanted.append((pk, boxes))
            orders = self.orders()
            order_id = data.draw(st.sampled_from(orders)) if orders and not name_order else None
            before = quantities(company)
            result = self.attempt(
                services.add_items,
                company=company,
                customer_id=customers[customer].pk,
                origin=origin,
                requests=[services.ItemRequest(pk, boxes) for pk, boxes in wanted],
                web_order_id=order_id,
            )
            asked = Counter()
            for pk, boxes in wanted:
                asked[pk] += boxes
            # What the customer may do: its own pending order (or a new one), lines of the
            # origin asked, priced, not reserved for someone else, and enough boxes of each
            # line once the lines named twice are summed.
            order = WebOrder.objects.filter(pk=order_id).first()
            bad_order = order is not None and (
                order.customer_id != customers[customer].pk or order.status != PENDING
            )
            short = {pk for pk in asked if sum(before[pk][1:]) + asked[pk] > before[pk][0]}
            bad_line = any(
                self.sells[pk]["origin"] != origin
                or not self.sells[pk]["priced"]
                or customer not in self.sells[pk]["customers"]
                for pk in asked
            )
            broken_bunch = any(self.stems_line(pk) and boxes % 25 for pk, boxes in wanted)
            assert isinstance(result, DomainError) == (
                bad_order or bool(short) or bad_line or broken_bunch
            )
            if isinstance(result, stock.NotEnoughStock):
                assert not bad_order and not broken_bunch
                assert {s["inventoryId"] for s in result.details["shortages"]} == short
            elif short and not bad_order and not broken_bunch:
                raise AssertionError(f"{result!r} refused a request short of stock")
            if isinstance(result, DomainError):
                return
            assert result.web_order.status == PENDING
            after = quantities(company)
            for pk, (total, committed, held) in before.items():
                assert after[pk] == (total, committed, held + asked[pk])

        @precondition(lambda self: WebOrderItem.objects.exists())
        @rule(data=st.data())
        def release(self, data):
            """delete_item, from any order (refused unless it is pending)."""
            items = WebOrderItem.objects.select_related("web_order")
            item = self.pick(data, items.filter(web_order__status=PENDING), items)
            total, committed, held = quantities(company)[item.line_id]
            done = self.attempt(
                services.delete_item,
                company=company,
                customer_id=item.web_order.customer_id,
                web_order_id=item.web_order_id,
                item_id=item.pk,
            )
            assert isinstance(done, DomainError) == (item.web_order.status != PENDING)
            if done is None:
                after = quantities(company)[item.line_id]
                assert after == (total, committed, held - item.quantity)

        @rule(minutes=st.integers(0, 35))
        def expire(self, minutes):
            now = timezone.now() + timedelta(minutes=minutes)
            due = WebOrder.objects.filter(status=PENDING, hold_expires_at__lt=now)
            due_ids = set(due.values_list("pk", flat=True))
            freed = Counter()
            for line_id, boxes in WebOrderItem.objects.filter(web_order__in=due_ids).values_list(
                "line_id", "quantity"
            ):
                freed[line_id] += boxes
            before = quantities(company)
            assert services.expire_holds(now=now) == len(due_ids)
            assert not WebOrder.objects.filter(status=PENDING, hold_expires_at__lt=now).exists()
            after = quantities(company)
            for pk, (total, committed, held) in before.items():
                assert after[pk] == (total, committed, held - freed[pk])

        @precondition(lambda self: WebOrder.objects.exists())
        @rule(data=st.data())
        def checkout(self, data):
            orders = WebOrder.objects.all()
            order = self.pick(
                data, orders.filter(status=PENDING, items__isnull=False).distinct(), orders
            )
            items = list(order.items.all())
            before = quantities(company)
            done = self.attempt(
                services.checkout,
                company=company,
                customer_id=order.customer_id,
                web_order_id=order.pk,
            )
            assert isinstance(done, DomainError) == (order.status != PENDING or not items)
            if isinstance(done, DomainError):
                return
            moved = Counter()
            for item in items:
                moved[item.line_id] += item.quantity
            after = quantities(company)
            for pk, (total, committed, held) in before.items():
                assert after[pk] == (total, committed + moved[pk], held - moved[pk])
            on_hand = sum(i.quantity for i in items if i.origin == Origin.ON_HAND)
            future = sum(i.quantity for i in items if i.origin == Origin.FUTURE)
            assert (done.invoice.items.aggregate(n=Sum("boxes"))["n"] if done.invoice else 0) == (
                on_hand
            )
            assert (done.prebook.items.aggregate(n=Sum("boxes"))["n"] if done.prebook else 0) == (
                future
            )

        @precondition(lambda self: WebOrder.objects.exists())
        @rule(data=st.data())
        def cancel(self, data):
            """Pending: the holds go back; checked out: the documents are voided (refused once
            one is confirmed); cancelled or expired: refused."""
            orders = WebOrder.objects.all()
            order = self.pick(data, orders.filter(status__in=[PENDING, CHECKED_OUT]), orders)
            confirmed = any(
                model.objects.filter(web_order=order, status=DocumentStatus.CONFIRMED).exists()
                for model in (Invoice, Prebook)
            )
            done = self.attempt(
                services.cancel,
                company=company,
                customer_id=order.customer_id,
                web_order_id=order.pk,
            )
            cancellable = order.status == PENDING or (order.status == CHECKED_OUT and not confirmed)
            assert isinstance(done, DomainError) == (not cancellable)
            if not isinstance(done, DomainError):
                assert (
                    not Invoice.objects.filter(web_order=order)
                    .exclude(status=DocumentStatus.VOIDED)
                    .exists()
                )
                assert (
                    not Prebook.objects.filter(web_order=order)
                    .exclude(status=DocumentStatus.VOIDED)
                    .exists()
                )

        @precondition(lambda self: Invoice.objects.exists())
        @rule(data=st.data())
        def confirm_invoice(self, data):
            invoices = Invoice.objects.all()
            invoice = self.pick(
                data, invoices.filter(status=DocumentStatus.PENDING_APPROVAL), invoices
            )
            done = self.attempt(services.confirm_invoice, company=company, invoice_id=invoice.pk)
            assert isinstance(done, DomainError) == (
                invoice.status not in (DocumentStatus.PENDING_APPROVAL, DocumentStatus.DRAFT)
            )

        # ------------------------------------------------------------ after every step

        @invariant()
        def every_box_is_accounted_for(self):
            held = dict(
                WebOrderItem.objects.filter(web_order__status=PENDING)
                .values_list("line_id")
                .annotate(n=Sum("quantity"))
                .order_by()
            )
            sold = Counter()
            for model, parent in ((InvoiceItem, "invoice"), (PrebookItem, "prebook")):
                rows = (
                    model.objects.exclude(**{f"{parent}__status": DocumentStatus.VOIDED})
                    .values_list("line_id")
                    .annotate(n=Sum("boxes"))
                    .order_by()
                )
                sold.update(dict(rows))
            for line in InventoryLine.objects.filter(company=company):
                assert line.total >= line.committed + line.held >= 0
                assert line.available >= 0
                assert line.held == held.get(line.pk, 0), line.pk
                assert line.committed == sold[line.pk], line.pk
                if line.in_units:
                    # Units sold or held never exceed the units opened (less those removed).
                    opened = self.opened_units[line.pk]
                    assert line.total == opened - self.removed_units[line.pk], line.pk
                    assert line.committed + line.held <= line.total <= opened
                    assert line.opened == 0
                    if line.unit_type == "Stem":
                        assert line.total % 25 == line.committed % 25 == line.held % 25 == 0

        @invariant()
        def a_box_is_whole_or_opened_never_both(self):
            labels = Box.objects.filter(company=company)
            assert not labels.filter(opened_at__isnull=False, removed_at__isnull=False).exists()
            opened = Counter(
                labels.filter(opened_at__isnull=False).values_list("line_id", flat=True)
            )
            # Each opened box's label is marked, if it has one (inventory.update can add
            # boxes without labels; delete_boxes removes labels).
            for pk, count in InventoryLine.objects.filter(company=company).values_list(
                "pk", "opened"
            ):
                assert opened[pk] <= count, pk

    run_state_machine_as_test(
        StockAndOrders,
        settings=settings(max_examples=60, stateful_step_count=30, deadline=None),
    )
