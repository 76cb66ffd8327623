"""customer.additional.charge.update from several processes' worth of threads at once on
PostgreSQL: one automatic charge row per customer and charge, the last value wins whole."""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from stemline.parties import services
from stemline.parties.models import Customer, CustomerCharge

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and concurrent writers need PostgreSQL (DATABASE_URL=postgres://...)",
    ),
]


def test_concurrent_charge_updates_leave_one_row(company):
    customer = Customer.objects.create(company=company, name="Bloom Room")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for round_ in range(5):
                services.set_customer_charge(
                    company=company,
                    customer_id=customer.pk,
                    charge_code="FS" if (n + round_) % 2 else "TAX",
                    amount_value=Decimal(n),
                )
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    rows = CustomerCharge.objects.filter(customer=customer)
    assert sorted(r.charge.code for r in rows) == ["FS", "TAX"]
    assert all(r.amount_value in {Decimal(n) for n in range(8)} for r in rows)
    customer.refresh_from_db()
    assert customer.charge_tax and customer.charge_fuel_surcharge
