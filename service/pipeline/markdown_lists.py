"""The markers of the Markdown's list items: trafilatura's ("- ", "2. "), indented under the item
that holds their list, numbered from the list's start, and kept apart from the list before them.

``list_marker`` stands in for ``trafilatura.xml._list_marker`` while ``markdown_rendering`` calls
``xmltotxt`` (see ``library_swaps``).
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura.xml

_TRAFILATURA_LIST_MARKER = trafilatura.xml._list_marker
# A start CommonMark can write: up to nine digits (spec 5.2). Another ``<ol start>`` (negative, too
# long, not a number) numbers from 1, as before.
_START = re.compile("[0-9]{1,9}")
# Set by ``mark_lists_in_a_row`` on a list that takes the other delimiter (an attribute of the
# rendering's own copy of the body, which ``xmltotxt`` does not write).
_SECOND_IN_A_ROW = "second-in-a-row"


def list_marker(item: Any, include_formatting: bool = True) -> str:
    """``_nested_list_marker``, after a blank line where the item starts a list numbered from
    anything but 1: such a list cannot interrupt a paragraph (CommonMark 5.3), and trafilatura
    puts a list straight under the text before it ("Steps:" then "3. Mix" read as one paragraph)."""
    marker = _nested_list_marker(item, include_formatting)
    number = marker.strip(" ").rstrip(".)")
    if number.isdigit() and int(number) != 1 and item.getprevious() is None:
        return "\u2424\n" + marker  # trafilatura's blank-line mark (see ``markdown_rendering``)
    return marker


def content_indent(item: Any) -> int:
    """Where the content of ``item`` starts on its lines: the width of its marker and indentation."""
    return len(_nested_list_marker(item))


def _nested_list_marker(item: Any, include_formatting: bool = True) -> str:
    """trafilatura's marker of a list item ("- ", "2. "), indented to where the content of the
    item holding its list starts: trafilatura indented two spaces a level, too few under "2. "
    (three), where CommonMark ended the numbered list, flattened the sublist and numbered the rest
    anew ("1. a 2. b - c 3. d" read as two numbered lists and a bulleted one)."""
    indent = 0
    for ancestor in item.iterancestors("item", "list"):
        if ancestor.tag == "item":
            indent += len(_own_marker(ancestor, include_formatting))
        elif (holder := ancestor.getparent()) is not None and holder.tag == "list":
            # a list directly in a list: under the item before it, as trafilatura placed it
            previous = ancestor.getprevious()
            indent += len(_own_marker(previous, include_formatting)) if previous is not None else 2
    return " " * indent + _own_marker(item, include_formatting)


def _own_marker(item: Any, include_formatting: bool) -> str:
    """trafilatura's marker of ``item``, numbered from its list's ``start``, and with the other
    delimiter (")" for ".", "*" for "-") in every second list of a run of lists of one kind:
    CommonMark reads a list directly after one of its kind as more items of it ("1. a 2. b" then
    "1. c" read as one list), and numbers an ordered list from its first item's number."""
    marker = str(_TRAFILATURA_LIST_MARKER(item, include_formatting)).lstrip(" ")
    holder = item.getparent()
    if holder is None or not include_formatting:
        return marker
    second = holder.get(_SECOND_IN_A_ROW) is not None
    if marker[0].isdigit():
        return f"{int(marker[:-2]) - 1 + _start(holder)}{')' if second else '.'} "
    return "* " if second else marker


def mark_lists_in_a_row(body: Any) -> None:
    """Mark every second list of each run of lists of one kind in ``body`` (in place), for
    ``_own_marker``: a list directly after one of its kind that is not marked itself. One pass in
    document order; counting the run back from each item took ~3 s for 3,000 one-item lists."""
    for holder in body.iter("list"):
        previous = holder.getprevious()
        if (
            previous is not None
            and previous.tag == "list"
            and (previous.get("rend") == "ol") == (holder.get("rend") == "ol")
            and not (previous.tail or "").strip()  # text between two lists ends the first
            and previous.get(_SECOND_IN_A_ROW) is None
        ):
            holder.set(_SECOND_IN_A_ROW, "")


def list_start(value: str) -> int | None:
    """The number an ``<ol start>`` value starts its list at, if it is one a rendering writes (up to
    nine digits, as CommonMark reads them); None for anything else. The HTML rendering keeps only
    such a ``start`` too."""
    return int(value) if _START.fullmatch(value) else None


def _start(holder: Any) -> int:
    """The number of an ordered list's first item: its ``start`` (``<ol start="5">``), else 1."""
    start = list_start((holder.get("start") or "").strip())
    return 1 if start is None else start
