"""The clutter rules of HTML mode (service.pipeline.block_rules): which reason code fires on which block."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from service.models import Article, Metadata, Options
from service.pipeline import block_rules

PROSE = (
    "The council approved the plan on Tuesday after a long debate about costs, and the first works "
    "are expected to start in the spring once the tender has been awarded to a local company."
)


def _article(*blocks: str, authors: list[str] | None = None) -> Article:
    body = etree.fromstring("<body>" + "".join(blocks) + "</body>")
    return Article(metadata=Metadata(authors=authors or []), body=body)


def _rules(article: Article, options: Options | None = None) -> dict[str, str]:
    """Text -> reason code of every block a rule fires on (bylines fill the article's authors)."""
    blocks = list(article.body)
    texts = ["".join(b.itertext()).strip() for b in blocks]
    reasons = block_rules.rule_reasons(blocks, texts, [True] * len(blocks), article.metadata, options or Options())
    return {text: reason for text, reason in zip(texts, reasons, strict=True) if reason is not None}


def test_share_line_is_flagged() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Share</p>", f"<p>{PROSE}</p>")
    assert _rules(article) == {"Share": "share-buttons"}


def test_byline_label_and_name_fill_authors() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Published by</p>", "<p>admin</p>")
    assert _rules(article) == {"Published by": "byline", "admin": "byline"}
    assert article.metadata.authors == ["admin"]


def test_byline_does_not_overwrite_known_authors() -> None:
    article = _article("<p>By Jane Doe</p>", f"<p>{PROSE}</p>", authors=["John Roe"])
    assert _rules(article)["By Jane Doe"] == "byline"
    assert article.metadata.authors == ["John Roe"]


def test_prose_starting_with_by_is_not_flagged() -> None:
    text = "By the end of the week, the river had risen. Farmers moved their animals to higher ground."
    article = _article(f"<p>{text}</p>", f"<p>{PROSE}</p>")
    assert _rules(article) == {}


def test_image_credit_is_flagged() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Image source: NVIDIA</p>", f"<p>{PROSE}</p>")
    assert _rules(article) == {"Image source: NVIDIA": "image-credit"}


def test_read_also_line_is_flagged() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>Lesen Sie auch: Neuer Fahrplan ab April</p>", f"<p>{PROSE}</p>")
    assert _rules(article) == {"Lesen Sie auch: Neuer Fahrplan ab April": "related-links"}


def test_related_heading_flags_its_teasers_but_not_later_prose() -> None:
    article = _article(
        f"<p>{PROSE}</p>",
        f"<p>{PROSE}</p>",
        f"<p>{PROSE}</p>",
        "<head>Recent Posts</head>",
        "<p>OpenAI expects to decide on a scheme</p>",
        "<p>2 hours ago</p>",
        f"<p>{PROSE} {PROSE}</p>",
    )
    reasons = _rules(article)
    assert reasons["Recent Posts"] == "related-links"
    assert reasons["OpenAI expects to decide on a scheme"] == "teaser"
    assert f"{PROSE} {PROSE}" not in reasons


def test_related_heading_early_in_the_body_is_not_flagged() -> None:
    article = _article("<head>Related work</head>", f"<p>{PROSE}</p>", f"<p>{PROSE}</p>")
    assert _rules(article) == {}


def test_comments_section_is_flagged_when_comments_are_off() -> None:
    article = _article(f"<p>{PROSE}</p>", f"<p>{PROSE}</p>", "<head>3 Comments</head>", "<p>Great post, thanks!</p>")
    assert _rules(article) == {"3 Comments": "comments", "Great post, thanks!": "comments"}


def test_trailing_author_name_is_author_box() -> None:
    article = _article(f"<p>{PROSE}</p>", "<p>admin</p>", authors=["admin"])
    assert _rules(article) == {"admin": "author-box"}


def test_cookie_rule_needs_the_word_cookie() -> None:
    consent = "Parents must sign consent forms before the vaccination, the ministry said on Monday."
    article = _article(f"<p>{PROSE}</p>", f"<p>{consent}</p>", "<p>We use cookies. Accept all</p>")
    assert _rules(article) == {"We use cookies. Accept all": "cookie-banner"}


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
    from service.pipeline import clutter_patterns

    fixture_lines = [
        line.strip()
        for path in (Path(__file__).resolve().parents[2] / "fixtures").glob("*/input.*")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if 0 < len(line.strip()) <= block_rules.MAX_NOTICE_CHARS
    ]
    for text in NOTICE_EXAMPLES:
        assert any(rule(text) for _reason, rule in block_rules._NOTICE_RULES), text
    matched = 0
    for text in NOTICE_EXAMPLES + [t.upper() for t in NOTICE_EXAMPLES] + fixture_lines:
        if any(rule(text) for _reason, rule in block_rules._NOTICE_RULES):
            matched += 1
            assert clutter_patterns.has_hint(text.casefold(), block_rules.NOTICE_HINTS), text
    assert matched > len(NOTICE_EXAMPLES)
