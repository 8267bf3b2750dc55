"""The three request forms of ``POST /v1/extract`` turned into one ``Job``.

- ``text/html`` / ``application/xhtml+xml``: the raw page bytes; charset from the header param;
- ``text/plain``: already-extracted text, cleaned by the plain-text mode;
- ``application/json``: ``{"html": ...}`` or ``{"text": ...}``, with ``url`` and ``options``.
Options may also come as query parameters; JSON ``options`` win over the query string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.http import parse_options_header

from service.errors import (
    LONE_SURROGATE,
    InvalidField,
    InvalidJSON,
    InvalidOption,
    UnsupportedMediaType,
    replace_lone_surrogates,
)
from service.models import SELECTOR_OPTIONS, Job, Mode, Options

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
JSON_TYPES = frozenset({"application/json"})
FORM_TYPES = HTML_TYPES | TEXT_TYPES | JSON_TYPES
JSON_FIELDS = frozenset({"html", "text", "url", "options", "id"})
QUERY_PARAMETERS = frozenset(
    {"url", "format", "comments", "tables", "images", "links", "favor", "explain", "timeout", *SELECTOR_OPTIONS}
)
MAX_URL_CHARS = 8192
# The page's address is echoed in the answer and used to resolve its links: only web URLs.
URL_SCHEMES = frozenset({"http", "https"})
# C0 controls, DEL and C1 controls: no URL holds them (WHATWG URL refuses or strips them), and
# echoed back they split log lines and headers (issue 24: CRLF and NUL came back in ``url``).
_URL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
# Characters no host name holds (WHATWG URL's forbidden host code points, but ':' of IPv6 and
# '%' of percent-encoded names).
_FORBIDDEN_IN_HOST = frozenset(' #/<>?@[\\]^|"{}`')


def query_arguments(query_string: str) -> ImmutableMultiDict[str, str]:
    """A request's query parameters, parsed as Werkzeug's ``Request.args`` parses them."""
    return ImmutableMultiDict(
        parse_qsl(query_string.encode("latin1").decode(), keep_blank_values=True, errors="werkzeug.url_quote")
    )


def job_from_request(content_type: str | None, body: bytes, query: MultiDict[str, str]) -> Job:
    """Build the job for one request.

    Raises:
        UnsupportedMediaType: the Content-Type is not one of the three forms.
        InvalidJSON / InvalidField / InvalidOption: a malformed JSON body, field or option.
    """
    mimetype, params = media_type(content_type)
    query_options = options_from_query(query)
    url, url_ignored = page_url(query.get("url"), "url")
    if mimetype in HTML_TYPES or mimetype in TEXT_TYPES:
        mode: Mode = "html" if mimetype in HTML_TYPES else "text"
        return Job(
            mode=mode,
            body=body,
            options=Options.parse(query_options),
            url=url,
            declared_charset=params.get("charset"),
            url_ignored=url_ignored,
        )
    return job_from_json(_load_json(body), query_options, url, url_ignored)


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """(the media type, lower-cased, and its parameters) of one of the three forms; checked by
    ``answer_body`` before the body is read, so that a client waiting on ``Expect:
    100-continue`` is refused before it uploads.

    Raises:
        UnsupportedMediaType: any other Content-Type.
    """
    mimetype, params = parse_options_header(content_type or "")
    mimetype = mimetype.lower()
    if mimetype not in FORM_TYPES:
        shown = mimetype or "none"
        raise UnsupportedMediaType(
            f"Content-Type {shown!r} is not supported; send text/html, text/plain or application/json."
        )
    return mimetype, params


def job_from_json(
    document: Any,
    query_options: Mapping[str, Any] | None = None,
    url: str | None = None,
    url_ignored: bool = False,
) -> Job:
    """A job from a decoded JSON object (also used by the batch endpoint, one per line).

    Raises:
        InvalidField / InvalidOption: as for ``job_from_request``.
    """
    if not isinstance(document, dict):
        raise InvalidField("body", "must be a JSON object")
    unknown = sorted(set(document) - JSON_FIELDS)
    if unknown:
        raise InvalidField(unknown[0], f"unknown field; known fields: {', '.join(sorted(JSON_FIELDS))}")
    has_html, has_text = "html" in document, "text" in document
    if not has_html and not has_text and document.get("url") is not None:
        return _fetch_job(document, query_options)
    if has_html == has_text:
        raise InvalidField("html", "give exactly one of 'html' or 'text' (or only 'url', to have the page fetched)")
    key = "html" if has_html else "text"
    content = document[key]
    if not isinstance(content, str):
        raise InvalidField(key, "must be a string")
    options = _json_options(document, query_options)
    json_url, json_url_ignored = page_url(document.get("url"), "url")
    return Job(
        mode="html" if has_html else "text",
        body=_utf8(content),
        options=options,
        url=json_url or url,
        declared_charset="utf-8",
        url_ignored=json_url_ignored or (url_ignored and json_url is None),
    )


def _fetch_job(document: dict[str, Any], query_options: Mapping[str, Any] | None) -> Job:
    """``{"url": ...}`` without a page: a job whose page the web worker fetches (if allowed)."""
    options = _json_options(document, query_options)
    try:
        url = _check_url(document["url"], "url")
    except NotHttpURL:
        raise InvalidField("url", "must be an http or https URL to be fetched") from None
    if url is None:
        raise InvalidField("url", "give the URL of the page to fetch, or 'html' or 'text'")
    return Job(mode="html", body=b"", options=options, url=url, fetch=True)


def _json_options(document: dict[str, Any], query_options: Mapping[str, Any] | None) -> Options:
    """The JSON ``options`` over the query's (each must be valid on its own)."""
    raw_options = document.get("options", {})
    if not isinstance(raw_options, dict):
        raise InvalidField("options", "must be an object")
    if query_options:
        Options.parse(query_options)  # a bad query option is an error even if the body overrides it
    return Options.parse({**(query_options or {}), **raw_options})


