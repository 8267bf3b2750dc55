"""The playground page (``GET /``) in a real headless browser, against the real gunicorn server.

Debian's chromium (installed by ``scripts/ensure_chromium.sh`` in the session set-up) is driven by
Playwright's sync API; Playwright's own browser downloads are never used. Besides the checks, the
first test saves a screenshot to ``test-artifacts/playground.png`` (and to ``docs/playground.png``
when ``UPDATE_DOCS_SCREENSHOT=1``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, ViewportSize, expect, sync_playwright

from tests.e2e.conftest import LiveServer, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ENSURE_CHROMIUM = ROOT / "scripts" / "ensure_chromium.sh"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALL_TIMEOUT_S = 600
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
ARTIFACT_SCREENSHOT = ROOT / "test-artifacts" / "playground.png"
DOCS_SCREENSHOT = ROOT / "docs" / "playground.png"
MAX_DOCS_SCREENSHOT_BYTES = 300 * 1024
CLEAN_TIMEOUT_MS = 30_000
SEED_CASE = ROOT / "fixtures" / "text-seed-news-recent-posts"
HTML_CASE = ROOT / "fixtures" / "html-seed-wordpress-news"
# The seed example's well-established behaviour (fixtures/text-seed-news-recent-posts).
SEED_PARAGRAPH_STARTS = (
    "So far, the actions of the Chinese authorities",
    "Bloomberg reported this behavior of Chinese officials",
    "Since the most modern series of Nvidia accelerators",
    "At the same time, officials turn a blind eye",
    "In informal comments, Bloomberg sources explained",
)
SEED_REMOVED = ("Recent Posts", "Share", "Published by")
SMALL_LIMIT_BYTES = 4096
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@dataclass
class Console:
    """Console errors and uncaught exceptions of one page."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"pageerror: {error}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed on first use (apt-get; quiet and idempotent)."""
    result = subprocess.run(
        ["sh", str(ENSURE_CHROMIUM)],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_INSTALL_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(f"{ENSURE_CHROMIUM.name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server with a tiny body limit, for the 413 answer."""
    server = start_server(
        tmp_path_factory.mktemp("small-limit"),
        CLEANER_MAX_BODY_BYTES=str(SMALL_LIMIT_BYTES),
        CLEANER_EXTRACTORS="1",
    )
    yield server
    stop_server(server)


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, console: Console) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="pagecleaner playground")).to_be_visible()
    yield page
    context.close()


def removed_line(page: Page, text: str, reason: str | None = None):  # type: ignore[no-untyped-def]
    """The highlighted part of an input line holding exactly ``text``."""
    marks = page.locator("#input-lines mark.removed", has_text=re.compile(rf"^{re.escape(text)}$"))
    if reason:
        marks = marks.and_(page.locator(f'mark[data-reason="{reason}"]'))
    return marks


