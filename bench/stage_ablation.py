"""One-off: outputs of the pre-issue-22 HTML stages (extract, +recover, +clean, both, full) per page.

Run once on the old pipeline to measure which stage gains; the numbers are in bench/README.md.
"""

from __future__ import annotations

import json
import sys
from copy import deepcopy
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.models import Job, Options  # noqa: E402
from service.pipeline import clean, decode, extract, parse, recover, run, serialize, warm_up  # noqa: E402

SETS = ("trafilatura", "mozilla-readability", "fundus")


def main() -> None:
    bench = Path(sys.argv[1])
    out: dict[str, dict[str, dict[str, str]]] = {}
    warm_up()
    options = Options()
    for name in SETS:
        rows: dict[str, dict[str, str]] = {}
        for line in (bench / name / "truth.jsonl").open(encoding="utf-8"):
            rec = json.loads(line)
            body = (bench / name / "pages" / f"{rec['id']}.html").read_bytes()
            url = rec.get("url") or None
            row = {"trafilatura": trafilatura.extract(body, url=url, include_comments=False) or ""}
            row["full"] = run(Job(mode="html", body=body, url=url, options=options))["text"]
            html, _c, _w = decode.decode(body, None, is_html=True)
            page = parse.parse_html(html, 30_000, 180)
            cands = extract.extract_candidates(page.tree, url, options, with_readability=True)
            for variant, use_recover, use_clean in (
                ("extract", False, False),
                ("recover", True, False),
                ("clean", False, True),
                ("recover+clean", True, True),
            ):
                article = deepcopy(cands.article)
                if use_recover:
                    recover.recover_blocks(article, cands.readability_body)
                if use_clean:
                    clean.clean_article(article, options)
                row[variant] = serialize.render_text(article.body)
            rows[rec["id"]] = row
        out[name] = rows
        print(name, len(rows), flush=True)
    (ROOT / "bench" / "cache" / "stage_ablation.json").write_text(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
