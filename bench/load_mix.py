"""The page mix of ``bench/load.py`` and its in-process baselines (no server needed).

The pages a load run posts (the project's fixtures plus a deterministic sample of the dataset
folders) and the in-process extractors (``service.pipeline.run``, trafilatura's ``extract``) run
on them: a sequential pass for per-page times and mix weights, and forked workers for pages/s.
Separate from ``bench/load.py`` because it is the bottom layer: nothing here starts or talks to the
service, and ``bench/compare_serving.py`` uses it too.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED_BENCH = ROOT.parent / "shared" / "bench"
DEFAULT_DATASETS = (SHARED_BENCH / "mozilla-readability", SHARED_BENCH / "trafilatura")
SEQUENTIAL_REPEATS = 3  # per-page in-process time = median of this many calls
HTML_TYPE = "text/html"
TEXT_TYPE = "text/plain; charset=utf-8"


# --- the page mix --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixPage:
    name: str
    body: bytes
    content_type: str
    url: str | None

    @property
    def as_text(self) -> bool:
        return self.content_type.startswith("text/plain")

    def target(self, path: str = "/v1/extract") -> str:
        return path + (f"?{urlencode({'url': self.url})}" if self.url else "")


def fixture_pages(root: Path = FIXTURES) -> list[MixPage]:
    """The project's fixtures as a client posts them (content type and url from request.json)."""
    pages = []
    for case in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        inputs = sorted(case.glob("input.*"))
        if len(inputs) != 1:
            continue
        request_file = case / "request.json"
        request = json.loads(request_file.read_text()) if request_file.exists() else {}
        default_type = TEXT_TYPE if inputs[0].suffix == ".txt" else HTML_TYPE
        content_type = request.get("content_type", default_type)
        if not content_type.startswith(("text/html", "text/plain", "application/xhtml")):
            continue  # JSON forms are not raw pages
        pages.append(MixPage(f"fixture:{case.name}", inputs[0].read_bytes(), content_type, request.get("url")))
    return pages


