"""Bytes to text: refuse what is not a page, find the charset, strip control characters.

Charset order follows the WHATWG encoding-sniffing algorithm: a byte-order mark wins, then the
charset the client declared (HTTP header), then ``<meta charset>`` in the first bytes, then strict
UTF-8, then detection (reported as the warning ``charset-guessed``) by chardetng, the detector
Firefox runs on undeclared pages. Only WHATWG
labels are charsets (``charsets``): any other label is ignored (warning ``charset-ignored``).
A declared charset that decodes badly while the detected one decodes cleanly is replaced by the
detected one (warning ``charset-corrected``): a windows-1251 page sent as UTF-8 came back as
U+FFFD soup (issue 24).
"""

from __future__ import annotations

import codecs
import re

import chardetng_py

from service.errors import NotAPage
from service.pipeline.charsets import UTF16_CODECS, whatwg_codec

# Signatures of formats that are certainly not pages (RFC/format specs' magic numbers).
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or Office document)"),
    (b"\x1f\x8b", "gzip data (send it with Content-Encoding: gzip)"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x7fELF", "executable"),
    (b"\x00asm", "WebAssembly module"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM media"),
    (b"wOFF", "web font"),
    (b"wOF2", "web font"),
)
_RIFF_KINDS = (b"WEBP", b"WAVE", b"AVI ")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Bytes looked at to decide "binary or text": enough to cover a page's head.
SNIFF_BYTES = 8192
# Share of control bytes (not tab/CR/LF/FF) in the sniffed prefix above which the body is binary;
# real text in any single-byte or multi-byte charset has next to none.
MAX_CONTROL_SHARE = 0.02
# WHATWG: the meta charset must sit in the first 1024 bytes; we look a little further because
# real pages put long scripts first.
META_SCAN_BYTES = 4096
# Sample size given to the detector: detection time grows with the sample, accuracy saturates.
DETECT_SAMPLE_BYTES = 64 * 1024
# A declared charset "decodes badly" when at least this many characters became U+FFFD and they
# are at least this share of the non-ASCII characters: a page in another charset turns nearly
# every non-ASCII byte into U+FFFD (windows-1251 read as UTF-8: >90 %), while a real UTF-8 page
# with a few stray legacy bytes keeps most of its non-ASCII text valid (issue 24).
BAD_DECODE_MIN_REPLACED = 8
BAD_DECODE_REPLACED_SHARE = 0.5

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]{1,40})""", re.IGNORECASE)
# The detector's codec names that browsers decode with a superset (WHATWG Encoding Standard).
_SUPERSETS = {
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "tis-620": "cp874",
    "iso-8859-9": "cp1254",
    "big5": "big5hkscs",
}
# C0 controls except TAB, LF, CR (and FF, which we turn into a newline); DEL and C1 controls; the
# noncharacters U+FFFE and U+FFFF (no XML characters: libxml2 fails on them).
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\x80-\x9f\ufffe\uffff]")
# Numeric character references to C1 controls (128-159), which HTML reads as windows-1252.
_C1_REFS = re.compile(r"&#(?:0*(12[89]|1[3-5]\d)(?!\d)|[xX]0*([89][0-9a-fA-F])(?![0-9a-fA-F]));?")
# Numeric character references to the same controls (&#1;, &#x1F;) and to the noncharacters
# U+FFFE and U+FFFF: libxml2 drops the whole text node around them, so trafilatura returned nothing
# for such pages (issue 4; &#65535; made the whole page fall back to the baseline extraction).
_CONTROL_REFS = re.compile(
    r"&#(?:0*(?:[0-8]|1[124-9]|2\d|3[01]|12[7-9]|1[3-5]\d|6553[45])(?!\d)"
    r"|[xX]0*(?:[0-8bBeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F]));?"
)


# Bytes that do not occur in text: C0 controls but TAB, LF, VT, FF, CR and ESC (ISO-2022).
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or (b > 13 and b != 27))


def refuse_binary(body: bytes, utf16: bool = False) -> None:
    """Raise NotAPage when ``body`` is an image, archive, PDF, executable or other binary
    (``utf16``: the client declared UTF-16, whose NUL bytes are text).

    Raises:
        NotAPage: the body is empty or binary.
    """
    if not body.strip():
        raise NotAPage("The body is empty.")
    head = body[:SNIFF_BYTES]
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            raise NotAPage(f"The body looks like a {kind}, not a web page.")
    if head.startswith(b"RIFF") and head[8:12] in _RIFF_KINDS:
        raise NotAPage("The body looks like RIFF media, not a web page.")
    if utf16 or _bom_encoding(head) in {"utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"}:
        return  # NUL bytes are normal there
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > MAX_CONTROL_SHARE * len(head):
        raise NotAPage("The body holds binary data, not text.")


def decode(body: bytes, declared_charset: str | None, is_html: bool) -> tuple[str, str, list[str]]:
    """Decode ``body`` to text: returns (text, charset used, warnings).

    Raises:
        NotAPage: the body is binary.
    """
    warnings: list[str] = []
    declared = _charset_of_label(declared_charset, warnings) if declared_charset else None
    refuse_binary(body, utf16=declared in UTF16_CODECS)
    bom_encoding = _bom_encoding(body[:4])
    if bom_encoding:
        text = body[len(_bom_for(bom_encoding)) :].decode(bom_encoding, errors="replace")
        return clean_control_characters(text), bom_encoding, []
    if declared in UTF16_CODECS and b"\x00" not in body[:SNIFF_BYTES]:
        # UTF-16 text has a NUL in every ASCII character (all of the markup): a body without
        # one was labelled UTF-16 by mistake, and read as such it is CJK soup.
        declared = None
        warnings.append("charset-corrected")
    if not declared and is_html:
        match = _META_CHARSET.search(body[:META_SCAN_BYTES])
        if match:
            declared = _charset_of_label(match.group(1).decode("ascii", "ignore"), warnings)
            # WHATWG: a meta that says UTF-16 was itself read as ASCII bytes, so it is UTF-8.
            declared = "utf-8" if declared in UTF16_CODECS else declared
            # A page that declares a legacy charset but is valid UTF-8 was re-encoded by a
            # crawler or proxy: strict UTF-8 never decodes random legacy text by accident.
            if declared and declared != "utf-8" and (utf8 := _as_utf8(body)) is not None:
                return clean_control_characters(utf8), "utf-8", warnings
    if declared:
        text, encoding = _decode_declared(body, declared, warnings)
        return clean_control_characters(text), encoding, warnings
    if (utf8 := _as_utf8(body)) is not None:
        return clean_control_characters(utf8), "utf-8", warnings
    encoding = _detect(body)
    warnings.append("charset-guessed")
    return clean_control_characters(body.decode(encoding, errors="replace")), encoding, warnings


def clean_control_characters(text: str) -> str:
    """Drop control characters and references to them; form feeds become newlines; references
    to C1 controls are the windows-1252 characters browsers read them as."""
    text = text.replace("\f", "\n")
    text = _CONTROL_CHARS.sub("", text)
    if "&#" in text:
        text = _C1_REFS.sub(_windows_1252_character, text)
        text = _CONTROL_REFS.sub("", text)
    return text


def _windows_1252_character(reference: re.Match[str]) -> str:
    """The character of ``&#128;``-``&#159;``: HTML's numeric-reference table is windows-1252's
    (``&#150;`` is an en dash, ``&#128;`` the euro sign); its five holes are controls, dropped."""
    number = int(reference.group(1)) if reference.group(1) else int(reference.group(2), 16)
    try:
        return bytes([number]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


def _charset_of_label(label: str, warnings: list[str]) -> str | None:
    """The codec of a WHATWG label; any other label is noted as ignored (never decoded with:
    ``charset=hex`` or ``base64`` crashed the extraction, issue 24)."""
    codec = whatwg_codec(label)
    if codec is None:
        warnings.append("charset-ignored")
    return codec


def _decode_declared(body: bytes, declared: str, warnings: list[str]) -> tuple[str, str]:
    """(text, codec) of ``body`` in its declared charset, or in the detected one when the
    declared one decodes badly and the detected one decodes without a single error."""
    try:
        return body.decode(declared), declared
    except UnicodeDecodeError:
        text = body.decode(declared, errors="replace")
    if _decodes_badly(text):
        detected = _detect(body)
        if detected != declared:
            try:
                corrected = body.decode(detected)
            except UnicodeDecodeError:
                return text, declared
            warnings.append("charset-corrected")
            return corrected, detected
    return text, declared


def _decodes_badly(text: str) -> bool:
    replaced = text.count("\ufffd")
    if replaced < BAD_DECODE_MIN_REPLACED:
        return False
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return replaced >= BAD_DECODE_REPLACED_SHARE * non_ascii


def _codec_name(name: str) -> str | None:
    """A detector's Python codec name, canonical and with browser supersets applied, or None."""
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def _bom_for(encoding: str) -> bytes:
    return next(bom for bom, name in _BOMS if name == encoding)


def _as_utf8(body: bytes) -> str | None:
    """``body`` decoded as UTF-8, or None when it is not UTF-8 (decoded once: pages are large)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the very end (truncated download) is still UTF-8.
        if error.start >= len(body) - 3 and error.reason == "unexpected end of data":
            return body.decode("utf-8", errors="replace")
        return None


def _detect(body: bytes) -> str:
    # chardetng, not a general-purpose detector: charset_normalizer also weighs DOS and Mac code
    # pages no browser picks and scores windows-1250 and -1252 alike on Latin text, so German
    # pages came back as cp775 ("F³r") and Spanish ones as windows-1250 ("nińo"). chardetng
    # chooses among the WHATWG encodings only, by letter statistics per language, as Firefox does.
    # UTF-8 is decided before it is called (strictly), so it is never its answer.
    guess = chardetng_py.detect(body[:DETECT_SAMPLE_BYTES], allow_utf8=False)
    return _codec_name(guess) or "cp1252"
