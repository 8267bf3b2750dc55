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
from service.pipeline.trees import TreeEnsemble

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
    assert model.second is not None  # the two-stage decision is what ships


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


def test_the_tails_of_dropped_blocks_stay_apart_from_the_text_before_them() -> None:
    body = etree.fromstring("<body><p>Serves</p>two people<p>Takes</p>ten minutes<p>Rests</p>one hour</body>")
    article = Article(metadata=Metadata(), body=body)
    blocks = [Block(element, element.text, True) for element in body]
    block_model.apply(article, blocks, [True, False, False])
    assert [line.strip() for line in render_text(article.body).split("\n")] == [
        "Serves",
        "two people",
        "ten minutes",
        "one hour",
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


def test_context_features_read_the_first_stage_as_a_sequence() -> None:
    probs = np.array([0.9, 0.1, 0.8])
    chars = np.array([100.0, 10.0, 100.0])
    ctx = block_model.context_features(probs, chars)
    column = {name: ctx[:, i] for i, name in enumerate(block_model.CONTEXT_FEATURES)}
    assert column["p"].tolist() == [0.9, 0.1, 0.8]
    assert column["p@-1"].tolist() == [-1.0, 0.9, 0.1]  # -1: no block there
    assert column["p@+2"].tolist() == [0.8, -1.0, -1.0]
    page_mean = (90 + 1 + 80) / 210
    assert column["p_page_mean"] == pytest.approx([page_mean] * 3)
    assert column["p_over_max"] == pytest.approx([1.0, 0.1 / 0.9, 0.8 / 0.9])
    # Share of the likely-article characters (p >= 0.5) before and after each block.
    assert column["likely_before"].tolist() == [0.0, 0.5, 0.5]
    assert column["likely_after"].tolist() == [0.5, 0.5, 0.0]
    assert block_model.context_features(np.zeros(0), np.zeros(0)).shape == (0, len(block_model.CONTEXT_FEATURES))


def test_the_second_stage_decides_when_there_is_one() -> None:
    x = np.zeros((2, len(FEATURE_NAMES)))
    chars = np.array([100.0, 100.0])
    one_stage = BlockModel(_constant_trees(0.3), 0.5, 0.5, 0.0)
    assert one_stage.probabilities(x, chars) == pytest.approx([0.3, 0.3])
    two_stages = BlockModel(_constant_trees(0.3), 0.5, 0.5, 0.0, second=_constant_trees(0.8))
    assert two_stages.probabilities(x, chars) == pytest.approx([0.8, 0.8])


def test_a_second_stage_round_trips_and_rejects_other_context_inputs() -> None:
    model = BlockModel(_constant_trees(0.3), 0.45, 0.6, 0.7, second=_constant_trees(0.8))
    data = json.loads(json.dumps(model.to_json()))
    again = BlockModel.from_json(data)
    assert again.second is not None
    assert again.probabilities(np.zeros((1, len(FEATURE_NAMES))), np.ones(1)) == pytest.approx([0.8])
    data["context_features"] = data["context_features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        BlockModel.from_json(data)
