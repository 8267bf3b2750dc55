"""HTML text to an lxml tree that is safe to hand to trafilatura.

This is where the pathological pages of issue 4 are defused, each by the cheapest rule that
keeps the article:
- libxml2 stops building the tree at 256 levels (trafilatura then returned the navigation as
  the article): we parse with ``huge_tree`` and flatten containers below ``max_depth`` instead;
  with ``huge_tree`` libxml2 still stops at 2,048 levels, so a tree that reaches that cap is
  flattened in the source text (the deep container tags removed) and parsed again;
- one element with tens of thousands of attributes took trafilatura 51 s, and libxml2 alone
  ~6 s (its duplicate-attribute check is quadratic): such lists are cut in the source text,
  before libxml2 sees them, to the attributes extraction reads;
- thousands of short blocks in a row (a 10,000-item list, a page of tiny ``<div>``) make the
  justext fallback inside trafilatura quadratic (3.8 s at 5,000, 15 s at 10,000): above
  ``MAX_SHORT_BLOCKS`` such blocks become lines (``text<br>``) of their parent;
- large or invalid JSON-LD blocks send trafilatura's metadata regexes into backtracking: blocks
  that are too large, or invalid and not small, are dropped before extraction;
- trees with hundreds of thousands of elements take minutes: inline wrappers are unwrapped, then
  the tree is truncated at ``max_elements``;
- no entity, DTD or XInclude is ever resolved (libxml2's HTML parser never loads external
  entities or DTDs, ``no_network=True``, no XInclude processing), so no local file can leak
  into an answer;
- an XML declaration with an encoding (``<?xml version="1.0" encoding="utf-8"?>``, XHTML
  pages) made lxml refuse the already-decoded text (422): it is dropped before parsing;
- ``<noframes>`` holds raw text for libxml2 (as for the HTML standard's parser), so its markup
  came back as literal tags in ``text`` (s20 audit): see ``_read_noframes``;
- ``<template>`` content, which no browser renders, came back as text (an AMP page's mustache
  lines, ``{{#title}}``, through readability's blocks; s21 fidelity audit): see ``_drop_templates``;
  an inline quotation (``<q>``) became a block quote, three lines out of one sentence: unwrapped.

The rules that work on the source text (before libxml2 sees it) live here; the bounds on the
parsed tree are in ``tree_bounds``. Every threshold names the measurement it comes from
(docs/limits.md has the tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from service.errors import NotAPage
from service.pipeline import tree_bounds
from service.pipeline.tree_bounds import KEPT_ATTRIBUTES, MAX_ATTRIBUTES

# libxml2's depth cap with XML_PARSE_HUGE (xmlParserMaxDepth for huge trees): deeper content is
# silently dropped, so a tree this deep was cut by the parser and is flattened in the source.
LIBXML2_HUGE_DEPTH = 2048
# Depth at which a parsed tree counts as cut by that cap (the html/body wrappers come on top).
PARSER_CAP_DEPTH = LIBXML2_HUGE_DEPTH - 8
# Start tag carrying more than MAX_ATTRIBUTES attributes, matched without backtracking (possessive
# quantifiers, Python >= 3.11): every attempt reads one tag once.
# The tag name is what libxml2 reads as one (letters, digits, "_:.-") and must be followed by a
# space or "/": minified scripts hold "i<e.length;..." runs that an unconstrained name matched as
# a crowded tag; trimming them cut the script's "</script" and the page's text went into the
# script (3 pages of the trafilatura set came out empty or partial, 9 snippets lost). Names and
# unquoted values stop at "<" for the same reason: a match never runs into the next tag.
_TAG_NAME_PATTERN = r"<[A-Za-z][A-Za-z0-9_:.-]*+(?=[\s/])"
_ATTRIBUTE = r"""[\s/]*+[^\s/>=<]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s<>]++))?+"""
_CROWDED_START_TAG = re.compile(rf"{_TAG_NAME_PATTERN}(?:{_ATTRIBUTE}){{{MAX_ATTRIBUTES + 1},}}+")
_ONE_ATTRIBUTE = re.compile(r"""[\s/]*+([^\s/>=<]++)(\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s<>]++))?+""")
_TAG_NAME = re.compile(_TAG_NAME_PATTERN)
# lxml refuses a str that starts with an XML declaration naming an encoding (ValueError).
_XML_DECLARATION = re.compile(r"^\ufeff?\s*+<\?xml[^>]{0,500}?\?>")
# A start or end tag, for flattening in the source: bounded by the next '<' so that attempts
# never overlap (linear time even on "<a<a<a...").
_SOURCE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*+)[^<>]*+>")


@dataclass
class ParsedPage:
    tree: lxml.html.HtmlElement
    warnings: list[str] = field(default_factory=list)


# Every element object lxml hands to Python goes through the parser's class lookup. lxml.html's
# lookup is Python code (it picks form/input/label classes by tag), run ~6,000 times a page
# inside trafilatura, readability and htmldate; this C lookup gives every element the plain
# ``HtmlElement`` class, which is all those libraries use. Measured on 205 pages of both bench
# sets: 33.1 -> 30.5 ms/page, identical texts on every page.
_CLASS_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)


def _parser() -> lxml.html.HTMLParser:
    # A fresh parser per page: parsers keep state and are not to be shared across threads.
    parser = lxml.html.HTMLParser(
        huge_tree=True,  # lifts libxml2's 256-level depth limit; we bound depth ourselves
        remove_blank_text=False,
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        collect_ids=False,
        default_doctype=False,
    )
    parser.set_element_class_lookup(_CLASS_LOOKUP)
    return parser


def parse_html(html: str, max_elements: int, max_depth: int) -> ParsedPage:
    """Parse ``html`` into a bounded tree.

    Raises:
        NotAPage: nothing parseable is left.
    """
    warnings: list[str] = []
    html = _XML_DECLARATION.sub("", html, count=1)
    html = _trim_attributes_in_source(html, warnings)
    root = _parse(html)
    deep_tags = _tags_below(root, PARSER_CAP_DEPTH)
    if deep_tags:
        # libxml2 dropped everything below its cap: remove the deep containers from the source.
        root = _parse(_flatten_source(html, deep_tags, max(1, max_depth // 2)))
        warnings.append("nesting-flattened")
    root = tree_bounds.ensure_html_root(root)
    _read_noframes(root)
    _drop_templates(root)
    etree.strip_tags(root, _INLINE_QUOTE)
    tree_bounds.trim_attribute_lists(root, warnings)
    tree_bounds.defuse_json_ld(root, warnings)
    tree_bounds.bound_size(root, max_elements, warnings)
    tree_bounds.bound_depth(root, max_depth, warnings)
    tree_bounds.bound_short_blocks(root, warnings)
    return ParsedPage(tree=root, warnings=list(dict.fromkeys(warnings)))


def _parse(html: str) -> lxml.html.HtmlElement:
    try:
        root = lxml.html.document_fromstring(html, parser=_parser())
    except (etree.ParserError, ValueError) as error:
        raise NotAPage("The body could not be parsed as HTML.") from error
    if root is None:
        raise NotAPage("The body could not be parsed as HTML.")
    return root


def _read_noframes(root: lxml.html.HtmlElement) -> None:
    """Read ``<noframes>`` as a browser that renders no frames does, in place.

    A browser shows a frameset's frames and never its ``noframes`` (the HTML standard's style
    sheet hides it); one that renders no frames shows the ``noframes`` content as a body
    (Firefox with frames off). The service loads no frames, so a frameset document is read
    the second way: its ``noframes`` markup, parsed as HTML, becomes the body in place of the
    frameset. Anywhere else (in a page's body or head) a ``noframes`` is what every browser
    hides, usually a "needs frames" notice: dropped.
    """
    noframes = list(root.iter("noframes"))
    if not noframes:
        return
    markup = "".join(element.text or "" for element in noframes)
    for element in noframes:
        element.drop_tree()  # its tail (the text after it) stays
    frameset = root.find("frameset")
    if frameset is None or not markup.strip():
        return
    try:
        body = _parse(markup).find("body")
    except NotAPage:  # markup that parses to nothing (a comment): the page stays a frameset
        return
    if body is not None:
        root.replace(frameset, body)


# ``<q>`` is an inline quotation (phrasing content, rendered in the line with quotation marks by
# CSS); trafilatura made it a block quote, so a sentence quoting a phrase came back as three
# lines ("He said\nthis is quoted\n, and went on"; 4 pages of the bench). Unwrapped, its words
# stay in their sentence; no marks are added (pages often write them around it already).
_INLINE_QUOTE = "q"
# A template a browser does render: a declarative shadow root (its content is the host's shadow
# tree, shown in the page).
_SHADOW_ROOT_ATTRIBUTES = ("shadowrootmode", "shadowroot")


def _drop_templates(root: lxml.html.HtmlElement) -> None:
    """Remove ``<template>`` elements with their content, in place (their tails stay).

    A template's content is a script's raw material, never rendered (HTML standard: "the
    template contents are not rendered"); trafilatura only unwraps the tag, and readability kept
    such content as an article block. A declarative shadow root's template is unwrapped instead:
    a browser shows its content.
    """
    for template in list(root.iter("template")):
        if any(template.get(name) is not None for name in _SHADOW_ROOT_ATTRIBUTES):
            template.drop_tag()
        elif template.getparent() is not None:
            template.drop_tree()


def _trim_attributes_in_source(html: str, warnings: list[str]) -> str:
    """Cut start tags with more than MAX_ATTRIBUTES attributes to KEPT_ATTRIBUTES, in the text.

    libxml2 is quadratic in the attributes of one element, so this must happen before parsing.
    """
    if html.count("=") <= MAX_ATTRIBUTES:
        return html

    def trim(match: re.Match[str]) -> str:
        tag = match.group(0)
        name = _TAG_NAME.match(tag)
        assert name is not None  # the pattern starts with the same expression
        kept: dict[str, str] = {}
        for attribute in _ONE_ATTRIBUTE.finditer(tag, name.end()):
            key = attribute.group(1).lower()
            if key in KEPT_ATTRIBUTES and key not in kept and len(kept) < MAX_ATTRIBUTES:
                kept[key] = " " + attribute.group(1) + (attribute.group(2) or "")
        return name.group(0) + "".join(kept.values())

    trimmed, count = _CROWDED_START_TAG.subn(trim, html)
    if count:
        warnings.append("attributes-trimmed")
    return trimmed


def _tags_below(root: lxml.html.HtmlElement, depth: int) -> set[str]:
    """Tag names of the elements deeper than ``depth`` (one XPath: no Python walk of the tree)."""
    deeper = root.xpath("/*" * (depth + 1) + "/descendant-or-self::*")
    return {e.tag for e in deeper if isinstance(e.tag, str)} - {"html", "head", "body"}


def _flatten_source(html: str, tags: set[str], keep_depth: int) -> str:
    """Remove the start and end tags of ``tags`` nested deeper than ``keep_depth``, in the text."""
    depth = 0

    def visit(match: re.Match[str]) -> str:
        nonlocal depth
        if match.group(2).lower() not in tags:
            return match.group(0)
        if match.group(1):  # end tag
            depth = max(0, depth - 1)
            return "" if depth >= keep_depth else match.group(0)
        depth += 1
        return "" if depth > keep_depth else match.group(0)

    return _SOURCE_TAG.sub(visit, html)
