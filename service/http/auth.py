"""API keys: who may call the service (issue 9).

Keys come from ``CLEANER_API_KEYS`` (clear text, hashed at start and never logged) and/or
``CLEANER_API_KEYS_FILE`` (SHA-256 hex digests only). A request presents
``Authorization: Bearer KEY``; its digest is compared with every known digest in constant time
(``hmac.compare_digest``, and no early exit), so timing reveals neither key nor position.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from service.errors import Unauthorized
from service.settings import Settings

# Paths a probe or orchestrator must reach without a key.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
# Static pages a human or a tool opens (no data in them; the API calls they make need a key).
PUBLIC_PAGE_PREFIXES = ("/static/", "/playground/")
PUBLIC_PAGES = frozenset({"/", "/docs", "/openapi.json"})
_HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    def __init__(self, digests: list[bytes]) -> None:
        self._digests = digests

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        digests = [digest(key.strip()) for key in settings.api_keys.split(",") if key.strip()]
        if settings.api_keys_file:
            for line in Path(settings.api_keys_file).read_text().splitlines():
                line = line.split("#", 1)[0].strip()
                if _HEX_DIGEST.match(line):
                    digests.append(bytes.fromhex(line))
        return cls(digests)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def check(self, path: str, authorization: str | None) -> None:
        """Raises Unauthorized unless ``path`` is public or the bearer key is known."""
        if not self.enabled or path in PUBLIC_PATHS or path in PUBLIC_PAGES or path.startswith(PUBLIC_PAGE_PREFIXES):
            return
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthorized("Send 'Authorization: Bearer <key>'.")
        candidate = digest(presented.strip())
        matched = False
        for known in self._digests:
            matched |= hmac.compare_digest(candidate, known)
        if not matched:
            raise Unauthorized("The API key is not valid.")
