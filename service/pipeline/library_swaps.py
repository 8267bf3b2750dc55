"""Library internals the pipeline replaces during one of its own calls, and the helper that does it.

Each swap holds only inside a ``with swapped(...)`` block of our code, so trafilatura and htmldate
called directly (the quality bench's anchor, another library user) keep their own behaviour. It
is safe because an extraction process handles one page at a time (no other thread runs those
libraries meanwhile). The versions are pinned; re-check every entry on an upgrade:

- ``htmldate.core.deepcopy``: the date search prunes our tree in place (``metadata_dates``).
- ``htmldate.extractors._external_date``: no dateparser in the fallback date search (``metadata_dates``).
- ``trafilatura.main_extractor.prune_unwanted_nodes``: a faster equivalent (``extract``).
- ``trafilatura.main_extractor.strip_tags``: lxml's, but the edges of the block elements it
  removes stay spaces (``strip_tags_keeping_block_edges``, swapped in by ``extract``).
- ``trafilatura.htmlprocessing.prune_html``: the same deletion of empty elements, but an empty
  block leaves a space between the text on its two sides (``prune_html_keeping_block_edges``,
  swapped in by ``extract``).
- ``trafilatura.main_extractor.handle_textnode`` and ``process_node`` (every trim of the body's
  text): the same, with ``trafilatura.htmlprocessing.trim`` inside them trimming the source's
  layout only (``trim_layout``): the page's NBSPs stay (``textnode_trimming_layout``,
  ``node_trimming_layout``, swapped in by ``extract``). Its measures of text (link density,
  lengths) keep trafilatura's trim, so its choice of blocks is unchanged.
- ``trafilatura.main_extractor.process_nested_elements``: a list item's or quote's custom elements
  are unwrapped first, and the page's blocks kept in it start after a space
  (``nested_elements_with_custom_unwrapped``, swapped in by ``extract``). Inside it,
  ``handle_textnode`` also keeps one space at the end of a text it trims where the source had one
  before an inline element (``textnode_keeping_tail_space``).
- ``trafilatura.external.ParagraphMaker`` (jusText's): the spaces a browser shows between a
  paragraph's inline elements and at the edges of HTML5 blocks stay (``justext_paragraphs``,
  swapped in by ``extract``).
- ``trafilatura.main_extractor.update_elem_rendition``: an ``<ol>``'s ``start`` and ``reversed``
  and an item's ``value`` are copied too (``rendition_and_start``, swapped in by ``extract``): the
  renderings number the list by them.
- ``trafilatura.htmlprocessing.CONVERSIONS["pre"]``: the quote trafilatura makes of a ``<pre>``
  that is not code is marked ``rend="pre"`` (``preformatted_quote``), and
  ``trafilatura.main_extractor.handle_quotes`` keeps that mark on the quote it rebuilds
  (``quote_keeping_rendition``), both swapped in by ``extract``: the Markdown writes the quote's
  lines as lines.
- Twelve of ``trafilatura.xpaths``' content expressions (BODY_XPATH, OVERALL_DISCARD_XPATH, ...):
  Python equivalents without regex callbacks (``content_selectors``, swapped in by ``extract``).
- ``trafilatura.xml.unescape``: none, as the tree is decoded already (``decoded_once``, around
  ``xmltotxt`` in ``serialize`` and ``markdown_rendering``).
- ``trafilatura.xml._list_marker``: a sublist indented to its item's content, numbered from the
  list's start, lists in a row kept apart (``markdown_lists``, around ``xmltotxt`` in ``markdown_rendering``).
- ``trafilatura.utils.return_printables_and_spaces``: keeps format characters (ZWNJ/ZWJ, soft
  hyphens, bidi controls; ``keeping_format_characters``, around the whole of ``pipeline.run``).
  ``line_processing`` caches its answers, so the block clears that cache on entry and exit: no
  answer crosses the block's edge (cost within noise: 200 bench pages, 81.2 vs 79.5 ms/page).
- ``trafilatura.core.baseline`` (trafilatura's rescue of a short extraction): the same, with the
  whole-body tier's text in lines at block boundaries (``baseline_in_block_lines``, swapped in by
  ``extract``, which calls it for its own fallback too). Inside it,
  ``trafilatura.baseline.basic_cleaning`` records the cleaned tree that text is rebuilt from.
- ``trafilatura.core._extract_and_compare`` (cascade stages 1-2): the same, but the fast cascade
  (favor=precision) still runs the readability/jusText comparison when its text is shorter than
  ``MIN_EXTRACTED_SIZE`` (``extract_and_compare_when_short``, swapped in by ``extract``).

One more is permanent, set at import by ``extract``: ``trafilatura.external.try_readability``
records readability's answer (behaviour unchanged) so ``blocks`` can reuse it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from types import ModuleType
from typing import Any, TypeVar

import trafilatura.htmlprocessing
import trafilatura.main_extractor
import trafilatura.utils
import trafilatura.xml
from lxml import etree
from trafilatura.settings import CUT_EMPTY_ELEMS, INLINE_CARRIED
from trafilatura.utils import text_chars_test
from trafilatura.xml import delete_element

# ASCII whitespace (WHATWG): the source's layout, which a browser collapses. Other spaces (NBSP,
# U+3000, ...) are the page's characters and stay. (Here, the lowest module that needs it: the
# renderings import it from here.)
LAYOUT_SPACE = " \t\n\f\r"
T = TypeVar("T")
LAYOUT_RUNS = re.compile(f"[{LAYOUT_SPACE}]+")  # a run of it, which a browser shows as one space
# trafilatura's elements that render as a line of their own (its tree conversion made them of the
# page's blocks: ``<h4>`` is ``head``); the page's other blocks are ``BLOCK_EDGE_TAGS``.
TRAFILATURA_LINE_TAGS = ("p", "head", "item", "cell", "quote", "list", "row", "table")


@contextmanager
def swapped(module: ModuleType, name: str, replacement: object) -> Iterator[None]:
    """``module.<name>`` is ``replacement`` inside the block (library modules look names up at
    call time), and the original again afterwards, whatever happens."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def swapped_items(module: ModuleType, replacements: Mapping[tuple[str, Any], object]) -> Iterator[None]:
    """``module.<list>[index]`` (or ``<dict>[key]``) is the replacement inside the block, for each
    ``(name, index)`` key: the lists and dicts are shared by every module that imported them, so
    their users see the swap."""
    originals: list[tuple[Any, int | str, object]] = []
    try:
        for (name, index), replacement in replacements.items():
            items = getattr(module, name)
            originals.append((items, index, items[index]))
            items[index] = replacement
        yield
    finally:
        for items, index, original in reversed(originals):
            items[index] = original


