"""Pages for the tests that compare our translations of trafilatura's XPaths with the originals:
the HTML fixtures, and random nested markup whose tags and attributes hit the conditions."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import lxml.html

from service.pipeline import decode, parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# (rng, tag) -> the element's attributes, as name="value" strings; and its own text.
Attributes = Callable[[random.Random, str], list[str]]
Words = Callable[[random.Random], str]


def fixture_pages() -> list[str]:
    return [
        decode.decode(path.read_bytes(), None, is_html=True)[0] for path in sorted(FIXTURES.glob("html-*/input.html"))
    ]


def parsed_tree(html: str) -> lxml.html.HtmlElement:
    """``html`` parsed as the pipeline parses it (default limits)."""
    return parse.parse_html(html, 30_000, 180).tree


def generated_pages(
    seed: int, count: int, tags: list[str], attributes: Attributes, words: Words, max_children: int = 3
) -> list[str]:
    """``count`` pages of 3 to 12 random elements nested up to 5 deep, with text and tails."""
    rng = random.Random(seed)

    def element(depth: int) -> str:
        tag = rng.choice(tags)
        attribute_text = " ".join(attributes(rng, tag))
        text = words(rng)
        children = "".join(
            element(depth + 1) + rng.choice(["", " tail ", "t"])
            for _ in range(rng.randint(0, max_children) if depth < 4 else 0)
        )
        return f"<{tag} {attribute_text}>{text}{children}</{tag}>"

    return [
        "<html><head><title>T - Site</title></head><body>"
        + "".join(element(0) for _ in range(rng.randint(3, 12)))
        + "</body></html>"
        for _ in range(count)
    ]
