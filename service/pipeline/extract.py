"""The one place trafilatura's extraction is called: tree in, our ``Article`` out.

trafilatura returns ``None`` for every kind of failure and names its fields its own way; here
its ``Document`` is mapped field by field into ``Metadata``, and "nothing found" becomes an
empty body with the warning ``no-main-content`` (never a ``None`` crossing a stage boundary).
A fresh ``Extractor`` is built for every call and deduplication is off, so no state is carried
from one page to the next (trafilatura#840, #925: not thread-safe; we run one page per process).
"""

from __future__ import annotations

import logging
from copy import deepcopy
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.baseline import baseline
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Extractor

from service.models import Article, Metadata, Options

# trafilatura logs every discarded page at WARNING; the service reports that as a warning code.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

# A baseline rescue shorter than this is noise (a cookie line, a lone heading), not an article.
MIN_BASELINE_CHARS = 80


def extract_article(tree: lxml.html.HtmlElement, url: str | None, options: Options) -> Article:
    """Run trafilatura on ``tree`` (left untouched: trafilatura works on a copy)."""
    extractor = Extractor(
        output_format="python",
        precision=options.favor == "precision",
        recall=options.favor == "recall",
        comments=options.comments,
        formatting=True,  # keeps headings/emphasis so Markdown can be rendered from the same body
        links=options.links,
        images=options.images,
        tables=options.tables,
        dedup=False,
        url=url,
        with_metadata=True,
    )
    warnings: list[str] = []
    document = bare_extraction(tree, options=extractor)
    if document is None or isinstance(document, dict):
        metadata = map_metadata(extract_metadata(deepcopy(tree), url), url)
        body = _baseline_body(tree)
        warnings.append("no-main-content" if body is None else "fallback-extraction")
        return Article(metadata=metadata, body=body if body is not None else etree.Element("body"), warnings=warnings)
    comments_body = document.commentsbody if options.comments else None
    return Article(metadata=map_metadata(document, url), body=document.body, comments_body=comments_body)


def map_metadata(document: Any, url: str | None) -> Metadata:
    """trafilatura's Document -> our Metadata, field by field."""
    page_url = url or _clean(getattr(document, "url", None))
    hostname = _clean(getattr(document, "hostname", None))
    if not hostname and page_url:
        hostname = urlsplit(page_url).hostname
    return Metadata(
        title=_clean(document.title),
        authors=split_authors(document.author),
        date=_clean(document.date),
        sitename=_clean(document.sitename),
        hostname=hostname,
        url=page_url,
        language=_clean(getattr(document, "language", None)),
        description=_clean(document.description),
        categories=[c for c in (document.categories or []) if c],
        tags=[t for t in (document.tags or []) if t],
        image=_clean(document.image),
    )


def split_authors(raw: str | None) -> list[str]:
    """trafilatura joins authors with '; '."""
    if not raw:
        return []
    return list(dict.fromkeys(part.strip() for part in raw.split(";") if part.strip()))


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _baseline_body(tree: lxml.html.HtmlElement) -> etree._Element | None:
    body, text, _length = baseline(tree)
    if len(text.strip()) < MIN_BASELINE_CHARS:
        return None
    return body
