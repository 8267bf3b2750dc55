"""The service's exception family and the one renderer that turns any of them into problem+json.

Every failure a client can see is a ``ServiceError`` subclass with a stable ``code`` and HTTP
status, raised by the stage that detects it (RFC 9457). Nothing else reaches the client: unknown
exceptions become a generic 500 without any trace or message.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:pagecleaner:problem:"
# A surrogate code point on its own: JSON's "\ud800" escape lets a client send one, and strict
# UTF-8 cannot encode it, so it must never reach an answer (issue 24).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by one U+FFFD (as a UTF-8 decoder does)."""
    return LONE_SURROGATE.sub("\ufffd", text)


class ServiceError(Exception):
    """Base of every error a client may see."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def headers(self) -> dict[str, str]:
        return {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "code": self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        problem.update(self.extra)
        return problem

    def to_json(self, instance: str | None = None) -> str:
        return json.dumps(self.to_problem(instance), ensure_ascii=False)

    # Errors cross the process boundary between extraction process and web worker.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self).__name__, self.detail, self.extra))


class BadRequest(ServiceError):
    status, code, title = 400, "bad-request", "Bad request"


class InvalidJSON(BadRequest):
    code, title = "invalid-json", "Malformed JSON body"


class InvalidField(BadRequest):
    code, title = "invalid-field", "A field of the request is invalid"

    def __init__(self, field: str, detail: str) -> None:
        field = replace_lone_surrogates(field)  # an unknown field's name is the client's text
        super().__init__(f"{field}: {detail}", field=field)


class InvalidOption(BadRequest):
    code, title = "invalid-option", "An option is invalid"

    def __init__(self, option: str, detail: str) -> None:
        option = replace_lone_surrogates(option)  # an unknown option's name is the client's text
        super().__init__(f"{option}: {detail}", option=option)


class HostNotAllowed(BadRequest):
    code, title = "host-not-allowed", "The Host header names no address this service answers for"


class Unauthorized(ServiceError):
    status, code, title = 401, "unauthorized", "Missing or wrong API key"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="pagecleaner"'}


class NotFound(ServiceError):
    status, code, title = 404, "not-found", "No such path"


class MethodNotAllowed(ServiceError):
    status, code, title = 405, "method-not-allowed", "Method not allowed on this path"

    def __init__(self, detail: str | None = None, allowed: list[str] | None = None) -> None:
        super().__init__(detail)
        self.allowed = allowed or []

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)} if self.allowed else {}


class RequestTimeout(ServiceError):
    status, code, title = 408, "request-timeout", "The request body did not arrive in time"


class BodyTooLarge(ServiceError):
    status, code, title = 413, "body-too-large", "Request body too large"


class ExpectationFailed(ServiceError):
    status, code, title = 417, "expectation-failed", "The Expect header asks for something this server does not do"


class UriTooLong(ServiceError):
    status, code, title = 414, "uri-too-long", "The request line is too long"


class HeaderFieldsTooLarge(ServiceError):
    status, code, title = 431, "header-fields-too-large", "Too many request headers, or one too large"


class TransferCodingNotImplemented(ServiceError):
    status, code, title = 501, "not-implemented", "The request's Transfer-Encoding is not supported"


class UnsupportedMediaType(ServiceError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type or content encoding"


class NotAPage(ServiceError):
    status, code, title = 422, "not-a-page", "The body is not a web page or text"


class PageTooComplex(ServiceError):
    status, code, title = 422, "page-too-complex", "The page needs more memory than allowed"


class Overloaded(ServiceError):
    status, code, title = 429, "overloaded", "Too many requests in flight"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class TimeBudgetExceeded(ServiceError):
    status, code, title = 503, "time-budget-exceeded", "The extraction did not finish within its time budget"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


class ExtractorUnavailable(ServiceError):
    status, code, title = 503, "extractor-unavailable", "No extraction process could take the request"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class ExtractorCrashed(ServiceError):
    status, code, title = 500, "extractor-crashed", "The extraction process died on this page"


class FetchRefused(ServiceError):
    """Fetching is off on this server, or the URL's address is not one it may reach (SSRF guard)."""

    status, code, title = 403, "fetch-refused", "The page may not be fetched"


class FetchFailed(ServiceError):
    """The page could not be fetched or is not one: ``reason`` says which (``connection``, ``tls``,
    ``dns``, ``status``, ``content-type``, ``too-large``, ``redirects``, ``invalid-url``)."""

    status, code, title = 502, "fetch-failed", "The page could not be fetched"


class FetchTimeout(ServiceError):
    status, code, title = 504, "fetch-timeout", "The page was not fetched in time"


class ClientClosed(ServiceError):
    """The client closed its connection while its page was fetched: the fetch is stopped. Nobody
    reads the answer; the status (nginx's 499) is for the access log and the metrics."""

    status, code, title = 499, "client-closed", "The client closed the connection"


def _rebuild(name: str, detail: str, extra: dict[str, Any]) -> ServiceError:
    cls = _REGISTRY.get(name, ServiceError)
    error = cls.__new__(cls)
    ServiceError.__init__(error, detail, **extra)
    if isinstance(error, MethodNotAllowed):
        error.allowed = []
    return error


def _all_subclasses(cls: type[ServiceError]) -> list[type[ServiceError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


_REGISTRY = {cls.__name__: cls for cls in _all_subclasses(ServiceError)}
