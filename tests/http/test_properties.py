"""Property-based tests (hypothesis): random and mutated HTML never breaks the invariants.

Invariants: status in {200, 400, 413, 415, 422, 503}; a JSON body with the documented keys; an
answer within the budget + 1 s; no leak of a file's or a marker's content.
"""

from __future__ import annotations

import json
import time

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import hostile_corpus as hc
from tests.http.test_hostile_input import check_invariants

SEED_PAGES = [
    hc.page(hc.article_html()),
    hc.xxe_file(),
    hc.deep_nesting(300),
    hc.control_references(),
    hc.frameset(),
    hc.svg_root_entities(),
]
TAGS = ["div", "p", "span", "a", "svg", "table", "td", "script", "style", "iframe", "br", "plaintext", "xmp"]
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

fragments = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.text(max_size=40),
    st.sampled_from(["&#1;", "&#x0;", "&e;", "<!--", "-->", "<![CDATA[", "<?xml ?>", "<!DOCTYPE x [", "]>", '"', "'"]),
)
random_html = st.lists(fragments, max_size=60).map("".join)


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    page = bytearray(draw(st.sampled_from(SEED_PAGES)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(page)))
        action = draw(st.sampled_from(["insert", "delete", "flip"]))
        if action == "insert":
            page[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del page[position : position + draw(st.integers(1, 64))]
        elif position < len(page):
            page[position] ^= draw(st.integers(1, 255))
    return bytes(page)


@PROPERTY_SETTINGS
@given(html=random_html)
def test_random_html_keeps_the_invariants(client: FlaskClient, html: str) -> None:
    started = time.monotonic()
    response = client.post("/v1/extract", data=html.encode("utf-8", "surrogatepass"), content_type=hc.HTML)
    check_invariants(response, time.monotonic() - started)


@PROPERTY_SETTINGS
@given(body=mutated_pages(), content_type=st.sampled_from([hc.HTML, hc.TEXT, "text/html; charset=latin-1"]))
def test_mutated_pages_keep_the_invariants(client: FlaskClient, body: bytes, content_type: str) -> None:
    started = time.monotonic()
    response = client.post("/v1/extract", data=body, content_type=content_type)
    check_invariants(response, time.monotonic() - started)


@PROPERTY_SETTINGS
@given(document=st.dictionaries(st.sampled_from(["html", "text", "url", "options", "id"]), st.from_type(object)))
def test_any_json_object_is_answered_cleanly(client: FlaskClient, document: dict[str, object]) -> None:
    try:
        body = json.dumps(document).encode()
    except (TypeError, ValueError):
        return
    started = time.monotonic()
    response = client.post("/v1/extract", data=body, content_type="application/json")
    check_invariants(response, time.monotonic() - started)
