from __future__ import annotations

import math

import numpy as np
import pytest

from scalecode.backends import get_redis
from scalecode.caching import CacheStats, cache_aside
from scalecode.config import time_scale
from scalecode.measure import latency_summary, latency_table, time_calls
from scalecode.plots import rolling_ratio
from scalecode.workload import news_requests, zipf_weights


def test_time_calls_runs_setup_outside_the_timing():
    calls = []
    samples = time_calls(lambda: calls.append("call"), 5, before_each=lambda: calls.append("setup"))
    assert samples.shape == (5,) and (samples >= 0).all()
    assert calls == ["setup", "call"] * 5
    with pytest.raises(ValueError):
        time_calls(lambda: None, 0)


def test_latency_summary_and_table():
    summary = latency_summary(np.linspace(0.001, 0.1, 100))
    assert summary["p50"] == pytest.approx(0.0505, rel=1e-3)
    assert summary["p99"] > summary["p95"] > summary["p50"]
    table = latency_table({"a": [0.001, 0.002], "b": [0.01]}, unit="ms")
    assert table.loc["a", "p50 (ms)"] == pytest.approx(1.5)
    assert table.loc["b", "n"] == 1
    with pytest.raises(ValueError):
        latency_summary([])


def test_zipf_weights_and_trace_are_skewed_and_reproducible():
    weights = zipf_weights(10)
    assert weights.sum() == pytest.approx(1) and (np.diff(weights) < 0).all()
    a, b = news_requests(500, seed=3), news_requests(500, seed=3)
    assert a == b and a != news_requests(500, seed=4)
    assert a.count((1, None)) > a.count((10, "mundo"))
    with pytest.raises(ValueError):
        zipf_weights(0)


def test_cache_aside_counts_hits_and_sets_ttl():
    client = get_redis()
    stats = CacheStats()
    calls = []
    compute = lambda: calls.append(1) or "valor"  # noqa: E731
    assert cache_aside(client, "scalecode:test:ca", 2.5, compute, stats=stats) == "valor"
    assert cache_aside(client, "scalecode:test:ca", 2.5, compute, stats=stats) == "valor"
    assert len(calls) == 1 and (stats.hits, stats.misses) == (1, 1) and stats.events == [False, True]
    assert 2000 <= client.pttl("scalecode:test:ca") <= 2500
    client.delete("scalecode:test:ca")
    assert math.isnan(CacheStats().hit_ratio)
    with pytest.raises(ValueError):
        cache_aside(client, "scalecode:test:ca", 0, compute)


def test_rolling_ratio():
    assert list(rolling_ratio([True, False, True, True], window=2)) == [1.0, 0.5, 0.5, 1.0]


def test_time_scale_validation(monkeypatch):
    monkeypatch.setenv("SCALECODE_TIME_SCALE", "fast")
    with pytest.raises(ValueError, match="must be a number"):
        time_scale()
    monkeypatch.setenv("SCALECODE_TIME_SCALE", "-1")
    with pytest.raises(ValueError, match="> 0"):
        time_scale()
