"""Which addresses a fetch may connect to (the SSRF guard), and the one name lookup per hop.

A URL's host is resolved once; every address it resolves to must be public (or inside a network
of ``CLEANER_FETCH_ALLOW``), and connections then go to those very addresses (in order), so a
second lookup cannot answer differently (DNS rebinding). IPv4 addresses hidden in IPv6
forms are checked as what they reach: IPv4-mapped (``::ffff:a.b.c.d``, the IPv4 address itself
on a dual-stack socket), 6to4 (``2002::/16``), Teredo (``2001::/32``) and NAT64 (``64:ff9b::/96``);
the local-use NAT64 prefix (``64:ff9b:1::/48``, RFC 8215) may translate to anything and is refused
as a whole.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from service.errors import FetchFailed, FetchRefused, FetchTimeout
from service.settings import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# socket.getaddrinfo's shape (tests pass their own): the address is item 4's first field.
Resolver = Callable[..., list[tuple[Any, ...]]]

NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the low 32 bits are IPv4
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215
# Name lookups run here so that they can be given up on at the fetch's deadline (getaddrinfo has
# no timeout of its own). Under gevent these threads are greenlets and the lookup cooperative.
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-lookup")


def refusal(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a fetch may not connect to ``address`` (e.g. ``"loopback"``), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed if network.version == address.version):
        return None
    if address in NAT64_LOCAL_USE:
        return "NAT64 local-use"
    if address in NAT64_WELL_KNOWN:
        # DNS64 on IPv6-only networks hands out these for every IPv4 host: judged by that host.
        # (Python 3.11 counts the whole prefix as not global.)
        reason = _kind(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return None if reason is None else f"{reason} (embedded in {address})"
    for candidate in (address, *_embedded_ipv4(address)):
        reason = _kind(candidate)
        if reason is not None:
            return reason if candidate is address else f"{reason} (embedded in {address})"
    return None


def resolve(host: str, port: int, allowed: Iterable[IPNetwork], timeout_s: float, lookup: Resolver) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, once every one was checked.

    Raises:
        FetchRefused: one of the addresses is not public and not allowed.
        FetchFailed: the name does not resolve (reason ``dns``).
        FetchTimeout: the lookup took longer than ``timeout_s``.
    """
    future = _LOOKUPS.submit(lookup, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    try:
        infos = future.result(timeout=max(timeout_s, 0.0))
    except FutureTimeout:
        raise FetchTimeout(f"The name {host!r} was not resolved in time.", reason="dns") from None
    except (OSError, UnicodeError) as error:
        raise FetchFailed(f"The name {host!r} does not resolve ({error}).", reason="dns") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailed(f"The name {host!r} does not resolve.", reason="dns")
    networks = tuple(allowed)
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]), networks)
        if reason is not None:
            # Not the address itself: the answer would map the server's internal names to their
            # addresses for any client (s20 audit).
            raise FetchRefused(
                f"{host!r} resolves to a {reason} address, which this server does not fetch from "
                "(CLEANER_FETCH_ALLOW lists the networks it may reach).",
                reason="address",
            )
    return addresses


def _kind(address: IPAddress) -> str | None:
    # Order: the most telling name first. is_global alone covers most, but not multicast.
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        # Deprecated (RFC 3879) but still routed inside some networks; Python counts it global.
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (6to4, Teredo server and client)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found
