"""The outbound address policy's reading of hosts and its decisions (vnfm_runner/outbound.py).

Pure: name resolution is a monkeypatched getaddrinfo; the requests themselves are
proven against real listeners in tests/api/test_outbound_policy.py.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from pydantic import ValidationError

from vnfm_runner.outbound import (
    BadAddress,
    Policy,
    Refused,
    effective,
    parse_host,
    parse_networks,
)
from vnfm_runner.settings import Settings

METADATA = ipaddress.IPv4Address("169.254.169.254")


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "2852039166",  # one decimal number
        "0xa9fea9fe",  # one hex number
        "0XA9FEA9FE",
        "0251.0376.0251.0376",  # dotted octal
        "0xa9.0xfe.0xa9.0xfe",  # dotted hex
        "169.254.43518",  # a.b.c: the last part fills 16 bits
        "169.16689662",  # a.b: the last part fills 24 bits
        "0251.254.0xa9.254",  # mixed
        "169.254.169.254.",  # a trailing dot
        "0251.0376.0251.0376.",
    ],
)
def test_every_ipv4_spelling_of_the_metadata_address_is_read_as_it(host: str) -> None:
    assert parse_host(host) == METADATA


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("::ffff:169.254.169.254", "::ffff:a9fe:a9fe"),
        ("[::ffff:a9fe:a9fe]", "::ffff:a9fe:a9fe"),
        ("fe80::1%25eth0", "fe80::1"),  # a zone, as a URL spells it
        ("fe80::1%eth0", "fe80::1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),  # inet_aton reads a bare 0x as 0
    ],
)
def test_literals(host: str, address: str) -> None:
    assert parse_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "example.org",
        "09.1.1.1",
        "256.1.1.1",
        "1.2.3.4.5",
        "1.2.3..",
        "0x1g",
        "1..2",
        ".",
    ],
)
def test_names_are_not_literals(host: str) -> None:
    # inet_aton refuses these too: the resolver looks them up as names (and what it
    # finds is checked)
    assert parse_host(host) is None


def test_a_broken_ipv6_literal_is_a_bad_address() -> None:
    with pytest.raises(BadAddress):
        parse_host("[fe80::1::2]")


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:a9fe:a9fe",  # IPv4-mapped: the socket talks IPv4
        "::169.254.169.254",  # IPv4-compatible
        "::ffff:0:169.254.169.254",  # IPv4-translated (SIIT)
        "64:ff9b::169.254.169.254",  # NAT64 well-known prefix
        "2002:a9fe:a9fe::1",  # 6to4
    ],
)
def test_embedded_ipv4_is_checked(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert METADATA in effective(ip)
    why = Policy().refusal(ip)
    assert why is not None and "169.254.169.254" in why and "link-local" in why


def test_teredo_client_is_checked() -> None:
    # Teredo: the client address is stored inverted in the last 32 bits
    client = int(METADATA) ^ 0xFFFFFFFF
    ip = ipaddress.IPv6Address((0x20010000 << 96) | (0x0A000001 << 64) | client)
    assert METADATA in effective(ip)
    assert Policy().refusal(ip) is not None


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("169.254.0.1", "link-local"),
        ("fe80::abcd", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
    ],
)
def test_always_denied_even_when_allowed(address: str, words: str) -> None:
    everything = Policy(allow=parse_networks("0.0.0.0/0, ::/0", "allow"))
    why = everything.refusal(ipaddress.ip_address(address))
    assert why is not None and words in why


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.0.7", "172.16.5.5", "fd00::1", "8.8.8.8"]
)
def test_loopback_private_and_public_are_allowed_by_default(address: str) -> None:
    assert Policy().refusal(ipaddress.ip_address(address)) is None


def test_deny_list_and_allow_list() -> None:
    deny = Policy(deny=parse_networks("127.0.0.0/8, 10.0.0.0/8", "deny"))
    assert "VNFM_OUTBOUND_DENY" in (deny.refusal(ipaddress.ip_address("127.0.0.1")) or "")
    # the IPv4-mapped spelling does not get around it
    why = deny.refusal(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert why is not None and "127.0.0.1" in why and "VNFM_OUTBOUND_DENY" in why
    assert deny.refusal(ipaddress.ip_address("192.0.2.1")) is None

    only = Policy(allow=parse_networks("192.0.2.0/24", "allow"))
    assert only.refusal(ipaddress.ip_address("192.0.2.9")) is None
    assert "outside VNFM_OUTBOUND_ALLOW" in (only.refusal(ipaddress.ip_address("10.0.0.1")) or "")

    # the longer prefix wins: one NFVO inside a denied range
    both = Policy(allow=parse_networks("10.1.2.3", "a"), deny=parse_networks("10.0.0.0/8", "d"))
    assert both.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert both.refusal(ipaddress.ip_address("10.1.2.4")) is not None
    tie = Policy(allow=parse_networks("10.0.0.0/8", "a"), deny=parse_networks("10.0.0.0/8", "d"))
    assert tie.refusal(ipaddress.ip_address("10.0.0.1")) is not None


def _resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    asked: list[str] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for a in answers[host]:
            family = socket.AF_INET6 if ":" in a else socket.AF_INET
            sockaddr = (a, port, 0, 0) if ":" in a else (a, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolver(
        monkeypatch,
        {
            "metadata.example": ["169.254.169.254"],
            "mixed.example": ["192.0.2.10", "fe80::1%eth0"],
            "mapped.example": ["::ffff:169.254.169.254"],
            "fine.example": ["192.0.2.10", "2001:db8::10"],
        },
    )
    policy = Policy()
    for name in ("metadata.example", "mixed.example", "mapped.example"):
        with pytest.raises(Refused, match=f"{name} resolves to"):
            policy.addresses(name, 80)
    assert policy.addresses("fine.example", 80) == [
        ipaddress.ip_address("192.0.2.10"),
        ipaddress.ip_address("2001:db8::10"),
    ]


def test_check_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _resolver(monkeypatch, {"metadata.example": ["169.254.169.254"]})
    policy = Policy()
    for uri in (
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://0251.0376.0251.0376/",
        "http://2852039166/",
        "http://0xa9fea9fe/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fe80::1%25eth0]:8080/",
        "http://0.0.0.0/",
        "https://metadata.example/",
    ):
        with pytest.raises(Refused):
            policy.check_uri(uri)
    for uri, words in (
        ("ftp://192.0.2.1/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///x", "no host"),
        ("http://192.0.2.1:99999/", "not a valid URI"),
        ("http://[::1/", "not a valid URI"),
        ("http://0177.0.0.1/", "write the IPv4 address 0177.0.0.1 as 127.0.0.1"),
        ("http://2130706433/", "as 127.0.0.1"),
    ):
        with pytest.raises(BadAddress, match=words):
            policy.check_uri(uri)
    # a name that does not resolve now passes: its connection is checked when it is made
    policy.check_uri("http://not-yet.example/")
    assert "not-yet.example" in asked
    policy.check_uri("http://127.0.0.1:8080/cb")
    policy.check_uri("https://[::1]/cb")


def test_settings_name_a_bad_network() -> None:
    with pytest.raises(ValidationError, match="VNFM_OUTBOUND_DENY: 'bogus'"):
        Settings(outbound_deny="10.0.0.0/8, bogus")
    with pytest.raises(ValidationError, match="VNFM_OUTBOUND_ALLOW"):
        Settings(outbound_allow="300.0.0.0/8")
    settings = Settings(outbound_allow="192.0.2.0/24", outbound_deny="127.0.0.0/8,::1")
    policy = Policy.from_settings(settings)
    assert policy.allow == (ipaddress.ip_network("192.0.2.0/24"),)
    assert policy.deny == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
