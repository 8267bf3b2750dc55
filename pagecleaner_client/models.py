"""The typed answers: an ``Article`` (one page's answer) and an ``ItemResult`` (one batch line's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pagecleaner_client.errors import ProblemError, error_for


@dataclass(frozen=True)
class Removed:
    """A block the cleaner dropped (``explain=True``), with its reason code."""

    text: str
    reason: str

    @classmethod
    def from_json(cls, block: dict[str, Any]) -> Removed:
        return cls(text=str(block.get("text", "")), reason=str(block.get("reason", "")))


@dataclass(frozen=True)
class Article:
    """One page's answer (README, "The answer"); ``raw`` is the JSON object as the server sent it.

    ``markdown``, ``html``, ``comments`` and ``removed`` are ``None`` unless asked for (``format``,
    ``comments=True``, ``explain=True``). Fields a newer server adds are in ``raw``.
    """

    text: str
    url: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    sitename: str | None = None
    hostname: str | None = None
    language: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    word_count: int = 0
    warnings: list[str] = field(default_factory=list)
    timing_ms: float = 0.0
    markdown: str | None = None
    html: str | None = None
    comments: str | None = None
    removed: list[Removed] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Article:
        """The article of an answer object (unknown keys stay in ``raw`` only)."""
        removed = document.get("removed")
        return cls(
            text=str(document.get("text", "")),
            url=document.get("url"),
            title=document.get("title"),
            authors=list(document.get("authors") or []),
            date=document.get("date"),
            sitename=document.get("sitename"),
            hostname=document.get("hostname"),
            language=document.get("language"),
            description=document.get("description"),
            categories=list(document.get("categories") or []),
            tags=list(document.get("tags") or []),
            image=document.get("image"),
            word_count=int(document.get("word_count") or 0),
            warnings=list(document.get("warnings") or []),
            timing_ms=float(document.get("timing_ms") or 0.0),
            markdown=document.get("markdown"),
            html=document.get("html"),
            comments=document.get("comments"),
            removed=None if removed is None else [Removed.from_json(block) for block in removed],
            raw=document,
        )


@dataclass(frozen=True)
class ItemResult:
    """One batch item's outcome, in input order: its ``id`` and either ``article`` or ``error``."""

    id: Any
    article: Article | None = None
    error: ProblemError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> Article:
        """The article, or raise the item's error.

        Raises:
            ProblemError: the item failed (``RequestRejectedError`` or ``ServiceUnavailableError``).
        """
        if self.error is not None:
            raise self.error
        assert self.article is not None  # built with one of the two
        return self.article

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ItemResult:
        """One line of ``POST /v1/extract/batch``: ``{"id", ...answer}`` or ``{"id", "error": problem}``."""
        item_id = document.get("id")
        problem = document.get("error")
        if isinstance(problem, dict):
            return cls(item_id, error=error_for(int(problem.get("status") or 500), problem))
        answer = {key: value for key, value in document.items() if key != "id"}
        return cls(item_id, article=Article.from_json(answer))
