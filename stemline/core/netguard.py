"""Which URLs Stemline may call on a tenant's behalf, and the connection that keeps to that.

A tenant sets URLs (webhook endpoints, a channel's feed) that the server then calls from inside
its own network. Without a check, a URL could reach the server's loopback, the private network
or the cloud metadata service (server-side request forgery). `check_url` refuses such a URL when
it is saved; `connect` checks again when the connection is made, resolving the name itself and
connecting to the address it checked, so a name whose address changes after it was saved (DNS
rebinding) cannot slip through. Nothing here imports Django models: it is usable from any layer.

Setting `STEMLINE_ALLOW_PRIVATE_WEBHOOKS=1` (on-premises installs, the demo's simulator) allows
loopback, private and link-local addresses; the metadata service, unspecified, multicast and
reserved addresses stay refused whatever it says."""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL = 500
# Cloud metadata services: the credentials of the machine, refused even on-premises.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean ...
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.169.123",  # AWS time sync
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
    )
)
METADATA_NAMES = frozenset(
    (
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    )
)
# Names that mean this machine or its local network whatever a resolver answers (RFC 6761 ...).
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]{1,63}\.?$"
)
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
# NAT64 (RFC 6052): the last 32 bits are an IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
RESOLVE_SECONDS = 3.0
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
BROADCAST = ipaddress.ip_address("255.255.255.255")
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: neither public nor private


class Refused(ValueError):
    """The URL or address may not be called. `category` is what a tenant is shown of it."""

    def __init__(self, reason: str, category: str = "address not allowed"):
        super().__init__(reason)
        self.reason = reason
        self.category = category


class NameNotFound(OSError):
    """The host name does not resolve (now)."""


@dataclass(frozen=True)
class Target:
    """A checked URL, taken apart."""

    url: str
    scheme: str
    host: str  # a name, lowercased, or an address without brackets
    port: int
    path: str  # with the query

    @property
    def https(self) -> bool:
        return self.scheme == "https"


def allow_private_default() -> bool:
    try:
        from django.conf import settings

        return bool(getattr(settings, "ALLOW_PRIVATE_WEBHOOKS", False))
    except Exception:  # outside Django (a script): the safe answer
        return False


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64, compatible): each
    must pass the IPv4 rules too, or `[::ffff:127.0.0.1]` would reach loopback."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in NAT64 or ip in NAT64_LOCAL:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d, deprecated "IPv4-compatible"
        found.append(ipaddress.IPv4Address(int(ip)))
    return found


def check_address(ip: Address, *, allow_private: bool | None = None) -> None:
    """Raise Refused unless Stemline may connect to this address."""
    if allow_private is None:
        allow_private = allow_private_default()
    if ip in METADATA_ADDRESSES:
        raise Refused("must not be a cloud metadata address")
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            raise Refused("must not name a network interface")
        for inner in _embedded_ipv4(ip):
            check_address(inner, allow_private=allow_private)
    if ip.is_unspecified or ip.is_multicast or ip in THIS_NETWORK or ip == BROADCAST:
        raise Refused("must be a public address (this one is unspecified, multicast or broadcast)")
    if allow_private and (
        ip.is_loopback or ip.is_link_local or ip in SHARED or (ip.is_private and not ip.is_reserved)
    ):
        return
    if not ip.is_global or ip.is_reserved:
        raise Refused(
            "must be a public address (this one is loopback, private, link-local or reserved; "
            "on-premises installs may allow private addresses: see docs/operations.md)"
        )


