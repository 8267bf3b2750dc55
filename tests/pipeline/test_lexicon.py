"""The learned word evidence of the plain-text mode (service/pipeline/lexicon.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from service.pipeline import lexicon
from service.pipeline.lexicon import Lexicon, fit_lexicon, terms


def test_terms_are_lower_cased_letter_runs_and_pairs_of_unspaced_scripts() -> None:
    assert terms("Subscribe to our NEWSLETTER, 2024!") == {"subscribe", "to", "our", "newsletter"}
    assert terms("A x") == set()  # single letters say nothing
    assert terms("订阅新闻") == {"订阅", "阅新", "新闻"}
    assert terms("می‌خواهم") == {"می", "خواهم"}  # ZWNJ is no letter: the word's parts


def _lines(word: str, sites: range, article: bool) -> list[tuple[int, str, bool]]:
    return [(site, f"{word} text", article) for site in sites]


def test_a_word_is_counted_once_per_site_and_needs_several_sites() -> None:
    many_pages_one_site = [(1, "acmecorp newsletter", False)] * 50
    across_sites = _lines("newsletter", range(10, 20), False) + _lines("council", range(10, 30), True)
    fitted = fit_lexicon(many_pages_one_site + across_sites, min_sites=5)
    assert "acmecorp" not in fitted.weights  # one site's boilerplate, however often
    assert fitted.weights["newsletter"] < 0 < fitted.weights["council"]
    # "text" is on every site of both classes: about as likely in either.
    assert abs(fitted.weights["text"]) < abs(fitted.weights["newsletter"])


def test_a_lines_scores_are_the_mean_and_the_lowest_weight_of_its_known_words() -> None:
    fitted = Lexicon({"newsletter": -2.0, "council": 1.0, "voted": 3.0})
    assert fitted.score("The council voted") == (2.0, 1.0)
    assert fitted.score("Get our newsletter, council") == (-0.5, -2.0)
    assert fitted.score("nothing known") == (0.0, 0.0)
    assert fitted.columns(["council", ""]).tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert fitted.columns([]).shape == (0, 2)


def test_a_lexicon_round_trips_through_json() -> None:
    fitted = fit_lexicon(_lines("newsletter", range(10), False) + _lines("council", range(10), True))
    again = Lexicon.from_json(json.loads(json.dumps(fitted.to_json())))
    assert again.weights == pytest.approx(fitted.weights, abs=1e-3)
    with pytest.raises(ValueError, match="object"):
        Lexicon.from_json({"weights": [1, 2]})


def test_the_shipped_text_model_carries_a_lexicon_of_many_sites() -> None:
    from service.pipeline import text_model

    model = text_model.load_model()
    assert model is not None
    assert model.lexicon is not None
    assert len(model.lexicon.weights) > 1000
    assert all(np.isfinite(w) for w in model.lexicon.weights.values())
    assert lexicon.MIN_SITES >= 3
