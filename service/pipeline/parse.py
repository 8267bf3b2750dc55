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
  pages) made lxml refuse the already-decoded text (422): it is dropped before parsing.

Every threshold below names the measurement it comes from (docs/limits.md has the tables).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from service.errors import NotAPage

# Attributes trafilatura and our cleaner read; everything else is noise for extraction.
KEPT_ATTRIBUTES = frozenset(
    [
        "id",
        "class",
        "href",
        "src",
        "srcset",
        "alt",
        "title",
        "lang",
        "itemprop",
        "itemtype",
        "itemscope",
        "property",
        "content",
        "name",
        "rel",
        "datetime",
        "charset",
        "http-equiv",
        "type",
        "role",
        "aria-label",
        "hidden",
        "style",
        "data-src",
    ]
)
# An element with more attributes than this gets only KEPT_ATTRIBUTES (real pages stay far below;
# libxml2 alone took 0.1 s at 2,000 attributes on one element, 5.9 s at 50,000).
MAX_ATTRIBUTES = 64
# Valid JSON-LD kept per page; the rest is dropped (real article metadata is a few KB). Measured
# on raw trafilatura 2.3.1: 256 KB 0.39 s, 1 MB 1.3 s, 5 MB 2.8 s (and 0.7 GB in the issue).
MAX_JSONLD_BYTES = 256 * 1024
# Invalid JSON-LD kept per page: trafilatura's regex fallback on broken JSON is quadratic
# ("author":[^}[]+?"names?"): 8 KB 0.08 s, 16 KB 0.26 s, 64 KB 3.1 s, 128 KB 9.8 s. Small broken
# blocks are still worth its salvage attempt; the budget is per page so 100 small blocks do not
# add up to minutes.
MAX_INVALID_JSONLD_BYTES = 8 * 1024
# The script types trafilatura's metadata stage reads (trafilatura.metadata.extract_meta_json).
_METADATA_JSON_TYPES = frozenset({"application/ld+json", "application/settings+json"})
# Tags unwrapped (text kept) when a tree is over the element cap: they carry no structure.
INLINE_WRAPPERS = ("span", "font", "b", "i", "em", "strong", "small", "u", "s", "abbr", "mark", "sup", "sub")
# Containers flattened when nesting is too deep; block tags that matter to extraction are kept.
FLATTENED_CONTAINERS = (
    "div",
    "span",
    "section",
    "article",
    "main",
    "font",
    "center",
    "table",
    "tbody",
    "thead",
    "tr",
    "td",
    "th",
    "form",
    "fieldset",
    "ins",
    "del",
    "b",
    "i",
    "em",
    "strong",
    "small",
    "big",
    "u",
    "s",
    "label",
    "dl",
    "dd",
    "dt",
    "figure",
    "figcaption",
)


# libxml2's depth cap with XML_PARSE_HUGE (xmlParserMaxDepth for huge trees): deeper content is
# silently dropped, so a tree this deep was cut by the parser and is flattened in the source.
LIBXML2_HUGE_DEPTH = 2048
# Depth at which a parsed tree counts as cut by that cap (the html/body wrappers come on top).
PARSER_CAP_DEPTH = LIBXML2_HUGE_DEPTH - 8
# Tags justext (trafilatura's last fallback) starts a paragraph on (justext.core.PARAGRAPH_TAGS);
# headings and structural containers are kept even when short.
_SHORT_BLOCK_TAGS = frozenset(
    [
        "blockquote",
        "caption",
        "center",
        "dd",
        "div",
        "dt",
        "fieldset",
        "legend",
        "li",
        "option",
        "p",
        "pre",
        "td",
        "th",
        "tr",
    ]
)
# justext's own threshold (length_low=50 in trafilatura's try_justext): shorter paragraphs are
# 'short' and each one scans its neighbours, which is what is quadratic.
SHORT_BLOCK_CHARS = 50
# Above this many short leaf blocks they are turned into lines of their parent. Measured on raw
# trafilatura 2.3.1: 5,000 short blocks 3.8 s, 10,000 15 s (t ~ 1.5e-7 x n^2), so 2,000 stays
# under 1 s of justext even on a loaded core, and real article pages stay well below it.
MAX_SHORT_BLOCKS = 2_000
# Temporary tag of short blocks about to be unwrapped (not an HTML name, so never on a page).
_LINE_MARK = "pagecleaner-line"
# Children that make an element a container rather than a short line.
_BLOCK_BOUNDARIES = frozenset(
    [
        "table",
        "tbody",
        "thead",
        "tfoot",
        "ul",
        "ol",
        "dl",
        "section",
        "article",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
    ]
)
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


