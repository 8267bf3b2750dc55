"""The cleaning pipeline, one stage per module, called in order by ``run``.

HTML:  decode -> parse (+ tree_bounds) -> select (include/exclude) -> extract (+ metadata)
       -> block_model (candidate blocks, the learned keep/drop decision and its collapse guard)
       -> page_order (the kept blocks in the page's order)
       -> sanity -> explain
       -> metadata's date search -> language -> serialize
Text:  decode -> text_mode (its own line classifier) -> language -> serialize
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafilatura.settings import set_date_params

from service.models import Article, Job
from service.pipeline import (
    block_model,
    decode,
    explain,
    extract,
    language,
    library_swaps,
    metadata_dates,
    page_order,
    parse,
    sanity,
    select,
    serialize,
    text_mode,
)


@dataclass(frozen=True)
class Limits:
    """The parse-time limits of ``Settings`` an extraction process needs."""

    max_elements: int = 30_000
    max_depth: int = 180


def warm_up() -> None:
    """Touch every lazy import and cache once, so the first real page is not slow (extraction
    processes call it before they report ready; benchmarks before they time anything)."""
    from htmldate.extractors import month_words
    from trafilatura.external import jt_stoplist_init

    from service.models import Options

    # A date in free text warms htmldate's date search; enough text warms language detection.
    page = b"<html lang='en'><head><title>t</title></head><body><article><p>Posted 3 March 2024</p><p>"
    page += b"Warm up sentence. " * 20 + b"</p></article></body></html>"
    run(Job(mode="html", body=page, options=Options(formats=("text", "markdown", "html"), explain=True)))
    run(Job(mode="text", body=b"Title\n\nWarm up paragraph one. " * 5))
    # Month names of every dateparser locale, loaded on the first date cue without a year or an
    # English month (~140 ms once).
    month_words()
    # jusText's stoplists of every language, loaded on the first extraction shorter than
    # trafilatura's MIN_EXTRACTED_SIZE (~190 ms once; ~15 MB, shared by the forked processes).
    jt_stoplist_init()


def run(job: Job, limits: Limits = Limits()) -> dict[str, Any]:
    """Clean one page and return the response document (without timing).

    Raises:
        ServiceError: the body is not a page (422) or similar client-visible failures.
    """
    # Text comes back as sent: trafilatura must keep ZWNJ/ZWJ and other format characters (issue 24).
    with library_swaps.keeping_format_characters():
        article, text = _run_text(job) if job.mode == "text" else _run_html(job, limits)
        article.metadata.language = language.detect_language(text, article.metadata.language)
        if job.url_ignored:  # the page came with a non-http(s) ``url``: dropped at request parsing
            article.warnings.append("url-ignored")
        return serialize.to_response(article, job.options, text)


def _run_html(job: Job, limits: Limits) -> tuple[Article, str]:
    """The cleaned article and its body rendered as plain text."""
    html, _charset, warnings = decode.decode(job.body, job.declared_charset, is_html=True)
    if "<" not in html:
        # Labelled HTML but holds no markup at all: plain text is what it is.
        article = text_mode.clean_text(html, job.options, job.url)
        article.warnings[:0] = [*warnings, "no-markup-treated-as-text"]
        return article, _rendered_text(article)
    page = parse.parse_html(html, limits.max_elements, limits.max_depth)
    page.warnings += select.apply_selectors(page.tree, job.options)
    # favor=precision wants less text, not more: no readability candidate (nor its cost) there.
    with_readability = job.options.favor != "precision"
    candidates = extract.extract_candidates(page.tree, job.url, job.options, with_readability=with_readability)
    article = candidates.article
    article.warnings[:0] = warnings + page.warnings
    article.metadata.language = article.metadata.language or page.tree.get("lang")
    block_model.decide(article, candidates.readability, job.options)
    page_order.restore(article.body, page.tree)
    serialize.unwrap_layout_tables(article.body)
    # Not a quality rule (it changes no page of the benchmark sets, all articles): the contract
    # that a page of nothing but navigation answers no-main-content, which the model cannot see
    # (trafilatura's body is then bare text, no block).
    text = sanity.check_answer(page.tree, article)
    if job.options.explain:
        article.removed.extend(explain.dropped_blocks(page.tree, article))
    # Last: the date search prunes the page's tree in place. favor=precision skips the fallback.
    article.metadata.date = metadata_dates.find_publication_date(
        page.tree,
        candidates.date_url,
        set_date_params(metadata_dates.EXTENSIVE_DATE_SEARCH),
        fallback=job.options.favor != "precision",
    )
    return article, text


def _run_text(job: Job) -> tuple[Article, str]:
    text, _charset, warnings = decode.decode(job.body, job.declared_charset, is_html=False)
    article = text_mode.clean_text(text, job.options, job.url)
    article.warnings[:0] = warnings
    return article, _rendered_text(article)


def _rendered_text(article: Article) -> str:
    """The plain-text mode's body as text; ``no-main-content`` when every line was clutter, as
    for an HTML page."""
    text = serialize.render_text(article.body)
    if not text:
        article.warnings.append("no-main-content")
    return text
