"""The local server every fetch test talks to (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fetch.servers import MAX_BYTES, Server, serving


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serving(huge_bytes=4 * MAX_BYTES) as running:
        yield running
