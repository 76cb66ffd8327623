"""Bad input to the web application is answered 4xx (or the form's error beside the field),
never a 500: numbers a column cannot hold, digits int() refuses, too many fields, bodies the
web forms never need (chunked here; too large in stemline/core/tests/test_serve.py, against
the production server, since the development server drains every body)."""

import http.client
import socket
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from stemline.channels import services as channels
from stemline.core.limits import INT_MAX
from stemline.core.models import Role
from stemline.parties.models import Carrier

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(person):
    # A server error must show as a 500 answer here, as a browser would get it, not as an
    # exception raised into the test.
    client = Client(raise_request_exception=False)
    client.force_login(person(Role.ADMIN))
    return client


@pytest.mark.parametrize("capacity", [str(2**31), str(2**63), str(10**30)])
def test_a_carrier_capacity_beyond_the_column_is_an_error_beside_the_field(admin, capacity):
    form = {"name": "Armellini", "code": "ARM", "direction": "outbound", "capacity": capacity}
    answer = admin.post(reverse("carrier_new"), form)
    assert answer.status_code == 200
    assert b'id="id_capacity_errors"' in answer.content
    assert not Carrier.objects.exists()
    # The largest the column holds is accepted.
    answer = admin.post(reverse("carrier_new"), {**form, "capacity": str(INT_MAX)})
    assert answer.status_code == 302
    assert Carrier.objects.get().capacity == INT_MAX


@pytest.mark.parametrize("field", ["buffer", "line_cap"])
def test_channel_buffer_and_line_cap_beyond_the_column_are_errors_beside_the_field(
    admin, stocked, field
):
    channel = channels.connect(company=stocked.company, marketplace="ftd").channel
    form = {
        "sells_on_hand": "on",
        "price_level": "A",
        "markup": "5",
        "buffer": "2",
        "fee_rate": "0.02",
        "snapshot_every": "120",
        "active": "on",
        "line_cap": "10",
    }
    url = f"/setup/integrations/{channel.pk}/"
    answer = admin.post(url, {**form, field: str(2**31)})
    assert answer.status_code == 200
    assert f'id="id_{field}_errors"'.encode() in answer.content
    assert admin.post(url, {**form, field: str(INT_MAX)}).status_code == 302
    channel.refresh_from_db()
    assert getattr(channel, field) == INT_MAX


def test_ids_that_are_digits_to_python_but_not_to_int_are_ignored(admin):
    # "²".isdigit() is True, int("²") raises: the bulk confirm once answered 500.
    answer = admin.post(reverse("sales_orders_confirm"), {"ids": ["²", str(2**70)]})
    assert answer.status_code == 302
    assert admin.get(reverse("sales_orders") + "?failed=²,3").status_code == 200
    assert admin.get(reverse("customers") + "?type=²").status_code == 200
    assert admin.get(reverse("purchase_orders") + "?vendor=²").status_code == 200
    assert admin.get(reverse("purchase_orders") + f"?vendor={2**70}").status_code == 200


def test_more_than_a_thousand_form_fields_is_a_bad_request(admin):
    fields = {f"f{i}": "x" for i in range(1001)}
    assert admin.post(reverse("carrier_new"), fields).status_code == 400
    assert Client(raise_request_exception=False).post(reverse("login"), fields).status_code == 400


def _raw(live_server, request: bytes) -> tuple[int, bytes]:
    """Send `request` as is and read the status line and body (the connection is closed after)."""
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_web_form_is_refused_with_411(live_server):
    form = urlencode({"username": "someone", "password": "secret"}).encode()
    chunked = f"{len(form):x}\r\n".encode() + form + b"\r\n0\r\n\r\n"
    head = (
        b"POST /login/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
    )
    status, _ = _raw(live_server, head + chunked)
    assert status == 411


def test_a_token_for_a_customer_id_beyond_any_key_is_an_error_not_a_500(admin):
    answer = admin.post(
        reverse("token_new"),
        {
            "description": "Shop",
            "token_type": "customer",
            "customer": str(2**70),
            "grants_customer": ["ecommerce/inventory.list"],
        },
    )
    assert answer.status_code == 200
    assert b'id="id_customer_errors"' in answer.content
