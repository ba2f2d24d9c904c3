"""The committed data set is exactly what its deterministic script makes."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "newsroom"
FILES = ("categories", "authors", "readers", "news", "comments")


def _load_script():
    spec = importlib.util.spec_from_file_location("make_data", ROOT / "data" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_reproduces_the_committed_files(tmp_path: Path):
    _load_script().generate(tmp_path)
    for name in FILES:
        committed = (DATA / f"{name}.csv").read_bytes()
        assert (tmp_path / f"{name}.csv").read_bytes() == committed, (
            f"data/newsroom/{name}.csv differs from what data/make_data.py makes: regenerate with make data"
        )


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_data_set_shape_and_references():
    news, comments = _rows("news"), _rows("comments")
    categories = {r["id"] for r in _rows("categories")}
    authors = {r["id"] for r in _rows("authors")}
    readers = {r["id"] for r in _rows("readers")}
    assert 2000 <= len(news) <= 5000
    assert len(comments) >= len(news)
    assert all(r["category_id"] in categories and r["author_id"] in authors for r in news)
    news_ids = {r["id"] for r in news}
    assert all(c["news_id"] in news_ids and c["reader_id"] in readers for c in comments)
    assert len({r["slug"] for r in news}) == len(news)


def test_names_and_titles_are_brazilian_portuguese():
    text = " ".join(r["title"] for r in _rows("news")[:300]) + " ".join(r["name"] for r in _rows("authors"))
    assert any(ch in text for ch in "ãçéêóõú"), "expected Portuguese accents in titles and names"
