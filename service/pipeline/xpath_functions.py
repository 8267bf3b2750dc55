"""XPath functions as Python, for the modules that evaluate trafilatura's XPath expressions in
Python (``metadata_scan``, ``content_selectors``): same answers, no callbacks from libxml2."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html


def regex_test(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    """EXSLT ``re:test(value, pattern)`` (``flags=re.IGNORECASE`` for its ``'i'``), as lxml runs
    it: ``re.compile(pattern, re.UNICODE)`` and ``search`` (re.UNICODE is Python's default for
    str patterns)."""
    compiled = re.compile(pattern, flags)
    return lambda value: compiled.search(value) is not None


def first_attribute(elem: lxml.html.HtmlElement, first: str, second: str) -> str:
    """The string value of ``@first|@second``: the attribute written first in the source, or ''
    (a node-set's string value is its first node's, in document order)."""
    value_1: str | None = elem.get(first)
    value_2: str | None = elem.get(second)
    if value_1 is None:
        return value_2 or ""
    if value_2 is None:
        return value_1
    for name in elem.keys():  # noqa: SIM118 (iterating an element yields its children)
        if name == first:  # lxml lists attributes in source order
            return value_1
        if name == second:
            return value_2
    return value_1  # not reached: both are attributes of elem
