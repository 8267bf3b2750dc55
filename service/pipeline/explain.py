"""``explain`` for HTML mode: which blocks of the page are not in the answer, and why.

trafilatura does not say what it dropped, so the page's own blocks are compared with the
answer's text: its plain words, whatever the rendering options add (``links`` renders
``[text](url)``, ``images`` ``![alt](src)``) and with whitespace ignored (a ``<br>`` joins two
lines in the page's text but separates them in the answer), so kept text is never listed.
A block that is absent gets the reason its markup gives (the nearest ancestor that is a
``<nav>``, a ``footer``, a ``share``/``related``/``comment`` container ...), else
``not-main-content`` (the extractor's scoring did not pick it). Only computed on request: it
walks the whole page once.
"""

from __future__ import annotations

import re
from copy import deepcopy

from lxml import etree

from service.models import Article, Removed
from service.pipeline.serialize import render_text

# Block-level tags: a block with none of these below it is one unit of text for explain.
BLOCK_TAGS = frozenset(
    [
        "p",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "td",
        "th",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "figcaption",
        "caption",
        "div",
        "section",
        "article",
        "aside",
        "header",
        "footer",
        "nav",
        "ul",
        "ol",
        "dl",
        "table",
        "tr",
        "tbody",
        "form",
        "main",
        "figure",
        "address",
        "details",
        "summary",
        "button",
        "label",
        "option",
        "select",
        "menu",
        "center",
    ]
)
SKIPPED_TAGS = frozenset(
    ["script", "style", "noscript", "template", "head", "title", "svg", "math", "iframe", "object", "embed"]
)
# Shorter blocks (a lone "|" or "»") are not worth listing.
MIN_BLOCK_CHARS = 2
# A page listing more removed blocks than this is summarised by its longest ones: explain must
# stay readable and the answer bounded.
MAX_LISTED_BLOCKS = 500

# (reason, pattern on a container's tag, class and id), nearest container first. General
# markup conventions (WordPress, Drupal, schema.org, ARIA roles), not one site's names.
_SECTION_REASONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        ("cookie-banner", r"cookie|consent|gdpr"),
        ("newsletter", r"newsletter|subscri|signup|sign-up|mailchimp|mc4wp"),
        ("share-buttons", r"shar(e|ing)|social|sociable|addthis|sharedaddy"),
        ("related-links", r"related|recent|more-(stories|articles|posts)|recommend|popular|trending|read-?more|yarpp"),
        ("comments", r"comment|disqus|respond|reply"),
        ("author-box", r"author|byline|about-the|bio\b|profile"),
        ("advertising", r"(^|[\s_-])ads?($|[\s_-])|advert|sponsor|promo|banner|dfp"),
        ("breadcrumbs", r"breadcrumb"),
        ("tags", r"(^|[\s_-])(tags?|categor(y|ies)|labels?)($|[\s_-])|tag-?cloud|post-?tags"),
        ("image-caption", r"caption|credit|wp-caption"),
        ("navigation", r"^nav$|(^|[\s_-])nav|menu|navbar|pagination|pager|skip-link|toc"),
        ("sidebar", r"^aside$|sidebar|widget"),
        ("page-header", r"^header$|masthead|site-header|topbar"),
        ("footer", r"^footer$|footer|colophon|copyright"),
        ("form", r"^form$|search"),
    )
)
_ROLE_REASONS = {
    "navigation": "navigation",
    "banner": "page-header",
    "contentinfo": "footer",
    "complementary": "sidebar",
    "search": "form",
}
_SPACES = re.compile(r"\s+")
# Markup of trafilatura's vocabulary that the renderings turn into extra characters: links
# (their text kept) and images (nothing of the page's block text).
_LINK_TAGS = ("ref",)
_IMAGE_TAGS = ("graphic",)


def dropped_blocks(tree: etree._Element, article: Article) -> list[Removed]:
    """Blocks of ``tree`` whose text is not in the article (body or metadata), with reasons."""
    kept = _comparable(_plain_text(article.body))
    kept_comments = _comparable(_plain_text(article.comments_body))
    already = {_normalize(item.text) for item in article.removed}
    title = _normalize(article.metadata.title or "")
    removed: list[Removed] = []
    seen: set[str] = set()
    body = tree.find("body")
    for block in _leaf_blocks(body if body is not None else tree):
        text = _normalize(_visible_text(block))
        if len(text) < MIN_BLOCK_CHARS or text in seen or text in already:
            continue
        seen.add(text)
        comparable = _comparable(text)
        if comparable in kept or (kept_comments and comparable in kept_comments):
            continue
        reason = "title" if text == title else reason_for(block)
        removed.append(Removed(text=text, reason=reason))
    if len(removed) > MAX_LISTED_BLOCKS:
        longest = sorted(removed, key=lambda item: len(item.text), reverse=True)[:MAX_LISTED_BLOCKS]
        keep = {id(item) for item in longest}
        removed = [item for item in removed if id(item) in keep]
    return removed


def reason_for(element: etree._Element) -> str:
    """The reason code the markup around ``element`` gives, nearest container first."""
    node: etree._Element | None = element
    while node is not None and isinstance(node.tag, str) and node.tag not in {"body", "html"}:
        role = (node.get("role") or "").lower()
        if role in _ROLE_REASONS:
            return _ROLE_REASONS[role]
        labels = (node.tag, node.get("class") or "", node.get("id") or "")
        for reason, pattern in _SECTION_REASONS:
            if any(pattern.search(label) for label in labels):
                return reason
        node = node.getparent()
    return "not-main-content"


def _leaf_blocks(root: etree._Element) -> list[etree._Element]:
    """Block elements with no block element below them, in document order.

    One pass marks every ancestor of a block; the list keeps the element proxies alive, so
    their ``id`` stays stable while the marks are in use.
    """
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    has_block_below: set[int] = set()
    for element in elements:
        if element.tag not in BLOCK_TAGS:
            continue
        parent = element.getparent()
        while parent is not None and id(parent) not in has_block_below:
            has_block_below.add(id(parent))
            parent = parent.getparent()
    return [e for e in elements if e.tag in BLOCK_TAGS and id(e) not in has_block_below and not _inside_skipped(e)]


def _visible_text(block: etree._Element) -> str:
    """The block's text without what its <script>, <style> ... hold: source code, not text a
    reader saw (issue 24, item 16)."""
    if next(block.iter(*SKIPPED_TAGS), None) is None:
        return str(block.text_content())
    copy = deepcopy(block)
    etree.strip_elements(copy, *SKIPPED_TAGS, with_tail=False)  # the text after them stays
    return str(copy.text_content())


def _inside_skipped(element: etree._Element) -> bool:
    return any(a.tag in SKIPPED_TAGS for a in element.iterancestors())


def _plain_text(body: etree._Element | None) -> str:
    """The answer's text without link targets and image markup (what the page's blocks hold)."""
    if body is None:
        return ""
    if next(body.iter(*_LINK_TAGS, *_IMAGE_TAGS), None) is None:
        return render_text(body)
    plain = deepcopy(body)
    etree.strip_tags(plain, *_LINK_TAGS)
    etree.strip_elements(plain, *_IMAGE_TAGS, with_tail=False)
    return render_text(plain)


def _comparable(text: str) -> str:
    """``text`` without any whitespace: renderings and pages break lines differently."""
    return _SPACES.sub("", text)


def _normalize(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
