"""The candidate blocks of an HTML answer and the features the block model decides on.

Candidates are the top-level blocks of trafilatura's body, in order, plus the blocks of
readability's candidate that trafilatura's body lacks (each placed after the nearest block both
hold). Each block gets a feature row: its own shape (length, words, sentence ends), its
neighbours', where it comes from (trafilatura kept it, readability holds it, how much the two
candidates agree), repetition, which clutter rule of ``block_rules`` fires on it (rules are
features and reason codes, not decisions). A block's position on the page and its words' share
in the title were features too: without them the cross-validated F1 is no lower (bench/README.md).
Nothing here depends on any page's wording beyond those multilingual rules.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from lxml import etree

from service.models import Article, Options
from service.pipeline import block_rules
from service.pipeline.library_swaps import LAYOUT_RUNS, LAYOUT_SPACE, TRAFILATURA_LINE_TAGS

# Tags of trafilatura's vocabulary that make one block of readability's candidate.
READABILITY_BLOCK_TAGS: Final = frozenset({"p", "head", "list", "quote", "code", "table"})
# A readability block counts as present in trafilatura's answer when this share of its 4-token
# shingles is there (the same share labels a block as article text against a shingle truth).
PRESENT_SHARE: Final = 0.5
SHINGLE: Final = 4
# Tags with an indicator feature; every other top-level tag falls in "other".
TAGS: Final = ("p", "head", "list", "quote", "table", "graphic")
# Sentence ends of the scripts in the development sets (Latin, Cyrillic, CJK quotes and stops).
_SENTENCE_END: Final = re.compile(r"[.!?…:;\"'”»)。！？」]$")
_SENTENCE_BREAK: Final = re.compile(r"[.!?。！？](?:\s|$)")
_TOKEN: Final = re.compile(r"\w+")
_DIGIT: Final = re.compile(r"\d")
_SPACES: Final = re.compile(r"\s+")
# Count features are capped here: beyond it, more says nothing new.
MAX_COUNT: Final = 10

OWN_FEATURES: Final[tuple[str, ...]] = (
    "log_chars",
    "log_words",
    "ends_sentence",
    "sentence_breaks",
    "digit_share",
    "mean_word_len",
    *(f"tag_{tag}" for tag in TAGS),
    "tag_other",
    "from_trafilatura",
    "in_readability",
    "repeated",
    "rule_fired",
    *(f"rule_{code}" for code in block_rules.REASON_CODES),
)
PAGE_FEATURES: Final[tuple[str, ...]] = (
    "page_log_chars",
    "page_log_blocks",
    "readability_ran",
    "readability_agreement",
    "readability_log_ratio",
    "extra_share",
)
NEIGHBOUR_FEATURES: Final[tuple[str, ...]] = (
    "log_chars",
    "ends_sentence",
    "from_trafilatura",
    "rule_fired",
)
NEIGHBOUR_OFFSETS: Final = (-1, 1)
FEATURE_NAMES: Final[tuple[str, ...]] = (
    *OWN_FEATURES,
    *PAGE_FEATURES,
    *(f"{name}@{off:+d}" for off in NEIGHBOUR_OFFSETS for name in NEIGHBOUR_FEATURES),
)
_OWN: Final = {name: i for i, name in enumerate(OWN_FEATURES)}


@dataclass
class Block:
    """One candidate block: the element, its text, where it comes from, the rule that fires."""

    element: etree._Element
    text: str
    from_trafilatura: bool
    rule: str | None = None
    _shingles: Counter[tuple[str, ...]] | None = None

    @property
    def shingles(self) -> Counter[tuple[str, ...]]:
        """The 4-token shingles of the text (computed once: merging and features both need them)."""
        if self._shingles is None:
            self._shingles = _shingles(self.text)
        return self._shingles


@dataclass
class ReadabilityView:
    """What readability said about the page: its converted candidate (when trafilatura lacks
    some of its prose) and its raw text (when it ran and was not trafilatura's choice)."""

    ran: bool = False
    chosen: bool = False
    text: str | None = None
    body: etree._Element | None = None


def candidate_blocks(article: Article, readability: ReadabilityView, options: Options) -> list[Block]:
    """trafilatura's top-level blocks plus readability's missing ones, in reading order, each with
    the reason code of the clutter rule that fires on it (bylines fill ``metadata.authors``)."""
    own = [Block(el, _text(el), True) for el in article.body if isinstance(el.tag, str)]
    blocks = _merge(own, readability.body) if readability.body is not None else own
    reasons = block_rules.rule_reasons(
        [b.element for b in blocks],
        [b.text for b in blocks],
        [b.from_trafilatura for b in blocks],
        article.metadata,
        options,
    )
    for block, reason in zip(blocks, reasons, strict=True):
        block.rule = reason
    return blocks


def _merge(own: list[Block], candidate: etree._Element) -> list[Block]:
    """``own`` with each block of ``candidate`` it lacks inserted after the last shared block, or
    before the first one when none came before it (not at the very start: trafilatura's own
    first blocks may come earlier on the page, and a donation box that readability holds before
    the article's first shared paragraph was put ahead of the whole article)."""
    own_shingles = [b.shingles for b in own]
    remaining: Counter[tuple[str, ...]] = Counter()
    for sh in own_shingles:
        remaining.update(sh)
    index = _ShingleIndex(own_shingles)
    after: defaultdict[int, list[Block]] = defaultdict(list)  # own index (-1: before all) -> extras
    anchor = -1
    for element in _outer_blocks(candidate):
        block = Block(element, _text(element), False)
        sh = block.shingles
        if not sh:
            continue
        if _share(sh, remaining) >= PRESENT_SHARE:
            for shingle, count in sh.items():
                left = remaining.get(shingle, 0) - count
                if left > 0:
                    remaining[shingle] = left
                else:
                    remaining.pop(shingle, None)
            matched = index.best_match(sh)
            if matched is not None:
                if anchor == -1 and -1 in after:
                    after[matched - 1] = after.pop(-1)
                anchor = matched
            continue
        collapse_whitespace(element)
        after[anchor].append(block)
    if not after:
        return own
    merged = list(after.get(-1, []))
    for number, block in enumerate(own):
        merged.append(block)
        merged.extend(after.get(number, []))
    return merged


def block_features(blocks: Sequence[Block], readability: ReadabilityView) -> npt.NDArray[np.float64]:
    """One feature row per block (``FEATURE_NAMES``)."""
    n = len(blocks)
    own = np.zeros((n, len(OWN_FEATURES)))
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    lengths = np.array([len(b.text) for b in blocks], dtype=np.float64)
    counts = Counter(b.text for b in blocks)
    # Sets, not multisets: a share of distinct shingles is as good a signal, and set operations run in C.
    read_shingles = _shingle_set(readability.text) if readability.text and not readability.chosen else set()
    found = total_shingles = 0  # trafilatura's shingles readability holds, of how many
    for i, block in enumerate(blocks):
        row = own[i]
        text = block.text
        words = _TOKEN.findall(text.lower())
        chars = max(len(text), 1)
        row[_OWN["log_chars"]] = math.log1p(len(text))
        row[_OWN["log_words"]] = math.log1p(len(words))
        row[_OWN["ends_sentence"]] = 1.0 if _SENTENCE_END.search(text) else 0.0
        row[_OWN["sentence_breaks"]] = min(len(_SENTENCE_BREAK.findall(text)), MAX_COUNT)
        row[_OWN["digit_share"]] = len(_DIGIT.findall(text)) / chars
        row[_OWN["mean_word_len"]] = sum(map(len, words)) / len(words) if words else 0.0
        tag = block.element.tag
        row[_OWN[f"tag_{tag}" if tag in TAGS else "tag_other"]] = 1.0
        row[_OWN["from_trafilatura"]] = float(block.from_trafilatura)
        if readability.chosen or not block.from_trafilatura:
            row[_OWN["in_readability"]] = 1.0
        elif read_shingles:
            mine = block._shingles.keys() if block._shingles is not None else _shingle_set(text)
            held, of = len(mine & read_shingles), len(mine)
            found, total_shingles = found + held, total_shingles + of
            row[_OWN["in_readability"]] = held / of if of else 0.0
        row[_OWN["repeated"]] = min(counts[text] - 1, MAX_COUNT)
        if block.rule is not None:
            row[_OWN["rule_fired"]] = 1.0
            row[_OWN[f"rule_{block.rule}"]] = 1.0
    agreement = 1.0 if readability.chosen else found / total_shingles if total_shingles else 0.0
    page = _page_features(blocks, lengths, readability, agreement)
    neighbours = [_shifted(own, offset) for offset in NEIGHBOUR_OFFSETS]
    return np.hstack((own, np.tile(page, (n, 1)), *neighbours))


def _page_features(
    blocks: Sequence[Block], lengths: npt.NDArray[np.float64], readability: ReadabilityView, agreement: float
) -> npt.NDArray[np.float64]:
    """Features of the whole page; ``agreement`` is the share of trafilatura's shingles that
    readability's text holds (block by block)."""
    own_mask = np.array([b.from_trafilatura for b in blocks])
    own_chars = float(lengths[own_mask].sum())
    features = np.zeros(len(PAGE_FEATURES))
    features[0] = math.log1p(own_chars)
    features[1] = math.log1p(int(own_mask.sum()))
    features[2] = float(readability.ran)
    features[3] = agreement
    if readability.text is not None and not readability.chosen:
        features[4] = math.log1p(len(readability.text)) - math.log1p(own_chars)
    features[5] = float(lengths[~own_mask].sum()) / (float(lengths.sum()) or 1.0)
    return features


def _shifted(own: npt.NDArray[np.float64], offset: int) -> npt.NDArray[np.float64]:
    """The neighbour features of the block ``offset`` away (zeros past either end)."""
    columns = [_OWN[name] for name in NEIGHBOUR_FEATURES]
    values = own[:, columns]
    out = np.zeros_like(values)
    if offset < 0:
        out[-offset:] = values[:offset]
    else:
        out[:-offset] = values[offset:]
    return out


def collapse_whitespace(block: etree._Element) -> None:
    """Collapse the source's layout whitespace (``LAYOUT_SPACE``) in a block of readability's
    candidate (in place), as the pipeline does in trafilatura's body: runs of it become one space,
    none at the start or the end of a line (a block, a list item, a cell, a heading). Code keeps
    its whitespace, and NBSPs, U+3000, ... stay: they are the page's characters."""
    in_code = {node for code in block.iter("code") for node in code.iter()}  # proxies kept alive: ids stable
    for node in block.iter():
        if not isinstance(node.tag, str) or node in in_code:
            continue
        if node.text:
            node.text = _collapsed(node.text)
            if node.tag in TRAFILATURA_LINE_TAGS:
                node.text = node.text.lstrip(LAYOUT_SPACE)
        if node.tail and node is not block:
            node.tail = _collapsed(node.tail)
    for node in block.iter(*TRAFILATURA_LINE_TAGS):
        # The line's last text: the tail of its last child, else its own text.
        last = node[-1] if len(node) else None
        if last is not None and isinstance(last.tag, str):
            if last.tail:
                last.tail = last.tail.rstrip(LAYOUT_SPACE)
        elif node.text:
            node.text = node.text.rstrip(LAYOUT_SPACE)


def _collapsed(text: str) -> str:
    """``text`` with each run of layout whitespace one space; a text of spaces alone (NBSPs too)
    is one space, as ``library_swaps.trim_layout`` has no text of spaces alone (an empty cell
    stays empty)."""
    return " " if text.isspace() else LAYOUT_RUNS.sub(" ", text)


def _outer_blocks(root: etree._Element) -> list[etree._Element]:
    """Outermost block elements below ``root``, in document order."""
    found: list[etree._Element] = []
    for element in root.iter(*READABILITY_BLOCK_TAGS):
        if element is root or any(a.tag in READABILITY_BLOCK_TAGS for a in element.iterancestors() if a is not root):
            continue
        found.append(element)
    return found


def _text(element: etree._Element) -> str:
    return _SPACES.sub(" ", "".join(element.itertext())).strip()


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(zip(*(tokens[i:] for i in range(SHINGLE)), strict=False))


def _shingle_set(text: str) -> set[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < SHINGLE:
        return {tuple(tokens)} if tokens else set()
    return set(zip(*(tokens[i:] for i in range(SHINGLE)), strict=False))


def _share(part: Counter[tuple[str, ...]], whole: Counter[tuple[str, ...]]) -> float:
    """Share of ``part``'s shingles (multiset) found in ``whole``."""
    total = sum(part.values())
    if not total:
        return 0.0
    # The common keys by a set intersection (C), then the counts of those only.
    return sum(min(part[k], whole[k]) for k in part.keys() & whole.keys()) / total


class _ShingleIndex:
    """Which own block a candidate block matches best, through an inverted shingle index (a
    pairwise comparison is quadratic in the blocks: 19 ms on long pages)."""

    def __init__(self, blocks: list[Counter[tuple[str, ...]]]) -> None:
        self.blocks = blocks
        self.totals = [sum(sh.values()) for sh in blocks]
        self.postings: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
        for number, sh in enumerate(blocks):
            for shingle in sh:
                self.postings[shingle].append(number)

    def best_match(self, sh: Counter[tuple[str, ...]]) -> int | None:
        """The first own block with the largest share of its shingles in ``sh`` (>= PRESENT_SHARE)."""
        overlap: dict[int, int] = {}
        for shingle, count in sh.items():
            for number in self.postings.get(shingle, ()):
                overlap[number] = overlap.get(number, 0) + min(count, self.blocks[number][shingle])
        best, best_share = None, 0.0
        for number in sorted(overlap):
            share = overlap[number] / self.totals[number]
            if share > best_share:
                best, best_share = number, share
        return best if best_share >= PRESENT_SHARE else None


# readability's summary is converted to trafilatura's vocabulary (~1 ms/page) only when it may
# hold a prose block that trafilatura's body lacks: at least this many characters and words.
MIN_PROSE_CHARS: Final = 80
MIN_PROSE_WORDS: Final = 12


def may_lack_prose(body: etree._Element, summary: etree._Element) -> bool:
    """Whether readability's raw ``summary`` holds a ``p``/``blockquote``/``q`` of prose length
    that ``body`` lacks (whitespace aside, counting repeats); False on most pages.

    The conversion (``sanitize_tree``) keeps ``<p>`` as ``p``, turns ``<blockquote>``/``<q>`` into
    ``quote`` and only ever removes text inside them, so a long block of the converted candidate
    comes from one of these elements with at least as many characters and words.
    """
    flat = _flat(" ".join(body.itertext()))
    long_blocks: Counter[str] = Counter()
    raw_texts: dict[str, str] = {}
    for element in summary.iter("p", "blockquote", "q"):
        raw = "".join(element.itertext())
        if len(raw) >= MIN_PROSE_CHARS:
            key = _flat(raw)
            long_blocks[key] += 1
            raw_texts.setdefault(key, raw)
    # The word count (a regex) only for the blocks that are missing: most are present.
    return any(
        _fewer_in(flat, key, count) and len(_TOKEN.findall(raw_texts[key])) >= MIN_PROSE_WORDS
        for key, count in long_blocks.items()
    )


def _flat(text: str) -> str:
    """``text`` without whitespace (str.split and the regex \\s agree on what it is; split is faster)."""
    return "".join(text.split())


def _fewer_in(flat: str, key: str, count: int) -> bool:
    """Whether ``flat`` holds ``key`` fewer than ``count`` times (``in`` stops at the first)."""
    return key not in flat if count == 1 else flat.count(key) < count
