"""Article -> the response schema: text, Markdown and HTML renderings plus metadata.

The schema is documented in the README ("Response"); every key is always present (``null`` or
an empty list when unknown) except the renderings and fields the caller did not ask for. Text is
not Unicode-normalised: it comes back as the page sent it (NFC changed the renderings but not the
title, and it rewrites CJK compatibility ideographs, issue 24).
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Any

from lxml import etree
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.xml import xmltotxt

from service.models import Article, Options
from service.pipeline.block_rules import BLOCK_TAGS

# CJK ideographs, kana and hangul syllables count one word each: these scripts do not separate
# words by spaces, and a character is the usual unit of length there.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# Apostrophes, joiners kept in the text (ZWNJ/ZWJ, soft hyphen, word joiner) and combining
# accents of decomposed letters sit inside a word, not between two.
_IN_WORD = "'’\u00ad\u200c\u200d\u2060\u0300-\u036f"
_WORDS = re.compile(rf"[{_CJK}]|[^\W_]+(?:[{_IN_WORD}]+[^\W_]*)*")


# ASCII whitespace (WHATWG): the source's layout, which a browser collapses. Other spaces (NBSP,
# U+3000, ...) are the page's characters and stay.
_LAYOUT_SPACE = " \t\n\f\r"
# Address schemes a rendering may link to; any other (javascript:, data:, vbscript:, ...) is dropped.
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_IGNORED = re.compile("[\t\n\r]")
# A Markdown code fence as trafilatura writes it (three or more backticks).
_FENCE = re.compile(r"^\s*(`{3,})")


def render_text(body: Any) -> str:
    """The body as plain text: one line per paragraph or line break, no Markdown.

    trafilatura keeps the source's indentation where a ``<br>`` or a quote splits a paragraph
    (whitespace-only and indented lines on 8 % of the benchmark pages) and writes kept links and
    images as Markdown. Here lines are trimmed and empty ones dropped, but preformatted text
    (code, and the quotes trafilatura makes of ``<pre>`` text) keeps its indentation; links and
    images are left to the Markdown and HTML renderings.
    """
    if body is None:
        return ""
    if body.find(".//ref") is not None or body.find(".//graphic") is not None:
        body = _without_links_and_images(body)
    preformatted = {
        line
        for element in body.iter("code", "quote")
        for line in ("".join(element.itertext()) if element.tag == "code" else element.text or "").split("\n")
    }
    lines = [
        line for line in xmltotxt(_ready_for_xmltotxt(body), include_formatting=False).split("\n") if not line.isspace()
    ]
    return "\n".join(line if line in preformatted else line.strip(_LAYOUT_SPACE) for line in lines)


def _ready_for_xmltotxt(body: Any) -> Any:
    """``body``, or a copy with what ``xmltotxt`` renders unfaithfully set right beforehand.

    - ``xmltotxt`` ends with ``html.unescape`` of the whole text, which decoded the page's
      characters a second time: a page showing "&lt;div&gt;" (written ``&amp;lt;div&amp;gt;``)
      came back "<div>", and "?a=1&para=2" as "?a=1¶=2". Every ``&`` is escaped here, so it
      comes back as itself.
    - A code block does not end its line there: two ``<pre>`` in a row came back as one line
      ("…show globalnetsh interface…"). A top-level ``code`` followed by anything gets a line
      break after it.
    - A ``code`` holding only a ``code`` (``<pre><code>``, the usual markup) lost the text after
      it: ``xmltotxt`` drops the tail of an element without text of its own. The inner one is
      unwrapped.
    """
    ampersands = any("&" in text for text in body.itertext())
    nested = [code for code in body.iter("code") if code.find(".//code") is not None]
    if not ampersands and not nested and not any(_runs_on(code) for code in body.iterchildren("code")):
        return body
    body = deepcopy(body)
    for element in body.iter() if ampersands else ():
        if element.text and "&" in element.text:
            element.text = element.text.replace("&", "&amp;")
        if element.tail and "&" in element.tail:
            element.tail = element.tail.replace("&", "&amp;")
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


def render_markdown(body: Any) -> str:
    """The body as Markdown; trailing spaces and whitespace-only lines (see ``render_text``) go,
    and so does a second blank line in a row."""
    if body is None:
        return ""
    lines: list[str] = []
    fence = ""
    for line in xmltotxt(body, include_formatting=True).split("\n"):
        opening = _FENCE.match(line)
        if opening and (not fence or opening.group(1).startswith(fence)):
            fence = "" if fence else opening.group(1)
        elif not fence:
            line = line.rstrip(_LAYOUT_SPACE)
            if not line and (not lines or not lines[-1]):
                continue  # one blank line between blocks is Markdown's paragraph break
        lines.append(line)
    return "\n".join(lines).strip("\n")


def _without_links_and_images(body: Any) -> Any:
    """A copy of ``body`` with links unwrapped (their text stays) and images removed."""
    body = deepcopy(body)
    etree.strip_tags(body, "ref")
    for image in list(body.iter("graphic")):
        _remove_keeping_tail(image)
    return body


def unwrap_layout_tables(body: Any) -> None:
    """Put the content of a table of one cell in the table's place (in place).

    A table of one row and one cell is the page's layout (old sites box their article in one),
    not data, and trafilatura renders a cell as one line: "| First paragraph. Second paragraph. |"
    on 9 of the 1,174 HTML benchmark pages. Its paragraphs become the body's own.
    """
    if body is None:
        return
    for table in list(body.iter("table")):
        rows = table.findall("row")
        cells = rows[0].findall("cell") if len(rows) == 1 else []
        if len(cells) != 1 or len(rows[0]) != 1 or len(table) != 1:
            continue
        cell, parent = cells[0], table.getparent()
        if any(child.tag in BLOCK_TAGS for child in cell):
            content = list(cell)
            if cell.text and cell.text.strip():
                lead = etree.Element("p")
                lead.text = cell.text
                content.insert(0, lead)
        else:
            cell.tag = "p"
            cell.attrib.clear()
            content = [cell]
        content[-1].tail = (content[-1].tail or "") + (table.tail or "")
        position = parent.index(table)
        parent[position : position + 1] = content


def drop_unsafe_targets(body: Any) -> None:
    """Unwrap links and remove images whose address is not http(s), mailto, tel or relative
    (in place): a ``javascript:`` or ``data:`` link in the Markdown or HTML rendering runs
    script wherever a user displays it."""
    if body is None:
        return
    unsafe = [ref for ref in body.iter("ref") if not _is_safe_address(ref.get("target"))]
    for link in unsafe:
        link.tag = "unsafe-ref"
    if unsafe:
        etree.strip_tags(body, "unsafe-ref")  # the link's text stays
    for image in [graphic for graphic in body.iter("graphic") if not _is_safe_address(graphic.get("src"))]:
        _remove_keeping_tail(image)


def _is_safe_address(address: str | None) -> bool:
    # A URL parser drops tabs and newlines anywhere and controls and spaces at the ends
    # ("java\tscript:" is "javascript:"); the scheme is what comes before a ":" that no "/", "?"
    # or "#" precedes.
    address = _URL_IGNORED.sub("", address or "").strip("\x00- ")
    scheme = _SCHEME.match(address)
    return scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES


def _remove_keeping_tail(element: Any) -> None:
    parent, previous = element.getparent(), element.getprevious()
    tail = element.tail or ""
    before = (previous.tail if previous is not None else parent.text) or ""
    if before[-1:].isspace():
        tail = tail.lstrip(" ")  # "and <img> more" reads "and more", not "and  more"
    if previous is not None:
        previous.tail = before + tail
    else:
        parent.text = before + tail
    parent.remove(element)


def render_html(body: Any) -> str:
    if body is None:
        return ""
    html_tree = convert_to_html(deepcopy(body))
    return str(etree.tostring(html_tree, encoding="unicode", method="html")).strip()


def count_words(text: str) -> int:
    return len(_WORDS.findall(text))


def to_response(article: Article, options: Options, text: str | None = None) -> dict[str, Any]:
    """Build the JSON-ready answer (without ``timing_ms``, which the web worker adds).

    ``text`` is the body already rendered as plain text, when the caller has it.
    """
    meta = article.metadata
    if text is None:
        text = render_text(article.body)
    response: dict[str, Any] = {
        "url": meta.url,
        "title": meta.title,
        "authors": meta.authors,
        "date": meta.date,
        "sitename": meta.sitename,
        "hostname": meta.hostname,
        "language": meta.language,
        "description": meta.description,
        "categories": meta.categories,
        "tags": meta.tags,
        "image": meta.image,
        "text": text,
    }
    if options.links or options.images:
        drop_unsafe_targets(article.body)
    if "markdown" in options.formats:
        response["markdown"] = render_markdown(article.body)
    if "html" in options.formats:
        response["html"] = render_html(article.body)
    if options.comments:
        response["comments"] = render_text(article.comments_body)
    response["word_count"] = count_words(text)
    if options.explain:
        response["removed"] = [item.as_dict() for item in article.removed]
    response["warnings"] = list(dict.fromkeys(article.warnings))
    return response
