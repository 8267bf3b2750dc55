"""``text`` holds the page's words as a browser shows them (s21 fidelity audit): characters
decoded once, no text of elements a browser never renders, and no two blocks' words glued into
one where the page shows them apart."""

from __future__ import annotations

import pytest

from service.models import Job
from service.pipeline import run

FILLER = "Ordinary words make this paragraph long enough to count as the article's own text. " * 3


def _text(content: str) -> str:
    page = f"<html><body><article><p>{FILLER}</p>{content}<p>{FILLER}</p></article></body></html>"
    return str(run(Job(mode="html", body=page.encode()))["text"])


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("Write &amp;lt;div&amp;gt; to show a tag", "Write &lt;div&gt; to show a tag"),
        ("The query ?a=1&amp;para=2&amp;copy=3 as typed", "The query ?a=1&para=2&copy=3 as typed"),
        ("AT&amp;amp;T is the escaped name", "AT&amp;T is the escaped name"),
    ],
    ids=["escaped-markup", "legacy-entity-names", "escaped-reference"],
)
def test_character_references_are_decoded_once(source: str, shown: str) -> None:
    assert f"{shown}, in a paragraph of the article." in _text(f"<p>{source}, in a paragraph of the article.</p>")
