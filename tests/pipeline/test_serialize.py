"""serialize: the text rendering is plain text, one trimmed line per paragraph; the Markdown and
HTML renderings never link to a script."""

from __future__ import annotations

from typing import Any

import lxml.html

from service.models import Job, Options
from service.pipeline import run

_PARAGRAPH = "A paragraph of the story, long enough to be kept as article text by the cleaner here"


def _answer(article: str, **options: Any) -> dict[str, Any]:
    page = f"<html><body><article><p>{_PARAGRAPH}.</p>{article}<p>{_PARAGRAPH}, too.</p></article></body></html>"
    return run(Job(mode="html", body=page.encode(), url="https://example.com/a", options=Options(**options)))


def _markdown(article: str, **options: Any) -> str:
    return str(_answer(article, formats=("text", "markdown"), **options)["markdown"])


def test_the_sources_indentation_is_not_text_but_codes_is() -> None:
    # trafilatura keeps the layout around a <br> inside a quote: whitespace-only, indented lines.
    quote = "<blockquote>\n  <p>Drinking game for web devs:\n      <br/>(1) Think of a noun\n  </p>\n</blockquote>"
    code = "<pre><code>def f():\n    return 1\n</code></pre>"
    for options in ({}, {"formats": ("text", "markdown")}):
        text = _answer(quote + code, **options)["text"]
        assert "Drinking game for web devs:\n(1) Think of a noun" in text
        assert "def f():\n    return 1" in text
        assert all(line and line == line.strip() for line in text.split("\n") if "return" not in line)


def test_text_directly_in_the_body_is_trimmed() -> None:
    page = b"<html><body>\n        Test\n    </body></html>"
    assert run(Job(mode="html", body=page))["text"] == "Test"


def test_kept_links_and_images_are_not_markdown_in_the_text() -> None:
    article = '<p>See <a href="/x">the report</a> and <img src="/i.png" alt="Chart"> the chart of it, a paragraph.</p>'
    plain = _answer(article)
    kept = _answer(article, links=True, images=True, formats=("text", "markdown"))
    assert "See the report and the chart of it, a paragraph." in kept["text"]
    assert (kept["word_count"], "](") == (plain["word_count"], "](")
    assert "[the report](https://example.com/x)" in kept["markdown"]
    assert "![Chart](https://example.com/i.png)" in kept["markdown"]


def test_markdown_has_no_whitespace_only_lines_nor_runs_of_blank_lines() -> None:
    quote = "<blockquote><p>One line\n        <br/>two line\n        <br/>three line</p></blockquote>"
    markdown = _answer(quote, formats=("text", "markdown"))["markdown"]
    lines = markdown.split("\n")
    assert all(line == line.rstrip() for line in lines)
    assert "\n\n\n" not in markdown


def test_links_to_scripts_are_unwrapped_and_images_of_data_dropped() -> None:
    article = (
        '<p><a href="javascript:alert(document.cookie)">Click</a> <a href=" JaVa\tscript:x">here</a> '
        '<a href="data:text/html,&lt;script&gt;">or</a> <a href="/safe">there</a> '
        '<a href="mailto:desk@example.com">write</a>, a paragraph of the story.</p>'
        '<p>A chart: <img src="vbscript:x" alt="Bad"> and <img src="/ok.png" alt="Good"> of it.</p>'
    )
    answer = _answer(article, links=True, images=True, formats=("text", "markdown", "html"))
    for rendering in (answer["markdown"], answer["html"]):
        assert "script" not in rendering.lower()
        assert "data:" not in rendering
        for kept in (
            "Click",
            "here",
            "https://example.com/safe",
            "mailto:desk@example.com",
            "https://example.com/ok.png",
        ):
            assert kept in rendering
    assert "Click here or there write, a paragraph of the story." in answer["text"]


