"""Post-extraction clutter removal on trafilatura's body (HTML mode). Placeholder: no rules yet."""

from __future__ import annotations

from service.models import Article, Options


def clean_article(article: Article, options: Options) -> None:
    """Remove clutter blocks from ``article.body`` in place, recording each in ``article.removed``."""
    del article, options
