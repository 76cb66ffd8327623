"""The URL policy on its own: what a tenant may make Stemline call, and the connection that
keeps to it (a name is resolved and connected to as checked)."""

import socket
import threading

import pytest

from stemline.core import netguard

# Every form of "this machine, its network or the cloud's metadata" a URL can take.
BAD_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/hook",
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://0x7f.1/",  # hex, short form
    "http://0x7f000001/",
    "http://017700000001/",  # octal
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:7f00:1::]/",  # 6to4 of loopback
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[fe80::1%25eth0]/",  # link-local with a zone
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[::]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://db.internal/",
    "http://printer.local/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://user@127.0.0.1@erp.example/",
    "http://erp.example@127.0.0.1/",
    "http://user:secret@erp.example/",
    "http://erp.example\\@127.0.0.1/",
    "http://erp.example:0/",
    "http://erp.example:70000/",
    "http://erp.example:-1/",
    "http://erp.example:8o/",
    "http://erp .example/",
    "ftp://erp.example/x",
    "file:///etc/passwd",
    "gopher://erp.example/",
    "javascript:alert(1)",
    "//erp.example/hook",
    "http:///hook",
    "http://[::1/",
    "http://" + "a" * 70 + "/",  # a label over 63 characters
    "",
]
GOOD_URLS = [
    "https://erp.example/hooks",
    "https://ERP.example:8443/hooks?x=1",
    "http://8.8.8.8/hook",
    "https://[2001:4860:4860::8888]/hook",
    "https://xn--bcher-kva.example/feed",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_are_refused(url):
    with pytest.raises(netguard.Refused):
        netguard.check_url(url, allow_private=False)


@pytest.mark.parametrize("url", GOOD_URLS)
def test_public_urls_pass(url):
    assert netguard.check_url(url, allow_private=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/dwf/webhook",
        "http://localhost:8001/",
        "http://10.1.2.3/",
        "http://[::1]/",
    ],
)
def test_the_operator_allowance_lets_private_addresses_through(url):
    assert netguard.check_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://metadata.google.internal/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://user@127.0.0.1/",
        "http://127.0.0.1:0/",
    ],
)
def test_metadata_and_tricks_stay_refused_with_the_allowance(url):
    with pytest.raises(netguard.Refused):
        netguard.check_url(url, allow_private=True)


def test_a_name_that_resolves_to_loopback_is_refused():
    """A real resolve: the machine's own name (in /etc/hosts) points at loopback."""
    name = socket.gethostname().lower()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if not all(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip("this machine's name is not a loopback name here")
    with pytest.raises(netguard.Refused):
        netguard.check_url(f"http://{name}:8000/hook", allow_private=False)
    assert netguard.check_url(f"http://{name}:8000/hook", allow_private=True)


def test_a_name_that_does_not_resolve_yet_is_saved_and_checked_at_connect():
    url = "https://not-there-yet.invalid/hook"
    assert netguard.check_url(url, allow_private=False) == url
    target = netguard.parse(url, allow_private=False)
    with pytest.raises(netguard.NameNotFound):
        netguard.connect(target, netguard.Deadline(5), allow_private=False)


def test_connect_refuses_before_any_packet_and_connects_to_the_checked_address():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    target = netguard.parse(f"http://localhost:{port}/", allow_private=True)
    with pytest.raises(netguard.Refused):
        netguard.connect(target, netguard.Deadline(5), allow_private=False)
    sock = netguard.connect(target, netguard.Deadline(5), allow_private=True)
    assert sock.getpeername()[0] in ("127.0.0.1", "::1")
    sock.close()
    listener.close()
