"""Fetching by URL against local servers: the guard before every connection, redirects, the
deadline, the size and type limits, TLS to the checked address under the URL's name."""

from __future__ import annotations

import ipaddress
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection

from service.errors import FetchFailed, FetchRefused, FetchTimeout
from service.fetch.client import MAX_REDIRECTS, FetchPolicy, _translated, fetch
from tests.fetch.servers import (
    ARTICLE,
    LOOPBACK,
    MAX_BYTES,
    PRIVATE_TARGET,
    SLOW_S,
    Server,
    self_signed,
    serving,
)

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)
POLICY = FetchPolicy(allowed=LOOPBACK_ONLY, timeout_s=1.0, max_bytes=MAX_BYTES)
# The deadline plus thread scheduling on a loaded 2-core machine.
DEADLINE_SLACK_S = 1.0
# /stall: less than the 0.7 s by which a read timeout set at connect would overshoot.
TIGHT_SLACK_S = 0.5


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address urllib3 opens a connection to, in order."""
    opened: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        opened.append(address)
        return real(address, *args, **kwargs)

    # urllib3.connection calls ``connection.create_connection`` through this very module object.
    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording)
    return opened


def names_to_loopback(*names: str) -> Any:
    """A resolver that knows ``names`` (as 127.0.0.1) and counts its lookups."""
    calls: list[str] = []

    def lookup(host: str, port: int, **_kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        if host not in names and host != LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (LOOPBACK, port))]

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def test_an_allow_listed_loopback_page_is_fetched(server: Server) -> None:
    page = fetch(server.url("/page"), POLICY)
    assert (page.status, page.mode, page.charset, page.redirects) == (200, "html", "utf-8", 0)
    assert page.body == ARTICLE
    assert page.url == server.url("/page")


def test_loopback_is_refused_without_the_allow_list_before_any_connection(
    server: Server, connections: list[tuple[str, int]]
) -> None:
    before = len(server.seen.requests)
    with pytest.raises(FetchRefused) as refused:
        fetch(server.url("/page"), FetchPolicy(timeout_s=1.0))
    assert "loopback" in refused.value.detail
    assert connections == []
    assert len(server.seen.requests) == before


@pytest.mark.parametrize("route", ["/to-private", "/to-metadata"])
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    server: Server, connections: list[tuple[str, int]], route: str
) -> None:
    with pytest.raises(FetchRefused) as refused:
        fetch(server.url(route), POLICY)
    assert refused.value.status == 403
    assert connections == [(LOOPBACK, server.port)]  # only the first hop's, never 10.x / 169.254.x
    assert PRIVATE_TARGET in refused.value.detail or "169.254.169.254" in refused.value.detail


def test_a_redirect_to_another_scheme_is_a_failure(server: Server) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url("/to-file"), POLICY)
    assert failed.value.extra["reason"] == "invalid-url"


def test_a_malformed_redirect_target_is_a_failure_not_a_crash(server: Server) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url("/to-malformed"), POLICY)
    assert failed.value.extra["reason"] == "invalid-url"


def test_control_characters_of_a_redirect_target_never_reach_the_request_line(server: Server) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url("/to-control"), POLICY)
    assert failed.value.extra["upstream_status"] == 404  # /pa%01ge: a path like any other
    assert server.seen.requests[-1][0] == "/pa%01ge"


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001", "[::ffff:127.0.0.1]", "[::1]", "localhost"])
def test_loopback_in_any_spelling_is_refused_before_connecting(
    server: Server, connections: list[tuple[str, int]], host: str
) -> None:
    with pytest.raises(FetchRefused):
        fetch(server.url("/page", host=host), FetchPolicy(timeout_s=1.0))
    assert connections == []


def test_redirects_are_followed_up_to_the_limit(server: Server) -> None:
    page = fetch(server.url(f"/hops/{MAX_REDIRECTS - 1}"), POLICY)
    assert page.redirects == MAX_REDIRECTS
    assert page.url == server.url("/page")
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url(f"/hops/{MAX_REDIRECTS}"), POLICY)
    assert failed.value.extra["reason"] == "redirects"


def test_the_name_is_resolved_once_per_hop_and_sent_as_host(server: Server, connections: list[tuple[str, int]]) -> None:
    # example.test resolves nowhere but in this resolver: urllib3 must connect to what it returned.
    lookup = names_to_loopback("example.test")
    page = fetch(server.url("/hops/1", host="example.test"), POLICY, lookup)
    assert page.url == f"http://example.test:{server.port}/page"
    assert lookup.calls == ["example.test"] * 3
    assert connections == [(LOOPBACK, server.port)] * 3
    assert server.seen.requests[-1] == ("/page", f"example.test:{server.port}")


def test_a_slow_server_is_a_timeout_at_the_deadline(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(server.url("/slow"), POLICY)
    assert time.monotonic() - started < POLICY.timeout_s + DEADLINE_SLACK_S < SLOW_S


def test_a_trickling_body_is_cut_at_the_deadline_too(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(server.url("/trickle"), POLICY)
    assert time.monotonic() - started < POLICY.timeout_s + DEADLINE_SLACK_S


def test_an_answer_that_is_not_http_is_refused_without_echoing_it(server: Server) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url("/banner"), POLICY)
    assert "did not answer in HTTP" in failed.value.detail
    assert "SSH" not in failed.value.detail


def test_a_head_trickled_a_byte_at_a_time_ends_at_the_deadline(server: Server) -> None:
    # Every wait on the socket was short, so urllib3's per-read timeout never fired (s20 audit:
    # a 10 s fetch lasted 40 s, as long as the server kept sending a header byte a second).
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(server.url("/trickle-head"), POLICY)
    assert time.monotonic() - started < POLICY.timeout_s + DEADLINE_SLACK_S


def test_a_stall_after_the_first_bytes_ends_at_the_deadline_not_a_read_timeout_later(server: Server) -> None:
    # Each wait on the socket gets what is left of the deadline, not the timeout set at connect.
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetch(server.url("/stall"), POLICY)
    assert time.monotonic() - started < POLICY.timeout_s + TIGHT_SLACK_S


@pytest.mark.parametrize("route", ["/huge", "/huge-chunked"])
def test_a_body_over_the_limit_is_refused(server: Server, route: str) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url(route), POLICY)
    assert failed.value.extra["reason"] == "too-large"


def test_a_gzipped_page_is_decoded(server: Server) -> None:
    assert fetch(server.url("/gzip"), POLICY).body == ARTICLE


def test_plain_text_is_fetched_for_the_text_mode(server: Server) -> None:
    assert fetch(server.url("/text"), POLICY).mode == "text"


def test_a_page_that_is_not_html_or_text_is_refused(server: Server) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url("/pdf"), POLICY)
    assert failed.value.extra["reason"] == "content-type"
    assert "application/pdf" in failed.value.detail


def test_an_error_status_is_a_failure_that_names_it(server: Server) -> None:
    with pytest.raises(FetchFailed) as failed:
        fetch(server.url("/missing"), POLICY)
    assert failed.value.extra["upstream_status"] == 404


def test_a_closed_port_is_a_connection_failure() -> None:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchFailed) as failed:
        fetch(f"http://{LOOPBACK}:{port}/", POLICY)
    assert failed.value.extra["reason"] == "connection"


def test_https_goes_to_the_checked_address_with_the_urls_name_for_sni_and_the_certificate(tmp_path: Path) -> None:
    context, certificate = self_signed(tmp_path, "example.test")
    policy = FetchPolicy(allowed=LOOPBACK_ONLY, timeout_s=5.0, ca_certs=str(certificate))
    with serving(tls=context) as server:
        page = fetch(server.url("/page", host="example.test"), policy, names_to_loopback("example.test"))
        assert page.body == ARTICLE
        assert server.seen.server_names == ["example.test"]
        assert server.seen.requests == [("/page", f"example.test:{server.port}")]
        # The same server under a name its certificate does not carry: refused by verification.
        with pytest.raises(FetchFailed) as failed:
            fetch(server.url("/page", host="other.test"), policy, names_to_loopback("other.test"))
        assert failed.value.extra["reason"] == "tls"


def test_the_next_checked_address_is_tried_when_a_connection_is_refused(
    server: Server, connections: list[tuple[str, int]]
) -> None:
    # 127.0.0.2 is loopback too, but nothing listens there: as an unreachable IPv6 address would be.
    def lookup(host: str, port: int, **_kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in ("127.0.0.2", LOOPBACK)]

    policy = FetchPolicy(allowed=(ipaddress.ip_network("127.0.0.0/8"),), timeout_s=1.0, max_bytes=MAX_BYTES)
    assert fetch(server.url("/page", host="dual.test"), policy, lookup).body == ARTICLE
    assert connections == [("127.0.0.2", server.port), (LOOPBACK, server.port)]


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (ValueError("URL can't contain control characters"), "fetch-failed", "invalid-url"),
        (urllib3.exceptions.SSLError("certificate verify failed"), "fetch-failed", "tls"),
        (urllib3.exceptions.ProtocolError("Connection aborted."), "fetch-failed", "connection"),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "Read timed out."), "fetch-timeout", None),  # type: ignore[arg-type]
        (TimeoutError("timed out"), "fetch-timeout", None),
        (ConnectionResetError(104, "Connection reset by peer"), "fetch-failed", "connection"),
    ],
)
def test_the_clients_errors_are_translated_into_fetch_problems(error: Exception, code: str, reason: str | None) -> None:
    translated = _translated(error, "http://example.test/")
    assert translated.code == code  # type: ignore[attr-defined]
    assert translated.extra.get("reason") == reason  # type: ignore[attr-defined]
