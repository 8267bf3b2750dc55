"""atheris entry point: the whole cleaning pipeline on fuzzer-made bytes (no server, no pool).

Finds inputs on which the pipeline raises anything but a ``ServiceError`` (those are clean
4xx answers). Time overruns are the extraction pool's job in serving; here ``-timeout`` flags
inputs that are slow, which are worth a parse-stage rule.

    pip install atheris            # not in requirements: a development tool only
    python -m tests.hostile_corpus build/fuzz-seeds     # optional seed corpus
    .venv/bin/python fuzz/fuzz_pipeline.py build/fuzz-seeds -max_len=200000 -timeout=10 -runs=100000
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    import atheris
except ImportError:  # documented above: the module still imports (tests, linters) without it
    atheris = None


def test_one_input(data: bytes) -> None:
    from service.errors import ServiceError
    from service.models import Job, Options
    from service.pipeline import Limits, run

    mode = "text" if data[:1] == b"T" else "html"
    job = Job(mode=mode, body=data[1:], options=Options(formats=("text", "markdown", "html"), explain=True))
    with contextlib.suppress(ServiceError):
        run(job, Limits())


def main() -> int:
    if atheris is None:
        print("atheris is not installed: pip install atheris", file=sys.stderr)
        return 2
    with atheris.instrument_imports():
        import service.pipeline  # noqa: F401 - instrumented for coverage feedback
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
