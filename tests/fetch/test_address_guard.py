"""The SSRF guard: which addresses a fetch may reach, in every form an address can hide in."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from service.errors import FetchFailed, FetchRefused
from service.fetch.guard import refusal, resolve

NOT_PUBLIC = [
    "127.0.0.1",
    "127.9.9.9",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "::1",
    "::",
    "fe80::1",
    "fec0::1",  # site-local (deprecated), which Python counts as global
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::808:808",  # NAT64 local use: anything
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC = ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_an_address_that_is_not_public_is_refused(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", PUBLIC)
def test_a_public_address_is_allowed(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is None


def test_the_allow_list_opens_exactly_its_networks() -> None:
    allowed = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.20.0.0/16")]
    assert refusal(ipaddress.ip_address("127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None  # the same address
    assert refusal(ipaddress.ip_address("10.20.9.9"), allowed) is None
    assert refusal(ipaddress.ip_address("127.0.0.2"), allowed) == "loopback"
    assert refusal(ipaddress.ip_address("10.21.0.1"), allowed) == "private"
    assert refusal(ipaddress.ip_address("2002:7f00:1::1"), allowed) is not None  # a relay path, not that host


def fake_lookup(*addresses: str) -> Any:
    calls: list[str] = []

    def lookup(host: str, port: int, **_kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def test_every_address_a_name_resolves_to_is_checked() -> None:
    assert resolve("example.test", 80, (), 1.0, fake_lookup("8.8.8.8", "1.1.1.1", "8.8.8.8")) == ["8.8.8.8", "1.1.1.1"]
    with pytest.raises(FetchRefused) as refused:
        resolve("example.test", 80, (), 1.0, fake_lookup("8.8.8.8", "10.0.0.1"))
    # The kind of address, never the address: a client must not map internal names to addresses.
    assert "private address" in refused.value.detail
    assert "10.0.0.1" not in refused.value.detail
    assert refused.value.extra["reason"] == "address"


def test_a_name_that_does_not_resolve_is_a_fetch_failure() -> None:
    def lookup(*_args: Any, **_kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchFailed) as failed:
        resolve("nowhere.invalid", 80, (), 1.0, lookup)
    assert failed.value.extra["reason"] == "dns"