def rendition_and_start(elem: Any, new_elem: Any) -> None:
    """trafilatura's ``update_elem_rendition`` (its ``rend``, the source tag), and what numbers a
    numbered list: its ``start`` and ``reversed``, an item's ``value``. trafilatura rebuilds each
    list and item as a new element with ``rend`` alone, so "<ol start=5>" came back numbered from
    1, and "<ol reversed>" counted up."""
    if rend := elem.get("rend"):
        new_elem.set("rend", rend)
    # read by ``markdown_lists`` and the HTML rendering (an item's ``value`` counts in an ``ol`` only)
    for name in NUMBERING.get(rend or elem.tag, ()):
        if (value := elem.get(name)) is not None:
            new_elem.set(name, value)


# The attributes that number a list (``<ol>``) and an item (``<li>``, trafilatura's ``item``).
# The HTML rendering keeps the same attributes (``serialize``), so the browser numbers alike.
NUMBERING = {"ol": ("start", "reversed"), "item": ("value",)}


_convert_quotes = trafilatura.htmlprocessing.convert_quotes
_handle_quotes = trafilatura.main_extractor.handle_quotes
# The ``rend`` of a quote trafilatura made of a ``<pre>`` (``rend`` names the source tag, as
# trafilatura's own ``rend="ol"`` of a list): read by ``markdown_rendering``.
PREFORMATTED = "pre"


