"""The README's API reference names every error code the API answers with and every warning the
pipeline emits (issue 24 item 17: `extractor-unavailable` and `recovered-blocks` were missing)."""

from __future__ import annotations

import re

from service import errors
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
# A warning code added to an answer: ``warnings.append("code")`` or a list literal spliced in.
_WARNING_CODE = re.compile(r"warnings(?:\.append\(|\[[^\]]*\]\s*=\s*\[[^\]]*?)\"([a-z]+(?:-[a-z]+)+)\"")


def _section(title: str) -> str:
    """The README's text from the heading ``title`` to the next heading."""
    start = README.index(title)
    end = README.find("\n#", start + len(title))
    return README[start:end]


def _error_classes() -> list[type[errors.ServiceError]]:
    found, todo = [], [errors.ServiceError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__]


def test_the_errors_table_lists_every_code_with_its_status() -> None:
    rows = [line for line in _section("### Errors").splitlines() if line.startswith("| ")]
    for cls in _error_classes():
        listed = [row for row in rows if f"`{cls.code}`" in row]
        assert listed, f"{cls.code} ({cls.status}) is not in the README's errors table"
        assert any(str(cls.status) in row.split("|")[1] for row in listed), (cls.code, cls.status)


def test_the_warnings_row_lists_every_warning_the_pipeline_emits() -> None:
    emitted = {
        code
        for path in (ROOT / "service" / "pipeline").rglob("*.py")
        for code in _WARNING_CODE.findall(path.read_text(encoding="utf-8"))
    }
    assert {"page-truncated", "no-markup-treated-as-text"} <= emitted  # the scan works
    (row,) = [line for line in _section("### The answer").splitlines() if line.startswith("| `warnings`")]
    missing = sorted(code for code in emitted if f"`{code}`" not in row)
    assert not missing, f"warnings not in the README: {missing}"
