"""The ``include``/``exclude`` options: CSS selectors applied to the parsed tree before extraction.

``exclude`` drops every element it matches (the text after it stays); then, with ``include``,
the body keeps only what it matches, in page order, each kept once (a match inside another
match comes with its ancestor). The head stays, so metadata (title, dates, authors) still comes
from the whole page. Selectors were checked when the options were parsed (``models.Options``).
A page cleaned as plain text has no elements to select: there they are ignored, and the answer
says so (``ignored_in_text_mode``, called by ``text_mode``).
"""

from __future__ import annotations

import lxml.html
from lxml.cssselect import CSSSelector

from service.models import Options

INCLUDE_MATCHED_NOTHING = "include-matched-nothing"


def apply_selectors(tree: lxml.html.HtmlElement, options: Options) -> list[str]:
    """Apply ``options.exclude`` then ``options.include`` to ``tree`` in place; returns warnings."""
    body = tree.find("body")
    for element in _matches(tree, options.exclude):
        if element is body:
            body.clear()  # emptied, not removed: later stages expect a body
        elif element is not tree:  # the root cannot go: the page would have no tree at all
            element.drop_tree()
    if not options.include:
        return []
    if body is None:
        body = lxml.html.Element("body")
        tree.append(body)
    matches = _matches(tree, options.include)
    if any(element is body or element is tree for element in matches):
        return []  # the whole body was asked for
    kept = _outermost(matches)
    for element in kept:
        element.tail = None  # the text after a match is its context, not part of it
        element.getparent().remove(element)
    body.clear()  # also drops its attributes: lang and dir stay on <html>, where they usually are
    body.extend(kept)
    return [] if kept else [INCLUDE_MATCHED_NOTHING]


def ignored_in_text_mode(options: Options) -> list[str]:
    """The warnings of a page cleaned as plain text, which has no elements to select: each of
    ``include``/``exclude`` that was given is said ignored (the s20 audit found them silently
    dropped)."""
    warnings: list[str] = []
    if options.include:
        warnings.append("include-ignored")
    if options.exclude:
        warnings.append("exclude-ignored")
    return warnings


def _matches(tree: lxml.html.HtmlElement, selectors: tuple[str, ...]) -> list[lxml.html.HtmlElement]:
    """Every element any of ``selectors`` matches, once each, in document order."""
    if not selectors:
        return []
    found: set[lxml.html.HtmlElement] = set()
    for selector in selectors:
        found.update(CSSSelector(selector)(tree))
    return [element for element in tree.iter() if element in found]


def _outermost(elements: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    """``elements`` without those inside another one of them (document order kept)."""
    chosen = set(elements)
    return [element for element in elements if not any(a in chosen for a in element.iterancestors())]
