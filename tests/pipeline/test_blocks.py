"""Candidate blocks and their features (service.pipeline.blocks): what the block model decides on."""

from __future__ import annotations

import random
from collections import Counter

from lxml import etree

from service.models import Article, Metadata, Options
from service.pipeline import blocks, serialize
from service.pipeline.blocks import FEATURE_NAMES, PRESENT_SHARE, ReadabilityView, _share, _ShingleIndex, _shingles

PROSE = (
    "The council approved the plan on Tuesday after a long debate about costs, and the first works "
    "are expected to start in the spring once the tender has been awarded to a local company."
)
OTHER = (
    "Residents who live near the bridge will be told about the closures by letter, the mayor said, "
    "and a bus will replace the tram line for the four months the works are expected to last."
)


def _article(*elements: str, title: str | None = None) -> Article:
    return Article(metadata=Metadata(title=title), body=etree.fromstring("<body>" + "".join(elements) + "</body>"))


def _column(x: object, name: str) -> list[float]:
    return [float(v) for v in x[:, FEATURE_NAMES.index(name)]]  # type: ignore[index]


def _merged(own: list[str], readability: list[str]) -> list[blocks.Block]:
    """The candidates of trafilatura's paragraphs ``own`` and readability's ``readability``."""
    candidate = etree.fromstring("<body>" + "".join(f"<p>{text}</p>" for text in readability) + "</body>")
    view = ReadabilityView(ran=True, text=" ".join(readability), body=candidate)
    return blocks.candidate_blocks(_article(*(f"<p>{text}</p>" for text in own)), view, Options())


def test_readability_prose_missing_from_trafilatura_is_a_candidate_after_its_neighbour() -> None:
    found = _merged([PROSE, "Share"], [PROSE, OTHER])
    assert [(b.text[:12], b.from_trafilatura) for b in found] == [
        (PROSE[:12], True),
        (OTHER[:12], False),
        ("Share", True),
    ]
    assert [b.rule for b in found] == [None, None, "share-buttons"]


def test_readability_prose_before_the_first_shared_block_goes_just_before_it() -> None:
    # trafilatura's first block is not in readability's candidate: the extra block, which
    # readability holds just before the shared one, went ahead of the whole answer.
    lead = "A lead paragraph that only trafilatura kept, long enough to be a block of its own here."
    found = _merged([lead, PROSE], [OTHER, PROSE])
    assert [(b.text[:12], b.from_trafilatura) for b in found] == [
        (lead[:12], True),
        (OTHER[:12], False),
        (PROSE[:12], True),
    ]


def test_features_say_where_a_block_comes_from_and_which_rule_fired() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Share</p>", f"<p>{PROSE}</p>")
    view = ReadabilityView(ran=True, text=PROSE)
    found = blocks.candidate_blocks(article, view, Options())
    x = blocks.block_features(found, view)
    assert x.shape == (3, len(FEATURE_NAMES))
    assert _column(x, "from_trafilatura") == [1.0, 1.0, 1.0]
    assert _column(x, "rule_share-buttons") == [0.0, 1.0, 0.0]
    assert _column(x, "repeated") == [1.0, 0.0, 1.0]
    assert _column(x, "in_readability") == [1.0, 0.0, 1.0]
    assert _column(x, "rule_fired@-1") == [0.0, 0.0, 1.0]
    assert _column(x, "readability_ran") == [1.0, 1.0, 1.0]


def test_an_empty_body_has_no_candidates() -> None:
    article = _article()
    found = blocks.candidate_blocks(article, ReadabilityView(), Options())
    assert found == []
    assert blocks.block_features(found, ReadabilityView()).shape == (0, len(FEATURE_NAMES))


def _brute_force_match(sh: Counter[tuple[str, ...]], own: list[Counter[tuple[str, ...]]]) -> int | None:
    best, best_share = None, 0.0
    for number, block in enumerate(own):
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


def test_missing_prose_check_ignores_whitespace_and_short_blocks() -> None:
    summary = etree.fromstring(f"<div><p>{PROSE}</p><p>Caption.</p></div>")
    assert not blocks.may_lack_prose(etree.fromstring(f"<body><p>{PROSE.replace(' ', '  ')}</p></body>"), summary)
    assert blocks.may_lack_prose(etree.fromstring("<body><p>Something else entirely.</p></body>"), summary)


def test_missing_prose_check_counts_a_repeated_paragraph() -> None:
    summary = etree.fromstring(f"<div><p>{PROSE}</p><p>{PROSE}</p></div>")
    assert blocks.may_lack_prose(etree.fromstring(f"<body><p>{PROSE}</p></body>"), summary)
    assert not blocks.may_lack_prose(etree.fromstring(f"<body><p>{PROSE}</p><p>{PROSE}</p></body>"), summary)


def test_a_readability_block_loses_the_source_layout_whitespace_but_code_keeps_it() -> None:
    article = _article(f"<p>{PROSE}</p>")
    candidate = etree.fromstring(
        f"<body><p>{PROSE}</p><list>\n    <item>\n        {OTHER}\n    </item>\n</list>"
        "<code>  indented\n    code</code></body>"
    )
    view = ReadabilityView(ran=True, text=PROSE + " " + OTHER, body=candidate)
    found = blocks.candidate_blocks(article, view, Options())
    holder = etree.Element("body")
    holder.extend(etree.fromstring(etree.tostring(b.element)) for b in found)
    assert serialize.render_text(holder).split("\n") == [PROSE, f"- {OTHER}", "  indented", "    code"]


def test_a_readability_block_keeps_the_pages_non_ascii_spaces() -> None:
    # NBSP, U+202F, U+3000 are the page's characters: only the source's ASCII layout collapses
    article = _article(f"<p>{PROSE}</p>")
    shown = "Le prix\u00a0: «\u00a0100\u202f€\u00a0» w\u00a0Parlamencie,\u3000" + OTHER
    candidate = etree.fromstring(
        f"<body><p>{PROSE}</p><p>\n  \u00a0{shown}\u00a0\n</p><list><item>\n  {shown} </item></list>"
        f"<table><row><cell>\u00a0</cell><cell>{OTHER}</cell></row></table></body>"
    )
    view = ReadabilityView(ran=True, text=PROSE + " " + shown, body=candidate)
    found = blocks.candidate_blocks(article, view, Options())
    holder = etree.Element("body")
    holder.extend(etree.fromstring(etree.tostring(b.element)) for b in found)
    # a cell of spaces alone is empty, as in trafilatura's blocks (``library_swaps.trim_layout``)
    assert serialize.render_text(holder).split("\n") == [PROSE, f"\u00a0{shown}\u00a0", f"- {shown}", f"|  | {OTHER} |"]
