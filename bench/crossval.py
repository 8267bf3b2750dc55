"""The validation protocol of the HTML block model: grouped 5-fold cross-validation by site.

    .venv/bin/python -m bench.crossval                  # all three HTML development sets (make cv)
    .venv/bin/python -m bench.crossval --drop-features rule_ --json cv.json

All pages of ``trafilatura``, ``mozilla-readability`` and ``fundus`` (``--bench``) go into one pool;
the folds hold whole sites (``bench/sites.py``: hostname, fundus publisher, else the page id
without its number; pages sharing any of these are one site, across sets), so no site is ever in
both the training and the held-out folds.
For each fold the model (trees, decision threshold, guard share) is fitted on the four other
folds only (``block_data.fit``: the threshold and the share on an inner grouped CV of those
folds) and answers the held-out pages; the held-out answers of the five folds are pooled and
scored per set with the reference definitions (``bench/metrics.py``). Reported per set:
trafilatura's F1 (its default ``extract()``, same pages), trafilatura's blocks as our extract
stage gives them (the model's starting point), ours cross-validated, ours in-sample (fitted on
all pages, as shipped), and the pages whose F1 is >= 0.3 below trafilatura's on the same page.
Features can be switched off (``--drop-features PREFIX``: their columns zeroed, so no tree can
split on them) to check that each family gains in cross-validation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import block_data as bd  # noqa: E402
from bench import sites  # noqa: E402
from service.pipeline.block_model import BlockModel  # noqa: E402
from service.pipeline.blocks import FEATURE_NAMES  # noqa: E402

DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def drop_features(records: Sequence[bd.PageRecord], prefixes: Sequence[str]) -> None:
    """Zero the columns of the feature families ``prefixes`` names (``sites.feature_columns``)."""
    columns = sites.feature_columns(FEATURE_NAMES, prefixes)
    for record in records:
        if len(record.x):
            record.x[:, columns] = 0.0


def cross_validate(
    records: Sequence[bd.PageRecord], by_set: bool = False, workers: int = 1
) -> tuple[list[str], list[str], BlockModel]:
    """Held-out answers of each page (pooled over the folds), each fold's fitted decision, and the
    model fitted on all pages (the shipped one). ``by_set``: one fold per set (each set answered
    by a model fitted on the other two). ``workers``: fits run at once (forked processes)."""
    folds = sites.set_folds(records) if by_set else sites.assign_folds(records)
    models, shipped = sites.fit_per_fold(lambda train: bd.fit([records[i] for i in train]), folds, workers)
    decisions = [describe(model) for model in models]
    for k, decision in enumerate(decisions):
        print(f"fold {k}: {decision}", file=sys.stderr, flush=True)
    answers = [bd.predict(models[f], r) for r, f in zip(records, folds, strict=True)]
    return answers, decisions, shipped


def describe(model: BlockModel) -> str:
    return (
        f"threshold {model.threshold}, readability's {model.extra_threshold}, rule-flagged {model.rule_threshold}, "
        f"guard share {model.min_kept_share}"
    )


def report(records: Sequence[bd.PageRecord], columns: dict[str, list[str]]) -> dict[str, Any]:
    """Per set and column: F1 and the collapse count (pages >= 0.3 below trafilatura's F1)."""
    result: dict[str, Any] = {}
    groups = sites.site_groups(records)
    for set_name, idx in bd.by_set(records):
        chosen = [records[i] for i in idx]
        row: dict[str, Any] = {"pages": len(idx), "sites": len({groups[i] for i in idx})}
        for name, outputs in columns.items():
            outs = [outputs[i] for i in idx]
            f1, collapsed = bd.set_scores(chosen, outs)
            row[name] = {"f1": f1, "collapsed": collapsed}
        result[set_name] = row
    return result


def format_report(result: dict[str, Any]) -> str:
    names = [k for k in next(iter(result.values())) if k not in {"pages", "sites"}]
    header = f"{'set':20} {'pages':>5} {'sites':>5} " + " ".join(f"{n:>16}" for n in names)
    lines = [header, "-" * len(header)]
    for set_name, row in result.items():
        cells = " ".join(f"{row[n]['f1']:9.4f} ({len(row[n]['collapsed']):3d})" for n in names)
        lines.append(f"{set_name:20} {row['pages']:5d} {row['sites']:5d} {cells}")
    lines.append("cells: F1 (pages >= 0.3 below trafilatura's F1 on the same page)")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help="folder of the shared benchmark sets")
    ap.add_argument("--workers", type=int, default=2, help="processes building the page cache, and fits run at once")
    ap.add_argument("--drop-features", nargs="*", default=[], metavar="PREFIX", help="feature families to zero")
    ap.add_argument(
        "--param", nargs="*", default=[], metavar="NAME=VALUE", help="try another value of a block_data constant"
    )
    ap.add_argument(
        "--by-set", action="store_true", help="hold out one whole set at a time (a harder test than folds by site)"
    )
    ap.add_argument("--save-model", type=Path, help="also write the in-sample model (as train_block_model does)")
    ap.add_argument("--json", type=Path, help="write the report (per set, per column, collapsed ids) here")
    ap.add_argument("--answers", type=Path, help="write each page's cross-validated answer here (JSON)")
    ap.add_argument(
        "--against", type=Path, help="another run's --answers: the paired site-bootstrap interval of the difference"
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    records = bd.load_records(args.bench, workers=args.workers)
    print(f"{len(records)} pages ({time.perf_counter() - started:.0f} s to load)", file=sys.stderr)
    for setting in args.param:
        name, value = setting.split("=", 1)
        current = getattr(bd, name)
        setattr(bd, name, value.lower() in ("1", "true") if isinstance(current, bool) else type(current)(value))
    if args.drop_features:
        drop_features(records, args.drop_features)
    answers, decisions, shipped = cross_validate(records, args.by_set, args.workers)
    if args.save_model:
        args.save_model.write_text(json.dumps(shipped.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    columns = {
        "trafilatura": [r.trafilatura for r in records],
        "traf blocks": [bd.output(r, [bool(o) for o in r.own]) for r in records],
        "ours in-sample": [bd.predict(shipped, r) for r in records],
        "ours CV": answers,
    }
    result = report(records, columns)
    print(format_report(result))
    print(f"folds: {'; '.join(decisions)}")
    print(f"all pages (shipped): {describe(shipped)}; {time.perf_counter() - started:.0f} s")
    intervals = sites.report_intervals(records, answers, args.answers, args.against)
    for k, interval in intervals.items():
        result[k]["ours CV"]["site_interval"] = interval
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
