"""The HTML page cache's key (bench/block_data.py) covers every module a page's features depend on."""

from __future__ import annotations

import ast
from pathlib import Path

from bench import block_data

PIPELINE = "service.pipeline"


def _pipeline_imports(path: Path) -> set[str]:
    """The ``service.pipeline`` modules a source file imports (``from service.pipeline import x``
    and ``from service.pipeline.x import ...``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == PIPELINE:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{PIPELINE}."):
            found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith(f"{PIPELINE}."))
    return found


def test_no_hashed_module_imports_an_unhashed_one() -> None:
    # Otherwise a change to an unhashed module could change the features and leave the cache stale.
    for path in block_data.FEATURE_SOURCES:
        if path.name == "__init__.py":  # the dispatcher imports both modes; the feature code does not use it
            continue
        assert not _pipeline_imports(path) & block_data.NOT_FEATURE_MODULES, path.name


def test_the_unhashed_modules_exist() -> None:
    folder = block_data.ROOT / "service" / "pipeline"
    for name in block_data.NOT_FEATURE_MODULES:
        assert (folder / f"{name}.py").is_file(), name
