"""One address policy and wall-clock deadlines for every HTTP request the VNFM makes.

Package fetches (``upload_from_uri``), OAuth token endpoints, notification
callbacks, subscription test GETs and NFVO grants all use :func:`client`. Its
transport resolves the host itself, checks EVERY address the name stands for
against the :class:`Policy`, then connects to one of those checked addresses
(the URL's host still names the Host header and the TLS SNI and certificate):
a DNS answer that changes between check and connect cannot move the
connection, and every redirect hop is a new connection that is checked again.

Hosts are read the way the C resolver reads them, so ``2852039166``,
``0xa9fea9fe``, ``0251.0376.0251.0376`` and ``169.254.43518`` are all
169.254.169.254, and an IPv6 address that carries an IPv4 one (IPv4-mapped,
IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4, Teredo) is checked as both.

The policy: link-local, unspecified, multicast and broadcast addresses are
always refused. Everything else is allowed unless ``VNFM_OUTBOUND_DENY`` names
it; when ``VNFM_OUTBOUND_ALLOW`` is set, only what it names is allowed. An
address in both lists goes by the longer prefix (a tie denies). Loopback and
private ranges are allowed by default on purpose: NFVOs and their callback
receivers live on private networks, and a single-host deployment (and this
project's tests) on 127.0.0.1; deny them where the VNFM must not reach them.

Every transfer has a wall-clock deadline: each socket read, write, connect and
TLS handshake may only wait for what is left of it, so a peer that sends one
byte now and then is cut when the time is up (a per-read timeout alone never
fires for it). Environment proxies are not used: through a proxy the policy
would see the proxy, not the target.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from vnfm_runner.settings import Settings, parse_networks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_net = ipaddress.ip_network
# Refused whatever VNFM_OUTBOUND_ALLOW says.
ALWAYS_DENIED: tuple[tuple[Network, str], ...] = (
    (_net("169.254.0.0/16"), "a link-local address (clouds serve instance metadata there)"),
    (_net("fe80::/10"), "a link-local address"),
    (_net("0.0.0.0/8"), "an unspecified address (Linux connects it to the local host)"),
    (_net("::/128"), "the unspecified address (Linux connects it to the local host)"),
    (_net("224.0.0.0/4"), "a multicast address"),
    (_net("ff00::/8"), "a multicast address"),
    (_net("255.255.255.255/32"), "the broadcast address"),
)
_SIIT = _net("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
_COMPAT = _net("::/96")  # IPv4-compatible (deprecated, RFC 4291)
_NAT64 = _net("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")

_deadline: ContextVar[float | None] = ContextVar("vnfm_outbound_deadline", default=None)


class OutboundError(Exception):
    """An address the VNFM will not use; ``status`` is the HTTP status for an API caller.
    The message names the address, never credentials, and not the field: callers add it."""

    status = 400


class BadAddress(OutboundError):
    """Not a usable http(s) URI."""


class Refused(OutboundError):
    """The policy forbids the address."""

    status = 422


# -- reading addresses ----------------------------------------------------------------------------
def parse_host(host: str) -> IPAddress | None:
    """The address a URL host literal stands for, or None for a name.

    IPv4 as inet_aton(3) reads it (what getaddrinfo does for a numeric host):
    one to four parts, each decimal, octal (leading 0) or hex (0x), the last
    part filling the bytes left. IPv6 with or without brackets and zone.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise BadAddress(f"{host} is not a valid IPv6 address") from None
    # a trailing dot: glibc asks DNS, other resolvers read the number; refused either way
    parts = text.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    values = [_int(p) for p in parts]
    last_bits = 8 * (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None  # inet_aton refuses it too: the resolver would look the name up
    number = values[-1]
    for i, value in enumerate(values[:-1]):
        number |= value << (24 - 8 * i)
    return ipaddress.IPv4Address(number)


def _int(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)  # inet_aton reads a bare "0x" as 0
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part, 10)


