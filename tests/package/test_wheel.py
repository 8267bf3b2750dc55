"""`pip install .` builds a wheel that carries the code, its data files, the entry point and the metadata."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser

import pytest

from service import __version__
from tests.conftest import ROOT

# What a build reads from a checkout; copied to a temporary folder so that setuptools' build/ and
# *.egg-info never land in the working tree (and the copy proves nothing else is needed).
BUILD_INPUTS = ("pyproject.toml", "requirements.in", "README.md", "service", "pagecleaner_client")
# Building offline: the pinned setuptools of requirements-dev.txt, no index, no isolation venv.
BUILD_TIMEOUT_S = 180.0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("checkout")
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), "."],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    (built,) = out.glob("pagecleaner-*.whl")
    return zipfile.ZipFile(built)


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [member for member in wheel.namelist() if member.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode("utf-8")


def _requirements_in() -> list[str]:
    lines = (ROOT / "requirements.in").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.slow
def test_the_wheel_carries_every_data_file_of_the_checkout(wheel: zipfile.ZipFile) -> None:
    members = set(wheel.namelist())
    data_files = [
        path.relative_to(ROOT).as_posix()
        for folder in ("service", "pagecleaner_client")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    assert "service/http/static/playground/index.html" in data_files
    assert "service/pipeline/models/text_lines.json" in data_files
    assert [path for path in data_files if path not in members] == []


@pytest.mark.slow
def test_the_wheel_carries_the_gunicorn_config_and_the_client(wheel: zipfile.ZipFile) -> None:
    members = set(wheel.namelist())
    assert "service/http/gunicorn_conf.py" in members
    assert "pagecleaner_client/__init__.py" in members
    assert "pagecleaner_client/py.typed" in members
    assert not [member for member in members if member.startswith(("tests/", "bench/", "fixtures/"))]


@pytest.mark.slow
def test_the_wheel_installs_the_pagecleaner_command(wheel: zipfile.ZipFile) -> None:
    entry_points = _dist_info(wheel, "entry_points.txt")
    assert "[console_scripts]" in entry_points
    assert "pagecleaner = service.commands:main" in entry_points


@pytest.mark.slow
def test_the_version_and_dependencies_come_from_their_one_place(wheel: zipfile.ZipFile) -> None:
    metadata = Parser().parsestr(_dist_info(wheel, "METADATA"))
    assert metadata["Name"] == "pagecleaner"
    assert metadata["Version"] == __version__
    assert metadata.get_all("Requires-Dist") == _requirements_in()


def test_the_client_declares_its_type_hints_to_mypy() -> None:
    # Without py.typed in the installed package, a user's mypy skips it ("missing library stubs
    # or py.typed marker") and checks none of their calls against its hints (PEP 561).
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"].get("pagecleaner_client", [])
    assert (ROOT / "pagecleaner_client" / "py.typed").is_file()
