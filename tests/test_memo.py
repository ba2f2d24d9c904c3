"""scalecode.memo: replaying traces through lru_cache, the method trap, TTLs, per-process vs shared caches."""

from __future__ import annotations

import functools
import math

import pytest

from scalecode import memo
from scalecode.backends import delete_prefix, redis_server
from scalecode.workload import zipf_trace


def test_zipf_trace_is_skewed_reproducible_and_validated():
    trace = zipf_trace(2000, 50, seed=1)
    assert trace == zipf_trace(2000, 50, seed=1) and trace != zipf_trace(2000, 50, seed=2)
    assert all(isinstance(k, int) and 0 <= k < 50 for k in trace)
    assert trace.count(0) > trace.count(10) > trace.count(49)
    with pytest.raises(ValueError):
        zipf_trace(0, 5)
    with pytest.raises(ValueError):
        zipf_trace(5, 0)


def test_slow_source_counts_and_sleeps_the_scaled_latency(monkeypatch):
    monkeypatch.setenv("SCALECODE_TIME_SCALE", "0.001")
    source = memo.SlowSource(values={"a": "A"})
    assert source.latency_s == pytest.approx(0.001)
    assert source.lookup("a") == "A" and source.lookup("b") == "value of 'b'" and source.calls == 2
    with pytest.raises(ValueError):
        memo.SlowSource(-1)


def test_replay_reports_hits_and_lru_eviction():
    cached = functools.lru_cache(maxsize=2)(lambda key: key)
    # A, B, A (hit), C evicts B (least recently used), A (hit), B (miss again)
    assert memo.replay(cached, "ABACAB") == [False, False, True, False, True, False]
    with pytest.raises(TypeError, match="lru_cache"):
        memo.replay(lambda k: k, "AB")


def test_hit_ratio_grows_with_maxsize_up_to_the_bound():
    trace = zipf_trace(3000, 300, seed=3)
    curve = memo.hit_ratio_curve(trace, [1, 8, 64, 300])
    ratios = curve["hit_ratio"].tolist()
    assert ratios == sorted(ratios) and ratios[0] < ratios[-1]
    bound = 1 - len(set(trace)) / len(trace)
    assert ratios[-1] == pytest.approx(bound) and curve["bound"].tolist() == pytest.approx([bound] * 4)
    assert (curve["top_share"] >= curve["hit_ratio"] - 1e-9).all()  # the clairvoyant cache is never worse
    assert memo.hit_ratio(["a"] * 4, None) == 0.75
    with pytest.raises(ValueError):
        memo.hit_ratio([], 4)
    with pytest.raises(ValueError):
        memo.hit_ratio(["a"], -1)


def test_hit_overhead_is_reported_in_microseconds():
    costs = memo.hit_overhead_us(number=2000, repeat=2)
    assert set(costs) == {"plain", "lru_cache", "cache", "lru_overhead"}
    assert all(costs[k] > 0 for k in ("plain", "lru_cache", "cache"))
    assert costs["lru_overhead"] == pytest.approx(costs["lru_cache"] - costs["plain"])
    with pytest.raises(ValueError):
        memo.hit_overhead_us(number=0)


def test_method_trap_keeps_maxsize_instances_alive_and_the_fix_frees_them():
    memo.LeakyReport.summary.cache_clear()
    leaky = memo.retention(lambda i: memo.LeakyReport(i, payload_mib=0.01), 200, lambda r: r.summary())
    assert (leaky.created, leaky.alive) == (200, 128)  # lru_cache's default maxsize
    assert leaky.retained_mib > 128 * 0.01 * 0.9
    memo.LeakyReport.summary.cache_clear()
    safe = memo.retention(lambda i: memo.SafeReport(i, payload_mib=0.01), 200, lambda r: r.summary())
    assert safe.alive == 0 and safe.retained_mib < 0.5
    report = memo.SafeReport(1, payload_mib=0.001)
    assert report.summary(3) == report.summary(3) and len(report._cache) == 1
    with pytest.raises(ValueError):
        memo.retention(object, 0)


def test_time_to_fresh_with_and_without_expiry():
    import cachetools

    state = {"value": 1}
    never = functools.lru_cache(maxsize=None)(lambda: state["value"])
    assert math.isinf(memo.time_to_fresh(never, lambda: state.update(value=2), timeout_s=0.05))
    expiring = cachetools.cached(cachetools.TTLCache(maxsize=4, ttl=0.05))(lambda: state["value"])
    seconds = memo.time_to_fresh(expiring, lambda: state.update(value=3), timeout_s=1)
    assert 0 < seconds <= 1
    with pytest.raises(ValueError):
        memo.time_to_fresh(never, lambda: None, timeout_s=0)


def test_app_workers_validate_their_arguments():
    for kwargs in ({"n": 0, "cache": "lru"}, {"n": 1, "cache": "disk"}, {"n": 1, "cache": "redis"}):
        with pytest.raises(ValueError), memo.app_workers(**kwargs):
            pass
    with pytest.raises(ValueError):
        memo.send_trace([], ["a"])


def test_each_process_misses_separately_but_a_shared_redis_misses_once_per_key():
    keys = ["a", "b", "c"] * 4
    with memo.app_workers(2, "lru", latency_s=0) as urls:
        per_process = memo.send_trace(urls, keys)
        stats = memo.worker_stats(urls)
    assert per_process["pid"].nunique() == 2
    assert (~per_process["hit"]).sum() == 6  # 3 keys × 2 processes
    assert stats["source_calls"].sum() == 6 and (stats["cache"] == "lru").all()
    with redis_server() as endpoint:
        import redis

        client = redis.Redis.from_url(endpoint.url)
        delete_prefix(client)
        try:
            with memo.app_workers(2, "redis", redis_url=endpoint.url, latency_s=0) as urls:
                shared = memo.send_trace(urls, keys)
                assert memo.worker_stats(urls)["source_calls"].sum() == 3
            assert (~shared["hit"]).sum() == 3  # one miss per key, whichever process asked
            assert sorted(client.keys(f"{memo.SHARED_KEY_PREFIX}*")) == [
                f"{memo.SHARED_KEY_PREFIX}{k}".encode() for k in "abc"
            ]
        finally:
            delete_prefix(client)
            client.close()


def test_worker_cli_reports_a_bad_configuration(capsys):
    assert memo.main(["--port", "1", "--cache", "redis"]) == 2
    assert "redis-url" in capsys.readouterr().err
