"""``<noframes>`` is read as a browser reads it (s20 audit): in a frameset document, whose frames
the service never loads, its markup is the page (as a browser without frames shows it); anywhere
else it is hidden, as every browser hides it. Its markup never comes back as literal tags."""

from __future__ import annotations

import pytest

from service.models import Job, Options
from service.pipeline import run

FALLBACK = "This site needs frames. Here is the article text instead, a long enough paragraph to be kept."
SECOND = "A second paragraph of the fallback, with an escaped &amp; ampersand and more words."
ARTICLE = (
    "<article><h1>The real article</h1>"
    "<p>The real article body is here, and it is long enough to be kept by the extractor as text.</p>"
    "<p>A second paragraph of the real article with more words, so that the page has a body.</p></article>"
)


def _answer(page: str) -> dict[str, object]:
    return run(Job(mode="html", body=page.encode(), options=Options(formats=("text", "html"))))


@pytest.mark.parametrize(
    "page",
    [
        f'<html><frameset><frame src="a.html"></frameset><noframes><p>{FALLBACK}</p><p>{SECOND}</p></noframes></html>',
        (
            '<html><head><title>Frames</title></head><frameset cols="20%,80%"><frame src="nav.html">'
            f'<frame src="main.html"><noframes><body><p>{FALLBACK}</p><p>{SECOND}</p></body></noframes>'
            "</frameset></html>"
        ),
    ],
    ids=["after-the-frameset", "inside-the-frameset"],
)
def test_the_noframes_of_a_frameset_document_is_read_as_html(page: str) -> None:
    answer = _answer(page)
    assert answer["text"] == f"{FALLBACK}\n{SECOND.replace('&amp;', '&')}"
    html = str(answer["html"])
    assert f"<p>{FALLBACK}</p>" in html
    assert "&lt;" not in html


def test_a_noframes_in_a_body_is_hidden_as_browsers_hide_it() -> None:
    notice = "Your browser does not support frames, so please upgrade it to read this site at all."
    answer = _answer(f"<html><body>{ARTICLE}<noframes><p>{notice}</p></noframes></body></html>")
    assert "The real article body is here" in str(answer["text"])
    assert "support frames" not in str(answer["text"])


def test_a_body_of_only_noframes_has_no_main_content() -> None:
    answer = _answer(f"<html><body><noframes><p>{FALLBACK}</p></noframes></body></html>")
    assert answer["text"] == ""
    assert "no-main-content" in answer["warnings"]  # type: ignore[operator]
