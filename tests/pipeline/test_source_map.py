"""A candidate block's place in the page's markup (service.pipeline.source_map): the block
model's DOM features."""

from __future__ import annotations

import lxml.html
import numpy as np

from service.pipeline.source_map import SOURCE_FEATURES, SourceMap, source_features

PROSE = [
    "The council approved the plan on Tuesday after a long debate about the costs of the old bridge over the river.",
    "Works start in the spring, once the tender has been awarded to a local building company from the valley.",
    "Residents near the bridge will be told about the closures by letter, the mayor said today at the town hall.",
]
PAGE = f"""<html><head><title>Bridge plan approved</title><script>var a = "The council approved the plan";</script>
</head><body>
<nav class="site-menu"><a href="/">Home</a> <a href="/news">News</a></nav>
<article class="story-body"><h1>Bridge plan approved</h1>
<p>{PROSE[0]}</p><p>{PROSE[1]}</p><p><b>Bridge</b> {PROSE[2]}</p>
<div class="related-articles"><ul><li><a href="/a">Tram line closed for the summer months</a></li>
<li><a href="/b">New bus routes for the city centre</a></li></ul></div></article>
<footer id="pageFooter"><p>Copyright 2026 The Local News Company, all rights reserved.</p></footer>
</body></html>"""


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"\w+", text.lower())


def _features(blocks: list[str], own: list[bool] | None = None) -> dict[str, list[float]]:
    source = SourceMap(lxml.html.fromstring(PAGE))
    words = [_words(b) for b in blocks]
    x = source_features(source, words, [float(len(b)) for b in blocks], own or [True] * len(blocks))
    return {name: [float(v) for v in x[:, i]] for i, name in enumerate(SOURCE_FEATURES)}


def test_blocks_are_found_in_the_markup_and_the_script_text_is_not_the_page() -> None:
    blocks = [PROSE[0], "Bridge " + PROSE[2], "Not on this page at all, anywhere"]
    f = _features(blocks)
    assert f["src_found"] == [1.0, 1.0, 0.0]
    assert f["src_in_article"] == [1.0, 1.0, 0.0]
    assert f["src_cls_content"][0] > 0  # "story-body", an ancestor


def test_a_list_is_located_at_its_list_and_carries_its_containers_class_words() -> None:
    teaser = "- Tram line closed for the summer months\n- New bus routes for the city centre"
    f = _features([*PROSE, teaser, "Copyright 2026 The Local News Company, all rights reserved."])
    assert f["src_in_li"][3] == 0.0  # the list element itself, not one of its items
    assert f["src_cls_related"][3] > 0
    assert f["src_cls_related"][:3] == [0.0, 0.0, 0.0]
    assert f["src_in_footer"][4] == 1.0
    assert f["src_cls_footer"][4] > 0  # id "pageFooter" split at the capital


def test_the_article_root_holds_the_long_prose_and_what_lies_outside_it_is_measured() -> None:
    f = _features([*PROSE, "Copyright 2026 The Local News Company, all rights reserved."])
    assert f["src_in_root"] == [1.0, 1.0, 1.0, 0.0]
    assert f["src_root_distance"][3] > 0
    assert f["src_root_prose_share"] == [1.0] * 4


def test_without_a_source_every_feature_is_zero() -> None:
    x = source_features(None, [_words(PROSE[0])], [90.0], [True])
    assert x.shape == (1, len(SOURCE_FEATURES))
    assert not np.any(x)
