"""The block recovery's matching (service.pipeline.recover) and the parse-time attribute trim."""

from __future__ import annotations

import random
from collections import Counter

from lxml import etree

from service.pipeline import parse
from service.pipeline.recover import (
    PRESENT_SHARE,
    _has_missing_prose,
    _share,
    _ShingleIndex,
    _shingles,
    _subtract,
    _text,
)


def _brute_force_match(sh: Counter[tuple[str, ...]], blocks: list[Counter[tuple[str, ...]]]) -> int | None:
    best, best_share = None, 0.0
    for number, block in enumerate(blocks):
        share = _share(block, sh)
        if share > best_share:
            best, best_share = number, share
    return best if best_share >= PRESENT_SHARE else None


def test_shingle_index_finds_the_same_block_as_comparing_every_pair() -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(30)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 25))) for _ in range(60)]
    own = [_shingles(t) for t in texts[:30]]
    index = _ShingleIndex(own)
    for text in texts:
        sh = _shingles(text)
        assert index.best_match(sh) == _brute_force_match(sh, own)


def test_subtract_removes_only_what_is_there() -> None:
    counter = Counter({("a",): 2, ("b",): 1})
    _subtract(counter, Counter({("a",): 1, ("b",): 3, ("c",): 1}))
    assert counter == Counter({("a",): 1})


def test_crowded_tag_rule_leaves_script_comparisons_alone() -> None:
    # "i<e.length;..." in a minified script once matched as a tag with 65+ attributes: the trim
    # cut the script's end tag and the article went into the script.
    script = "for(var i=0;i<e.length;++i)" + "".join(f" a{i}=b{i}" for i in range(80)) + "</script>"
    html = f"<html><head><script>{script}<body><p>The article.</p></body></html>"
    warnings: list[str] = []
    assert parse._trim_attributes_in_source(html, warnings) == html
    assert warnings == []


def test_crowded_start_tag_is_still_trimmed() -> None:
    tag = "<div " + " ".join(f'data-a{i}="v{i}"' for i in range(100)) + ' class="c">'
    warnings: list[str] = []
    assert parse._trim_attributes_in_source(tag + "text</div>", warnings) == '<div class="c">text</div>'
    assert warnings == ["attributes-trimmed"]


PROSE = (
    "The council approved the plan on Tuesday after a long debate about costs, and the first works "
    "are expected to start in the spring once the tender has been awarded to a local company."
)


def test_missing_prose_check_ignores_whitespace_and_short_blocks() -> None:
    candidate = etree.fromstring(f"<body><p>{PROSE}</p><p>Caption.</p></body>")
    blocks = list(candidate)
    texts = [_text(block) for block in blocks]
    assert not _has_missing_prose(blocks, texts, PROSE.replace(" ", "\n  "))
    assert _has_missing_prose(blocks, texts, "Something else entirely.")


def test_missing_prose_check_counts_a_repeated_paragraph() -> None:
    candidate = etree.fromstring(f"<body><p>{PROSE}</p><p>{PROSE}</p></body>")
    blocks = list(candidate)
    texts = [_text(block) for block in blocks]
    assert _has_missing_prose(blocks, texts, PROSE)
    assert not _has_missing_prose(blocks, texts, PROSE + " " + PROSE)
