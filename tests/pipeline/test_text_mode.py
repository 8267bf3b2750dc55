"""Rules of the plain-text mode, one test per rule (service/pipeline/text_mode.py)."""

from __future__ import annotations

import time
from typing import TypedDict, Unpack

import pytest

from service.models import Article, Job, Options
from service.pipeline import run, serialize, text_mode
from service.pipeline.clutter_patterns import (
    COOKIE_BANNER,
    COOKIE_HINTS,
    NEWSLETTER,
    NEWSLETTER_HINTS,
    RELATED_HEADING,
    RELATIVE_DATE,
    has_hint,
)
from service.pipeline.text_features import pattern_label
from service.pipeline.text_metadata import parse_date

PARA_1 = (
    "The council voted on Tuesday to close the old bridge for repairs, a decision that will force "
    "thousands of commuters to take a longer route for at least six months."
)
PARA_2 = (
    "Engineers had warned for years that the steel supports were corroding, and an inspection in "
    "the spring found cracks that could no longer be patched."
)
PARA_3 = (
    "A temporary ferry will run every twenty minutes during the day, and the city will refund "
    "parking fees for residents who live on the far side of the river."
)


def _page(*lines: str) -> str:
    return "\n\n".join(lines)


class _Flags(TypedDict, total=False):
    """The boolean fields of ``Options`` a test may set."""

    comments: bool
    tables: bool
    images: bool
    links: bool
    explain: bool


def _clean(text: str, **options: Unpack[_Flags]) -> Article:
    return text_mode.clean_text(text, Options(**options), None)


def _text(article: Article) -> str:
    return serialize.render_text(article.body)


def _reasons(article: Article) -> dict[str, str]:
    return {removed.text: removed.reason for removed in article.removed}


def test_article_paragraphs_are_kept_and_navigation_before_them_is_removed() -> None:
    article = _clean(_page("Home\nNews\nSport", "Bridge closes", PARA_1, PARA_2, PARA_3))
    assert _text(article).splitlines() == [PARA_1, PARA_2, PARA_3]
    assert _reasons(article)["Home"] == "navigation"


def test_title_is_the_heading_before_the_article_and_goes_to_metadata() -> None:
    article = _clean(
        _page(
            "Bridge closes for six months | City Paper",
            "Home",
            "Bridge closes for six months",
            PARA_1,
            PARA_2,
        )
    )
    assert article.metadata.title == "Bridge closes for six months"
    assert "Bridge closes" not in _text(article)
    assert _reasons(article)["Bridge closes for six months"] == "title"


def test_relative_date_lines_are_removed() -> None:
    article = _clean(_page("Title here", PARA_1, PARA_2, "Other story about roads", "3 hours ago"))
    assert "ago" not in _text(article)
    assert _reasons(article)["3 hours ago"] == "relative-date"


@pytest.mark.parametrize(
    "line", ["2 hours ago", "vor 3 Stunden", "hace 2 días", "3 дня назад", "2小时前", "il y a 5 jours"]
)
def test_relative_date_pattern_covers_languages(line: str) -> None:
    assert RELATIVE_DATE.match(line)


def test_relative_date_pattern_does_not_match_sentences() -> None:
    assert not RELATIVE_DATE.match("Two hours ago the council voted to close the bridge.")


def test_teaser_list_after_related_heading_is_removed() -> None:
    article = _clean(_page("Title here", PARA_1, PARA_2, "Related articles", "Ferry timetable announced", PARA_3))
    assert "Ferry timetable" not in _text(article)
    reasons = _reasons(article)
    assert reasons["Related articles"] == "related-links"
    assert reasons["Ferry timetable announced"] == "teaser"


@pytest.mark.parametrize(
    "line", ["Recent Posts", "Mehr zum Thema", "Artículos relacionados", "Читайте также", "You may also like"]
)
def test_related_heading_pattern_covers_languages(line: str) -> None:
    assert RELATED_HEADING.match(line)


def test_truncated_teaser_lines_are_removed() -> None:
    teaser = "Engineers say the new ferry route could become permanent if the repairs…"
    article = _clean(_page("Title here", PARA_1, PARA_2, PARA_3, "Ferry news", teaser))
    assert teaser not in _text(article)


def test_byline_names_go_to_authors_and_the_line_is_removed() -> None:
    article = _clean(_page("Bridge closes", "By Jane Doe and John Roe", PARA_1, PARA_2))
    assert article.metadata.authors == ["Jane Doe", "John Roe"]
    assert _reasons(article)["By Jane Doe and John Roe"] == "byline"
    assert "Jane Doe" not in _text(article)


def test_byline_label_with_name_on_next_line_and_author_box() -> None:
    article = _clean(_page("Bridge closes", PARA_1, PARA_2, "jdoe", "Share\nPublished by\njdoe"))
    assert article.metadata.authors == ["jdoe"]
    reasons = _reasons(article)
    assert reasons["Published by"] == "byline"
    assert reasons["Share"] == "share-buttons"
    assert [r.reason for r in article.removed if r.text == "jdoe"].count("author-box") == 1


def test_sentence_starting_with_by_is_not_a_byline() -> None:
    assert pattern_label("By the time we arrived the bridge was closed.") is None
    article = _clean(_page("Title", "By the time we arrived the bridge was closed.", PARA_1, PARA_2))
    assert article.metadata.authors == []


