"""``Slots``: how many of one ``AsyncClient``'s calls are at the server at once, a bound that
follows the server's 429s.

A fixed bound above what the server admits starved the calls it refused: a call waiting to retry
keeps its slot, but every slot a finished call gave back went at once to a fresh call, which took
the server's freed place; the refused call found the server full at each retry until the fresh
calls ran out, and a gather longer than its ~30 s of retries lost pages (600 pages on an idle
2-core server, or 100 on a loaded one). So a 429 lowers the bound by one: the freed place stays
free for the call that was refused. Successes raise it again, one step per full round of calls
while no refused call waits (raised sooner, the place went to a fresh call again), back to
``ceiling``: a 429 caused by another client's burst does not shrink this one for good.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Slots:
    """An async context manager holding one slot; ``ceiling`` ``None`` bounds nothing."""

    def __init__(self, ceiling: int | None) -> None:
        self.ceiling = ceiling
        self.limit = ceiling  # the bound now: ``ceiling`` lowered by 429s, raised by successes
        self.held = 0
        self.refused = 0  # calls answered 429 that have not been taken or given up yet
        self._successes = 0  # since the bound last moved
        self._freed = asyncio.Condition()

    def overloaded(self, again: bool) -> None:
        """The server refused a call (429; ``again``: the same call before): it admits fewer
        than this client sends."""
        self.refused += not again
        if self.limit is not None:
            self.limit = max(1, self.limit - 1)
            self._successes = 0

    def settled(self) -> None:
        """A call refused before was taken, or gave up."""
        self.refused -= 1

    def succeeded(self) -> None:
        """The server took a call: after ``limit`` of them in a row with no refused call
        waiting, one slot more (up to ``ceiling``)."""
        if self.limit is None or self.ceiling is None or self.limit >= self.ceiling or self.refused:
            return
        self._successes += 1
        if self._successes >= self.limit:
            self.limit, self._successes = self.limit + 1, 0

    async def __aenter__(self) -> None:
        async with self._freed:
            await self._freed.wait_for(lambda: self.limit is None or self.held < self.limit)
            self.held += 1

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        async with self._freed:
            self.held -= 1
            # A raised bound may free more than the slot given back.
            self._freed.notify(1 if self.limit is None else max(1, self.limit - self.held))
