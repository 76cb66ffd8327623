"""One slow marketplace never delays another, with a real worker on PostgreSQL: beside an
endpoint that answers after 60 s and one that drips its answer a byte at a time, a healthy
marketplace gets every change within a second, in order."""

import time

from django.db import transaction

from stemline.channels import services
from stemline.channels.models import Attempt
from stemline.inventory import services as stock

from .servers import BadEndpoint
from .test_workers import pytestmark as worker_marks
from .test_workers import quantities, start_worker, stop, wait_for

pytestmark = worker_marks


def test_a_stuck_and_a_dripping_endpoint_do_not_delay_a_healthy_one(connect, stocked):
    stuck = BadEndpoint("sleep", 60)
    dripping = BadEndpoint("drip", 1.0)
    line = stocked.add(20)
    worker = None
    try:
        # The slow ones are connected first: their snapshots are queued ahead of the healthy one.
        for marketplace, server in (("dwf", stuck), ("bloomnet", dripping)):
            services.connect(
                company=stocked.company, marketplace=marketplace, endpoint_url=server.url
            )
        channel, market, _ = connect("ftd")
        worker = start_worker()
        assert wait_for(lambda: stuck.requests and dripping.requests, seconds=10)
        started = time.monotonic()
        assert wait_for(lambda: quantities(market) == {line.pk: 20}, seconds=2.0), market.state()
        assert time.monotonic() - started < 2.0

        # Changes while the slow two are being tried (and retried): each reaches the healthy
        # marketplace within a second, in order.
        for held in range(1, 9):
            with transaction.atomic():
                stock.hold(company=stocked.company, wanted=[(line.pk, 1)])
            changed_at = time.monotonic()
            assert wait_for(lambda h=held: quantities(market) == {line.pk: 20 - h}, seconds=1.0), (
                held,
                market.state()["delayMs"],
            )
            assert time.monotonic() - changed_at < 1.0
            time.sleep(0.5)
        assert market.state()["delayMs"]["max"] < 1000
        # The slow ones were tried and failed at their deadline, not delivered.
        assert stuck.requests >= 1 and dripping.requests >= 1
    finally:
        if worker is not None:
            stop(worker)
        stuck.stop()
        dripping.stop()
    errors = set(Attempt.objects.exclude(error="").values_list("error", flat=True))
    assert errors <= {"timeout"}, errors
