"""Page metadata (HTML mode): title, authors, date, site name, URL, description, categories,
tags, image, declared language.

This is trafilatura's ``extract_metadata``, step for step and with its own helpers, with three
differences:

- Its title, author, category and tag XPaths (``re:test`` on ``class``/``id`` for every element:
  1.2 to 2.7 ms per expression and page, up to ~10 ms a page) are replaced by one pass over the
  page (``metadata_scan``) that selects the same elements, and the author search reads the
  text of its candidates as trafilatura's pruned copy would have it, without copying the tree.
- The license is not searched for: the answer has no license field.
- Our own corrections follow: the page's spelling of author names, and ``<meta name="author">``
  when trafilatura finds none.

The date is searched separately and last (``metadata_dates``).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from courlan import extract_domain
from htmldate import find_date
from trafilatura.baseline import block_text
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    examine_title_element,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_url,
)
from trafilatura.settings import Document
from trafilatura.utils import line_processing, trim

from service.models import Metadata
from service.pipeline import metadata_authors, metadata_scan

logger = logging.getLogger(__name__)


def extract_metadata(tree: lxml.html.HtmlElement, url: str | None) -> tuple[Metadata, str | None]:
    """The page's metadata but its date; ``tree`` is only read. ``url`` (the caller's) wins over
    the page's. Also returns the URL to read dates from (the page's own, as trafilatura does),
    for ``metadata_dates.find_publication_date``.
    """
    scanned = _LazyScan(tree)
    document = _trafilatura_metadata(tree, url, None, scanned)
    metadata = map_metadata(document, url)
    if metadata.authors:
        metadata.authors = restore_author_spelling(metadata.authors, tree, scanned().author_marked)
    metadata.authors = metadata.authors or metadata_authors.page_authors(tree)
    metadata.authors = drop_site_authors(metadata.authors, metadata.sitename, metadata.hostname)
    metadata.title = drop_site_from_title(metadata.title, metadata.sitename, metadata.hostname)
    return metadata, document.url


class _LazyScan:
    """``metadata_scan.scan(tree)`` on first call, then the same answer: many pages never need it."""

    def __init__(self, tree: lxml.html.HtmlElement) -> None:
        self._tree = tree
        self._matches: metadata_scan.MarkupMatches | None = None

    def __call__(self) -> metadata_scan.MarkupMatches:
        if self._matches is None:
            self._matches = metadata_scan.scan(self._tree)
        return self._matches


def _trafilatura_metadata(
    tree: lxml.html.HtmlElement, url: str | None, date_params: dict[str, Any] | None, scanned: _LazyScan | None = None
) -> Document:
    """trafilatura.metadata.extract_metadata (2.3.1) without the license, with ``metadata_scan``;
    without the date when ``date_params`` is None."""
    scanned = scanned or _LazyScan(tree)
    document = examine_meta(tree)
    if document.author and " " not in document.author:
        document.author = None
    try:
        document = extract_meta_json(tree, document)
    except Exception:  # trafilatura guards this call the same way (bugs in its JSON-LD code)
        logger.debug("JSON-LD metadata skipped", exc_info=True)
    document.title = document.title or _extract_title(tree, scanned)
    document.author = document.author or _extract_author(tree, scanned())
    document.url = document.url or extract_url(tree, url)
    if document.url:
        document.hostname = extract_domain(document.url, fast=True)
    if date_params is not None:
        document.date = find_date(tree, **{**date_params, "url": document.url})
    document.sitename = document.sitename or extract_sitename(tree)
    if document.sitename:
        document.sitename = document.sitename.lstrip("@")  # a Twitter handle
        if document.sitename and "." not in document.sitename and not document.sitename[0].isupper():
            document.sitename = document.sitename.title()
    elif document.url and (match := META_URL.match(document.url)):
        document.sitename = match[1]
    document.categories = document.categories or _extract_catstags("category", tree, scanned())
    document.tags = document.tags or _extract_catstags("tag", tree, scanned())
    document.clean_and_trim()
    return document


def _first_text(candidates: list[list[lxml.html.HtmlElement]], len_limit: int = 200) -> str | None:
    """trafilatura.metadata.extract_metainfo over already selected elements."""
    for elements in candidates:
        for element in elements:
            content = trim(" ".join(element.itertext()))
            if content and 2 < len(content) < len_limit:
                return content
    return None


def _extract_title(tree: lxml.html.HtmlElement, scanned: _LazyScan) -> str | None:
    """trafilatura.metadata.extract_title."""
    h1_results = tree.findall(".//h1")
    if len(h1_results) == 1 and (title := block_text(h1_results[0])):
        return str(title)
    if marked_title := _first_text(scanned().title):
        return marked_title
    title, first, second = examine_title_element(tree)
    for candidate in (first, second, title):
        if candidate and "." not in candidate:
            return candidate
    for h1_result in h1_results:
        if h1_title := block_text(h1_result):
            return str(h1_title)
    # Last, the first <h2>, or else the <title> text even with a dot in it.
    if h2_results := tree.xpath(".//h2"):
        title = block_text(h2_results[0])
    return title or None


def _extract_author(tree: lxml.html.HtmlElement, matches: metadata_scan.MarkupMatches) -> str | None:
    """trafilatura.metadata.extract_author: the first byline candidate with a plausible length,
    read as if the discarded blocks (comments, dates, figures, sidebars) were pruned."""
    if matches.has_rel_elements:
        return extract_author(tree)  # see MarkupMatches.has_rel_elements: never on real pages
    discarded = set(matches.author_discard)
    for elements in matches.author:
        for element in elements:
            if element in discarded or any(ancestor in discarded for ancestor in element.iterancestors()):
                continue
            content = trim(metadata_scan.pruned_text(element, discarded))
            if content and 2 < len(content) < MAX_BYLINE_CHARS:
                author: str | None = normalize_authors(None, content)
                return author
    return None


# trafilatura's length limit for a byline's text.
MAX_BYLINE_CHARS = 120


def _extract_catstags(metatype: str, tree: lxml.html.HtmlElement, matches: metadata_scan.MarkupMatches) -> list[str]:
    """trafilatura.metadata.extract_catstags."""
    results: list[str] = []
    link_pattern = re.compile("/" + metatype.rstrip("y") + "(?:y|ies|s)?/")
    containers = matches.category_containers if metatype == "category" else matches.tag_containers
    for expression_containers in containers:
        links = metadata_scan.links_below(expression_containers)
        results.extend(block_text(e) for e in links if link_pattern.search(e.attrib["href"]))
        if results:
            break
    if metatype == "category" and not results:
        results.extend(element.attrib["content"] for element in tree.xpath(_SECTION_META))
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


_SECTION_META = './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'


def map_metadata(document: Any, url: str | None) -> Metadata:
    """trafilatura's Document -> our Metadata, field by field."""
    page_url = url or clean_field(getattr(document, "url", None))
    image = clean_field(document.image)
    hostname = None
    if page_url:
        # The domain of the answer's url, as trafilatura names it (news.example.co.uk ->
        # example.co.uk), not of the page's canonical link when the caller gave another url.
        try:
            hostname = extract_domain(page_url, fast=True) or urlsplit(page_url).hostname
            # og:image "/a.jpg": absolute, as the links are (an absolute address stays as it is).
            image = urljoin(page_url, image) if image else image
        except ValueError:  # "http://[::1/": the front doors refuse it; never a crash here
            hostname = None
    return Metadata(
        title=clean_field(document.title),
        authors=split_authors(document.author),
        date=clean_field(document.date),
        sitename=clean_field(document.sitename),
        hostname=hostname,
        url=page_url,
        language=clean_field(getattr(document, "language", None)),
        description=clean_field(document.description),
        categories=[c for c in (document.categories or []) if c],
        tags=_split_keywords(document.tags or []),
        image=image,
    )


