"""Per-line features and clutter labels for the plain-text mode (``text_mode``).

A line is classified alone here (its length, function-word density, punctuation and which
``clutter_patterns`` it matches; ``char_counts`` counts its characters by class for the model);
``text_mode`` then looks at neighbours and finds the article region. Nothing here depends on any
page's wording beyond the multilingual vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from service.pipeline import clutter_patterns as cp

_WORD: Final = re.compile(r"\w+", re.UNICODE)
# CJK, kana, hangul: scripts written without spaces, where \w+ swallows a whole sentence.
_CJK: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Characters per "word" for CJK text: a common rule of thumb (1.5-2 chars per Chinese word).
CJK_CHARS_PER_WORD: Final = 2.0
# Last characters of a sentence-like line, and the endings of a line cut short (lines are stripped,
# so an end test is enough: no regex search over the whole line).
_TERMINAL_CHARS: Final = frozenset('.!?…。！？:;"”’»)]')
_TRUNCATED_ENDS: Final = ("…", "...", "[…]", "[...]")
_BULLET: Final = re.compile(r"^(?:[•·▪◦‣∙*\-–—]|\d{1,2}[.)])\s+")
_MARKUP: Final = re.compile(r"</?(?:div|span|a|img|p|br|script|iframe|noscript|ins|em|i|b|strong)\b[^>]*>", re.I)
_ALPHA: Final = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(slots=True)
class Line:
    """One non-empty line of the input, with what ``text_mode`` needs to decide on it."""

    index: int  # position among the non-empty lines
    text: str  # stripped
    block: int  # number of the blank-line separated block it belongs to
    words: float
    stop_ratio: float
    terminal: bool  # ends like a sentence
    truncated: bool  # ends with an ellipsis: a teaser cut short
    bullet: bool
    label: str | None  # clutter reason code from the patterns, if any
    cjk: bool = False  # written mostly in a script without spaces
    repeated: bool = False  # the same text occurs on another line of the page
    score: float = 0.0  # density score for the region search
    keep: bool = False
    reason: str | None = None


def count_words(text: str) -> tuple[float, int]:
    """Approximate word count (CJK characters folded into words) and the Latin/Cyrillic tokens' count."""
    tokens = _WORD.findall(text)
    cjk = len(_CJK.findall(text))
    if cjk:
        non_cjk = len(_WORD.findall(_CJK.sub(" ", text)))
        return non_cjk + cjk / CJK_CHARS_PER_WORD, non_cjk
    return float(len(tokens)), len(tokens)


def lower_tokens(text: str) -> list[str]:
    """The text's ``\\w+`` tokens, lower-cased."""
    return [t.lower() for t in _WORD.findall(text)]


def stop_ratio(text: str) -> float:
    """Share of tokens that are function words; CJK text counts as prose (no stop-list for it)."""
    tokens = lower_tokens(text)
    if not tokens:
        return 0.0
    if _CJK.search(text):
        return 0.3  # a neutral prose-like value: CJK has no spaces to find function words by
    return sum(t in cp.STOPWORDS for t in tokens) / len(tokens)


# Lines longer than this are never clutter by pattern: patterns describe short furniture lines.
MAX_PATTERN_CHARS: Final = 200
# A byline's name part is short; longer "By ..." lines are sentences ("By the time we arrived ...").
MAX_BYLINE_WORDS: Final = 10


# Prose (hand-set, then checked by small sweeps on 80 % of two dev text sets, a page-level split
# before the site-grouped CV of scripts/train_text_model.py --cv):
# A line is prose when it has at least this many words ...
PROSE_MIN_WORDS: Final = 10
# ... and at least this share of function words (menus and teaser titles have few). Swept over
# 0.08/0.12/0.16 on the train split (ids with sha1 % 5 != 0): 0.08 best on both sets, by a little.
PROSE_MIN_STOP: Final = 0.08
# Lines this long are prose whatever their function words (lists of names/numbers aside, rare).
PROSE_ANY_WORDS: Final = 30
# ... but even those need some function words: long link lists, markup and code have next to none
# (swept 0.0/0.05 on the train split: 0.05 gained +0.005 F1 on trafilatura-text).
PROSE_ANY_STOP: Final = 0.05
# CJK lines need this many times PROSE_MIN_WORDS (folded words) to count as prose without a final stop.
CJK_PROSE_FACTOR: Final = 2


def is_prose(line: Line) -> bool:
    """A paragraph of running text: long enough, with function words and a sentence end."""
    if line.words >= PROSE_ANY_WORDS and (line.stop_ratio >= PROSE_ANY_STOP or line.cjk):
        return True
    if line.cjk and line.words >= PROSE_MIN_WORDS * CJK_PROSE_FACTOR:
        return True  # Chinese/Japanese paragraphs often lack a final stop in copied text
    # Without a sentence end, a line of this length is a title or teaser heading, not a paragraph.
    return line.words >= PROSE_MIN_WORDS and line.stop_ratio >= PROSE_MIN_STOP and line.terminal


