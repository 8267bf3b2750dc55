"""Loads a Python file that is not part of a package (a trainer of ``scripts/``, the example
crawler, the shared reference scorer) as a module, for the tests that exercise it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_module(name: str, path: Path, register: bool = False) -> ModuleType:
    """The file at ``path`` as the module ``name``; ``register`` puts it in ``sys.modules`` (a
    module whose dataclasses look their module up needs that)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as the module ``name`` (registered, so its dataclasses resolve)."""
    return load_module(name, SCRIPTS / f"{name}.py", register=True)
