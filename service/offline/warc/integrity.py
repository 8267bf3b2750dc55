"""Whether an archive ends with whole records: FastWARC stops without an error where a file is cut.

A ``.warc.gz`` cut short (an interrupted download) ends its iteration at the cut as if the file
ended there, and a plain WARC's last record is returned with whatever part of its block is there.
Marked complete, such an input was skipped by every later run (audit s20, item 2). So the scanner
re-reads the file's tail, from the start of its last record, with the WARC framing checked here:
each record's header, ``Content-Length`` bytes of block, then its CRLF CRLF, up to a clean end of
file (and of the last gzip member). That is one record for the usual files (a gzip member per
record, or plain); a file gzipped as one stream is read again from its start.
"""

from __future__ import annotations

import gzip
import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
WARC_MAGIC = b"WARC/"
# A WARC header line is short; a longer one means the bytes are no WARC header.
MAX_HEADER_LINE_BYTES = 64 * 1024
MAX_HEADER_LINES = 1000
SKIP_BYTES = 1024 * 1024
# What ends a record's block (WARC 1.1, 4: "two newlines", CRLF CRLF).
RECORD_END = b"\r\n\r\n"
# The file itself (plain WARC) or its gzip decompressor.
Stream = BinaryIO | gzip.GzipFile


class Cut(Exception):
    """The bytes are not whole WARC records."""


def tail_error(path: str, offset: int, records: int) -> str | None:
    """Why the file from ``offset`` (a record's start) on is not ``records`` whole records, or None.

    Only plain and gzip files are checked (other codecs: None).
    """
    with open(path, "rb") as raw:
        magic = raw.read(len(WARC_MAGIC))
        raw.seek(offset)
        if magic.startswith(GZIP_MAGIC):
            stream: Stream = gzip.GzipFile(fileobj=raw, mode="rb")
        elif magic == WARC_MAGIC:
            stream = raw
        else:
            return None
        try:
            found = _count_records(stream)
        except Cut as cut:
            return f"the end of the file is not whole records: {cut}"
        except (OSError, EOFError, zlib.error) as error:  # a gzip member cut short or corrupt
            return f"the end of the file is cut short or corrupt: {type(error).__name__}: {error}"
    if found != records:
        return f"the end of the file holds {found} whole records where {records} were read"
    return None


def _count_records(stream: Stream) -> int:
    """The number of whole records from here to the end of ``stream``.

    Raises:
        Cut: a header, block or record end is cut short or malformed.
    """
    count = 0
    while True:
        length = _read_header(stream)
        if length is None:
            return count
        if _skip(stream, length) < length:
            raise Cut(f"a record's block is shorter than its Content-Length {length}")
        end = stream.read(len(RECORD_END))
        if end.strip(b"\r\n"):
            raise Cut("a record's block is not followed by CRLF CRLF")
        count += 1


def _read_header(stream: Stream) -> int | None:
    """The next record's Content-Length, after its header; None at a clean end of the stream."""
    line = stream.readline(MAX_HEADER_LINE_BYTES)
    while line in (b"\r\n", b"\n"):  # tolerated between records
        line = stream.readline(MAX_HEADER_LINE_BYTES)
    if not line:
        return None
    if not line.startswith(WARC_MAGIC):
        raise Cut(f"no WARC record starts at {line[:40]!r}")
    length: int | None = None
    for _ in range(MAX_HEADER_LINES):
        line = stream.readline(MAX_HEADER_LINE_BYTES)
        if line in (b"\r\n", b"\n"):
            if length is None:
                raise Cut("a record header without Content-Length")
            return length
        if not line.endswith(b"\n"):
            raise Cut("a record header is cut short")
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise Cut(f"a bad Content-Length {value.strip()[:40]!r}") from None
    raise Cut("a record header of too many lines")


def _skip(stream: Stream, length: int) -> int:
    """Read past ``length`` bytes; returns how many there were."""
    skipped = 0
    while skipped < length:
        part = stream.read(min(SKIP_BYTES, length - skipped))
        if not part:
            break
        skipped += len(part)
    return skipped
