"""The learned block decision of HTML mode: which candidate blocks make the answer, and the collapse guard.

A small gradient-boosted tree ensemble (``trees.TreeEnsemble``, numpy only) gives each
candidate block of ``blocks`` the probability that it is article text; blocks at or above the
decision threshold are the answer. The guard then checks the answer against trafilatura's: when
the kept share of trafilatura's text falls below ``min_kept_share``, one page's odd layout has
fooled the model (issue 22: one collapsed page costs more than twenty small wins earn), and
trafilatura's blocks are the answer; a dropped block a clutter rule fired on is strong evidence and
does not count as lost. The ensemble, the threshold and the guard's share are all
fitted together by ``scripts/train_block_model.py`` (threshold and share on out-of-fold
predictions) and shipped as ``models/html_blocks.json``.

A dropped block of trafilatura's body is recorded in ``article.removed`` with the reason code of
the clutter rule that fired on it, else ``not-main-content``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from lxml import etree

from service.models import Article, Options, Removed
from service.pipeline import blocks as block_features
from service.pipeline.blocks import FEATURE_NAMES, Block, ReadabilityView
from service.pipeline.trees import TreeEnsemble, likely_shares, shifted, window_mean

MODEL_PATH: Final = Path(__file__).parent / "models" / "html_blocks.json"
# Reason of a dropped block no rule fired on: the model's scoring did not pick it.
NOT_MAIN_CONTENT: Final = "not-main-content"


# The second stage's inputs: each block's first-stage probability and those around it (the page
# read as a sequence: a block between two article paragraphs is likely article, a lone "likely"
# block among clutter is not). Missing neighbours are -1.
CONTEXT_OFFSETS: Final = (-2, -1, 1, 2)
CONTEXT_WINDOW: Final = 3  # blocks each side in the windowed mean
CONTEXT_FEATURES: Final[tuple[str, ...]] = (
    "p",
    *(f"p@{off:+d}" for off in CONTEXT_OFFSETS),
    "p_window",
    "p_page_mean",
    "p_page_max",
    "p_over_max",
    "likely_before",
    "likely_after",
)
_MISSING: Final = -1.0


def context_features(probs: npt.NDArray[np.float64], chars: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``CONTEXT_FEATURES`` for each block from the first stage's ``probs`` (``chars``: the
    blocks' text lengths, the weights of the means)."""
    n = len(probs)
    out = np.full((n, len(CONTEXT_FEATURES)), _MISSING)
    if n == 0:
        return out
    out[:, 0] = probs
    base = 1 + len(CONTEXT_OFFSETS)
    out[:, 1:base] = shifted(probs, CONTEXT_OFFSETS, _MISSING)
    weight = np.maximum(chars, 1.0)
    out[:, base] = window_mean(probs, weight, CONTEXT_WINDOW)
    out[:, base + 1] = window_mean(probs, weight, n)  # the page's mean
    top = float(probs.max())
    out[:, base + 2] = top
    out[:, base + 3] = probs / max(top, 1e-6)
    out[:, base + 4], out[:, base + 5] = likely_shares(probs, weight)
    return out


