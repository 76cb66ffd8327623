"""core.atomic: inside an API call's own transaction a service takes no savepoint (an error
undoes the whole call anyway); anywhere else it is an ordinary atomic block, whose error a
caller may catch and go on."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from stemline.core import atomic
from stemline.parties.models import Customer

pytestmark = pytest.mark.django_db


def savepoints(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_no_savepoint_right_inside_a_whole_call(company):
    with CaptureQueriesContext(connection) as captured, atomic.whole():
        with atomic.atomic():
            Customer.objects.create(company=company, name="Inside")
    # The test's own transaction makes whole() a savepoint; the service inside adds none.
    assert len([s for s in savepoints(captured) if s.upper().startswith("SAVEPOINT")]) == 1


def test_an_error_inside_a_whole_call_undoes_all_of_it(company):
    with pytest.raises(RuntimeError), atomic.whole():
        Customer.objects.create(company=company, name="First")
        with atomic.atomic():
            Customer.objects.create(company=company, name="Second")
            raise RuntimeError("refused")
    assert not Customer.objects.filter(name__in=["First", "Second"]).exists()


def test_elsewhere_a_caller_may_catch_the_error_and_go_on(company):
    with transaction.atomic():
        Customer.objects.create(company=company, name="Kept")
        with CaptureQueriesContext(connection) as captured:
            with pytest.raises(RuntimeError), atomic.atomic():
                Customer.objects.create(company=company, name="Undone")
                raise RuntimeError("refused")
        assert savepoints(captured)  # a savepoint of its own, rolled back
        Customer.objects.create(company=company, name="After")  # the transaction goes on
    names = set(Customer.objects.filter(company=company).values_list("name", flat=True))
    assert {"Kept", "After"} <= names and "Undone" not in names


def test_a_block_nested_deeper_than_the_call_takes_its_savepoint(company):
    with atomic.whole(), transaction.atomic():  # a savepoint the caller asked for
        with CaptureQueriesContext(connection) as captured:
            with pytest.raises(RuntimeError), atomic.atomic():
                raise RuntimeError("refused")
        assert savepoints(captured)
        Customer.objects.create(company=company, name="Still usable")
    assert Customer.objects.filter(name="Still usable").exists()
