"""locust as a subprocess against a loopback server; results read into pandas."""

from __future__ import annotations

import sys

import pytest

from scalecode.loadtest import LoadTestError, run_locust
from scalecode.services import Service, free_port

HTTP = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]


def test_locust_run_against_a_local_server(tmp_path):
    (tmp_path / "a.txt").write_text("olá")
    with Service("http", HTTP, cwd=tmp_path) as server:
        result = run_locust(server.url, users=2, duration_s=2, paths=["/a.txt", "/missing"])
    assert result.requests > 10 and result.rps > 0
    names = set(result.stats["Name"])
    assert {"/a.txt", "/missing", "Aggregated"} <= names
    missing = result.stats[result.stats["Name"] == "/missing"].iloc[0]
    assert missing["Failure Count"] == missing["Request Count"]  # 404s are failures
    assert 0.3 < result.failure_ratio < 0.7
    assert result.p50 <= result.p95 <= result.p99
    assert set(result.row()) >= {"rps", "p50_ms", "p95_ms", "p99_ms", "failure_ratio"}


def test_a_server_that_is_down_gives_failures_not_a_hang():
    result = run_locust(f"http://127.0.0.1:{free_port()}", users=1, duration_s=2)
    assert result.requests > 0 and result.failures == result.requests


@pytest.mark.parametrize("host", ["http://example.com", "http://10.0.0.1:80", "ftp://127.0.0.1"])
def test_only_loopback_targets(host):
    with pytest.raises(ValueError, match="only target this machine"):
        run_locust(host, duration_s=1)


def test_bad_arguments():
    with pytest.raises(ValueError):
        run_locust("http://127.0.0.1:1", users=0)
    with pytest.raises(ValueError, match="no locustfile"):
        run_locust("http://127.0.0.1:1", locustfile="nope")


def test_timeout_is_enforced():
    with pytest.raises(LoadTestError, match="did not finish"):
        run_locust(f"http://127.0.0.1:{free_port()}", users=1, duration_s=5, timeout_s=1)
