"""metadata: the answer's metadata fields (most are covered by the fixtures' expected answers)."""

from __future__ import annotations

import pytest

from service.models import Job
from service.pipeline import metadata_dates, run
from service.pipeline.metadata import drop_site_authors, drop_site_from_title, split_authors

PROSE = "The council voted on Tuesday to rebuild the old bridge, and work starts in spring. " * 3


def test_a_malformed_url_reaching_the_pipeline_is_no_crash() -> None:
    # The front doors refuse it (400, or dropped from a WARC record); behind them the pipeline
    # must still not crash on it (urlsplit raised ValueError): the hostname is then unknown.
    page = f"<html><body><article><p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
    answer = run(Job(mode="html", body=page.encode(), url="http://[::1/"))
    assert answer["hostname"] is None
    assert "rebuild the old bridge" in answer["text"]


@pytest.mark.parametrize(
    ("authors", "sitename", "hostname", "expected"),
    [
        (["Heise Online", "Dirk Knop"], "heise online", "www.heise.de", ["Dirk Knop"]),
        (["The Washington Times https", "Tom Davies"], None, "www.washingtontimes.com", ["Tom Davies"]),
        (["WDR", "Nina Magoley"], "WDR", "www1.wdr.de", ["Nina Magoley"]),
        # The host alone stays (some sets' truth names it as the author), as does a short label.
        (["ORF.at", "Jane Doe"], "news.ORF.at", "orf.at", ["ORF.at", "Jane Doe"]),
        # The site alone is all there is: kept.
        (["Lesotho Times"], "Lesotho Times", "lesotho-times.com", ["Lesotho Times"]),
        # A short host label may be part of a name: only the site name itself is dropped.
        (["Ann Bbc", "Max Roe"], None, "www.bbc.com", ["Ann Bbc", "Max Roe"]),
        (["Jane Doe", "Max Roe"], "Daily Planet", "dailyplanet.com", ["Jane Doe", "Max Roe"]),
    ],
)
def test_an_author_naming_the_site_goes_when_a_person_remains(
    authors: list[str], sitename: str | None, hostname: str | None, expected: list[str]
) -> None:
    assert drop_site_authors(authors, sitename, hostname) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada Quill; Max Roe", ["Ada Quill", "Max Roe"]),
        ("Gravelgreta » Sun Feb 11", ["Gravelgreta"]),
        ("责任编辑：孔德明", ["孔德明"]),  # "editor in charge:" before the name
        ("Text: Max Roe", ["Max Roe"]),
        ("Trine Jørgensen og Tôrtia Johansen", ["Trine Jørgensen", "Tôrtia Johansen"]),
        ("Dr. Rainer Quitzow", ["Dr. Rainer Quitzow"]),  # a title is no label
        ("Unknown", ["Unknown"]),  # what the page says, as "admin"
    ],
)
def test_trafilaturas_author_string_becomes_names(raw: str, expected: list[str]) -> None:
    assert split_authors(raw) == expected


def _page_with(byline: str, comments: str = "") -> bytes:
    # WordPress's post container: its "category-..." class makes trafilatura's author search
    # prune the whole post, byline included (its AUTHOR_DISCARD_XPATHS).
    article = f"<article><h1>Bridge</h1>{byline}<p>{PROSE}</p><p>{PROSE}</p></article>"
    body = f'<div class="post type-post category-news">{article}</div>{comments}'
    return f"<html><body>{body}</body></html>".encode()


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        # WordPress's byline: an hCard inside class "author vcard"; one word is a name too.
        (
            '<span class="byline">by <span class="author vcard"><a class="fn" href="/a/d">Daniel</a></span></span>',
            ["Daniel"],
        ),
        ('<p>Posted by <a rel="author" href="/u/ada">By Ada Quill</a></p>', ["Ada Quill"]),
        ('<p>Posted by <a rel="author" href="/u/ada">https://example.com/u/ada</a></p>', []),
    ],
)
def test_a_byline_card_names_the_author_when_nothing_else_does(byline: str, expected: list[str]) -> None:
    assert run(Job(mode="html", body=_page_with(byline)))["authors"] == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<span class="meta-label"> von Alexander Rosenkranz </span>', ["Alexander Rosenkranz"]),
        ("<p>By Jane Doe and John Roe | 3 May 2024</p>", ["Jane Doe", "John Roe"]),
        ("<div><small>Written by Alon Zakai.</small></div>", ["Alon Zakai"]),
        # Not a byline: a sentence, a lower-case word, a long line.
        ("<p>By the way, the bridge is old. It will close.</p>", []),
        ("<p>by tomorrow</p>", []),
        (f"<p>By Jane Doe {'and more ' * 12}</p>", []),
    ],
)
def test_a_byline_in_plain_text_names_the_author_when_nothing_else_does(header: str, expected: list[str]) -> None:
    # The byline sits in the page's header, outside trafilatura's body and without author markup.
    page = f"<html><body><header>{header}</header><article><p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
    assert run(Job(mode="html", body=page.encode()))["authors"] == expected


