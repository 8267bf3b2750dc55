"""The markers of the Markdown's list items: trafilatura's ("- ", "2. "), indented under the item
that holds their list, numbered as a browser numbers them, and kept apart from the list before them.

``list_marker`` stands in for ``trafilatura.xml._list_marker`` while ``markdown_rendering`` calls
``xmltotxt`` (see ``library_swaps``).
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura.xml

_TRAFILATURA_LIST_MARKER = trafilatura.xml._list_marker
# A number CommonMark can write: up to nine digits (spec 5.2). Another ``<ol start>`` or ``<li
# value>`` (negative, too long, not a number) counts as none, as before.
_START = re.compile("[0-9]{1,9}")
_LARGEST = 999_999_999
# Set by ``number_lists`` (attributes of the rendering's own copy of the body, which ``xmltotxt``
# does not write): the number an ordered list's item shows; an item (or a bulleted list) that takes
# the other delimiter; a list whose last item takes it.
_NUMBER = "shown-number"
_OTHER_DELIMITER = "other-delimiter"
_ENDS_OTHER = "ends-other-delimiter"


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
    """trafilatura's marker of ``item``, with the number ``number_lists`` gave it and the other
    delimiter (")" for ".", "*" for "-") where it marked one."""
    marker = str(_TRAFILATURA_LIST_MARKER(item, include_formatting)).lstrip(" ")
    holder = item.getparent()
    if holder is None or not include_formatting:
        return marker
    if marker[0].isdigit():
        other = item.get(_OTHER_DELIMITER) is not None
        return f"{item.get(_NUMBER, marker[:-2])}{')' if other else '.'} "
    return "* " if holder.get(_OTHER_DELIMITER) is not None else marker


def number_lists(body: Any) -> None:
    """Number the items of each ordered list of ``body`` as a browser does, and mark where the other
    delimiter keeps lists apart (in place, for ``_own_marker``).

    CommonMark numbers an ordered list up from its first item's number and reads a list directly
    after one of its kind as more items of it ("1. a 2. b" then "1. c" read as one list). So:

    - a list directly after one of its kind takes the other delimiter than the one it ends with;
    - an item whose number is not one more than the one before it (``<ol reversed>``, ``<li
      value>``) starts a list of its own in the Markdown, with the other delimiter: "3. c", "2) b",
      "1. a" read back as lists numbered 3, 2 and 1, where one list of them read 3, 4, 5.

    One pass in document order; counting a run of lists back from each item took ~3 s for 3,000
    one-item lists.
    """
    for holder in body.iter("list"):
        ordered = holder.get("rend") == "ol"
        previous = holder.getprevious()
        other = (
            previous is not None
            and previous.tag == "list"
            and (previous.get("rend") == "ol") == ordered
            and not (previous.tail or "").strip()  # text between two lists ends the first
            and previous.get(_ENDS_OTHER) is None
        )
        if ordered:
            other = _number_items(holder, other)
        elif other:
            holder.set(_OTHER_DELIMITER, "")
        if other:
            holder.set(_ENDS_OTHER, "")


def _number_items(holder: Any, other: bool) -> bool:
    """Give each item of the ordered list ``holder`` its number, and the other delimiter where
    ``other`` says so, switching at each item that does not count on by one; return whether its
    last item takes the other delimiter."""
    items = holder.findall("item")
    numbers = _numbers(holder, items)
    for position, (item, number) in enumerate(zip(items, numbers, strict=True)):
        if position and number != numbers[position - 1] + 1:
            other = not other
        item.set(_NUMBER, str(number))
        if other:
            item.set(_OTHER_DELIMITER, "")
    return other


def _numbers(holder: Any, items: list[Any]) -> list[int]:
    """The numbers a browser shows for ``items`` of ``holder`` (HTML's ordinal values): from the
    ``start``, else 1 (``reversed``: the number of items), one up each item (``reversed``: down),
    an item's ``value`` its own number. Where that leaves the numbers CommonMark can write (below 0
    when counting down), one up from the start, as a list without ``reversed`` and ``value``."""
    start = list_start((holder.get("start") or "").strip())
    descending = holder.get("reversed") is not None
    step = -1 if descending else 1
    first = start if start is not None else len(items) if descending else 1
    numbers: list[int] = []
    for item in items:
        value = list_start((item.get("value") or "").strip())
        numbers.append(value if value is not None else numbers[-1] + step if numbers else first)
    if all(0 <= number <= _LARGEST for number in numbers):
        return numbers
    first = 1 if start is None else start
    return list(range(first, first + len(items)))


def list_start(value: str) -> int | None:
    """The number an ``<ol start>`` (or ``<li value>``) value gives, if it is one a rendering writes
    (up to nine digits, as CommonMark reads them); None for anything else. The HTML rendering keeps
    only such a ``start`` and ``value`` too."""
    return int(value) if _START.fullmatch(value) else None
