"""Rules of the extraction stage (service.pipeline.extract): dates, hidden blocks, formatting."""

from __future__ import annotations

import lxml.html
import pytest
import trafilatura
from trafilatura.settings import Extractor

from service.models import Job, Options
from service.pipeline import extract, metadata_dates, run
from service.pipeline.extract import drop_hidden, needs_formatting

PROSE = (
    "The council approved the plan on Tuesday after a long debate about costs, and the first works "
    "are expected to start in the spring once the tender has been awarded to a local company. "
)


def _page(article: str, footer: str = "") -> bytes:
    return (
        "<html><head><title>Plan approved</title></head><body><article><h1>Plan approved</h1>"
        f"{article}</article><footer>{footer}</footer></body></html>"
    ).encode()


def test_copyright_year_alone_is_no_publication_date() -> None:
    body = _page(f"<p>{PROSE * 3}</p>", "<p>Copyright 2024 Example Inc. All rights reserved.</p>")
    assert run(Job(mode="html", body=body))["date"] is None


def test_last_updated_date_in_a_footer_is_found() -> None:
    body = _page(f"<p>{PROSE * 3}</p>", "<p>© 2024 Example. Last updated on May 02, 2024.</p>")
    assert run(Job(mode="html", body=body))["date"] == "2024-05-02"


def test_date_in_markup_is_kept() -> None:
    body = _page(f"<p><time datetime='2023-03-14'>14 March</time></p><p>{PROSE * 3}</p>", "<p>Copyright 2024</p>")
    assert run(Job(mode="html", body=body))["date"] == "2023-03-14"


def test_hidden_attribute_and_hidden_paragraphs_are_dropped() -> None:
    tree = lxml.html.document_fromstring(
        "<html><body><p>Shown.</p><p hidden>Hidden by attribute.</p><p style='display: none'>Hidden by style.</p>"
        "<p style='visibility:hidden'>Invisible.</p><div style='display:none'><p>Tab panel.</p></div>"
        "<p>Tail <span hidden>x</span>kept.</p></body></html>"
    )
    removed = drop_hidden(tree)
    assert [item.reason for item in removed] == ["hidden"] * 4
    text = tree.text_content()
    assert "Hidden by" not in text
    assert "Invisible" not in text
    assert "Tab panel." in text  # hidden containers are trafilatura's call
    assert "Tail kept." in text


def test_a_hidden_wrapper_holding_most_of_the_prose_is_kept() -> None:
    # issue 22: a main wrapper hidden until scripts run emptied the answer.
    tree = lxml.html.document_fromstring(
        f"<html><body><nav><p>Home</p></nav><main hidden><p>{PROSE * 3}</p><p>{PROSE}</p></main>"
        "<p hidden>A hidden teaser line.</p></body></html>"
    )
    removed = drop_hidden(tree)
    assert [item.text for item in removed] == ["A hidden teaser line."]
    assert PROSE.strip() in tree.text_content()


def test_hidden_paragraph_is_not_in_the_answer_and_explain_says_why() -> None:
    body = _page(f"<p>{PROSE * 3}</p><p style='display:none'>Secret teaser that nobody sees on the page.</p>")
    answer = run(Job(mode="html", body=body, options=Options(explain=True)))
    assert "Secret teaser" not in answer["text"]
    assert {"text": "Secret teaser that nobody sees on the page.", "reason": "hidden"} in answer["removed"]


def test_formatting_is_kept_only_for_markdown_and_html() -> None:
    assert not needs_formatting(Options())
    assert needs_formatting(Options(formats=("text", "markdown")))
    assert needs_formatting(Options(formats=("html",)))


def test_precision_is_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """favor=precision: trafilatura's fast cascade, no readability candidate, no fallback date."""
    fast: list[bool] = []
    fallbacks: list[str | None] = []
    original_extraction, original_fallback = trafilatura.bare_extraction, metadata_dates._fallback_date

    def recording_extraction(tree: lxml.html.HtmlElement, options: Extractor) -> object:
        fast.append(options.fast)
        return original_extraction(tree, options=options)

    def recording_fallback(*args: object) -> str | None:
        fallbacks.append(found := original_fallback(*args))  # type: ignore[arg-type]
        return found

    monkeypatch.setattr(extract, "bare_extraction", recording_extraction)
    monkeypatch.setattr(metadata_dates, "_fallback_date", recording_fallback)
    body = _page(f"<p>{PROSE * 3}</p>")  # no date anywhere: the fast search finds none
    precise = run(Job(mode="html", body=body, options=Options(favor="precision")))
    balanced = run(Job(mode="html", body=body))
    assert fast == [True, False]
    assert fallbacks == [None]  # only the balanced run searched harder
    assert precise["text"] == balanced["text"]


# A chapter whose prose sits in ``<div>``s, with one ``<p>``: a clutter line inside the container.
CHAPTER_LINES = (
    "Alden woke before the alarm and lay listening to the rain against the window of the dorm.",
    "His brother had called twice during the night, and neither message made any sense to him.",
    "By the time he reached the kitchen the others had eaten everything except the burnt toast.",
    "He sat down anyway, because the day was going to be long and the toast was at least warm.",
    "Outside, the bus was late again, and the driver waved at him as if nothing had happened.",
)
CLUTTER_LINE = "This story was taken without the author's consent. Report it."


def test_precision_keeps_the_article_its_fast_cascade_misses() -> None:
    """favor=precision: when trafilatura's fast cascade keeps only a clutter line (shorter than
    its MIN_EXTRACTED_SIZE), its comparison with readability/jusText runs and finds the article."""
    chapter = "".join(f"<div><span>{line}</span></div>" for line in CHAPTER_LINES)
    body = (
        "<html><head><title>Chapter 3</title></head><body><div class='chapter-content'>"
        f"{chapter}<p><span>{CLUTTER_LINE}</span></p></div></body></html>"
    ).encode()
    text = run(Job(mode="html", body=body, options=Options(favor="precision")))["text"]
    assert all(line in text for line in CHAPTER_LINES)


def test_faster_pruning_prunes_as_trafilatura_does() -> None:
    """extract.prune_unwanted_nodes(with_backup=True) leaves the same tree as trafilatura's."""
    from copy import deepcopy

    from trafilatura.htmlprocessing import prune_unwanted_nodes as theirs
    from trafilatura.xpaths import OVERALL_DISCARD_XPATH

    from tests.pipeline.generated_markup import fixture_pages, parsed_tree
    from tests.pipeline.test_metadata_scan import _generated_pages

    pruned = 0
    for html in fixture_pages() + _generated_pages()[:100]:
        tree = parsed_tree(html)
        expected = theirs(deepcopy(tree), OVERALL_DISCARD_XPATH, with_backup=True)
        ours = extract.prune_unwanted_nodes(deepcopy(tree), OVERALL_DISCARD_XPATH, with_backup=True)
        assert lxml.html.tostring(ours) == lxml.html.tostring(expected)
        pruned += lxml.html.tostring(expected) != lxml.html.tostring(tree)
    assert pruned > 0  # some pages do lose sections
