"""The one place trafilatura's extraction is called: tree in, our ``Article`` out.

trafilatura returns ``None`` for every kind of failure; here "nothing found" becomes an empty
body with the warning ``no-main-content`` (never a ``None`` crossing a stage boundary). The
metadata comes from our ``metadata`` stage, run first on the same tree.
A fresh ``Extractor`` is built for every call and deduplication is off, so no state is carried
from one page to the next (trafilatura#840, #925: not thread-safe; we run one page per process).

trafilatura's default (non-fast) cascade already runs readability on the page and throws its
answer away when it keeps its own. ``extract_candidates`` keeps that answer (converted to the same
XML vocabulary, when it may hold prose trafilatura's lacks) and its text: the candidate blocks and
features of ``blocks`` come from both, and the comparison costs no second readability pass.

Before extraction, blocks a reader never sees (``hidden``, hidden paragraphs) leave the tree and
are recorded as ``hidden`` removals.
"""

from __future__ import annotations

import logging
from copy import copy
from dataclasses import dataclass, field
from typing import Any

import lxml.html
import trafilatura.core as trafilatura_core
import trafilatura.external as trafilatura_external
import trafilatura.htmlprocessing as trafilatura_htmlprocessing
import trafilatura.main_extractor as trafilatura_main_extractor
import trafilatura.xpaths as trafilatura_xpaths
from lxml import etree
from lxml.etree import XPath
from trafilatura import bare_extraction
from trafilatura.settings import Extractor
from trafilatura.xml import delete_element

from service.models import Article, Options, Removed
from service.pipeline import blocks
from service.pipeline import metadata as metadata_stage
from service.pipeline.baseline_lines import baseline_in_block_lines
from service.pipeline.blocks import ReadabilityView
from service.pipeline.content_selectors import EQUIVALENTS
from service.pipeline.justext_paragraphs import ParagraphMakerKeepingSpaces
from service.pipeline.library_swaps import (
    nested_elements_with_custom_unwrapped,
    node_trimming_layout,
    preformatted_quote,
    prune_html_keeping_block_edges,
    quote_keeping_rendition,
    rendition_and_start,
    strip_tags_keeping_block_edges,
    swapped,
    swapped_items,
    textnode_trimming_layout,
)

# The quote trafilatura makes of a ``<pre>`` marked as such, in its body and readability's
# (``library_swaps.preformatted_quote``).
_PREFORMATTED_QUOTES = {("CONVERSIONS", "pre"): preformatted_quote}

# trafilatura logs every discarded page at WARNING; the service reports that as a warning code.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

# favor=precision is the fast path: trafilatura's fast cascade (fast=True: no readability/jusText
# comparison, so no readability candidate for ``blocks`` either) and dates from the fast search only.
# Measured in one run (bench/quality.py --favor precision, 2026-11-28):
#   trafilatura set  P 0.945  R 0.903  F1 0.924  (full cascade: P 0.945 R 0.921 F1 0.933, 1.39x)
#   mozilla set      P 0.981  R 0.864  F1 0.919  (full cascade: P 0.988 R 0.914 F1 0.949, 1.55x)
# against trafilatura's default P 0.907 / 0.974: as precise or more, at about its time per page.
# The comparison still runs when the fast answer is short (``extract_and_compare_when_short``).


