"""The Markdown rendering reads back, with a CommonMark reader (markdown-it-py, GFM tables on), as
the page's structure: code under its list item, lists apart and numbered as on the page, tables
with every cell, emphasis as emphasis."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from markdown_it import MarkdownIt

from service.models import Job, Options
from service.pipeline import run
from service.pipeline.markdown_emphasis import readable_emphasis
from service.pipeline.markdown_rendering import render_markdown

_PARAGRAPH = "A paragraph of the story, long enough to be kept as article text by the cleaner here"
_READER = MarkdownIt("commonmark").enable("table")


def _read_back(article: str) -> str:
    """The page's Markdown, rendered to HTML by the CommonMark reader."""
    page = f"<html><body><article><p>{_PARAGRAPH}.</p>{article}<p>{_PARAGRAPH}, too.</p></article></body></html>"
    answer = run(
        Job(mode="html", body=page.encode(), url="https://example.com/a", options=Options(formats=("markdown",)))
    )
    return str(_READER.render(answer["markdown"]))


def _squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


def test_a_code_block_in_a_list_item_is_code_under_that_item() -> None:
    html = _read_back(
        "<ul><li>Install it:<pre><code>pip install cleaner\npip install extras</code></pre>then run it.</li>"
        "<li><pre><code>make check\nmake test</code></pre></li><li>Done</li></ul>"
    )
    assert html.count("<ul>") == 1
    code = "<pre><code>pip install cleaner\npip install extras\n</code></pre>"
    assert f"<li><p>Install it:</p>{code}<p>then run it.</p></li>" in _squeezed(html)
    assert "<li><pre><code>make check\nmake test\n</code></pre></li>" in _squeezed(html)


def test_a_preformatted_text_keeps_its_lines() -> None:
    # no code to trafilatura (no brace, no call, no 4-space indent): it makes the <pre> a quote
    html = _read_back("<pre>#!/bin/sh\n/usr/local/bin/rsync --daemon --no-detach\n\n  exec sleep 1\n</pre>")
    assert "<pre><code>#!/bin/sh\n/usr/local/bin/rsync --daemon --no-detach\n\n  exec sleep 1\n</code></pre>" in html


def test_a_quotes_source_line_breaks_are_spaces() -> None:
    html = _squeezed(_read_back("<blockquote>Quoted words\nwrapped in the source\n  as one line</blockquote>"))
    assert "<blockquote><p>Quoted words wrapped in the source as one line</p></blockquote>" in html


@pytest.mark.parametrize(
    ("lists", "kind"),
    [
        ("<ol><li>one</li><li>two</li></ol><ol><li>three</li></ol><ol><li>four</li></ol>", "ol"),
        ("<ul><li>one</li><li>two</li></ul><ul><li>three</li></ul><ul><li>four</li></ul>", "ul"),
    ],
)
def test_lists_in_a_row_stay_apart(lists: str, kind: str) -> None:
    html = _read_back(lists)
    assert html.count(f"<{kind}") == 3
    assert "start=" not in html  # each numbered list counts from 1 again


def test_a_numbered_list_starts_at_its_start() -> None:
    html = _squeezed(
        _read_back(
            '<ol start="5"><li>five</li><li>six</li></ol><p>Then the rest of the steps:</p>'
            '<div>Steps<ol start="12"><li>twelve<ol start="3"><li>three</li></ol></li></ol></div>'
        )
    )
    assert '<ol start="5"><li>five</li><li>six</li></ol>' in html
    assert '<ol start="12"><li><p>twelve</p><ol start="3"><li>three</li></ol></li></ol>' in html


def _shown_numbers(html: str) -> list[int]:
    """The numbers a browser shows for the items of the (not nested) numbered lists in ``html``."""
    numbers: list[int] = []
    for tag in re.finditer(r'<ol(?: start="([0-9]+)")?>|<li>', html):
        if tag.group().startswith("<ol"):
            number = int(tag.group(1) or 1)
        else:
            numbers.append(number)
            number += 1
    return numbers


