"""core.shapes: a statement compiled once answers as the ORM would, on both databases, and a
shape that cannot be reused refuses to compile instead of answering wrongly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stemline.core import shapes
from stemline.core.models import Location
from stemline.inventory.models import InventoryLine, Origin
from stemline.parties.models import Customer
from stemline.sales.models import DocumentChange, WebOrder, WebOrderItem

pytestmark = pytest.mark.django_db

CUSTOMER = shapes.Select(
    lambda company_id, pk: Customer.objects.filter(company_id=company_id, pk=pk, active=True)[:1]
)
WITH_COMPANY = shapes.Select(
    lambda company_id, pk: Customer.objects.select_related("company").filter(
        company_id=company_id, pk=pk
    )[:1]
)
LINES = shapes.Select(
    lambda company_id, *ids: InventoryLine.objects.filter(company_id=company_id, pk__in=ids)
)
BY_CODE = shapes.Select(
    lambda company_id, code: Customer.objects.filter(company_id=company_id, code=code).values_list(
        "pk", "name"
    ),
    strings=("code",),
)


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_select_gives_the_instances_the_orm_gives(stocked):
    company = stocked.company
    found = CUSTOMER.first(company.pk, stocked.florist.pk)
    assert fields(found) == fields(Customer.objects.get(pk=stocked.florist.pk))
    assert found._state.adding is False and found._state.db == "default"
    # Another parameter, the same compiled text: the other customer.
    assert CUSTOMER.first(company.pk, stocked.market.pk).name == "DWF Wholesale"
    # Scoped as written: the other company's id finds nothing, nor does an inactive customer.
    assert CUSTOMER.first(company.pk + 1000, stocked.florist.pk) is None
    Customer.objects.filter(pk=stocked.florist.pk).update(active=False)
    assert CUSTOMER.first(company.pk, stocked.florist.pk) is None


def test_select_related_rows_come_with_their_related_object(stocked):
    found = WITH_COMPANY.first(stocked.company.pk, stocked.market.pk)
    with CaptureQueriesContext(connection) as reads:
        assert found.company.name == stocked.company.name
        assert found.company.transaction_fee_rate == stocked.company.transaction_fee_rate
    assert len(reads) == 0  # joined, not read again


WITH_LINES = shapes.Select(
    lambda company_id, pk: (
        Customer.objects.select_related("company")
        .filter(company_id=company_id, pk=pk)
        .annotate(
            has_lines=Exists(WebOrderItem.objects.filter(web_order__customer_id=OuterRef("pk"))),
            ship_tos_kept=Count("ship_tos"),
        )[:1]
    )
)


def test_annotations_come_as_the_orms_attributes(stocked):
    from stemline.sales import services

    company = stocked.company
    found = WITH_LINES.first(company.pk, stocked.florist.pk)
    assert found.has_lines is False
    line = stocked.add(5)
    services.add_items(
        company=company,
        customer_id=stocked.florist.pk,
        requests=[services.ItemRequest(line.pk, 2)],
        origin=Origin.ON_HAND,
    )
    found = WITH_LINES.first(company.pk, stocked.florist.pk)
    orm = (
        Customer.objects.filter(pk=stocked.florist.pk)
        .annotate(
            has_lines=Exists(WebOrderItem.objects.filter(web_order__customer_id=OuterRef("pk"))),
            ship_tos_kept=Count("ship_tos"),
        )
        .get()
    )
    assert found.has_lines is orm.has_lines is True
    assert found.ship_tos_kept == orm.ship_tos_kept
    assert found.company.name == company.name  # the related object still in its place
    assert fields(found) == fields(orm)


def test_any_number_of_ids_and_values_lists(stocked):
    a, b, c = stocked.add(3), stocked.add(4), stocked.add(5)
    company = stocked.company
    assert {line.pk for line in LINES.all(company.pk, a.pk)} == {a.pk}
    assert {line.pk: line.total for line in LINES.all(company.pk, a.pk, c.pk)} == {
        a.pk: 3,
        c.pk: 5,
    }
    three = LINES.all(company.pk, a.pk, b.pk, c.pk)
    assert sorted(fields(x)["total"] for x in three) == [3, 4, 5]
    # Decimals and dates come back typed, as the ORM gives them (SQLite needs converters).
    line = next(x for x in three if x.pk == a.pk)
    assert line.price_a == Decimal("0.500") and isinstance(line.price_a, Decimal)
    assert fields(line) == fields(InventoryLine.objects.get(pk=a.pk))
    assert BY_CODE.all(company.pk, "BLOOM") == [(stocked.florist.pk, "Bloom Florist")]
    assert BY_CODE.all(company.pk, "NOPE") == []


def test_integer_constants_are_written_into_the_text_and_answer_as_the_orm(stocked):
    company = stocked.company
    small, big = stocked.add(2), stocked.add(7)
    # A constant (the 5), a negative one (which must not make `- -3`, a comment) and a
    # literal percent sign beside the parameters.
    shape = shapes.Select(
        lambda company_id, pk: (
            InventoryLine.objects.filter(
                company_id=company_id, total__gt=5, total__gte=F("committed") - (-3), pk__gte=pk
            )
            .exclude(reference__startswith="100%")
            .order_by("id")
        )
    )
    found = shape.all(company.pk, small.pk)
    assert [line.pk for line in found] == [big.pk]
    compiled = shape.compiled("default", 2)
    assert "> 5" in compiled.sql and "(-3)" in compiled.sql
    # Only the two parameters (and the LIKE pattern, a string constant) are still sent apart.
    assert [kind for kind, _ in compiled.slots].count("arg") == 2
    assert len(compiled.slots) == compiled.sql.count("%s") - compiled.sql.count("%%s")
    InventoryLine.objects.filter(pk=big.pk).update(reference="100% roses")
    assert shape.all(company.pk, small.pk) == []
    # Another parameter, the same text, the ORM's answer.
    InventoryLine.objects.filter(pk=big.pk).update(reference="")
    assert [x.pk for x in shape.all(company.pk, big.pk + 1)] == []
    assert [x.pk for x in shape.all(company.pk, small.pk)] == [big.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_pending_order_look_up_keeps_to_its_index_in_the_generic_plan(stocked):
    """A customer's pending web order is found through `web_order_pending` even in the plan
    PostgreSQL makes once for any parameters, however many orders the company has had:
    with the status sent as a parameter, that plan walked every order backwards by id."""
    from stemline.sales import services as sales

    company, location = stocked.company, Location.objects.get(company=stocked.company)
    WebOrder.objects.bulk_create(
        WebOrder(
            company=company,
            customer=stocked.florist if i % 2 else stocked.market,
            location=location,
            status=WebOrder.Status.CHECKED_OUT,
            hold_expires_at=timezone.now(),
        )
        for i in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_weborder")
    with transaction.atomic():
        compiled = sales._ORDER_PENDING.compiled("default", 3)
        text = compiled.sql
        for n in range(1, 4):
            text = text.replace("%s", f"${n}", 1)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE pending_look_up AS {text}")
            try:
                cursor.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE pending_look_up(%s, %s, %s)",
                    [company.pk, stocked.florist.pk, location.pk],
                )
                plan = cursor.fetchone()[0]
            finally:
                cursor.execute("DEALLOCATE pending_look_up")
    assert "web_order_pending" in str(plan)
    assert plan[0]["Execution Time"] < 5  # ms: not a walk through 2,000 orders
    assert sales._ORDER_PENDING.first(company.pk, stocked.florist.pk, location.pk) is None


def test_a_parameter_the_orm_rewrites_refuses_to_compile(company):
    # `contains` wraps its value in %...%: the compiled text could not take another value.
    shape = shapes.Select(
        lambda company_id, name: Customer.objects.filter(
            company_id=company_id, name__contains=name
        ),
        strings=("name",),
    )
    with pytest.raises(shapes.ShapeError, match="name"):
        shape.all(company.pk, "Bloom")
    with pytest.raises(TypeError):
        CUSTOMER.first(company.pk)


def test_insert_writes_what_bulk_create_would(stocked):
    company = stocked.company
    location = Location.objects.get(company=company, is_default=True)
    line = stocked.add(5)
    before = timezone.now()
    order = WebOrder(
        company=company,
        customer=stocked.florist,
        location=location,
        hold_expires_at=before + timedelta(minutes=30),
    )
    item = WebOrderItem(
        company=company, web_order=order, line=line, origin=1, quantity=2, price=Decimal("0.5")
    )
    shapes.insert([order])
    assert order.pk is not None and order._state.adding is False
    shapes.insert([item])  # its order was assigned before it had a key
    stored = WebOrder.objects.get(pk=order.pk)
    assert stored.created_at >= before  # auto_now_add stamped
    assert stored.hold_expires_at == order.hold_expires_at
    assert stored.status == WebOrder.Status.PENDING  # the field's default
    assert list(stored.items.values_list("line_id", "quantity", "price")) == [
        (line.pk, 2, Decimal("0.500"))
    ]
    # Several rows in one statement, each given its own key in order.
    rows = [
        DocumentChange(company=company, feed="invoices", document_id=n, kind="created")
        for n in (7, 8, 9)
    ]
    with CaptureQueriesContext(connection) as writes:
        shapes.insert(rows)
    assert len(writes) == 1
    assert [DocumentChange.objects.get(pk=row.pk).document_id for row in rows] == [7, 8, 9]


def test_insert_family_writes_a_parent_and_its_rows_in_one_statement_on_postgresql(stocked):
    company = stocked.company
    location = Location.objects.get(company=company, is_default=True)
    lines = [stocked.add(5), stocked.add(6)]
    order = WebOrder(
        company=company,
        customer=stocked.florist,
        location=location,
        hold_expires_at=timezone.now() + timedelta(minutes=30),
    )
    # The rows name their parent before it has a key (as _document builds them), or not at all.
    items = [
        WebOrderItem(
            company=company, web_order=order, line=line, origin=1, quantity=n, price=Decimal("0.5")
        )
        for n, line in enumerate(lines, start=1)
    ]
    change = DocumentChange(company=company, feed="invoices", kind="created")
    with CaptureQueriesContext(connection) as writes:
        shapes.insert_family(
            order, [(items, "web_order_id"), ([], "web_order_id"), ([change], "document_id")]
        )
    # One round trip on PostgreSQL; elsewhere one INSERT per table (the empty group skipped).
    assert len(writes) == (1 if connection.vendor == "postgresql" else 3)
    stored = WebOrder.objects.get(pk=order.pk)
    assert order._state.adding is False and stored.customer_id == stocked.florist.pk
    assert [(i.pk, i.web_order_id, i.web_order is order) for i in items] == [
        (i.pk, order.pk, True) for i in items
    ]
    # Each row got its own key, in the order given.
    assert list(
        WebOrderItem.objects.filter(web_order=stored)
        .order_by("pk")
        .values_list("pk", "line_id", "quantity")
    ) == [(items[0].pk, lines[0].pk, 1), (items[1].pk, lines[1].pk, 2)]
    assert DocumentChange.objects.get(pk=change.pk).document_id == order.pk == change.document_id


def _unsaved_order(stocked) -> WebOrder:
    company = stocked.company
    return WebOrder(
        company=company,
        customer=stocked.florist,
        location=Location.objects.get(company=company, is_default=True),
        hold_expires_at=timezone.now(),
    )


def test_insert_family_is_all_or_nothing(stocked):
    company = stocked.company
    order = _unsaved_order(stocked)
    # A row the database refuses (a quantity is required): the parent is not kept either.
    bad = WebOrderItem(
        company=company, web_order=order, line_id=stocked.add(5).pk, origin=1, price=Decimal("1")
    )
    bad.quantity = None
    before = WebOrder.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        shapes.insert_family(order, [([bad], "web_order_id")])
    assert WebOrder.objects.count() == before


def test_insert_family_refuses_a_row_pointing_at_another_unsaved_record(stocked):
    """Only the parent may be unsaved: a row whose line (say) was never saved is refused before
    anything is written, as bulk_create refuses it."""
    company = stocked.company
    order = _unsaved_order(stocked)
    saved = stocked.add(5)
    unsaved = InventoryLine(company=company, location=saved.location, product=saved.product)
    item = WebOrderItem(
        company=company, web_order=order, line=unsaved, origin=1, quantity=1, price=Decimal("1")
    )
    before = WebOrder.objects.count()
    with pytest.raises(ValueError, match="unsaved related object 'line'"), transaction.atomic():
        shapes.insert_family(order, [([item], "web_order_id")])
    assert WebOrder.objects.count() == before


def test_insert_takes_the_key_of_a_record_saved_after_it_was_assigned(stocked):
    """As bulk_create: a row given a record before that record was saved writes the record's
    key (and keeps pointing at it); an unsaved one is refused, its row not written."""
    order = _unsaved_order(stocked)
    item = WebOrderItem(
        company=stocked.company,
        web_order=order,
        line=stocked.add(5),
        origin=1,
        quantity=2,
        price=Decimal("1"),
    )
    with pytest.raises(ValueError, match="unsaved related object 'web_order'"):
        shapes.insert([item])
    assert not WebOrderItem.objects.exists()
    shapes.insert([order])
    shapes.insert([item])
    saved = WebOrderItem.objects.get()
    assert saved.web_order_id == order.pk == item.web_order_id and item.web_order is order
    assert (saved.pk, saved.quantity) == (item.pk, 2)


def test_update_writes_only_the_fields_named(stocked):
    company = stocked.company
    order = WebOrder.objects.create(
        company=company,
        customer=stocked.florist,
        location=Location.objects.get(company=company, is_default=True),
        hold_expires_at=timezone.now(),
        customer_po="PO-1",
    )
    order.status = WebOrder.Status.CHECKED_OUT
    order.customer_po = "PO-2"  # changed in memory, not named: not written
    shapes.update(order, ["status"])
    stored = WebOrder.objects.get(pk=order.pk)
    assert stored.status == WebOrder.Status.CHECKED_OUT and stored.customer_po == "PO-1"


def test_nobody_listens_to_the_models_written_without_signals():
    """insert and update send no signals: the models the order path writes through them must
    have no receiver that would miss the write."""
    from stemline.inventory.models import InventoryChange
    from stemline.sales.models import Invoice, InvoiceCharge, InvoiceItem, Prebook, PrebookItem

    written = (WebOrder, WebOrderItem, DocumentChange, InventoryChange, Invoice, InvoiceItem)
    for model in (*written, InvoiceCharge, Prebook, PrebookItem):
        assert not post_save.has_listeners(model), model


def test_every_column_is_made_ready_for_the_driver_as_django_makes_it():
    """shapes prepares a plain value (text, a flag, an integer, a key) without Django's chain
    of calls: for every column of every model, whatever the value, it gives what Django's
    get_db_prep_save gives, of the same type (psycopg's typed integers on PostgreSQL)."""
    from django.apps import apps

    samples = [None, "", "Freedom 50cm", True, False, 0, 7, -3, 2**40, Decimal("1.50")]
    shortcut = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            plan = shapes._plan(field, connection)
            if not plan[1]:
                continue  # Django's own way, word for word (a time set on save, a decimal)
            shortcut += 1
            for value in samples:
                obj = model()
                setattr(obj, field.attname, value)
                try:
                    expected = field.get_db_prep_save(field.pre_save(obj, add=True), connection)
                except Exception as refused:  # noqa: BLE001 - the shortcut must refuse too
                    with pytest.raises(type(refused)):
                        shapes._prep(plan, obj, connection)
                    continue
                got = shapes._prep(plan, obj, connection)
                assert (type(got), got) == (type(expected), expected), (field, value)
    assert shortcut > 100  # most columns take the shortcut
