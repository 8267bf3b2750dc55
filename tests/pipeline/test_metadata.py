"""metadata: the answer's metadata fields (most are covered by the fixtures' expected answers)."""

from __future__ import annotations

import pytest

from service.models import Job
from service.pipeline import run
from service.pipeline.metadata import drop_site_authors, split_authors

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