def restore_author_spelling(
    authors: list[str], tree: lxml.html.HtmlElement, marked: list[lxml.html.HtmlElement]
) -> list[str]:
    """trafilatura title-cases author names ("admin" -> "Admin", "danah boyd" -> "Danah Boyd"):
    give back the page's own spelling when a meta author or an author-marked element (``marked``,
    see ``MarkupMatches.author_marked``) has it."""
    spellings: dict[str, str] = {}
    sources = [
        meta.get("content") or ""
        for meta in tree.iter("meta")
        if meta.get("name") in _AUTHOR_META_NAMES or meta.get("property") == "article:author"
    ]
    sources += [text for element in marked for text in element.itertext()]
    for raw in sources:
        for part in metadata_authors.AUTHOR_SEPARATORS.split(raw):
            part = metadata_authors.BY_PREFIX.sub("", " ".join(part.split()))
            if part:
                spellings.setdefault(part.casefold(), part)
    return [spellings.get(name.casefold(), name) for name in authors]


_AUTHOR_META_NAMES = frozenset({"author", "dc.creator"})


def _split_keywords(tags: list[str]) -> list[str]:
    """Tags, a ``<meta name="keywords">`` list ("climate, energy; policy") split into its words."""
    words = (word.strip() for tag in tags if tag for word in _KEYWORD_SEPARATORS.split(tag))
    return list(dict.fromkeys(word for word in words if word))


_KEYWORD_SEPARATORS = re.compile(r"[,;，、]")