def dataset_pages(dataset: Path, sample: int) -> list[MixPage]:
    """``sample`` pages spread evenly over the dataset's ids (deterministic)."""
    truth_file = dataset / "truth.jsonl"
    if not truth_file.exists() or sample <= 0:
        return []
    with truth_file.open(encoding="utf-8") as lines:
        records = sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["id"])
    step = max(1, len(records) // sample)
    pages = []
    for record in records[::step][:sample]:
        page = dataset / "pages" / f"{record['id']}.html"
        content_type = HTML_TYPE
        if not page.exists():
            page, content_type = page.with_suffix(".txt"), TEXT_TYPE
        pages.append(MixPage(f"{dataset.name}:{record['id']}", page.read_bytes(), content_type, record.get("url")))
    return pages


def default_datasets() -> list[Path]:
    """The ``DEFAULT_DATASETS`` that are on this machine."""
    return [d for d in DEFAULT_DATASETS if d.is_dir()]


def weights_by_name(mix: Sequence[MixPage], weights: Sequence[float]) -> dict[str, float]:
    """``mix_weights``'s list keyed by page name, as ``load_http.LoadResult.weigh`` takes it."""
    return {page.name: weight for page, weight in zip(mix, weights, strict=True)}


def build_mix(datasets: Sequence[Path], sample: int) -> list[MixPage]:
    mix = fixture_pages()
    for dataset in datasets:
        mix.extend(dataset_pages(dataset, sample))
    if not mix:
        raise SystemExit("no pages: no fixtures/*/input.* and no dataset folder given")
    return mix


# --- in-process baselines ------------------------------------------------------------------------

_MIX: list[MixPage] = []  # set before forking the in-process workers


def pipeline_call() -> Callable[[MixPage], Any]:
    from service.models import Job, Options
    from service.pipeline import run, warm_up

    warm_up()  # what an extraction process does before it reports ready
    options = Options()
    return lambda p: run(Job(mode="text" if p.as_text else "html", body=p.body, url=p.url, options=options))


def _trafilatura_call() -> Callable[[MixPage], Any]:
    import html

    import trafilatura

    def call(p: MixPage) -> Any:
        if p.as_text:
            lines = [line for line in p.body.decode("utf-8").splitlines() if line.strip()]
            wrapped = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
            page = f"<html><body><article>{wrapped}</article></body></html>"
            return trafilatura.extract(page, url=p.url, include_comments=False)
        return trafilatura.extract(p.body, url=p.url, include_comments=False)

    return call


CALLS: dict[str, Callable[[], Callable[[MixPage], Any]]] = {
    "pipeline": pipeline_call,
    "trafilatura": _trafilatura_call,
}


def safe_call(call: Callable[[MixPage], Any], page: MixPage) -> bool:
    try:
        call(page)
    except Exception:  # a page the pipeline refuses (422) still cost its time
        return False
    return True


def refused_in_process(mix: Sequence[MixPage]) -> set[str]:
    """Pages the pipeline itself refuses (its 422 answers are the right answer, not failures)."""
    call = pipeline_call()
    return {page.name for page in mix if not safe_call(call, page)}


def sequential_pass(
    mix: Sequence[MixPage], repeats: int = SEQUENTIAL_REPEATS, names: Sequence[str] = tuple(CALLS)
) -> dict[str, list[float]]:
    """Per-page seconds (median of ``repeats``) of each extractor over the mix, in one process,
    the extractors interleaved page by page so that machine noise hits both alike."""
    calls = {name: CALLS[name]() for name in names}
    for call in calls.values():  # warm-up: lazy imports and caches
        for page in mix[:3]:
            safe_call(call, page)
    times: dict[str, list[float]] = {name: [] for name in calls}
    for page in mix:
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(repeats):
            for name, call in calls.items():
                started = time.perf_counter()
                safe_call(call, page)
                samples[name].append(time.perf_counter() - started)
        for name, values in samples.items():
            times[name].append(statistics.median(values))
    return times


def mix_weights(seconds: Sequence[float]) -> list[float]:
    """Each page's share of the work of the mix: its in-process time over the mean page's.

    Pages of the mix cost from ~1 to ~100 ms, so pages/s over a few seconds depends on which
    pages happened to fall in the window: a window that ends inside a run of heavy pages counts
    fewer. Simulated with the mix's own per-page times, that alone moves an in-process
    measurement of 4 s by up to ~2 % and a service run of 8 s by ~1 %, either way: as much as
    the margin of the 0.90 target. Counting each page as its weight instead (a mean page counts
    1) measures pages/s of the mix as a whole, whichever pages the window held. Both sides of a
    ratio are weighed with the same weights, from the sequential pass of the same run.
    """
    mean = statistics.fmean(seconds) if seconds else 0.0
    return [t / mean for t in seconds] if mean > 0 else [1.0] * len(seconds)


def _inproc_worker(args: tuple[str, int, float, float]) -> tuple[int, float, float]:
    """Loop over the mix from ``offset`` between ``start`` and ``start + duration`` (monotonic);
    (pages done, seconds, CPU seconds of this process)."""
    name, offset, start, duration = args
    call = CALLS[name]()
    safe_call(call, _MIX[offset % len(_MIX)])  # warm this process
    while time.monotonic() < start:
        time.sleep(0.005)
    cpu_start = time.process_time()
    done, i, end = 0, offset, start + duration
    while time.monotonic() < end:
        safe_call(call, _MIX[i % len(_MIX)])
        done, i = done + 1, i + 1
    return done, time.monotonic() - start, time.process_time() - cpu_start


def inproc_throughput(
    mix: Sequence[MixPage],
    processes: int,
    duration: float,
    names: Sequence[str] = tuple(CALLS),
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """pages/s of each extractor with ``processes`` forked processes working at once, the CPU
    ms per page of each (``<name>_cpu_ms``) and, given the mix's ``weights``, its mix-weighted
    pages/s (``<name>_weighted``, see ``mix_weights``)."""
    global _MIX
    _MIX = list(mix)
    result = {}
    ctx = mp.get_context("fork")
    with ctx.Pool(processes) as pool:
        for name in names:
            start = time.monotonic() + 1.0  # time for every worker to warm up
            offsets = [k * len(mix) // processes for k in range(processes)]
            counts = pool.map(_inproc_worker, [(name, off, start, duration) for off in offsets])
            done = sum(n for n, _, _ in counts)
            elapsed = max(elapsed for _, elapsed, _ in counts)
            result[name] = done / elapsed
            if weights is not None:  # worker k did pages offsets[k], offsets[k] + 1, ... (mod len)
                work = sum(
                    weights[(offset + j) % len(mix)]
                    for offset, (n, _, _) in zip(offsets, counts, strict=True)
                    for j in range(n)
                )
                result[f"{name}_weighted"] = work / elapsed
            result[f"{name}_cpu_ms"] = 1000 * sum(cpu for _, _, cpu in counts) / max(1, done)
    return result
