"""HTML text to an lxml tree that is safe to hand to trafilatura.

This is where the pathological pages of issue 4 are defused, each by the cheapest rule that
keeps the article:
- libxml2 stops building the tree at 256 levels (trafilatura then returned the navigation as
  the article): we parse with ``huge_tree`` and flatten containers below ``max_depth`` instead;
- one element with tens of thousands of attributes took trafilatura 51 s: such lists are cut to
  the attributes extraction reads;
- large or invalid JSON-LD blocks send trafilatura's metadata regexes into backtracking: blocks
  that are too large, or invalid and not small, are dropped before extraction;
- trees with hundreds of thousands of elements take minutes: inline wrappers are unwrapped, then
  the tree is truncated at ``max_elements``;
- no entity, DTD or XInclude is ever resolved (HTML parser, ``resolve_entities=False``,
  ``no_network=True``), so no local file can leak into an answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from service.errors import NotAPage

# Attributes trafilatura and our cleaner read; everything else is noise for extraction.
KEPT_ATTRIBUTES = frozenset(
    "id class href src srcset alt title lang itemprop itemtype itemscope property content name rel "
    "datetime charset http-equiv type role aria-label hidden style data-src".split()
)
# An element with more attributes than this gets only KEPT_ATTRIBUTES (real pages stay far below).
MAX_ATTRIBUTES = 64
# JSON-LD blocks larger than this are dropped (real article metadata is a few KB).
MAX_JSONLD_BYTES = 256 * 1024
# Invalid JSON-LD above this size is dropped: trafilatura's regex fallback on broken JSON is what
# backtracks; small broken blocks are still worth its salvage attempt.
MAX_INVALID_JSONLD_BYTES = 8 * 1024
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
    try:
        root = lxml.html.document_fromstring(html, parser=_parser())
    except (etree.ParserError, ValueError) as error:
        raise NotAPage("The body could not be parsed as HTML.") from error
    if root is None:
        raise NotAPage("The body could not be parsed as HTML.")
    root = _ensure_html_root(root)
    _trim_attribute_lists(root, warnings)
    _defuse_json_ld(root, warnings)
    _bound_size(root, max_elements, warnings)
    _bound_depth(root, max_depth, warnings)
    return ParsedPage(tree=root, warnings=warnings)


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
    for element in root.iter(etree.Element):
        attrib = element.attrib
        if len(attrib) > MAX_ATTRIBUTES:
            kept = {k: v for k, v in attrib.items() if k in KEPT_ATTRIBUTES}
            attrib.clear()
            attrib.update(kept)
            trimmed = True
    if trimmed:
        warnings.append("attributes-trimmed")


def _defuse_json_ld(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        drop = len(text) > MAX_JSONLD_BYTES
        if not drop and len(text) > MAX_INVALID_JSONLD_BYTES:
            try:
                json.loads(text)
            except ValueError:
                drop = True
        if drop:
            script.text = ""
            if "json-ld-dropped" not in warnings:
                warnings.append("json-ld-dropped")


def _bound_size(root: lxml.html.HtmlElement, max_elements: int, warnings: list[str]) -> None:
    if _count_elements(root) <= max_elements:
        return
    etree.strip_tags(root, *INLINE_WRAPPERS)
    count = 0
    doomed: list[etree._Element] = []
    for element in root.iter():
        count += 1
        if count > max_elements:
            doomed.append(element)
    if not doomed:
        warnings.append("inline-markup-unwrapped")
        return
    for element in doomed:
        parent = element.getparent()
        if parent is not None:
            element.tail = None
            parent.remove(element)
    warnings.append("page-truncated")


def _count_elements(root: lxml.html.HtmlElement) -> int:
    return sum(1 for _ in root.iter())


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
    warnings.append("nesting-flattened")


def _elements_at_depth(root: lxml.html.HtmlElement, depth: int) -> list[etree._Element]:
    """Elements exactly ``depth`` levels down that have children (iterative: no recursion limit)."""
    found: list[etree._Element] = []
    stack: list[tuple[etree._Element, int]] = [(root, 0)]
    while stack:
        element, level = stack.pop()
        if level == depth:
            if len(element):
                found.append(element)
            continue
        stack.extend((child, level + 1) for child in element)
    return found
