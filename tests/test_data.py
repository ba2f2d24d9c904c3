"""The committed data set is exactly what its deterministic script makes."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "newsroom"
FILES = ("categories", "authors", "readers", "news", "comments", "access_log")


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


def test_access_log_shape_and_story():
    """One day of requests, sorted by time; endpoints are URL patterns with different costs."""
    log = _rows("access_log")
    assert list(log[0]) == ["timestamp", "method", "endpoint", "status", "duration_ms", "queries"]
    assert 20_000 <= len(log) <= 60_000
    assert (DATA / "access_log.csv").stat().st_size <= 3_000_000, "keep the log small (git diffs, Binder)"
    stamps = [r["timestamp"] for r in log]
    assert stamps == sorted(stamps) and all(s.startswith("2024-11-05T") and s.endswith("Z") for s in stamps)
    endpoints = {r["endpoint"] for r in log}
    assert {"/noticias/", "/noticia/<slug>/", "/busca/", "/exportar/", "/api/comentarios/", "/health/"} <= endpoints
    assert all(r["endpoint"].startswith("/") and r["endpoint"].endswith("/") for r in log)
    assert {r["method"] for r in log} == {"GET", "POST"}
    statuses = {int(r["status"]) for r in log}
    assert {200, 404, 500} <= statuses
    errors = sum(int(r["status"]) >= 500 for r in log)
    assert 0 < errors < 0.01 * len(log), "a few errors, not many"
    assert all(float(r["duration_ms"]) > 0 and int(r["queries"]) >= 0 for r in log)
    hours = [0] * 24
    for stamp in stamps:
        hours[int(stamp[11:13])] += 1
    assert max(hours) > 4 * min(hours), "traffic should follow a daily shape"


def test_access_log_ranks_differ_by_design():
    """The module-12 story holds: the biggest total time is not the slowest endpoint."""
    by_endpoint: dict[str, list[float]] = {}
    for row in _rows("access_log"):
        by_endpoint.setdefault(row["endpoint"], []).append(float(row["duration_ms"]))
    total = {e: sum(v) for e, v in by_endpoint.items()}
    median = {e: sorted(v)[len(v) // 2] for e, v in by_endpoint.items()}
    assert max(total, key=total.get) == "/noticias/"
    assert max(median, key=median.get) == "/exportar/"
    assert len(by_endpoint["/exportar/"]) < 0.01 * len(by_endpoint["/noticias/"])
