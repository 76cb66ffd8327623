"""A company always keeps an active Admin: two Admins demoting each other at the same moment
(real threads, PostgreSQL) leave exactly one, and nobody locks themselves out."""

import threading

import pytest
from django.db import connection

from stemline.core.errors import DomainError, Invalid
from stemline.core.models import Role, User
from stemline.core.services import create_user, update_staff_user


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one(company):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is exercised on PostgreSQL")
    for _ in range(5):
        User.objects.filter(company=company).delete()
        ana = create_user(company=company, email="ana@example.com", role=Role.ADMIN)
        ben = create_user(company=company, email="ben@example.com", role=Role.ADMIN)
        results, barrier = {}, threading.Barrier(2)

        def demote(me, other, results=results, barrier=barrier):
            barrier.wait()
            try:
                update_staff_user(company=company, user_id=other.pk, by=me, role=Role.SALES)
                results[me.username] = "ok"
            except DomainError as error:
                results[me.username] = error.message
            finally:
                connection.close()

        threads = [
            threading.Thread(target=demote, args=(ana, ben)),
            threading.Thread(target=demote, args=(ben, ana)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == ["ok", "the company needs at least one active Admin"]
        assert User.objects.filter(company=company, role=Role.ADMIN, is_active=True).count() == 1


@pytest.mark.django_db
def test_an_admin_cannot_demote_or_deactivate_themselves_nor_the_last_admin(company):
    ana = create_user(company=company, email="ana@example.com", role=Role.ADMIN)
    setup = create_user(company=company, email="sam@example.com", role=Role.SETUP)
    with pytest.raises(Invalid, match="your own Admin role"):
        update_staff_user(company=company, user_id=ana.pk, by=ana, active=False)
    # Someone else (the system, a second Admin gone meanwhile) still cannot remove the last.
    with pytest.raises(Invalid, match="at least one active Admin"):
        update_staff_user(company=company, user_id=ana.pk, by=setup, role=Role.SALES)
    with pytest.raises(Invalid, match="staff role"):
        update_staff_user(company=company, user_id=setup.pk, by=ana, role=Role.VENDOR)
    assert update_staff_user(company=company, user_id=setup.pk, by=ana, role=Role.SALES).role == (
        Role.SALES
    )
