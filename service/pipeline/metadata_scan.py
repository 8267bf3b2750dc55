"""One pass over the page that finds what trafilatura's metadata XPaths select (for ``metadata``).

trafilatura looks for bylines, titles, categories and tags with 18 XPath expressions of the form
``//*[self::div or ...][@class='byline' or re:test(@class, 'author|...') or ...]``. libxml2
evaluates each predicate for every element of the page, and ``re:test`` calls back into Python:
1.2 to 2.7 ms per expression on the trafilatura bench set, up to ~10 ms a page for the
metadata. Every condition in them reads the element's own tag and attributes (one reads a
``<rel>`` child), so one walk of the tree tests each element against all the expressions'
conditions, in Python, with the same regexes: ~0.7 ms a page instead of ~8.

The expressions are trafilatura 2.3.1's (``trafilatura/xpaths.py``: AUTHOR_XPATHS,
AUTHOR_DISCARD_XPATHS, CATEGORIES_XPATHS, TAGS_XPATHS, TITLE_XPATHS), each quoted above its
condition. ``tests/pipeline/test_metadata_scan.py`` checks that the scan selects exactly what
trafilatura's expressions select, on every fixture and on generated markup, and that
trafilatura's expressions are still the ones quoted here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

import lxml.html

from service.pipeline.xpath_functions import regex_test

Element: TypeAlias = lxml.html.HtmlElement


# AUTHOR_XPATHS[0]
#   //*[self::a or self::address or self::div or self::link or self::p or self::span or self::strong][
#   @rel='author' or @id='author' or @class='author' or @itemprop='author name' or rel='me' or
#   @data-testid='AuthorCard' or @data-testid='AuthorURL' or
#   re:test(@class, 'author-?name|AuthorName|authorName')]|//author
_AUTHOR_0_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_author_0_class = regex_test("author-?name|AuthorName|authorName")
# AUTHOR_XPATHS[1]
#   //*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][
#   @class='byline' or @class='username' or @class='byl' or @class='BBL' or
#   contains(@itemprop, 'author') or
#   re:test(@id, 'author|zuozhe|bianji|xiaobian') or
#   re:test(@class, 'author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name')]
_AUTHOR_1_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_AUTHOR_1_CLASSES = frozenset({"byline", "username", "byl", "BBL"})
_author_1_id = regex_test("author|zuozhe|bianji|xiaobian")
_author_1_class = regex_test("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
# AUTHOR_XPATHS[2]
#   //*[contains(@data-component, 'Byline') or contains(@itemprop, 'author') or
#   re:test(@id, '[Aa]uthor') or re:test(@class, '[Aa]uthor|screenname|writer|[Bb]yline')]
_author_2_id = regex_test("[Aa]uthor")
_author_2_class = regex_test("[Aa]uthor|screenname|writer|[Bb]yline")
# AUTHOR_DISCARD_XPATHS[0]
#   .//*[self::a or self::div or self::section or self::span][
#   @id='comments' or @class='comments' or @class='title' or @class='date' or
#   re:test(@id, '^comments|comment-?list|ProductReviews') or
#   re:test(@class, '^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|
#   article-(?:share|support)|print|category|meta-date|meta-reviewer') or
#   contains(@data-component, 'Figure')]
# AUTHOR_DISCARD_XPATHS[1]: //time|//figure
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_CLASSES = frozenset({"comments", "title", "date"})
_discard_id = regex_test("^comments|comment-?list|ProductReviews")
_discard_class = regex_test(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
    "article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
# TITLE_XPATHS
#   [0] //*[self::h1 or self::h2][re:test(@class, '(?:post-|entry-|article-|post__)title|headline') or
#       contains(@id, 'headline') or contains(@itemprop, 'headline')]
#   [1] //*[@class='entry-title' or @class='post-title']
#   [2] //*[self::h1 or self::h2 or self::h3][contains(@class, 'title') or contains(@id, 'title')]
_title_0_class = regex_test("(?:post-|entry-|article-|post__)title|headline")
# CATEGORIES_XPATHS (each followed by //a[@href])
#   [0] //div[re:test(@class, '^(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)') or
#       starts-with(@id, 'postpath')]
#   [1] //p[starts-with(@class, 'postmeta') or starts-with(@class, 'entry-categories') or
#       @class='postinfo' or @id='filedunder']
#   [2] //footer[starts-with(@class, 'entry-meta') or starts-with(@class, 'entry-footer')]
#   [3] //*[self::li or self::span][@class='post-category' or @class='postcategory' or
#       @class='entry-category' or contains(@class, 'cat-links')]
#   [4] //header[@class='entry-header']
#   [5] //div[@class='row' or @class='tags']
_category_0_class = regex_test("^(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)")
_CATEGORY_3_CLASSES = frozenset({"post-category", "postcategory", "entry-category"})
# TAGS_XPATHS (each followed by //a[@href])
#   [0] //div[@class='tags']
#   [1] //p[starts-with(@class, 'entry-tags')]
#   [2] //div[@class='row' or @class='jp-relatedposts' or @class='entry-utility' or
#       re:test(@class, '^(?:tag|postmeta|meta)')]
#   [3] //*[@class='entry-meta' or contains(@class, 'topics') or contains(@class, 'tags-links')]
_TAG_2_CLASSES = frozenset({"row", "jp-relatedposts", "entry-utility"})
_tag_2_class = regex_test("^(?:tag|postmeta|meta)")


@dataclass
class MarkupMatches:
    """Per expression, the elements it selects, in document order."""

    author: list[list[Element]] = field(default_factory=lambda: [[], [], []])
    author_discard: list[Element] = field(default_factory=list)  # both discard expressions
    title: list[list[Element]] = field(default_factory=lambda: [[], [], []])
    category_containers: list[list[Element]] = field(default_factory=lambda: [[] for _ in range(6)])
    tag_containers: list[list[Element]] = field(default_factory=lambda: [[] for _ in range(4)])
    # The page has <rel> elements (no HTML element has that name): AUTHOR_XPATHS[0]'s ``rel='me'``
    # test reads a child's text, which pruning can change, so selections on the pruned tree may
    # differ from ``author`` here.
    has_rel_elements: bool = False
    # Elements marked as an author's (rel/itemprop "author", "author" in the class): where the
    # page spells the names (``metadata.restore_author_spelling``), not one of trafilatura's.
    author_marked: list[Element] = field(default_factory=list)


# Any class or id value a regex condition above can match contains one of these; most values
# contain none, and for them only the equality and prefix tests are left to run.
_CLASS_OR_ID_HINT = re.compile(
    "[Aa]uthor|zuozhe|bianji|xiaobian|channel-name|submitted-by|posted-by|journalist-name|screenname|writer|"
    "[Bb]yline|[Cc]omment|ProductReviews|sidebar|is-hidden|quote|embedly-instagram|article-|print|category|"
    "meta-|title|headline"
)


def scan(tree: Element) -> MarkupMatches:
    """Test every element of ``tree`` against every expression's condition.

    A plain walk of the tree: selecting the candidates by XPath first took longer than the walk.
    """
    rel_children = tree.find(".//rel") is not None  # the rel='me' test, for the rare page with <rel>
    found = MarkupMatches(has_rel_elements=rel_children)
    is_hinted = _HintCache()  # pages repeat their class names: each distinct value searched once
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments, processing instructions
        keys = element.keys()
        if not keys:
            if tag in _NAMED_AUTHOR_TAGS or (rel_children and tag in _AUTHOR_0_TAGS):
                _scan_author(found, element, tag, None, None, None, False, rel_children)
            continue
        get = element.get
        cls = get("class")
        ident = get("id")
        itemprop = get("itemprop")
        hinted = (cls is not None and is_hinted(cls)) or (ident is not None and is_hinted(ident))
        if (
            hinted
            or itemprop is not None
            or cls in _UNHINTED_AUTHOR_CLASSES
            or tag in _NAMED_AUTHOR_TAGS
            or rel_children
            or not _AUTHOR_ATTRIBUTES.isdisjoint(keys)
        ):
            _scan_author(found, element, tag, cls, ident, itemprop, hinted, rel_children)
        if hinted or itemprop is not None:  # every title condition needs one of them
            _scan_title(found, element, tag, cls, ident, itemprop)
        if (cls is not None or ident is not None) and (
            tag in _CATEGORY_TAGS
            or (cls is not None and ("entry-meta" in cls or "topics" in cls or "tags-links" in cls))
        ):  # the only conditions of _scan_categories_and_tags (links, the most common element, skip it)
            _scan_categories_and_tags(found, element, tag, cls or "", ident)
    return found


class _HintCache(dict[str, bool]):
    """value -> whether ``_CLASS_OR_ID_HINT`` occurs in it, searched on first sight."""

    def __call__(self, value: str) -> bool:
        hinted = self.get(value)
        if hinted is None:
            hinted = self[value] = _CLASS_OR_ID_HINT.search(value) is not None
        return hinted


# Tags the category and tag containers can have (but TAGS_XPATHS[3], any tag: tested by class).
_CATEGORY_TAGS = frozenset({"div", "p", "footer", "header", "li", "span"})
# What an element without a hinted class/id nor itemprop can still match by, in _scan_author.
_NAMED_AUTHOR_TAGS = frozenset({"author", "time", "figure"})
_UNHINTED_AUTHOR_CLASSES = frozenset({"username", "byl", "BBL", "date"})
_AUTHOR_ATTRIBUTES = frozenset({"rel", "data-testid", "data-component"})


def _scan_author(
    found: MarkupMatches,
    element: Element,
    tag: str,
    cls: str | None,
    ident: str | None,
    itemprop: str | None,
    hinted: bool,
    rel_children: bool,
) -> None:
    """``hinted``: ``cls`` or ``ident`` contains a ``_CLASS_OR_ID_HINT`` (else no regex can match);
    ``rel_children``: the page has a ``<rel>`` element somewhere."""
    get = element.get
    rel = get("rel")
    if rel == "author" or itemprop == "author" or (hinted and cls is not None and "author" in cls):
        found.author_marked.append(element)
    if tag == "author" or (
        tag in _AUTHOR_0_TAGS
        and (
            ident == "author"
            or cls == "author"
            or (hinted and cls is not None and _author_0_class(cls))
            or rel == "author"
            or itemprop == "author name"
            or get("data-testid") in ("AuthorCard", "AuthorURL")
            or (rel_children and _has_rel_me_child(element))
        )
    ):
        found.author[0].append(element)
    itemprop_author = itemprop is not None and "author" in itemprop
    if tag in _AUTHOR_1_TAGS and (
        cls in _AUTHOR_1_CLASSES
        or itemprop_author
        or (hinted and ident is not None and _author_1_id(ident))
        or (hinted and cls is not None and _author_1_class(cls))
    ):
        found.author[1].append(element)
    if (
        itemprop_author
        or (hinted and ident is not None and _author_2_id(ident))
        or (hinted and cls is not None and _author_2_class(cls))
        or "Byline" in (get("data-component") or "")
    ):
        found.author[2].append(element)
    if tag in ("time", "figure") or (
        tag in _DISCARD_TAGS
        and (
            ident == "comments"
            or cls in _DISCARD_CLASSES
            or (hinted and ident is not None and _discard_id(ident))
            or (hinted and cls is not None and _discard_class(cls))
            or "Figure" in (get("data-component") or "")
        )
    ):
        found.author_discard.append(element)


def _has_rel_me_child(element: Element) -> bool:
    """XPath ``rel='me'``: some child element named ``rel`` whose text is exactly "me"."""
    return any("".join(child.itertext()) == "me" for child in element.iterchildren("rel"))


def _scan_title(
    found: MarkupMatches, element: Element, tag: str, cls: str | None, ident: str | None, itemprop: str | None
) -> None:
    if tag in ("h1", "h2") and (
        (cls is not None and _title_0_class(cls))
        or (ident is not None and "headline" in ident)
        or (itemprop is not None and "headline" in itemprop)
    ):
        found.title[0].append(element)
    if cls in ("entry-title", "post-title"):
        found.title[1].append(element)
    if tag in ("h1", "h2", "h3") and ((cls is not None and "title" in cls) or (ident is not None and "title" in ident)):
        found.title[2].append(element)


def _scan_categories_and_tags(found: MarkupMatches, element: Element, tag: str, cls: str, ident: str | None) -> None:
    """``cls`` is "" when the attribute is missing: no condition here is true on an empty class."""
    categories, tags = found.category_containers, found.tag_containers
    if tag == "div":
        if _category_0_class(cls) or (ident is not None and ident.startswith("postpath")):
            categories[0].append(element)
        if cls in ("row", "tags"):
            categories[5].append(element)
        if cls == "tags":
            tags[0].append(element)
        if cls in _TAG_2_CLASSES or _tag_2_class(cls):
            tags[2].append(element)
    elif tag == "p":
        if cls.startswith(("postmeta", "entry-categories")) or cls == "postinfo" or ident == "filedunder":
            categories[1].append(element)
        if cls.startswith("entry-tags"):
            tags[1].append(element)
    elif tag == "footer":
        if cls.startswith(("entry-meta", "entry-footer")):
            categories[2].append(element)
    elif tag == "header" and cls == "entry-header":
        categories[4].append(element)
    if tag in ("li", "span") and (cls in _CATEGORY_3_CLASSES or "cat-links" in cls):
        categories[3].append(element)
    if cls == "entry-meta" or "topics" in cls or "tags-links" in cls:
        tags[3].append(element)


def links_below(containers: Iterable[Element]) -> list[Element]:
    """``<container>//a[@href]`` for every container, in document order, each link once."""
    seen: set[Element] = set()
    links: list[Element] = []
    for container in containers:
        for link in container.iterdescendants("a"):
            if link.get("href") is not None and link not in seen:
                seen.add(link)
                links.append(link)
    return links


def pruned_text(element: Element, discarded: set[Element]) -> str:
    """``" ".join(element.itertext())`` as it reads once every element of ``discarded`` is removed
    with trafilatura's ``delete_element`` (its tail joins the previous sibling's tail, or the
    parent's text), without copying the tree."""
    chunks: list[str] = []
    _collect_pruned(element, discarded, chunks)
    return " ".join(chunks)


def _collect_pruned(element: Element, discarded: set[Element], chunks: list[str]) -> None:
    pending = element.text  # the chunk still open: the element's text, or the last kept child's tail
    for child in element.iterchildren():
        if child in discarded:
            if child.tail:
                pending = (pending or "") + child.tail
            continue
        if pending is not None:
            chunks.append(pending)
        if isinstance(child.tag, str):
            _collect_pruned(child, discarded, chunks)
        pending = child.tail
    if pending is not None:
        chunks.append(pending)
