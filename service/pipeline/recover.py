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
from collections import Counter
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
    own_shingles = _shingles(" ".join(body.itertext()))
    if not own_shingles:
        return 0
    blocks = _blocks(candidate)
    candidate_shingles: Counter[tuple[str, ...]] = Counter()
    for block in blocks:
        candidate_shingles.update(_shingles(_text(block)))
    if _share(own_shingles, candidate_shingles) < MIN_AGREEMENT:
        return 0
    anchor: etree._Element | None = None  # last block of ``body`` matched so far
    own_blocks = _blocks(body)
    own_index = {id(b): _shingles(_text(b)) for b in own_blocks}
    inserted = 0
    remaining = Counter(own_shingles)  # a repeated paragraph is present once per occurrence
    for block in blocks:
        text = _text(block)
        sh = _shingles(text)
        if not sh:
            continue
        if _share(sh, remaining) >= PRESENT_SHARE:
            remaining -= sh
            matched = _matching_block(sh, own_blocks, own_index)
            anchor = matched if matched is not None else anchor
            continue
        if not _is_prose(block, text):
            continue
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


def _is_prose(block: etree._Element, text: str) -> bool:
    if block.tag not in {"p", "quote"}:
        return False
    if len(text) < MIN_RECOVERED_CHARS or len(_TOKEN.findall(text)) < MIN_RECOVERED_WORDS:
        return False
    return bool(_SENTENCE_END.search(text))


def _matching_block(
    sh: Counter[tuple[str, ...]], blocks: list[etree._Element], index: dict[int, Counter[tuple[str, ...]]]
) -> etree._Element | None:
    best, best_share = None, 0.0
    for block in blocks:
        share = _share(index[id(block)], sh)
        if share > best_share:
            best, best_share = block, share
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
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def _share(part: Counter[tuple[str, ...]], whole: Counter[tuple[str, ...]]) -> float:
    total = sum(part.values())
    return sum((part & whole).values()) / total if total else 0.0
