"""The extraction process's guard: what a page's failure is answered with."""

from __future__ import annotations

import resource
from typing import Any

import pytest
from lxml import etree

from service.errors import ExtractorCrashed, PageTooComplex
from service.models import Job
from service.pipeline import Limits
from service.workers import child

LIMIT = 400 * 1024 * 1024


def _failing_run(*_args: Any) -> Any:
    raise etree.XMLSyntaxError("unknown error", 1, 1, 1)  # libxml2's word for a failed allocation


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pipeline fails as lxml does; the address-space limit is LIMIT; the test sets the
    peaks VmPeak reports (before the page, then after it)."""
    import service.pipeline

    peaks: list[int] = []
    monkeypatch.setattr(service.pipeline, "run", _failing_run)
    monkeypatch.setattr(child, "vm_peak_bytes", lambda: peaks.pop(0))
    monkeypatch.setattr(resource, "getrlimit", lambda _kind: (LIMIT, LIMIT))
    return peaks


def test_a_page_that_takes_the_process_to_its_memory_limit_is_too_complex(limited: list[int]) -> None:
    # lxml raised its own error at the limit and the page answered 500, which clients retry (s20 audit).
    limited += [300 * 1024 * 1024, LIMIT - 1024 * 1024]
    kind, error = child.run_guarded(Job(mode="html", body=b"<p>x</p>"), Limits(30_000, 180))
    assert (kind, type(error)) == ("error", PageTooComplex)


def test_a_failure_far_from_the_limit_is_still_a_crash(limited: list[int]) -> None:
    limited += [300 * 1024 * 1024, 310 * 1024 * 1024]
    kind, error = child.run_guarded(Job(mode="html", body=b"<p>x</p>"), Limits(30_000, 180))
    assert (kind, type(error)) == ("error", ExtractorCrashed)


def test_the_peak_is_read_from_the_kernel() -> None:
    assert child.vm_peak_bytes() > 0
