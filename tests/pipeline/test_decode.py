"""decode: charset order, binary refusal, control characters removed without touching real text."""

from __future__ import annotations

import pytest

from service.errors import NotAPage
from service.pipeline import decode as decode_stage
from service.pipeline.decode import clean_control_characters, decode


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a&#1;b", "ab"),
        ("a&#x1F;b", "ab"),
        ("a&#127;b", "ab"),
        ("a\x00b\x07c", "abc"),
        ("Gr&#xFC;&#xdf;e", "Gr&#xFC;&#xdf;e"),  # ü, ß: real characters stay references
        ("&#8222;Zitat&#8220;", "&#8222;Zitat&#8220;"),
        ("&#10;&#13;&#9;", "&#10;&#13;&#9;"),  # newline, CR, tab are text
        ("&#x85;", ""),  # C1 control
        ("&#x850;", "&#x850;"),  # a real character that starts like one
    ],
)
def test_control_references_are_removed_and_nothing_else(raw: str, clean: str) -> None:
    assert clean_control_characters(raw) == clean


def test_bom_wins_over_the_declared_charset() -> None:
    text, encoding, _ = decode("\ufeffпривет".encode("utf-8"), "windows-1251", is_html=False)
    assert (text, encoding) == ("привет", "utf-8")


def test_declared_charset_is_used() -> None:
    text, _encoding, warnings = decode("Привет мир".encode("cp1251"), "windows-1251", is_html=False)
    assert text == "Привет мир"
    assert warnings == []


def test_meta_charset_is_used_for_html() -> None:
    page = '<html><head><meta charset="gb2312"></head><body>中文内容</body></html>'.encode("gb18030")
    text, encoding, _ = decode(page, None, is_html=True)
    assert "中文内容" in text
    assert encoding == "gb18030"


def test_guessed_charset_is_reported() -> None:
    body = ("Это статья на русском языке о погоде в Москве и её окрестностях. " * 5).encode("cp1251")
    text, _encoding, warnings = decode(body, None, is_html=False)
    assert "статья на русском" in text
    assert warnings == ["charset-guessed"]


@pytest.mark.parametrize("body", [b"", b"   ", b"\x89PNG\r\n\x1a\n....", b"%PDF-1.4", bytes(range(32)) * 50])
def test_binary_or_empty_is_not_a_page(body: bytes) -> None:
    with pytest.raises(NotAPage):
        decode(body, None, is_html=True)


def test_truncated_utf8_is_still_utf8() -> None:
    body = "<p>café</p>".encode() + "é".encode()[:1]
    text, charset, warnings = decode(body, None, is_html=True)
    assert charset == "utf-8"
    assert text.startswith("<p>café</p>")
    assert "charset-guessed" not in warnings


def test_control_bytes_mark_binary_but_escape_does_not() -> None:
    with pytest.raises(NotAPage):
        decode_stage.refuse_binary(b"<p>" + bytes(range(1, 9)) * 100)
    decode_stage.refuse_binary(b"<p>\x1b$B text in ISO-2022-JP \x1b(B</p>" * 50)
