"""decode: charset order, binary refusal, control characters removed without touching real text."""

from __future__ import annotations

import pytest

from service.errors import NotAPage
from service.pipeline import decode as decode_stage
from service.pipeline.charsets import whatwg_codec
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
        ("&#x81;&#141;", ""),  # C1 controls that windows-1252 leaves undefined
        # HTML reads the others as windows-1252's characters
        ("&#147;hi&#148; &#150; &#x85; &#128;5 &#X99;", "\u201chi\u201d \u2013 \u2026 \u20ac5 \u2122"),
        ("&#1280;", "&#1280;"),  # a real character that starts like one
        ("&#x850;", "&#x850;"),  # a real character that starts like one
    ],
)
def test_control_references_are_removed_and_nothing_else(raw: str, clean: str) -> None:
    assert clean_control_characters(raw) == clean


# An undeclared legacy page reads as a browser reads it, with no `lang` to go by. The old
# detector scored windows-1250 and -1252 alike on Latin text (niño came back as nińo), took
# DOS and Mac code pages no browser picks (German as cp775: "F³r", Finnish as hp-roman8) and
# read Turkish, Hungarian, Croatian and Baltic pages as windows-1252.
@pytest.mark.parametrize(
    ("codec", "sentence"),
    [
        ("cp1252", "El niño pequeño comió una piña en la montaña. El señor español dijo que el año fue difícil."),
        ("cp1252", "A população do país aumentou, e a educação é importante. As ações do governo não são suficientes."),
        ("cp1252", "Þetta er íslenskur texti. Ég fór í búðina og keypti mjólk og brauð. Það var gott veður í dag."),
        ("cp1252", "Hyvää päivää! Järven rannalla on pieni mökki, jossa perhe viettää kesälomaansa yhdessä."),
        ("cp1252", "Die Straße führt über die Brücke zur Schule, wo die Kinder fröhlich spielen."),
        ("cp1250", "Příliš žluťoučký kůň úpěl ďábelské ódy. Česká republika je země ve střední Evropě."),
        ("cp1250", "Magyarország közép-európai ország, fővárosa Budapest, a Duna partján fekvő szép város."),
        ("cp1250", "Hrvatska je država u srednjoj i jugoistočnoj Europi. Glavni grad je Zagreb, najveći grad."),
        ("cp1254", "Türkiye güzel bir ülke. İstanbul büyük bir şehir ve çok kalabalık. Ağaçlar yeşil."),
        ("cp1254", "Türkiye'nin başkenti Ankara'dır. İstanbul ise en kalabalık şehridir. Öğrenciler okula gidiyor."),
        ("cp1257", "Lietuva yra valstybė Europoje, prie Baltijos jūros. Sostinė – Vilnius, didžiausias miestas."),
        ("cp1257", "Latvija ir valsts Ziemeļeiropā, Baltijas jūras austrumu krastā. Galvaspilsēta ir Rīga."),
        ("cp1251", "Москва — столица России, крупнейший по численности населения город страны."),
        ("cp1253", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και μία από τις αρχαιότερες πόλεις του κόσμου."),
        ("cp932", "東京は日本の首都であり、世界最大の都市圏の一つです。多くの人々が住んでいます。"),
    ],
)
def test_an_undeclared_legacy_page_reads_as_a_browser_reads_it(codec: str, sentence: str) -> None:
    page = f"<html><body><article><p>{sentence}</p></article></body></html>".encode(codec)
    text, encoding, warnings = decode(page, None, is_html=True)
    assert sentence in text
    assert (encoding, warnings) == (codec, ["charset-guessed"])


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


# -- only WHATWG text encodings are charsets (issue 24, item 5) -----------------------------------

PAGE_TEXT = "<html><head><title>Zürich</title></head><body><p>Grüße aus Zürich, schöne Straße.</p></body></html>"
# Python codecs that are not WHATWG encodings: bytes-to-bytes transforms, codecs that raise on
# decoding, and text codecs a browser never uses (UTF-7 smuggles markup past filters).
NOT_CHARSETS = ["hex", "base64", "rot13", "zlib", "idna", "undefined", "unicode_escape", "raw_unicode_escape", "utf-7",
                "punycode", "cp037", "utf-32", "mbcs", "palmos", "bogus"]  # fmt: skip


@pytest.mark.parametrize("label", NOT_CHARSETS)
def test_a_declared_label_that_is_not_a_whatwg_encoding_is_ignored(label: str) -> None:
    text, encoding, warnings = decode(PAGE_TEXT.encode(), label, is_html=True)
    assert (text, encoding) == (PAGE_TEXT, "utf-8")
    assert warnings == ["charset-ignored"]


@pytest.mark.parametrize("label", NOT_CHARSETS)
def test_a_meta_label_that_is_not_a_whatwg_encoding_is_ignored(label: str) -> None:
    page = f'<html><head><meta charset="{label}"></head><body><p>Grüße aus Zürich</p></body></html>'
    body = page.encode("cp1252")
    text, _encoding, warnings = decode(body, None, is_html=True)
    assert "Grüße aus Zürich" in text  # detected: windows-1250 and -1252 agree on these letters
    assert warnings == ["charset-ignored", "charset-guessed"]


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF8", "utf-8"),
        ("unicode-1-1-utf-8", "utf-8"),
        (" latin1 ", "cp1252"),
        ("ISO_8859-1:1987", "cp1252"),
        ("us-ascii", "cp1252"),
        ("iso-8859-9", "cp1254"),
        ("windows-1251", "cp1251"),
        ("x-cp1251", "cp1251"),
        ("koi8-ru", "koi8_u"),
        ("x-mac-cyrillic", "mac_cyrillic"),
        ("gb2312", "gb18030"),
        ("x-sjis", "cp932"),
        ("ks_c_5601-1987", "cp949"),
        ("big5", "big5hkscs"),
        ("iso-8859-8-i", "iso8859_8"),
        ("dos-874", "cp874"),
        ("utf-16", "utf-16-le"),
        ('"utf-8"', "utf-8"),
    ],
)
def test_whatwg_labels_map_to_the_codec_a_browser_uses(label: str, codec: str) -> None:
    assert whatwg_codec(label) == codec


