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
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from lxml import etree

_TOKEN: Final = re.compile(r"\w+")
KEY_TOKENS: Final = 4
KEY_PREFIX: Final = 64  # characters
# Elements whose text is not the page's visible text.
_TEXT_NODES: Final = etree.XPath(".//text()[normalize-space()]")
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
_CONTAINER_SET: Final = frozenset(CONTAINERS)
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
    """The page's text nodes by their first words, each with its place in reading order."""

    def __init__(self, tree: etree._Element | None = None) -> None:
        # key -> [(reading position, element whose text node starts with it)], in reading order
        self._keys: defaultdict[tuple[str, ...], list[tuple[int, etree._Element]]] = defaultdict(list)
        if tree is None:
            return
        body = tree.find("body") if tree.tag == "html" else tree
        if body is None:
            body = tree
        keys, token, prefix = self._keys, _TOKEN.findall, KEY_PREFIX
        # One pass over the non-blank text nodes (selected in C); ~1 µs each is the whole cost.
        for number, text in enumerate(_TEXT_NODES(body)):
            owner = text.getparent()
            if text.is_tail:
                owner = owner.getparent()
            if owner is None or owner.tag in _SKIP:
                continue
            # The first words from a prefix (most text nodes are far longer than their key): with
            # one word more than the key found in it, the key's last word is whole.
            tokens = token(text[:prefix].lower())
            if len(tokens) <= KEY_TOKENS and len(text) > prefix:
                tokens = token(text.lower())
            if tokens:
                keys[tuple(tokens[:KEY_TOKENS])].append((number, owner))

    def __bool__(self) -> bool:
        return bool(self._keys)

    def locate(self, tokens: Sequence[str], after: int) -> tuple[etree._Element, int] | None:
        """The source element of a block of ``tokens`` and the reading position of its first text
        node: the lowest common ancestor of the first and the last element whose text node starts
        at one of its words (for each, the first at or after reading position ``after``, else the
        first; short keys only at the block's start)."""
        n = len(tokens)
        first_at, first = -1, None
        for i in range(n):
            if i + KEY_TOKENS > n and i > 0:
                break
            for width in range(min(KEY_TOKENS, n), 0, -1) if i == 0 else (KEY_TOKENS,):
                found = self._keys.get(tuple(tokens[i : i + width]))
                if found:
                    first_at, first = i, _pick(found, after)
                    break
            if first is not None:
                break
        if first is None:
            return None
        for i in range(n - KEY_TOKENS, first_at, -1):
            found = self._keys.get(tuple(tokens[i : i + KEY_TOKENS]))
            if found:
                last = _pick(found, first[0])
                common = _common_ancestor([first[1], last[1]])
                return (common, first[0]) if common is not None else first[::-1]
        return first[1], first[0]


def _pick(found: list[tuple[int, etree._Element]], after: int) -> tuple[int, etree._Element]:
    for position, element in found:
        if position >= after:
            return position, element
    return found[0]


class _Ancestry:
    """Per element, memoised (blocks share their ancestors): depth, the containers above it and
    each class/id word family's distance up."""

    def __init__(self) -> None:
        self._memo: dict[etree._Element, tuple[int, frozenset[str], dict[str, int]]] = {}

    def of(self, element: etree._Element) -> tuple[int, frozenset[str], dict[str, int]]:
        path = []
        node: etree._Element | None = element
        while node is not None and node not in self._memo:
            path.append(node)
            node = node.getparent()
        above = self._memo[node] if node is not None else (-1, frozenset(), {})
        for node in reversed(path):
            depth, containers, families = above
            own = _class_families(node)
            near = {f: d + 1 for f, d in families.items() if d + 1 <= MAX_ANCESTORS}
            near.update(dict.fromkeys(own, 0))
            tag = node.tag if isinstance(node.tag, str) else ""
            above = (depth + 1, containers | {tag} if tag in _CONTAINER_SET else containers, near)
            self._memo[node] = above
        return above


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
        found = source.locate(tokens, after) if tokens else None
        located.append(found[0] if found else None)
        if found is not None:
            after = max(after, found[1])
    ancestry = _Ancestry()
    root = _article_root(located, lengths, own, ancestry)
    root_depth = ancestry.of(root)[0] if root is not None else 0
    under_root = _descendants_test(root)
    for i, element in enumerate(located):
        if element is None:
            continue
        row = out[i]
        depth, containers, families = ancestry.of(element)
        row[_INDEX["src_found"]] = 1.0
        row[_INDEX["src_depth"]] = min(depth, 40)
        for tag in containers:
            row[_INDEX[f"src_in_{tag}"]] = 1.0
        for family, distance in families.items():
            row[_INDEX[f"src_cls_{family}"]] = 1.0 / (1 + distance)
        if root is not None:
            inside = under_root(element)
            row[_INDEX["src_in_root"]] = float(inside)
            if not inside:
                common = _common_ancestor([element, root])
                distance = root_depth - ancestry.of(common)[0] if common is not None else 20
                row[_INDEX["src_root_distance"]] = min(distance, 20)
    if root is not None:
        prose = [i for i in range(n) if own[i] and lengths[i] >= ROOT_PROSE_CHARS]
        held = sum(lengths[i] for i in prose if located[i] is not None and under_root(located[i]))
        total = sum(lengths[i] for i in prose)
        out[:, _INDEX["src_root_prose_share"]] = held / total if total else 0.0
    return out


def _descendants_test(root: etree._Element | None) -> Callable[[etree._Element], bool]:
    """``element is root or root is an ancestor of element`` (memoised along the way)."""
    memo: dict[etree._Element, bool] = {}

    def inside(element: etree._Element) -> bool:
        path = []
        node: etree._Element | None = element
        while node is not None and node not in memo and node is not root:
            path.append(node)
            node = node.getparent()
        answer = node is root if node is None or node is root else memo[node]
        for visited in path:
            memo[visited] = answer
        return answer

    return inside


def _article_root(
    located: Sequence[etree._Element | None], lengths: Sequence[float], own: Sequence[bool], ancestry: _Ancestry
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
            depth = ancestry.of(node)[0]
            if depth > best_depth:
                best, best_depth = node, depth
    return best


def _class_families(element: etree._Element) -> list[str]:
    """The class/id word families ``element``'s own class and id attributes name."""
    value = f"{element.get('class') or ''} {element.get('id') or ''}" if isinstance(element.tag, str) else ""
    if not value.strip():
        return []
    words = {w for w in _SPLIT.split(_CAMEL.sub(" ", value).lower()) if w}
    return [family for family, vocabulary in CLASS_FAMILIES.items() if words & vocabulary]


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
