"""The load balancer's two probes: /healthz answers from the web process alone, /readyz also
asks the database (one round trip). The outage itself is in test_outage, on a real cluster
that is stopped."""

import pytest


@pytest.mark.django_db
def test_readyz_asks_the_database_once_and_healthz_never(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": 1, "message": "OK"}
    with django_assert_num_queries(0):
        healthy = client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json() == {"status": 1, "message": "OK"}


@pytest.mark.django_db
def test_readyz_takes_no_token_and_no_session(client):
    # A probe has no credentials: it is neither refused nor sent to the sign-in page.
    answer = client.get("/readyz", HTTP_AUTHENTICATIONTOKEN="not-a-token")
    assert answer.status_code == 200
    assert "sessionid" not in answer.cookies
