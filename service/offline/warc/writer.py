"""Building WARC files from pages: for the tests, the benchmark and trying the command out.

Each record is its own gzip member (WARC 1.1, annex D: "record-at-time compression"), as Common
Crawl publishes them, so ``records.ChunkScanner`` can cut the file by offsets. HTTP payloads
can be stored chunked and/or gzip-encoded, as a crawler that keeps raw transfers stores them.
"""

from __future__ import annotations

import gzip
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from fastwarc.warc import WarcRecord, WarcRecordType

# Compression level of each record's gzip member: zlib's default (speed/size balance).
GZIP_LEVEL = 6
# Chunk size when storing a payload with Transfer-Encoding: chunked.
CHUNK_BYTES = 4096
HTTP_RESPONSE_TYPE = "application/http; msgtype=response"
HTTP_REQUEST_TYPE = "application/http; msgtype=request"
DEFAULT_DATE = "2024-03-12T10:00:00Z"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass
class Response:
    """An HTTP response record; ``content_type`` is the HTTP header's value (charset included)."""

    uri: str
    body: bytes
    content_type: str | None = "text/html"
    status: int = 200
    chunked: bool = False
    content_encoding: str | None = None  # "gzip" to store the body gzip-encoded
    date: str = DEFAULT_DATE
    record_id: str = field(default_factory=new_record_id)

    def http(self) -> bytes:
        body = gzip.compress(self.body, GZIP_LEVEL) if self.content_encoding == "gzip" else self.body
        headers = [f"HTTP/1.1 {self.status} {'OK' if self.status == 200 else 'Status'}"]
        if self.content_type is not None:
            headers.append(f"Content-Type: {self.content_type}")
        if self.content_encoding:
            headers.append(f"Content-Encoding: {self.content_encoding}")
        if self.chunked:
            headers.append("Transfer-Encoding: chunked")
            body = _chunked(body)
        else:
            headers.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + body

    def record(self) -> bytes:
        return _record(WarcRecordType.response, self.record_id, self.uri, self.date, HTTP_RESPONSE_TYPE, self.http())


@dataclass
class Request:
    uri: str
    date: str = DEFAULT_DATE
    record_id: str = field(default_factory=new_record_id)

    def record(self) -> bytes:
        http = f"GET / HTTP/1.1\r\nHost: {self.uri.split('/')[2] if '//' in self.uri else self.uri}\r\n\r\n"
        return _record(WarcRecordType.request, self.record_id, self.uri, self.date, HTTP_REQUEST_TYPE, http.encode())


@dataclass
class Warcinfo:
    fields: str = "software: pagecleaner tests\r\nformat: WARC File Format 1.1\r\n"
    date: str = DEFAULT_DATE
    record_id: str = field(default_factory=new_record_id)

    def record(self) -> bytes:
        return _record(
            WarcRecordType.warcinfo, self.record_id, None, self.date, "application/warc-fields", self.fields.encode()
        )


def write_warc(path: str, records: Iterable[Response | Request | Warcinfo], per_record_gzip: bool = True) -> int:
    """Write ``records`` to ``path`` (gzip per record, or plain when ``per_record_gzip`` is off).

    Returns the number of records written.
    """
    count = 0
    with open(path, "wb") as out:
        for item in records:
            data = item.record()
            out.write(gzip.compress(data, GZIP_LEVEL) if per_record_gzip else data)
            count += 1
    return count


def _record(kind: WarcRecordType, record_id: str, uri: str | None, date: str, content_type: str, block: bytes) -> bytes:
    record = WarcRecord()
    record.init_headers(kind)
    record.headers["WARC-Record-ID"] = record_id
    record.headers["WARC-Date"] = date
    if uri is not None:
        record.headers["WARC-Target-URI"] = uri
    record.headers["Content-Type"] = content_type
    record.set_bytes_content(block)
    buffer = io.BytesIO()
    record.write(buffer)
    return buffer.getvalue()


def _chunked(body: bytes) -> bytes:
    parts = []
    for start in range(0, len(body), CHUNK_BYTES):
        piece = body[start : start + CHUNK_BYTES]
        parts.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    return b"".join(parts) + b"0\r\n\r\n"