def effective(address: IPAddress) -> list[IPAddress]:
    """The addresses a connection to ``address`` reaches: an IPv4-mapped address is
    its IPv4 address; one that embeds an IPv4 address for a translator or tunnel
    is both."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]  # the socket talks IPv4 to it
    out: list[IPAddress] = [address]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIIT or address in _NAT64 or (address in _COMPAT and int(address) > 1):
        out.append(low32)
    if address.sixtofour is not None:
        out.append(address.sixtofour)
    if address.teredo is not None:
        out.extend(address.teredo)
    return out


# -- the policy -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            allow=parse_networks(settings.outbound_allow, "VNFM_OUTBOUND_ALLOW"),
            deny=parse_networks(settings.outbound_deny, "VNFM_OUTBOUND_DENY"),
        )

    @classmethod
    def from_env(cls) -> Policy:
        return cls.from_settings(Settings())

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused, or None when it is allowed."""
        for reached in effective(address):
            why = self._refusal(reached)
            if why is not None:
                if reached != address:
                    return f"{address} reaches {reached}, {why}"
                return f"{address} is {why}"
        return None

    def _refusal(self, address: IPAddress) -> str | None:
        for net, what in ALWAYS_DENIED:
            if address in net:
                return what
        allowed = max((n.prefixlen for n in self.allow if address in n), default=-1)
        denied = max((n.prefixlen for n in self.deny if address in n), default=-1)
        if self.allow and allowed < 0:
            return "an address outside VNFM_OUTBOUND_ALLOW"
        if denied >= 0 and denied >= allowed:
            return "an address in VNFM_OUTBOUND_DENY"
        return None

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` stands for, all of them checked (Refused), in resolver
        order. A name that does not resolve raises httpcore.ConnectError."""
        literal = parse_host(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
            found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        for address in found:
            why = self.refusal(address)
            if why is not None:
                shown = why if literal is not None else f"{host} resolves to {address}: {why}"
                raise Refused(f"{shown}; the VNFM does not connect there")
        return list(dict.fromkeys(found))

    def check_uri(self, uri: str, *, resolve: bool = True) -> None:
        """Check a URI before it is accepted: BadAddress (400) or Refused (422). A name
        is resolved when ``resolve``; one that does not resolve (yet) passes: the
        connection is checked again in any case."""
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            raise BadAddress("not a valid URI (host or port)") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise BadAddress("only http and https URIs are used")
        host = parts.hostname
        if not host:
            raise BadAddress("the URI has no host")
        literal = parse_host(host)
        if literal is not None:
            why = self.refusal(literal)
            if why is not None:
                raise Refused(f"{why}; the VNFM does not connect there")
            if isinstance(literal, ipaddress.IPv4Address) and host != str(literal):
                # HTTP libraries, proxies and resolvers disagree on these forms
                raise BadAddress(f"write the IPv4 address {host} as {literal}")
        try:
            httpx.URL(uri)
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise BadAddress(f"not a valid URI ({exc})") from None
        if literal is None and resolve:
            default = 443 if parts.scheme.lower() == "https" else 80
            with contextlib.suppress(httpcore.ConnectError):  # reported when it connects
                self.addresses(host, port or default)


# -- deadlines ------------------------------------------------------------------------------------
@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Everything the clients of this module send or receive in the block ends within
    ``seconds`` of wall-clock time (or the enclosing deadline, if sooner)."""
    at = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(at if outer is None else min(at, outer))
    try:
        yield at
    finally:
        _deadline.reset(token)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the transfer's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every wait is cut to what is left of the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Resolves and checks the host, then connects to a checked address."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self._policy.addresses(host, port):
            left = _left(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(
                    str(address), port, left, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _Stream(stream)
        raise failure or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("outbound requests use TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Body(httpx.SyncByteStream):
    """A response body read under the deadline of its request (the body is read after
    the transport has returned, outside the request's own deadline block)."""

    def __init__(self, inner: httpx.SyncByteStream, at: float) -> None:
        self._inner = inner
        self._at = at

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            token = _deadline.set(self._at)
            try:
                chunk = next(chunks, None)
            finally:
                _deadline.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class PolicyTransport(httpx.HTTPTransport):
    """httpx's transport on a checked, pinned network backend, each request within
    ``total`` seconds (or the caller's :func:`deadline`, if sooner)."""

    def __init__(self, policy: Policy, total: float) -> None:
        context = httpx.create_ssl_context(trust_env=True)  # SSL_CERT_FILE/SSL_CERT_DIR apply
        super().__init__(verify=context)
        # httpx takes no network backend; its pool is made again around ours
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_Backend(policy),
        )
        self._total = total

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        outer = _deadline.get()
        at = time.monotonic() + self._total
        at = at if outer is None else min(at, outer)
        token = _deadline.set(at)
        try:
            response = super().handle_request(request)
        finally:
            _deadline.reset(token)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _Body(response.stream, at)
        return response


def client(
    policy: Policy,
    *,
    timeout: float,
    connect_timeout: float = 10.0,
    follow_redirects: bool = False,
    max_redirects: int = 5,
) -> httpx.Client:
    """An httpx client whose every connection obeys ``policy`` and whose every request
    (redirect hops included, each) ends within ``timeout`` seconds; wrap a sequence of
    requests in :func:`deadline` to bound them together."""
    return httpx.Client(
        transport=PolicyTransport(policy, timeout),
        timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )
