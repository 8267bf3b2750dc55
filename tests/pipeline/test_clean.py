"""Rules of the HTML-mode cleaner (service.pipeline.clean) and the block recovery (recover)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from service.models import Article, Metadata, Options
from service.pipeline.clean import clean_article
from service.pipeline.recover import recover_blocks
from service.pipeline.serialize import render_text

PROSE = (
    "The council approved the plan on Tuesday after a long debate about costs, and the first works "
    "are expected to start in the spring once the tender has been awarded to a local company."
)


def _article(*blocks: str, authors: list[str] | None = None) -> Article:
    body = etree.fromstring("<body>" + "".join(blocks) + "</body>")
    return Article(metadata=Metadata(authors=authors or []), body=body)


def _reasons(article: Article) -> dict[str, str]:
    return {item.text: item.reason for item in article.removed}


def test_share_line_is_removed() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Share</p>", f"<p>{PROSE}</p>")
    clean_article(article, Options())
    assert _reasons(article) == {"Share": "share-buttons"}


def test_byline_label_and_name_fill_authors() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Published by</p>", "<p>admin</p>")
    clean_article(article, Options())
    assert article.metadata.authors == ["admin"]
    assert "admin" not in render_text(article.body)


def test_byline_does_not_overwrite_known_authors() -> None:
    article = _article("<p>By Jane Doe</p>", f"<p>{PROSE}</p>", authors=["John Roe"])
    clean_article(article, Options())
    assert article.metadata.authors == ["John Roe"]
    assert _reasons(article)["By Jane Doe"] == "byline"


def test_prose_starting_with_by_is_kept() -> None:
    text = "By the end of the week, the river had risen. Farmers moved their animals to higher ground."
    article = _article(f"<p>{text}</p>", f"<p>{PROSE}</p>")
    clean_article(article, Options())
    assert article.removed == []


def test_image_credit_is_removed() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Image source: NVIDIA</p>", f"<p>{PROSE}</p>")
    clean_article(article, Options())
    assert _reasons(article) == {"Image source: NVIDIA": "image-credit"}


def test_read_also_line_is_removed() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Lesen Sie auch: Neuer Fahrplan ab April</p>", f"<p>{PROSE}</p>")
    clean_article(article, Options())
    assert _reasons(article) == {"Lesen Sie auch: Neuer Fahrplan ab April": "related-links"}


def test_related_heading_takes_its_teasers_but_not_later_prose() -> None:
    article = _article(
        f"<p>{PROSE}</p>",
        f"<p>{PROSE}</p>",
        f"<p>{PROSE}</p>",
        "<head>Recent Posts</head>",
        "<p>OpenAI expects to decide on a scheme</p>",
        "<p>2 hours ago</p>",
        f"<p>{PROSE} {PROSE}</p>",
    )
    clean_article(article, Options())
    reasons = _reasons(article)
    assert reasons["Recent Posts"] == "related-links"
    assert reasons["OpenAI expects to decide on a scheme"] == "teaser"
    assert f"{PROSE} {PROSE}" in render_text(article.body)


def test_related_heading_early_in_the_body_is_kept() -> None:
    article = _article("<head>Related work</head>", f"<p>{PROSE}</p>", f"<p>{PROSE}</p>")
    clean_article(article, Options())
    assert article.removed == []


def test_comments_section_is_cut_when_comments_are_off() -> None:
    article = _article(f"<p>{PROSE}</p>", f"<p>{PROSE}</p>", "<head>3 Comments</head>", "<p>Great post, thanks!</p>")
    clean_article(article, Options())
    assert _reasons(article) == {"3 Comments": "comments", "Great post, thanks!": "comments"}


def test_trailing_author_name_is_author_box() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>admin</p>", authors=["admin"])
    clean_article(article, Options())
    assert _reasons(article) == {"admin": "author-box"}


def test_cookie_rule_needs_the_word_cookie() -> None:
    consent = "Parents must sign consent forms before the vaccination, the ministry said on Monday."
    article = _article(f"<p>{PROSE}</p>", f"<p>{consent}</p>", "<p>We use cookies. Accept all</p>")
    clean_article(article, Options())
    assert _reasons(article) == {"We use cookies. Accept all": "cookie-banner"}


def test_recover_inserts_missing_prose_after_its_neighbour() -> None:
    first, last = PROSE, "Critics said the budget was too small and asked for a second vote before the summer recess."
    missing = "Residents of the northern district, who waited six years for the bridge, welcomed the decision warmly."
    article = _article(f"<p>{first}</p>", f"<p>{last}</p>")
    candidate = etree.fromstring(f"<body><p>{first}</p><p>{missing}</p><p>{last}</p><p>Share</p></body>")
    assert recover_blocks(article, candidate) == 1
    assert render_text(article.body).splitlines() == [first, missing, last]


def test_recover_ignores_a_candidate_about_something_else() -> None:
    article = _article(f"<p>{PROSE}</p>")
    other = "Completely different words about a football match that ended in a draw after extra time was played."
    candidate = etree.fromstring(f"<body><p>{other}</p><p>{other} Twice.</p></body>")
    assert recover_blocks(article, candidate) == 0


NOTICE_EXAMPLES = [
    "ANZEIGE", "*Werbung.", "Sponsored", "PUBLICITÉ", "Реклама", "This post contains affiliate links.",
    "Our advertisers may pay us compensation.", "Follow us on Instagram", "FOLGE UNS AUF TWITTER",
    "Folgt Anna auf Mastodon", "Síguenos en Facebook", "SIGUENOS", "Suivez-nous !", "Seguici su Telegram",
    "Canal de YouTube", "Get our iOS and Android app", "Our APP for Android", "Donate today", "Spenden",
    "Unterstütze uns", "Support our journalism", "Hazte socio", "Become a patron", "For subscribers only",
    "Nur für Abonnenten", "Suscriptores", "Paywall", "Bezahlschranke", "To read the full story, log in",
    "Pour lire la suite", "Pour accéder à cet article", "Periodismo", "Foto: Reuters", "(FOTOS: dpa)",
    "Fot. PAP", "Photo: AP", "Bild: Keystone", "Beitragsbild: Pixabay", "Titelbild: x", "Image: NASA",
    "Imagen: EFE", "Crédits photos : AFP", "Credit: Getty", "Quelle: dpa", "Source: AFP", "Fuente: EFE",
    "© 2024 Example", "Copyright 2024", "CC-BY 4.0", "cc by-sa", "Creative Commons", "Urheberrecht",
    "chronione prawem autorskim", "Derechos reservados", "Tous droits réservés",
]  # fmt: skip


def test_notice_hints_never_hide_a_notice() -> None:
    """Every notice example matches a notice pattern, and every match carries a hint."""
    from service.pipeline import clean, clutter_patterns

    fixture_lines = [
        line.strip()
        for path in (Path(__file__).resolve().parents[2] / "fixtures").glob("*/input.*")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if 0 < len(line.strip()) <= clean.MAX_NOTICE_CHARS
    ]
    for text in NOTICE_EXAMPLES:
        assert any(rule(text) for _reason, rule in clean._NOTICE_RULES), text
    matched = 0
    for text in NOTICE_EXAMPLES + [t.upper() for t in NOTICE_EXAMPLES] + fixture_lines:
        if any(rule(text) for _reason, rule in clean._NOTICE_RULES):
            matched += 1
            assert clutter_patterns.has_hint(text.casefold(), clean.NOTICE_HINTS), text
    assert matched > len(NOTICE_EXAMPLES)