def preformatted_quote(elem: Any) -> None:
    """trafilatura's conversion of a ``<pre>`` (``convert_quotes``: code, else a quote), with the
    quote marked as preformatted: its line breaks are the text's, where a ``<blockquote>``'s are
    the source's layout."""
    _convert_quotes(elem)
    if elem.tag == "quote":
        elem.set("rend", PREFORMATTED)


def quote_keeping_rendition(element: Any, options: Any) -> Any:
    """trafilatura's ``handle_quotes``, with the source quote's ``rend`` on the quote it rebuilds
    (a new element without the source's attributes)."""
    processed = _handle_quotes(element, options)
    if processed is not None and processed.tag == "quote" and (rend := element.get("rend")):
        processed.set("rend", rend)
    return processed


@contextmanager
def decoded_once() -> Iterator[None]:
    """``xmltotxt`` without its ``html.unescape`` of the whole output: the tree is decoded already,
    so the page's characters were decoded a second time. A page showing "&lt;script&gt;" came back
    as a live ``<script>`` tag in the Markdown and as "<script>" in the text, and the link
    ".../index.php?title=X&section=1" as "...X§ion=1" (5 benchmark pages)."""
    with swapped(trafilatura.xml, "unescape", _unchanged):
        yield


def _unchanged(text: str) -> str:
    return text


@lru_cache(maxsize=2**14)  # as trafilatura's own: one entry per distinct character seen
def printable_space_or_format(char: str) -> str:
    """``char`` unless it is a control, surrogate, private-use or unassigned code point.

    trafilatura keeps only ``str.isprintable()`` characters and spaces, which drops every format
    character (category Cf): ZWNJ/ZWJ (Persian words, emoji sequences), soft hyphens, bidi
    controls, word joiners, U+FEFF inside text and emoji tag sequences came back changed (issue
    24). They are all valid XML characters, so keeping them is safe for lxml.
    """
    return char if char.isprintable() or char.isspace() or unicodedata.category(char) == "Cf" else ""


@contextmanager
def keeping_format_characters() -> Iterator[None]:
    """trafilatura's text clean-up keeps format characters inside the block (see the module)."""
    trafilatura.utils.line_processing.cache_clear()  # answers that stripped them
    try:
        with swapped(trafilatura.utils, "return_printables_and_spaces", printable_space_or_format):
            yield
    finally:
        trafilatura.utils.line_processing.cache_clear()  # answers that kept them


# HTML elements a browser renders as blocks (HTML standard, "Rendering"): their edges are lines
# in the page, whatever whitespace the source has. trafilatura strips some of them after trimming
# their text: ``extract_content``'s ``strip_tags(result_body, "div")``, and ``handle_paragraphs``'
# unexpected children of a ``<p>`` ("<p>Intro<section>Box</section>after" read "IntroBoxafter").
# Headings, paragraphs, lists and quotes are not here: trafilatura keeps them as blocks.
BLOCK_EDGE_TAGS = frozenset(
    {
        # sections and generic containers
        *("div", "section", "article", "aside", "header", "footer", "main", "nav", "address", "center", "search"),
        # grouping content that is not a trafilatura block
        *("figure", "figcaption", "dl", "dt", "dd", "li", "hr", "details", "summary", "dialog", "fieldset", "legend"),
        # tables, flattened into one line of text where trafilatura drops the table's structure
        *("table", "caption", "tr", "td", "th"),
    }
)


