"""The learned block decision (service.pipeline.block_model): guard, model file, applying a choice."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lxml import etree

from service.models import Article, Job, Metadata, Options
from service.pipeline import block_model, run
from service.pipeline.block_model import BlockModel, guard
from service.pipeline.blocks import FEATURE_NAMES, Block
from service.pipeline.serialize import render_text
from service.pipeline.text_model import TreeEnsemble

PROSE = (
    "The council approved the plan on Tuesday after a long debate about costs, and the first works "
    "are expected to start in the spring once the tender has been awarded to a local company. "
)


def _constant_trees(probability: float) -> TreeEnsemble:
    """One depth-1 tree whose every leaf is 0: the probability is the bias's."""
    bias = float(np.log(probability / (1 - probability)))
    return TreeEnsemble(np.zeros((1, 1), dtype=np.int64), np.full((1, 1), np.inf), np.zeros((1, 2)), bias, 1)


def test_guard_falls_back_to_trafilaturas_blocks_when_most_of_its_text_would_go() -> None:
    lengths, own, no_rule = [500.0, 20.0, 300.0], [True, True, False], [False, False, False]
    assert guard(lengths, own, no_rule, [False, True, True], share=0.5) == [True, True, False]
    assert guard(lengths, own, no_rule, [True, False, True], share=0.5) == [True, False, True]
    assert guard(lengths, own, no_rule, [False, True, True], share=0.0) == [False, True, True]


def test_a_block_a_clutter_rule_fired_on_is_not_counted_as_lost() -> None:
    lengths, own = [500.0, 20.0], [True, True]
    assert guard(lengths, own, [True, False], [False, True], share=0.5) == [False, True]


def test_readability_blocks_need_their_own_threshold() -> None:
    model = BlockModel(_constant_trees(0.6), threshold=0.5, extra_threshold=0.7, min_kept_share=0.0)
    assert model.chosen(np.array([0.6, 0.6]), [True, False], [False, False]) == [True, False]


def test_a_block_a_clutter_rule_fired_on_needs_the_rule_threshold_whatever_its_source() -> None:
    model = BlockModel(_constant_trees(0.6), threshold=0.5, extra_threshold=0.5, min_kept_share=0.0, rule_threshold=0.7)
    assert model.chosen(np.array([0.6, 0.6, 0.8]), [True, False, True], [True, True, True]) == [False, False, True]


def test_model_file_round_trips_and_rejects_other_features(tmp_path: object) -> None:
    model = BlockModel(_constant_trees(0.3), 0.45, 0.6, 0.7)
    data = json.loads(json.dumps(model.to_json()))
    again = BlockModel.from_json(data)
    assert (again.threshold, again.extra_threshold, again.min_kept_share) == (0.45, 0.6, 0.7)
    x = np.zeros((2, len(FEATURE_NAMES)))
    assert again.trees.predict(x) == pytest.approx([0.3, 0.3])
    data["features"] = data["features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        BlockModel.from_json(data)


def test_shipped_model_loads_and_matches_the_features() -> None:
    model = block_model.load_model()
    assert model is not None
    assert 0.0 < model.threshold < 1.0


def test_applying_a_choice_records_dropped_blocks_with_their_rule() -> None:
    body = etree.fromstring(f"<body><p>{PROSE}</p><p>Share</p>tail<p>Old teaser</p></body>")
    article = Article(metadata=Metadata(), body=body)
    extra = etree.fromstring("<p>A paragraph readability found.</p>")
    own = list(body)
    blocks = [
        Block(own[0], PROSE.strip(), True),
        Block(extra, "A paragraph readability found.", False),
        Block(own[1], "Share", True, rule="share-buttons"),
        Block(own[2], "Old teaser", True),
    ]
    block_model.apply(article, blocks, [True, True, False, False])
    assert [line.strip() for line in render_text(article.body).split("\n")] == [
        PROSE.strip(),
        "A paragraph readability found.",
        "tail",  # the dropped block's tail text stays
    ]
    assert [(r.text, r.reason) for r in article.removed] == [
        ("Share", "share-buttons"),
        ("Old teaser", "not-main-content"),
    ]


def test_a_share_bar_between_paragraphs_is_dropped_with_its_reason() -> None:
    page = (
        "<html><head><title>Bridge</title></head><body><article><h1>Bridge</h1>"
        f"<p>{PROSE * 2}</p><p>Share</p><p>{PROSE * 2}</p><p>{PROSE}</p></article></body></html>"
    )
    answer = run(Job(mode="html", body=page.encode(), options=Options(explain=True)))
    assert "council approved" in answer["text"]
    assert "Share" not in answer["text"].split("\n")
    assert {"text": "Share", "reason": "share-buttons"} in answer["removed"]