@dataclass(frozen=True)
class BlockModel:
    """The ensembles and the numbers fitted with them."""

    trees: TreeEnsemble
    threshold: float  # keep a block of trafilatura's whose probability is at least this
    extra_threshold: float  # the same for a block readability adds (more evidence may be needed)
    min_kept_share: float  # the guard: keep at least this share of trafilatura's text
    rule_threshold: float = 0.5  # the same for a block a clutter rule fired on (either source)
    # The second stage: the features plus ``context_features`` of the first stage's probabilities.
    second: TreeEnsemble | None = None

    def probabilities(self, x: npt.NDArray[np.float64], chars: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each block's probability of being article text (the second stage's, when there is one)."""
        probs = self.trees.predict(x)
        if self.second is None:
            return probs
        return self.second.predict(np.hstack((x, context_features(probs, chars))))

    def keep(self, blocks: Sequence[Block], x: npt.NDArray[np.float64]) -> list[bool]:
        """Which blocks make the answer (the guard applied)."""
        if not blocks:
            return []
        own = [b.from_trafilatura for b in blocks]
        evidence = [b.rule is not None for b in blocks]
        chars = [len(b.text) for b in blocks]
        chosen = self.chosen(self.probabilities(x, np.asarray(chars, dtype=np.float64)), own, evidence)
        return guard(chars, own, evidence, chosen, self.min_kept_share)

    def chosen(self, probs: npt.NDArray[np.float64], own: Sequence[bool], flagged: Sequence[bool]) -> list[bool]:
        """The model's choice before the guard: each block against its threshold (a block a
        clutter rule fired on: ``rule_threshold``; else its source's)."""
        return [
            float(p) >= (self.rule_threshold if f else self.threshold if o else self.extra_threshold)
            for p, o, f in zip(probs, own, flagged, strict=True)
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURE_NAMES),
            "threshold": self.threshold,
            "extra_threshold": self.extra_threshold,
            "min_kept_share": self.min_kept_share,
            "rule_threshold": self.rule_threshold,
            "trees": self.trees.to_json(),
            **(
                {"context_features": list(CONTEXT_FEATURES), "second": self.second.to_json()}
                if self.second is not None
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> BlockModel:
        if data.get("features") != list(FEATURE_NAMES):
            raise ValueError("block model was trained on other features; retrain with scripts/train_block_model.py")
        second = data.get("second")
        if second is not None and data.get("context_features") != list(CONTEXT_FEATURES):
            raise ValueError("block model's second stage has other inputs; retrain with scripts/train_block_model.py")
        return cls(
            TreeEnsemble.from_json(data["trees"]),  # type: ignore[arg-type]
            float(data["threshold"]),  # type: ignore[arg-type]
            float(data["extra_threshold"]),  # type: ignore[arg-type]
            float(data["min_kept_share"]),  # type: ignore[arg-type]
            float(data["rule_threshold"]),  # type: ignore[arg-type]
            TreeEnsemble.from_json(second) if second is not None else None,  # type: ignore[arg-type]
        )


def guard(
    lengths: Sequence[float], own: Sequence[bool], evidence: Sequence[bool], chosen: Sequence[bool], share: float
) -> list[bool]:
    """``chosen``, unless it drops more than ``1 - share`` of the text of trafilatura's blocks
    (``own``; ``lengths`` in characters) without strong evidence: then trafilatura's blocks.
    A block a clutter rule fired on (``evidence``) and the model drops is not counted as lost."""
    own_chars = sum(n for n, o in zip(lengths, own, strict=True) if o)
    kept = sum(n for n, o, e, k in zip(lengths, own, evidence, chosen, strict=True) if o and (k or e))
    if own_chars and kept < share * own_chars:
        return list(own)
    return list(chosen)


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> BlockModel | None:
    """The shipped model, or None when there is none (trafilatura's blocks are then the answer)."""
    if not path.exists():
        return None
    return BlockModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def decide(article: Article, readability: ReadabilityView, options: Options) -> None:
    """Replace ``article.body`` by the blocks the model keeps among the page's candidates."""
    candidates = block_features.candidate_blocks(article, readability, options)
    model = load_model()
    if model is None:
        keep = [b.from_trafilatura for b in candidates]
    else:
        keep = model.keep(candidates, block_features.block_features(candidates, readability))
    apply(article, candidates, keep)


def apply(article: Article, blocks: Sequence[Block], keep: Sequence[bool]) -> None:
    """Make ``article.body`` the kept blocks in reading order; record trafilatura's dropped ones."""
    body = article.body
    kept: list[etree._Element] = []
    for block, chosen in zip(blocks, keep, strict=True):
        if chosen:
            element = block.element if block.from_trafilatura else deepcopy(block.element)
            if not block.from_trafilatura:
                element.tail = None
            kept.append(element)
        elif block.from_trafilatura:
            _keep_tail(block, kept, body)
            if block.text:
                article.removed.append(Removed(text=block.text, reason=block.rule or NOT_MAIN_CONTENT))
    for child in list(body):
        if isinstance(child.tag, str):
            body.remove(child)
    for element in kept:
        body.append(element)


def _keep_tail(block: Block, kept: list[etree._Element], body: etree._Element) -> None:
    """A dropped block's tail is text between blocks: it moves to the block before it, on a line
    of its own, as the dropped block stood between it and any text there ("<p>1</p>servings
    <p>10</p>minutes" with the "10" dropped read "servingsminutes")."""
    tail = block.element.tail
    if not tail or not tail.strip():
        return
    before = (kept[-1].tail if kept else body.text) or ""
    if before.strip():
        tail = before.rstrip() + "\n" + tail.lstrip()
    if kept:
        kept[-1].tail = tail
    else:
        body.text = tail
