"""Every fixtures/<case>/ page comes out as its expected.json says (one test per case)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import fixture_cases, load_case

_SPACES = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def check_answer(answer: dict[str, Any], expected: dict[str, Any]) -> None:
    """The rules of expected.json (fixtures/README.md), each failure naming what differed."""
    for field, value in expected.get("metadata", {}).items():
        assert answer[field] == value, f"metadata {field}: got {answer[field]!r}, expected {value!r}"
    text = _norm(answer["text"])
    for snippet in expected.get("text_contains", []):
        assert _norm(snippet) in text, f"text lacks {snippet!r}"
    for snippet in expected.get("text_excludes", []):
        assert _norm(snippet) not in text, f"text still has {snippet!r}"
    if "paragraphs" in expected:
        paragraphs = [_norm(p) for p in answer["text"].split("\n") if p.strip()]
        assert paragraphs == [_norm(p) for p in expected["paragraphs"]], "paragraphs differ"
    removed = [(_norm(item["text"]), item["reason"]) for item in answer.get("removed", [])]
    for item in expected.get("removed", []):
        snippet, reason = _norm(item["text"]), item.get("reason")
        matches = [r for t, r in removed if snippet in t]
        assert matches, f"removed lacks {snippet!r}"
        if reason:
            assert reason in matches, f"{snippet!r} removed as {matches}, expected {reason!r}"
    for code in expected.get("warnings", []):
        assert code in answer["warnings"], f"warning {code!r} missing from {answer['warnings']}"
    if "min_words" in expected:
        assert answer["word_count"] >= expected["min_words"]


@pytest.mark.parametrize("case_dir", fixture_cases(), ids=lambda p: p.name)
def test_fixture_case(client: FlaskClient, case_dir: Path) -> None:
    case = load_case(case_dir)
    query = dict(case["query"])
    if case["expected"].get("removed"):
        query["explain"] = "true"
    response = client.post(
        "/v1/extract", data=case["body"], query_string=query, headers={"Content-Type": case["content_type"]}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    check_answer(response.get_json(), case["expected"])
