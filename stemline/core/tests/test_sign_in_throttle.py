"""One sign-in throttle for the API's `login`, the web sign-in (the Vendor Portal's too) and
password reset: per login name and per client address, one shared state, pruned."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from stemline.core import services
from stemline.core.models import LoginThrottle, Role
from stemline.core.services import create_user
from stemline.parties.models import Vendor

PASSWORD = "Tulip-Fields-2024"
LOGIN = "maria@sunrise.example"


@pytest.fixture
def maria(company):
    return create_user(company=company, email=LOGIN, role=Role.ADMIN, password=PASSWORD)


def api_login(client, username=LOGIN, password=PASSWORD, **extra):
    return client.post(
        "/api/login",
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )


def web_sign_in(client, username=LOGIN, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_on_the_web_lock_the_name_on_the_api_too(maria):
    web = Client()
    for i in range(30):
        response = web_sign_in(web, password=f"guess-{i}")
        assert response.status_code == 200 and not signed_in(web)
    # The right password, now: refused on both doors, from any address.
    api = api_login(Client(REMOTE_ADDR="203.0.113.9"))
    assert api.status_code == 429, api.json()
    assert api.json()["status"] == 0 and "too many sign-in attempts" in api.json()["message"]
    assert int(api["Retry-After"]) >= 1
    page = web_sign_in(web)
    assert page.status_code == 429 and not signed_in(web)
    assert "Too many sign-in attempts for this login" in page.content.decode()


def test_wrong_passwords_on_the_api_lock_the_web_sign_in(maria):
    api = Client()
    codes = [api_login(api, password=f"guess-{i}").status_code for i in range(31)]
    assert codes == [401] * 30 + [429]
    web = Client(REMOTE_ADDR="198.51.100.7")
    response = web_sign_in(web)
    assert response.status_code == 429
    assert not signed_in(web)
    # Other logins are not affected.
    create_user(
        company=maria.company, email="ana@sunrise.example", role=Role.SALES, password=PASSWORD
    )
    other = Client(REMOTE_ADDR="198.51.100.7")
    web_sign_in(other, username="ana@sunrise.example")
    assert signed_in(other)


def test_right_passwords_do_not_count(maria):
    client = Client()
    for _ in range(29):
        assert api_login(client, password="wrong").status_code == 401
    for _ in range(5):
        assert api_login(client).status_code == 200
        web = Client()
        web_sign_in(web)
        assert signed_in(web)
    assert api_login(client, password="wrong").status_code == 401  # the 30th wrong one
    assert api_login(client).status_code == 429


def test_one_address_is_limited_across_login_names(company):
    attacker = Client(REMOTE_ADDR="192.0.2.50")
    for i in range(services.ADDRESS_LIMIT[0]):
        r = api_login(attacker, username=f"user{i}@example.com", password="x")
        assert r.status_code == 401, (i, r.json())
    create_user(company=company, email="late@example.com", role=Role.SALES, password=PASSWORD)
    assert api_login(attacker, username="late@example.com").status_code == 429
    web = Client(REMOTE_ADDR="192.0.2.50")
    assert web_sign_in(web, username="late@example.com").status_code == 429
    assert "from this address" in web_sign_in(web, username="late@example.com").content.decode()
    # A forged X-Forwarded-For does not help: without STEMLINE_PROXIES it is not trusted.
    forged = api_login(attacker, username="late@example.com", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert forged.status_code == 429
    # Someone else, elsewhere, signs in with the same name.
    assert (
        api_login(Client(REMOTE_ADDR="192.0.2.51"), username="late@example.com").status_code == 200
    )


def test_behind_a_trusted_proxy_the_forwarded_address_counts(company, settings):
    settings.STEMLINE_PROXIES = 1
    create_user(company=company, email="late@example.com", role=Role.SALES, password=PASSWORD)
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for i in range(services.ADDRESS_LIMIT[0]):
        # The client's own forged entry sits left of what the proxy appended.
        extra = {"HTTP_X_FORWARDED_FOR": f"1.2.3.{i % 250}, 192.0.2.50"}
        assert (
            api_login(proxy, username=f"u{i}@example.com", password="x", **extra).status_code == 401
        )
    blocked = api_login(proxy, username="late@example.com", HTTP_X_FORWARDED_FOR="192.0.2.50")
    assert blocked.status_code == 429
    fine = api_login(proxy, username="late@example.com", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert fine.status_code == 200


def test_ipv6_clients_are_counted_per_64(rf):
    a = rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    b = rf.get("/", REMOTE_ADDR="2001:db8:1:2:bbbb::2")
    assert services.client_address(a) == services.client_address(b) == "2001:db8:1:2::/64"


def test_vendor_portal_sign_in_is_throttled(company):
    vendor = Vendor.objects.create(company=company, name="Finca", code="FIN", port_origin="BOG")
    create_user(
        company=company,
        email="farm@finca.example",
        role=Role.VENDOR,
        password=PASSWORD,
        vendor=vendor,
    )
    web = Client()
    for _ in range(30):
        web_sign_in(web, username="farm@finca.example", password="nope")
    response = web_sign_in(web, username="farm@finca.example")
    assert response.status_code == 429 and not signed_in(web)
    fresh = Client(REMOTE_ADDR="198.51.100.20")
    web_sign_in(fresh, username="farm@finca.example")
    assert not signed_in(fresh)


def test_password_reset_requests_are_throttled(maria):
    client = Client()
    url = reverse("password_reset")
    for _ in range(30):
        assert client.post(url, {"email": LOGIN}).status_code == 302
    assert len(mail.outbox) == 30
    refused = client.post(url, {"email": LOGIN})
    assert refused.status_code == 429
    assert "Too many sign-in attempts" in refused.content.decode()
    assert len(mail.outbox) == 30
    # And it is the same state: the name is locked for sign-in too.
    assert api_login(Client(REMOTE_ADDR="203.0.113.3")).status_code == 429


def test_prune_deletes_only_rows_long_full_and_at_most_limit(db):
    now = time.time()
    LoginThrottle.objects.bulk_create(
        [LoginThrottle(key=f"login:old{i}", rate_tat=now - 3600) for i in range(5)]
        + [LoginThrottle(key="login:busy", rate_tat=now + 300)]
    )
    assert services.prune_login_throttles(limit=3) == 3
    assert services.prune_login_throttles() == 2
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["login:busy"]


def test_the_workers_schedule_prunes_stale_rows(db):
    from stemline.sales.management.commands.worker import scheduled

    now = time.time()
    LoginThrottle.objects.bulk_create(
        [LoginThrottle(key="login:old", rate_tat=now - 3600)]
        + [LoginThrottle(key="login:busy", rate_tat=now + 300)]
    )
    scheduled()
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["login:busy"]


def test_a_new_throttle_row_prunes_stale_ones(maria):
    LoginThrottle.objects.bulk_create(
        [LoginThrottle(key=f"login:old{i}", rate_tat=time.time() - 3600) for i in range(150)]
    )
    api_login(Client(), password="wrong")  # two new rows (name and address)
    assert LoginThrottle.objects.filter(key__startswith="login:old").count() == 0
    assert LoginThrottle.objects.filter(key=f"login:{LOGIN}").exists()


def test_a_row_pruned_under_an_attempt_is_made_again(maria):
    client = Client()
    for _ in range(3):
        assert api_login(client, password="wrong").status_code == 401
    LoginThrottle.objects.all().update(rate_tat=0)  # long full: prunable
    assert services.prune_login_throttles() == 2
    assert api_login(client).status_code == 200
    assert api_login(client, password="wrong").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_never_get_past_30(company):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is exercised on PostgreSQL")
    create_user(company=company, email=LOGIN, role=Role.ADMIN, password=PASSWORD)
    codes, barrier = [], threading.Barrier(8)

    def guesser(n):
        client = Client(REMOTE_ADDR=f"192.0.2.{n}")
        barrier.wait()
        for i in range(6):
            codes.append(api_login(client, password=f"g{n}-{i}").status_code)
        connection.close()

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [401] * 30 + [429] * 18
