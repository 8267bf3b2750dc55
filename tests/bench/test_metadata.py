"""bench/metadata.py: how a field is compared with the sets' annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import metadata
from bench.quality import Page


def _page(meta: dict[str, object], title: str | None = None) -> Page:
    return Page("p", Path("p.html"), False, {"id": "p", "url": None, "title": title, "meta": meta})


@pytest.mark.parametrize(
    ("truth", "found", "score"),
    [
        ("By Jane Doe", ["Jane Doe"], 1.0),  # a byline and the authors agree
        (["Jane Doe", "Max Roe"], ["Jane Doe"], 2 / 3),  # 4 name words against 2: F1 of the words
        ("Jane Doe", [], 0.0),
        ("Jane Doe", ["Someone Else"], 0.0),
    ],
)
def test_authors_are_compared_by_their_name_words(truth: object, found: object, score: float) -> None:
    assert metadata.SCORERS["authors"](truth, found) == pytest.approx(score)


def test_a_date_is_right_on_the_same_day_and_none_is_right_where_the_set_says_none() -> None:
    date = metadata.SCORERS["date"]
    assert date("2024-05-03 15:47:42+00:00", "2024-05-03") == 1.0
    assert date("2024-05-03", "2024-05-04") == 0.0
    assert date("", None) == 1.0
    assert date("", "2020-01-01") == 0.0
    assert metadata.truth_fields(_page({"date": ""}))["date"] == ""
    assert "date" not in metadata.truth_fields(_page({"publishedTime": None}))


def test_fields_come_from_each_sets_names() -> None:
    fields = metadata.truth_fields(_page({"byline": "By Ada", "siteName": "Site", "lang": "en-GB"}, title="T"))
    assert fields == {"title": "T", "authors": "By Ada", "sitename": "Site", "language": "en-GB"}
    assert metadata.SCORERS["language"]("en-GB", "en") == 1.0
