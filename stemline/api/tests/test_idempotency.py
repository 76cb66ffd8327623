"""Idempotency-Key: a retried create takes effect once; a reused key with other parameters is
refused."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from stemline.api.models import IdempotencyRecord
from stemline.catalog.models import Product

pytestmark = pytest.mark.django_db

ROSE = {
    "category": "Roses",
    "variety": "Explorer",
    "color": "Red",
    "grade": "60cm",
    "code": "REX60",
}


def test_retry_with_same_key_replays_the_first_answer(api, company, company_token):
    first = api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-1"})
    second = api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 200
    assert second.json_body == first.json_body
    assert second["Idempotent-Replayed"] == "true"
    assert Product.objects.filter(company=company).count() == 1


def test_same_key_with_other_parameters_is_409(api, company, company_token):
    api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-2"})
    r = api(
        "product.add", company_token, {**ROSE, "grade": "70cm"}, headers={"Idempotency-Key": "k-2"}
    )
    assert r.status_code == 409
    assert r.json_body["errors"][0]["field"] == "Idempotency-Key"
    assert Product.objects.filter(company=company).count() == 1


def test_without_key_each_call_creates(api, company, company_token):
    api("product.add", company_token, ROSE)
    r = api("product.add", company_token, ROSE)
    assert r.status_code == 409  # the product code is taken: it really ran twice
    assert Product.objects.filter(company=company).count() == 1


def test_keys_belong_to_their_token(api, company, make_token):
    a, b = make_token(company), make_token(company)
    api("product.add", a, ROSE, headers={"Idempotency-Key": "shared"})
    r = api("product.add", b, {**ROSE, "code": "OTHER"}, headers={"Idempotency-Key": "shared"})
    assert r.status_code == 200
    assert "Idempotent-Replayed" not in r
    assert Product.objects.filter(company=company).count() == 2


def test_a_refused_create_is_replayed_as_refused(api, company, company_token):
    api("product.add", company_token, ROSE)
    first = api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-3"})
    assert first.status_code == 409
    second = api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-3"})
    assert second.status_code == 409
    assert second.json_body == first.json_body


def test_invalid_request_stores_nothing_so_a_fixed_retry_works(api, company, company_token):
    bad = api(
        "product.add",
        company_token,
        {**ROSE, "variety": "V" * 101},
        headers={"Idempotency-Key": "k-4"},
    )
    assert bad.status_code == 422
    ok = api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-4"})
    assert ok.status_code == 200


def test_keys_expire_after_24_hours(api, company, company_token):
    api("product.add", company_token, ROSE, headers={"Idempotency-Key": "k-5"})
    IdempotencyRecord.objects.update(
        created_at=IdempotencyRecord.objects.get().created_at - timedelta(hours=25)
    )
    r = api(
        "product.add", company_token, {**ROSE, "code": "NEW"}, headers={"Idempotency-Key": "k-5"}
    )
    assert r.status_code == 200
    assert Product.objects.filter(company=company).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_once(company, make_token):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is exercised on PostgreSQL")
    token = make_token(company)
    answers, barrier = [], threading.Barrier(8)

    def retry():
        client = Client()
        barrier.wait()
        r = client.post(
            "/api/product.add",
            ROSE,
            content_type="application/json",
            HTTP_AUTHENTICATIONTOKEN=token.secret,
            HTTP_IDEMPOTENCY_KEY="race",
        )
        answers.append((r.status_code, r.content))
        connection.close()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Product.objects.filter(company=company).count() == 1
    assert {code for code, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1