def _numeric_host(host: str) -> bool:
    """Whether a browser or inet_aton would read the host as an IPv4 address: 2130706433,
    0x7f.1, 017700000001, 127.1 ... (its last label is a number)."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(NUMERIC_LABEL.match(last))


def check_host(host: str, *, allow_private: bool | None = None) -> None:
    """Refuse a host (name or address literal) by what it says, before any resolving."""
    if allow_private is None:
        allow_private = allow_private_default()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if isinstance(ip, ipaddress.IPv4Address) and str(ip) != host:
            raise Refused("write an IPv4 address as four decimal numbers (a.b.c.d)")
        check_address(ip, allow_private=allow_private)
        return
    if "%" in host:
        raise Refused("must not name a network interface")
    if _numeric_host(host):
        raise Refused("write an IPv4 address as four decimal numbers (a.b.c.d)")
    if not HOST_NAME.match(host):
        raise Refused("is not a valid host name", category="invalid address")
    name = host.rstrip(".")
    if name in METADATA_NAMES:
        raise Refused("must not be a cloud metadata address")
    if not allow_private and (name == "localhost" or name.endswith(LOCAL_SUFFIXES)):
        raise Refused("must be a public address (this name is local to the server)")


def parse(url: str, *, allow_private: bool | None = None) -> Target:
    """Take the URL apart and refuse what it says on its face (Refused, with the reason)."""
    url = (url or "").strip()
    if not url:
        raise Refused("is required", category="invalid address")
    if len(url) > MAX_URL:
        raise Refused(f"must be at most {MAX_URL} characters", category="invalid address")
    if any(ord(c) < 33 or ord(c) == 127 or c == "\\" for c in url):
        # Parsers disagree on these (a backslash is a slash to a browser, not to urlsplit).
        raise Refused(
            "must not contain spaces, control characters or backslashes", "invalid address"
        )
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ for one
        raise Refused("is not a valid URL", category="invalid address") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Refused("must be an http:// or https:// address", category="invalid address")
    if "@" in parts.netloc:
        raise Refused("must not hold a user name or password (user@host)")
    netloc = parts.netloc
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise Refused("has an unclosed [ in its address", category="invalid address")
        host, rest = netloc[1:end], netloc[end + 1 :]
        try:
            if not isinstance(ipaddress.ip_address(host.split("%")[0]), ipaddress.IPv6Address):
                raise ValueError
        except ValueError:
            raise Refused("has an invalid IPv6 address", category="invalid address") from None
    else:
        host, sep, port_text = netloc.partition(":")
        rest = sep + port_text
    if rest and not rest.startswith(":"):
        raise Refused("has something after its address", category="invalid address")
    port_text = rest[1:]
    if rest and not port_text.isdigit():
        raise Refused("must have a port between 1 and 65535", category="invalid address")
    port = int(port_text) if port_text else (443 if parts.scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise Refused("must have a port between 1 and 65535", category="invalid address")
    host = host.lower()
    if not host:
        raise Refused("must name a host", category="invalid address")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise Refused("is not a valid host name", category="invalid address") from None
    check_host(host, allow_private=allow_private)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, path=path)


def resolve(host: str, port: int, *, timeout: float = RESOLVE_SECONDS) -> list[tuple]:
    """getaddrinfo with a deadline (the C resolver has none of its own): [(family, sockaddr)].
    A resolver left hanging finishes in its own daemon thread; nobody waits for it."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        sockaddr = (host, port, 0, 0) if ip.version == 6 else (host, port)
        return [(family, sockaddr)]
    result: dict = {}

    def lookup():
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:  # UnicodeError: a label over 63 characters
            result["error"] = exc

    thread = threading.Thread(target=lookup, name="stemline-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"resolving {host} took more than {timeout:g} s")
    if "error" in result:
        raise NameNotFound(str(result["error"]))
    return [(family, sockaddr) for family, _t, _p, _c, sockaddr in result["infos"]]


def checked_addresses(
    host: str, port: int, *, allow_private: bool | None = None, timeout: float = RESOLVE_SECONDS
) -> list[tuple]:
    """Resolve the host now and refuse it when any address it has is not allowed (a name with
    one public and one private address is refused, whichever a connection would pick)."""
    check_host(host, allow_private=allow_private)
    addresses = resolve(host, port, timeout=timeout)
    if not addresses:
        raise NameNotFound(f"{host} has no address")
    for _family, sockaddr in addresses:
        check_address(ipaddress.ip_address(sockaddr[0]), allow_private=allow_private)
    return addresses


def check_url(url: str, *, allow_private: bool | None = None) -> str:
    """The URL, stripped, when Stemline may call it; else Refused with the reason. A name is
    resolved now too (a name that resolves to loopback is refused at once); one that does not
    resolve yet is accepted, as the check runs again at every connection."""
    target = parse(url, allow_private=allow_private)
    try:
        checked_addresses(target.host, target.port, allow_private=allow_private)
    except (NameNotFound, TimeoutError):
        pass
    return target.url


class Deadline:
    """One total time limit for several steps (connect, send, read)."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        return left


def connect(
    target: Target,
    deadline: Deadline,
    *,
    allow_private: bool | None = None,
    tls: ssl.SSLContext | None = None,
) -> socket.socket:
    """A socket connected to the address that was checked just now (never re-resolved behind
    the check's back), TLS-wrapped for https with the host's name verified, within the
    deadline. Raises Refused, NameNotFound, TimeoutError or another OSError."""
    addresses = checked_addresses(
        target.host, target.port, allow_private=allow_private, timeout=min(deadline.left(), 5)
    )
    error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.left())
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            sock.close()
            error = exc
            if isinstance(exc, TimeoutError):
                raise
            continue
        if target.https:
            return _tls(sock, target.host, deadline, tls)
        return sock
    raise error or OSError("no address to connect to")


def _tls(sock: socket.socket, host: str, deadline: Deadline, tls) -> ssl.SSLSocket:
    """The TLS handshake under the total deadline: non-blocking steps, each waiting only for
    what is left (a blocking handshake waits its timeout per read, so a peer dripping bytes
    could stretch it without end)."""
    import selectors

    context = tls or ssl.create_default_context()
    wrapped = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    wrapped.setblocking(False)
    try:
        with selectors.DefaultSelector() as selector:
            while True:
                try:
                    wrapped.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    events = selectors.EVENT_READ
                except ssl.SSLWantWriteError:
                    events = selectors.EVENT_WRITE
                selector.register(wrapped, events)
                ready = selector.select(deadline.left())
                selector.unregister(wrapped)
                if not ready:
                    raise TimeoutError("the TLS handshake took too long")
        wrapped.settimeout(deadline.left())
        return wrapped
    except BaseException:
        wrapped.close()
        raise
