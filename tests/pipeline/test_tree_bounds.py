"""tree_bounds' element cap keeps the text when what is over the cap carries none (issue 24,
item 11: a page of 30,000+ ``<br>`` kept 1 of 6 paragraphs), and says so when it cuts text."""

from __future__ import annotations

import json

import pytest

from service.models import Job
from service.pipeline import Limits, run
from service.pipeline.parse import parse_html

PARAGRAPHS = [f"Paragraph {i} tells the harbour story with enough words to be an article block." for i in range(6)]
MAX_ELEMENTS = Limits().max_elements


def _article(separator: str) -> str:
    return "<html><body><article>" + separator.join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>"


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(_article("<br>" * (MAX_ELEMENTS + 1)), id="one-run-after-the-first-paragraph"),
        pytest.param(_article("\n<br>\n" * 7_000), id="runs-between-every-paragraph"),
        pytest.param(
            "<html><body><article><p>"
            + PARAGRAPHS[0]
            + "<br>" * 40_000
            + "</p>"
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:])
            + "</article></body></html>",
            id="run-inside-a-paragraph",
        ),
        pytest.param("<html><body>" + "<br>" * 40_000 + _article("")[12:], id="run-before-the-article"),
    ],
)
def test_runs_of_line_breaks_over_the_element_cap_keep_every_paragraph(page: str) -> None:
    answer = run(Job(mode="html", body=page.encode()))
    for paragraph in PARAGRAPHS:
        assert paragraph in answer["text"]
    assert "page-truncated" not in answer["warnings"]


def test_line_break_runs_keep_a_paragraph_break() -> None:
    parsed = parse_html("<html><body><div>a" + "<br>" * (MAX_ELEMENTS + 5) + "b</div></body></html>", MAX_ELEMENTS, 180)
    div = parsed.tree.find(".//div")
    assert div is not None
    assert [child.tag for child in div] == ["br", "br"]
    assert (div.text, div[-1].tail) == ("a", "b")


def test_text_cut_by_the_element_cap_is_reported() -> None:
    page = "<html><body><article>" + "<p>words here</p>" * (MAX_ELEMENTS + 10) + "</article></body></html>"
    parsed = parse_html(page, MAX_ELEMENTS, 180)
    assert "page-truncated" in parsed.warnings


# -- JSON-LD ----------------------------------------------------------------------------------------

_PERSON = '{"@context": "https://schema.org", "@type": "Article", "author": {"@type": "Person", "name": "Ada Quill"}'
_FILLER = ', "keywords": "' + "harbour, " * 1200 + '"}'  # over the invalid-JSON budget, under the valid one


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(f"\n<![CDATA[\n{_PERSON}{_FILLER}\n]]>\n", id="cdata"),
        pytest.param(f"//<![CDATA[\n{_PERSON}{_FILLER}\n//]]>", id="cdata-behind-comments"),
        pytest.param(f"<!--\n{_PERSON}{_FILLER}\n-->", id="html-comment"),
    ],
)
def test_json_ld_in_an_xhtml_wrapper_is_read_as_json(block: str) -> None:
    # Wrapped, the block was invalid JSON over the invalid budget: dropped, its author lost.
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    head = f'<head><script type="application/ld+json">{block}</script></head>'
    page = f"<html>{head}<body><article>{body}</article></body></html>"
    answer = run(Job(mode="html", body=page.encode()))
    assert answer["authors"] == ["Ada Quill"]
    assert "json-ld-dropped" not in answer["warnings"]


def test_a_wrapper_around_broken_json_is_left_as_it_is() -> None:
    page = '<html><head><script type="application/ld+json"><![CDATA[ {"a": ]]></script></head></html>'
    tree = parse_html(page, MAX_ELEMENTS, Limits().max_depth).tree
    assert tree.xpath("//script")[0].text == '<![CDATA[ {"a": ]]>'


def _json_ld_page(json_ld: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    head = f'<head><script type="application/ld+json">{json_ld}</script></head>'
    return f"<html>{head}<body><article>{body}</article></body></html>".encode()


def test_character_references_in_json_ld_are_decoded() -> None:
    # A CMS that HTML-escapes JSON-LD values: the name was split at the reference's ";" into
    # "Redacci" and "Oacute", and sections came back as "Food &amp; Drink".
    json_ld = (
        '{"@context": "https://schema.org", "@type": "NewsArticle", "articleSection": "Food &amp; Drink",'
        ' "author": {"@type": "Person", "name": "Redacci&oacute;n Diario P&#225;gina S&#x69;ete"}}'
    )
    answer = run(Job(mode="html", body=_json_ld_page(json_ld)))
    assert answer["authors"] == ["Redacción Diario Página Siete"]
    assert answer["categories"] == ["Food & Drink"]


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        # Markup and JSON syntax stay references: trafilatura strips tags from the JSON text.
        ("caf&eacute; &quot;Quoted&quot; &lt;b&gt; &#92; &#10;", "café &quot;Quoted&quot; &lt;b&gt; &#92; &#10;"),
        ("AT&T &copy 2024 &unknown; &#x2019;", "AT&T &copy 2024 &unknown; \u2019"),  # only whole references
    ],
)
def test_decoded_json_ld_stays_valid_json(value: str, decoded: str) -> None:
    page = _json_ld_page(json.dumps({"@type": "Article", "headline": value}))
    script = parse_html(page.decode(), MAX_ELEMENTS, 180).tree.xpath("//script")[0]
    assert json.loads(script.text)["headline"] == decoded


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        pytest.param("<table><tr><td>" * 100, "</td></tr></table>" * 100, id="100-nested-layout-tables"),
        pytest.param("<div>" * 500, "</div>" * 500, id="500-nested-divs"),
        pytest.param("<blockquote>" * 300, "</blockquote>" * 300, id="300-nested-quotes"),
    ],
)
def test_paragraphs_under_flattened_nesting_stay_apart(opening: str, closing: str) -> None:
    # Flattened at the depth cap itself, the paragraphs lost their tags and ran together
    # ("…an article block.Paragraph 1 …"), and the tables' pipes stayed ("| Paragraph 0 …").
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
    answer = run(Job(mode="html", body=f"<html><body>{opening}{body}{closing}</body></html>".encode()))
    assert "nesting-flattened" in answer["warnings"]
    assert PARAGRAPHS[0] + PARAGRAPHS[1] not in answer["text"]
    assert answer["text"].split() == " ".join(PARAGRAPHS[:2]).split()
