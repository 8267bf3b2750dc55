"""The body as CommonMark: trafilatura's Markdown (``xmltotxt``) with what it gets wrong put right.

Each fix says what a CommonMark reader (markdown-it-py) made of trafilatura's text before it.
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Any

import trafilatura.xml

# trafilatura's own escape of a heading, quote or list marker at the start of a paragraph.
from trafilatura.xml import _escape_block_start, xmltotxt

from service.pipeline.library_swaps import swapped

# A character reference (``&amp;``, ``&#38;``, ``&#x26;``), which CommonMark decodes in text;
# with the backslashes before it, which must be escaped too so that they stay.
_CHARACTER_REFERENCE = re.compile(r"\\*&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# A line of three dashes (spaces between allowed) is a thematic break; "***" and "___" trafilatura
# escapes already, as emphasis characters.
_DASHES = re.compile(r"-[ \t]*-[ \t]*-")
_TRAFILATURA_LIST_MARKER = trafilatura.xml._list_marker
# Elements whose text starts a line of the Markdown (as does the text after a line break).
_LINE_OPENERS = frozenset({"p", "quote", "item"})


def commonmark(body: Any) -> str:
    """The body as Markdown that reads back as the same words and structure."""
    body = deepcopy(body)
    _escape_prose(body)
    _one_header_row(body)
    # trafilatura decodes character references in its whole output (html.unescape), after the
    # tree was already decoded: the text "&lt;script&gt;" became a live <script> tag, and the link
    # ".../index.php?title=X&section=1" became "...X§ion=1" (on 5 benchmark pages).
    with (
        swapped(trafilatura.xml, "unescape", _unchanged),
        swapped(trafilatura.xml, "_list_marker", _nested_list_marker),
    ):
        return xmltotxt(body, include_formatting=True)


def _unchanged(text: str) -> str:
    return text


def _one_header_row(body: Any) -> None:
    """Make the first row of each table its header row, and only that one (in place).

    A GFM table is a header row, then the delimiter row trafilatura writes after every row with a
    header cell: a table without ``th`` was no table but a paragraph of pipes (the Markdown of 41 of
    the 1,174 benchmark pages lost a table), and row headers put dashes after each row.
    """
    for table in body.iter("table"):
        rows = table.findall("row")
        for number, row in enumerate(rows):
            for cell in row.iterchildren("cell"):
                if number == 0:
                    cell.set("role", "head")
                else:
                    cell.attrib.pop("role", None)


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
    return str(_TRAFILATURA_LIST_MARKER(item, include_formatting)).lstrip(" ")


def _escape_prose(element: Any) -> None:
    """Escape what CommonMark would read as markup in the body's text (in place) where trafilatura
    does not: character references (the text "&copy;" read "©"), and block markers at the start
    of a line after a line break, or of any line after the first ("Intro<br># Not a heading"
    made a heading; "<p>---</p>" a rule, its text lost). Code is left alone: CommonMark takes it
    literally."""
    if element.tag == "code" or (element.tag == "hi" and element.get("rend") == "#t"):
        return
    if element.text:
        element.text = _escaped_text(element.text, element.tag in _LINE_OPENERS)
    for name in ("alt", "title") if element.tag == "graphic" else ():
        if element.get(name):
            element.set(name, _escaped_text(element.get(name), False))
    for child in element:
        _escape_prose(child)
        if child.tail:  # the text after code is prose again
            child.tail = _escaped_text(child.tail, child.tag == "lb")


def _escaped_text(text: str, opens_line: bool) -> str:
    lines = _CHARACTER_REFERENCE.sub(_escaped, text).split("\n")
    return "\n".join(_escaped_line_start(line) if opens_line or number else line for number, line in enumerate(lines))


def _escaped_line_start(line: str) -> str:
    content = line.lstrip()  # trafilatura drops this layout at the start of a block
    indent = line[: len(line) - len(content)]
    return indent + ("\\" + content if _DASHES.match(content) else _escape_block_start(content))


def _escaped(match: re.Match[str]) -> str:
    # n backslashes before the "&" become 2n (each stays literal), then one more escapes the "&".
    return "\\" * (2 * len(match.group()) - 1) + "&"
