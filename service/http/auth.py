"""Who may call the service: API keys (issue 9), and without keys only callers naming it by a
loopback Host (issue 24, DNS rebinding).

Keys come from ``CLEANER_API_KEYS`` (clear text, hashed at start and never logged) and/or
``CLEANER_API_KEYS_FILE`` (SHA-256 hex digests only), both parsed and checked by ``Settings``. A
request presents ``Authorization: Bearer KEY``; its digest is compared with every known digest in
constant time (``hmac.compare_digest``, and no early exit), so timing reveals neither key nor
position.

Without keys, a web page on the same machine could still call a loopback-bound service: its
site's name, re-pointed at 127.0.0.1 by DNS rebinding, passes the browser's same-origin check.
The browser then sends that name in ``Host``, so only loopback names (or ``CLEANER_ALLOWED_HOSTS``)
are served.
"""

from __future__ import annotations

import hmac
import ipaddress

from service.errors import HostNotAllowed, Unauthorized
from service.settings import Settings, key_digest

# Paths a probe or orchestrator must reach without a key (whatever Host it sends: a pod's IP).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
# Static pages a human or a tool opens (no data in them; the API calls they make need a key).
PUBLIC_PAGE_PREFIXES = ("/static/", "/playground/")
PUBLIC_PAGES = frozenset({"/", "/docs", "/openapi.json"})
ANY_HOST = "*"


class KeyRing:
    def __init__(self, digests: list[bytes], allowed_hosts: frozenset[str] = frozenset()) -> None:
        self._digests = digests
        self._allowed_hosts = allowed_hosts

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        allowed = frozenset(_host_name(host) for host in settings.allowed_hosts.split(",") if host.strip())
        return cls(settings.api_key_digests(), allowed)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def check(self, path: str, authorization: str | None, host: str | None = None) -> None:
        """Raises Unauthorized unless ``path`` is public or the bearer key is known; without
        keys, HostNotAllowed unless ``host`` (the Host header) is loopback or allowed."""
        if path in PUBLIC_PATHS:
            return
        if not self.enabled:
            self._check_host(host)
            return
        if path in PUBLIC_PAGES or path.startswith(PUBLIC_PAGE_PREFIXES):
            return
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthorized("Send 'Authorization: Bearer <key>'.")
        candidate = key_digest(presented.strip())
        matched = False
        for known in self._digests:
            matched |= hmac.compare_digest(candidate, known)
        if not matched:
            raise Unauthorized("The API key is not valid.")

    def _check_host(self, host: str | None) -> None:
        # No Host (HTTP/1.0): not a browser, so not a rebinding attack.
        if host is None or ANY_HOST in self._allowed_hosts:
            return
        name = _host_name(host)
        if name in self._allowed_hosts or _is_loopback_name(name):
            return
        raise HostNotAllowed(
            f"Host {host[:256]!r} is not a loopback name; without API keys only those are served "
            "(add it to CLEANER_ALLOWED_HOSTS, or configure keys)."
        )


def _host_name(host: str) -> str:
    """``host`` without its port, brackets and trailing dot, lower-cased: "[::1]:80" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _is_loopback_name(name: str) -> bool:
    # Browsers resolve "localhost" and "*.localhost" to loopback themselves (RFC 6761), so a
    # rebinding attacker cannot point them elsewhere; no name is resolved here.
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
