"""core.models.Row: a row read whole becomes the same instance Django's generic load makes,
and whatever that shortcut cannot honour (a partial row, a listener, a model of its own) still
takes Django's way."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from stemline.core.models import Company, Location, Row, _plain_attnames
from stemline.inventory.models import InventoryLine
from stemline.parties.models import Customer

pytestmark = pytest.mark.django_db


def _generic(instance):
    """The same row loaded by Django's own Model.from_db, as a full SELECT would load it."""
    model = type(instance)
    fields = model._meta.concrete_fields
    row = model.objects.filter(pk=instance.pk).values_list(*(f.attname for f in fields)).get()
    return Model.from_db.__func__(model, "default", [f.attname for f in fields], row)


def _values(instance):
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def test_a_whole_row_loads_as_djangos_own_load_makes_it(stocked):
    line = stocked.add(12)
    read = InventoryLine.objects.get(pk=line.pk)
    assert issubclass(InventoryLine, Row) and _plain_attnames(InventoryLine)
    assert _values(read) == _values(_generic(read))
    assert read._state.adding is False and read._state.db == "default"
    assert read.get_deferred_fields() == set()
    # Its relations load as usual, and a save is an UPDATE of the row, not a new one.
    assert read.product.description == "Rose Freedom Red 50cm"
    read.total = 15
    with CaptureQueriesContext(connection) as queries:
        read.save(update_fields=["total"])
    assert [q["sql"].split()[0] for q in queries] == ["UPDATE"]
    assert InventoryLine.objects.get(pk=line.pk).total == 15
    assert InventoryLine.objects.count() == 1


def test_related_rows_read_with_the_row_load_whole_too(stocked):
    line = stocked.add(3)
    read = InventoryLine.objects.select_related("product", "vendor", "location").get(pk=line.pk)
    for related in (read.product, read.vendor, read.location):
        assert _values(related) == _values(_generic(related))
        assert related._state.adding is False
    with CaptureQueriesContext(connection) as queries:
        assert read.vendor.name == "Rosas del Monte"
    assert len(queries) == 0


def test_a_partial_row_keeps_its_deferred_fields(company):
    Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM")
    read = Customer.objects.only("name").get(code="BLOOM")
    assert "code" in read.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert read.code == "BLOOM"
    assert len(queries) == 1


def test_a_file_column_reads_as_a_file(company):
    company.logo.save("logo.png", ContentFile(b"\x89PNG fake"), save=True)
    read = Company.objects.get(pk=company.pk)
    assert _values(read) == _values(_generic(read))
    assert read.logo.name == company.logo.name and read.logo
    assert read.logo.instance is read


def test_a_listener_to_post_init_still_hears_every_loaded_row(company):
    heard = []

    def listen(sender, instance, **kwargs):
        heard.append((sender, instance.pk))

    post_init.connect(listen, sender=Location)
    try:
        read = list(Location.objects.filter(company=company))
    finally:
        post_init.disconnect(listen, sender=Location)
    assert read and heard == [(Location, location.pk) for location in read]
    # Without the listener, the rows still load (and nobody hears them).
    heard.clear()
    assert list(Location.objects.filter(company=company)) == read
    assert heard == []