def test_a_table_of_one_cell_is_layout_and_its_paragraphs_stay_lines() -> None:
    # trafilatura rendered the boxed article as one line, "| First. Second. |".
    page = f"<html><body><table><tr><td><p>{_PARAGRAPH}.</p><p>{_PARAGRAPH}, too.</p></td></tr></table></body></html>"
    assert run(Job(mode="html", body=page.encode()))["text"] == f"{_PARAGRAPH}.\n{_PARAGRAPH}, too."
    data = "<table><tr><td>Year</td><td>Visitors</td></tr><tr><td>2024</td><td>1,200</td></tr></table>"
    assert "| Year | Visitors |" in _answer(data)["text"]  # a table of data stays one


def test_the_html_keeps_only_its_own_tags_and_attributes() -> None:
    # trafilatura passes the page's attributes through on paragraphs and images: script handlers.
    article = (
        '<p onmouseover="alert(document.cookie)" style="position:fixed" class="lead" id="p1">Hover anywhere, '
        'a paragraph of it.</p><p>A chart: <img src="/c.png" alt="Chart" onerror="alert(1)" class="wide" '
        'srcset="data:image/png;base64,AAAA 2x" width="9"> and <a href="/x" onclick="alert(2)">the report</a>.</p>'
    )
    html = _answer(article, links=True, images=True, formats=("text", "html"))["html"]
    tree = lxml.html.fromstring(html)
    attributes = {(element.tag, name) for element in tree.iter() for name in element.attrib}
    assert attributes == {("img", "src"), ("img", "alt"), ("a", "href")}
    assert "<p>Hover anywhere, a paragraph of it.</p>" in html


def test_the_html_keeps_numbered_lists_numbered_as_on_the_page_glossaries_and_inline_code_apart() -> None:
    article = (
        "<ol><li>Preheat the oven</li><li>Bake the bread</li></ol>"
        "<dl><dt>Crumb</dt><dd>The inside of the loaf.</dd></dl>"
        "<p>Run <code>make bread</code> or press <kbd>Ctrl</kbd>, a paragraph of the recipe.</p>"
        "<pre><code>def bake():\n    return loaf\n</code></pre>"
        '<ol start="5"><li>Knead the dough</li></ol><ol start="x onclick=alert(1)" reversed="no"><li>Shape it</li>'
        '<li value="9">Proof it</li><li value="-1 x">Rest it</li></ol>'
    )
    html = _answer(article, formats=("text", "html"))["html"]
    assert "<ol><li>Preheat the oven</li><li>Bake the bread</li></ol>" in html
    # a start and a value are numbers; reversed is there or not
    assert '<ol start="5"><li>Knead the dough</li></ol><ol reversed=""><li>Shape it</li>' in html
    assert '<li value="9">Proof it</li><li>Rest it</li></ol>' in html
    assert "<dl><dt>Crumb</dt><dd>The inside of the loaf.</dd></dl>" in html
    assert "<p>Run <code>make bread</code> or press <code>Ctrl</code>, a paragraph of the recipe.</p>" in html
    assert "<pre><code>def bake():\n    return loaf\n</code></pre>" in html


def test_markdown_text_that_reads_as_a_character_reference_stays_text() -> None:
    # trafilatura decoded its output once more: a live <script> tag, and "&section=" became "§ion=".
    article = (
        '<p>Write &amp;lt;script&amp;gt; and &amp;copy; as the page shows them, in <a href="/w?t=X&amp;section=1">'
        "the wiki</a> of it.</p><p>In code it stays: <code>a &amp;amp; b</code>, a paragraph.</p>"
    )
    markdown = _markdown(article, links=True)
    assert "Write \\&lt;script\\&gt; and \\&copy; as the page shows them" in markdown
    assert "[the wiki](https://example.com/w?t=X&section=1)" in markdown
    assert "`a &amp; b`" in markdown
    assert "<script>" not in markdown


