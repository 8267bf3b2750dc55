"""Reading WARC files: cutting a file into chunks, reading one chunk, sorting records, payloads.

FastWARC (the ``fastwarc`` package) reads the files: on the same generated archive it read
records several times faster than warcio (numbers in docs/at_scale.md; ``bench/warc_scaling.py
--readers`` measures them again).

Chunks. The client scans a file once, without parsing HTTP, and every ``chunk_records`` records
notes the offset of the chunk's first record; a worker seeks there and reads its slice itself,
so neither payloads nor the file cross the network and the client holds only offsets. An offset
is only used when it is verified as a record start (a gzip member for ``.warc.gz`` written one
member per record, as the WARC standard recommends and Common Crawl does; ``WARC/`` for plain
files). Otherwise (a file gzipped as one stream, zstd, ...) the chunk starts from the last
verified offset and skips records, which is correct but re-reads the file's head.

Payloads. Records are read with FastWARC's ``auto_decode='none'`` and decoded here: FastWARC
2.0.1's ``auto_decode='all'`` stops the iteration after the first record with
``Transfer-Encoding: chunked`` plus ``Content-Encoding: gzip`` (observed while building this).
Decoding is tolerant, as archives hold both raw and already-decoded payloads under the same
headers: de-chunk if the body parses as chunks, decompress if it decompresses, else keep it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecordType

from service.errors import BadRequest, BodyTooLarge, UnsupportedMediaType
from service.offline.warc.integrity import GZIP_MAGIC, WARC_MAGIC, tail_error
from service.request_forms import HTML_TYPES

# Records per chunk (one Dask task): Common Crawl holds ~3 records per page (request, response,
# metadata), so ~100 pages, ~2-5 s of extraction at 20-50 ms a page (bench/warc_scaling.py):
# long enough that scheduling (~1 ms a task) is noise, short enough to balance and to retry.
DEFAULT_CHUNK_RECORDS = 300
# FastWARC's read buffer (its default).
READ_BUFFER_BYTES = 64 * 1024
# zlib ``wbits``: 32 + 15 = gzip or zlib header, auto-detected; -15 = raw deflate (RFC 9110 8.4.1).
_GZIP_OR_ZLIB_WBITS = 32 + 15
_GZIP_WBITS = 16 + 15
# Compressed bytes read to check that a gzip member at an offset starts a WARC record: the gzip
# header (10 bytes, more with a file name) and the deflate bytes of "WARC/" fit easily.
PROBE_BYTES = 512
_RAW_DEFLATE_WBITS = -15
_GZIP_CODINGS = frozenset({"gzip", "x-gzip"})
_IDENTITY_CODINGS = frozenset({"", "identity", "none"})

# Why a record is not a page (summary keys).
SKIP_NOT_RESPONSE = "not-response"  # request, metadata, warcinfo, revisit, resource ... records
SKIP_NOT_HTTP = "not-http"  # a response record that holds no HTTP message (e.g. dns:)
SKIP_HTTP_STATUS = "http-status-not-2xx"  # redirects and error pages are not the article
SKIP_NO_CONTENT_TYPE = "no-content-type"
SKIP_NOT_HTML = "not-html"
SKIP_EMPTY = "empty-payload"
SKIP_UNREADABLE = "unreadable-record"  # cut short, or the archive is corrupt from this record on


class PayloadUndecodable(UnsupportedMediaType):
    """The HTTP payload uses a content coding this reader cannot undo (e.g. zstd, compress)."""

    code, title = "unsupported-content-encoding", "The page's HTTP content encoding is not supported"


@dataclass(frozen=True)
class Chunk:
    """``count`` records of ``path``: seek to ``offset``, skip ``skip`` records, read ``count``."""

    path: str
    index: int
    offset: int
    count: int
    skip: int = 0


@dataclass(frozen=True)
class Page:
    """An HTML response: the HTTP payload (transfer and content codings undone) and its charset."""

    target_uri: str | None
    record_id: str | None
    date: str | None
    body: bytes
    charset: str | None


@dataclass(frozen=True)
class Refused:
    """An HTML response refused before the pipeline (too large, unknown content coding)."""

    target_uri: str | None
    record_id: str | None
    date: str | None
    error: BodyTooLarge | PayloadUndecodable


@dataclass(frozen=True)
class Skipped:
    reason: str
    record_id: str | None = None
    detail: str | None = None  # for an unreadable record: what went wrong (the summary's read_errors)


class NotAWarc(BadRequest):
    """The input holds no readable WARC record at its start."""

    code, title = "not-a-warc", "The input is not a WARC file"


def check_warc(path: str) -> None:
    """The file starts with a readable WARC record (plain, gzip, or whatever FastWARC reads).

    Without this check a text or HTML file scanned as zero records and was marked complete, so a
    re-run skipped it (issue 24, item 15).

    Raises:
        NotAWarc: no record could be read at the start (including an empty file).
    """
    with open(path, "rb") as stream:
        try:
            first = next(iter(ArchiveIterator(stream, parse_http=False)), None)
        except Exception as error:  # FastWARC raises OSError('Invalid WARC header'); a codec its own
            raise NotAWarc(f"{path}: not a WARC file ({error})") from None
    if first is None:
        raise NotAWarc(f"{path}: not a WARC file (no record in it)")


class ChunkScanner:
    """Iterates the chunks of one file; after the iteration ``records`` and ``error`` are final.

    ``error`` says why the file could not be read to its end: a codec error, or a tail that is not
    whole records (``integrity``: FastWARC ends quietly where a file is cut).
    """

    def __init__(self, path: str, chunk_records: int = DEFAULT_CHUNK_RECORDS) -> None:
        self.path = path
        self.chunk_records = max(1, chunk_records)
        self.records = 0
        self.error: str | None = None
        self.seekable = True

    def __iter__(self) -> Iterator[Chunk]:
        index = 0
        anchor = 0  # last verified record start
        since_anchor = 0  # records between the anchor and the current chunk's start
        pending: Chunk | None = None
        last = 0  # the last record's offset
        with open(self.path, "rb") as stream, open(self.path, "rb") as probe:
            magic = probe.read(len(WARC_MAGIC))
            try:
                for position, record in enumerate(ArchiveIterator(stream, parse_http=False)):
                    last = int(record.stream_pos)
                    if position % self.chunk_records == 0:
                        if pending is not None:
                            yield pending
                        offset = int(record.stream_pos)
                        if offset == 0 or (offset > anchor and _starts_record(probe, offset, magic)):
                            anchor, since_anchor = offset, 0
                        else:
                            self.seekable = False
                        pending = Chunk(self.path, index, anchor, 0, since_anchor)
                        index += 1
                    assert pending is not None
                    pending = Chunk(pending.path, pending.index, pending.offset, pending.count + 1, pending.skip)
                    since_anchor += 1
                    self.records += 1
            except Exception as error:  # a corrupt archive raises whatever its codec raises
                self.error = f"{type(error).__name__}: {error} (after {self.records} records)"
            else:
                if self.records and last > anchor and _starts_record(probe, last, magic):
                    anchor, since_anchor = last, 1
                if self.records:
                    self.error = tail_error(self.path, anchor, since_anchor)
            if pending is not None:
                yield pending


def _starts_record(probe: BinaryIO, offset: int, magic: bytes) -> bool:
    """Whether a record starts at ``offset``: ``WARC/`` there, or a gzip member that begins so."""
    probe.seek(offset)
    if magic.startswith(GZIP_MAGIC):
        head = probe.read(PROBE_BYTES)
        if not head.startswith(GZIP_MAGIC):
            return False
        try:
            return zlib.decompressobj(_GZIP_WBITS).decompress(head, len(WARC_MAGIC)) == WARC_MAGIC
        except zlib.error:
            return False
    return magic == WARC_MAGIC and probe.read(len(WARC_MAGIC)) == WARC_MAGIC


def read_chunk(chunk: Chunk, max_body_bytes: int) -> Iterator[Page | Skipped | Refused]:
    """One item per record of ``chunk``: a page, a skip, or a page refused with its error.

    Nothing is raised for one record, so the caller records it and goes on.
    A corrupt archive yields ``Skipped(SKIP_UNREADABLE)`` for each record it could not read.
    """
    done = 0
    detail = None
    try:
        with open(chunk.path, "rb") as stream:
            stream.seek(chunk.offset)
            records = iter(ArchiveIterator(stream, parse_http=True, auto_decode="none", buffer_size=READ_BUFFER_BYTES))
            for _ in range(chunk.skip):
                next(records)
            for record in records:
                if done == chunk.count:
                    break
                done += 1
                yield _classify(record, max_body_bytes)
    except Exception as error:  # corrupt from here on: the rest of the chunk is counted as unreadable
        detail = f"{type(error).__name__}: {error} (chunk {chunk.index}, after {done} of its records)"
    if done < chunk.count and detail is None:
        detail = f"the file ends early (chunk {chunk.index}, after {done} of its records)"
    for _ in range(chunk.count - done):
        yield Skipped(SKIP_UNREADABLE, detail=detail)
        detail = None  # said once per chunk


def _classify(record: Any, max_body_bytes: int) -> Page | Skipped | Refused:
    record_id = record.record_id
    if record.record_type != WarcRecordType.response:
        return Skipped(SKIP_NOT_RESPONSE, record_id)
    if not record.is_http:
        return Skipped(SKIP_NOT_HTTP, record_id)
    status = record.http_headers.status_code
    if status is not None and not 200 <= status < 300:
        return Skipped(SKIP_HTTP_STATUS, record_id)
    content_type = (record.http_content_type or "").strip().lower()
    if not content_type:
        return Skipped(SKIP_NO_CONTENT_TYPE, record_id)
    if content_type not in HTML_TYPES:
        return Skipped(SKIP_NOT_HTML, record_id)
    headers = record.http_headers
    # Read at most the limit (+1 to see it passed); compressed bodies are checked after decoding.
    raw = _read_at_most(record.reader, max_body_bytes + 1)
    # After the HTTP headers, content_length is what the payload should hold: a record cut short
    # (the end of a truncated file) must not be cleaned as if it were the whole page.
    if len(raw) <= max_body_bytes and len(raw) < record.content_length:
        detail = f"record {record_id} is cut short: {len(raw)} of its Content-Length {record.content_length} bytes"
        return Skipped(SKIP_UNREADABLE, record_id, detail)
    try:
        body = decode_payload(
            raw, headers.get("Transfer-Encoding") or "", headers.get("Content-Encoding") or "", max_body_bytes
        )
    except (BodyTooLarge, PayloadUndecodable) as error:
        return Refused(record.headers.get("WARC-Target-URI"), record_id, record.headers.get("WARC-Date"), error)
    if not body.strip():
        return Skipped(SKIP_EMPTY, record_id)
    return Page(
        target_uri=record.headers.get("WARC-Target-URI"),
        record_id=record_id,
        date=record.headers.get("WARC-Date"),
        body=body,
        charset=record.http_charset,
    )


def _read_at_most(reader: Any, limit: int) -> bytes:
    # In pieces: FastWARC's read(n) allocates n bytes up front (a 100 MB limit costs 2x the read).
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = reader.read(min(READ_BUFFER_BYTES, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def decode_payload(raw: bytes, transfer_encoding: str, content_encoding: str, max_bytes: int) -> bytes:
    """Undo the HTTP transfer coding (chunked) and content codings, tolerantly.

    Raises:
        BodyTooLarge: the decoded body is over ``max_bytes``.
        PayloadUndecodable: a content coding other than gzip, deflate or br.
    """
    body = raw
    if "chunked" in transfer_encoding.lower():
        body = dechunk(body)
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    for coding in reversed([c for c in codings if c not in _IDENTITY_CODINGS]):
        body = _decompress(body, coding, max_bytes)
    if len(body) > max_bytes:
        raise BodyTooLarge(f"The page is larger than {max_bytes} bytes.")
    return body


def dechunk(body: bytes) -> bytes:
    """The body without chunked framing (RFC 9112 7.1); ``body`` itself if it is not chunked.

    A body cut short inside a chunk (truncated record) keeps what arrived.
    """
    out = bytearray()
    position = 0
    while position < len(body):
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            break
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return body if not out else bytes(out)
        if size == 0:
            return bytes(out)
        start = line_end + 2
        out += body[start : start + size]
        position = start + size + 2
    return bytes(out) if out else body


def _decompress(body: bytes, coding: str, max_bytes: int) -> bytes:
    if coding in _GZIP_CODINGS or coding == "deflate":
        if coding in _GZIP_CODINGS and not body.startswith(GZIP_MAGIC):
            return body  # stored decoded under its original header
        for wbits in (_GZIP_OR_ZLIB_WBITS, _RAW_DEFLATE_WBITS):
            try:
                decompressor = zlib.decompressobj(wbits)
                out = decompressor.decompress(body, max_bytes + 1)
            except zlib.error:
                continue
            return _checked(out, max_bytes)
        return body
    if coding == "br":
        import brotli  # FastWARC's own dependency

        try:
            return _checked(brotli.Decompressor().process(body, output_buffer_limit=max_bytes + 1), max_bytes)
        except brotli.error:
            return body
    raise PayloadUndecodable(f"Content-Encoding {coding!r} is not supported (gzip, deflate, br are).")


def _checked(body: bytes, max_bytes: int) -> bytes:
    if len(body) > max_bytes:
        raise BodyTooLarge(f"The page is larger than {max_bytes} bytes once decompressed.")
    return body
