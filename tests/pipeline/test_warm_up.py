"""Rules of ``service.pipeline.warm_up``: a warm process pays no one-time load on a real page."""

from __future__ import annotations

import pytest
import trafilatura.external

from service.pipeline import warm_up


def test_warm_up_loads_the_justext_stoplists(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stoplists load on the first short extraction (~190 ms): warm-up loads them."""
    monkeypatch.setattr(trafilatura.external, "JT_STOPLIST", None)
    warm_up()
    assert trafilatura.external.JT_STOPLIST
