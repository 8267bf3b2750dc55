"""Language of the article: the page's own declaration when the text agrees, else detection.

py3langid runs offline on a bundled model. Its guesses on very short texts are noise, so below
``MIN_DETECT_CHARS`` only a declared language is reported.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import py3langid
from py3langid import langid, modelio

from service.temp_dir import LANGID_COPY_PREFIX, langid_model_copy

# Below this many letters langid's confidence is not worth reporting (measured on short
# teasers: most guesses under ~40 characters were wrong).
MIN_DETECT_CHARS = 40
# How much text detection reads: langid's accuracy on article prose saturates after a few
# hundred characters, while its time grows linearly (8 ms/page at 5,000 chars, load bench).
# Same language as with 1,500 characters: on our answers for the 1,045 pages of both HTML bench
# sets, 1,000 characters on all but one, 800 on all but two (one German page read as English),
# 600 on all but three; on the 1,045 raw texts of the plain-text sets (clutter included) 99.5 %
# at 1,000 characters. 1,000 characters take 0.30 ms instead of 0.41 ms (1,500) in isolation.
DETECT_SAMPLE_CHARS = 1000
_LANG_TAG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{1,8})*$")


def normalize_tag(tag: str | None) -> str | None:
    """'en-US' -> 'en'; returns None for anything that is not a language tag."""
    if not tag:
        return None
    tag = tag.strip()
    if not _LANG_TAG.match(tag):
        return None
    return tag.split("-")[0].split("_")[0].lower()


def load_identifier() -> None:
    """Load langid's model, from an uncompressed copy cached in the temp dir when possible.

    py3langid decompresses its 4.5 MB LZMA model on first use: about 1 s in every new
    extraction process (start-up and every recycle). The uncompressed copy loads in ~0.1 s.
    """
    if langid.IDENTIFIER is not None:
        return
    cached = langid_model_copy()
    try:
        if not cached.exists():
            _decompress_to(Path(langid.MODEL_DIR) / langid.MODEL_FILE, cached)
            _remove_other_copies(cached)
        if cached.stat().st_uid != os.getuid():
            return  # the temp dir is shared: a copy another user made is not read (py3langid's own is)
        with np.load(cached, allow_pickle=False) as data:
            identifier = langid.LanguageIdentifier(
                np.asarray(data["ptc"]),
                np.asarray(data["pc"]),
                data["classes"].tolist(),
                modelio._to_array(data["nextmove"]),
                data["out_feat"].tolist(),
                tk_row=modelio._to_array(data["nextmove_row"]),
            )
    except (OSError, KeyError, ValueError, AttributeError):
        return  # py3langid loads its own model on first use, just more slowly
    langid.IDENTIFIER = identifier


def _decompress_to(source: Path, target: Path) -> None:
    import lzma
    import shutil

    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out, lzma.open(source) as src:
            shutil.copyfileobj(src, out, length=1 << 20)
        os.replace(partial, target)  # atomic: concurrent processes never read half a file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def _remove_other_copies(kept: Path) -> None:
    """Delete this user's copies of other py3langid versions: 68 MB each, never read again."""
    for copy in kept.parent.glob(f"{LANGID_COPY_PREFIX}*.npz"):
        with contextlib.suppress(OSError):
            if copy != kept and copy.stat().st_uid == os.getuid():
                copy.unlink()


def detect_language(text: str, declared: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``; ``declared`` wins when the text is too short to judge."""
    declared = normalize_tag(declared)
    sample = text[:DETECT_SAMPLE_CHARS]
    if not _has_letters(sample, MIN_DETECT_CHARS):
        return declared
    load_identifier()
    detected, _score = py3langid.classify(sample)
    return str(detected)


def _has_letters(text: str, count: int) -> bool:
    """Whether ``text`` has at least ``count`` letters (stops reading once it has)."""
    for char in text:
        if char.isalpha():
            count -= 1
            if count <= 0:
                return True
    return False