# Blocks a reader never sees: the ``hidden`` attribute (HTML: "not relevant"), and paragraphs
# whose inline style hides them. trafilatura's own display:none rule sits behind a guard that
# reverts it when it prunes much (as on short pages). Hidden *containers* (tabs, galleries,
# paywalled full texts, modals) are left to trafilatura: dropping every display:none /
# visibility:hidden element changed 5 pages of the trafilatura set (train +0.0007, held-out
# -0.0010: slideshow sections and tab panels are content there); this narrower rule changes no
# page there and fixes mozilla's hidden-nodes page (F1 0.48 -> 1.0, shingle F1 +0.006).
_HIDDEN = XPath(
    "//*[@hidden]"
    " | //p[@style][contains(translate(@style, ' ', ''), 'display:none')"
    " or contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)


# The collapse guard of the hidden rule (issue 22): an element holding at least this share of the
# page's text is the page's main wrapper, hidden until its scripts run, not clutter; it stays.
MAX_HIDDEN_SHARE = 0.5


def drop_hidden(tree: lxml.html.HtmlElement) -> list[Removed]:
    """Remove the hidden blocks of ``tree`` (in place), returning them as ``hidden`` removals."""
    removed: list[Removed] = []
    page_chars: int | None = None  # counted on the first hidden element: most pages have none
    for element in _HIDDEN(tree):
        if element.tag in {"html", "head", "body"} or element.getparent() is None:
            continue
        text = " ".join(element.text_content().split())
        if page_chars is None:
            page = tree.find("body")
            page_chars = len(" ".join((page if page is not None else tree).text_content().split()))
        if len(text) >= MAX_HIDDEN_SHARE * page_chars:
            continue
        element.drop_tree()  # keeps the tail text, which is visible
        if text:
            removed.append(Removed(text=text, reason="hidden"))
    return removed


# A baseline rescue shorter than this is noise (a cookie line, a lone heading), not an article.
MIN_BASELINE_CHARS = 80


@dataclass
class Candidates:
    """trafilatura's answer and, when it ran and was not chosen, readability's."""

    article: Article
    readability: ReadabilityView = field(default_factory=ReadabilityView)
    date_url: str | None = None  # where ``metadata_dates.find_publication_date`` reads dates from


# The readability summaries trafilatura computed during the current call, first one first (a
# recall retry may run a second comparison on a pruned tree: only the first is on the full page).
_readability_runs: list[lxml.html.HtmlElement] = []
_original_try_readability = trafilatura_external.try_readability


def _recording_try_readability(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    summary = _original_try_readability(tree)
    _readability_runs.append(summary)
    return summary


# Module attribute patched once at import: compare_extraction looks the name up at call time.
trafilatura_external.try_readability = _recording_try_readability  # type: ignore[assignment]


def extract_candidates(
    tree: lxml.html.HtmlElement, url: str | None, options: Options, with_readability: bool = True
) -> Candidates:
    """trafilatura's article plus (``with_readability``) readability's body when trafilatura
    computed and rejected it."""
    hidden = drop_hidden(tree)
    metadata, date_url = metadata_stage.extract_metadata(tree, url)
    extractor = Extractor(
        # Any format but "python": bare_extraction then skips rendering the body as text, which
        # we do ourselves after cleaning (one xmltotxt pass less per page). The format is read
        # nowhere else in bare_extraction.
        output_format="txt",
        precision=options.favor == "precision",
        fast=options.favor == "precision",
        recall=options.favor == "recall",
        comments=options.comments,
        # Emphasis markup is only needed to render Markdown or HTML. Without it trafilatura is
        # ~1.8 ms/page faster (mozilla set, 24.5 -> 22.7 ms) and its choice of text changes on
        # ~40 % of pages; same-run F1 with / without: trafilatura set 0.9390 / 0.9404 (train
        # 0.9382 / 0.9399, held-out 0.9425 / 0.9426), mozilla 0.9755 / 0.9754. So ``text`` can
        # differ slightly when Markdown or HTML is requested too.
        formatting=needs_formatting(options),
        links=options.links,
        images=options.images,
        tables=options.tables,
        dedup=False,
        # The page's canonical URL when the caller gave none, as trafilatura does with its own
        # metadata (it resolves links and images against it).
        url=metadata.url,
        # Metadata is ours (``metadata``): the same steps with faster XPaths.
        with_metadata=False,
    )
    _readability_runs.clear()
    # trafilatura's pruning with an equivalent, faster ancestor test, and its content XPaths with
    # equivalents that select the same elements without regex callbacks (content_selectors), for
    # our call only (see library_swaps): same answers on all 1,045 bench pages, in all three
    # favor modes.
    with (
        swapped(trafilatura_main_extractor, "prune_unwanted_nodes", prune_unwanted_nodes),
        swapped(trafilatura_main_extractor, "strip_tags", strip_tags_keeping_block_edges),
        swapped(trafilatura_htmlprocessing, "prune_html", prune_html_keeping_block_edges),
        swapped(trafilatura_main_extractor, "update_elem_rendition", rendition_and_start),
        swapped(trafilatura_main_extractor, "handle_textnode", textnode_trimming_layout),
        swapped(trafilatura_main_extractor, "process_node", node_trimming_layout),
        swapped(trafilatura_main_extractor, "process_nested_elements", nested_elements_with_custom_unwrapped),
        swapped(trafilatura_external, "ParagraphMaker", ParagraphMakerKeepingSpaces),
        swapped(trafilatura_main_extractor, "handle_quotes", quote_keeping_rendition),
        swapped(trafilatura_core, "baseline", baseline_in_block_lines),
        swapped(trafilatura_core, "_extract_and_compare", extract_and_compare_when_short),
        swapped_items(trafilatura_htmlprocessing, _PREFORMATTED_QUOTES),
        swapped_items(trafilatura_xpaths, EQUIVALENTS),
    ):
        document = bare_extraction(tree, options=extractor)
    if document is None or isinstance(document, dict):
        body = _baseline_body(tree)
        article = Article(
            metadata=metadata,
            body=body if body is not None else etree.Element("body"),
            warnings=["no-main-content" if body is None else "fallback-extraction"],
            removed=hidden,
        )
        return Candidates(article, date_url=date_url)
    comments_body = document.commentsbody if options.comments else None
    article = Article(metadata=metadata, body=document.body, comments_body=comments_body, removed=hidden)
    with swapped_items(trafilatura_htmlprocessing, _PREFORMATTED_QUOTES):  # readability's, converted here
        readability = _readability_view(document.body, extractor) if with_readability else ReadabilityView()
    _readability_runs.clear()
    return Candidates(article, readability, date_url)


def extract_and_compare_when_short(
    cleaned_tree: lxml.html.HtmlElement,
    cleaned_tree_backup: lxml.html.HtmlElement,
    tree: lxml.html.HtmlElement,
    options: Extractor,
) -> tuple[etree._Element, str]:
    """trafilatura.core._extract_and_compare (2.3.1, cascade stages 1-2): its main extractor, then
    its comparison with readability and jusText, which the fast cascade (favor=precision) skips
    unless the main extractor's text is shorter than trafilatura's own ``MIN_EXTRACTED_SIZE``, the
    test by which the comparison calls jusText and the cascade its baseline rescue. Fast alone
    collapsed where the main extractor keeps a clutter line or nothing of an article it cannot
    see (prose in ``<div>``s: one 100-character line of a 50 KB story; mozilla set, 3 pages 0.3
    or more below trafilatura), as trafilatura's own fast precision mode does. The rest is
    trafilatura's code."""
    body, text = trafilatura_main_extractor.extract_content(cleaned_tree, options)
    if not options.fast or len(text) < options.min_extracted_size:
        body, text = trafilatura_external.compare_extraction(cleaned_tree_backup, copy(tree), body, text, options)
    return body, text


def prune_unwanted_nodes(
    tree: lxml.html.HtmlElement, nodelist: list[XPath], with_backup: bool = False
) -> lxml.html.HtmlElement:
    """trafilatura.htmlprocessing.prune_unwanted_nodes (2.3.1). Its ``with_backup`` branch found the
    outermost matches by walking every match's ancestors (``any(a in matches for a in
    elem.iterancestors())``): matches x depth element objects, 18 ms of 52 on one long page in
    favor=precision. Here each ancestor's answer is remembered, so shared ancestors are walked
    once; the rest is trafilatura's code."""
    if not with_backup:
        return trafilatura_htmlprocessing.prune_unwanted_nodes(tree, nodelist)
    matches = dict.fromkeys(elem for expression in nodelist for elem in expression(tree))
    inside: dict[lxml.html.HtmlElement, bool] = {}  # non-matched element -> has a matched ancestor
    outer = [elem for elem in matches if not _has_matched_ancestor(elem, matches, inside)]
    old_len = len(tree.text_content())
    if old_len - sum(len(elem.text_content()) for elem in outer) > old_len / 7:
        for elem in outer:
            delete_element(elem)
    return tree


def _has_matched_ancestor(
    elem: lxml.html.HtmlElement, matches: dict[Any, None], inside: dict[lxml.html.HtmlElement, bool]
) -> bool:
    walked = []
    node = elem.getparent()
    found = False
    while node is not None:
        if node in matches:
            found = True
            break
        known = inside.get(node)
        if known is not None:
            found = known
            break
        walked.append(node)
        node = node.getparent()
    for node in walked:  # none of them is a match: their answer is the one found above them
        inside[node] = found
    return found


def needs_formatting(options: Options) -> bool:
    """Whether the body must keep emphasis and other inline formatting (Markdown, HTML)."""
    return "markdown" in options.formats or "html" in options.formats


def _readability_view(chosen: etree._Element, extractor: Extractor) -> ReadabilityView:
    """What readability said: not run, chosen by trafilatura, or its text and (when it may hold
    prose trafilatura lacks) its summary in trafilatura's vocabulary."""
    if not _readability_runs:
        return ReadabilityView()
    summary = _readability_runs[0]
    _readability_runs.clear()
    # trafilatura converts the chosen summary in place: the body then is (or holds) that tree.
    if summary is chosen or summary.getroottree().getroot() is chosen.getroottree().getroot():
        return ReadabilityView(ran=True, chosen=True)
    text = " ".join(summary.itertext())
    if not text.strip():
        return ReadabilityView(ran=True)
    if not blocks.may_lack_prose(chosen, summary):
        return ReadabilityView(ran=True, text=text)  # no block to add: spare the conversion (~1 ms/page)
    body, _text = trafilatura_external.sanitize_tree(summary, extractor)
    body.tag = "body"
    return ReadabilityView(ran=True, text=text, body=body)


def _baseline_body(tree: lxml.html.HtmlElement) -> etree._Element | None:
    body, text, _length = baseline_in_block_lines(tree)
    if len(text.strip()) < MIN_BASELINE_CHARS:
        return None
    return body
