"""The body as CommonMark: trafilatura's Markdown (``xmltotxt``) with what it gets wrong put right.

Each fix says what a CommonMark reader (markdown-it-py) made of trafilatura's text before it.
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Any

import trafilatura.xml
from trafilatura.xml import xmltotxt

from service.pipeline.library_swaps import swapped

# A character reference (``&amp;``, ``&#38;``, ``&#x26;``), which CommonMark decodes in text;
# with the backslashes before it, which must be escaped too so that they stay.
_CHARACTER_REFERENCE = re.compile(r"\\*&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")


def commonmark(body: Any) -> str:
    """The body as Markdown that reads back as the same words and structure."""
    body = deepcopy(body)
    _escape_character_references(body)
    # trafilatura decodes character references in its whole output (html.unescape), after the
    # tree was already decoded: the text "&lt;script&gt;" became a live <script> tag, and the link
    # ".../index.php?title=X&section=1" became "...X§ion=1" (on 5 benchmark pages).
    with swapped(trafilatura.xml, "unescape", _unchanged):
        return xmltotxt(body, include_formatting=True)


def _unchanged(text: str) -> str:
    return text


def _escape_character_references(element: Any) -> None:
    """Backslash-escape the ``&`` of each character reference in the text (in place), so that the
    text "&copy;" reads "&copy;", not "©". Code is left alone: CommonMark takes it literally."""
    if element.tag == "code" or (element.tag == "hi" and element.get("rend") == "#t"):
        return
    if element.text:
        element.text = _CHARACTER_REFERENCE.sub(_escaped, element.text)
    for name in ("alt", "title") if element.tag == "graphic" else ():
        if element.get(name):
            element.set(name, _CHARACTER_REFERENCE.sub(_escaped, element.get(name)))
    for child in element:
        _escape_character_references(child)
        if child.tail:  # the text after code is prose again
            child.tail = _CHARACTER_REFERENCE.sub(_escaped, child.tail)


def _escaped(match: re.Match[str]) -> str:
    # n backslashes before the "&" become 2n (each stays literal), then one more escapes the "&".
    return "\\" * (2 * len(match.group()) - 1) + "&"