def strip_tags_keeping_block_edges(tree: Any, *tag_names: Any) -> None:
    """``lxml.etree.strip_tags``, but a stripped block's text stays apart from its neighbours'.

    trafilatura rebuilds a list item or a quote from its descendants with their text trimmed
    (``process_nested_elements``), then strips the ``<div>`` wrappers: "<li><div>2.</div>
    <div>Mix the flour</div></li>" became "2.Mix", "<div>Autobahn:</div><span>6.0 km</span>"
    "Autobahn:6.0 km" (s21 fidelity audit: 12 of the 1,174 bench pages). A space goes where a
    stripped block element (``BLOCK_EDGE_TAGS``) touched text with none between.
    """
    names = [name for item in tag_names for name in ([item] if isinstance(item, str) else item)]
    for tag in BLOCK_EDGE_TAGS.intersection(names):
        for element in tree.iter(tag):
            if element is not tree:
                _space_edges(element)
    etree.strip_tags(tree, *names)


# What ``prune_html`` deletes when empty and a browser shows as a block: the blocks above, and the
# ones trafilatura otherwise keeps as blocks (an empty one it deletes, text on both sides stays).
_PRUNED_BLOCKS = BLOCK_EDGE_TAGS | {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}


def prune_html_keeping_block_edges(tree: Any, focus: str = "balanced") -> Any:
    """trafilatura's ``prune_html`` (the empty elements of ``CUT_EMPTY_ELEMS`` deleted, their tail
    kept except in precision mode), but a deleted block's text neighbours stay apart.

    An empty block still breaks the line in a browser: "<span>Mix well.</span><div
    class="spacer"></div><span>Bake.</span>" shows two lines, and read "Mix well.Bake." once the
    ``<div>`` was gone (s22 fidelity audit). A space goes before a deleted block element
    (``_PRUNED_BLOCKS``) where the deletion makes two pieces of text touch, and nowhere else:
    whitespace added after a heading with nothing to part changed trafilatura's choice of text.
    """
    tails = focus != "precision"
    for element in [e for e in tree.iterdescendants(CUT_EMPTY_ELEMS) if e.text is None and len(e) == 0]:
        if element.tag in _PRUNED_BLOCKS and _joins_text(element, tails):
            _space_before(element)
        delete_element(element, keep_tail=tails)
    return tree


def _joins_text(element: Any, with_tail: bool) -> bool:
    """Whether deleting the empty ``element`` (and its tail, unless ``with_tail``) puts text that
    does not end in a space straight before text that does not start with one."""
    after = next((text for text in _text_after(element, with_tail) if text), "")
    if not after or after[0].isspace():
        return False
    previous = element.getprevious()
    before = (element.getparent().text or "") if previous is None else (previous.tail or "".join(previous.itertext()))
    return bool(before) and not before[-1].isspace()


def _text_after(element: Any, with_tail: bool) -> Iterator[str]:
    """The text that follows ``element`` in its parent, piece by piece, in document order."""
    if with_tail:
        yield element.tail or ""
    for sibling in element.itersiblings():
        yield from sibling.itertext()
        yield sibling.tail or ""


def _space_edges(element: Any) -> None:
    if not element.text and len(element) and element[0].tag == "lb":
        pass  # the block opens with a line break: its start is a line already
    elif element.text and element.text[0].isspace():
        pass  # its text opens with a space already
    else:
        _space_before(element)
    if element.tail:
        if not element.tail[0].isspace():
            element.tail = " " + element.tail
    elif element.getnext() is not None and element.getnext().tag != "lb":
        element.tail = " "


def _space_before(element: Any) -> None:
    """A space at the end of the text just before ``element``, where that text may run into it."""
    parent, previous = element.getparent(), element.getprevious()
    if previous is not None:
        if not previous.tail:
            previous.tail = " "  # the previous element's text ran straight into this block's
        elif not previous.tail[-1].isspace():
            previous.tail += " "
    elif parent is not None and parent.text and not parent.text[-1].isspace():
        parent.text += " "


