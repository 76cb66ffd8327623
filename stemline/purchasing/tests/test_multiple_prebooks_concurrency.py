"""multiple.prebooks.create raced on PostgreSQL: callers sending the same new customer at once
all succeed, onto one customer and one ship-to, each with its own prebook and PO; nothing
deadlocks."""

import json
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from stemline.inventory import services as stock
from stemline.parties.models import Customer, ShipTo
from stemline.purchasing.models import PurchaseOrder
from stemline.sales.models import Prebook

from .test_multiple_prebooks import _body, _line

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and concurrent writers need PostgreSQL (DATABASE_URL=postgres://...)",
    ),
]

CALLERS = 8


def test_callers_sending_one_new_customer_at_once(grower):
    g = grower
    day = stock.today() + timedelta(days=4)
    body = _body(g, [_line(g, day, vendorCode="RDM", cost="0.30")], autoGeneratePOsfromPrebooks=1)
    start = threading.Barrier(CALLERS)
    answers, errors = [], []

    def call():
        try:
            start.wait()
            r = Client().post(
                "/api/multiple.prebooks.create",
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHENTICATIONTOKEN=g.token.secret,
            )
            answers.append((r.status_code, json.loads(r.content)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert [s for s, _ in answers] == [200] * CALLERS, answers
    assert len({b["customerId"] for _, b in answers}) == 1
    assert sum(b["customerCreated"] for _, b in answers) == 1
    assert Customer.objects.filter(company=g.company, code__iexact="NEWFL").count() == 1
    customer = Customer.objects.get(company=g.company, code="NEWFL")
    assert ShipTo.objects.filter(customer=customer).count() == 1
    assert Prebook.objects.filter(customer=customer).count() == CALLERS
    assert PurchaseOrder.objects.filter(company=g.company, status="Approved").count() == CALLERS
