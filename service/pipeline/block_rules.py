"""The hand-written clutter rules of HTML mode, as features and reason codes for the block model.

Each rule looks at one candidate block's text (share bars, bylines, image credits, "read also"
lines, newsletter and cookie boxes, copyright lines ...) or opens a section (a related heading, a
comments heading, an about-the-author box) in the last part of the body. They used to remove
blocks; since issue 22 they only say which reason code fits a block: the learned block decision
(``block_model``) weighs them with everything else, and a dropped block reports the code of the
rule that fired on it (``explain``). The multilingual vocabulary comes from ``clutter_patterns``
(owned by the plain-text mode, read-only here).

Reason codes:
    share-buttons   a block made only of share/social words ("Share", "Tweet", "Teilen")
    byline          "By Jane Doe", "Published by admin" (fills ``metadata.authors`` when empty)
    image-credit    "Image source: NVIDIA", "Foto: dpa", "© Getty Images"
    teaser          a teaser's age alone ("2 hours ago") or a teaser below a related heading
    related-links   a related heading ("Recent Posts", "Mehr zum Thema"), a "Read also: <title>" line
    author-box      the author's name alone, or an "About the author" box, after the article
    newsletter      a short subscribe/sign-up box line
    cookie-banner   a short cookie/consent line
    comments        a comment section heading and everything after it (``comments`` off)
    tags            "Tags: ...", "Kategorien: ..." lines
    navigation      a menu word or pagination alone ("Home", "Next post")
    boilerplate     copyright/imprint lines
    advertising     "Anzeige", "Sponsored", affiliate disclosures
    social-links    "Follow us on ...", app store appeals
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lxml import etree

from service.models import Metadata, Options
from service.pipeline import clutter_patterns as cp

# Top-level tags of trafilatura's vocabulary that make one block.
BLOCK_TAGS = frozenset({"p", "head", "list", "quote", "code", "table", "graphic", "item"})
# A "line" rule (share, credit, byline...) only applies to blocks up to this many characters:
# clutter lines are short; a paragraph that happens to start with "By" or "Photo:" is prose.
MAX_LINE_CHARS = 160
# A byline is shorter still (names, perhaps a date): longer "By ..." blocks are sentences.
MAX_BYLINE_CHARS = 90
# An author name alone on a block (author box) is at most this many words.
MAX_NAME_WORDS = 5
# Newsletter / cookie sentences get more room: "Sign up to get the best content of the week..."
MAX_BOX_CHARS = 220
# A section rule (related heading, comments heading) fires only after this share of the body's
# text: a "Related" heading in the first half is more likely part of the article's structure.
MIN_SECTION_POSITION = 0.5
# Below a related heading, blocks up to this length are teasers; a longer one is article prose
# again and ends the teaser run (teaser lines measured on the benchmark pages: nearly all < 200).
MAX_TEASER_CHARS = 200

_SPACES = re.compile(r"\s+")
# The cookie rule needs the word itself: "consent" alone is common in news prose (measured: the
# one cookie-banner removal that cost a benchmark snippet was a "consent forms" sentence).
_COOKIE_WORD = re.compile(r"cookie|куки", re.IGNORECASE)
# "Read also: <title>", "Lea también: ...", "Mehr zum Thema: ...": a label, a colon or arrow,
# then a title. HTML-specific (a link line inside the body); the label list follows
# clutter_patterns.RELATED_HEADING / READ_MORE in the same languages.
READ_ALSO = re.compile(
    r"^(?:read (?:also|more|next)|see also|also read|related|more on this|recommended"
    r"|lesen sie (?:auch|mehr)|auch interessant|mehr zum thema|siehe auch|schon gelesen\??|weiterlesen"
    r"|lea (?:también|más)|lee (?:también|más)|lea|vea también|ver también|mira|puedes ver|te puede interesar"
    r"|le puede interesar|también te puede interesar|noticia relacionada|notas? relacionadas?|relacionad[oa]s?"
    r"|à lire aussi|lire aussi|voir aussi|leggi anche|leia também|veja também|lees ook"
    r"|auch lesen|lesen sie hier|czytaj (?:też|także|również)|zobacz (?:też|także)|dowiedz się więcej|mire|vea"
    r"|читайте также|смотрите также|по теме|相关阅读|延伸阅读)"
    r"\s*(?:[:»›>|→]|\.{3}|…)\s*\S.{0,200}$",
    re.IGNORECASE,
)
# A short heading-like line announcing more articles, looser than RELATED_HEADING ("Weitere
# Tourentipps in Schweden", "Empfohlene Beiträge", "Más sobre X"): only taken as a section start
# in the last part of the body, and only when it has no sentence end.
LOOSE_RELATED_HEADING = re.compile(
    r"\b(?:related|recommended|more (?:articles|stories|posts|news|from|on|about)|read next|you may also"
    r"|weitere (?:\w+ )?(?:artikel|beiträge|themen|tipps|tourentipps|infos|nachrichten|meldungen)"
    r"|mehr (?:themen|zum thema|aus|von)|empfohlene|top-themen|auch auf|schon gelesen|zum weiterlesen"
    r"|lesen sie auch|könnte (?:dich|sie) (?:auch )?interessieren|vorschau auf|beiträge aus"
    r"|relacionad[oa]s?|más sobre|más noticias|te puede interesar|también te puede"
    r"|à lire aussi|sur le même sujet|czytaj (?:też|także)|polecamy|читайте также|похожие)\b",
    re.IGNORECASE,
)
# Longest loose related heading (measured: the announcing lines on the benchmark pages are < 60).
MAX_LOOSE_HEADING_CHARS = 60
# Advertising disclosures and labels ("Anzeige", "*Werbung.", "contains affiliate links").
ADVERTISING = re.compile(
    r"^\W*(?:anzeige|werbung|advertisement|sponsored|publicidad|publicité|реклама|reklama)\b"
    r"|affiliate[- ]links?|\badvertisers?\b.{0,80}\bcompensation\b",
    re.IGNORECASE,
)
# Appeals to follow the site on social networks or in its apps.
SOCIAL_FOLLOW = re.compile(
    r"\b(?:follow (?:us|\w+ on)|folg(?:e|t) (?:uns|\w+ auf)|s[ií]guenos|suivez-nous|seguici"
    r"|canal de (?:youtube|telegram|whatsapp)"
    r"|(?:ios|android)\b.{0,20}\bapps?\b|\bapps?\b.{0,30}\b(?:ios|android))",
    re.IGNORECASE,
)
# Appeals to pay: donations, memberships, paywall lines.
SUPPORT_APPEAL = re.compile(
    r"\b(?:donate|spende[nr]?|unterstütze|support (?:us|our (?:work|journalism))|hazte (?:miembro|socio)"
    r"|become a (?:member|patron)"
    r"|subscribers?|abonnent(?:en|in)?|suscriptor(?:es)?|paywall|bezahlschranke|to read the full|pour lire la suite"
    r"|pour accéder|full story|periodismo)\b",
    re.IGNORECASE,
)
# A caption whose source sits at its end: "... (Foto: Natacha Pisarenko/Pool via REUTERS)".
CAPTION_SOURCE = re.compile(
    r"(?:^|[\s(\[|])(?:foto|fotos|fot\.|photo|photos|bild|image|imagen|crédits? photos?|credit|quelle|source|fuente)"
    r"\s*[:.]\s*[^()\[\]]{1,80}[)\]]?\s*$|^(?:beitragsbild|titelbild|image illustrative|fot\.)\s*:?\s",
    re.IGNORECASE,
)
# Licence and copyright notices of the site (not the article's subject).
LICENCE = re.compile(
    r"©|\bcopyright|\bcc[- ]by\b|creative commons|urheberrecht|prawem autorskim|derechos reservados|droits réservés",
    re.IGNORECASE,
)
# Notices longer than a line but still furniture (licence, appeals) are at most this long.
MAX_NOTICE_CHARS = 300
# A trailing block this short that starts with the author's name is the author box's bio.
MAX_AUTHOR_BIO_CHARS = 600
# How many trailing blocks the author-box rule looks at.
AUTHOR_BOX_TAIL_BLOCKS = 3

# Lines that open the "about the author" box after an article.
AUTHOR_BOX_HEADING = re.compile(
    r"^(?:about the author|über (?:den|die) autor(?:in)?|zum autor|sobre (?:el|la) autor[a]?|à propos de l'auteur"
    r"|l'autore|sobre o autor|об авторе|作者简介|关于作者)\s*:?$",
    re.IGNORECASE,
)


REASON_CODES: tuple[str, ...] = (
    "share-buttons",
    "byline",
    "image-credit",
    "teaser",
    "related-links",
    "author-box",
    "newsletter",
    "cookie-banner",
    "comments",
    "tags",
    "navigation",
    "boilerplate",
    "advertising",
    "social-links",
)


def rule_reasons(
    blocks: Sequence[etree._Element],
    texts: Sequence[str],
    own: Sequence[bool],
    metadata: Metadata,
    options: Options,
) -> list[str | None]:
    """The reason code of the rule that fires on each block (None: no rule), in reading order.

    ``own`` marks the blocks of trafilatura's body: only their bylines fill ``metadata.authors``.
    """
    reasons: list[str | None] = [None] * len(blocks)
    scratch = Metadata()
    total = sum(map(len, texts)) or 1
    before = 0  # characters of text before the current block
    cut: str | None = None  # a section rule fired: every later block gets this reason
    index = 0
    while index < len(blocks):
        block, text = blocks[index], texts[index]
        position = before / total
        before += len(text)
        if cut is not None:
            reasons[index] = cut
            index += 1
            continue
        section = _section_start(block, text, position, options)
        if section is not None:
            reasons[index] = section
            if section == "related-links":
                end = _teaser_run(blocks, texts, index + 1)
                for teaser in range(index + 1, end):
                    reasons[teaser] = "related-links" if cp.RELATED_HEADING.match(texts[teaser]) else "teaser"
                    before += len(texts[teaser])
                index = end
                continue
            cut = section
            index += 1
            continue
        authors = metadata if own[index] else scratch
        reason = _line_reason(block, text, authors, position)
        if reason == "byline-label":
            reasons[index] = "byline"
            if index + 1 < len(blocks) and _is_name(texts[index + 1]):
                _add_author(authors, [texts[index + 1]])
                reasons[index + 1] = "byline"
                before += len(texts[index + 1])
                index += 1
        else:
            reasons[index] = reason
        index += 1
    for number in _trailing_author_box(texts, metadata):
        reasons[number] = reasons[number] or "author-box"
    return reasons


def _line_reason(block: etree._Element, text: str, metadata: Metadata, position: float) -> str | None:
    """The reason code of a short clutter block, ``byline-label`` for a label alone, else None."""
    if not text or block.tag in {"table", "code"}:
        return None
    if block.tag == "list":
        return _list_reason(block)
    if len(text) <= MAX_BYLINE_CHARS:
        if cp.BYLINE_LABEL_ONLY.match(text):
            return "byline-label"
        names = cp.byline_names(text)
        if names is not None and cp.looks_like_byline(text):
            _add_author(metadata, names)
            return "byline"
    # Hint tests on the case-folded text spare the unanchored searches on most blocks (they only
    # run up to MAX_NOTICE_CHARS, the longer of the two limits).
    folded = text.casefold() if len(text) <= MAX_NOTICE_CHARS else ""
    if len(text) <= MAX_BOX_CHARS:
        if cp.has_hint(folded, cp.NEWSLETTER_HINTS) and cp.NEWSLETTER.search(text) and not _is_sentence_of_prose(text):
            return "newsletter"
        if (
            cp.has_hint(folded, cp.COOKIE_HINTS)
            and cp.COOKIE_BANNER.search(text)
            and _COOKIE_WORD.search(text)
            and not _is_sentence_of_prose(text)
        ):
            return "cookie-banner"
    if len(text) <= MAX_NOTICE_CHARS and cp.has_hint(folded, NOTICE_HINTS) and not _is_sentence_of_prose(text):
        for reason, rule in _NOTICE_RULES:
            if rule(text) and (reason != "boilerplate" or position >= MIN_SECTION_POSITION):
                return reason
    if len(text) > MAX_LINE_CHARS:
        return None
    for reason, rule in _LINE_RULES:
        if rule(text):
            return reason
    return None


def _list_reason(block: etree._Element) -> str | None:
    """A list whose every item is a share word or a menu word is a share bar or a menu."""
    items = [_text(i) for i in block.iter("item")]
    items = [i for i in items if i]
    if not items:
        return None
    if all(cp.SHARE_LINE.match(i) for i in items):
        return "share-buttons"
    return None


# Every match of the five notice patterns above contains one of these case-folded substrings, so
# a block holding none of them skips the five unanchored searches (a block of 300 characters
# took ~16 µs through them; tests/pipeline/test_block_rules.py checks the hints against the patterns).
NOTICE_HINTS: tuple[str, ...] = (
    # ADVERTISING
    "anzeige", "werbung", "advertisement", "sponsored", "publicidad", "publicité", "реклама", "reklama",
    "affiliate", "advertiser",
    # SOCIAL_FOLLOW ("(ios|android) ... app" and "app ... (ios|android)" both need "app")
    "follow ", "folge ", "folgt ", "guenos", "suivez-nous", "seguici", "canal de ", "app",
    # SUPPORT_APPEAL
    "donate", "spende", "unterstütze", "support ", "hazte ", "become a ", "subscriber", "abonnent",
    "suscriptor", "paywall", "bezahlschranke", "to read the full", "pour lire la suite", "pour accéder",
    "full story", "periodismo",
    # CAPTION_SOURCE ("fot" covers foto, fotos, fot.; "bild" and "image" the label forms)
    "fot", "photo", "bild", "image", "crédit", "credit", "quelle", "source", "fuente",
    # LICENCE
    "©", "copyright", "cc-by", "cc by", "creative commons", "urheberrecht", "prawem autorskim",
    "derechos reservados", "droits réservés",
)  # fmt: skip

_NOTICE_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("advertising", lambda t: ADVERTISING.search(t) is not None),
    ("social-links", lambda t: SOCIAL_FOLLOW.search(t) is not None),
    ("newsletter", lambda t: SUPPORT_APPEAL.search(t) is not None),
    ("image-credit", lambda t: CAPTION_SOURCE.search(t) is not None),
    ("boilerplate", lambda t: LICENCE.search(t) is not None),
)

_LINE_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("share-buttons", lambda t: cp.SHARE_LINE.match(t) is not None),
    ("image-credit", lambda t: cp.IMAGE_CREDIT.match(t) is not None),
    ("teaser", lambda t: cp.RELATIVE_DATE.match(t) is not None),
    ("tags", lambda t: cp.TAXONOMY.match(t) is not None),
    ("related-links", lambda t: READ_ALSO.match(t) is not None),
    ("boilerplate", lambda t: cp.FOOTER.match(t) is not None),
    ("navigation", lambda t: cp.NAVIGATION.match(t) is not None or cp.PAGINATION.match(t) is not None),
)


def _section_start(block: etree._Element, text: str, position: float, options: Options) -> str | None:
    """A heading that opens a clutter section in the last part of the body, else None."""
    if position < MIN_SECTION_POSITION or len(text) > MAX_LINE_CHARS:
        return None
    if cp.RELATED_HEADING.match(text):
        return "related-links"
    if (
        len(text) <= MAX_LOOSE_HEADING_CHARS
        and LOOSE_RELATED_HEADING.search(text)
        and not text.endswith(".")
        and ":" not in text.rstrip(":")
    ):
        return "related-links"
    if not options.comments and cp.COMMENTS_HEADING.match(text):
        return "comments"
    if AUTHOR_BOX_HEADING.match(text):
        return "author-box"
    return None


def _teaser_run(blocks: Sequence[etree._Element], texts: Sequence[str], start: int) -> int:
    """The index of the first block after the teaser run that starts at ``start``."""
    index = start
    while index < len(blocks):
        block, text = blocks[index], texts[index]
        if block.tag != "list" and len(text) > MAX_TEASER_CHARS:
            break
        if block.tag == "list" and any(len(_text(i)) > MAX_TEASER_CHARS for i in block.iter("item")):
            break
        if block.tag == "head" and not (cp.RELATED_HEADING.match(text) or len(text) <= MAX_TEASER_CHARS):
            break
        index += 1
    return index


def _trailing_author_box(texts: Sequence[str], metadata: Metadata) -> list[int]:
    """The last blocks (never the first) that are the author's name alone or their bio."""
    names = {n.casefold() for n in metadata.authors}
    found: list[int] = []
    if not names:
        return found
    for number in reversed(range(max(1, len(texts) - AUTHOR_BOX_TAIL_BLOCKS), len(texts))):
        folded = texts[number].casefold()
        is_name = folded in names
        is_bio = len(folded) <= MAX_AUTHOR_BIO_CHARS and any(
            folded.startswith(n) and len(n.split()) >= 2 for n in names
        )
        if not (is_name or is_bio):
            break
        found.append(number)
    return found


def _is_sentence_of_prose(text: str) -> bool:
    """Several full sentences read as article prose (an article about newsletters or cookies)."""
    return len(re.findall(r"[.!?](?:\s|$)", text)) >= 3


def _is_name(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= MAX_NAME_WORDS and len(text) <= MAX_BYLINE_CHARS and not re.search(r"[.!?:]$", text)


def _add_author(metadata: Metadata, names: list[str]) -> None:
    if not metadata.authors:
        metadata.authors = list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _text(element: etree._Element) -> str:
    return _SPACES.sub(" ", "".join(element.itertext())).strip()
