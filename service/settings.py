"""Every knob of the service: its default, why, and the environment variable that sets it.

Settings are read once at start-up (``Settings.from_env()``) and validated there: a bad value
stops the start with a message naming the variable, instead of failing on the first request.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import math
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Admitted requests per extraction process (Settings.in_flight_limit).
PAGES_IN_FLIGHT_PER_EXTRACTOR = 3
# The least CLEANER_EXTRACTOR_MEMORY_LIMIT_MB (but 0, no limit) an extraction process works in.
# Warm, before its first page, it takes 319 MB of address space (VmSize) in the dev venv, 355 MB in
# the image, and 4 MB more after a small page. Measured in the venv: below ~325 MB every page
# failed; 16 of 225 real pages (mozilla-readability and trafilatura sets) failed at 340 MB, 2 at
# 380 MB (the 1.0 and 1.5 MB pages), none at 420 MB: ~100 MB above the warm process. So the
# image's 355 + 100 MB, with margin. (s20 audit: a limit of 1 started, then answered every page
# 500 and /readyz 503 for ever.)
EXTRACTOR_MEMORY_FLOOR_MB = 512


class ConfigError(ValueError):
    """A setting from the environment is missing, malformed or out of range."""


def _setting(
    default: Any,
    env: str,
    doc: str,
    low: float | None = None,
    high: float | None = None,
    secret: bool = False,
    convert: Callable[[str], Any] | None = None,
) -> Any:
    """A setting; ``convert`` reads its variable when its type's converter (``_CONVERTERS``) is not enough."""
    return field(
        default=default,
        repr=not secret,
        metadata={"env": env, "doc": doc, "low": low, "high": high, "secret": secret, "convert": convert},
    )


# Every setting of the service but HOST and PORT starts so; another variable so named is a typo.
VARIABLE_PREFIX = "CLEANER_"
# Numbers as written in ASCII: int() and float() also take "1_0" and other scripts' digits.
_ASCII_INT = re.compile(r"[+-]?[0-9]+\Z")
_ASCII_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_NON_FINITE = {"nan", "inf", "infinity"}
# How much of a bad value an error message echoes.
SHOWN_CHARS = 40
# A line of CLEANER_API_KEYS_FILE: a SHA-256 hex digest, then an optional '#' comment.
_HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


