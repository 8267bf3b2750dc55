"""Charset detection on undeclared legacy pages: the service's detector beside charset_normalizer.

Real undeclared legacy pages come with no truth, so they are made: every development page that is
UTF-8 with non-ASCII text is encoded in the legacy charset that holds it with the fewest
character references (a CJK page among the CJK charsets, any other among the single-byte ones;
pages that no legacy charset holds are left out), and its charset declarations are removed. A
detection is right when the page decodes to the same text as with the charset it was made in
(windows-1252 and ISO-8859-15 can both be right for a page neither's differences touch).

    .venv/bin/python -m bench.charset_detection ../shared/bench
"""

from __future__ import annotations

import argparse
import collections
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import charset_normalizer

from service.pipeline import decode

_SINGLE_BYTE = ("cp1252", "cp1250", "cp1254", "cp1257", "cp1251", "cp1253", "cp1255", "cp1256", "cp874", "cp1258")
_CJK = ("gbk", "big5", "shift_jis", "euc_kr")
_DECLARATION = re.compile(rb"""<meta[^>]*charset[^>]*>|encoding=["'][^"']*["']""", re.IGNORECASE)
# A page whose non-ASCII characters would more than this share become references fits no charset.
_MAX_REFERENCE_SHARE = 0.2


def legacy_pages(root: Path) -> Iterator[tuple[str, str, bytes]]:
    """(page, the charset it was made in, its undeclared bytes) for each usable development page."""
    for path in sorted(root.glob("*/pages/*.html")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        non_ascii = sum(1 for character in text if ord(character) > 127)
        if not non_ascii:
            continue
        cjk = sum(1 for character in text if "\u3000" <= character <= "\u9fff" or "\uac00" <= character <= "\ud7af")
        candidates = _CJK if cjk > 0.3 * non_ascii else _SINGLE_BYTE
        encoded = {codec: text.encode(codec, errors="xmlcharrefreplace") for codec in candidates}
        codec = min(candidates, key=lambda name: encoded[name].count(b"&#"))
        if encoded[codec].count(b"&#") - text.count("&#") > _MAX_REFERENCE_SHARE * non_ascii:
            continue
        yield f"{path.parent.parent.name}/{path.stem}", codec, _DECLARATION.sub(b"", encoded[codec])


def _charset_normalizer(body: bytes) -> str:
    best = charset_normalizer.from_bytes(body[: decode.DETECT_SAMPLE_BYTES]).best()
    return best.encoding if best else "cp1252"


def _reads_the_same(body: bytes, detected: str, made_in: str) -> bool:
    try:
        return body.decode(detected) == body.decode(made_in)
    except (UnicodeDecodeError, LookupError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", type=Path, help="the folder holding the development sets")
    args = parser.parse_args()
    detectors: dict[str, Callable[[bytes], str]] = {
        "service (chardetng)": decode._detect,
        "charset_normalizer": _charset_normalizer,
    }
    right: collections.Counter[tuple[str, str]] = collections.Counter()
    pages: collections.Counter[str] = collections.Counter()
    for _page, made_in, body in legacy_pages(args.bench):
        pages[made_in] += 1
        for name, detect in detectors.items():
            right[name, made_in] += _reads_the_same(body, detect(body), made_in)
    print(f"{sum(pages.values())} pages; right per charset made in:")
    for name in detectors:
        per_charset = ", ".join(f"{codec} {right[name, codec]}/{count}" for codec, count in pages.most_common())
        print(f"  {name}: {sum(right[name, codec] for codec in pages)} ({per_charset})")


if __name__ == "__main__":
    main()
