"""The request-timing middleware: one row per request, URL patterns, query counts, a CSV file."""

from __future__ import annotations

import csv

import pytest

from scalecode import accesslog
from scalecode.newsroom import timing


@pytest.fixture
def client_class(django_ready):
    from django.test import Client

    return Client


def test_columns_match_the_access_log():
    assert timing.COLUMNS == accesslog.COLUMNS


def test_each_request_becomes_one_row(client_class):
    with timing.enabled() as log:
        client = client_class()
        assert client.get("/noticias/?page=2").status_code == 200
        assert client.get("/health/").status_code == 200
        assert client.get("/no/such/page/").status_code == 404
        assert client.get("/noticias/?page=x").status_code == 400
    rows = log.rows()
    assert [(r["method"], r["endpoint"], r["status"]) for r in rows] == [
        ("GET", "/noticias/", 200), ("GET", "/health/", 200), ("GET", timing.NO_ROUTE, 404), ("GET", "/noticias/", 400),
    ]  # fmt: skip
    assert rows[0]["queries"] > 20, "the uncached news list runs N+1 queries"
    assert rows[1]["queries"] == 0 and rows[3]["queries"] == 0
    assert all(r["duration_ms"] >= 0 for r in rows)
    assert rows[0]["timestamp"].endswith("Z") and len(rows[0]["timestamp"]) == len("2024-11-05T13:04:05.123Z")
    stats = accesslog.endpoint_stats(log.frame())
    assert stats.loc["/noticias/", "count"] == 2


def test_nothing_is_logged_outside_the_block(client_class):
    with timing.enabled():
        pass
    timing.LOG.clear()
    client_class().get("/health/")
    assert len(timing.LOG) == 0


def test_the_csv_file_reads_back(client_class, tmp_path):
    path = tmp_path / "logs" / "access.csv"
    with timing.enabled(path):
        client = client_class()
        for _ in range(3):
            client.get("/health/")
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(accesslog.COLUMNS) and len(rows) == 4
    frame = accesslog.read_log(path)
    assert list(frame["endpoint"]) == ["/health/"] * 3
    with timing.enabled(path, clear=False) as log:
        client_class().get("/health/")
    assert len(accesslog.read_log(path)) == 4, "appends, with a single header"
    assert len(log) == 4


def test_environment_variable_names_the_file(client_class, tmp_path, monkeypatch):
    path = tmp_path / "env.csv"
    monkeypatch.setenv(timing.SETTING, str(path))
    with timing.enabled():
        client_class().get("/health/")
    assert len(accesslog.read_log(path)) == 1


def test_endpoint_of_drops_converters():
    class Match:
        route = "noticia/<slug:slug>/comentarios/<int:page>/"

    class Request:
        resolver_match = Match()

    assert timing.endpoint_of(Request()) == "/noticia/<slug>/comentarios/<page>/"
    assert timing.endpoint_of(object()) == timing.NO_ROUTE


def test_sample_paths_are_deterministic_and_mixed():
    paths = timing.sample_paths(200)
    assert paths == timing.sample_paths(200) and len(paths) == 200
    assert {p.split("?")[0] for p in paths} >= {"/noticias/", "/cache/noticias/", "/health/"}
    with pytest.raises(ValueError):
        timing.sample_paths(0)
