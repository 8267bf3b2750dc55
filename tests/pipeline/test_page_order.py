"""The answer's blocks in the page's order (service.pipeline.page_order), never a different choice of blocks."""

from __future__ import annotations

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from service.models import Article, Job, Metadata, Options
from service.pipeline import block_model, blocks, page_order, run
from service.pipeline.blocks import ReadabilityView

STORY = (
    "The first paragraph of the story tells how the river rose over the old stone bridge during the night.",
    "The second paragraph of the story describes the farmers who moved their animals to the hills at dawn.",
    "The third paragraph of the story reports what the mayor said about the new flood barriers next year.",
)
NOTE = "A short note further down the page about another story, with enough words to count as a paragraph."


def _page(*paragraphs: str, after: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(
        "<html><body>" + "".join(f"<p>{text}</p>" for text in paragraphs) + after + "</body></html>"
    )


def _body(*paragraphs: str) -> etree._Element:
    return etree.fromstring("<body>" + "".join(f"<p>{text}</p>" for text in paragraphs) + "</body>")


def _texts(body: etree._Element) -> list[str]:
    return ["".join(child.itertext()) for child in body]


def test_a_block_trafilatura_took_from_an_earlier_frame_goes_where_the_page_has_it() -> None:
    # trafilatura tries its content XPaths in turn and keeps what a frame that found too little
    # (one paragraph) emitted ahead of the next frame's blocks, wherever the page has it.
    page = (
        "<html><head><title>River</title></head><body><main><div class='story-content'>"
        + "".join(f"<p>{text}</p>" for text in STORY)
        + f"</div></main><div class='more'><div class='article-body'><p>{NOTE}</p></div></div></body></html>"
    )
    lines = run(Job(mode="html", body=page.encode()))["text"].split("\n")
    assert lines == [*STORY, NOTE]


def test_readability_blocks_sharing_no_block_with_trafilatura_go_where_the_page_has_them() -> None:
    # Nothing ties readability's candidate to trafilatura's blocks then: the merge puts its
    # blocks first, and the order comes from the page.
    candidate = _body(NOTE)
    view = ReadabilityView(ran=True, text=NOTE, body=candidate)
    article = Article(metadata=Metadata(), body=_body(*STORY))
    found = blocks.candidate_blocks(article, view, Options())
    assert found[0].text == NOTE  # the merge's guess, which the block model reads as it is
    block_model.apply(article, found, [True] * len(found))
    page_order.restore(article.body, _page(*STORY, NOTE))
    assert _texts(article.body) == [*STORY, NOTE]


def test_blocks_in_order_stay_as_they_are() -> None:
    body = _body(*STORY)
    page_order.restore(body, _page("Menu and other links of the site header, long enough.", *STORY))
    assert _texts(body) == list(STORY)


def test_a_moved_block_keeps_its_tail() -> None:
    body = etree.fromstring(f"<body><p>{NOTE}</p>between<p>{STORY[0]}</p></body>")
    page_order.restore(body, _page(STORY[0], NOTE))
    assert [(child.text, child.tail) for child in body] == [(STORY[0], None), (NOTE, "between")]


def test_whitespace_and_inline_markup_do_not_hide_a_block() -> None:
    page = _page(STORY[0], after=f"<div>{NOTE[:20]}<br>\n   <b>{NOTE[20:]}</b></div>")
    body = _body(NOTE, STORY[0])
    page_order.restore(body, page)
    assert _texts(body) == [STORY[0], NOTE]


def test_script_text_does_not_count_as_a_place_on_the_page() -> None:
    # A JSON state at the top of the body repeats the article: the blocks' places stay the visible ones.
    state = f"<script>window.state = {{'text': '{NOTE} {STORY[0]}'}}</script>"
    page = lxml.html.document_fromstring(f"<html><body>{state}<p>{STORY[0]}</p><p>{NOTE}</p></body></html>")
    body = _body(NOTE, STORY[0])
    page_order.restore(body, page)
    assert _texts(body) == [STORY[0], NOTE]
    assert page.find(".//script").text.startswith("window.state")  # the page is left as it was


@pytest.mark.parametrize(
    ("occurrences", "order"),
    [
        pytest.param([[100], [10], [20], [30]], [1, 2, 3, 0], id="a block ahead of the others moves after them"),
        pytest.param([[5], [10], [2], [30]], [2, 0, 1, 3], id="a block behind the others moves before them"),
        pytest.param([[40, 45], [10], [20], [30]], [1, 2, 3, 0], id="repeated within one gap: moves"),
        pytest.param([[15, 45], [10], [20], [30]], [0, 1, 2, 3], id="repeated in two gaps: stays"),
        pytest.param([[100], [], [10], [20]], [1, 2, 3, 0], id="a block not found rides with the one after it"),
        pytest.param([[10], [20], [5], []], [2, 0, 1, 3], id="blocks not found at the end stay at the end"),
        pytest.param([[], []], [0, 1], id="nothing found: nothing moves"),
    ],
)
def test_the_longest_run_in_page_order_stays_and_the_others_move_only_to_a_certain_place(
    occurrences: list[list[int]], order: list[int]
) -> None:
    assert page_order.page_order(occurrences) == order


@given(st.lists(st.lists(st.integers(min_value=0, max_value=50), max_size=4).map(sorted), max_size=12))
def test_the_new_order_is_a_permutation_and_placed_blocks_go_up(occurrences: list[list[int]]) -> None:
    order = page_order.page_order(occurrences)
    assert sorted(order) == list(range(len(occurrences)))  # only the order changes: none lost, none twice
    # Blocks with one place on the page end in that place's order (ties in any order).
    placed = [occurrences[number][0] for number in order if len(occurrences[number]) == 1]
    assert placed == sorted(placed) or len(set(placed)) < len(placed)
