"""The parse-time attribute trim (service.pipeline.parse): crowded start tags, not script text."""

from __future__ import annotations

from service.pipeline import parse


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
