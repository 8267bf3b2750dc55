"""The folders are the layers (docs/architecture.md): what each may import, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# layer folder -> module prefixes it must never import
FORBIDDEN = {
    "service/workers": ("service.http", "service.offline"),
    "service/offline": ("service.http",),
    "service/pipeline": ("service.http", "service.workers", "service.offline"),
    "service/fetch": ("service.http", "service.workers", "service.offline", "service.pipeline"),
    "pagecleaner_client": ("service",),
}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _violations(folder: str) -> list[str]:
    prefixes = FORBIDDEN[folder]
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)
    ]


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_a_layer_does_not_import_the_layers_above_it(folder: str) -> None:
    assert _violations(folder) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from service.http import app\n    return app\n")
    assert "service.http.app" in imported_modules(module)
