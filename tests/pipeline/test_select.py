"""The ``include``/``exclude`` stage: CSS selectors applied to the parsed tree before extraction."""

from __future__ import annotations

import lxml.html

from service.models import Options
from service.pipeline.select import INCLUDE_MATCHED_NOTHING, apply_selectors

PAGE = (
    "<html><head><title>Page</title></head><body>"
    "<nav>Menu</nav>"
    "<div class='story'>Story one <span class='ad'>Buy now</span> goes on.</div>"
    "between"
    "<aside>Aside</aside>"
    "<div class='story'>Story two<div class='story'>nested story</div></div>"
    "<footer>Foot</footer>"
    "</body></html>"
)


def text_of(tree: lxml.html.HtmlElement) -> str:
    body = tree.find("body")
    assert body is not None
    return " ".join(" ".join(body.itertext()).split())


def apply(include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> tuple[str, list[str], str | None]:
    tree = lxml.html.document_fromstring(PAGE)
    warnings = apply_selectors(tree, Options(include=include, exclude=exclude))
    return text_of(tree), warnings, tree.findtext(".//title")


def test_no_selectors_leave_the_tree_as_it_was() -> None:
    assert apply() == ("Menu Story one Buy now goes on. between Aside Story two nested story Foot", [], "Page")


def test_exclude_drops_what_it_matches_and_keeps_the_text_after_it() -> None:
    text, warnings, _title = apply(exclude=("nav", "aside", ".ad"))
    assert text == "Story one goes on. between Story two nested story Foot"
    assert warnings == []


def test_include_keeps_only_what_it_matches_in_page_order_once_each() -> None:
    text, warnings, title = apply(include=("div.story", "footer"))
    assert text == "Story one Buy now goes on. Story two nested story Foot"
    assert warnings == []
    assert title == "Page"  # the head stays: metadata still comes from it


def test_exclude_applies_inside_what_include_keeps() -> None:
    text, _warnings, _title = apply(include=(".story",), exclude=(".ad",))
    assert text == "Story one goes on. Story two nested story"


def test_include_that_matches_nothing_empties_the_body_with_a_warning() -> None:
    text, warnings, _title = apply(include=("article",))
    assert text == ""
    assert warnings == [INCLUDE_MATCHED_NOTHING]


def test_include_of_the_body_or_root_keeps_the_whole_page() -> None:
    for selector in ("body", "html", ":root"):
        assert apply(include=(selector,))[0].startswith("Menu Story one")


def test_exclude_of_the_root_is_ignored_but_of_the_body_empties_it() -> None:
    assert apply(exclude=("html",))[0].startswith("Menu")
    assert apply(exclude=("body",))[0] == ""