_process_nested_elements = trafilatura.main_extractor.process_nested_elements


def nested_elements_with_custom_unwrapped(child: Any, new_child_elem: Any, options: Any) -> None:
    """trafilatura's ``process_nested_elements`` (a list item or quote rebuilt from its
    descendants), with the custom elements among them unwrapped first, their text kept in place,
    and a space before the text of the page's block elements it keeps there.

    A custom element (a tag with a hyphen: web components, XML islands such as JATS's
    ``<contrib-group>``) is no HTML element: a browser shows it inline. trafilatura unwraps such
    unexpected children of a paragraph, but in an item it keeps each as an element with its text
    and tail trimmed, and its text rendering puts a space after it: "<contrib-group>Breese
    J</contrib-group>,&nbsp;<contrib-group>et al</contrib-group>." read "Breese J ,et al ."
    (s22 fidelity audit).

    The blocks (``<div>``, ``<article>``, ``<td>``, ...) stay elements in the item with their text
    trimmed, and the text rendering separates one from what follows it but not from what precedes
    it: "<h2>LF 6</h2>Engines</div></article><article>2 years" read "Engines2 years".
    """
    custom = {element.tag for element in child.iterdescendants("*") if "-" in element.tag}
    if custom:
        etree.strip_tags(child, *custom)
        _collapse_spaces(child)
        if child.text:
            child.text = child.text.lstrip(" ")  # a block's leading layout, which a browser drops
    for block in child.iterdescendants(*BLOCK_EDGE_TAGS, *TRAFILATURA_LINE_TAGS):
        # trafilatura moves the tail of a block with children onto its last child's, with nothing
        # between: "<div>See the<br>manual page</div>for" read "manual pagefor", where a browser
        # starts the tail on a line of its own (s24 fidelity audit)
        if len(block) and block.tail and text_chars_test(block.tail) and not block.tail[0].isspace():
            block.tail = " " + block.tail
    with swapped(trafilatura.main_extractor, "handle_textnode", textnode_keeping_tail_space):
        _process_nested_elements(child, new_child_elem, options)
    for block in new_child_elem.iter(*BLOCK_EDGE_TAGS):
        if block.text and not block.text[0].isspace() and _runs_into(block):
            block.text = " " + block.text


# main_extractor imports both from htmlprocessing, where they look ``trim`` up.
_handle_textnode = trafilatura.htmlprocessing.handle_textnode
_process_node = trafilatura.htmlprocessing.process_node


def textnode_trimming_layout(elem: Any, options: Any, comments_fix: bool = True, preserve_spaces: bool = False) -> Any:
    """trafilatura's ``handle_textnode``, trimming the source's layout whitespace only
    (``trim_layout``). Its trim (``str.split``) made the page's NBSPs, U+3000, ... plain spaces,
    or dropped them at a text's ends: "<br>100&nbsp;km" read "100 km" (s24 fidelity audit)."""
    return _trimming_layout(_handle_textnode, elem, options, comments_fix, preserve_spaces)


def node_trimming_layout(elem: Any, options: Any) -> Any:
    """trafilatura's ``process_node`` (a paragraph, heading, list item or cell without child
    elements), trimming the source's layout whitespace only, as ``textnode_trimming_layout``:
    "<li>Distance&nbsp;100&nbsp;km</li>" read "Distance 100 km" (s24 fidelity audit)."""
    return _trimming_layout(_process_node, elem, options)