def test_page_is_served_with_a_strict_csp(live_server: LiveServer) -> None:
    response = requests.get(live_server.url + "/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CSP
    # No inline script or style: everything comes from same-origin static files.
    assert "<script>" not in response.text
    assert "style=" not in response.text
    assert "<style" not in response.text
    for asset in ("playground.css", "playground.js", "icon.svg"):
        assert requests.get(f"{live_server.url}/playground/static/{asset}", timeout=10).status_code == 200
    example = requests.get(live_server.url + "/playground/example", timeout=10)
    assert example.headers["Content-Type"] == "text/plain; charset=utf-8"
    # The page serves a copy (the container ships service/ only): it must not drift from the fixture.
    assert example.text == (SEED_CASE / "input.txt").read_text(encoding="utf-8")


def test_seed_example_is_cleaned_and_removed_lines_highlighted(page: Page, console: Console) -> None:
    page.get_by_role("button", name="Load example").click()
    expect(page.get_by_label("Page HTML or text")).to_have_value(re.compile("^Regulators recommend"))
    page.get_by_role("button", name="Clean").click()

    rendered = page.locator("#view-rendered")
    expect(rendered.locator("p").first).to_contain_text(SEED_PARAGRAPH_STARTS[0], timeout=CLEAN_TIMEOUT_MS)
    paragraphs = rendered.locator("p").all_inner_texts()
    assert len(paragraphs) == len(SEED_PARAGRAPH_STARTS)
    for paragraph, start in zip(paragraphs, SEED_PARAGRAPH_STARTS, strict=True):
        assert paragraph.startswith(start)
    plain_text = page.locator("#view-text").text_content() or ""
    for snippet in SEED_REMOVED:
        assert snippet not in plain_text

    for text in SEED_REMOVED:
        mark = removed_line(page, text)
        expect(mark).to_have_count(1)
        expect(mark).to_have_attribute("title", re.compile(r"^Removed: [a-z-]+$"))
        reason = mark.get_attribute("data-reason")
        line = mark.locator("xpath=..")
        expect(line.locator(".reason")).to_have_text(reason or "")
    kept_line = page.locator("#input-lines li.kept", has_text=SEED_PARAGRAPH_STARTS[1])
    expect(kept_line).to_have_count(1)
    # Repeated texts land on successive lines.
    expect(removed_line(page, "10 hours ago")).to_have_count(4)

    expect(page.locator('#meta-body tr[data-field="title"] td')).to_have_text(
        re.compile("^Regulators recommend that Chinese developers")
    )
    expect(page.locator('#meta-body tr[data-field="authors"] td')).to_have_text("admin")
    expect(page.locator('[data-testid="kept-words"]')).to_contain_text("words kept")
    expect(page.locator('[data-testid="removed-words"]')).to_contain_text("words removed in")
    expect(page.locator("#error")).to_be_hidden()

    # Show the end of the article and the clutter after it in the highlighted input.
    page.locator("#input-lines").evaluate(
        "(list, text) => { const line = [...list.children].find((li) => li.textContent.includes(text));"
        " list.scrollTop = line.offsetTop - list.offsetTop - list.clientHeight / 3; }",
        SEED_PARAGRAPH_STARTS[-1],
    )
    ARTIFACT_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACT_SCREENSHOT))
    assert ARTIFACT_SCREENSHOT.stat().st_size < MAX_DOCS_SCREENSHOT_BYTES
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):  # refreshing the README's picture is a choice, not a side effect
        page.screenshot(path=str(DOCS_SCREENSHOT))
    assert console.errors == []


def test_html_is_read_inertly_and_cleaned_with_ctrl_enter(page: Page, console: Console) -> None:
    html = (HTML_CASE / "input.html").read_text(encoding="utf-8")
    # Neither may run: the input is only parsed by DOMParser into an inert document.
    hostile = (
        '<script>console.error("script ran")</script><img src="/nowhere.png" onerror="console.error(1)">'
        '<style>p { color: red }</style><p style="color: red" onclick="alert(1)">Styled footer line</p>'
    )
    source = page.get_by_label("Page HTML or text")
    source.fill(html.replace("</body>", hostile + "</body>"))
    source.press("Control+Enter")

    expect(page.locator("#view-text")).to_contain_text(SEED_PARAGRAPH_STARTS[0], timeout=CLEAN_TIMEOUT_MS)
    expect(page.locator("#summary")).to_contain_text("Sent as text/html")
    for text in ("Recent Posts", "Share"):
        expect(page.locator("#input-lines mark.removed", has_text=text).first).to_be_visible()
    expect(page.locator("#input-lines")).to_contain_text("Styled footer line")
    expect(page.locator("#input-lines")).not_to_contain_text("script ran")
    expect(page.locator("#input-lines")).not_to_contain_text("color: red")
    assert console.errors == []


def test_numbered_lists_are_shown_apart_and_from_their_start(page: Page, console: Console) -> None:
    prose = "<p>Every step of the recipe is written out here, one paragraph of the method after another.</p>"
    html = (
        f"<html><body><article><h1>Bread, the slow way</h1>{prose * 3}"
        '<ol start="4"><li>Shape the loaf</li><li>Let it rise</li></ol>'
        f"<ol><li>Heat the oven</li><li>Bake it</li></ol>{prose}</article></body></html>"
    )
    source = page.get_by_label("Page HTML or text")
    source.fill(html)
    source.press("Control+Enter")

    lists = page.locator("#view-rendered ol")
    expect(lists.nth(1)).to_contain_text("Heat the oven", timeout=CLEAN_TIMEOUT_MS)
    assert lists.count() == 2
    assert lists.nth(0).evaluate("list => list.start") == 4
    assert lists.nth(1).evaluate("list => list.start") == 1
    assert console.errors == []


