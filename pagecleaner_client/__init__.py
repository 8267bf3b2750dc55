"""The Python client of a pagecleaner server: sync and async, typed answers, typed problems.

    from pagecleaner_client import Client

    with Client("http://127.0.0.1:8080", api_key="...") as cleaner:  # or PAGECLEANER_URL / _API_KEY
        article = cleaner.extract(html, url="https://example.com/a", format=["text", "markdown"])
        print(article.title, article.markdown)
        for result in cleaner.extract_many([{"id": 1, "html": page_1}, {"id": 2, "text": text_2}]):
            print(result.id, result.article.title if result.ok else result.error.code)

``AsyncClient`` is the same with ``await`` / ``async for``. Each client keeps its connections
open between calls. A 429 is retried (waiting at least what ``Retry-After`` says, with growing,
jittered waits bounded by ``RetryPolicy``), and so is a failed connection; nothing else is (a 503
``time-budget-exceeded`` would only fail again). Errors: ``RequestRejectedError`` (4xx),
``ServiceUnavailableError`` (5xx, or 429 after the retries), both ``ProblemError`` carrying
``status``, ``code`` and the ``problem`` document, and ``TransportError`` (no usable answer).
"""

from pagecleaner_client.aio import DEFAULT_MAX_CONCURRENCY, AsyncClient
from pagecleaner_client.errors import (
    CleanerError,
    ProblemError,
    RequestRejectedError,
    ServiceUnavailableError,
    TransportError,
)
from pagecleaner_client.models import Article, ItemResult, Removed
from pagecleaner_client.retries import DEFAULT_RETRIES, MAX_RETRY_WAIT_S, MAX_TOTAL_RETRY_S, RetryPolicy
from pagecleaner_client.sync import Client, extract
from pagecleaner_client.wire import DEFAULT_BASE_URL, ENV_API_KEY, ENV_URL

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_RETRIES",
    "ENV_API_KEY",
    "ENV_URL",
    "MAX_RETRY_WAIT_S",
    "MAX_TOTAL_RETRY_S",
    "Article",
    "AsyncClient",
    "CleanerError",
    "Client",
    "ItemResult",
    "ProblemError",
    "Removed",
    "RequestRejectedError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "TransportError",
    "extract",
]
