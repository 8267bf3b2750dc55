"""The per-request ``timeout`` option: it bounds that request's extraction like the server's budget."""

from __future__ import annotations

import json
import time

import pytest
from flask.testing import FlaskClient

from tests.conftest import json_object
from tests.http.test_batch import HEAVY_PAGE, TEXT, lines, ndjson, post_batch, settle

SHORT_TIMEOUT_S = 0.3
# Kill, answer and the test client's own overhead on a loaded 2-core machine.
OVERHEAD_ALLOWED_S = 2.0


def test_a_short_timeout_answers_503_within_that_timeout(client: FlaskClient) -> None:
    started = time.monotonic()
    response = client.post(
        "/v1/extract", data=HEAVY_PAGE, content_type="text/html", query_string={"timeout": str(SHORT_TIMEOUT_S)}
    )
    elapsed = time.monotonic() - started
    settle(client.application.extensions["cleaner"])
    assert response.status_code == 503
    problem = json_object(response)
    assert problem["code"] == "time-budget-exceeded"
    assert f"{SHORT_TIMEOUT_S:g} s" in problem["detail"]
    assert elapsed < SHORT_TIMEOUT_S + OVERHEAD_ALLOWED_S


def test_a_timeout_in_json_options_bounds_the_request_too(client: FlaskClient) -> None:
    body = json.dumps({"html": HEAVY_PAGE, "options": {"timeout": SHORT_TIMEOUT_S}})
    response = client.post("/v1/extract", data=body, content_type="application/json")
    settle(client.application.extensions["cleaner"])
    assert response.status_code == 503
    assert json_object(response)["code"] == "time-budget-exceeded"


def test_a_timeout_within_the_budget_leaves_normal_pages_alone(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data=TEXT, content_type="text/plain", query_string={"timeout": "5"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "10.5"])
def test_a_timeout_not_above_zero_or_over_the_server_budget_is_invalid(client: FlaskClient, value: str) -> None:
    # The session's server budget is 10 s (tests/conftest.make_settings).
    response = client.post("/v1/extract", data=TEXT, content_type="text/plain", query_string={"timeout": value})
    assert response.status_code == 400
    problem = json_object(response)
    assert problem["code"] == "invalid-option"
    assert problem["option"] == "timeout"


def test_a_json_timeout_must_be_a_number(client: FlaskClient) -> None:
    for value in ("two", True, None, [1]):
        body = json.dumps({"text": TEXT, "options": {"timeout": value}})
        response = client.post("/v1/extract", data=body, content_type="application/json")
        assert response.status_code == 400, value
        assert json_object(response)["option"] == "timeout"


def test_a_batch_item_timeout_bounds_that_item_only(client: FlaskClient) -> None:
    response = post_batch(
        client,
        ndjson(
            {"id": "heavy", "html": HEAVY_PAGE, "options": {"timeout": SHORT_TIMEOUT_S}},
            {"id": "light", "text": TEXT},
            {"id": "over", "text": TEXT, "options": {"timeout": 11}},
        ),
    )
    settle(client.application.extensions["cleaner"])
    heavy, light, over = lines(response.data)
    assert heavy["error"]["code"] == "time-budget-exceeded"
    assert "error" not in light
    assert over["error"]["code"] == "invalid-option"
