"""Text comes back as sent (issue 24, item 9): invisible format characters that carry meaning
(ZWNJ/ZWJ, soft hyphen, bidi controls, U+FEFF inside text, emoji tag sequences) are kept, and no
Unicode normalisation is applied, to ``title`` and ``text`` alike."""

from __future__ import annotations

import pytest
from trafilatura.utils import line_processing

from service.models import Job, Options
from service.pipeline import run
from service.pipeline.serialize import count_words

FILLER = "Ordinary words make this paragraph long enough to count as the article's own text. " * 3
KEPT = [
    pytest.param("می\u200cخواهم", id="zwnj-persian"),
    pytest.param("👩\u200d👩\u200d👧\u200d👦", id="zwj-family-emoji"),
    pytest.param("Donau\u00addampf\u00adschiff", id="soft-hyphen"),
    pytest.param("\u202bעברית\u202c \u2067abc\u2069 \u200f", id="bidi-controls"),
    pytest.param("a\ufeffb", id="feff-inside-text"),
    pytest.param("no\u2060break", id="word-joiner"),
    pytest.param("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", id="flag-tag-sequence"),
    pytest.param("Cafe\u0301 and 神\ufa19", id="not-normalised"),  # NFD e + accent; a compatibility ideograph
]


def _page(phrase: str) -> bytes:
    return (
        f"<html><head><title>Title {phrase}</title></head><body><article>"
        f"<p>{FILLER}</p><p>Here: {phrase} is kept. {FILLER}</p><p>{FILLER}</p>"
        "</article></body></html>"
    ).encode()


@pytest.mark.parametrize("phrase", KEPT)
def test_html_title_and_text_come_back_as_sent(phrase: str) -> None:
    answer = run(Job(mode="html", body=_page(phrase), options=Options(formats=("text", "markdown", "html"))))
    assert answer["title"] == f"Title {phrase}"
    assert f"Here: {phrase} is kept." in answer["text"]
    assert f"Here: {phrase} is kept." in answer["markdown"]
    assert f"Here: {phrase} is kept." in answer["html"]


@pytest.mark.parametrize("phrase", KEPT)
def test_plain_text_comes_back_as_sent(phrase: str) -> None:
    body = f"A title line\n\n{FILLER}\n\nHere: {phrase} is kept. {FILLER}\n".encode()
    answer = run(Job(mode="text", body=body))
    assert f"Here: {phrase} is kept." in answer["text"]


def test_a_leading_byte_order_mark_is_still_not_text() -> None:
    answer = run(Job(mode="html", body=b"\xef\xbb\xbf" + _page("x")))
    assert "\ufeff" not in answer["title"] + answer["text"]


# Spaces a browser does not collapse (NBSP, U+3000, U+202F, U+2009): the page's characters. Only the
# source's ASCII layout whitespace is layout.
SPACED = "Ligne\u00a0: 100\u00a0km, w\u00a0Sejmie,\u3000x\u202fy\u2009z"


def test_non_ascii_spaces_come_back_as_sent_in_every_rendering() -> None:
    answer = run(Job(mode="html", body=_page(SPACED), options=Options(formats=("text", "markdown", "html"))))
    for rendering in ("text", "markdown", "html"):
        assert f"Here: {SPACED} is kept." in answer[rendering]


def test_non_ascii_spaces_come_back_as_sent_in_plain_text() -> None:
    body = f"A title line\n\n{FILLER}\n\nHere: {SPACED} is kept. {FILLER}\n".encode()
    assert f"Here: {SPACED} is kept." in run(Job(mode="text", body=body))["text"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("می\u200cخواهم بروم", 2),  # ZWNJ joins the parts of one Persian word
        ("Donau\u00addampf\u00adschiff fährt", 2),
        ("Cafe\u0301s open", 2),  # a decomposed accent is part of its word
        ("don't stop", 2),
        ("日本語", 3),
    ],
)
def test_characters_kept_inside_words_do_not_split_them(text: str, words: int) -> None:
    assert count_words(text) == words


def test_trafilatura_called_directly_keeps_its_own_behaviour_before_and_after() -> None:
    title = "Title می\u200cخواهم"  # the exact string trafilatura's metadata stage cleans
    assert line_processing(title) == "Title میخواهم"  # cached outside our block
    assert run(Job(mode="html", body=_page("می\u200cخواهم")))["title"] == title
    assert line_processing(title) == "Title میخواهم"  # not our block's cached answer