def test_the_selector_fields_are_sent_as_include_and_exclude(page: Page, console: Console) -> None:
    kept = "The harbour reopened on Monday after three weeks of repairs to the old sea wall. " * 3
    dropped = "Sign up for our newsletter and never miss a single story from the harbour desk. " * 3
    page.get_by_label("Page HTML or text").fill(
        f"<html><body><main><p>{kept}</p><p class='promo'>{dropped}</p></main>"
        f"<aside><p>{dropped}</p></aside></body></html>"
    )
    page.get_by_label("Only from").fill("main")
    page.get_by_label("Drop").fill(".promo, .ads")
    with page.expect_request(re.compile(r"/v1/extract")) as sent:
        page.get_by_role("button", name="Clean").click()
    query = parse_qs(urlsplit(sent.value.url).query)
    assert (query["include"], query["exclude"]) == (["main"], [".promo, .ads"])
    expect(page.locator("#view-text")).to_contain_text("The harbour reopened", timeout=CLEAN_TIMEOUT_MS)
    expect(page.locator("#view-text")).not_to_contain_text("newsletter")
    assert console.errors == []


def drop_file(page: Page, name: str, content: bytes, mime_type: str) -> None:
    """Drop a file on the input box, as a drag and drop from the desktop does."""
    data_transfer = page.evaluate_handle(
        "([name, bytes, type]) => { const transfer = new DataTransfer();"
        " transfer.items.add(new File([new Uint8Array(bytes)], name, { type })); return transfer; }",
        [name, list(content), mime_type],
    )
    page.dispatch_event("#drop-zone", "dragenter", {"dataTransfer": data_transfer})
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": data_transfer})


def browser_reported(status: int) -> str:
    """Chromium's own console line for a failed fetch: not the page's doing, and unavoidable."""
    return f"console: Failed to load resource: the server responded with a status of {status}"


@pytest.mark.parametrize("how", ["picked", "dropped"])
def test_png_file_shows_the_problem_detail(page: Page, console: Console, tmp_path: Path, how: str) -> None:
    if how == "picked":
        png = tmp_path / "photo.png"
        png.write_bytes(PNG_BYTES)
        page.locator("#file").set_input_files(str(png))
    else:
        drop_file(page, "photo.png", PNG_BYTES, "image/png")

    error = page.get_by_role("alert")
    expect(error).to_be_visible(timeout=CLEAN_TIMEOUT_MS)
    expect(error).to_contain_text("422")
    expect(error).to_contain_text("The body is not a web page or text")
    expect(error).to_contain_text("PNG image")
    expect(page.locator("#file-info")).to_contain_text("photo.png")
    expect(page.locator("#input-lines li")).to_have_count(0)
    assert [line for line in console.errors if not line.startswith(browser_reported(422))] == []


def test_dropped_html_file_is_cleaned_as_html(page: Page, console: Console) -> None:
    drop_file(page, "page.html", (HTML_CASE / "input.html").read_bytes(), "text/html")

    expect(page.locator("#view-text")).to_contain_text(SEED_PARAGRAPH_STARTS[0], timeout=CLEAN_TIMEOUT_MS)
    expect(page.locator("#summary")).to_contain_text("Sent as text/html")
    expect(page.locator("#file-info")).to_contain_text("page.html")
    expect(page.locator("#input-lines mark.removed", has_text="Recent Posts")).to_have_count(1)
    assert console.errors == []


def test_body_over_the_limit_shows_413(browser: Browser, small_limit_server: LiveServer, console: Console) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        page.goto(small_limit_server.url + "/")
        page.get_by_label("Page HTML or text").fill("word " * SMALL_LIMIT_BYTES)
        page.get_by_role("button", name="Clean").click()

        error = page.get_by_role("alert")
        expect(error).to_contain_text("413 · Request body too large", timeout=CLEAN_TIMEOUT_MS)
        expect(error).to_contain_text(f"limit of {SMALL_LIMIT_BYTES} bytes")
    finally:
        context.close()
    assert [line for line in console.errors if not line.startswith(browser_reported(413))] == []


def test_empty_input_is_refused_without_a_request(page: Page, console: Console) -> None:
    page.get_by_role("button", name="Clean").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing to clean")
    expect(page.get_by_label("Page HTML or text")).to_be_focused()
    assert console.errors == []
