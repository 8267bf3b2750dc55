"""``metadata_scan`` selects what trafilatura's metadata XPaths select, and ``metadata`` gives what
trafilatura's ``extract_metadata`` gives (license aside), on the fixtures and on generated markup
built to hit every condition and its near misses."""

from __future__ import annotations

import hashlib
import random

import lxml.html
import pytest
import trafilatura.metadata as trafilatura_metadata
import trafilatura.xpaths as trafilatura_xpaths
from trafilatura.settings import set_date_params

from service.pipeline import metadata, metadata_scan
from tests.pipeline.generated_markup import fixture_pages, generated_pages, parsed_tree

# sha1 of trafilatura 2.3.1's expressions (whitespace collapsed). A new trafilatura with other
# expressions fails here: translate them again in metadata_scan.
PINNED = "993ad93894db7a18"


def _expressions_digest() -> str:
    groups = ("AUTHOR_XPATHS", "AUTHOR_DISCARD_XPATHS", "CATEGORIES_XPATHS", "TAGS_XPATHS", "TITLE_XPATHS")
    text = "\n".join(" ".join(x.path.split()) for group in groups for x in getattr(trafilatura_xpaths, group))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def test_trafilatura_expressions_are_the_ones_translated() -> None:
    assert _expressions_digest() == PINNED


_TAGS = ["div", "span", "a", "p", "section", "li", "h1", "h2", "h3", "h4", "footer", "header", "strong", "address",
         "link", "time", "figure", "author", "rel", "em"]  # fmt: skip
_TOKENS = ["author", "Author", "authorName", "author-name", "authorname", "AuthorName", "byline", "Byline", "byl",
           "BBL", "username", "screenname", "writer", "zuozhe", "bianji", "xiaobian", "channel-name", "submitted-by",
           "posted-by", "journalist-name", "comments", "Comments", "xcomments", "commentlist", "comment-list",
           "comments-list", "ProductReviews", "sidebar", "is-hidden", "quote", "embedly-instagram", "article-share",
           "article-support", "article-x", "print", "category", "meta-date", "meta-reviewer", "meta", "metadata",
           "postmeta", "post-meta", "postinfo", "post-info", "entry-meta", "entry-info", "entry-utility",
           "entry-footer", "entry-header", "entry-tags", "entry-categories", "post-category", "postcategory",
           "entry-category", "cat-links", "tags", "tag", "tagged", "tags-links", "topics", "row", "jp-relatedposts",
           "postpath", "filedunder", "title", "date", "entry-title", "post-title", "article-title", "post__title",
           "headline", "x", "main"]  # fmt: skip
_HREFS = ["/category/news/", "/tag/x/", "/tags/y", "/categories/z/", "/about/"]


def _attributes(rng: random.Random, tag: str) -> list[str]:
    attributes = []
    for name in ("class", "id"):
        if rng.random() < 0.6:
            value = " ".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 2)))
            attributes.append(f'{name}="{value}"')
    if rng.random() < 0.15:
        attributes.append(f'itemprop="{rng.choice(["author", "author name", "headline", "name"])}"')
    if rng.random() < 0.1:
        attributes.append(f'rel="{rng.choice(["author", "me", "nofollow"])}"')
    if rng.random() < 0.08:
        attributes.append(f'data-testid="{rng.choice(["AuthorCard", "AuthorURL", "Other"])}"')
    if rng.random() < 0.08:
        attributes.append(f'data-component="{rng.choice(["Byline", "Figure", "Body"])}"')
    if tag == "a" or rng.random() < 0.2:
        attributes.append(f'href="{rng.choice(_HREFS)}"')
    return attributes


def _words(rng: random.Random) -> str:
    return rng.choice(["John Smith", "By Jane Doe", "me", "x", "Ann Lee and Bo Ek", "", "News"])


def _generated_pages() -> list[str]:
    return generated_pages(7, 400, _TAGS, _attributes, _words)


@pytest.fixture(scope="module")
def trees() -> list[lxml.html.HtmlElement]:
    return [parsed_tree(html) for html in fixture_pages() + _generated_pages()]


def test_scan_selects_what_trafilatura_selects(trees: list[lxml.html.HtmlElement]) -> None:
    selected = 0
    for tree in trees:
        found = metadata_scan.scan(tree)
        for expression, elements in zip(trafilatura_xpaths.AUTHOR_XPATHS, found.author, strict=True):
            assert expression(tree) == elements
        for expression, elements in zip(trafilatura_xpaths.TITLE_XPATHS, found.title, strict=True):
            assert expression(tree) == elements
        for expression, containers in zip(trafilatura_xpaths.CATEGORIES_XPATHS, found.category_containers, strict=True):
            assert expression(tree) == metadata_scan.links_below(containers)
        for expression, containers in zip(trafilatura_xpaths.TAGS_XPATHS, found.tag_containers, strict=True):
            assert expression(tree) == metadata_scan.links_below(containers)
        discarded = {e for expression in trafilatura_xpaths.AUTHOR_DISCARD_XPATHS for e in expression(tree)}
        assert set(found.author_discard) == discarded
        selected += sum(map(len, found.author)) + len(found.author_discard)
    assert selected > 1000  # the generated pages do exercise the conditions


def test_author_reads_as_trafilatura_pruned_copy(trees: list[lxml.html.HtmlElement]) -> None:
    found_any = 0
    for tree in trees:
        expected = trafilatura_metadata.extract_author(tree)
        assert metadata._extract_author(tree, metadata_scan.scan(tree)) == expected
        found_any += expected is not None
    assert found_any > 100


def test_pruned_text_joins_tails_like_delete_element() -> None:
    tree = lxml.html.fromstring("<div>By<time>Mon</time>Ann<span>x</span><figure>f</figure> Lee<b>!</b></div>")
    discarded = set(tree.xpath("//time|//figure"))
    assert metadata_scan.pruned_text(tree, discarded) == "ByAnn x  Lee !"


def test_metadata_equals_trafilatura_extract_metadata() -> None:
    date_params = set_date_params(False)
    for html in fixture_pages() + _generated_pages()[:100]:
        tree = parsed_tree(html)
        theirs = trafilatura_metadata.extract_metadata(tree, None, date_params)
        ours = metadata._trafilatura_metadata(tree, None, date_params)
        assert metadata.map_metadata(ours, None) == metadata.map_metadata(theirs, None)
