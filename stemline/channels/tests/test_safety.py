"""Delivery that is safe to run in production: a tenant's URL never reaches the server's own
network (when saved, nor when the worker connects), a failure shows as a short category, the
web's Replay and Retry never wait on an endpoint, every attempt has one total deadline and reads
a bounded answer, and a failed enqueue never leaves an endpoint flagged as queued."""

import socket
import threading
import time

import pytest
import redis
from django.test import Client
from django_tasks_db.models import DBTaskResult

from stemline.channels import delivery, outbox, services, tasks
from stemline.channels.models import Attempt, Channel, Endpoint, Event
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.core.tests.test_netguard import BAD_URLS
from stemline.inventory.tests.test_api_feeds import ok, refused

from .conftest import deliver
from .servers import BadEndpoint, closed_port_url

pytestmark = pytest.mark.django_db

# A table the API and the wizard are both checked with (the full one is netguard's own test).
TABLE = [
    "http://2130706433/",
    "http://0x7f.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://user@127.0.0.1@erp.example/",
    "http://erp.example:0/",
    "http://erp.example:70000/",
    "ftp://erp.example/x",
    "http://127.0.0.1:8001/ftd/webhook",
    "http://localhost/",
    "http://10.0.0.5/",
]
assert set(TABLE) - {"http://127.0.0.1:8001/ftd/webhook"} <= set(BAD_URLS)


@pytest.fixture
def no_private(settings):
    """Production's rule: the test settings allow private addresses for the simulator."""
    settings.ALLOW_PRIVATE_WEBHOOKS = False


@pytest.fixture
def servers():
    made = []

    def make(mode, seconds=60.0):
        made.append(BadEndpoint(mode, seconds))
        return made[-1]

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def signed_in(stocked):
    user = create_user(
        company=stocked.company, email="setup@example.com", role=Role.SETUP, password="x-y-z-12345"
    )
    client = Client()
    client.force_login(user)
    return client


