"""explain (service.pipeline.explain) never lists text that is in the answer."""

from __future__ import annotations

from typing import TypedDict, Unpack

from service.models import Job, Options
from service.pipeline import run

LONG = "and it goes on with enough words so that the extractor keeps it as part of the article text."


def _page() -> bytes:
    return (
        "<html><head><title>T</title></head><body><article><h1>A title for the page</h1>"
        f"<p>First paragraph of the article {LONG}</p>"
        f"<p>This paragraph has <a href='https://example.com/a'>a link inside</a> {LONG}</p>"
        f"<p>Another paragraph with <img src='/x.png' alt='pic'> an image inside {LONG}</p>"
        f"<p>Line one of a poem {LONG}<br>line two of the same poem {LONG}</p>"
        "</article><footer><p>Copyright 2024 Example Inc.</p></footer></body></html>"
    ).encode()


class _Flags(TypedDict, total=False):
    """The boolean fields of ``Options`` a test may set (``explain`` is always on here)."""

    comments: bool
    tables: bool
    images: bool
    links: bool


def _listed(**options: Unpack[_Flags]) -> list[str]:
    answer = run(Job(mode="html", body=_page(), options=Options(explain=True, **options)))
    return [item["text"] for item in answer["removed"]]


def test_explain_does_not_list_a_kept_paragraph_with_a_link_when_links_are_rendered() -> None:
    listed = _listed(links=True)
    assert not any("a link inside" in text for text in listed)
    assert "Copyright 2024 Example Inc." in listed


def test_explain_does_not_list_a_kept_paragraph_with_an_image_when_images_are_rendered() -> None:
    listed = _listed(links=True, images=True)
    assert not any("an image inside" in text for text in listed)


def test_explain_does_not_list_a_kept_paragraph_with_a_line_break() -> None:
    assert not any("Line one of a poem" in text for text in _listed())