@pytest.mark.parametrize("label", ["iso-2022-kr", "hz-gb-2312", "replacement", "x-user-defined"])
def test_whatwg_labels_without_a_faithful_codec_are_ignored(label: str) -> None:
    assert whatwg_codec(label) is None


# -- a declared charset that fails badly is corrected (issue 24, item 10) -------------------------

RUSSIAN = "<p>Это обычный русский текст статьи, в котором достаточно слов для извлечения.</p>" * 8


def test_windows_1251_declared_as_utf8_is_corrected_and_says_so() -> None:
    text, encoding, warnings = decode(RUSSIAN.encode("cp1251"), "utf-8", is_html=True)
    assert (text, encoding) == (RUSSIAN, "cp1251")
    assert warnings == ["charset-corrected"]


def test_a_wrong_meta_charset_that_fails_badly_is_corrected() -> None:
    page = '<html><head><meta charset="utf-8"></head><body>' + RUSSIAN + "</body></html>"
    text, encoding, warnings = decode(page.encode("cp1251"), None, is_html=True)
    assert RUSSIAN in text
    assert encoding == "cp1251"
    assert warnings == ["charset-corrected"]


def test_a_few_stray_bytes_keep_the_declared_charset() -> None:
    page = ("<p>Grüße aus Zürich, eine ganz normale Seite.</p>" * 40).encode() + b"<p>caf\xe9</p>"
    text, encoding, warnings = decode(page, "utf-8", is_html=True)
    assert encoding == "utf-8"
    assert text.endswith("<p>caf\ufffd</p>")
    assert warnings == []


def test_a_utf16_label_on_a_body_without_nul_bytes_is_corrected() -> None:
    text, encoding, warnings = decode("<p>Grüße aus Köln</p>".encode(), "utf-16", is_html=True)
    assert (text, encoding, warnings) == ("<p>Grüße aus Köln</p>", "utf-8", ["charset-corrected"])
    real = "<p>Grüße</p>".encode("utf-16-le")
    assert decode(real, "utf-16", is_html=True)[:2] == ("<p>Grüße</p>", "utf-16-le")


def test_noncharacters_and_references_to_them_are_removed() -> None:
    assert clean_control_characters("a&#65535;b&#xFFFE;c\ufffed&#xFFFD;") == "abcd&#xFFFD;"
