"""The last guard against a silent wrong answer: navigation returned as if it were the article.

trafilatura falls back to whatever text it can find; on a page with no article (a bare menu, a
landing page) or a tree it could not read, that is the menu. An answer whose text lies entirely
inside the page's navigation, header or footer markup is not an article: its body is emptied and
the warning ``no-main-content`` says so, and with ``explain`` the blocks are listed with their
reason. Only link-dense containers count as chrome: broken pages leave a ``<header>`` unclosed
and lxml then puts the whole article inside it (seen on real pages), but an article is prose,
not a list of links. The check is on markup, never on wording.
"""

from __future__ import annotations

import re

from lxml import etree

from service.models import Article, Removed
from service.pipeline.serialize import render_text

# Containers whose text is site chrome, never the article (HTML sectioning + ARIA landmarks).
_CHROME = "//nav | //header | //footer | //*[@role='navigation'] | //*[@role='banner'] | //*[@role='contentinfo']"
# A chrome container counts only when at least this share of its text is link text (menus are
# links; an article swallowed by an unclosed <header> is not).
MIN_CHROME_LINK_SHARE = 0.5
# Above this many characters an answer is not "a few menu links" and is left alone: checking
# long answers would cost time for nothing (menus are short).
MAX_CHECKED_CHARS = 2000
_SPACES = re.compile(r"\s+")


def check_answer(tree: etree._Element, article: Article) -> str:
    """Reject a chrome-only answer, then say ``no-main-content`` when nothing is left.

    Returns the body rendered as plain text (rendering is the cost of this stage, and later
    stages leave the body as it is).
    """
    text = render_text(article.body)
    if text.strip() and len(text) <= MAX_CHECKED_CHARS and _is_chrome_only(tree, text):
        for line in _lines(text):
            article.removed.append(Removed(text=line, reason="navigation"))
        for child in list(article.body):
            article.body.remove(child)
        article.body.text = None
        text = ""
    if not text.strip() and "no-main-content" not in article.warnings:
        article.warnings.append("no-main-content")
    return text


def _is_chrome_only(tree: etree._Element, text: str) -> bool:
    """Whether every line of ``text`` is text of the page's link-dense nav/header/footer."""
    chrome = " ".join(_normalize(node.text_content()) for node in tree.xpath(_CHROME) if _link_dense(node))
    return bool(chrome) and all(line in chrome for line in _lines(text))


def _lines(text: str) -> list[str]:
    return [_normalize(line) for line in text.splitlines() if line.strip()]


def _link_dense(node: etree._Element) -> bool:
    total = len(_normalize(node.text_content()))
    if not total:
        return False
    linked = sum(len(_normalize(link.text_content())) for link in node.iter("a"))
    return linked >= MIN_CHROME_LINK_SHARE * total


def _normalize(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
