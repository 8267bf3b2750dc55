"""Where the authors come from when trafilatura's metadata names none: the page's own author
meta tag, a byline hCard or author link, a byline in plain text (each read from the parsed page,
outside the comments). ``page_authors`` tries them in that order, the most explicit first.

Measured with ``bench/metadata.py`` on the development sets' author annotations; each function
says what it gained.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from service.pipeline import clutter_patterns as cp


def page_authors(tree: lxml.html.HtmlElement) -> list[str]:
    """The first of the page's own author signals that names someone, else []."""
    return _meta_authors(tree) or _byline_card_authors(tree) or _text_byline_authors(tree)


# An hCard author ("<span class='author vcard'><a class='fn'>Daniel</a>", WordPress's byline), or a
# link marked rel=author, outside comments (whose hCards are the commenters'). trafilatura's
# author search first prunes every element whose class mentions "category", and WordPress's post
# container has "category-<name>" among its classes: the byline goes with it. On the trafilatura
# set's 538 author-annotated pages: authors 0.646 -> 0.670 (27 pages better than trafilatura's, the
# same 4 worse).
_BYLINE_CARDS = etree.XPath(
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' author ')]"
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' fn ')] | //a[@rel='author']"
)
_COMMENT_BOX = re.compile(r"comment", re.IGNORECASE)


def _in_comments(element: etree._Element) -> bool:
    """Inside a container whose id or class says comment: a commenter's name is no author."""
    return any(_COMMENT_BOX.search(f"{a.get('id', '')} {a.get('class', '')}") for a in element.iterancestors())


def _byline_card_authors(tree: lxml.html.HtmlElement) -> list[str]:
    """The first byline card's or author link's name, when nothing else named an author."""
    for element in _BYLINE_CARDS(tree):
        if _in_comments(element):
            continue
        name = BY_PREFIX.sub("", " ".join("".join(element.itertext()).split()))
        if 1 < len(name) <= MAX_META_AUTHOR_CHARS and not name.casefold().startswith(("http", "www.")):
            return [name]
    return []


MAX_TEXT_BYLINE_CHARS = 100


def _text_byline_authors(tree: lxml.html.HtmlElement) -> list[str]:
    """The names of the first element outside the comments whose whole text is a byline ("von
    Alexander Rosenkranz", "By Jane Doe | 3 May"), when nothing else named an author: bylines
    without markup that trafilatura's author search would know. The first in the page: a teaser's
    byline further down is no rival. On the trafilatura set's 538 author-annotated pages: authors
    0.670 -> 0.679 (32 pages better than trafilatura's, the same 4 worse); it names an author on 18
    of the 1,174 development pages, the other two sets' scores unchanged."""
    for element in tree.iter("span", "div", "p", "li", "small", "address", "em", "strong", "b", "i", "td"):
        # Only an element whose own text starts with a byline label is read whole.
        if not element.text or not cp.BYLINE_START.match(element.text):
            continue
        text = " ".join("".join(element.itertext()).split())
        if len(text) > MAX_TEXT_BYLINE_CHARS or not cp.looks_like_byline(text):
            continue
        names = [name.rstrip(".,;:") for name in cp.byline_names(text) or []]
        if names and all(_looks_like_a_name(n) for n in names) and not _in_comments(element):
            return names
    return []


def _looks_like_a_name(name: str) -> bool:
    """Capitalised words (or a script without case), not a date or a sentence's start."""
    words = name.split()
    return 0 < len(words) <= 4 and all(not w[0].isalpha() or not w[0].islower() for w in words)


def _meta_authors(tree: lxml.html.HtmlElement) -> list[str]:
    """``<meta name="author">`` when trafilatura found no author (it rejects e.g. CJK names)."""
    for content in tree.xpath('//meta[@name="author"]/@content'):
        names = [" ".join(n.split()) for n in AUTHOR_SEPARATORS.split(str(content))]
        names = [n for n in names if 0 < len(n) <= MAX_META_AUTHOR_CHARS]
        if names:
            return list(dict.fromkeys(names))
    return []


# A meta author longer than this is a description or a site slogan, not a name.
MAX_META_AUTHOR_CHARS = 60

# Separators between names, or between a name and a date ("by gravelgreta » Sun Feb 11").
AUTHOR_SEPARATORS = re.compile(r"\s*[;,»|·•]\s*|\s+(?:and|und|y|et)\s+")
BY_PREFIX = re.compile(r"^(?:by|von|por|par)\s+", re.IGNORECASE)