@pytest.mark.parametrize(
    ("lists", "numbers"),
    [
        ("<ol reversed><li>three</li><li>two</li><li>one</li></ol>", [3, 2, 1]),
        ('<ol start="10" reversed><li>ten</li><li>nine</li></ol><ol><li>one</li></ol>', [10, 9, 1]),
        ('<ol><li>one</li><li value="5">five</li><li>six</li><li value="2">two</li></ol>', [1, 5, 6, 2]),
        ('<ol reversed><li value="7">seven</li><li>six</li></ol><ol start="6"><li>six</li></ol>', [7, 6, 6]),
        # below 0 a Markdown list cannot count: it counts up from its start instead
        ('<ol reversed start="1"><li>one</li><li>zero</li><li>minus one</li></ol>', [1, 2, 3]),
    ],
)
def test_numbered_items_read_back_with_the_numbers_a_browser_shows(lists: str, numbers: list[int]) -> None:
    assert _shown_numbers(_read_back(lists)) == numbers


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        # trafilatura's own tables already have a cell per column; those it leaves (readability's
        # blocks, the fallback) keep the page's colspan
        (
            '<row><cell colspan="3">March 2020</cell></row><row><cell>Mo</cell><cell>Tu</cell><cell>We</cell></row>',
            "<tr><th>March 2020</th><th></th><th></th></tr></thead><tbody><tr><td>Mo</td><td>Tu</td><td>We</td></tr>",
        ),
        (
            '<row><cell>Mo</cell><cell>Tu</cell><cell>We</cell></row><row><cell colspan="2">1-2</cell><cell>3</cell>'
            "</row>",
            "<tr><th>Mo</th><th>Tu</th><th>We</th></tr></thead><tbody><tr><td>1-2</td><td></td><td>3</td></tr>",
        ),
    ],
)
def test_every_row_of_a_table_has_a_cell_per_column(table: str, rows: str) -> None:
    body = etree.fromstring(f"<body><table>{table}</table></body>")
    assert rows in _squeezed(_READER.render(render_markdown(body)))


@pytest.mark.parametrize(
    ("markup", "read"),
    [
        ("<p>The wild side of Montauk<b>.</b> Then the town.</p>", "The wild side of Montauk. Then the town."),
        ("<p>Length: <b>Länge:</b>3:28:15 in all.</p>", "Length: <strong>Länge</strong>:3:28:15 in all."),
        ("<p>A word<strong> in bold </strong>here.</p>", "A word <strong>in bold</strong> here."),
        ("<p>Called <b><i>“the guru”</i></b>by them.</p>", "Called <em><strong>“the guru</strong></em>”by them."),
        ("<p>Read <i>Why?</i>Because.</p>", "Read <em>Why</em>?Because."),
        ("<p>Shown<em>, with a comma</em> first.</p>", "Shown, <em>with a comma</em> first."),
        ("<p>The firm<b> </b>announced it in March.</p>", "The firm announced it in March."),
        # the markers of two elements next to each other make one run
        ("<p>After <i>NDR</i><b>-research</b> today.</p>", "After <em>NDR</em>-<strong>research</strong> today."),
        (
            "<p>By <b>Rodolfo Delgado</b><i>, attorney.</i></p>",
            "By <strong>Rodolfo Delgado</strong>, <em>attorney.</em>",
        ),
        # an icon font's character, which the text clean-up drops
        ("<p><i>\ue001</i>30 min. to bake</p>", "30 min. to bake"),
        # one run of markers between punctuation: ``($25 off)****.``
        (
            "<p>Offer: <b>WIRED <i>for just $5 ($25 off)</i></b><i>. This includes access to</i> the site.</p>",
            "Offer: <strong>WIRED <em>for just $5 ($25 off</em></strong>)<em>. This includes access to</em> the site.",
        ),
    ],
)
def test_emphasis_reads_back_as_emphasis(markup: str, read: str) -> None:
    html = _read_back(markup)
    assert f"<p>{read}</p>" in html
    assert "*" not in html


def test_a_heading_with_a_line_break_is_one_heading_with_its_emphasis() -> None:
    html = _read_back("<h2><b>Transparent and fair…<br>our fund is</b><br> <i>this</i></h2>")
    assert "<h2><strong>Transparent and fair… our fund is</strong> <em>this</em></h2>" in html
    assert "*" not in html


_PIECES = st.text(alphabet=st.sampled_from("ab .:,!\u00a0\ue001-"), max_size=6)


@given(st.lists(st.tuples(_PIECES, st.sampled_from(["#b", "#i", "del", ""]), _PIECES), min_size=1, max_size=5))
def test_emphasis_moves_no_character_of_the_text(pieces: list[tuple[str, str, str]]) -> None:
    paragraph = etree.Element("p")
    for inside, rend, after in pieces:
        element = etree.SubElement(paragraph, "del" if rend == "del" else "hi", {"rend": rend} if rend else {})
        element.text, element.tail = inside, after
    text = "".join(paragraph.itertext())
    readable_emphasis(paragraph)
    assert "".join(paragraph.itertext()) == text  # markers move or go; the characters stay in order
