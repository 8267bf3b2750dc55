"""The ``include`` and ``exclude`` options: repeatable CSS selectors, checked before extraction."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.models import MAX_SELECTOR_CHARS, MAX_SELECTORS, Options
from tests.http.test_batch import lines, ndjson, post_batch

STORY = "The river rose by two metres overnight and the town's volunteers filled sandbags until dawn. " * 3
PROMO = "Subscribe to our premium newsletter for exclusive offers and weekly discount codes now. " * 3
PAGE = (
    "<html><head><title>Flood night</title></head><body>"
    f"<div id='main'><p>{STORY}</p><div class='promo'><p>{PROMO}</p></div></div>"
    f"<div id='other'><p>{PROMO}</p></div>"
    "</body></html>"
)


def extract(
    client: FlaskClient, query: list[tuple[str, str]] | None = None, /, **json_options: object
) -> dict[str, Any]:
    if json_options:
        body = json.dumps({"html": PAGE, "options": json_options})
        response = client.post("/v1/extract", data=body, content_type="application/json")
    else:
        response = client.post("/v1/extract", data=PAGE, content_type="text/html", query_string=query or [])
    return {"status": response.status_code, **response.get_json()}


def test_exclude_in_the_query_is_repeatable(client: FlaskClient) -> None:
    answer = extract(client, [("exclude", ".promo"), ("exclude", "#other")])
    assert answer["status"] == 200
    assert "river rose" in answer["text"]
    assert "newsletter" not in answer["text"]


def test_include_as_a_json_list_extracts_only_from_what_it_matches(client: FlaskClient) -> None:
    answer = extract(client, include=["#other"])
    assert "newsletter" in answer["text"]
    assert "river rose" not in answer["text"]
    assert answer["title"] == "Flood night"


def test_a_single_selector_may_be_a_json_string(client: FlaskClient) -> None:
    assert "newsletter" not in extract(client, include="#main", exclude=".promo")["text"]


def test_include_that_matches_nothing_gives_empty_text_and_a_warning(client: FlaskClient) -> None:
    answer = extract(client, [("include", "article.none")])
    assert answer["status"] == 200
    assert answer["text"] == ""
    assert "include-matched-nothing" in answer["warnings"]


@pytest.mark.parametrize("option", ["include", "exclude"])
@pytest.mark.parametrize("selector", ["div[", "p::text", "", "a:nth-child(x)", ")"])
def test_an_invalid_selector_is_a_400_naming_the_option(client: FlaskClient, option: str, selector: str) -> None:
    for answer in (extract(client, [(option, selector)]), extract(client, **{option: [selector]})):
        assert answer["status"] == 400
        assert answer["code"] == "invalid-option"
        assert answer["option"] == option


@pytest.mark.parametrize("value", [3, [1], {"a": "b"}, [".a"] * (MAX_SELECTORS + 1), ["a" * (MAX_SELECTOR_CHARS + 1)]])
def test_selectors_must_be_a_few_short_strings(client: FlaskClient, value: object) -> None:
    answer = extract(client, exclude=value)
    assert answer["status"] == 400
    assert answer["option"] == "exclude"


def test_selectors_are_part_of_the_cache_key() -> None:
    assert Options(include=("p",)).cache_key() != Options().cache_key()
    assert Options(exclude=("p",)).cache_key() != Options(include=("p",)).cache_key()


def test_batch_query_selectors_are_defaults_for_every_item(client: FlaskClient) -> None:
    response = post_batch(client, ndjson({"id": 1, "html": PAGE}), query="?exclude=.promo&exclude=%23other")
    (line,) = lines(response.data)
    assert "river rose" in line["text"]
    assert "newsletter" not in line["text"]


TEXT = f"Flood night\n\n{STORY}\n\n{PROMO}\n"


def _text_answers(client: FlaskClient, include: list[str], exclude: list[str]) -> list[dict[str, Any]]:
    """The answers to the same text with the same selectors, through each door of the text mode."""
    query = [("include", s) for s in include] + [("exclude", s) for s in exclude]
    options = {"include": include, "exclude": exclude}
    plain = client.post("/v1/extract", data=TEXT, content_type="text/plain", query_string=query)
    as_json = client.post("/v1/extract", json={"text": TEXT, "options": options})
    # Labelled HTML but without markup: cleaned as text too (no-markup-treated-as-text).
    no_markup = client.post("/v1/extract", data=TEXT, content_type="text/html", query_string=query)
    (batch_line,) = lines(post_batch(client, ndjson({"id": 1, "text": TEXT, "options": options})).data)
    return [plain.get_json(), as_json.get_json(), no_markup.get_json(), batch_line]


@pytest.mark.parametrize(
    ("include", "exclude", "warned"),
    [
        (["#main"], [], ["include-ignored"]),
        ([], [".promo"], ["exclude-ignored"]),
        (["#main"], [".promo", "#other"], ["include-ignored", "exclude-ignored"]),
    ],
)
def test_selectors_on_plain_text_are_ignored_and_each_is_said(
    client: FlaskClient, include: list[str], exclude: list[str], warned: list[str]
) -> None:
    for answer in _text_answers(client, include, exclude):
        assert "river rose" in answer["text"]
        assert [code for code in answer["warnings"] if code.endswith("-ignored")] == warned


def test_plain_text_without_selectors_has_no_such_warning(client: FlaskClient) -> None:
    for answer in _text_answers(client, [], []):
        assert not [code for code in answer["warnings"] if code.endswith("-ignored")]
