"""Emphasis that a CommonMark reader takes as emphasis: where the body's bold, italics and
strike-through start and end.

CommonMark opens ``**`` only where it is "left-flanking" and closes it only where it is
"right-flanking" (spec 0.31.2, 6.2): not next to whitespace on its inner side, and not between
punctuation inside and a letter outside. trafilatura writes the markers around the element's text
as it is, so "<b>Länge:</b>3:28" came back as ``**Länge:**3:28`` and "Montauk<b>.</b>" as
``Montauk**.**``, asterisks shown as text (51 of the 1,174 benchmark pages, read back with
markdown-it-py). Here each edge is moved to where it reads back; the words stay as they are
(bold across a line break in a heading, the page left then, is ``markdown_rendering``'s:
``_headings_on_one_line``).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from lxml import etree

from service.pipeline.library_swaps import printable_space_or_format

# The emphasis trafilatura writes with delimiter runs (``**``, ``*``, ``~~``); code spans and the
# HTML tags it writes for underline, sub- and superscript have no flanking rule.
_DELIMITED_RENDS = frozenset({"#b", "#i"})
# A tag no body element has, to unwrap elements with ``etree.strip_tags``.
_UNWRAPPED = "unwrapped-emphasis"
# trafilatura's elements whose Markdown starts and ends with markup or a line of their own (a link's
# brackets, an image, a code span, an HTML tag, a line break, a block): to a run of markers next
# to one, punctuation or whitespace. Any other element is written as its text.
_OWN_MARKUP = frozenset(
    {"ref", "graphic", "code", "hi", "lb", "p", "head", "list", "item", "quote", "table", "row", "cell"}
)
# CommonMark's whitespace besides the Zs category (spec 2.1).
_WHITESPACE = "\t\n\v\f\r"


def readable_emphasis(body: Any) -> None:
    """Make each emphasis of ``body`` read back as emphasis (in place).

    - Emphasis of punctuation or whitespace alone ("Montauk<b>.</b>") loses its markers: nothing
      a reader misses, and ``**.**`` after a letter never reads as emphasis. So does emphasis of
      an icon font's character, which trafilatura's clean-up drops, leaving ``**``.
    - Whitespace at an edge goes outside the markers (``** text**``).
    - Punctuation at an edge goes outside them where a letter or digit is on the other side of
      the marker (``**Länge:**3:28`` -> ``**Länge**:3:28``), and at the end where the next
      emphasis's markers follow (``*(off)***.*`` -> ``*(off*)**.*``): the text reads the same.

    Innermost first: a run such as ``***`` is the markers of nested elements together, so an
    outer element's edges are judged with its children's already moved.
    """
    for element in reversed([element for element in body.iter("hi", "del") if _delimited(element)]):
        if _without_words(element):
            element.tag = _UNWRAPPED
            continue
        _move_trailing_edge(element)
        _move_leading_edge(element)
    etree.strip_tags(body, _UNWRAPPED)


def _delimited(element: Any) -> bool:
    return element.tag == "del" or (element.tag == "hi" and element.get("rend") in _DELIMITED_RENDS)


def _without_words(element: Any) -> bool:
    """Whether ``element`` holds no letter, digit or image (whitespace alone, or nothing, too:
    ``xmltotxt`` drops the text after an element without text of its own)."""
    return next(element.iter("graphic"), None) is None and all(map(_not_word, "".join(element.itertext())))


def _move_trailing_edge(element: Any) -> None:
    while (slot := _last_text(element)) is not None:
        owner, name = slot
        text = getattr(owner, name)
        char = text[-1]
        beside = _is_word(_char_after(element)) or _opening_markers_follow(element)
        if not _is_space(char) and not (_is_punctuation(char) and beside):
            return
        setattr(owner, name, text[:-1])
        element.tail = char + (element.tail or "")


def _move_leading_edge(element: Any) -> None:
    while (slot := _first_text(element)) is not None:
        owner, name = slot
        text = getattr(owner, name)
        char = text[0]
        if not _is_space(char) and not (_is_punctuation(char) and _is_word(_char_before(element))):
            return
        setattr(owner, name, text[1:])
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + char
        else:
            element.getparent().text = (element.getparent().text or "") + char


def _last_text(element: Any) -> tuple[Any, str] | None:
    """Where the text that ends ``element``'s content is (element, "text" or "tail"), or None where
    it ends with markup of another kind (a link, an image, a line break) or with nothing."""
    if len(element) == 0:
        return (element, "text") if element.text else None
    last = element[-1]
    if last.tail:
        return last, "tail"
    return _last_text(last) if _delimited(last) else None


def _first_text(element: Any) -> tuple[Any, str] | None:
    """Where the text that starts ``element``'s content is (see ``_last_text``)."""
    if element.text:
        return element, "text"
    if len(element) == 0:
        return None
    return _first_text(element[0]) if _delimited(element[0]) else None


def _char_after(element: Any) -> str:
    """The character after the run of markers that closes ``element`` ("" for whitespace, a line
    end or markup that starts with punctuation)."""
    if element.tail:
        return str(element.tail[0])
    following, parent = element.getnext(), element.getparent()
    if following is not None:
        return _edge(following, first=True)
    return _char_after(parent) if parent is not None and _delimited(parent) else ""


def _opening_markers_follow(element: Any) -> bool:
    """Whether the run of markers that closes ``element`` runs on into the markers that open the
    next element (one run to CommonMark). Between punctuation, such a run can open and close, and
    then its length decides what it closes ("the rule of 3", spec 6.2): ``**WIRED *for just $5
    ($25 off)****. This*`` read as ``**`` shown as text."""
    if element.tail:
        return False
    following, parent = element.getnext(), element.getparent()
    if following is not None:
        return _delimited(following)
    return parent is not None and _delimited(parent) and _opening_markers_follow(parent)


def _char_before(element: Any) -> str:
    """The character before the run of markers that opens ``element`` (see ``_char_after``)."""
    previous, parent = element.getprevious(), element.getparent()
    if previous is not None:
        return str(previous.tail[-1]) if previous.tail else _edge(previous, first=False)
    if parent is None:
        return ""
    if parent.text:
        return str(parent.text[-1])
    return _char_before(parent) if _delimited(parent) else ""


def _edge(neighbour: Any, first: bool) -> str:
    """The character of ``neighbour`` that a run of markers next to it touches: its text's inside
    emphasis (the two elements' markers make one run, as in ``*NDR***-Recherchen``), none at
    markup of trafilatura's own, the text of an element it writes as text."""
    if _delimited(neighbour):
        slot = _first_text(neighbour) if first else _last_text(neighbour)
        return "" if slot is None else str(getattr(*slot)[0 if first else -1])
    if neighbour.tag in _OWN_MARKUP:
        return ""
    text = "".join(neighbour.itertext())
    return text[:1] if first else text[-1:]


def _is_space(char: str) -> bool:
    return char in _WHITESPACE or unicodedata.category(char) == "Zs"


def _is_punctuation(char: str) -> bool:
    # CommonMark 0.31.2: the Unicode P and S categories (markdown-it-py reads it so too).
    return unicodedata.category(char)[0] in "PS"


def _not_word(char: str) -> bool:
    # a character the text clean-up drops (private use: icon fonts) leaves the markers touching
    return _is_space(char) or _is_punctuation(char) or not printable_space_or_format(char)


def _is_word(char: str) -> bool:
    return bool(char) and not _not_word(char)
