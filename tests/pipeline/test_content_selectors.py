"""``content_selectors`` selects what trafilatura's content XPaths select, in the same order, on the
fixtures and on generated markup built to hit every condition and its near misses; and the swap
holds during our extraction only."""

from __future__ import annotations

import hashlib
import random

import lxml.html
import pytest
import trafilatura.xpaths as trafilatura_xpaths
from lxml.etree import XPath

from service.models import Job, Options
from service.pipeline import content_selectors, run
from service.pipeline.library_swaps import swapped_items
from tests.pipeline.generated_markup import FIXTURES, fixture_pages, generated_pages, parsed_tree

# sha1 of the translated expressions of trafilatura 2.3.1 (whitespace collapsed). A trafilatura
# with other expressions fails here: translate them again in content_selectors.
PINNED = "058cd337f09a6744"


def _expressions_digest() -> str:
    paths = [" ".join(getattr(trafilatura_xpaths, name)[index].path.split()) for name, index in _keys()]
    return hashlib.sha1("\n".join(paths).encode()).hexdigest()[:16]


def _keys() -> list[tuple[str, int]]:
    return sorted(content_selectors.EQUIVALENTS)


def test_trafilatura_expressions_are_the_ones_translated() -> None:
    assert _expressions_digest() == PINNED


# Tags as trafilatura's extractor sees them: raw HTML first, then its own vocabulary (list, item).
_TAGS = ["div", "section", "article", "main", "aside", "span", "p", "item", "list", "ol", "ul", "details",
         "header", "footer", "li", "a", "h1", "h2", "figure"]  # fmt: skip
# Every token of the translated patterns, with near misses (case, affixes, look-alikes).
_TOKENS = ["comment", "Comment", "comments", "commentary", "Commentary", "comment-list", "xcomment", "comol",
           "disqus_thread", "dsq-comments", "article-comments", "post-comments", "mvp-post-add-box",
           "mvp-post-add-wrap", "mvp-post-add", "infinite-scroll", "infinitescroll", "infinite",
           "elementor-share-buttons", "teaser", "Teaser", "caption", "Caption", "bottom", "bottom-bar", "pad-bottom-1",
           "link", "permalink", "cookie", "Cookie", "share", "Share", "shareit", "share-x", "social", "viral", "nav",
           "Nav", "navbar", "subnav", "post-nav", "menu", "bar", "ad", "ad-x", "x-ad-y", "dfpAd", "dfpad", "outbrain",
           "widget", "meta", "byline", "Byline", "embed", "consent", "related", "elated", "next-", "footer", "Footer",
           "premium", "jp-x", "dpsp-content", "bmdh", "yin", "hidden", "hide-x", "x-hide-y", "hide", "reply-x",
           "x-reply-y", "comments-title", "nocomments", "message", "akismet", "reader-comments", "noprint",
           "notloaded", "post", "entry", "articleContent", "article-content", "entry-content", "art-content",
           "article__body", "article-body", "articlebody", "articleBody", "ArticleContent", "body-text", "post-text",
           "post_content", "postcontent", "postContent", "article__container", "primary", "xprimary", "story-body",
           "fulltext", "FullText", "FULLTEXT", "article", "story", "text", "cell", "postarea", "art-postcontent",
           "story-content", "storycontent", "blog-content", "single-post", "main-column", "wpb_text_column",
           "field-body", "post-bodycopy", "content", "main-content", "Main-Content", "MAIN-CONTENT", "page-content",
           "Page-Content", "content-main", "content_main", "content-body", "content__body", "contentBody",
           "x", "tags", "tag-list", "sidebar", "banner", "breadcrumb", "bread-crumb", "button"]  # fmt: skip
_VALUES = {
    "role": ["navigation", "Navigation", "NAV", "article", "main", "banner"],
    "itemprop": ["articleBody", "articlebody", "author"],
    "aria-hidden": ["true", "false", "True"],
    "data-component": ["MostPopularStories", "mostpopularstories", "Byline"],
    "data-lp-replacement-content": ["", "x"],
    "style": ["display:none", "display: none", "border: 1px solid", "color: red", "visibility:hidden", ""],
}


def _class_value(rng: random.Random) -> str:
    value = " ".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 3)))
    return rng.choice(["", " ", "x "]) + value if rng.random() < 0.2 else value


def _attributes(rng: random.Random, tag: str) -> list[str]:
    attributes = [f'{name}="{_class_value(rng)}"' for name in ("class", "id") if rng.random() < 0.6]
    attributes += [f'{name}="{rng.choice(values)}"' for name, values in _VALUES.items() if rng.random() < 0.12]
    rng.shuffle(attributes)  # @id|@class reads the attribute written first
    return attributes


@pytest.fixture(scope="module")
def trees() -> list[lxml.html.HtmlElement]:
    pages = fixture_pages() + generated_pages(11, 300, _TAGS, _attributes, lambda rng: "words", max_children=4)
    return [parsed_tree(html) for html in pages]


def test_equivalents_select_what_trafilatura_selects(trees: list[lxml.html.HtmlElement]) -> None:
    selected = dict.fromkeys(content_selectors.EQUIVALENTS, 0)
    for tree in trees:
        # from the root and from an inner element: the expressions are relative (.//)
        contexts = [tree, *tree.iterdescendants("div", "section")][:3]
        for context in contexts:
            for (name, index), select in content_selectors.EQUIVALENTS.items():
                expected = getattr(trafilatura_xpaths, name)[index](context)
                assert list(select(context)) == expected, (name, index)
                selected[name, index] += len(expected)
    # every expression did select on this markup: the comparison is not between empty lists
    assert all(count > 20 for count in selected.values()), selected


def test_first_written_attribute_decides() -> None:
    cookie_first = lxml.html.fromstring('<div><p id="cookie" class="x">a</p><p class="x" id="cookie">b</p></div>')
    expected = trafilatura_xpaths.OVERALL_DISCARD_XPATH[0](cookie_first)
    assert [p.text for p in expected] == ["a"]
    assert content_selectors.overall_0(cookie_first) == expected


def test_swap_holds_during_extraction_only() -> None:
    originals = {key: getattr(trafilatura_xpaths, key[0])[key[1]] for key in content_selectors.EQUIVALENTS}
    seen: list[object] = []

    def spy(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
        seen.append(tree)
        return content_selectors.overall_0(tree)

    replacements = dict(content_selectors.EQUIVALENTS)
    replacements["OVERALL_DISCARD_XPATH", 0] = spy
    page = (FIXTURES / "html-german-news" / "input.html").read_bytes()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(content_selectors, "EQUIVALENTS", replacements)
        patch.setattr("service.pipeline.extract.EQUIVALENTS", replacements)
        run(Job(mode="html", body=page, options=Options()))
    assert seen  # our extraction went through the equivalent
    for (name, index), original in originals.items():
        assert getattr(trafilatura_xpaths, name)[index] is original
        assert isinstance(original, XPath)


def test_swapped_items_restores_after_an_error() -> None:
    items = ["a", "b", "c"]
    module = type("Module", (), {"ITEMS": items})

    def fail_inside() -> None:
        with swapped_items(module, {("ITEMS", 1): "B"}):  # type: ignore[arg-type]
            assert items == ["a", "B", "c"]
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert items == ["a", "b", "c"]
