"""Rules of the plain-text mode's learned line classifier (service/pipeline/text_model.py) and its trainer."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest

from service.models import Options
from service.pipeline import text_mode, text_model, trees
from service.pipeline.lexicon import Lexicon
from service.pipeline.text_features import is_prose
from service.pipeline.trees import TreeEnsemble
from tests.modules import load_script

ROOT = Path(__file__).resolve().parents[2]
PARA = (
    "The council voted on Tuesday to close the old bridge for repairs, a decision that will force "
    "thousands of commuters to take a longer route for at least six months."
)


def _stump(feature: int, threshold: float, left: float, right: float) -> TreeEnsemble:
    return TreeEnsemble(
        feature=np.array([[feature]]),
        threshold=np.array([[threshold]]),
        leaf=np.array([[left, right]]),
        bias=0.0,
        depth=1,
    )


def _trainer() -> ModuleType:
    return load_script("train_text_model")


def test_tree_goes_left_at_the_threshold_and_right_above() -> None:
    model = _stump(0, 1.0, -2.0, 3.0)
    margins = model.margin(np.array([[0.5], [1.0], [1.5]]))
    assert margins.tolist() == [-2.0, -2.0, 3.0]
    assert model.predict(np.array([[2.0]]))[0] == pytest.approx(1 / (1 + np.exp(-3.0)))


def test_model_json_round_trip_gives_the_same_probabilities() -> None:
    n_features = len(text_model.FEATURE_NAMES)
    first = _stump(0, 1.0, -1.0, 1.0)
    second = _stump(n_features, 0.5, -1.5, 1.5)  # splits on the first context feature, p
    model = text_model.LineModel(first, second)
    again = text_model.LineModel.from_json(json.loads(json.dumps(model.to_json())))
    x = np.random.default_rng(0).uniform(0, 3, size=(20, n_features))
    assert np.allclose(model.predict(x), again.predict(x))


def test_the_shift_travels_with_the_model_file() -> None:
    model = text_model.LineModel(_stump(0, 1.0, -1.0, 1.0), None, shift=0.75)
    assert text_model.LineModel.from_json(json.loads(json.dumps(model.to_json()))).shift == 0.75


def test_lines_are_kept_by_the_models_own_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    # log_words <= 2 (the short line): p = 0.45 (margin -0.2); the paragraph: p ~ 1.
    unsure_when_short = _stump(text_model.FEATURE_NAMES.index("log_words"), 2.0, -0.2, 5.0)
    text = f"{PARA}\n\nIt rained."
    for shift, expected in ((2.0, [PARA, "It rained."]), (-2.0, [PARA])):
        model = text_model.LineModel(unsure_when_short, None, shift=shift)
        monkeypatch.setattr(text_model, "load_model", lambda path=text_model.MODEL_PATH, m=model: m)
        assert [p.text for p in text_mode.clean_text(text, Options(), None).body] == expected


def test_doubtful_lines_beside_a_sure_one_are_kept_only_when_they_pay() -> None:
    model = text_model.LineModel(_stump(0, 1.0, -1.0, 1.0), None)
    lines = ["a line of text"] * 4
    # Three lines at 0.45 beside one at 0.9: each adds more expected overlap than it risks (a
    # threshold of 0.5 kept the first alone); at 0.1 they do not.
    assert model.keep(np.array([0.9, 0.45, 0.45, 0.45]), lines) == [True] * 4
    assert model.keep(np.array([0.9, 0.1, 0.1, 0.1]), lines) == [True, False, False, False]


def _expected_f1(
    probs: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], chosen: npt.NDArray[np.bool_]
) -> float:
    return float(2 * (probs * weights)[chosen].sum() / (weights[chosen].sum() + (probs * weights).sum()))


def test_the_expected_f1_choice_is_the_surest_lines_first() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        probs, weights = rng.uniform(0, 1, 12), rng.integers(1, 500, 12).astype(float)
        keep = trees.best_expected_f1(trees.calibrated(probs, float(rng.uniform(-2, 2))), weights)
        assert keep.any()
        assert probs[keep].min() >= probs[~keep].max(initial=0.0)  # kept: the k most probable

        # no other number of the surest lines expects more
        best = trees.best_expected_f1(probs, weights)
        order = np.argsort(-probs)
        for k in range(1, 13):
            chosen = np.zeros(12, dtype=bool)
            chosen[order[:k]] = True
            assert _expected_f1(probs, weights, best) >= _expected_f1(probs, weights, chosen) - 1e-12


def test_model_trained_on_other_features_is_refused() -> None:
    data = text_model.LineModel(_stump(0, 1.0, -1.0, 1.0), None).to_json()
    data["features"] = ["something", "else"]
    with pytest.raises(ValueError, match="retrain"):
        text_model.LineModel.from_json(data)


def test_line_features_have_one_row_per_line_and_mark_missing_neighbours() -> None:
    lines, start, end = text_mode.analyse("Home\n\n" + PARA + "\n\n" + PARA + "x")
    x = text_model.line_features(lines, start, end, [is_prose(line) for line in lines])
    assert x.shape == (3, len(text_model.FEATURE_NAMES))
    before = text_model.FEATURE_NAMES.index("log_words@-1")
    assert x[0, before] == text_model.MISSING
    assert x[1, before] == pytest.approx(np.log1p(1))  # "Home": one word


def test_block_features_describe_the_blank_line_block_of_the_line() -> None:
    # Blocks: ["Lisbon", "Share"], [PARA, "What the council said"]; "Share" is labelled clutter.
    lines, start, end = text_mode.analyse(f"Lisbon\nShare\n\n{PARA}\nWhat the council said")
    x = text_model.line_features(lines, start, end, [is_prose(line) for line in lines])
    column = {name: x[:, text_model.FEATURE_NAMES.index(name)] for name in text_model.OWN_FEATURES}
    para_words = lines[2].words
    assert column["block_labelled_share"].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert column["block_prose_share"][:2].tolist() == [0.0, 0.0]
    assert column["block_prose_share"][2:] == pytest.approx([para_words / (para_words + 4)] * 2)
    assert column["block_terminal_share"].tolist() == [0.0, 0.0, 0.5, 0.5]
    assert column["block_log_words"][0] == column["block_log_words"][1] == pytest.approx(np.log1p(2))


def test_context_features_see_the_block_and_a_wider_window() -> None:
    probs = np.array([0.9, 0.1, 0.2, 0.8, 0.6])
    words = np.array([1.0, 3.0, 1.0, 1.0, 1.0])
    block_first = np.array([1.0, 0.0, 1.0, 0.0, 0.0])  # blocks: lines 0-1, lines 2-4
    ctx = text_model.context_features(probs, words, block_first)
    names = text_model.CONTEXT_FEATURES
    assert ctx[:, names.index("p_block_mean")] == pytest.approx([0.3, 0.3, 1.6 / 3, 1.6 / 3, 1.6 / 3])
    assert ctx[:, names.index("p_block_max")].tolist() == [0.9, 0.9, 0.8, 0.8, 0.8]
    assert ctx[0, names.index("p_mean_wide")] == pytest.approx((0.9 + 0.3 + 0.2 + 0.8 + 0.6) / 7)


def test_context_features_see_the_probabilities_before_and_after() -> None:
    probs = np.array([0.9, 0.1, 0.2, 0.8])
    ctx = text_model.context_features(probs, np.ones(4), np.ones(4))
    names = text_model.CONTEXT_FEATURES
    assert ctx[1, names.index("p_max_before")] == pytest.approx(0.9)
    assert ctx[1, names.index("p_max_after")] == pytest.approx(0.8)
    assert ctx[0, names.index("p@-1")] == text_model.MISSING
    assert ctx[3, names.index("p_frac_after")] == 0.0


def test_shipped_model_loads_and_is_small() -> None:
    assert text_model.MODEL_PATH.exists()
    assert text_model.MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    assert text_model.load_model() is not None


def test_rules_decide_when_the_model_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    never = text_model.LineModel(_stump(0, 0.0, -50.0, -50.0), None)
    monkeypatch.setattr(text_model, "load_model", lambda path=text_model.MODEL_PATH: never)
    article = text_mode.clean_text(f"Home\n\n{PARA}\n\n{PARA} Again.", Options(), None)
    assert [p.text for p in article.body] == [PARA, f"{PARA} Again."]


def test_without_a_model_the_rule_region_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_model, "load_model", lambda path=text_model.MODEL_PATH: None)
    article = text_mode.clean_text(f"Home\n\n{PARA}\n\nShare\n\n{PARA} Again.", Options(), None)
    assert [p.text for p in article.body] == [PARA, f"{PARA} Again."]


def test_snippet_labels_mark_every_line_a_snippet_spans() -> None:
    trainer = _trainer()
    lines, _, _ = text_mode.analyse("Menu\nThe first half of a sentence\nand its second half.\nFooter")
    page = trainer.Page("t", "x", "", {"with": ["sentence and its second"], "without": ["Footer"], "text": ""})
    labels, weights = trainer.line_labels(page, lines)
    assert labels == [None, 1.0, 1.0, 0.0]
    assert weights[0] == 0.0


def test_text_truth_labels_lines_whose_shingles_are_in_the_truth() -> None:
    trainer = _trainer()
    lines, _, _ = text_mode.analyse(f"Home\n{PARA}\nSubscribe to our newsletter today for free")
    page = trainer.Page("m", "y", "", {"with": None, "text": f"Title\n{PARA}"})
    labels, _ = trainer.line_labels(page, lines)
    assert labels == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("by_set", [False, True])
def test_cross_validation_answers_each_page_with_a_model_fitted_without_it(
    monkeypatch: pytest.MonkeyPatch, by_set: bool
) -> None:
    trainer = _trainer()
    hosts = {"trafilatura-text": ["a.com", "b.com", "c.com"], "fundus-text": ["d.com", "e.com"]}
    pages = [
        trainer.Page(set_name, f"{set_name}-{i}", "", {"url": f"https://{host}/{i}", "meta": {}})
        for set_name, names in hosts.items()
        for i, host in enumerate(names)
    ]
    fitted_on: list[set[str]] = []

    def fit_model(training: list[object], data: object) -> text_model.LineModel:
        fitted_on.append({trainer.key(p) for p in training})
        return text_model.LineModel(_stump(0, 1.0, -1.0, 1.0), None, shift=float(len(fitted_on)))

    monkeypatch.setattr(trainer, "fit_model", fit_model)
    monkeypatch.setattr(trainer, "clean", lambda page, model: str(int(model.shift)))
    answers, wordless, shipped = trainer.cross_validate(pages, {}, by_set=by_set)
    assert fitted_on[int(shipped.shift) - 1] == {trainer.key(p) for p in pages}  # in-sample: every page
    assert wordless == answers  # a model without a lexicon answers the same when no word is known
    for page, answer in zip(pages, answers, strict=True):
        assert trainer.key(page) not in fitted_on[int(answer) - 1]
        if by_set:  # the other set is the whole training data
            assert fitted_on[int(answer) - 1] == {trainer.key(p) for p in pages if p.set_name != page.set_name}
    # One fit per non-empty fold, and the in-sample one.
    assert len(fitted_on) - 1 == len(set(answers)) == (2 if by_set else 3)


def test_a_lexicon_travels_with_the_model_file_and_reads_the_lines_words() -> None:
    n_features = len(text_model.FEATURE_NAMES)
    # Splits on lexicon_mean, the first column after the features.
    model = text_model.LineModel(_stump(n_features, 0.0, -3.0, 3.0), None, lexicon=Lexicon({"council": 1.0}))
    data = json.loads(json.dumps(model.to_json()))
    again = text_model.LineModel.from_json(data)
    x = np.zeros((2, n_features))
    probs = again.predict(x, ["The council met", "Subscribe now"])
    assert probs[0] > 0.9 > 0.1 > probs[1]
    with pytest.raises(ValueError, match="each line's text"):
        again.predict(x)
    data["lexicon_features"] = data["lexicon_features"][:1]
    with pytest.raises(ValueError, match="retrain"):
        text_model.LineModel.from_json(data)


def test_a_dropped_feature_family_is_zero_for_training_and_answering_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = _trainer()
    monkeypatch.setattr(text_model, "line_features", text_model.line_features)  # restored after the test
    lines, start, end = text_mode.analyse(f"Home\n{PARA}\nShare this")
    prose = [is_prose(line) for line in lines]
    before = text_model.line_features(lines, start, end, prose)
    trainer.drop_features(["rel_pos", "@"])
    after = text_model.line_features(lines, start, end, prose)  # what text_mode's answer reads too
    dropped = [i for i, name in enumerate(text_model.FEATURE_NAMES) if name.startswith("rel_pos") or "@" in name]
    assert before[:, dropped].any()
    assert not after[:, dropped].any()
    kept = [i for i in range(len(text_model.FEATURE_NAMES)) if i not in dropped]
    assert np.array_equal(before[:, kept], after[:, kept])
