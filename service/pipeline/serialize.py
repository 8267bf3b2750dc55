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
from service.pipeline.library_swaps import LAYOUT_SPACE, NUMBERING, decoded_once
from service.pipeline.markdown_lists import list_start
from service.pipeline.markdown_rendering import code_set_apart, render_markdown

# CJK ideographs, kana and hangul syllables count one word each: these scripts do not separate
# words by spaces, and a character is the usual unit of length there.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# Apostrophes, joiners kept in the text (ZWNJ/ZWJ, soft hyphen, word joiner) and combining
# accents of decomposed letters sit inside a word, not between two.
_IN_WORD = "'’\u00ad\u200c\u200d\u2060\u0300-\u036f"
_WORDS = re.compile(rf"[{_CJK}]|[^\W_]+(?:[{_IN_WORD}]+[^\W_]*)*")


# Address schemes a rendering may link to; any other (javascript:, data:, vbscript:, ...) is dropped.
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_IGNORED = re.compile("[\t\n\r]")
# The HTML rendering's vocabulary (trafilatura's ``convert_to_html`` of its XML) and each tag's
# attributes; any other element or attribute in the body is the page's own markup.
_HTML_ATTRIBUTES: dict[str, frozenset[str]] = {
    **dict.fromkeys(("html", "body", "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"), frozenset()),
    **dict.fromkeys(("ul", "dl", "dt", "dd", "table", "tr", "th", "td"), frozenset()),
    # what numbers a numbered list as on the page (``start``, ``value``: ``list_start``'s only)
    "ol": frozenset(NUMBERING["ol"]),
    "li": frozenset(NUMBERING["item"]),
    **dict.fromkeys(("strong", "b", "i", "em", "u", "sup", "sub", "del", "code"), frozenset()),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "title"}),
}
# The attribute that gives a list's or an item's number.
_NUMBERED = {"ol": "start", "li": "value"}
# Where code is a block of its own (``pre``): always directly in these, and when it spans lines in
# the others; elsewhere (in a paragraph, a heading, a link, emphasis, another block) it is inline.
_BLOCK_PARENTS = frozenset({"body", "blockquote", "div"})
_CODE_BLOCK_PARENTS = _BLOCK_PARENTS | {"li", "dd", "td", "th"}
# Page elements whose content is not text a reader sees (scripts, embeds, form controls, media).
_HTML_DROPPED = (
    *("script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet"),
    *("svg", "canvas", "audio", "video", "source", "track", "map", "area"),
    *("input", "select", "textarea", "button", "base", "link", "meta", "head", "title"),
)


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
    with decoded_once():
        rendered = xmltotxt(code_set_apart(body), include_formatting=False)
    lines = [line for line in rendered.split("\n") if not line.isspace()]
    return "\n".join(line if line in preformatted else line.strip(LAYOUT_SPACE) for line in lines)


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
    """The body as HTML safe to embed: only the tags trafilatura's vocabulary maps to, with only
    their own attributes (``a href``, ``img src/alt/title``) and safe addresses.

    The body holds page markup trafilatura passes through with its attributes (``p`` and
    ``graphic`` attributes, readability's ``div``/``picture``/``source`` blocks): ``onmouseover``,
    ``style``, ``class`` or ``srcset`` on 408 of the 1,174 benchmark pages, and script handlers
    wherever a page has them.
    """
    if body is None:
        return ""
    body = deepcopy(body)
    _name_lists(body)
    html_tree = convert_to_html(body)
    _name_code(html_tree)
    _keep_safe_html(html_tree)
    return str(etree.tostring(html_tree, encoding="unicode", method="html")).strip()


def _name_lists(body: Any) -> None:
    """Ordered and definition lists keep their kind (in place): ``convert_to_html`` makes every
    list a ``ul`` of ``li``, numbered steps and a glossary's terms alike (and drops an item's
    attributes: a numbered item keeps its ``value``)."""
    for element in body.iter("list"):
        kind = element.get("rend")
        if kind in ("ol", "dl"):
            element.tag = kind
        if kind == "ol":
            for item in element.iterchildren("item"):
                item.tag = "li"
        if kind == "dl":
            for item in element.iterchildren("item"):
                role = (item.get("rend") or "")[:2]
                item.tag = role if role in ("dt", "dd") else "dd"


def _name_code(tree: Any) -> None:
    """Code in a line of text is ``code``, a block of it ``pre`` (in place): ``convert_to_html``
    makes every ``code`` a ``pre`` (a block inside the paragraph, which ends it in a browser, and
    ``<pre><pre>`` for ``<pre><code>``) and inline code (``kbd``, ``tt``, ...) a ``var``."""
    for element in tree.iter("pre", "var"):
        parent = element.getparent().tag
        one_line = "\n" not in "".join(element.itertext()) and element.find(".//br") is None
        if element.tag == "var" or parent not in _CODE_BLOCK_PARENTS or (parent not in _BLOCK_PARENTS and one_line):
            element.tag = "code"


def _keep_safe_html(tree: Any) -> None:
    """Reduce ``tree`` to ``_HTML_ATTRIBUTES``' tags and attributes (in place): other elements are
    unwrapped (their text stays, as in the other renderings), those of ``_HTML_DROPPED`` go with
    their content, and so do comments and links or images to an unsafe address."""
    for node in list(tree.iter(etree.Comment, etree.ProcessingInstruction, *_HTML_DROPPED)):
        _remove_keeping_tail(node)
    for void in [void for void in tree.iter("img", "br") if void.text or len(void)]:
        # HTML has no content there, so it was not written: trafilatura puts the text of a link
        # around an image in the image ("<a><img>Next</a>" is a graphic holding "Next").
        content = etree.Element("unwrapped")
        content.text, void.text = void.text, None
        content.extend(list(void))
        content.tail, void.tail = void.tail, None
        void.addnext(content)
    unwrapped = []
    for element in tree.iter():
        allowed = _HTML_ATTRIBUTES.get(element.tag)
        if allowed is None:
            unwrapped.append(element)
            continue
        for name in [name for name in element.attrib if name not in allowed]:
            del element.attrib[name]
        number = _NUMBERED.get(element.tag)
        if number is not None and number in element.attrib and list_start(element.get(number)) is None:
            del element.attrib[number]
        if element.get("reversed") is not None:
            element.set("reversed", "")  # a boolean attribute: its presence counts
        address = element.get("href", element.get("src"))
        if element.tag in ("a", "img") and not (address and _is_safe_address(address)):
            unwrapped.append(element)
    for element in unwrapped:
        if element.tag == "img":
            _remove_keeping_tail(element)
        else:
            element.tag = "unwrapped"
    etree.strip_tags(tree, "unwrapped")


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
