"""Which site a development page belongs to, and grouped K-fold splits that keep sites whole.

Used by both validation protocols (``bench/crossval.py`` for the HTML block model,
``scripts/train_text_model.py --cv`` for the text mode) and by their inner folds. Pages of one site
share templates (menus, footers, teaser lists): a split by page would let a model learn a site's
furniture on some of its pages and be scored on others. So folds hold whole sites, and a site that
appears in two sets (bbc.com in the trafilatura set and BBC in fundus) is one group.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import numpy as np

from bench import metrics

FOLDS = 5
BOOTSTRAP_DRAWS = 1000
# trafilatura's "hard::<file>" pages name their site in the file name: "<host>-<slug>.html".
_HARD_FILE = re.compile(r"^(?:hard::)?(?P<host>[^-]+?)(?:-.*)?\.html?$")
# Readability.js test pages of one site are numbered: "nytimes-2", "wikipedia-3".
_NUMBERED = re.compile(r"-\d+$")
# An archived page's site is the archived URL's: "https://web.archive.org/web/<time>/<url>".
_ARCHIVED = re.compile(r"^https?://web\.archive\.org/web/[^/]+/(?P<url>.+)$")


class SitePage(Protocol):
    """What the split needs of a page: its set, its id and its truth record (url, meta)."""

    @property
    def set_name(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def truth(self) -> Mapping[str, Any]: ...


def site_keys(page_id: str, truth: Mapping[str, Any]) -> set[str]:
    """What ties a page to its site: hostname (no "www."), fundus publisher; else the page id."""
    keys = set()
    url = truth.get("url")
    meta = truth.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    if isinstance(url, str):
        if archived := _ARCHIVED.match(url):
            url = archived["url"] if "://" in archived["url"] else f"http://{archived['url']}"
        if url.startswith("hard::"):
            if match := _HARD_FILE.match(url):
                keys.add(match["host"].lower().removeprefix("www."))
        elif host := urlsplit(url).hostname:
            keys.add(host.lower().removeprefix("www."))
    if not keys and isinstance(meta.get("file"), str) and (match := _HARD_FILE.match(meta["file"])):
        keys.add(match["host"].lower().removeprefix("www."))
    if isinstance(meta.get("publisher"), str):
        keys.add(f"publisher:{meta['publisher']}")
    if not keys:
        # No URL (the Readability.js pages): the id without its number groups "medium-1".."medium-3".
        keys.add(f"id:{_NUMBERED.sub('', page_id)}")
    return keys


def site_groups(pages: Sequence[SitePage]) -> list[int]:
    """A group number per page: pages sharing any site key (across sets) are one group (union-find)."""
    parent = list(range(len(pages)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, page in enumerate(pages):
        for key in sorted(site_keys(page.id, page.truth)):
            if key in first:
                parent[root(i)] = root(first[key])
            else:
                first[key] = i
    roots: dict[int, int] = {}
    return [roots.setdefault(root(i), len(roots)) for i in range(len(pages))]


def set_folds(pages: Sequence[SitePage]) -> list[int]:
    """One fold per set (sets in name order): each set answered by a model of the others, the
    harder hold-out (``--by-set`` of both protocols)."""
    names = sorted({page.set_name for page in pages})
    return [names.index(page.set_name) for page in pages]


def assign_folds(pages: Sequence[SitePage], k: int = FOLDS) -> list[int]:
    """Grouped K-fold: whole site groups, largest first, each to the fold where its sets are least full.

    Deterministic (no seed): ties go to the lower fold; each set ends up spread evenly over the folds.
    """
    groups = site_groups(pages)
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    set_sizes: dict[str, int] = defaultdict(int)
    for page in pages:
        set_sizes[page.set_name] += 1
    load: list[dict[str, float]] = [defaultdict(float) for _ in range(k)]
    folds = [0] * len(pages)
    for g in sorted(members, key=lambda g: (-len(members[g]), min(members[g]))):
        share: dict[str, float] = defaultdict(float)
        for i in members[g]:
            share[pages[i].set_name] += 1 / set_sizes[pages[i].set_name]
        best = min(range(k), key=lambda f: (sum(load[f][s] + v for s, v in share.items()), f))
        for s, v in share.items():
            load[best][s] += v
        for i in members[g]:
            folds[i] = best
    return folds


def feature_columns(names: Sequence[str], prefixes: Sequence[str]) -> list[int]:
    """The columns a ``--drop-features PREFIX ...`` run zeroes: names starting with a prefix (so a
    feature's neighbour copies, ``log_words@-1``, go with it); the prefix ``@`` picks every
    neighbour column."""
    return [
        i for i, name in enumerate(names) if any(name.startswith(p) or (p == "@" and "@" in name) for p in prefixes)
    ]


Model = TypeVar("Model")
# The fit a forked worker runs: set by ``fit_per_fold`` before the pool forks, so the workers
# inherit it with the data it closes over (nothing large is pickled, only the indices and models).
_FIT: Callable[[list[int]], Any] | None = None


def _forked_fit(indices: list[int]) -> Any:
    assert _FIT is not None
    return _FIT(indices)


def fit_per_fold(
    fit: Callable[[list[int]], Model], folds: Sequence[int], workers: int = 1
) -> tuple[list[Model], Model]:
    """``fit`` on the indices outside each fold, and on all indices (the in-sample model), in
    ``workers`` forked processes at a time. Each fit is deterministic, so the models are the same
    as fitted one after the other; on 2 cores the six fits of a 5-fold CV take three rounds, not six."""
    n_folds = max(folds) + 1
    tasks = [list(range(len(folds)))] + [[i for i, f in enumerate(folds) if f != k] for k in range(n_folds)]
    if workers <= 1:
        models = [fit(task) for task in tasks]
    else:
        global _FIT
        _FIT = fit
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(tasks))) as pool:
                models = pool.map(_forked_fit, tasks, chunksize=1)
        finally:
            _FIT = None
    return models[1:], models[0]


def site_bootstrap(
    pages: Sequence[SitePage],
    answers: Sequence[str],
    baseline: Sequence[str] | None = None,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Per set, the 95 % interval of the set's F1 (or, with ``baseline``, of F1 minus the
    baseline's on the same draw) when whole sites are drawn with replacement: pages of one site
    share a template, so they are not independent draws. Both protocols report it."""
    rng = np.random.default_rng(seed)
    groups = site_groups(pages)
    by_set: dict[str, list[int]] = {}
    for i, page in enumerate(pages):
        by_set.setdefault(page.set_name, []).append(i)
    result = {}
    for set_name, idx in by_set.items():
        by_site: dict[int, list[int]] = {}
        for i in idx:
            by_site.setdefault(groups[i], []).append(i)
        members = list(by_site.values())
        chosen = [pages[i] for i in idx]
        scorers = [set_f1(chosen, [a[i] for i in idx]) for a in (answers, baseline) if a is not None]
        position = {i: k for k, i in enumerate(idx)}
        values = []
        for _ in range(draws):
            drawn = [position[i] for s in rng.integers(0, len(members), len(members)) for i in members[s]]
            scores = [score(drawn) for score in scorers]
            values.append(scores[0] - (scores[1] if len(scores) > 1 else 0.0))
        low, high = np.percentile(values, [2.5, 97.5])
        result[set_name] = (float(low), float(high))
    return result


def set_f1(pages: Sequence[SitePage], outputs: Sequence[str]) -> Callable[[Sequence[int]], float]:
    """The set's F1 over a multiset of its pages (positions), the per-page counts computed once:
    shingle F1 for a text truth, snippet F1 for snippets (the reference scorer's metrics)."""
    if pages[0].truth.get("text") is not None:
        counts = [metrics.shingle_counts(p.truth["text"], o) for p, o in zip(pages, outputs, strict=True)]
        return lambda drawn: float(metrics.shingle_scores([counts[k] for k in drawn], [])["f1"])
    snippets = [
        metrics.snippet_counts(p.truth.get("with") or [], p.truth.get("without") or [], o)
        for p, o in zip(pages, outputs, strict=True)
    ]
    return lambda drawn: float(metrics.snippet_scores(snippets[k] for k in drawn)["f1"])


def report_intervals(
    pages: Sequence[SitePage], answers: Sequence[str], save_to: Path | None = None, against: Path | None = None
) -> dict[str, tuple[float, float]]:
    """Print each set's site interval; save the answers (JSON by ``set/id``) for a later run's
    ``against``, and print the paired interval of the difference from ``against``'s answers."""
    intervals = site_bootstrap(pages, answers)
    print("CV F1, 95 % interval over sites: " + "; ".join(f"{k} {a:.4f}-{b:.4f}" for k, (a, b) in intervals.items()))
    keys = [f"{p.set_name}/{p.id}" for p in pages]
    if save_to is not None:
        save_to.write_text(json.dumps(dict(zip(keys, answers, strict=True))) + "\n", encoding="utf-8")
    if against is not None:
        other = json.loads(against.read_text(encoding="utf-8"))
        paired = site_bootstrap(pages, answers, [other[k] for k in keys])
        cells = "; ".join(f"{k} {a:+.4f} to {b:+.4f}" for k, (a, b) in paired.items())
        print(f"minus --against, 95 % interval over sites: {cells}")
    return intervals
