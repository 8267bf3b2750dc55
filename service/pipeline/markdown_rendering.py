"""The body as CommonMark: trafilatura's Markdown (``xmltotxt``) with what it gets wrong put right.

Each fix says what a CommonMark reader (markdown-it-py) made of trafilatura's text before it.
"""

from __future__ import annotations

import itertools
import re
import uuid
from copy import deepcopy
from typing import Any

import trafilatura.xml
from lxml import etree

# trafilatura's reading of a cell's colspan (a count, at most 100).
from trafilatura.main_extractor import _span

# trafilatura's own escape of a heading, quote or list marker at the start of a paragraph.
from trafilatura.xml import _escape_block_start, xmltotxt

from service.pipeline.library_swaps import LAYOUT_SPACE, PREFORMATTED, decoded_once, swapped
from service.pipeline.markdown_emphasis import readable_emphasis
from service.pipeline.markdown_lists import content_indent, list_marker, number_lists

# A Markdown code fence as trafilatura writes it (three or more backticks).
_FENCE = re.compile(r"^\s*(`{3,})")
# A character reference (``&amp;``, ``&#38;``, ``&#x26;``), which CommonMark decodes in text;
# with the backslashes before it, which must be escaped too so that they stay.
_CHARACTER_REFERENCE = re.compile(r"\\*&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# A line break of the source with the layout around it (see ``LAYOUT_SPACE``).
_LAYOUT_BREAK = re.compile(r"[ \t\f\r]*\n[ \t\n\f\r]*")
# Where a blank line is, between two line ends.
_BLANK_LINE = re.compile(r"(?<=\n)(?=\n)")
# A line of three dashes (spaces between allowed) is a thematic break; "***" and "___" trafilatura
# escapes already, as emphasis characters.
_DASHES = re.compile(r"-[ \t]*-[ \t]*-")
# Where a quote cannot be a Markdown block quote of its own (a table cell is one line) or already is.
_NO_QUOTE_INSIDE = frozenset({"item", "cell", "quote", "p", "head", "hi", "ref"})
# Where a code block cannot be a block of its own (a list item's it can: ``_set_item_code_apart``).
_NO_CODE_BLOCK_INSIDE = _NO_QUOTE_INSIDE - {"item"}
# Blank lines at the start of a ``<pre>``'s text (the layout after its tag).
_LEADING_BLANK_LINES = re.compile(r"^(?:[ \t]*\n)+")
# A tag no body element has, to unwrap line breaks with ``etree.strip_tags``.
_LINE_BREAK_IN_HEADING = "line-break-in-heading"
# Elements whose text starts a line of the Markdown (as does the text after a line break).
_LINE_OPENERS = frozenset({"p", "quote", "item"})
# A list item's marker alone ("- ", "12. ", "1) ", "* "), as ``markdown_lists`` writes them.
_ITEM_MARKER = re.compile(r"[ \t]*(?:[-*]|[0-9]{1,9}[.)])[ \t]+")


def render_markdown(body: Any) -> str:
    """The body as Markdown (see ``commonmark``); trailing spaces and whitespace-only lines (see
    ``serialize.render_text``) go, and so does a second blank line in a row."""
    if body is None:
        return ""
    lines: list[str] = []
    fence = ""
    for line in commonmark(body).split("\n"):
        opening = _FENCE.match(line)
        if opening and (not fence or opening.group(1).startswith(fence)):
            fence = "" if fence else opening.group(1)
        elif not fence:
            line = line.rstrip(LAYOUT_SPACE)
            if not line and (not lines or not lines[-1]):
                continue  # one blank line between blocks is Markdown's paragraph break
        lines.append(line)
    return "\n".join(lines).strip("\n")


def commonmark(body: Any) -> str:
    """The body as Markdown that reads back as the same words and structure."""
    apart = code_set_apart(_preformatted_as_code(body))
    body = apart if apart is not body else deepcopy(body)  # a copy either way: the rest is in place
    quotes = _set_quotes_apart(body)
    code_blocks = _set_item_code_apart(body)
    _headings_on_one_line(body)
    _escape_prose(body)
    _keep_blank_code_lines(body)
    _one_header_row(body)
    _rows_of_equal_width(body)
    readable_emphasis(body)
    number_lists(body)
    with decoded_once(), swapped(trafilatura.xml, "_list_marker", list_marker):
        markdown = xmltotxt(body, include_formatting=True)
    for placeholder, quote in quotes.items():
        markdown = markdown.replace(
            placeholder, "\n".join(f"> {line}".rstrip() for line in render_markdown(quote).split("\n"))
        )
    for placeholder, (block, item) in code_blocks.items():
        markdown = _code_block_in_item(markdown, placeholder, block, content_indent(item))
    return markdown


def _preformatted_as_code(body: Any) -> Any:
    """``body``, or a copy with each quote trafilatura made of a ``<pre>`` of several lines a code
    block of its text (a ``<pre>`` that trafilatura did not take for code): as a quote, its lines
    ran together into one ("> #!/bin/sh /usr/local/bin/rsync --daemon", 6 of the 1,174 benchmark
    pages: shell scripts, config files, Python sessions). A code block keeps its lines and their
    indentation, as the browser shows a ``<pre>``; links and emphasis in it are its text only."""
    if not any(_preformatted(quote) for quote in body.iter("quote")):
        return body
    body = deepcopy(body)
    for quote in [quote for quote in body.iter("quote") if _preformatted(quote)]:
        for line_break in quote.iter("lb"):
            line_break.text = "\n"
        code = etree.Element("code")
        code.text = _LEADING_BLANK_LINES.sub("", "".join(quote.itertext())).rstrip(LAYOUT_SPACE)
        code.tail = quote.tail
        quote.getparent().replace(quote, code)
    return body


def _preformatted(quote: Any) -> bool:
    """Whether ``quote`` is a ``<pre>``'s text of several lines, where a code block can stand."""
    if quote.get("rend") != PREFORMATTED:
        return False
    if "\n" not in "".join(quote.itertext()).strip(LAYOUT_SPACE) and quote.find(".//lb") is None:
        return False
    holders = itertools.takewhile(lambda holder: holder.tag != "body", quote.iterancestors())
    return not any(holder.tag in _NO_CODE_BLOCK_INSIDE for holder in holders)


def _set_quotes_apart(body: Any) -> dict[str, Any]:
    """Put a placeholder paragraph in the place of each quote of the body's own flow (in place),
    and return the quotes by placeholder, to be rendered on their own with "> " before each line:
    trafilatura wrote a quote as plain paragraphs (on 127 of the 1,174 benchmark pages a quote
    was no quote in the Markdown). Quotes in a list, a table or a paragraph are left as they are."""
    quotes: dict[str, Any] = {}
    for quote in list(body.iterdescendants("quote")):
        holders = itertools.takewhile(lambda holder: holder is not body, quote.iterancestors())
        if any(holder.tag in _NO_QUOTE_INSIDE for holder in holders):
            continue
        placeholder = etree.Element("p")
        placeholder.text = f"quote{uuid.uuid4().hex}"
        placeholder.tail = quote.tail
        quote.tail = None
        quote.getparent().replace(quote, placeholder)
        quotes[placeholder.text] = quote
    return quotes


def _set_item_code_apart(body: Any) -> dict[str, tuple[str, Any]]:
    """Put a placeholder in the place of each code block directly in a list item (in place), and
    return the blocks' Markdown and their items by placeholder, to be set on lines of their own
    under the item's content: trafilatura wrote the fence straight after the item's text ("- Install
    it:```"), which read back as text, not code. A table cell is one line: code there stays."""
    blocks: dict[str, tuple[str, Any]] = {}
    for code in [code for code in body.iter("code") if code.getparent().tag == "item"]:
        if any(holder.tag == "cell" for holder in code.iterancestors()):
            continue
        alone = etree.Element("body")
        alone.append(deepcopy(code))
        alone[0].tail = None
        block = render_markdown(alone)
        if not _FENCE.match(block):
            continue  # one line of code: trafilatura writes it inline, as a code span
        placeholder = f"code{uuid.uuid4().hex}"
        item, previous = code.getparent(), code.getprevious()
        flow = f" {placeholder} {code.tail or ''}"
        if previous is not None:
            previous.tail = (previous.tail or "") + flow
        else:
            item.text = (item.text or "") + flow
        item.remove(code)
        blocks[placeholder] = block, item
    return blocks


def _code_block_in_item(markdown: str, placeholder: str, block: str, indent: int) -> str:
    """``markdown`` with the code ``block`` in the place of ``placeholder``, fenced on lines of its
    own indented to its item's content (CommonMark's list-item continuation), and the item's text
    after it a paragraph of the item. A block that starts its item starts the marker's line."""
    match = re.search(f"{placeholder}[ \t]*", markdown)
    if match is None:
        return markdown
    before = markdown[: match.start()]
    lines = [" " * indent + line if line else line for line in block.split("\n")]
    if _ITEM_MARKER.fullmatch(before[before.rfind("\n") + 1 :]):
        lines[0] = lines[0][indent:]
    else:
        before = before.rstrip(" \t") + "\n\n"
    return before + "\n".join(lines) + "\n\n" + " " * indent + markdown[match.end() :]


def code_set_apart(body: Any) -> Any:
    """``body``, or a copy with its code blocks set apart for ``xmltotxt``, in the text and the
    Markdown alike:

    - A ``code`` holding only a ``code`` (``<pre><code>``, the usual markup) lost the text after
      it: ``xmltotxt`` drops the tail of an element without text of its own. The inner one is
      unwrapped.
    - A code block does not end its line there: two ``<pre>`` in a row came back as one line
      ("…show globalnetsh interface…"). A top-level ``code`` followed by anything gets a line
      break after it.
    """
    nested = any(code.find(".//code") is not None for code in body.iter("code"))
    if not nested and not any(_runs_on(code) for code in body.iterchildren("code")):
        return body
    body = deepcopy(body)
    for code in [code for code in body.iter("code") if code.find(".//code") is not None]:
        etree.strip_tags(code, "code")  # its descendants only
    for code in body.iterchildren("code"):
        if _runs_on(code):
            code.tail = "\n" + (code.tail or "")
    return body


def _runs_on(code: Any) -> bool:
    """Whether something follows ``code`` on its line (no line break starts its tail)."""
    tail = code.tail or ""
    return not tail.startswith("\n") and (code.getnext() is not None or bool(tail.strip()))


def _headings_on_one_line(body: Any) -> None:
    """Make each line break in a heading a space (in place): a Markdown heading ("## ...") is one
    line, and trafilatura ended it at the break, the rest a paragraph; bold across the break was
    two runs of asterisks shown as text ("##### **Transparente…" then "notre caisse…:**", 1 of
    the 1,174 benchmark pages)."""
    for heading in body.iter("head"):
        if any(holder.tag == "code" for holder in heading.iterancestors()):
            continue  # code is written as it is (a page's markup shown in a <pre>)
        for line_break in heading.iter("lb"):
            line_break.tag = _LINE_BREAK_IN_HEADING
            line_break.tail = " " + (line_break.tail or "").lstrip(LAYOUT_SPACE)
    etree.strip_tags(body, _LINE_BREAK_IN_HEADING)  # each one's tail stays, where it was


def _keep_blank_code_lines(body: Any) -> None:
    """Mark each blank line of code with trafilatura's blank-line mark (in place): it drops every
    empty line of its output (``utils.sanitize``), the blank lines between a code block's
    functions too, and turns only its mark, U+2424, into one."""
    for code in body.iter("code"):
        for element in code.iter():
            if element is not code and element.tail:
                element.tail = _BLANK_LINE.sub("\u2424", element.tail)
            if element.text:
                element.text = _BLANK_LINE.sub("\u2424", element.text)


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


def _rows_of_equal_width(body: Any) -> None:
    """Give every row of each table its cells where the page's columns are (in place): an empty
    cell after each cell for every further column it spans (``colspan``, which trafilatura leaves
    in the tables it does not rebuild itself), then empty cells up to the widest row. A GFM reader
    takes the header row's cells as the columns: a caption row across the table ("<td
    colspan=7>February 2020") made a table of one column, whose other cells were dropped (3 of
    the 1,174 benchmark pages), and a spanning cell shifted the cells after it."""
    for table in body.iter("table"):
        rows = table.findall("row")
        for cell in [cell for row in rows for cell in row.iterchildren("cell")]:
            for _column in range(_span(cell, "colspan") - 1):
                cell.addnext(etree.Element("cell"))
            cell.attrib.pop("colspan", None)
        width = max((len(row.findall("cell")) for row in rows), default=0)
        for row in rows:
            for _missing in range(width - len(row.findall("cell"))):
                etree.SubElement(row, "cell")


def _escape_prose(element: Any) -> None:
    """Make the body's text read as text in CommonMark where trafilatura does not (in place).

    - Character references are escaped (the text "&copy;" read "©").
    - Block markers are escaped at the start of a line, after a line break too ("Intro<br># Not a
      heading" made a heading; "<p>---</p>" a rule, its text lost).
    - The source's line breaks and indentation are one space, as in a browser: after a blank
      line, its tabs made an indented code block (on 74 of the 1,174 benchmark pages, links and
      all shown as code), and a blank line in a link's text ended the link.

    Code is left alone: CommonMark takes it literally.
    """
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
    text = _LAYOUT_BREAK.sub(" ", _CHARACTER_REFERENCE.sub(_escaped, text))
    if not opens_line:
        return text
    content = text.lstrip(LAYOUT_SPACE)  # layout, which trafilatura drops at most block starts
    return "\\" + content if _DASHES.match(content) else str(_escape_block_start(content))


def _escaped(match: re.Match[str]) -> str:
    # n backslashes before the "&" become 2n (each stays literal), then one more escapes the "&".
    return "\\" * (2 * len(match.group()) - 1) + "&"
