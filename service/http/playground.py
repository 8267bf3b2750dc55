"""The playground: ``GET /``, a self-contained page to try the cleaner in a browser.

The page is plain HTML, CSS and JavaScript served from ``service/http/static/playground`` on the same
origin (no CDN, no build step), so it runs under a strict Content-Security-Policy: no inline
script or style, and it only talks to ``POST /v1/extract`` and ``GET /playground/example``.

Routes:
- ``GET /``: the page (``index.html``) with the CSP and anti-framing headers;
- ``GET /playground/static/<file>``: its stylesheet, script and icon;
- ``GET /playground/example``: the seed example (``fixtures/text-seed-news-recent-posts``) as text.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from service.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent / "static" / "playground"
STATIC_URL_PATH = "/playground/static"
PAGE_FILE = "index.html"
# A copy of fixtures/text-seed-news-recent-posts/input.txt: the container image ships service/
# only (see .dockerignore). tests/e2e/test_playground.py fails if the two drift apart.
EXAMPLE_FILE = STATIC_DIR / "example.txt"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"

# Everything the page needs comes from this origin (data: images are allowed, none are used).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

blueprint = Blueprint(
    "playground",
    __name__,
    static_folder=str(STATIC_DIR),
    static_url_path=STATIC_URL_PATH,
)


@blueprint.get("/")
def page() -> Response:
    """The playground page itself."""
    response = send_from_directory(STATIC_DIR, PAGE_FILE, mimetype="text/html")
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


@blueprint.get("/playground/example")
def example() -> Response:
    """The seed example: a news article as a naive extractor returned it (plain text).

    Raises:
        NotFound: the copy is missing from the static folder.
    """
    try:
        text = EXAMPLE_FILE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("The example is not available on this server.") from None
    return Response(text, content_type=TEXT_CONTENT_TYPE)


@blueprint.after_request
def add_security_headers(response: Response) -> Response:
    """The strict CSP on every playground response (the page and its static files)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response
