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

# CJK ideographs, kana and hangul syllables count one word each: these scripts do not separate
# words by spaces, and a character is the usual unit of length there.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# Apostrophes, joiners kept in the text (ZWNJ/ZWJ, soft hyphen, word joiner) and combining
# accents of decomposed letters sit inside a word, not between two.
_IN_WORD = "'’\u00ad\u200c\u200d\u2060\u0300-\u036f"
_WORDS = re.compile(rf"[{_CJK}]|[^\W_]+(?:[{_IN_WORD}]+[^\W_]*)*")


def render_text(body: Any) -> str:
    return xmltotxt(body, include_formatting=False) if body is not None else ""


def render_markdown(body: Any) -> str:
    return xmltotxt(body, include_formatting=True) if body is not None else ""


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