def options_from_query(query: MultiDict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(query) - QUERY_PARAMETERS)
    if unknown:
        raise InvalidOption(unknown[0], f"unknown query parameter; known: {', '.join(sorted(QUERY_PARAMETERS))}")
    if len(query.getlist("url")) > 1:  # read by the caller, but one value, as every option
        raise InvalidOption("url", "given more than once")
    raw: dict[str, Any] = {}
    for name in QUERY_PARAMETERS - {"url"}:
        values = query.getlist(name)
        if not values:
            continue
        if name == "format":
            raw[name] = ",".join(values)
        elif name in SELECTOR_OPTIONS:
            raw[name] = values  # repeatable: one selector per parameter (selectors hold commas)
        elif len(values) > 1:
            raise InvalidOption(name, "given more than once")
        else:
            raw[name] = values[0]
    return raw


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidJSON("The JSON body is not valid UTF-8.") from None
    except (ValueError, RecursionError) as error:
        raise InvalidJSON(f"The body is not valid JSON: {_json_error(error)}") from None


def _json_error(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)  # e.g. an integer of more digits than Python converts (4,300)


class NotHttpURL(Exception):
    """A page address whose scheme is not http(s) (``javascript:``, ``ftp:``, the trafilatura
    benchmark's ``hard::page.html`` ids): never echoed nor used."""


def page_url(value: Any, field: str) -> tuple[str | None, bool]:
    """(the page address, whether one was given but ignored): a page sent along with its address
    is still cleaned when that address is not http(s) — the address is dropped and the answer
    says ``url-ignored`` (a crawler's odd record must not cost its article; the reference
    scorer sends such ids as ``url``). Everything else ``_check_url`` refuses stays a 400."""
    try:
        return _check_url(value, field), False
    except NotHttpURL:
        return None, True


def _check_url(value: Any, field: str) -> str | None:
    """The client's page address, stripped (None when absent or blank).

    Raises:
        NotHttpURL: a well-formed value whose scheme is not http or https.
        InvalidField: not a string, too long, an http(s) URL without a valid host or port, or
            holding control characters or lone surrogates (a 500 and a dead extraction process
            before, issue 24).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(field, "must be a string")
    url = value.strip()
    if len(url) > MAX_URL_CHARS:
        raise InvalidField(field, f"longer than {MAX_URL_CHARS} characters")
    if not url:
        return None
    refuse_lone_surrogates(url, field)
    if _URL_CONTROLS.search(url):
        raise InvalidField(field, "must not contain control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise InvalidField(field, f"is not a valid URL ({error})") from None
    if parts.scheme.lower() not in URL_SCHEMES:
        raise NotHttpURL(url)
    host = parts.hostname or ""
    if not host or _FORBIDDEN_IN_HOST.intersection(host):
        raise InvalidField(field, "must name a valid host")
    return url


def refuse_lone_surrogates(value: str, field: str) -> None:
    """Raises InvalidField when ``value`` holds a lone surrogate: echoed, it cannot be encoded."""
    if LONE_SURROGATE.search(value):
        raise InvalidField(field, "holds a lone surrogate (\\ud800-\\udfff), which is not text")


def _utf8(content: str) -> bytes:
    """``content`` as UTF-8, each lone surrogate one U+FFFD (pages are large: one pass usually)."""
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:
        return replace_lone_surrogates(content).encode("utf-8")