def drop_site_authors(authors: list[str], sitename: str | None, hostname: str | None) -> list[str]:
    """Without the authors that name the site itself (``names_site``) when a person's name
    remains: trafilatura takes a JSON-LD author of type Organization, or the site in a byline, as
    one more author ("Heise Online" beside "Dirk Knop"; "The Washington Times https" on
    washingtontimes.com)."""
    if len(authors) < 2:
        return authors
    people = [name for name in authors if not names_site(name, sitename, hostname, holding=True)]
    return people or authors


def drop_site_from_title(title: str | None, sitename: str | None, hostname: str | None) -> str | None:
    """The headline without the site's name (``names_site``) the page put before or after it
    ("Headline - Golem.de", "WELT | Headline"; a meta or JSON-LD title keeps it, trafilatura strips
    it only from <title>)."""
    if not title:
        return title
    title = _without_trailing_separator(title)
    if (last := _LAST_PART.match(title)) and names_site(last["part"], sitename, hostname):
        return last["rest"]
    if (first := _FIRST_PART.match(title)) and names_site(first["part"], sitename, hostname):
        return first["rest"]
    return title


def names_site(name: str, sitename: str | None, hostname: str | None, *, holding: bool = False) -> bool:
    """Whether ``name`` is the site's own, letters and digits compared.

    A title's part (``holding`` False) must be the site name, the host (``golemde``) or the host's
    own label (``heise`` of www.heise.de) itself: a part merely holding it is the headline's ("How
    we designed Dropbox's ATF" on dropbox.tech). An author (``holding``) is the site's when it is
    the site name or holds the host's label of at least ``MIN_SITE_LABEL`` characters ("The
    Washington Times https"); the host alone as an author ("ORF.at") is what some sets' truth
    names as the author, so it stays."""
    squashed = _squash(name)
    if not squashed:
        return False
    site, label = _squash(sitename or ""), _host_label(hostname)
    if holding:
        return squashed == site or (len(label) >= MIN_SITE_LABEL and label in squashed)
    return squashed in {site, label, _squash((hostname or "").casefold().removeprefix("www."))}


_TRAILING_SEPARATOR = re.compile(r"\s+[-–—|·»]\s*$")


def _without_trailing_separator(title: str) -> str:
    """The title without a separator left at its end ("Headline - "), but a "»" that closes a
    "«" stays: French puts a space before it ("… la « gravité de la situation »")."""
    end = _TRAILING_SEPARATOR.search(title)
    if end is None or (end[0].strip() == "»" and title.count("«") >= title.count("»")):
        return title
    return title[: end.start()]


_LAST_PART = re.compile(r"^(?P<rest>.*\S)\s+[-–—|·»]\s+(?P<part>[^-–—|·»]+)$")
_FIRST_PART = re.compile(r"^(?P<part>[^-–—|·»]+?)\s+[-–—|·»]\s+(?P<rest>\S.*)$")

# A host label shorter than this ("bbc", "wdr") could be part of a person's name.
MIN_SITE_LABEL = 5
_NOT_ALNUM = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def _host_label(hostname: str | None) -> str:
    """The host's own label: ``washingtontimes`` of www.washingtontimes.com (the longest label
    but the last, which is the top-level domain)."""
    labels = [label for label in (hostname or "").casefold().split(".")[:-1] if not _WWW.fullmatch(label)]
    return _squash(max(labels, key=len)) if labels else ""


_WWW = re.compile(r"www\d*")


def split_authors(raw: str | None) -> list[str]:
    """trafilatura joins authors with '; '."""
    if not raw:
        return []
    # trafilatura sometimes keeps what follows the name in a byline ("Gravelgreta » Sun Feb"),
    # a label before it ("责任编辑：孔德明", editor in charge), or two names joined by an "and" of a
    # language it does not split on ("A og B"). A placeholder ("Unknown") stays: it is what the
    # page says, as "admin" is.
    names = (_NAME_LABEL.sub("", _NAME_TAIL.split(part)[0]).strip() for part in _NAME_SEPARATORS.split(raw))
    return list(dict.fromkeys(name for name in names if name))


_NAME_TAIL = re.compile(r"\s*[»|·•]")
# "Label: Name" with a short label of letters: "Text: Max Roe", "责任编辑：孔德明".
_NAME_LABEL = re.compile(r"^\s*[^\W\d_][^\W\d_ ]{0,11}\s?[:：]\s*(?=\S)")
# trafilatura's "; ", and "and" in languages its author splitting does not know ("and", "und", "&").
_NAME_SEPARATORS = re.compile(r";|\s+(?:og|och|ja|és|и)\s+")


def clean_field(value: str | None) -> str | None:
    """A metadata string without surrounding whitespace, or None when nothing is left."""
    if value is None:
        return None
    value = value.strip()
    return value or None