def pattern_label(text: str) -> str | None:
    """The clutter reason code a line matches on its own, or None."""
    if "<" in text and _MARKUP.search(text):
        return "markup"  # HTML that a <noscript> or a broken template leaked into the text
    if len(text) > MAX_PATTERN_CHARS:
        # Long lines can still be a copyright footer or a cookie banner sentence.
        # (the substring test first: these unanchored searches are the costliest step per line)
        if len(text) < 3 * MAX_PATTERN_CHARS and "cook" in text.lower() and cp.COOKIE_BANNER.search(text):
            return "cookie-banner"
        return None
    checks: tuple[tuple[re.Pattern[str], str], ...] = (
        (cp.RELATIVE_DATE, "relative-date"),
        (cp.SHARE_LINE, "share-buttons"),
        (cp.BYLINE_LABEL_ONLY, "byline"),
        (cp.RELATED_HEADING, "related-links"),
        (cp.COMMENTS_HEADING, "comments"),
        (cp.TAXONOMY, "tags"),
        (cp.IMAGE_CREDIT, "image-credit"),
        (cp.FOOTER, "footer"),
        (cp.PAGINATION, "pagination"),
        (cp.READ_MORE, "read-more"),
        (cp.NAVIGATION, "navigation"),
        (cp.COMMENT_ACTION, "comments"),
        (cp.BOX_CONTROL, "boilerplate"),
        (cp.DATE_LINE, "date"),
    )
    for pattern, code in checks:
        if pattern.match(text):
            return code
    words, _ = count_words(text)
    if words <= MAX_BYLINE_WORDS and cp.BYLINE.match(text) and _looks_like_names(text):
        return "byline"
    lower = text.lower()
    if cp.has_hint(lower, cp.COOKIE_HINTS) and cp.COOKIE_BANNER.search(text):
        return "cookie-banner"
    if words <= NEWSLETTER_MAX_WORDS and cp.has_hint(lower, cp.NEWSLETTER_HINTS) and cp.NEWSLETTER.search(text):
        return "newsletter"
    return None


# Newsletter vocabulary ("subscribe", "inbox") also occurs in prose; only short lines are boxes.
NEWSLETTER_MAX_WORDS: Final = 30


def _looks_like_names(text: str) -> bool:
    """After the byline label, the words are capitalised (Latin/Cyrillic) or non-cased (CJK)."""
    match = cp.BYLINE.match(text)
    if match is None:
        return False
    words = [w for w in re.split(r"[\s,&]+", match.group("names")) if _ALPHA.search(w)]
    connectors = {"and", "und", "y", "et", "e", "и", "von", "van", "de", "der", "la", "del", "di", "da"}
    named = [w for w in words if w.lower() not in connectors]
    if not named:
        return False
    capitalised = sum(1 for w in named if not w[0].isalpha() or not w[0].islower())
    # Lower-case user handles ("admin", "jdoe") are names too when they are the only word.
    return capitalised == len(named) or len(named) == 1


def make_line(index: int, text: str, block: int) -> Line:
    """A Line for one stripped, non-empty line of the input."""
    words, _ = count_words(text)
    truncated = text.endswith(_TRUNCATED_ENDS)
    return Line(
        index=index,
        text=text,
        block=block,
        words=words,
        stop_ratio=stop_ratio(text),
        # An ellipsis is where a teaser was cut, not where a sentence ended.
        terminal=text[-1:] in _TERMINAL_CHARS and not truncated,
        truncated=truncated,
        bullet=_BULLET.match(text) is not None,
        label=pattern_label(text),
        cjk=words > 0 and len(_CJK.findall(text)) >= words,
    )


# Characters the line classifier (``text_model``) counts per line: breadcrumb and menu separators,
# and punctuation.
_SEPARATOR_CODES: Final = np.array([ord(c) for c in cp.LINK_SEPARATORS], dtype=np.uint32)
_PUNCT_CODES: Final = np.array([ord(c) for c in ".,;:!?()[]{}\"'«»„“”‘’-–—/|•·…"], dtype=np.uint32)


def char_counts(texts: Sequence[str]) -> dict[str, npt.NDArray[np.float64]]:
    """Per line: digits, upper-case letters, punctuation, separators and commas (vectorised)."""
    codes = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    ends = starts + lengths
    indicators = {
        "digits": (codes >= ord("0")) & (codes <= ord("9")),
        # Upper case in Latin (ASCII and Latin-1), Greek and Cyrillic: the scripts the stop-list covers.
        "upper": ((codes >= ord("A")) & (codes <= ord("Z")))
        | ((codes >= 0xC0) & (codes <= 0xDE) & (codes != 0xD7))
        | ((codes >= 0x391) & (codes <= 0x3A9))
        | ((codes >= 0x410) & (codes <= 0x42F)),
        "punct": np.isin(codes, _PUNCT_CODES),
        "seps": np.isin(codes, _SEPARATOR_CODES),
        "commas": codes == ord(","),
    }
    out = {}
    for name, flags in indicators.items():
        cumulative = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
        out[name] = (cumulative[ends] - cumulative[starts]).astype(np.float64)
    return out