def _parser() -> lxml.html.HTMLParser:
    # A fresh parser per page: parsers keep state and are not to be shared across threads.
    return lxml.html.HTMLParser(
        huge_tree=True,  # lifts libxml2's 256-level depth limit; we bound depth ourselves
        remove_blank_text=False,
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        collect_ids=False,
        default_doctype=False,
    )


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
    root = _ensure_html_root(root)
    _trim_attribute_lists(root, warnings)
    _defuse_json_ld(root, warnings)
    _bound_size(root, max_elements, warnings)
    _bound_depth(root, max_depth, warnings)
    _bound_short_blocks(root, warnings)
    return ParsedPage(tree=root, warnings=list(dict.fromkeys(warnings)))


def _parse(html: str) -> lxml.html.HtmlElement:
    try:
        root = lxml.html.document_fromstring(html, parser=_parser())
    except (etree.ParserError, ValueError) as error:
        raise NotAPage("The body could not be parsed as HTML.") from error
    if root is None:
        raise NotAPage("The body could not be parsed as HTML.")
    return root


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


def _ensure_html_root(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Wrap documents whose root is not <html> (an <svg>, <label>, <embed> ... root made
    trafilatura raise AssertionError, issue 4)."""
    if root.tag == "html":
        return root
    html = lxml.html.Element("html")
    body = etree.SubElement(html, "body")
    body.append(root)
    return html


def _trim_attribute_lists(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
    trimmed = False
    for element in root.xpath(f"//*[count(@*) > {MAX_ATTRIBUTES}]"):
        attrib = element.attrib
        if len(attrib) > MAX_ATTRIBUTES:
            kept = {k: v for k, v in attrib.items() if k in KEPT_ATTRIBUTES}
            attrib.clear()
            attrib.update(kept)
            trimmed = True
    if trimmed:
        warnings.append("attributes-trimmed")


def _defuse_json_ld(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
    """Empty the JSON blocks trafilatura would spend seconds on (budgets are per page)."""
    valid_left, invalid_left = MAX_JSONLD_BYTES, MAX_INVALID_JSONLD_BYTES
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() not in _METADATA_JSON_TYPES:
            continue
        text = script.text or ""
        if not text:
            continue
        if _is_json(text):
            if len(text) <= valid_left:
                valid_left -= len(text)
                continue
        elif len(text) <= invalid_left:
            invalid_left -= len(text)
            continue
        script.text = ""
        if "json-ld-dropped" not in warnings:
            warnings.append("json-ld-dropped")


def _is_json(text: str) -> bool:
    try:
        json.loads(text, strict=False)  # as trafilatura reads it
    except (ValueError, RecursionError):
        return False
    return True


def _bound_size(root: lxml.html.HtmlElement, max_elements: int, warnings: list[str]) -> None:
    """Unwrap inline wrappers, then drop everything after the ``max_elements``-th element.

    Counting and cutting are done by XPath and slice deletion: a Python walk over a 9 MB page's
    180,000 elements alone took ~2 s.
    """
    if _count_elements(root) <= max_elements:
        return
    etree.strip_tags(root, *INLINE_WRAPPERS)
    if _count_elements(root) <= max_elements:
        _merge_text_nodes(root)
        warnings.append("inline-markup-unwrapped")
        return
    last = root.xpath(f"(//*)[{max_elements}]")[0]
    del last[:]
    node = last
    while (parent := node.getparent()) is not None:
        del parent[parent.index(node) + 1 :]
        node = parent
    _merge_text_nodes(root)
    warnings.append("page-truncated")


def _count_elements(root: lxml.html.HtmlElement) -> int:
    return int(root.xpath("count(//*)"))


def _bound_depth(root: lxml.html.HtmlElement, max_depth: int, warnings: list[str]) -> None:
    """Flatten containers below ``max_depth`` so deep content reaches the extractor."""
    deep = _elements_at_depth(root, max_depth)
    if not deep:
        return
    for element in deep:
        etree.strip_tags(element, *FLATTENED_CONTAINERS)
    # Whatever still nests too deep (e.g. thousands of nested <p> or <blockquote>) loses its tags.
    for element in _elements_at_depth(root, max_depth):
        etree.strip_tags(element, "*")
    _merge_text_nodes(root)
    warnings.append("nesting-flattened")


def _merge_text_nodes(root: lxml.html.HtmlElement) -> None:
    """Join the adjacent text nodes ``strip_tags`` leaves behind.

    200,000 unwrapped ``<i>x</i>`` left 200,000 text nodes in one element, on which htmldate's
    date search inside trafilatura ran for minutes; reassigning ``.text``/``.tail`` stores one.
    """
    for element in root.iter():
        if element.text:
            element.text = element.text
        if element.tail:
            element.tail = element.tail


def _bound_short_blocks(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
    """Turn short leaf blocks into lines of their parent when there are too many of them."""
    _collapse_line_break_runs(root, warnings)
    # Fewer block elements than the cap means fewer short leaves too: counting them spares
    # the leaf test on article pages, which stay far below the cap (0.65 -> 0.2 ms/page, mozilla set).
    if _count_short_block_tags(root) <= MAX_SHORT_BLOCKS:
        return
    candidates = [e for e in root.iter(*_SHORT_BLOCK_TAGS) if _is_short_leaf(e)]
    if len(candidates) <= MAX_SHORT_BLOCKS:
        return
    # Reverse document order visits children before parents, so a wrapper whose only block
    # children were just turned into lines is itself a short leaf when its turn comes.
    # Marked elements are unwrapped in one strip_tags pass: drop_tag() one by one is quadratic in
    # the number of siblings.
    for element in reversed(list(root.iter(*_SHORT_BLOCK_TAGS))):
        if element.getparent() is not None and _is_short_leaf(element):
            etree.SubElement(element, "br")
            element.tag = _LINE_MARK
    etree.strip_tags(root, _LINE_MARK)
    _merge_text_nodes(root)
    warnings.append("short-blocks-merged")


def _collapse_line_break_runs(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
    """``<br><br>`` also starts a justext paragraph: past MAX_SHORT_BLOCKS, runs become one ``<br>``."""
    breaks = list(root.iter("br"))
    if len(breaks) <= MAX_SHORT_BLOCKS:
        return
    doomed = []
    for br in breaks:
        previous = br.getprevious()
        if previous is not None and previous.tag == "br" and not (previous.tail or "").strip():
            doomed.append(br)
    for br in doomed:
        br.tag = _LINE_MARK
    etree.strip_tags(root, _LINE_MARK)
    if doomed:
        _merge_text_nodes(root)
        warnings.append("short-blocks-merged")


def _count_short_block_tags(root: lxml.html.HtmlElement) -> int:
    # Counting by iteration: 0.2 ms/page on the mozilla set; an XPath count(//*[self::p or ...])
    # took 1.1 ms, the full short-leaf test 0.65 ms.
    return sum(1 for _ in root.iter(*_SHORT_BLOCK_TAGS))


def _is_short_leaf(element: lxml.html.HtmlElement) -> bool:
    for child in element:
        if isinstance(child.tag, str) and child.tag in _SHORT_BLOCK_TAGS | _BLOCK_BOUNDARIES:
            return False
    size = 0
    for text in element.itertext():
        size += len(text.strip())
        if size >= SHORT_BLOCK_CHARS:
            return False
    return True


def _elements_at_depth(root: lxml.html.HtmlElement, depth: int) -> list[etree._Element]:
    """Elements exactly ``depth`` levels below the root that have children (one XPath)."""
    return list(root.xpath("/*" * (depth + 1) + "[*]"))