def test_image_credit_inside_article_is_removed() -> None:
    article = _clean(_page("Title", PARA_1, "Photo: Jane Doe / Reuters", PARA_2, PARA_3))
    assert "Photo:" not in _text(article)
    assert _reasons(article)["Photo: Jane Doe / Reuters"] == "image-credit"


def test_date_line_near_the_start_gives_metadata_date() -> None:
    article = _clean(_page("Bridge closes", "12.03.2024, 14:30", PARA_1, PARA_2))
    assert article.metadata.date == "2024-03-12"
    assert parse_date("September 4, 2024") == "2024-09-04"
    assert parse_date("15 марта 2024") == "2024-03-15"


def test_comments_are_never_in_text_but_kept_separately_when_asked() -> None:
    comment = "I drive over that bridge every day and I am glad they are finally fixing it properly."
    page = _page("Title", PARA_1, PARA_2, PARA_3, "2 Comments", "Anna", comment, "Reply")
    plain, with_comments = _clean(page), _clean(page, comments=True)
    assert comment not in _text(plain)
    assert comment not in _text(with_comments)
    assert comment in serialize.render_text(with_comments.comments_body)
    assert _reasons(plain)[comment] == "comments"


def test_cookie_banner_newsletter_and_footer_are_removed() -> None:
    article = _clean(
        _page(
            "We use cookies to improve your experience.\nAccept",
            "Title",
            PARA_1,
            PARA_2,
            "Sign up for our newsletter",
            "© 2024 City Paper. All rights reserved.",
        )
    )
    reasons = _reasons(article)
    assert reasons["We use cookies to improve your experience."] == "cookie-banner"
    assert reasons["Sign up for our newsletter"] == "newsletter"
    assert reasons["© 2024 City Paper. All rights reserved."] == "footer"
    assert _text(article).splitlines() == [PARA_1, PARA_2]


def test_short_heading_inside_the_article_is_kept_as_head() -> None:
    article = _clean(_page("Title", PARA_1, "What happens next", PARA_2, PARA_3))
    assert [child.tag for child in article.body] == ["p", "head", "p", "p"]


def test_bullet_lines_become_a_list() -> None:
    article = _clean(_page("Title", PARA_1, "• first point here\n• second point here", PARA_2))
    assert [child.tag for child in article.body] == ["p", "list", "p"]
    assert [item.text for item in article.body[1]] == ["first point here", "second point here"]


def test_control_characters_do_not_crash() -> None:
    article = _clean(_page("Title", PARA_1 + "\x00\x0b", PARA_2))
    assert PARA_1 in _text(article)


def test_empty_input_gives_an_empty_article() -> None:
    article = _clean("  \n\n ")
    assert len(article.body) == 0
    assert article.metadata.title is None


def test_large_input_is_linear() -> None:
    block = _page("Home", "Title", PARA_1, PARA_2, "2 hours ago", "Share")
    text = "\n\n".join([block] * 16_000)  # ~100k lines, ~6 MB
    started = time.perf_counter()
    article = _clean(text)
    elapsed = time.perf_counter() - started
    assert len(article.body) > 0
    assert elapsed < 15, f"{elapsed:.1f} s for ~100k lines"


@pytest.mark.parametrize(
    "line",
    [
        "We use cookies to improve your experience.",
        "By continuing you consent to our use of data.",
        "GDPR notice",
        "Hinweis zur DSGVO",
        "Datenschutzeinstellungen",
        "Privacy settings",
        "Accept all",
        "Alle akzeptieren",
        "Aceptar todas",
        "Tout accepter",
        "Accetta tutti",
        "Принять все",
        "Мы используем куки",
        "Sign up for our newsletter",
        "Subscribe",
        "Enter your email",
        "Straight to your inbox",
        "Jetzt abonnieren",
        "Anmelden zum Newsletter",
        "Ihre E-Mail",
        "Suscríbete",
        "Tu correo",
        "Abonnez-vous",
        "Inscrivez-vous",
        "Votre e-mail",
        "Iscriviti",
        "Подпишитесь на рассылку",
        "订阅",
    ],
)
def test_cookie_and_newsletter_prefilter_hints_never_hide_a_match(line: str) -> None:
    lower = line.lower()
    if COOKIE_BANNER.search(line):
        assert has_hint(lower, COOKIE_HINTS)
    if NEWSLETTER.search(line):
        assert has_hint(lower, NEWSLETTER_HINTS)
    assert COOKIE_BANNER.search(line) or NEWSLETTER.search(line)


def test_text_without_any_hint_is_not_labelled_a_box() -> None:
    assert pattern_label("The bridge will reopen in the spring, the council said.") is None


def test_repeated_lines_are_marked_and_keep_their_own_position() -> None:
    lines, _, _ = text_mode.analyse("Home\nNews\n\n" + PARA_1 + "\n\nHome")
    first, last = lines[0], lines[-1]
    assert first.repeated
    assert last.repeated
    assert (last.index, last.block) == (3, 2)
    assert (last.label, last.words) == (first.label, first.words)


def test_text_with_nothing_left_says_no_main_content_as_html_does() -> None:
    # Menu words only: nothing is left.
    answer = run(Job(mode="text", body=b"Home\nShare\nLog in"))
    assert (answer["text"], answer["warnings"]) == ("", ["no-main-content"])
    prose = "The council voted on Tuesday to rebuild the old bridge, and work starts in spring next year."
    kept = run(Job(mode="text", body=f"{prose}\n{prose}".encode()))
    assert kept["text"]
    assert "no-main-content" not in kept["warnings"]
