"""``Accept-Encoding: gzip``: answers over ~1 KB come gzipped, batch streams too (flushed per
line); problem documents and short answers stay plain; ``Vary: Accept-Encoding`` always."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
import werkzeug
from flask import Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.http.compression import MIN_GZIP_BYTES, accepts_gzip, compress_response
from tests.http.test_batch import PAGE, TEXT, lines, ndjson, post_batch
from tests.http.test_extract_api import ARTICLE

GZIP_HEADERS = {"Accept-Encoding": "gzip, deflate"}


def vary_of(response: werkzeug.Response) -> set[str]:
    return {part.strip().lower() for value in response.headers.getlist("Vary") for part in value.split(",")}


def post_article(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    # markdown + html: an answer of a few KB.
    query = {"format": "text,markdown,html"}
    return client.post("/v1/extract", data=ARTICLE * 3, content_type="text/html", query_string=query, headers=headers)


def without_timing(answer: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in answer.items() if key != "timing_ms"}


def test_an_answer_over_a_kilobyte_is_gzipped_when_the_client_accepts_gzip(client: FlaskClient) -> None:
    plain = post_article(client, {})
    packed = post_article(client, GZIP_HEADERS)
    assert len(plain.data) >= MIN_GZIP_BYTES
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    assert without_timing(json.loads(gzip.decompress(packed.data))) == without_timing(plain.get_json())
    assert "accept-encoding" in vary_of(plain)
    assert "accept-encoding" in vary_of(packed)


@pytest.mark.parametrize("accept", ["gzip;q=0", "identity", "br", "deflate"])
def test_no_gzip_unless_the_client_accepts_it(client: FlaskClient, accept: str) -> None:
    response = post_article(client, {"Accept-Encoding": accept})
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["text"]


def test_a_problem_document_is_never_gzipped(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data=b"x", content_type="image/png", headers=GZIP_HEADERS)
    assert response.status_code == 415
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["code"] == "unsupported-media-type"


def test_a_short_answer_stays_plain(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data="A short note.", content_type="text/plain", headers=GZIP_HEADERS)
    assert response.status_code == 200
    assert len(response.data) < MIN_GZIP_BYTES
    assert "Content-Encoding" not in response.headers


def test_a_flask_endpoint_answer_is_gzipped_too(client: FlaskClient) -> None:
    response = client.get("/openapi.json", headers=GZIP_HEADERS)
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["openapi"]
    assert "accept-encoding" in vary_of(response)


def test_a_batch_stream_is_one_gzip_stream_flushed_after_every_line(client: FlaskClient) -> None:
    items = [{"id": n, "html": PAGE} if n % 2 else {"id": n, "text": TEXT} for n in range(4)]
    response = post_batch(client, ndjson(*items), headers=GZIP_HEADERS, buffered=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "accept-encoding" in vary_of(response)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    received: list[bytes] = []
    for chunk in response.response:
        text = inflater.decompress(chunk)
        if text:  # each flushed chunk inflates to whole lines, never a part of one
            assert text.endswith(b"\n")
            received.append(text)
    response.close()
    assert inflater.eof
    assert [line["id"] for line in lines(b"".join(received))] == [0, 1, 2, 3]
    assert len(received) == len(items)


def test_the_vary_header_keeps_what_cors_put_there() -> None:
    response = Response(b"{}" * MIN_GZIP_BYTES, content_type="application/json")
    response.headers["Vary"] = "Origin"
    compress_response(response, "gzip")
    assert vary_of(response) == {"origin", "accept-encoding"}
    assert response.headers["Content-Encoding"] == "gzip"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [("gzip", True), ("GZIP", True), ("deflate, gzip;q=0.5", True), ("*", True), ("gzip;q=0", False), ("", False)],
)
def test_accept_encoding_is_read_with_its_weights(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
