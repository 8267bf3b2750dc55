"""API keys: only bearers of a configured key get in; probes and static pages stay open."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.app import create_app
from service.workers.runtime import Runtime
from tests.conftest import make_settings

PAGE = b"<html><body><article><p>" + b"Words of a real article paragraph. " * 10 + b"</p></article></body></html>"


@pytest.fixture
def keyed_app(runtime: Runtime, tmp_path: Path) -> Flask:
    keys_file = tmp_path / "keys.sha256"
    keys_file.write_text(f"# ops team\n{hashlib.sha256(b'file-key').hexdigest()}\n")
    settings = make_settings(api_keys="env-key-1, env-key-2", api_keys_file=str(keys_file))
    return create_app(settings=settings, runtime=runtime)


@pytest.fixture
def keyed(keyed_app: Flask) -> FlaskClient:
    return keyed_app.test_client()


def post(client: FlaskClient, key: str | None) -> int:
    headers = {"Content-Type": "text/html"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return client.post("/v1/extract", data=PAGE, headers=headers).status_code


@pytest.mark.parametrize("key", ["env-key-1", "env-key-2", "file-key"])
def test_configured_keys_are_accepted(keyed: FlaskClient, key: str) -> None:
    assert post(keyed, key) == 200


@pytest.mark.parametrize("key", [None, "", "env-key-3", "ENV-KEY-1", "env-key-1 "])
def test_missing_or_wrong_key_is_401(keyed: FlaskClient, key: str | None) -> None:
    headers = {"Content-Type": "text/html"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}" if key != "env-key-1 " else "Basic env-key-1"
    response = keyed.post("/v1/extract", data=PAGE, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem = response.get_json(force=True)
    assert problem["code"] == "unauthorized"
    assert set(problem) == {"type", "code", "title", "status", "detail", "instance"}


def test_unknown_paths_do_not_reveal_themselves_without_a_key(keyed: FlaskClient) -> None:
    assert keyed.get("/no/such/path").status_code == 401
    assert keyed.get("/version").status_code == 401


def test_probes_need_no_key(keyed: FlaskClient) -> None:
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/readyz").status_code == 200


def test_no_keys_configured_means_open(client: FlaskClient) -> None:
    assert post(client, None) == 200


def test_security_headers_on_every_answer(client: FlaskClient) -> None:
    for response in (client.get("/healthz"), client.get("/missing"), client.post("/v1/extract", data=b"x")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "gunicorn" not in response.headers.get("Server", "")
        assert "Access-Control-Allow-Origin" not in response.headers  # CORS off by default


def test_cors_only_for_configured_origins(runtime: Runtime) -> None:
    app = create_app(settings=make_settings(cors_origins="https://tools.example"), runtime=runtime)
    client = app.test_client()
    allowed = client.get("/healthz", headers={"Origin": "https://tools.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://tools.example"
    other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io", "192.0.2.7"])
@pytest.mark.parametrize("path", ["/v1/extract", "/version", "/metrics"])
def test_without_keys_a_foreign_host_header_is_refused(client: FlaskClient, host: str, path: str) -> None:
    """DNS rebinding (issue 24): a page of evil.example, re-pointed at 127.0.0.1, sends its own name."""
    if path == "/v1/extract":
        response = client.post(path, data=PAGE, headers={"Content-Type": "text/html", "Host": host})
    else:
        response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json(force=True)["code"] == "host-not-allowed"


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "127.0.0.2", "LOCALHOST."]
)
def test_without_keys_loopback_host_headers_are_served(client: FlaskClient, host: str) -> None:
    response = client.post("/v1/extract", data=PAGE, headers={"Content-Type": "text/html", "Host": host})
    assert response.status_code == 200


def test_probes_answer_whatever_the_host_header(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"Host": "10.1.2.3:8080"}).status_code == 200


def test_configured_host_names_are_served(runtime: Runtime) -> None:
    app = create_app(settings=make_settings(allowed_hosts="cleaner.internal, 10.1.2.3"), runtime=runtime)
    client = app.test_client()
    assert client.get("/version", headers={"Host": "cleaner.internal:8080"}).status_code == 200
    assert client.get("/version", headers={"Host": "10.1.2.3"}).status_code == 200
    assert client.get("/version", headers={"Host": "evil.example"}).status_code == 400
    anything = create_app(settings=make_settings(allowed_hosts="*"), runtime=runtime).test_client()
    assert anything.get("/version", headers={"Host": "evil.example"}).status_code == 200


def test_with_keys_the_key_decides_not_the_host(keyed: FlaskClient) -> None:
    response = keyed.get("/version", headers={"Host": "cleaner.example", "Authorization": "Bearer env-key-1"})
    assert response.status_code == 200
