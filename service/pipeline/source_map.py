"""Where a candidate block sat in the page's own markup: the block model's DOM features.

trafilatura's body is made of new elements, with no way back to the page. The page's text nodes
give one: before extraction every text node of the body is indexed by its first words (up to
``KEY_TOKENS`` lower-cased ``\\w+`` tokens), and a block is mapped to the elements whose text
nodes start at one of its words (short keys only at the block's start), taken in reading order;
the block's source element is their lowest common ancestor. From it, features a reader of the
markup would use: which containers it sits in (``article``, ``aside``, ``footer``, ...), which
families of class/id words its ancestors carry (``related``, ``share``, ``newsletter``, ...), and
whether it lies inside the element that holds most of the page's long prose blocks (the article
root), or how far outside.

Nothing here depends on a site: the vocabulary is the generic words of web templates, in English
(class names are English on most sites of every language), and each family is one feature whose
worth the cross-validation decides.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from lxml import etree

_TOKEN: Final = re.compile(r"\w+")
KEY_TOKENS: Final = 4
KEY_PREFIX: Final = 64  # characters
# Elements whose text is not the page's visible text.
_SKIP: Final = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "math", "option"})
# Containers a block can sit in (nearest such ancestor up to the body counts).
CONTAINERS: Final = (
    "article",
    "main",
    "aside",
    "footer",
    "header",
    "nav",
    "figure",
    "blockquote",
    "li",
    "table",
    "form",
)
# class/id word families: a token of an ancestor's class or id attribute equal to one of these.
CLASS_FAMILIES: Final[dict[str, frozenset[str]]] = {
    "content": frozenset(
        {"article", "content", "body", "text", "story", "post", "entry", "main", "prose", "paragraph"}
    ),
    "related": frozenset(
        {
            "related",
            "recommended",
            "recommendation",
            "recommendations",
            "teaser",
            "teasers",
            "more",
            "also",
            "trending",
            "popular",
            "latest",
            "most",
            "read",
            "next",
            "recirculation",
            "outbrain",
            "taboola",
        }
    ),
    "social": frozenset({"share", "sharing", "social", "follow", "twitter", "facebook", "whatsapp", "sharebar"}),
    "subscribe": frozenset(
        {"newsletter", "subscribe", "subscription", "signup", "paywall", "premium", "register", "login", "cta"}
    ),
    "ad": frozenset(
        {"ad", "ads", "advert", "advertisement", "sponsor", "sponsored", "promo", "promotion", "banner", "dfp"}
    ),
    "author": frozenset({"author", "byline", "bio", "profile", "contributor", "meta", "dateline"}),
    "media": frozenset(
        {"caption", "credit", "figcaption", "figure", "media", "photo", "image", "img", "video", "gallery", "embed"}
    ),
    "footer": frozenset({"footer", "bottom", "copyright", "legal", "disclaimer", "imprint"}),
    "nav": frozenset({"nav", "navigation", "menu", "breadcrumb", "breadcrumbs", "sidebar", "aside", "widget", "rail"}),
    "comment": frozenset({"comment", "comments", "discussion", "reply", "replies"}),
    "tags": frozenset({"tag", "tags", "keyword", "keywords", "topic", "topics", "category", "categories"}),
    "consent": frozenset({"cookie", "cookies", "consent", "gdpr", "privacy"}),
    "box": frozenset({"box", "info", "infobox", "aside", "card", "panel", "module", "factbox", "callout", "note"}),
}
SOURCE_FEATURES: Final[tuple[str, ...]] = (
    "src_found",
    "src_depth",
    *(f"src_in_{tag}" for tag in CONTAINERS),
    *(f"src_cls_{family}" for family in CLASS_FAMILIES),
    "src_in_root",
    "src_root_distance",
    "src_root_prose_share",
)
_INDEX: Final = {name: i for i, name in enumerate(SOURCE_FEATURES)}
# Class/id words are looked for this many ancestors up (the body's wrappers say nothing).
MAX_ANCESTORS: Final = 8
# A block counts as long prose for the article root at this many characters.
ROOT_PROSE_CHARS: Final = 100
_CAMEL: Final = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT: Final = re.compile(r"[^a-z]+")


class SourceMap:
    """The page's text nodes by their first words, and each element's place in reading order."""

    def __init__(self, tree: etree._Element | None = None) -> None:
        self._keys: defaultdict[tuple[str, ...], list[etree._Element]] = defaultdict(list)
        self._order: dict[etree._Element, int] = {}
        if tree is None:
            return
        body = tree.find("body") if tree.tag == "html" else tree
        if body is None:
            body = tree
        for number, element in enumerate(body.iter()):
            if not isinstance(element.tag, str):
                continue
            self._order[element] = number
            if element.tag in _SKIP:
                continue
            if element.text:
                self._add(element.text, element)
            if element.tail and element is not body:
                parent = element.getparent()
                if parent is not None and parent.tag not in _SKIP:
                    self._add(element.tail, parent)

    def _add(self, text: str, element: etree._Element) -> None:
        if text.isspace():
            return
        # The first words from a prefix (most text nodes are far longer than their key): with one
        # word more than the key found in it, the key's last word is whole.
        tokens = _TOKEN.findall(text[:KEY_PREFIX].lower())
        if len(tokens) <= KEY_TOKENS and len(text) > KEY_PREFIX:
            tokens = _TOKEN.findall(text.lower())
        if tokens:
            self._keys[tuple(tokens[:KEY_TOKENS])].append(element)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def locate(self, tokens: Sequence[str], after: int) -> etree._Element | None:
        """The source element of a block of ``tokens``: the lowest common ancestor of the first and
        the last element whose text node starts at one of its words (the first such element at or
        after reading position ``after``, else the first; short keys only at the block's start)."""
        n = len(tokens)
        first_at, first = -1, None
        for i in range(n):
            widths = range(min(KEY_TOKENS, n), 0, -1) if i == 0 else (KEY_TOKENS,)
            if i + KEY_TOKENS > n and i > 0:
                break
            for width in widths:
                elements = self._keys.get(tuple(tokens[i : i + width]))
                if elements:
                    first_at, first = i, self._pick(elements, after)
                    break
            if first is not None:
                break
        if first is None:
            return None
        for i in range(n - KEY_TOKENS, first_at, -1):
            elements = self._keys.get(tuple(tokens[i : i + KEY_TOKENS]))
            if elements:
                return _common_ancestor([first, self._pick(elements, self.order(first))])
        return first

    def _pick(self, elements: list[etree._Element], after: int) -> etree._Element:
        for element in elements:
            if self._order.get(element, -1) >= after:
                return element
        return elements[0]

    def order(self, element: etree._Element) -> int:
        return self._order.get(element, -1)


def source_features(
    source: SourceMap | None, words: Sequence[Sequence[str]], lengths: Sequence[float], own: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """One row of ``SOURCE_FEATURES`` per block (``words``: its lower-cased tokens)."""
    n = len(words)
    out = np.zeros((n, len(SOURCE_FEATURES)))
    if not source or n == 0:
        return out
    located: list[etree._Element | None] = []
    after = 0
    for tokens in words:
        element = source.locate(tokens, after) if tokens else None
        located.append(element)
        if element is not None:
            after = max(after, source.order(element))
    root = _article_root(located, lengths, own)
    root_depth = _depth(root) if root is not None else 0
    for i, element in enumerate(located):
        if element is None:
            continue
        row = out[i]
        row[_INDEX["src_found"]] = 1.0
        depth = _depth(element)
        row[_INDEX["src_depth"]] = min(depth, 40)
        chain = list(element.iterancestors())
        tags = {element.tag, *(a.tag for a in chain)}
        for tag in CONTAINERS:
            if tag in tags:
                row[_INDEX[f"src_in_{tag}"]] = 1.0
        for distance, node in enumerate([element, *chain[:MAX_ANCESTORS]]):
            words_here = _class_words(node)
            if not words_here:
                continue
            for family, vocabulary in CLASS_FAMILIES.items():
                column = _INDEX[f"src_cls_{family}"]
                if row[column] == 0.0 and words_here & vocabulary:
                    row[column] = 1.0 / (1 + distance)
        if root is not None:
            inside = element is root or root in chain
            row[_INDEX["src_in_root"]] = float(inside)
            if not inside:
                common = _common_ancestor([element, root])
                row[_INDEX["src_root_distance"]] = min(root_depth - _depth(common), 20) if common is not None else 20
    if root is not None:
        prose = [lengths[i] for i in range(n) if own[i] and lengths[i] >= ROOT_PROSE_CHARS]
        held = [
            lengths[i]
            for i in range(n)
            if own[i]
            and lengths[i] >= ROOT_PROSE_CHARS
            and located[i] is not None
            and (located[i] is root or root in located[i].iterancestors())  # type: ignore[union-attr]
        ]
        out[:, _INDEX["src_root_prose_share"]] = sum(held) / sum(prose) if prose else 0.0
    return out


def _article_root(
    located: Sequence[etree._Element | None], lengths: Sequence[float], own: Sequence[bool]
) -> etree._Element | None:
    """The deepest element holding at least half of the characters of trafilatura's long blocks."""
    weights: dict[etree._Element, float] = defaultdict(float)
    total = 0.0
    for element, length, mine in zip(located, lengths, own, strict=True):
        if element is None or not mine or length < ROOT_PROSE_CHARS:
            continue
        total += length
        for node in (element, *element.iterancestors()):
            weights[node] += length
    if not total:
        return None
    best, best_depth = None, -1
    for node, weight in weights.items():
        if weight >= 0.5 * total:
            depth = _depth(node)
            if depth > best_depth:
                best, best_depth = node, depth
    return best


def _class_words(element: etree._Element) -> set[str]:
    value = f"{element.get('class') or ''} {element.get('id') or ''}"
    if not value.strip():
        return set()
    return {w for w in _SPLIT.split(_CAMEL.sub(" ", value).lower()) if w}


def _depth(element: etree._Element) -> int:
    return sum(1 for _ in element.iterancestors())


def _common_ancestor(elements: Sequence[etree._Element]) -> etree._Element | None:
    """The lowest element that is or contains every one of ``elements``."""
    first = elements[0]
    path = [first, *first.iterancestors()]
    position = {node: i for i, node in enumerate(path)}
    lowest = 0
    for element in elements[1:]:
        for node in (element, *element.iterancestors()):
            if node in position:
                lowest = max(lowest, position[node])
                break
        else:
            return None
    return path[lowest]