def _trimming_layout(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` with ``trafilatura.htmlprocessing.trim`` swapped for ``trim_layout``:
    ``swapped`` without its context manager, which cost more than the call on a page of many
    small blocks (they run once per element)."""
    module = trafilatura.htmlprocessing
    original, module.trim = module.trim, trim_layout  # type: ignore[attr-defined]
    try:
        return function(*args)
    finally:
        module.trim = original  # type: ignore[attr-defined]


def textnode_keeping_tail_space(
    elem: Any, options: Any, comments_fix: bool = True, preserve_spaces: bool = False
) -> Any:
    """``textnode_trimming_layout``, keeping one space at the end of a trimmed tail that the source
    ended with one where an inline element follows it.

    In a list item or quote, trafilatura trims the tail of each descendant it rebuilds (a
    ``<br>``'s: the text of the line after it), and the text rendering writes the next inline
    element straight after it: "add<br>the function <code>speak-line</code>." read "the
    functionspeak-line." (s23 fidelity audit). trafilatura appends the tail of a rebuilt element
    with children to its last child's tail, so the element that follows that text is the one
    after the rebuilt ancestors: "<h4>Move<br>and add</h4> the function <code>speak-line</code>"
    read "the functionspeak-line" too (s24 fidelity audit). Before a block the tail stays trimmed:
    a space there kept the rendering from starting the block's line (a quote's tails are written
    as they are).
    """
    ended_in_space = bool(elem.tail) and elem.tail[-1] in LAYOUT_SPACE
    if ended_in_space:  # only then is what follows looked for (a walk up the rebuilt ancestors)
        following = _element_after_tail(elem)
        ended_in_space = following is not None and following.tag in INLINE_CARRIED
    processed = textnode_trimming_layout(elem, options, comments_fix, preserve_spaces)
    if ended_in_space and processed is not None and processed.tail and not processed.tail[-1].isspace():
        processed.tail += " "
    return processed


def _element_after_tail(elem: Any) -> Any:
    """The element the rebuilt item or quote holds right after ``elem``'s tail: its next sibling,
    else that of the closest ancestor that has one, through the ancestors rebuilt already (renamed
    ``done`` by ``process_nested_elements``, which appended their tails to ``elem``'s); ``None``
    where text or the end of the item follows."""
    node = elem
    while node.getnext() is None:
        parent = node.getparent()
        if parent is None or parent.tag != "done" or text_chars_test(parent.tail):
            return None
        node = parent
    return node.getnext()


@lru_cache(maxsize=1024)  # as trafilatura's: it runs on every text of the body, often the same
def trim_layout(text: str | None) -> str:
    """trafilatura's ``trim`` (runs of whitespace become one space, none at the ends) for the
    source's layout whitespace only (``LAYOUT_SPACE``): other spaces are the page's characters. A
    text of spaces alone is none, as there (no line of spaces: the renderings drop them)."""
    if not text or text.isspace():
        return ""
    if text.isascii():  # its only whitespace is layout (``decode`` drops VT and the C0 separators)
        return " ".join(text.split())  # what the regex gives, ~4x faster
    return LAYOUT_RUNS.sub(" ", text).strip(LAYOUT_SPACE)


def _collapse_spaces(element: Any) -> None:
    """Runs of whitespace in ``element``'s inline text become one space, as a browser shows them
    (code excepted): trafilatura keeps an item's own text as the page has it, so the line breaks
    and indentation of the unwrapped elements' source would come back inside the line."""
    if element.tag == "code":
        return
    if element.text:
        element.text = LAYOUT_RUNS.sub(" ", element.text)
    for descendant in element:
        _collapse_spaces(descendant)
        if descendant.tail:
            descendant.tail = LAYOUT_RUNS.sub(" ", descendant.tail)


def _runs_into(block: Any) -> bool:
    """Whether the text rendering (``trafilatura.xml.process_element`` in an item) writes
    ``block``'s text straight after text that does not end in a space."""
    previous = block.getprevious()
    if previous is None:
        before = block.getparent().text or ""
        return bool(before) and not before[-1].isspace()
    if previous.tail and previous.tail.strip():
        return True  # written as " tail", without a space after it
    # Elements other than these get a space written after them.
    return previous.tag in trafilatura.xml.SPECIAL_FORMATTING and not "".join(previous.itertext())[-1:].isspace()