def test_a_commenters_byline_is_no_author() -> None:
    comments = '<div class="comment-list"><p>By Max Roe</p></div>'
    page = f"<html><body><article><p>{PROSE}</p><p>{PROSE}</p></article>{comments}</body></html>"
    assert run(Job(mode="html", body=page.encode()))["authors"] == []


def test_a_commenters_card_is_no_author() -> None:
    comments = '<section id="comments"><span class="author vcard"><b class="fn">Max Roe</b></span></section>'
    assert run(Job(mode="html", body=_page_with("", comments)))["authors"] == []


@pytest.mark.parametrize(
    ("title", "sitename", "hostname", "expected"),
    [
        ("Samsung soll Smartphones zerstören - Golem.de", None, "www.golem.de", "Samsung soll Smartphones zerstören"),
        (
            "Wie schlecht es um die Wirtschaft steht - WELT",
            "WELT",
            "www.welt.de",
            "Wie schlecht es um die Wirtschaft steht",
        ),
        ("A - B - Seznam Zprávy", "Seznam Zprávy", "www.seznamzpravy.cz", "A - B"),
        ("WELT | Die Nachricht", "WELT", "welt.de", "Die Nachricht"),
        ("Eine Lüge vor laufender Kamera - ", None, "x.de", "Eine Lüge vor laufender Kamera"),
        ("Liste des sorties »", None, "x.fr", "Liste des sorties"),
        # A closing guillemet is the quote's, not a separator (French sets a space before it).
        ("Sophie Binet met en garde sur la « gravité de la situation »", "Le Monde", "www.lemonde.fr", None),
        # The host's label when the host has a "www1."-style prefix (the longest label but the last).
        ("Wahl in Köln | WDR", None, "www1.wdr.de", "Wahl in Köln"),
        # A part merely holding the site's name is the headline's (an author's may hold it).
        ("How we designed Dropbox's ATF - an async task framework", None, "dropbox.tech", None),
        # Not the site: a headline's own dash stays.
        ("Bericht: Aktivistin getötet - Irans Justiz dementiert", "Tagesschau", "www.tagesschau.de", None),
        ("Code Covered | Code", None, None, None),
    ],
)
def test_the_sites_name_goes_from_the_title(
    title: str, sitename: str | None, hostname: str | None, expected: str | None
) -> None:
    assert drop_site_from_title(title, sitename, hostname) == (expected or title)


def _head_page(head: str) -> bytes:
    return f"<html><head>{head}</head><body><article><p>{PROSE}</p></article></body></html>".encode()


@pytest.mark.parametrize(
    ("url", "hostname", "image"),
    [
        # The caller's url wins over the canonical link for the hostname as for the url itself.
        ("https://given.example/p", "given.example", "https://given.example/rel.jpg"),
        (None, "example.net", "https://news.example.net/rel.jpg"),
    ],
)
def test_hostname_and_image_follow_the_answers_url(url: str | None, hostname: str, image: str) -> None:
    head = '<link rel="canonical" href="https://news.example.net/a"><meta property="og:image" content="/rel.jpg">'
    answer = run(Job(mode="html", body=_head_page(head), url=url))
    assert (answer["url"], answer["hostname"], answer["image"]) == (
        url or "https://news.example.net/a",
        hostname,
        image,
    )


def test_a_keywords_list_is_split_into_tags() -> None:
    answer = run(
        Job(mode="html", body=_head_page('<meta name="keywords" content="climate, energy policy; grid, climate">'))
    )
    assert answer["tags"] == ["climate", "energy policy", "grid"]


@pytest.mark.parametrize(("declared", "date"), [("2023-02", "2023-02-01"), ("2023-02-28T10:00:00Z", "2023-02-28")])
def test_a_date_without_its_day_never_takes_todays(declared: str, date: str) -> None:
    # dateutil filled the missing day from the clock: "2023-02" was 2023-02-07 on a 7th.
    answer = run(Job(mode="html", body=_head_page(f'<meta property="article:published_time" content="{declared}">')))
    assert answer["date"] == date


def test_a_date_string_without_a_day_is_refused_to_htmldate() -> None:
    with pytest.raises(ValueError, match="no whole date"):
        metadata_dates._whole_date("2023-02")
    assert metadata_dates._whole_date("3 Feb 2023").isoformat() == "2023-02-03T00:00:00"
