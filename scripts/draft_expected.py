"""Print a draft expected.json for a fixture folder, from the service's current output.

    .venv/bin/python scripts/draft_expected.py fixtures/html-seed-wordpress-news

The draft echoes the code (title, authors, date, language, the first and last sentences of the
text, the removed blocks with their reasons): a human reviews and trims it before it becomes the
fixture's expected.json (see fixtures/README.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.datastructures import MultiDict  # noqa: E402

from service.pipeline import run  # noqa: E402
from service.request_forms import job_from_request  # noqa: E402

# Sentences quoted from the start and the end of the text.
SNIPPET_SENTENCES = 2
# A quoted sentence is cut to this many characters (a snippet, not a copy of the article).
MAX_SNIPPET_CHARS = 120
METADATA_FIELDS = ("title", "authors", "date", "language")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+")


def draft(case_dir: Path) -> dict[str, Any]:
    """The draft expected.json of ``case_dir``, removed blocks included (explain is turned on)."""
    inputs = sorted(case_dir.glob("input.*"))
    if len(inputs) != 1:
        raise SystemExit(f"{case_dir}: needs exactly one input.* file")
    request_file = case_dir / "request.json"
    request = json.loads(request_file.read_text(encoding="utf-8")) if request_file.exists() else {}
    default_type = "text/plain; charset=utf-8" if inputs[0].suffix == ".txt" else "text/html"
    query = MultiDict({**request.get("options", {}), "explain": "true"})
    if "url" in request:
        query["url"] = request["url"]
    job = job_from_request(request.get("content_type", default_type), inputs[0].read_bytes(), query)
    answer = run(job)
    sentences = [s for line in answer["text"].splitlines() for s in _SENTENCE.split(line.strip()) if s]
    head = sentences[:SNIPPET_SENTENCES]
    tail = [s for s in sentences[-SNIPPET_SENTENCES:] if s not in head]
    return {
        "description": "TODO: what this case is about (site style, clutter, language)",
        "metadata": {name: answer.get(name) for name in METADATA_FIELDS},
        "text_contains": [s[:MAX_SNIPPET_CHARS] for s in head + tail],
        "text_excludes": [],
        "removed": [
            {"text": item["text"][:MAX_SNIPPET_CHARS], "reason": item["reason"]} for item in answer.get("removed", [])
        ],
        "min_words": answer["word_count"] // 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case_dir", type=Path, help="a fixtures/<case> folder with input.* (and request.json)")
    args = parser.parse_args()
    print(json.dumps(draft(args.case_dir), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
