"""Library internals the pipeline replaces during one of its own calls, and the helper that does it.

Each swap holds only inside a ``with swapped(...)`` block of our code, so trafilatura and htmldate
called directly (the quality bench's anchor, another library user) keep their own behaviour. It
is safe because an extraction process handles one page at a time (no other thread runs those
libraries meanwhile). The versions are pinned; re-check every entry on an upgrade:

- ``htmldate.core.deepcopy``: the date search prunes our tree in place (``metadata``).
- ``htmldate.extractors._external_date``: no dateparser in the fallback date search (``metadata``).
- ``trafilatura.main_extractor.prune_unwanted_nodes``: a faster equivalent (``extract``).
- Twelve of ``trafilatura.xpaths``' content expressions (BODY_XPATH, OVERALL_DISCARD_XPATH, ...):
  Python equivalents without regex callbacks (``content_selectors``, swapped in by ``extract``).

One more is permanent, set at import by ``extract``: ``trafilatura.external.try_readability``
records readability's answer (behaviour unchanged) so ``blocks`` can reuse it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any


@contextmanager
def swapped(module: ModuleType, name: str, replacement: object) -> Iterator[None]:
    """``module.<name>`` is ``replacement`` inside the block (library modules look names up at
    call time), and the original again afterwards, whatever happens."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def swapped_items(module: ModuleType, replacements: Mapping[tuple[str, int], object]) -> Iterator[None]:
    """``module.<list>[index]`` is the replacement inside the block, for each ``(list, index)``
    key: the lists are shared by every module that imported them, so their users see the swap."""
    originals: list[tuple[list[Any], int, object]] = []
    try:
        for (name, index), replacement in replacements.items():
            items = getattr(module, name)
            originals.append((items, index, items[index]))
            items[index] = replacement
        yield
    finally:
        for items, index, original in reversed(originals):
            items[index] = original