def loopback_name() -> str:
    """This machine's own name when it resolves (for real, /etc/hosts) to loopback only."""
    name = socket.gethostname().lower()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if not all(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip("this machine's name is not a loopback name here")
    return name


# 1. No server-side request forgery -------------------------------------------------------


@pytest.mark.parametrize("url", TABLE)
def test_the_api_refuses_a_non_public_url_naming_url(api, company_token, no_private, url):
    body = refused(api("webhook.endpoint.set", company_token, {"url": url}), 422, "url")
    assert body["message"].startswith("url: ")
    assert not Endpoint.objects.exists()


def test_the_api_refuses_a_name_that_resolves_to_loopback(api, company_token, no_private):
    url = f"http://{loopback_name()}:8001/hook"
    refused(api("webhook.endpoint.set", company_token, {"url": url}), 422, "url")
    assert not Endpoint.objects.exists()


def test_the_api_still_takes_a_public_url(api, company_token, no_private):
    answer = ok(api("webhook.endpoint.set", company_token, {"url": "https://erp.example/hooks"}))
    assert answer["url"] == "https://erp.example/hooks"


@pytest.mark.parametrize("url", TABLE)
def test_the_wizard_refuses_a_non_public_url_beside_the_field(signed_in, no_private, url):
    answer = signed_in.post("/setup/integrations/connect/", {"marketplace": "ftd", "endpoint": url})
    assert answer.status_code == 200
    assert b'id="id_endpoint_errors"' in answer.content
    assert not Channel.objects.exists()


def test_the_channel_settings_refuse_a_non_public_url_beside_the_field(
    signed_in, stocked, no_private
):
    channel = services.connect(company=stocked.company, marketplace="ftd").channel
    form = {
        "sells_on_hand": "on",
        "price_level": "B",
        "markup": "5",
        "buffer": "0",
        "fee_rate": "0.02",
        "snapshot_every": "300",
        "active": "on",
        "endpoint": "http://169.254.169.254/latest/meta-data/",
    }
    answer = signed_in.post(f"/setup/integrations/{channel.pk}/", form)
    assert answer.status_code == 200
    assert b'id="id_endpoint_errors"' in answer.content
    assert b"metadata" in answer.content
    channel.refresh_from_db()
    assert channel.endpoint_id is None


def test_metadata_stays_refused_with_the_operator_allowance(api, company_token):
    # The test settings allow private addresses (STEMLINE_ALLOW_PRIVATE_WEBHOOKS=1) ...
    ok(api("webhook.endpoint.set", company_token, {"url": "http://127.0.0.1:8001/hook"}))
    # ... never the cloud's metadata service.
    for url in ("http://169.254.169.254/", "http://metadata.google.internal/"):
        refused(api("webhook.endpoint.set", company_token, {"url": url}), 422, "url")


def test_a_name_that_resolves_to_loopback_when_the_worker_connects_is_not_delivered(
    connect, stocked, settings
):
    """Saved while it was public (or before the rule), it points at loopback now: the worker
    checks again, sends nothing, and logs `address not allowed` as a failure."""
    channel, market, _ = connect("ftd")
    port = market.bundle["webhook"]["url"].rsplit(":", 1)[1].split("/")[0]
    Endpoint.objects.filter(pk=channel.endpoint_id).update(
        url=f"http://{loopback_name()}:{port}/ftd/webhook"
    )
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    outcome = deliver(channel)
    assert outcome.failed == 1 and outcome.sent == 0
    assert market.received == 0 and market.refused == 0  # not one byte reached it
    attempt = Attempt.objects.get()
    assert attempt.error == "address not allowed" and attempt.status_code is None
    endpoint = Endpoint.objects.get(pk=channel.endpoint_id)
    assert endpoint.last_error == "address not allowed" and endpoint.failures == 1
    event = Event.objects.get()
    assert event.status == Event.Status.PENDING and event.next_attempt_at > event.created_at


def _failed_attempt(stocked, url, settings, timeout=10.0):
    settings.WEBHOOK_TIMEOUT_SECONDS = timeout
    channel = services.connect(company=stocked.company, marketplace="ftd", endpoint_url=url).channel
    started = time.monotonic()
    deliver(channel)
    return channel, Attempt.objects.get(), time.monotonic() - started


@pytest.mark.parametrize(
    "mode, category",
    [("error", "HTTP 503"), ("banner", "invalid HTTP answer"), ("sleep", "timeout")],
)
def test_a_failure_is_logged_as_a_category_never_foreign_text(
    signed_in, stocked, servers, settings, mode, category
):
    server = servers(mode)
    channel, attempt, _ = _failed_attempt(stocked, server.url, settings, timeout=1.0)
    assert attempt.error == category
    page = signed_in.get(f"/setup/integrations/{channel.pk}/").content.decode()
    assert category in page
    for foreign in ("OpenSSH", "secret-internal-host", "nginx", "db-primary", "Errno"):
        assert foreign not in page


def test_a_refused_connection_is_logged_as_refused(signed_in, stocked, settings):
    channel, attempt, _ = _failed_attempt(stocked, closed_port_url(), settings)
    assert attempt.error == "refused"
    assert Endpoint.objects.get(pk=channel.endpoint_id).last_error == "refused"
    page = signed_in.get(f"/setup/integrations/{channel.pk}/").content.decode()
    assert "refused" in page and "Errno" not in page and "Connection refused" not in page


def test_errors_logged_before_categories_show_as_one(api, stocked, company_token, signed_in):
    channel = services.connect(
        company=stocked.company, marketplace="ftd", endpoint_url="https://ftd.example/feed"
    ).channel
    raw = "[Errno 111] Connection refused by 10.0.3.7 (SSH-2.0-OpenSSH_9.2)"
    Event.objects.update(last_error=raw)
    Endpoint.objects.update(last_error=raw, failures=3)
    page = signed_in.get(f"/setup/integrations/{channel.pk}/").content.decode()
    assert "connection failed" in page and "OpenSSH" not in page and "Errno" not in page
    ok(api("webhook.endpoint.set", company_token, {"url": "https://erp.example/hooks"}))
    Endpoint.objects.update(last_error=raw)
    answer = ok(api("webhook.endpoint.get", company_token, verb="GET"))
    assert answer["lastError"] == "connection failed"


# 3. No web request waits on a tenant's endpoint -----------------------------------------------


def test_replay_and_retry_answer_at_once_with_a_stuck_endpoint(
    signed_in, stocked, servers, settings
):
    stuck = servers("sleep", 60)
    channel = services.connect(
        company=stocked.company, marketplace="ftd", endpoint_url=stuck.url
    ).channel
    event = Event.objects.get()
    started = time.monotonic()
    answer = signed_in.post(
        f"/setup/integrations/{channel.pk}/events/{event.pk}/replay/", follow=True
    )
    assert time.monotonic() - started < 1.0
    assert b"queued to be sent again" in answer.content
    assert stuck.requests == 0  # nothing was sent from the web request
    assert DBTaskResult.objects.filter(task_path="stemline.channels.tasks.replay_event").exists()

    Event.objects.update(status=Event.Status.FAILED)
    started = time.monotonic()
    answer = signed_in.post(f"/setup/integrations/{channel.pk}/retry/", follow=True)
    assert time.monotonic() - started < 1.0
    assert b"1 waiting events are due now" in answer.content
    assert stuck.requests == 0
    assert Event.objects.get().status == Event.Status.PENDING


# 4. One total deadline, a bounded answer ---------------------------------------------------


def _send_in_thread(url, seconds):
    """Send one signed event to the URL, in a thread given `seconds` at most; (status, error,
    elapsed), or None when it has not finished by then."""
    result = {}

    def run():
        started = time.monotonic()
        with delivery.Poster(url) as poster:
            event = Event(msg_id="msg_test", kind="inventory.changed", payload={"type": "x"})
            status, error, _ = delivery.send(poster, delivery.new_secret(), event)
        result["answer"] = (status, error, time.monotonic() - started)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return result.get("answer")


@pytest.mark.parametrize("mode, seconds", [("sleep", 60), ("drip", 0.1)])
def test_an_attempt_ends_at_its_total_deadline(servers, settings, mode, seconds):
    """A marketplace that answers after 60 s, or drips its answer a byte at a time (each byte
    well within any per-read timeout), costs one deadline, not more."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    server = servers(mode, seconds)
    answer = _send_in_thread(server.url, 5)
    assert answer is not None, "the attempt ran past its deadline"
    status, error, elapsed = answer
    assert (status, error) == (None, "timeout")
    assert 0.9 < elapsed < 2.0


def test_a_flood_of_an_answer_is_not_read(servers, settings):
    """200 with a gigabyte behind it: the status counts, a few KB are read, the rest is left."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
    server = servers("flood")
    answer = _send_in_thread(server.url, 4)
    assert answer is not None, "the answer was read on and on"
    status, error, elapsed = answer
    assert (status, error) == (200, "") and elapsed < 1.0


def test_endless_headers_are_not_read(servers, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
    server = servers("headers")
    answer = _send_in_thread(server.url, 4)
    assert answer is not None, "the headers were read on and on"
    status, error, elapsed = answer
    assert (status, error) == (None, "answer too large") and elapsed < 2.0


@pytest.fixture
def closing_receiver():
    """A receiver whose every answer ends its connection, as many plain ones do: `http10`
    answers HTTP/1.0 with no Content-Length (the body runs to the end of the connection),
    `close` answers HTTP/1.1 with `Connection: close`; both send the body a moment after the
    headers, so it is read after http.client has let go of the connection."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers = []

    def make(mode):
        received = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0" if mode == "http10" else "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                if mode == "close":
                    self.send_header("Connection", "close")
                    self.send_header("Content-Length", "2")
                self.end_headers()
                time.sleep(0.05)
                self.wfile.write(b"{}")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hook", received

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", ["http10", "close"])
def test_answers_that_end_the_connection_are_delivered(stocked, closing_receiver, mode):
    """Each event on a connection of its own, answered 200: delivered once, not failed (the
    answer's body was read from a socket already closed: EBADF, retried for ever)."""
    url, received = closing_receiver(mode)
    channel = services.connect(company=stocked.company, marketplace="ftd", endpoint_url=url).channel
    stocked.add(2)
    stocked.add(3)  # two deltas, one after the other on the endpoint's stream
    outcome = deliver(channel)
    assert (outcome.sent, outcome.failed) == (3, 0)  # and the snapshot, beside them
    assert len(received) == 3
    assert [e.status for e in Event.objects.order_by("seq")] == [Event.Status.DELIVERED] * 3
    assert list(Attempt.objects.values_list("status_code", "error")) == [(200, "")] * 3


# 5. A failed enqueue leaves no endpoint flagged as queued ------------------------------------


def test_an_enqueue_that_fails_leaves_the_endpoint_unflagged(
    stocked, settings, django_capture_on_commit_callbacks
):
    channel = services.connect(
        company=stocked.company, marketplace="ftd", endpoint_url="https://ftd.example/feed"
    ).channel
    original = settings.TASKS, settings.RQ_QUEUES
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{port}/0", "DEFAULT_TIMEOUT": 5}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}

    with pytest.raises(redis.exceptions.ConnectionError):
        outbox.kick(channel.endpoint_id)
    assert not Endpoint.objects.get(pk=channel.endpoint_id).kicked
    # A change while the queue is down commits (the kick is robust) and flags nothing.
    with django_capture_on_commit_callbacks(execute=True):
        stocked.add(3)
    assert not Endpoint.objects.get(pk=channel.endpoint_id).kicked
    assert tasks.sweep() == 0  # the sweep logs, and goes on

    # The queue is back: the next change (or the sweep) queues the delivery.
    settings.TASKS, settings.RQ_QUEUES = original
    DBTaskResult.objects.all().delete()
    assert tasks.sweep() == 1
    assert Endpoint.objects.get(pk=channel.endpoint_id).kicked
    assert DBTaskResult.objects.filter(task_path="stemline.channels.tasks.deliver_endpoint").count()


# HTTPS: connected to the checked address, the certificate verified for the URL's host ----------


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS receiver on 127.0.0.1 with a self-signed certificate for 127.0.0.1 and
    localhost (made with the openssl command)."""
    import shutil
    import ssl
    import subprocess
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/hook", cert
    server.shutdown()
    server.server_close()


def test_https_is_verified_against_the_urls_host(tls_server, monkeypatch):
    url, cert = tls_server
    answer = _send_in_thread(url, 10)
    assert answer[:2] == (None, "TLS certificate not valid")
    # The receiver's certificate trusted (as a public CA's would be): delivered.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert _send_in_thread(url, 10)[:2] == (204, "")


def test_a_tls_handshake_that_never_ends_stops_at_the_deadline(servers, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    server = servers("sleep", 60)
    answer = _send_in_thread(server.url.replace("http://", "https://"), 5)
    assert answer is not None and answer[:2] == (None, "timeout") and answer[2] < 2.0
