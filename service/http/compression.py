"""gzip answers for clients that send ``Accept-Encoding: gzip`` (issue 25 item 4), stdlib only.

Whole answers are compressed at ``MIN_GZIP_BYTES`` and above: problem documents (~200-300 bytes)
and short answers stay plain, as gzip's ~20 bytes of framing and its CPU would buy nothing. A
streamed answer (the batch's NDJSON) is one gzip stream flushed after every chunk, so each line
reaches the client as soon as it is ready, as without compression.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator

from flask import Response
from werkzeug.http import parse_accept_header

GZIP = "gzip"
# "~1 KB" (the issue): below it the saving is a few hundred bytes at most.
MIN_GZIP_BYTES = 1024
# Level 1, measured on the answers (text + Markdown) of 40 pages of /work/shared/bench: 0.32 ms
# an answer and 30 % of its size; level 6 (zlib's default) took 0.74 ms for 27 %. The web
# worker's CPU is shared with the extraction processes (~0.9 ms a page in all, docs/architecture.md).
GZIP_LEVEL = 1
# wbits for zlib.compressobj that write a gzip header and trailer (RFC 1952), not zlib's.
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip;q=0`` and ``identity`` alone do not; ``*`` does)."""
    if not accept_encoding:
        return False
    return parse_accept_header(accept_encoding).quality(GZIP) > 0


def gzip_body(body: bytes) -> bytes:
    """``body`` as one gzip member (mtime 0: the same answer gives the same bytes)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def gzip_stream(chunks: Iterable[bytes], source: object = None) -> Iterator[bytes]:
    """``chunks`` as one gzip stream, flushed after each chunk; closing it closes ``source``
    (default: ``chunks``), where the chunks come from."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    try:
        for chunk in chunks:
            yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
        yield compressor.flush(zlib.Z_FINISH)
    finally:
        close = getattr(chunks if source is None else source, "close", None)
        if close is not None:
            close()  # a client gone mid-stream: the batch's own clean-up must still run


def compress_wsgi_body(body: bytes, accept_encoding: str | None) -> tuple[bytes, list[tuple[str, str]]]:
    """(the body to send, the headers that go with it) for a whole answer of the plain-WSGI endpoint."""
    headers = [("Vary", "Accept-Encoding")]
    if len(body) >= MIN_GZIP_BYTES and accepts_gzip(accept_encoding):
        return gzip_body(body), [*headers, ("Content-Encoding", GZIP)]
    return body, headers


def compress_response(response: Response, accept_encoding: str | None) -> None:
    """gzip a Flask ``response`` in place when the client accepts it and it is worth it.

    Files sent as they are (``direct_passthrough``: the playground's and docs' static files) and
    answers that already have a Content-Encoding are left alone.
    """
    if response.direct_passthrough or "Content-Encoding" in response.headers:
        return
    if response.status_code < 200 or response.status_code in (204, 304):
        return
    response.vary.add("Accept-Encoding")
    if not accepts_gzip(accept_encoding):
        return
    if response.is_streamed:
        response.response = gzip_stream(response.iter_encoded(), source=response.response)
    elif response.content_length is not None and response.content_length >= MIN_GZIP_BYTES:
        response.set_data(gzip_body(response.get_data()))
    else:
        return
    response.headers["Content-Encoding"] = GZIP