def _to_host(raw: str) -> str:
    """HOST without the brackets an IPv6 address has in a URL ("[::1]"): gunicorn and the loopback
    check take the bare address ("[::1]" was bound as "[::1" and called not loopback: s20 audit)."""
    if raw.startswith("[") or raw.endswith("]"):
        inner = raw.removeprefix("[").removesuffix("]")
        if not (raw.startswith("[") and raw.endswith("]") and _is_ipv6(inner)):
            raise ValueError(raw)
        return inner
    if ":" in raw and not _is_ipv6(raw):  # "127.0.0.1:9000": the port is PORT's, not HOST's
        raise ValueError(raw)
    return raw


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _default_extractors() -> int:
    # One extraction process per core: extraction is CPU-bound and trafilatura is not
    # thread-safe (trafilatura#840, #925), so processes are the unit of parallelism.
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    host: str = _setting(
        "127.0.0.1",
        "HOST",
        "Address to listen on; loopback by default (sidecar use). An IPv6 address with or without brackets.",
        convert=_to_host,
    )
    port: int = _setting(8080, "PORT", "TCP port to listen on.", 1, 65535)
    web_workers: int = _setting(
        1,
        "CLEANER_WEB_WORKERS",
        "gunicorn I/O processes. One is enough: they only read, parse JSON and wait; the extraction "
        "processes do the work. More only add redundancy.",
        1,
        64,
    )
    extractors: int = _setting(
        _default_extractors(),
        "CLEANER_EXTRACTORS",
        "Extraction processes per web worker (default: the number of cores).",
        1,
        256,
    )
    pin_extractors: bool = _setting(
        True,
        "CLEANER_PIN_EXTRACTORS",
        "When a web worker has one extraction process per CPU it may use (the default), pin each "
        "to its own CPU: the scheduler then never moves one away from the caches it has filled "
        "(~2.5 % more pages/s, measured). Turn off when other busy processes share these CPUs.",
    )
    max_body_bytes: int = _setting(
        10 * 1024 * 1024,
        "CLEANER_MAX_BODY_BYTES",
        "Largest request body, checked while reading (and after gzip decompression): 413 above it.",
        1024,
        1024**3,
    )
    time_budget_s: float = _setting(
        10.0,
        "CLEANER_TIME_BUDGET_S",
        "Wall-clock budget of one extraction; over it the extraction process is killed and the client gets 503.",
        0.1,
        600,
    )
    read_timeout_s: float = _setting(
        10.0,
        "CLEANER_READ_TIMEOUT_S",
        "Time a client has to send the whole request body; slower clients get 408.",
        0.1,
        600,
    )
    max_jobs_per_extractor: int = _setting(
        2000,
        "CLEANER_MAX_JOBS_PER_EXTRACTOR",
        "Recycle an extraction process after this many pages (±10 % jitter): long-lived "
        "trafilatura processes ratchet their memory (CLEANER_EXTRACTOR_RSS_MB is the first "
        "guard). A restart is a fork of the warm fork server: ~0.2 s of CPU as its first pages "
        "fault their memory in.",
        1,
        10**7,
    )
    extractor_rss_mb: int = _setting(
        512,
        "CLEANER_EXTRACTOR_RSS_MB",
        "Recycle an extraction process as soon as its resident memory passes this after a page.",
        64,
        1024**2,
    )
    extractor_memory_limit_mb: int = _setting(
        2048,
        "CLEANER_EXTRACTOR_MEMORY_LIMIT_MB",
        "Hard address-space limit of an extraction process (RLIMIT_AS): a page that needs more "
        f"fails with 422 instead of taking the machine's memory. 0 turns it off; else at least "
        f"{EXTRACTOR_MEMORY_FLOOR_MB} (a warm process alone takes ~360 MB).",
        0,
        1024**2,
    )
    max_elements: int = _setting(
        30_000,
        "CLEANER_MAX_ELEMENTS",
        "Element cap after parsing: larger trees are truncated (warning 'page-truncated'). "
        "trafilatura took 1.4 s at 10k, 5.6 s at 40k, 9 s at 80k dense elements; a 9 MB page "
        "fits the 10 s budget at 30k, not at 60k (docs/limits.md).",
        100,
        10**7,
    )
    max_depth: int = _setting(
        180,
        "CLEANER_MAX_DEPTH",
        "Nesting depth above which containers are flattened (warning 'nesting-flattened'), so "
        "deep content is still extracted instead of lost.",
        16,
        100_000,
    )
    cache_entries: int = _setting(
        256,
        "CLEANER_CACHE_ENTRIES",
        "Answers kept in memory per web worker, keyed by body hash and options; 0 turns the cache off.",
        0,
        10**6,
    )
    cache_mb: int = _setting(
        64,
        "CLEANER_CACHE_MB",
        "Memory the cached answers may take per web worker, in MB: the least recently used go "
        "first (a 2.5 MB page asked as html+markdown is ~7 MB of answer).",
        1,
        1024**2,
    )
    max_batch_bytes: int = _setting(
        50 * 1024 * 1024,
        "CLEANER_MAX_BATCH_BYTES",
        "Largest NDJSON batch body.",
        1024,
        1024**3,
    )
    max_in_flight: int = _setting(
        0,
        "CLEANER_MAX_IN_FLIGHT",
        "Requests admitted at once per web worker before answering 429 (0: extractors x 3).",
        0,
        100_000,
    )
    max_uploads: int = _setting(
        64,
        "CLEANER_MAX_UPLOADS",
        "Request bodies being received at once per web worker (429 beyond): bounds the memory "
        "held by slow uploads (at most this x CLEANER_MAX_BODY_BYTES).",
        1,
        100_000,
    )
    log_level: str = _setting("info", "CLEANER_LOG_LEVEL", "debug, info, warning or error.")
    api_keys: str = _setting(
        "",
        "CLEANER_API_KEYS",
        "Comma-separated API keys; when set (or a keys file is), every endpoint but /healthz and "
        "/readyz requires 'Authorization: Bearer KEY'. Never logged.",
        secret=True,
    )
    api_keys_file: str = _setting(
        "",
        "CLEANER_API_KEYS_FILE",
        "File of SHA-256 hex digests of API keys, one per line ('#' comments): keys never stored in clear.",
    )
    allow_open: bool = _setting(
        False,
        "CLEANER_ALLOW_OPEN",
        "Allow listening on a non-loopback address without API keys (a warning is logged).",
    )
    allowed_hosts: str = _setting(
        "",
        "CLEANER_ALLOWED_HOSTS",
        "Without API keys, requests must name the service by a loopback Host (localhost, "
        "127.0.0.1, [::1]), so a web page cannot reach it by DNS rebinding (issue 24): "
        "comma-separated extra names to accept, or '*' for any. Ignored when keys are set.",
    )
    cors_origins: str = _setting(
        "",
        "CLEANER_CORS_ORIGINS",
        "Comma-separated origins allowed to call the API from a browser; empty: CORS off.",
    )

    fetch: bool = _setting(
        False,
        "CLEANER_FETCH",
        'Let POST /v1/extract take {"url": ...} without a page and fetch it (and batch items too). '
        "Off by default: a service that fetches can be aimed at internal addresses; the fetch refuses "
        "loopback, private, link-local, multicast and reserved ones unless CLEANER_FETCH_ALLOW names them.",
    )
    fetch_allow: str = _setting(
        "",
        "CLEANER_FETCH_ALLOW",
        "Comma-separated IP networks (CIDR, e.g. 10.20.0.0/16, 127.0.0.1/32) a fetch may reach although "
        "they are not public. Addresses, not host names: the check is on what the name resolves to.",
    )
    fetch_timeout_s: float = _setting(
        10.0,
        "CLEANER_FETCH_TIMEOUT_S",
        "Time a fetch has in all (name lookup, connections, redirects, the whole body); over it 504 "
        "fetch-timeout. The extraction's budget is separate (a request's 'timeout' bounds both).",
        0.1,
        600,
    )
    fetch_user_agent: str = _setting(
        "pagecleaner (+fetch)",
        "CLEANER_FETCH_USER_AGENT",
        "User-Agent header of fetches.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from the environment (or ``environ``), then apply ``overrides``.

        Raises:
            ConfigError: a variable does not parse or is out of its documented range.
        """
        environ = os.environ if environ is None else environ
        _refuse_unknown_variables(environ, {f.metadata["env"] for f in fields(cls)})
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is not None and raw.strip() == "" and f.name == "api_keys":
                # Set but blank ("-e CLEANER_API_KEYS=$UNSET"): meant to protect, it would open the
                # service (the image allows an open HOST). Unset it to run without keys.
                raise ConfigError("CLEANER_API_KEYS is set but blank: give the keys, or unset it to run without")
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _parse(f.metadata["env"], raw.strip(), f.metadata["convert"] or _converter(f.type))
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high, env = f.metadata["low"], f.metadata["high"], f.metadata["env"]
            if low is not None and value < low:
                raise ConfigError(f"{env}={shown(value)} is below the minimum {low}")
            if high is not None and value > high:
                raise ConfigError(f"{env}={shown(value)} is above the maximum {high}")
        if 0 < self.extractor_memory_limit_mb < EXTRACTOR_MEMORY_FLOOR_MB:
            raise ConfigError(
                f"CLEANER_EXTRACTOR_MEMORY_LIMIT_MB={self.extractor_memory_limit_mb} is below "
                f"{EXTRACTOR_MEMORY_FLOOR_MB}, the least an extraction process works in (0 turns the limit off)"
            )
        if self.log_level not in {"debug", "info", "warning", "error"}:
            raise ConfigError(f"CLEANER_LOG_LEVEL={shown(self.log_level)}: use debug, info, warning or error")
        if not self.host:
            raise ConfigError("HOST is empty")
        if not (self.fetch_user_agent.isascii() and self.fetch_user_agent.isprintable()):
            # A header value: CR/LF made every fetch fail as 'invalid-url' (s20 audit).
            raise ConfigError("CLEANER_FETCH_USER_AGENT holds characters other than printable ASCII")
        try:
            self.fetch_networks  # noqa: B018 - parses CLEANER_FETCH_ALLOW
        except ValueError as error:
            raise ConfigError(f"CLEANER_FETCH_ALLOW={shown(self.fetch_allow)}: {cut(str(error))}") from None
        has_keys = bool(self.api_key_digests())  # raises on an empty key or a keys file without digests
        if not has_keys and not self.allow_open and not self.host_is_loopback:
            raise ConfigError(
                f"HOST={shown(self.host)} is not loopback and no API keys are configured: set CLEANER_API_KEYS "
                "or CLEANER_API_KEYS_FILE, or CLEANER_ALLOW_OPEN=1 to serve the network without keys"
            )

    @property
    def host_is_loopback(self) -> bool:
        """Every address ``host`` stands for is loopback: a name is resolved, and one that does not
        resolve is not loopback (``127.0.0.1.nip.io`` is a public name, issue 24)."""
        return is_loopback_host(self.host)

    @property
    def listen_address(self) -> str:
        """``HOST:PORT`` as gunicorn binds it and a URL names it: an IPv6 address in brackets."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def fetch_networks(self) -> tuple[IPNetwork, ...]:
        """CLEANER_FETCH_ALLOW as networks (ValueError: an item that is not an address or CIDR network)."""
        return tuple(
            ipaddress.ip_network(item.strip(), strict=False) for item in self.fetch_allow.split(",") if item.strip()
        )

    def api_keys_listed(self) -> list[str]:
        """The clear-text keys of ``CLEANER_API_KEYS``.

        Raises:
            ConfigError: an empty entry ("," or "a,,b"): a key that is not there must not open
                the service (issue 24).
        """
        if not self.api_keys:
            return []
        keys = [key.strip() for key in self.api_keys.split(",")]
        if not all(keys):
            # Blank too: a key that is not there must not open the service (the image allows an
            # open HOST, so CLEANER_API_KEYS="  " served everyone).
            raise ConfigError(
                "CLEANER_API_KEYS holds an empty key (a stray comma, or blanks?): list keys separated by commas"
            )
        if not all(key.isascii() and key.isprintable() for key in keys):
            # An HTTP header carries ASCII: such a key could never match (every request 401).
            raise ConfigError("CLEANER_API_KEYS holds a key with characters other than printable ASCII")
        return keys

    def api_key_digests(self) -> list[bytes]:
        """SHA-256 digests of every configured key: those of ``CLEANER_API_KEYS`` and the file's.

        Raises:
            ConfigError: an empty key, an unreadable keys file, a line of it that is not a
                digest (a clear-text key would otherwise be skipped silently), or none in it.
        """
        digests = [key_digest(key) for key in self.api_keys_listed()]
        if self.api_keys_file:
            digests += _digests_in_file(self.api_keys_file)
        return digests

    @property
    def in_flight_limit(self) -> int:
        # Per process: the page it extracts, the page waiting in its pipe (workers.pool,
        # "pipelining") and one more in the web worker, which refills the pipe the moment an
        # answer frees it instead of after a client's round trip (16 clients: idle cores 1.1 %
        # -> 0.6 % against x 2). Beyond that a request would only wait: 429 at once instead.
        return self.max_in_flight or self.extractors * PAGES_IN_FLIGHT_PER_EXTRACTOR

    @classmethod
    def documentation(cls) -> list[tuple[str, str, str]]:
        """(variable, default, description) rows, for the README and ``check_config``."""
        defaults = cls()
        return [(f.metadata["env"], repr(getattr(defaults, f.name)), f.metadata["doc"]) for f in fields(cls)]


def _to_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _to_int(raw: str) -> int:
    # int() alone also takes "1_0" (10) and other scripts' digits ("٣" is 3): s20 audit.
    if not _ASCII_INT.match(raw):
        raise ValueError(raw)
    return int(raw)


def _to_float(raw: str) -> float:
    # "nan" and "inf" parse here and are refused as not finite (_parse), so they are named so.
    if not (_ASCII_FLOAT.match(raw) or raw.lstrip("+-").lower() in _NON_FINITE):
        raise ValueError(raw)
    return float(raw)


_CONVERTERS: dict[str, Callable[[str], Any]] = {"int": _to_int, "float": _to_float, "str": str, "bool": _to_bool}
_KINDS: dict[Callable[[str], Any], str] = {
    _to_int: "a whole number",
    _to_float: "a number",
    _to_bool: "true or false",
    _to_host: "an address or host name without a port (PORT is the port; brackets go around an IPv6 address only)",
}


def _converter(type_name: Any) -> Callable[[str], Any]:
    return _CONVERTERS[str(type_name)]


def _refuse_unknown_variables(environ: Mapping[str, str], known: set[str]) -> None:
    """A ``CLEANER_*`` variable that configures nothing is a typo (CLEANER_TIMEBUDGET_S was
    ignored silently, leaving the budget at its default: s20 audit).

    Raises:
        ConfigError: naming the variable and the closest known one.
    """
    for name in sorted(env for env in environ if env.startswith(VARIABLE_PREFIX) and env not in known):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{name} is not a setting{hint}; python -m service.check_config --list prints them all")


def _parse(env: str, raw: str, convert: Callable[[str], Any]) -> Any:
    try:
        value = convert(raw)
    except ValueError:
        kind = _KINDS.get(convert, "a string")
        raise ConfigError(f"{env}={shown(raw)} is not {kind}") from None
    if convert is _to_float and not math.isfinite(value):
        # NaN passes every range check (each comparison is false): CLEANER_TIME_BUDGET_S=nan
        # turned the time budget off (s20 audit).
        raise ConfigError(f"{env}={shown(raw)} is not a finite number")
    return value


def shown(value: Any) -> str:
    """``value`` as an error message echoes it: its repr, cut (``cut``)."""
    return cut(repr(value))


def cut(text: str) -> str:
    """``text`` cut after ``SHOWN_CHARS`` characters: a 5,000-digit PORT made a 5,000-character
    error line (s20 audit)."""
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def key_digest(key: str) -> bytes:
    """What an API key is known and compared by: its SHA-256 (of UTF-8)."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def is_loopback_host(host: str) -> bool:
    """``host`` (an address or a name) reaches only this machine: every address it resolves to is loopback."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        resolved = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {str(info[4][0]).split("%", 1)[0] for info in resolved}
    return bool(addresses) and all(ipaddress.ip_address(address).is_loopback for address in addresses)


def _digests_in_file(path: str) -> list[bytes]:
    env = "CLEANER_API_KEYS_FILE"
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"{env}={shown(path)} is not a readable text file") from None
    digests = []
    for number, line in enumerate(lines, 1):
        # "HEX" alone, or as sha256sum writes it ("HEX  -", "HEX *file"): the digest comes first.
        words = line.lstrip("\ufeff").split("#", 1)[0].split(maxsplit=1)
        if not words:
            continue
        entry = words[0]
        if not _HEX_DIGEST.match(entry):
            raise ConfigError(f"{env}={shown(path)}, line {number}: not a SHA-256 hex digest (never a key in clear)")
        digests.append(bytes.fromhex(entry))
    if not digests:
        raise ConfigError(f"{env}={shown(path)} holds no key digest")
    return digests
