"""Language of the article: the page's own declaration when the text agrees, else detection.

py3langid runs offline on a bundled model. Its guesses on very short texts are noise, so below
``MIN_DETECT_CHARS`` only a declared language is reported.
"""

from __future__ import annotations

import re

import py3langid

# Below this many letters langid's confidence is not worth reporting (measured on short
# teasers: most guesses under ~40 characters were wrong).
MIN_DETECT_CHARS = 40
# How much text detection reads: accuracy saturates well before this, time does not.
DETECT_SAMPLE_CHARS = 5000
_LANG_TAG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{1,8})*$")


def normalize_tag(tag: str | None) -> str | None:
    """'en-US' -> 'en'; returns None for anything that is not a language tag."""
    if not tag:
        return None
    tag = tag.strip()
    if not _LANG_TAG.match(tag):
        return None
    return tag.split("-")[0].split("_")[0].lower()


def detect_language(text: str, declared: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``; ``declared`` wins when the text is too short to judge."""
    declared = normalize_tag(declared)
    sample = text[:DETECT_SAMPLE_CHARS]
    letters = sum(1 for char in sample if char.isalpha())
    if letters < MIN_DETECT_CHARS:
        return declared
    detected, _score = py3langid.classify(sample)
    return str(detected)
