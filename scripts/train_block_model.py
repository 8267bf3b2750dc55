#!/usr/bin/env python3
"""Train the HTML block model (``service/pipeline/block_model.py``) on all HTML development sets.

    .venv/bin/python scripts/train_block_model.py                     # fit on every page, save
    .venv/bin/python scripts/train_block_model.py --bench DIR --out PATH

The trees are fitted on every labelled block of ``trafilatura``, ``mozilla-readability`` and
``fundus``; the decision threshold and the guard's share on out-of-fold predictions of a grouped
CV by site over the same pages (``bench/block_data.fit``, the same code the validation protocol
``bench/crossval.py`` runs per fold). Labels and features: ``bench/block_data.py``. The pages are
read in place (never copied into the repository) and cached in ``bench/cache/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import block_data  # noqa: E402
from service.pipeline.block_model import MODEL_PATH  # noqa: E402

DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help="folder of the shared benchmark sets")
    ap.add_argument("--out", type=Path, default=MODEL_PATH, help="where the model JSON goes")
    ap.add_argument("--workers", type=int, default=2, help="processes building the page cache")
    args = ap.parse_args()
    records = block_data.load_records(args.bench, workers=args.workers)
    model = block_data.fit(records)
    args.out.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    size = args.out.stat().st_size
    print(f"{len(records)} pages; threshold {model.threshold}, readability's {model.extra_threshold}")
    print(f"rule-flagged blocks' threshold {model.rule_threshold}, guard share {model.min_kept_share}")
    print(f"{args.out}: {size} bytes")


if __name__ == "__main__":
    main()
