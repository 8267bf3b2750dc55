"""metadata: the answer's metadata fields (most are covered by the fixtures' expected answers)."""

from __future__ import annotations

from service.models import Job
from service.pipeline import run

PROSE = "The council voted on Tuesday to rebuild the old bridge, and work starts in spring. " * 3


def test_a_malformed_url_reaching_the_pipeline_is_no_crash() -> None:
    # The front doors refuse it (400, or dropped from a WARC record); behind them the pipeline
    # must still not crash on it (urlsplit raised ValueError): the hostname is then unknown.
    page = f"<html><body><article><p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
    answer = run(Job(mode="html", body=page.encode(), url="http://[::1/"))
    assert answer["hostname"] is None
    assert "rebuild the old bridge" in answer["text"]
