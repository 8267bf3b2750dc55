"""Plain-text mode. Placeholder: every non-empty line becomes a paragraph."""

from __future__ import annotations

from lxml import etree

from service.models import Article, Metadata, Options


def clean_text(text: str, options: Options, url: str | None) -> Article:
    del options
    body = etree.Element("body")
    for line in text.splitlines():
        if line.strip():
            etree.SubElement(body, "p").text = line.strip()
    return Article(metadata=Metadata(url=url), body=body)
