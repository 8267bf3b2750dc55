"""``text`` holds the page's words as a browser shows them (s21 fidelity audit): characters
decoded once, no text of elements a browser never renders, and no two blocks' words glued into
one where the page shows them apart."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.models import Job, Options
from service.pipeline import run
from service.pipeline.library_swaps import trim_layout

FILLER = "Ordinary words make this paragraph long enough to count as the article's own text. " * 3


def _text(content: str) -> str:
    page = f"<html><body><article><p>{FILLER}</p>{content}<p>{FILLER}</p></article></body></html>"
    return str(run(Job(mode="html", body=page.encode()))["text"])


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("Write &amp;lt;div&amp;gt; to show a tag", "Write &lt;div&gt; to show a tag"),
        ("The query ?a=1&amp;para=2&amp;copy=3 as typed", "The query ?a=1&para=2&copy=3 as typed"),
        ("AT&amp;amp;T is the escaped name", "AT&amp;T is the escaped name"),
    ],
    ids=["escaped-markup", "legacy-entity-names", "escaped-reference"],
)
def test_character_references_are_decoded_once(source: str, shown: str) -> None:
    assert f"{shown}, in a paragraph of the article." in _text(f"<p>{source}, in a paragraph of the article.</p>")


def test_template_content_is_not_text() -> None:
    template = (
        "<template><div class='step'><h3>{{{title}}}</h3><p>{{#text}} {{{text}}} {{/text}}</p>"
        f"<p>{{{{#image}}}} Template paragraph that no browser renders. {FILLER}{{{{/image}}}}</p></div></template>"
    )
    text = _text(f"<p>{FILLER}</p>{template}<p>{FILLER}</p>")
    assert "{{" not in text
    assert "no browser renders" not in text


def test_a_declarative_shadow_root_is_text() -> None:
    shown = "Shadow root paragraph that every browser renders as part of the page's article text."
    text = _text(f"<div><template shadowrootmode='open'><p>{shown}</p></template></div>")
    assert shown in text


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (
            "<ol><li><div>1.</div><div>Mix the flour with the sugar.</div></li>"
            "<li><div>2.</div><div>Add the eggs one by one.</div></li></ol>",
            "1. Mix the flour with the sugar.",
        ),
        (
            "<ul><li><div>Motorway:</div><span>6.0 km</span></li><li><div>Station:</div><span>30 km</span></li></ul>",
            "Motorway: 6.0 km",
        ),
        (
            "<blockquote><div>The first quoted sentence.</div><div>The second quoted sentence.</div></blockquote>",
            "The first quoted sentence. The second quoted sentence.",
        ),
        (
            "<p>Read the introduction<section>Boxed words</section>after the box, and more words here.</p>",
            "Read the introduction Boxed words after the box",
        ),
        (
            "<ul><li><article>Course</article><article><div><h2>Part 6</h2>Engines</div></article>"
            "<article>2 years</article></li></ul>",
            "Engines 2 years",
        ),
        (
            "<blockquote><div><h3>Heading</h3>The quoted words</div><section>Next quoted words</section></blockquote>",
            "The quoted words Next quoted words",
        ),
    ],
    ids=[
        "list-item-of-divs",
        "list-item-div-then-span",
        "quote-of-divs",
        "section-in-a-paragraph",
        "list-item-blocks-after-a-heading",
        "quote-block-after-a-heading",
    ],
)
def test_blocks_flattened_into_one_line_keep_a_space_between_them(content: str, line: str) -> None:
    assert line in _text(content)


def test_an_inline_quotation_stays_in_its_sentence() -> None:
    sentence = "She called it <q>a fine piece of work</q>, and then went on with the rest of her talk."
    assert "She called it a fine piece of work, and then went on with the rest of her talk." in _text(
        f"<p>{sentence}</p>"
    )


@pytest.mark.parametrize(
    "block",
    ['<pre lang="shell">{}</pre>', "<pre><code>{}</code></pre>"],
    ids=["pre", "pre-code"],
)
def test_code_blocks_in_a_row_are_lines_of_their_own(block: str) -> None:
    commands = block.format("netsh interface tcp show global") + block.format("netsh interface tcp set global")
    text = _text(f"<p>Run these two commands:</p>{commands}<p>Then restart the machine and look again.</p>")
    assert "\nnetsh interface tcp show global\nnetsh interface tcp set global\n" in text


def test_text_after_a_code_block_is_kept() -> None:
    after = "and then the words that follow the block in the same container."
    text = _text(f"<div><p>Run this command first:</p><pre><code>make install</code></pre>{after}</div>")
    assert f"make install\n{after}" in text


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (
            "<ol><li><x-name>\n  Smith&nbsp;A </x-name>,&nbsp;<x-name>\n  Jones&nbsp;B </x-name>,&nbsp;"
            "<x-name>et al</x-name>. A study of garden snails.</li></ol>",
            # NBSP is the page's character, not layout: it stays, and the layout after it is a space
            "- Smith\u00a0A ,\u00a0 Jones\u00a0B ,\u00a0et al. A study of garden snails.",
        ),
        (
            "<blockquote>Quoted words by <site-person>the gardener</site-person>, with"
            " <site-place>\n   the shed</site-place>\n   in view.</blockquote>",
            "Quoted words by the gardener, with the shed in view.",
        ),
    ],
    ids=["list-item", "quote"],
)
def test_custom_elements_read_inline(content: str, line: str) -> None:
    assert line in _text(content)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (
            "<div><span>Whisk the batter until smooth.</span><div class='spacer'></div>"
            "<span>Let it rest for an hour.</span></div>",
            "Whisk the batter until smooth. Let it rest for an hour.",
        ),
        (
            "<ol><li><div><span>Whisk the batter until smooth.</span><div class='spacer'></div>"
            "<span>Let it rest for an hour.</span></div></li></ol>",
            "- Whisk the batter until smooth. Let it rest for an hour.",
        ),
        (
            "<div>Whisk the batter until smooth.<div></div>Let it rest for an hour.</div>",
            "Whisk the batter until smooth. Let it rest for an hour.",
        ),
        (
            "<div><span>Whisk the batter until smooth.</span><p></p><span>Let it rest for an hour.</span></div>",
            "Whisk the batter until smooth. Let it rest for an hour.",
        ),
        (
            "<div>Whisk the batter until smooth.<h3></h3>Let it rest for an hour.</div>",
            "Whisk the batter until smooth. Let it rest for an hour.",
        ),
    ],
    ids=["between-spans", "in-a-list-item", "between-text", "empty-paragraph", "empty-heading"],
)
def test_an_empty_block_between_words_keeps_them_apart(content: str, line: str) -> None:
    # trafilatura deletes empty elements (``prune_html``), but an empty block breaks the line
    assert line in _text(content)


# A page whose article trafilatura's own rules prune (a "sidebar" class) and readability misses:
# trafilatura keeps jusText's candidate for it, whose paragraphs are made from the page's text nodes.
STEP = (
    "with the sugar and the butter until it is smooth and there are no lumps left in it at all, "
    "then let it rest for a while before you go on with the next step of the recipe"
)


def _justext_text(steps: str) -> str:
    page = f"<html><body><article><p>A short introduction to the cake.</p></article>{steps}</body></html>"
    return str(run(Job(mode="html", body=page.encode()))["text"])


def test_a_space_between_inline_elements_stays_on_the_justext_path() -> None:
    step = f"<div>Mix in <span class='tool'>a large bowl</span> <span class='amount'>150 g flour</span> {STEP}.</div>"
    text = _justext_text(f"<div class='sidebar'>{step * 4}</div>")
    assert "Mix in a large bowl 150 g flour with the sugar" in text


def test_html5_blocks_in_a_row_stay_apart_on_the_justext_path() -> None:
    steps = "".join(f"<section>Step {n}: mix {STEP}.</section>" for n in range(1, 5))
    text = _justext_text(f"<div class='sidebar'>{steps}</div>")
    assert "of the recipe. Step 2: mix" in text


@pytest.mark.parametrize(
    "item",
    [
        "<li>Move to the next line and add<br>an advice that calls the function <code>speak-line</code>.</li>",
        "<li>Move to the next line and add<br>an advice that <b>calls</b> the function <code>speak-line</code>.</li>",
        "<li><div>Move to the next line</div> and add an advice that calls the function <code>speak-line</code>.</li>",
        # trafilatura moves a block's tail onto the end of the block's last child
        "<li><h4>Move to the next line<br>and add</h4> an advice that calls the function <code>speak-line</code>.</li>",
        "<li><div>Move to the <div>next line<br>and add</div> an advice</div> that calls the function"
        " <code>speak-line</code>.</li>",
        "<li><div>Move to the next line<br>and add an advice that calls the function </div>"
        "<code>speak-line</code>.</li>",
    ],
    ids=[
        "after-a-line-break",
        "after-a-line-break-and-bold",
        "after-a-block",
        "after-a-heading-tail",
        "after-nested-block-tails",
        "at-the-end-of-a-block",
    ],
)
def test_the_space_before_inline_code_in_a_list_item_stays(item: str) -> None:
    # trafilatura trims the text it rebuilds in an item, the space before the next element with it
    assert "calls the function speak-line." in _text(f"<ul>{item}<li>Another item of the list.</li></ul>")


def test_the_space_before_inline_code_after_a_heading_in_a_quote_stays() -> None:
    quote = "<blockquote><h4>Move to the next line<br>and add</h4> an advice that calls <code>speak-line</code>."
    assert "and add an advice that calls speak-line." in _text(f"{quote}</blockquote>")


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (
            "<ul><li>Distance to the motorway<br>\u00a0100\u00a0km\u00a0by car</li><li>Another item.</li></ul>",
            "100\u00a0km\u00a0by car",
        ),
        (
            "<ul><li><h4>Distances</h4>\u00a0100\u00a0km to the\u3000motorway <code>A7</code></li></ul>",
            "100\u00a0km to the\u3000motorway A7",
        ),
        ("<blockquote>Quoted words here<br>100\u00a0km and\u2003more</blockquote>", "100\u00a0km and\u2003more"),
    ],
    ids=["list-item-line", "list-item-heading-tail", "quote-line"],
)
def test_non_ascii_spaces_in_a_rebuilt_line_stay(content: str, shown: str) -> None:
    # trafilatura trims the text it rebuilds in an item or quote with str.split(): NBSP, U+3000 and
    # U+2003 are the page's characters, only the source's ASCII layout whitespace goes
    assert shown in _text(content)


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        ("<ul><li>Distance\u00a0100\u00a0km</li><li>Another item.</li></ul>", "- Distance\u00a0100\u00a0km"),
        ("<ul><li><b>Distance</b>\u00a0100\u00a0km</li><li>Another item.</li></ul>", "- Distance\u00a0100\u00a0km"),
        (
            "<p>Le prix\u00a0: «\u00a0100\u202f€\u00a0» w\u00a0Parlamencie.</p>",
            "Le prix\u00a0: «\u00a0100\u202f€\u00a0» w\u00a0Parlamencie.",
        ),
        ("<h2>Distance\u3000100\u00a0km</h2>", "Distance\u3000100\u00a0km"),
        (
            "<table><tr><td>Distance\u00a0100\u00a0km</td><td>2\u2009h</td></tr></table>",
            "| Distance\u00a0100\u00a0km | 2\u2009h |",
        ),
    ],
    ids=["list-item", "list-item-after-bold", "paragraph", "heading", "table-cells"],
)
def test_non_ascii_spaces_in_a_block_of_text_alone_stay(content: str, shown: str) -> None:
    # a block without child elements is trimmed by trafilatura's process_node (str.split as well)
    assert shown in _text(content).split("\n")


def test_a_block_after_a_trimmed_line_in_a_quote_starts_its_line() -> None:
    # the space kept before an inline element is not kept before a block: it would join the lines
    quote = (
        "<blockquote>Intro words.<h3>Heading</h3>The line after the heading.\n<p>The next paragraph.</p></blockquote>"
    )
    assert "The line after the heading.\nThe next paragraph." in _text(quote)


# A page without paragraphs or an article, whose one container trafilatura's rules prune: the text
# comes from the baseline's last tier, the whole page body (trafilatura's rescue of its empty
# extraction, and our fallback in favor=precision, where trafilatura skips that rescue).
_BODY_DUMP_PAGE = (
    "<html><body><div class='sidebar'><span>Mix in <b>a large bowl</b> 150 g flour</span> with the sugar"
    " and the butter until it is smooth and there are no lumps left in it at all<br>Then let it"
    " <i>rest</i>.<div>Bake for an hour.</div></div></body></html>"
)


@pytest.mark.parametrize("favor", ["balanced", "precision"])
def test_the_whole_body_fallback_breaks_lines_at_blocks_only(favor: str) -> None:
    result = run(Job(mode="html", body=_BODY_DUMP_PAGE.encode(), options=Options(favor=favor)))
    assert result["text"].split("\n") == [
        "Mix in a large bowl 150 g flour with the sugar and the butter until it is smooth and there are no lumps"
        " left in it at all",
        "Then let it rest.",
        "Bake for an hour.",
    ]
    assert result["warnings"] == (["fallback-extraction"] if favor == "precision" else [])


@pytest.mark.parametrize(
    "content",
    [
        "<ul><li><div>See the<br>manual page</div>for the function.</li><li>Another item.</li></ul>",
        "<ul><li><h4>See the<br>manual page</h4>for the function.</li><li>Another item.</li></ul>",
        "<blockquote><div>See the<br>manual page</div>for the function.</blockquote>",
    ],
    ids=["list-item-div", "list-item-heading", "quote-div"],
)
def test_the_tail_after_a_block_with_children_starts_apart(content: str) -> None:
    # trafilatura moves such a block's tail onto its last child's with nothing between: a browser
    # starts it on a line of its own ("manual pagefor")
    text = _text(content)
    assert "manual pagefor" not in text
    assert "for the function." in text


@pytest.mark.parametrize("favor", ["balanced", "precision"])
def test_the_whole_body_fallback_keeps_non_ascii_spaces(favor: str) -> None:
    page = _BODY_DUMP_PAGE.replace("150 g", "150\u00a0g").replace("an hour", "an\u00a0hour")
    lines = run(Job(mode="html", body=page.encode(), options=Options(favor=favor)))["text"].split("\n")
    assert "150\u00a0g flour" in lines[0]
    assert lines[-1] == "Bake for an\u00a0hour."


@given(st.text(alphabet=st.sampled_from("ab \t\n\r\f\u00a0\u3000é"), max_size=30))
def test_trim_layout_collapses_the_sources_layout_whitespace_only(text: str) -> None:
    # the ASCII fast path and the general one agree: layout runs become one space, none at the
    # ends, every other character stays; a text of spaces alone is none
    expected = "" if text.isspace() else re.sub("[ \t\n\r\f]+", " ", text).strip(" \t\n\r\f")
    assert trim_layout(text) == expected
