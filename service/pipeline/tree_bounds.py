"""Bounds on a parsed tree, applied before trafilatura sees it (issue 4).

Each rule defuses one kind of pathological page with the cheapest change that keeps the
article: attribute lists cut to what extraction reads, JSON-LD that makes trafilatura's regexes
backtrack dropped (the rest has its HTML character references decoded), inline wrappers
unwrapped and huge trees truncated, deep containers flattened, and long runs of short blocks
(quadratic in trafilatura's justext fallback) turned into lines. ``parse.parse_html`` calls
them in order; every threshold names its measurement (docs/limits.md has the tables).
"""

from __future__ import annotations

import html
import json
import re

import lxml.html
from lxml import etree

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
# A JSON block wrapped for old XHTML parsers: "<![CDATA[ {...} ]]>" or "<!-- {...} -->", each
# marker maybe behind "//". trafilatura's json.loads fails on the wrapper and its regex fallback
# then salvages little (or nothing: the block is over the invalid budget); unwrapped, the block is
# valid JSON and read whole (a Readability.js test page's only author was in such a block).
_JSON_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)(?P<json>.*?)(?://\s*)?(?:\]\]>|-->)\s*$", re.S)
# An HTML character reference in a JSON string ("Redacci&oacute;n", "Food &amp; Drink"): the CMS
# escaped the value for HTML, but a script's text is never unescaped by the parser, so the
# reference reached the answer as is, or an author's name was split at its ";". Only whole
# references (with the ";"): "AT&T" or "&copy 2024" stay as they are. Those of markup and JSON
# syntax (``<``, ``>``, ``"``, ``\\``, control characters) stay too: trafilatura strips tags
# from the whole JSON text, so decoded markup inside a string could break the JSON (a page's
# escaped links then made it fall back to a regex that took reviewers for authors).
_CHARACTER_REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_KEPT_AS_REFERENCES = frozenset('<>"\\')
# Tags unwrapped (text kept) when a tree is over the element cap: they carry no structure.
INLINE_WRAPPERS = ("span", "font", "b", "i", "em", "strong", "small", "u", "s", "abbr", "mark", "sup", "sub")
# Levels left below flattened containers for what they held (a paragraph and its inline
# markup, a list in a list): only deeper nesting than that loses its tags.
FLATTEN_HEADROOM = 16
_TABLE_STRUCTURE = frozenset({"table", "thead", "tbody", "tfoot", "tr"})
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
# trafilatura 2.3.1: 5,000 short blocks 3.8 s, 10,000 15 s (t ~ 1.5e-7 x n^2); real article pages
# stay well below it (the most on the bench: 1,344). The constant depends on the page: a fuzzed
# page of 1,765 short blocks and almost no prose took 1.0-1.4 s in the whole pipeline (justext
# scans further for a neighbour when nearly every block is short), inside the time budget.
MAX_SHORT_BLOCKS = 2_000
# Line breaks kept of a run when a page is over the element cap: two still mark a paragraph break.
KEPT_LINE_BREAKS = 2
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


# Tags whose end starts a new line: justext's paragraph tags, headings and line breaks.
LINE_TAGS = frozenset(_SHORT_BLOCK_TAGS | {"h1", "h2", "h3", "h4", "h5", "h6", "br"})


def ensure_html_root(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Wrap documents whose root is not <html> (an <svg>, <label>, <embed> ... root made
    trafilatura raise AssertionError, issue 4)."""
    if root.tag == "html":
        return root
    html = lxml.html.Element("html")
    body = etree.SubElement(html, "body")
    body.append(root)
    return html


def trim_attribute_lists(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
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


def defuse_json_ld(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
    """Empty the JSON blocks trafilatura would spend seconds on (budgets are per page)."""
    valid_left, invalid_left = MAX_JSONLD_BYTES, MAX_INVALID_JSONLD_BYTES
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() not in _METADATA_JSON_TYPES:
            continue
        text = script.text or ""
        if not text:
            continue
        wrapped = _JSON_WRAPPER.match(text)
        if wrapped and _is_json(wrapped["json"]):
            text = script.text = wrapped["json"]
            valid = True
        else:
            valid = _is_json(text)
        if valid:
            if "&" in text:
                text = script.text = _decode_character_references(text)
            if len(text) <= valid_left:
                valid_left -= len(text)
                continue
        elif len(text) <= invalid_left:
            invalid_left -= len(text)
            continue
        script.text = ""
        if "json-ld-dropped" not in warnings:
            warnings.append("json-ld-dropped")


def _decode_character_references(json_text: str) -> str:
    """Valid JSON with its HTML character references replaced by their characters, but for those
    of markup and JSON syntax (see ``_CHARACTER_REFERENCE``): the text stays the same JSON."""
    return _CHARACTER_REFERENCE.sub(_plain_character, json_text)


def _plain_character(reference: re.Match[str]) -> str:
    decoded = html.unescape(reference[0])
    return reference[0] if any(c in _KEPT_AS_REFERENCES or c < " " for c in decoded) else decoded


def _is_json(text: str) -> bool:
    try:
        json.loads(text, strict=False)  # as trafilatura reads it
    except (ValueError, RecursionError):
        return False
    return True


def bound_size(root: lxml.html.HtmlElement, max_elements: int, warnings: list[str]) -> None:
    """Unwrap inline wrappers, then drop everything after the ``max_elements``-th element.

    Counting and cutting are done by XPath and slice deletion: a Python walk over a 9 MB page's
    180,000 elements alone took ~2 s.
    """
    if _count_elements(root) <= max_elements:
        return
    # Line-break runs carry no text: a page of 30,000 <br> kept 1 of 6 paragraphs (issue 24).
    if _drop_line_break_runs(root, KEPT_LINE_BREAKS) and _count_elements(root) <= max_elements:
        _merge_text_nodes(root)
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


def bound_depth(root: lxml.html.HtmlElement, max_depth: int, warnings: list[str]) -> None:
    """Flatten containers below ``max_depth`` so deep content reaches the extractor."""
    if not _elements_at_depth(root, max_depth):
        return
    # Containers are flattened from a little above the cap, so that the paragraphs they held
    # keep their tags: flattened at the cap itself, a paragraph one level below it lost its
    # tags in the pass below, and 100 nested tables gave "…the cleaner.Second paragraph".
    for element in _elements_at_depth(root, max(1, max_depth - FLATTEN_HEADROOM)):
        # A table is flattened from its cell's side: a row or table left holding paragraphs
        # is no table, and trafilatura rendered it as a stray "| … |" line.
        while element.tag in _TABLE_STRUCTURE and element.getparent() is not None:
            element = element.getparent()
        etree.strip_tags(element, *FLATTENED_CONTAINERS)
    # Whatever still nests too deep (e.g. thousands of nested <p> or <blockquote>) loses its tags;
    # a line break stands in for each block's end, or its text ran into the next block's.
    for element in _elements_at_depth(root, max_depth):
        for block in element.iterdescendants(*LINE_TAGS):
            block.tail = "\n" + (block.tail or "")
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


def bound_short_blocks(root: lxml.html.HtmlElement, warnings: list[str]) -> None:
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
    if sum(1 for _ in root.iter("br")) <= MAX_SHORT_BLOCKS:
        return
    if _drop_line_break_runs(root, 1):
        _merge_text_nodes(root)
        warnings.append("short-blocks-merged")


def _drop_line_break_runs(root: lxml.html.HtmlElement, keep: int) -> bool:
    """Remove every ``<br>`` after the first ``keep`` of a run (``<br>`` siblings with only
    white space between them); True when any was removed. Text nodes are left unmerged."""
    doomed = []
    run = 0
    last: etree._Element | None = None
    for br in root.iter("br"):
        # ``is``: lxml hands out one proxy per node while a reference (``last``) is alive.
        follows_last = last is not None and br.getprevious() is last and not (last.tail or "").strip()
        run = run + 1 if follows_last else 1
        if run > keep:
            doomed.append(br)
        last = br
    for br in doomed:
        br.tag = _LINE_MARK
    etree.strip_tags(root, _LINE_MARK)
    return bool(doomed)


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
