"""Shared fixtures: one extraction pool for the whole session (starting one costs ~1 s)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.http.app import create_app
from service.settings import Settings
from service.workers.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# Keys every 200 answer of /v1/extract carries with default options (README, "The answer").
ANSWER_KEYS = frozenset(
    {
        "url",
        "title",
        "authors",
        "date",
        "sitename",
        "hostname",
        "language",
        "description",
        "categories",
        "tags",
        "image",
        "text",
        "word_count",
        "warnings",
        "timing_ms",
    }
)


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"extractors": 2, "time_budget_s": 10.0, "cache_entries": 0}
    base.update(overrides)
    return Settings.from_env(environ={}, **base)


@pytest.fixture(scope="session")
def runtime() -> Iterator[Runtime]:
    runtime = Runtime.start(make_settings())
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def json_object(response: TestResponse) -> dict[str, Any]:
    """The JSON object a test client's answer carries; the test fails when it carries none."""
    document = response.json
    assert isinstance(document, dict), response.get_data(as_text=True)[:500]
    return document


def load_case(case_dir: Path) -> dict[str, Any]:
    """A fixture case: input bytes, request settings and expectations (see fixtures/README.md)."""
    inputs = sorted(case_dir.glob("input.*"))
    if len(inputs) != 1:
        raise ValueError(f"{case_dir.name}: needs exactly one input.* file")
    request = json.loads((case_dir / "request.json").read_text()) if (case_dir / "request.json").exists() else {}
    expected = json.loads((case_dir / "expected.json").read_text(encoding="utf-8"))
    default_type = "text/plain; charset=utf-8" if inputs[0].suffix == ".txt" else "text/html"
    return {
        "name": case_dir.name,
        "body": inputs[0].read_bytes(),
        "content_type": request.get("content_type", default_type),
        "query": {"url": request["url"], **request.get("options", {})}
        if "url" in request
        else request.get("options", {}),
        "expected": expected,
    }


def fixture_cases() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and (p / "expected.json").exists())
