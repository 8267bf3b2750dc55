"""sanity: a navigation-only answer is no article; an article inside a broken <header> still is."""

from __future__ import annotations

from service.models import Job
from service.pipeline import run

PROSE = "The council voted on Tuesday to rebuild the old bridge, and work starts in spring. " * 3


def test_menu_only_answer_becomes_no_main_content() -> None:
    page = (
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/about'>About us</a></nav>"
        "</body></html>"
    )
    answer = run(Job(mode="html", body=page.encode()))
    assert answer["text"] == ""
    assert "no-main-content" in answer["warnings"]


def test_article_swallowed_by_an_unclosed_header_is_kept() -> None:
    page = (
        "<html><body><header class='site-header'><a href='/'>Home</a><h1>Bridge to be rebuilt</h1>"
        f"<p>{PROSE}</p><p>{PROSE}</p></body></html>"
    )
    answer = run(Job(mode="html", body=page.encode()))
    assert "rebuild the old bridge" in answer["text"]
    assert "no-main-content" not in answer["warnings"]


def test_empty_answer_always_says_so() -> None:
    answer = run(Job(mode="html", body=b"<html><head><title>x</title></head><body><div> </div></body></html>"))
    assert answer["text"] == ""
    assert "no-main-content" in answer["warnings"]
