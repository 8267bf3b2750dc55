"""Request options, the job handed to an extraction process, and the article it gives back.

These are the service's own shapes: trafilatura's and lxml's types never leave the pipeline's
extract and parse stages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import cssselect

from service.errors import InvalidOption

FORMATS = ("text", "markdown", "html")
FAVORS = ("balanced", "precision", "recall")
BOOLEAN_OPTIONS = ("comments", "tables", "images", "links", "explain")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

SELECTOR_OPTIONS = ("include", "exclude")
# A page's structure needs a few selectors, not hundreds; each is compiled and run on up to
# CLEANER_MAX_ELEMENTS elements in the extraction process (within the page's time budget).
MAX_SELECTORS = 20
MAX_SELECTOR_CHARS = 1000

Mode = Literal["html", "text"]


@dataclass(frozen=True)
class Options:
    """What the caller asked for. Defaults match the README's option table."""

    formats: tuple[str, ...] = ("text",)
    comments: bool = False
    tables: bool = True
    images: bool = False
    links: bool = False
    favor: str = "balanced"
    explain: bool = False
    # Seconds this request's extraction may take, at most the server's budget (None: the budget).
    # Not part of cache_key: it bounds the work, it does not shape the answer.
    timeout: float | None = None
    # CSS selectors (HTML pages only): extract only from what ``include`` matches (all of the
    # page when empty), after dropping what ``exclude`` matches.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Options:
        """Validate options from a JSON object or query parameters (strings).

        Raises:
            InvalidOption: an unknown option, or a value of the wrong type or outside its set.
        """
        known = {"format", *BOOLEAN_OPTIONS, "favor", "timeout", *SELECTOR_OPTIONS}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidOption(unknown[0], f"unknown option; known options: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        if "format" in raw:
            values["formats"] = _parse_formats(raw["format"])
        for name in BOOLEAN_OPTIONS:
            if name in raw:
                values[name] = _parse_bool(name, raw[name])
        if "favor" in raw:
            favor = raw["favor"]
            if not isinstance(favor, str) or favor not in FAVORS:
                raise InvalidOption("favor", f"must be one of {', '.join(FAVORS)}")
            values["favor"] = favor
        if "timeout" in raw:
            values["timeout"] = _parse_timeout(raw["timeout"])
        for name in SELECTOR_OPTIONS:
            if name in raw:
                values[name] = _parse_selectors(name, raw[name])
        return cls(**values)

    def budget_s(self, server_budget_s: float) -> float:
        """The time budget of this request: ``timeout`` if given, else the server's budget.

        Raises:
            InvalidOption: ``timeout`` is over the server's budget (a client cannot buy more time).
        """
        if self.timeout is None:
            return server_budget_s
        if self.timeout > server_budget_s:
            raise InvalidOption("timeout", f"must be at most the server's time budget, {server_budget_s:g} s")
        return self.timeout

    def cache_key(self) -> str:
        shape = (self.formats, self.comments, self.tables, self.images, self.links, self.favor, self.explain)
        return repr((*shape, self.include, self.exclude))


def _parse_formats(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise InvalidOption("format", "must be a string or a list of strings")
    if not items:
        raise InvalidOption("format", f"must name at least one of {', '.join(FORMATS)}")
    for item in items:
        if item not in FORMATS:
            raise InvalidOption("format", f"{item!r} is not one of {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


def _parse_timeout(value: Any) -> float:
    """Seconds > 0: a JSON number, or a decimal string from the query string."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidOption("timeout", "must be a number of seconds") from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOption("timeout", "must be a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidOption("timeout", "must be a number of seconds above 0")
    return seconds


def _parse_selectors(name: str, value: Any) -> tuple[str, ...]:
    """CSS selectors: one string or a list of them, each one that cssselect can compile.

    Raises:
        InvalidOption: not strings, too many or too long, or a selector cssselect refuses (its
            message says where), including pseudo-elements (``::text``), which select no element.
    """
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidOption(name, "must be a CSS selector or a list of them")
    if len(items) > MAX_SELECTORS:
        raise InvalidOption(name, f"at most {MAX_SELECTORS} selectors")
    translator = cssselect.HTMLTranslator()
    for item in items:
        if len(item) > MAX_SELECTOR_CHARS:
            raise InvalidOption(name, f"a selector longer than {MAX_SELECTOR_CHARS} characters")
        try:
            translator.css_to_xpath(item)
        except cssselect.SelectorError as error:
            raise InvalidOption(name, f"{item!r} is not a valid CSS selector ({error})") from None
    return tuple(dict.fromkeys(item.strip() for item in items))


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise InvalidOption(name, "must be true or false")


@dataclass(frozen=True)
class Job:
    """One page to clean, as the web worker hands it to an extraction process."""

    mode: Mode
    body: bytes
    options: Options = field(default_factory=Options)
    url: str | None = None
    declared_charset: str | None = None  # from the Content-Type header, if any
    fetch: bool = False  # no body was sent: the web worker fetches ``url`` first (CLEANER_FETCH)
    url_ignored: bool = False  # a non-http(s) ``url`` came with the page: dropped, said as ``url-ignored``


@dataclass
class Removed:
    """A block the cleaner dropped, with the reason code ``explain`` reports."""

    text: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "reason": self.reason}


@dataclass
class Metadata:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    sitename: str | None = None
    hostname: str | None = None
    url: str | None = None
    language: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None


@dataclass
class Article:
    """The pipeline's result before serialization.

    ``body`` and ``comments_body`` are trees in trafilatura's XML vocabulary (``p``, ``head``,
    ``list``/``item``, ``quote``, ``code``, ``table``, ``hi``, ``ref``, ``graphic``): both modes
    produce them, so one serializer renders text, Markdown and HTML for both.
    """

    metadata: Metadata
    body: Any  # lxml _Element
    comments_body: Any = None
    removed: list[Removed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
