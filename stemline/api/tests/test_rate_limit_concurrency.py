"""The rate limit holds across threads and connections: never more than the burst gets in."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from stemline.api import auth
from stemline.tokens.models import ApiToken


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_exceed_the_burst(company, make_token):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is exercised on PostgreSQL")
    token = make_token(company)
    # A slow refill (one per 100 s) so only the burst can pass during the test.
    ApiToken.objects.filter(pk=token.token.pk).update(rate_per_second=0.01, rate_burst=10)
    codes, barrier = [], threading.Barrier(12)

    def caller():
        client = Client()
        barrier.wait()
        for _ in range(4):
            r = client.get("/api/boxtype.list", HTTP_AUTHENTICATIONTOKEN=token.secret)
            codes.append(r.status_code)
        connection.close()

    threads = [threading.Thread(target=caller) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(codes) == 48
    assert codes.count(200) == 10
    assert codes.count(429) == 38


@pytest.mark.django_db(transaction=True)
def test_a_busy_token_leasing_slots_stays_within_its_quota(company, make_token):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is exercised on PostgreSQL")
    token = make_token(company)
    # 60/s with a burst of 50: the process leases three requests per write.
    ApiToken.objects.filter(pk=token.token.pk).update(rate_per_second=60, rate_burst=50)
    assert auth.lease_size(60, 50) == 3
    codes, barrier = [], threading.Barrier(8)

    def caller():
        client = Client()
        barrier.wait()
        for _ in range(25):
            r = client.get("/api/boxtype.list", HTTP_AUTHENTICATIONTOKEN=token.secret)
            codes.append(r.status_code)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    allowed = codes.count(200)
    assert allowed <= 50 + 60 * elapsed + 1
    assert codes.count(429) == 200 - allowed > 0
