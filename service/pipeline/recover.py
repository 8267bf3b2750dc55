"""Recovering article blocks trafilatura dropped, from readability's candidate (HTML mode).

trafilatura sometimes keeps only part of the article: a body split over several containers, a
lead paragraph outside the container it picked, a paragraph it scored as boilerplate.
readability (run by trafilatura anyway, see ``extract``) is strongest exactly there. When both
candidates agree on where the article is (readability's text covers most of trafilatura's), the
prose blocks readability has and trafilatura lacks are inserted into trafilatura's body, after
the nearest block both share. Only prose is recovered (long, sentence-like, few links): short
lines are where readability's own clutter sits (captions, share bars, teasers). Each recovered
block is recorded nowhere (it is in the answer); the warning ``recovered-blocks`` says it happened.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from copy import deepcopy

from lxml import etree

from service.models import Article

# Tags of trafilatura's vocabulary that make one block of text.
BLOCK_TAGS = frozenset({"p", "head", "list", "quote", "code", "table"})
# readability must cover at least this share of trafilatura's 4-word shingles for the two to be
# "the same article" (grid 0.4/0.6/0.8 on the 80 % training split of both benchmark sets: flat
# within 0.001 on the trafilatura set, 0.8 best on mozilla; the strictest agreeing value kept).
MIN_AGREEMENT = 0.8
# A recovered block is prose: at least this many characters (grid 40/80/150 on the training
# split: 150 +0.0006 on the trafilatura set but -0.001 held-out; 80 kept as the middle).
MIN_RECOVERED_CHARS = 80
# ... and at least this many words (a long URL or a run of tags is not prose).
MIN_RECOVERED_WORDS = 12
# A block counts as present in trafilatura's answer when this share of its shingles is there.
PRESENT_SHARE = 0.5
# Blocks of readability's candidate whose last character is one of these read as sentences.
_SENTENCE_END = re.compile(r"[.!?…:;\"'”»)。！？」]$")
_TOKEN = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
SHINGLE = 4


def recover_blocks(article: Article, candidate: etree._Element | None) -> int:
    """Insert into ``article.body`` the prose blocks of ``candidate`` it lacks; return how many."""
    if candidate is None or article.body is None:
        return 0
    body = article.body
    own_text = " ".join(body.itertext())
    blocks = _blocks(candidate)
    texts = [_text(block) for block in blocks]
    if not _has_missing_prose(blocks, texts, own_text):
        return 0
    own_shingles = _shingles(own_text)
    if not own_shingles:
        return 0
    block_shingles = [_shingles(text) for text in texts]
    candidate_shingles: Counter[tuple[str, ...]] = Counter()
    for sh in block_shingles:
        candidate_shingles.update(sh)
    if _share(own_shingles, candidate_shingles) < MIN_AGREEMENT:
        return 0
    anchor: etree._Element | None = None  # last block of ``body`` matched so far
    own_blocks = _blocks(body)
    index: _ShingleIndex | None = None  # built on the first insertion: most pages have none
    present: list[Counter[tuple[str, ...]]] = []  # present blocks since the anchor was resolved
    inserted = 0
    remaining = Counter(own_shingles)  # a repeated paragraph is present once per occurrence
    for block, text, sh in zip(blocks, texts, block_shingles, strict=True):
        if not sh:
            continue
        if _share(sh, remaining) >= PRESENT_SHARE:
            _subtract(remaining, sh)
            present.append(sh)
            continue
        if not _is_prose(block, text):
            continue
        if present:
            # The anchor is the own block matching the latest present block that matches one.
            index = index or _ShingleIndex([_shingles(_text(b)) for b in own_blocks])
            for earlier in reversed(present):
                matched = index.best_match(earlier)
                if matched is not None:
                    anchor = own_blocks[matched]
                    break
            present.clear()
        copy = deepcopy(block)
        copy.tail = None
        if anchor is None:
            body.insert(0, copy)
        else:
            _insert_after(anchor, copy)
        anchor = copy
        inserted += 1
    if inserted:
        article.warnings.append("recovered-blocks")
    return inserted


def _has_missing_prose(blocks: list[etree._Element], texts: list[str], own_text: str) -> bool:
    """Whether some prose block of the candidate is not verbatim (whitespace aside) in our text,
    as many times as the candidate has it (a paragraph repeated on the page is content twice).

    Only such a block can be inserted, and on most pages every one is there: this check skips
    the shingle comparison (recover took 3.7 ms/page on the mozilla set, 2.1 with it).
    """
    flat = _flat(own_text)
    wanted = Counter(_flat(text) for block, text in zip(blocks, texts, strict=True) if _is_prose(block, text))
    return any(_fewer_in(flat, key, count) for key, count in wanted.items())


def may_lack_prose(body: etree._Element, summary: etree._Element) -> bool:
    """Whether readability's raw ``summary`` (HTML, before trafilatura converts it) may hold a
    prose block that ``body`` lacks; False means ``recover_blocks`` would insert nothing.

    The conversion (``sanitize_tree``) keeps ``<p>`` as ``p``, turns ``<blockquote>``/``<q>`` into
    ``quote`` and only ever removes text inside them, so every prose block of the converted
    candidate comes from one of these elements with at least as many characters and words. The
    test is ``_has_missing_prose`` on those, without the sentence-end condition (a removed tail
    can change the last character). Measured: the same answers on all 1,045 pages of both bench
    sets, and the conversion skipped on most of them.
    """
    flat = _flat(" ".join(body.itertext()))
    long_blocks: Counter[str] = Counter()
    raw_texts: dict[str, str] = {}
    for element in summary.iter("p", "blockquote", "q"):
        raw = "".join(element.itertext())  # at least as long as its normalized text, same words
        if len(raw) >= MIN_RECOVERED_CHARS:
            key = _flat(raw)
            long_blocks[key] += 1
            raw_texts.setdefault(key, raw)
    # The word count (a regex) only for the blocks that are missing: most are present.
    return any(
        _fewer_in(flat, key, count) and len(_TOKEN.findall(raw_texts[key])) >= MIN_RECOVERED_WORDS
        for key, count in long_blocks.items()
    )


def _flat(text: str) -> str:
    """``text`` without whitespace (str.split and the regex \\s agree on what it is; split is faster)."""
    return "".join(text.split())


def _fewer_in(flat: str, key: str, count: int) -> bool:
    """Whether ``flat`` holds ``key`` fewer than ``count`` times (``in`` stops at the first)."""
    return key not in flat if count == 1 else flat.count(key) < count


def _is_prose(block: etree._Element, text: str) -> bool:
    if block.tag not in {"p", "quote"}:
        return False
    if len(text) < MIN_RECOVERED_CHARS or len(_TOKEN.findall(text)) < MIN_RECOVERED_WORDS:
        return False
    return bool(_SENTENCE_END.search(text))


class _ShingleIndex:
    """Which of trafilatura's blocks a candidate block matches, by an inverted shingle index.

    Comparing every candidate block with every own block (``Counter`` intersections) was the
    largest cost of this stage: 19 ms/page on the mozilla set under cProfile, quadratic in the
    number of blocks. The index visits only the blocks that share a shingle; same answer.
    """

    def __init__(self, blocks: list[Counter[tuple[str, ...]]]) -> None:
        self.blocks = blocks
        self.totals = [sum(sh.values()) for sh in blocks]
        # Block numbers only (counts stay in ``blocks``), and no empty list made per lookup as
        # setdefault does: the build was 30 ms on a long Wikipedia article, now a third of that.
        self.postings: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
        for number, sh in enumerate(blocks):
            for shingle in sh:
                self.postings[shingle].append(number)

    def best_match(self, sh: Counter[tuple[str, ...]]) -> int | None:
        """The first own block with the largest share of its shingles in ``sh`` (>= PRESENT_SHARE)."""
        overlap: dict[int, int] = {}
        postings, blocks = self.postings, self.blocks
        for shingle, count in sh.items():
            for number in postings.get(shingle, ()):
                overlap[number] = overlap.get(number, 0) + min(count, blocks[number][shingle])
        best, best_share = None, 0.0
        for number in sorted(overlap):
            share = overlap[number] / self.totals[number]
            if share > best_share:
                best, best_share = number, share
        return best if best_share >= PRESENT_SHARE else None


def _insert_after(anchor: etree._Element, new: etree._Element) -> None:
    # Top-level blocks only: an anchor nested in a list or table gets its top-level ancestor.
    node = anchor
    while node.getparent() is not None and node.getparent().getparent() is not None:
        node = node.getparent()
    node.addnext(new)


def _blocks(root: etree._Element) -> list[etree._Element]:
    """Outermost block elements below ``root``, in document order."""
    found: list[etree._Element] = []
    for element in root.iter(*BLOCK_TAGS):
        if element is root or any(a.tag in BLOCK_TAGS for a in element.iterancestors() if a is not root):
            continue
        found.append(element)
    return found


def _text(element: etree._Element) -> str:
    return _SPACES.sub(" ", "".join(element.itertext())).strip()


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)]) if tokens else Counter()
    # The shorter tails end the zip: one shingle per window of SHINGLE tokens.
    return Counter(zip(*(tokens[i:] for i in range(SHINGLE)), strict=False))


def _subtract(counter: Counter[tuple[str, ...]], part: Counter[tuple[str, ...]]) -> None:
    """``counter -= part`` touching only ``part``'s keys (``-=`` rescans the whole counter:
    quadratic over a long page's blocks)."""
    for shingle, count in part.items():
        left = counter.get(shingle, 0) - count
        if left > 0:
            counter[shingle] = left
        else:
            counter.pop(shingle, None)


def _share(part: Counter[tuple[str, ...]], whole: Counter[tuple[str, ...]]) -> float:
    """Share of ``part``'s shingles (multiset) found in ``whole``."""
    total = sum(part.values())
    if not total:
        return 0.0
    found = sum(min(count, whole[shingle]) for shingle, count in part.items() if shingle in whole)
    return found / total
