"""trafilatura's baseline extraction (our fallback when it finds no article), with the text of its
last tier in lines at the page's block boundaries.

That tier takes the whole page body when no embedded JSON, article or paragraph held enough text,
and writes each of the body's text nodes on a line of its own: "<p>Mix in <b>a large bowl</b>
150 g flour</p>" came back as three lines. A browser shows one line per block: inline elements
run on with their spaces, blocks and ``<br>`` start lines. The other tiers are unchanged.

trafilatura calls it as a rescue when its extraction is short (``trafilatura.core.baseline``,
swapped in by ``extract``), and ``extract`` when trafilatura finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from importlib import import_module
from typing import Any

from lxml import etree
from trafilatura.utils import remove_control_characters, trim

from service.pipeline.library_swaps import BLOCK_EDGE_TAGS, swapped, trim_layout

# The module (the package's attribute ``trafilatura.baseline`` is the function of that name).
_MODULE = import_module("trafilatura.baseline")

# The elements that start a line: trafilatura's blocks for the baseline's text (``<br>``, lists,
# forms, ...) and the ones we keep apart in the extraction.
_LINE_BLOCKS = BLOCK_EDGE_TAGS | _MODULE._BLOCK_ELEMS

_basic_cleaning = _MODULE.basic_cleaning


def baseline_in_block_lines(tree: Any) -> tuple[Any, str, int]:
    """trafilatura's ``baseline(tree)`` (body, text, length), with the whole-body tier's text in lines
    at block boundaries. The tier is told apart by its text: exactly the cleaned body's text
    nodes, one a line (the tree its cleaning step returns, recorded for that)."""
    cleaned: list[Any] = []

    def recorded_cleaning(page: Any) -> Any:
        cleaned.append(_basic_cleaning(page))
        return cleaned[-1]

    with swapped(_MODULE, "basic_cleaning", recorded_cleaning):
        body, text, length = _MODULE.baseline(tree)
    page_body = cleaned[0].find(".//body") if cleaned else None
    if page_body is not None and len(body) == 1 and text == _text_node_lines(page_body):
        # the page's NBSPs, U+3000, ... stay: its trim is the tier's, ours trims layout only
        text = body[0].text = _text_node_lines(_inline_unwrapped(page_body), trim_layout)
        length = len(text)
    return body, text, length


def _text_node_lines(body: Any, trimmed: Callable[[str], str] = trim) -> str:
    """The text of trafilatura's whole-body tier (``baseline``): each text node ``trimmed`` (by
    trafilatura's ``trim``, as there), one a line."""
    return remove_control_characters("\n".join(text for node in body.itertext() if (text := trimmed(node))))


def _inline_unwrapped(body: Any) -> Any:
    """A copy of ``body`` with its inline elements (and comments) unwrapped: the text between two
    block edges is one text node."""
    copied = deepcopy(body)
    inline = {element.tag for element in copied.iter("*") if element.tag not in _LINE_BLOCKS}
    etree.strip_tags(copied, etree.Comment, etree.ProcessingInstruction, *inline)
    return copied
