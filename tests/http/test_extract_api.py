"""POST /v1/extract: the three request forms, the options, and the answer's schema."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import ANSWER_KEYS

ARTICLE = (
    "<html lang='en'><head><title>Solar boats cross the lake | Lake News</title>"
    "<meta name='author' content='Ada Lovelace'>"
    "<meta property='article:published_time' content='2024-05-06T08:00:00Z'>"
    "<meta name='description' content='Two solar boats crossed the lake.'>"
    "</head><body><nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
    "<article><h1>Solar boats cross the lake</h1>"
    "<p>Two boats powered only by the sun crossed the lake on Sunday, a first for the region's club.</p>"
    "<h2>A long day</h2>"
    "<p>The crossing took nine hours, and the crews said the batteries never fell below half charge.</p>"
    "<p>Organisers plan a longer race next summer, with <b>twelve</b> boats already registered.</p>"
    "</article><footer>Copyright Lake News</footer></body></html>"
)
SCHEMA_KEYS = ANSWER_KEYS


def test_html_body_gives_the_article_and_metadata(client: FlaskClient) -> None:
    response = client.post(
        "/v1/extract",
        data=ARTICLE.encode(),
        query_string={"url": "https://lake.example/news/solar-boats"},
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    answer = response.get_json()
    assert set(answer) == SCHEMA_KEYS
    assert answer["title"] == "Solar boats cross the lake"
    assert answer["authors"] == ["Ada Lovelace"]
    assert answer["date"] == "2024-05-06"
    assert answer["url"] == "https://lake.example/news/solar-boats"
    assert answer["hostname"] == "lake.example"
    assert answer["language"] == "en"
    assert answer["description"] == "Two solar boats crossed the lake."
    assert "nine hours" in answer["text"]
    assert "Copyright Lake News" not in answer["text"]
    assert "Sport" not in answer["text"]
    assert answer["word_count"] == len(answer["text"].split())


def test_json_form_equals_raw_form(client: FlaskClient) -> None:
    raw = client.post("/v1/extract", data=ARTICLE.encode(), headers={"Content-Type": "text/html"}).get_json()
    as_json = client.post("/v1/extract", json={"html": ARTICLE}).get_json()
    for key in SCHEMA_KEYS - {"timing_ms"}:
        assert raw[key] == as_json[key], key


def test_formats_markdown_and_html_on_request(client: FlaskClient) -> None:
    answer = client.post(
        "/v1/extract", json={"html": ARTICLE, "options": {"format": ["text", "markdown", "html"]}}
    ).get_json()
    assert "## A long day" in answer["markdown"]
    assert "**twelve**" in answer["markdown"]
    assert "<p>" in answer["html"]
    assert "nine hours" in answer["html"]


def test_format_as_repeated_query_parameter(client: FlaskClient) -> None:
    answer = client.post(
        "/v1/extract?format=text&format=markdown", data=ARTICLE.encode(), headers={"Content-Type": "text/html"}
    ).get_json()
    assert "markdown" in answer
    assert "html" not in answer


def test_explain_lists_removed_blocks_with_reasons(client: FlaskClient) -> None:
    answer = client.post("/v1/extract", json={"html": ARTICLE, "options": {"explain": True}}).get_json()
    reasons = {item["text"]: item["reason"] for item in answer["removed"]}
    assert reasons.get("Copyright Lake News") == "footer"
    assert reasons.get("Home Sport") == "navigation"


def test_explain_never_lists_script_or_style_source_as_removed_text(client: FlaskClient) -> None:
    """Inline code inside a dropped block is not text a reader saw (issue 24 item 16)."""
    page = ARTICLE.replace(
        "<footer>Copyright Lake News</footer>",
        "<footer>Copyright Lake News<script>window.dataLayer.push({event: 'view'});</script>"
        "<style>.promo { color: red }</style></footer>"
        "<div class='widget'><script>var trackerId = 'UA-1234';</script></div>",
    )
    answer = client.post("/v1/extract", json={"html": page, "options": {"explain": True}}).get_json()
    removed = " ".join(item["text"] for item in answer["removed"])
    assert "Copyright Lake News" in removed
    for source in ("dataLayer", "color: red", "trackerId"):
        assert source not in removed


def test_plain_text_body_is_cleaned_as_text(client: FlaskClient) -> None:
    text = "A title line\n\n" + "This is a paragraph of real article text, long enough to be kept. " * 3
    answer = client.post(
        "/v1/extract", data=text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
    ).get_json()
    assert "paragraph of real article text" in answer["text"]


def test_json_text_form(client: FlaskClient) -> None:
    text = "This is a paragraph of real article text, long enough to be kept. " * 3
    answer = client.post("/v1/extract", json={"text": text}).get_json()
    assert "paragraph of real article text" in answer["text"]


def test_cyrillic_windows_1251_from_header_charset(client: FlaskClient) -> None:
    page = (
        "<html><head><title>Новости</title></head><body><article><p>"
        + "Это статья на русском языке о погоде в Москве и её окрестностях. " * 4
        + "</p></article></body></html>"
    )
    answer = client.post(
        "/v1/extract", data=page.encode("cp1251"), headers={"Content-Type": "text/html; charset=windows-1251"}
    ).get_json()
    assert "статья на русском языке" in answer["text"]
    assert answer["language"] == "ru"


def test_charset_guessed_when_nothing_declares_it(client: FlaskClient) -> None:
    page = (
        "<html><body><article><p>"
        + "Это статья на русском языке о погоде в Москве и её окрестностях. " * 6
        + "</p></article></body></html>"
    )
    answer = client.post("/v1/extract", data=page.encode("cp1251"), headers={"Content-Type": "text/html"}).get_json()
    assert "статья на русском языке" in answer["text"]
    assert "charset-guessed" in answer["warnings"]


def test_comments_go_to_their_own_field(client: FlaskClient) -> None:
    page = ARTICLE.replace(
        "</article>",
        "</article><section id='comments' class='comments'><h3>Comments</h3><ul><li class='comment'>"
        "<p>Great read, thanks for writing this wonderful article about the boats!</p></li></ul></section>",
    )
    without = client.post("/v1/extract", json={"html": page}).get_json()
    assert "Great read" not in without["text"]
    assert "comments" not in without
    with_comments = client.post("/v1/extract", json={"html": page, "options": {"comments": True}}).get_json()
    assert "Great read" not in with_comments["text"]
    assert "Great read" in with_comments["comments"]


def test_page_without_content_says_so(client: FlaskClient) -> None:
    answer = client.post(
        "/v1/extract",
        data=b"<html><head><title>Empty</title></head><body><div></div></body></html>",
        headers={"Content-Type": "text/html"},
    ).get_json()
    assert answer["text"] == ""
    assert "no-main-content" in answer["warnings"]


def test_a_page_of_nothing_but_navigation_is_not_an_article(client: FlaskClient) -> None:
    page = (
        b"<html><head><title>Site</title></head><body><nav><a href='/'>Home</a> <a href='/a'>About us</a>"
        b"</nav><footer>(c) 2024 Site</footer></body></html>"
    )
    answer = client.post("/v1/extract", data=page, headers={"Content-Type": "text/html"}).get_json()
    assert answer["text"] == ""
    assert "no-main-content" in answer["warnings"]