def test_markdown_block_markers_in_the_text_stay_text_after_a_line_break() -> None:
    # After a <br> trafilatura starts a new Markdown paragraph but escaped nothing there: a heading,
    # a numbered list, a quote; and a paragraph of three dashes was a rule, its text lost.
    article = "<p>The list of the day<br># 1 in sales<br>2. runner-up<br>&gt; quoted<br>--- the end</p><p>---</p>"
    markdown = _markdown(article)
    for escaped in ("\n\\# 1 in sales\n", "\n2\\. runner-up\n", "\n\\> quoted\n", "\n\\--- the end\n", "\n\\---\n"):
        assert escaped in markdown


def test_markdown_sublists_sit_under_their_item_whatever_its_marker_width() -> None:
    # Two spaces under "2. " ended the numbered list in CommonMark and flattened the sublist.
    steps = "".join(f"<li>Step {n}</li>" for n in range(1, 10))
    article = f"<ol>{steps}<li>Step ten<ul><li>detail<ol><li>deeper</li></ol></li></ul></li><li>Step eleven</li></ol>"
    markdown = _markdown(article)
    assert "\n10. Step ten\n    - detail\n      1. deeper\n11. Step eleven\n" in markdown


def test_markdown_tables_have_one_header_row() -> None:
    # GFM needs a header row: without <th> the table was a paragraph of pipes, and row headers
    # put a row of dashes after every row.
    data = "<table><tr><td>Year</td><td>Visitors</td></tr><tr><td>2024</td><td>1,200</td></tr></table>"
    row_headers = "<table><tr><th>Name</th><td>Ann</td></tr><tr><th>Age</th><td>31</td></tr></table>"
    markdown = _markdown(data + row_headers)
    assert "| Year | Visitors |\n|---|---|\n| 2024 | 1,200 |" in markdown
    assert "| Name | Ann |\n|---|---|\n| Age | 31 |" in markdown


def test_markdown_quotes_are_block_quotes() -> None:
    # trafilatura wrote a quote's paragraphs as the article's own.
    article = "<blockquote><p>We will rebuild it.</p><p># Not a heading, in the quote.</p></blockquote>"
    markdown = _markdown(article)
    assert "\n\n> We will rebuild it.\n>\n> \\# Not a heading, in the quote.\n\n" in markdown


def test_markdown_the_sources_layout_is_no_code_block() -> None:
    # The page's tabs after a blank line in a link's text made an indented code block.
    link_text = "\n\t\t\t\t\t".join(["", "<b>Stadtwerke</b>", "Munich\n", "\t<b>Site scout</b>"])
    markdown = _markdown(f'<ul><li><a href="/jobs/1">{link_text}</a></li><li>A second job offer</li></ul>', links=True)
    assert "[**Stadtwerke** Munich **Site scout**](https://example.com/jobs/1)" in markdown
    assert "\t" not in markdown


def test_markdown_code_keeps_its_blank_lines() -> None:
    # trafilatura dropped every empty line of its output, those between two functions too.
    code = "<pre><code>def bake():\n    return loaf\n\n\ndef slice():\n    return bread\n</code></pre>"
    assert "```\ndef bake():\n    return loaf\n\n\ndef slice():\n    return bread\n```" in _markdown(code)


def test_markdown_keeps_the_text_after_a_code_block() -> None:
    # The text rendering kept it since the fidelity fix; the Markdown still lost it, or glued it
    # to the code. One mechanism sets code apart for both renderings now.
    after = "and then the words that follow the block in the same container."
    markdown = _markdown(f"<div><p>Run this command first:</p><pre><code>make install</code></pre>{after}</div>")
    assert "make install" in markdown
    assert after in markdown
    assert markdown[markdown.index(after) - 1].isspace()


def test_the_html_keeps_the_text_trafilatura_puts_in_an_image() -> None:
    # trafilatura turns "<a><img>Next</a>" into an image holding the text, which HTML cannot hold.
    article = '<p><a href="/filter/"><img src="/icon.svg" alt="Icon">Open the product filter</a></p>'
    answer = _answer(article, links=True, images=True, formats=("text", "markdown", "html"))
    assert "Open the product filter" in answer["markdown"]
    assert "Open the product filter" in answer["html"]
