from __future__ import annotations

from pathlib import Path

from bench.charset_detection import legacy_pages


def test_a_page_is_made_in_the_charset_that_holds_it_and_loses_its_declaration(tmp_path: Path) -> None:
    pages = tmp_path / "someset" / "pages"
    pages.mkdir(parents=True)
    czech = "Příliš žluťoučký kůň úpěl ďábelské ódy."
    (pages / "cz.html").write_text(f'<meta charset="utf-8"><p>{czech}</p>', encoding="utf-8")
    (pages / "ascii.html").write_text("<p>nothing to detect</p>", encoding="utf-8")
    (pages / "mixed.html").write_text("<p>Ελληνικά и русский 混合</p>", encoding="utf-8")
    made = list(legacy_pages(tmp_path))
    assert made == [("someset/cz", "cp1250", f"<p>{czech}</p>".encode("cp1250"))]
