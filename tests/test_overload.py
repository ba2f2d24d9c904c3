"""The overload app (K workers, FIFO queue, 504 after a timeout, 502 when full) and its load curve.

Behaviour is asserted by counting (status codes, the app's counters), never by wall-clock
speed; the durations are chosen so that a busy machine does not change the counts.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import matplotlib
import pandas as pd
import pytest

from scalecode.webapps import overload
from scalecode.webapps.loadcurve import (
    CpuSampler,
    measure,
    overload_app,
    plot_load_curve,
    plot_mmc,
    predict,
    reset_stats,
    server_stats,
)

matplotlib.use("Agg")


def _get_many(url: str, n: int, stagger_s: float = 0.0) -> list[int]:
    def one(i: int) -> int:
        time.sleep(i * stagger_s)
        return httpx.get(url, timeout=30).status_code

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


# --- the gate, in-process -----------------------------------------------------------------
def test_gate_is_fifo_and_times_out():
    async def scenario():
        gate = overload.Gate(1)
        order = []

        async def request(name: str, timeout_s: float, hold_s: float) -> bool:
            got = await gate.acquire(timeout_s)
            if got:
                order.append(name)
                await asyncio.sleep(hold_s)
                gate.release()
            return got

        first = asyncio.create_task(request("a", 1, 0.2))
        await asyncio.sleep(0.01)
        late = asyncio.create_task(request("late", 0.05, 0))  # gives up before "a" is done
        b = asyncio.create_task(request("b", 5, 0))
        await asyncio.sleep(0.01)
        c = asyncio.create_task(request("c", 5, 0))
        results = await asyncio.gather(first, late, b, c)
        return results, order, gate.as_dict()

    results, order, stats = asyncio.run(scenario())
    assert results == [True, False, True, True]
    assert order == ["a", "b", "c"]  # first come, first served
    assert stats["in_service"] == 0 and stats["waiting"] == 0 and stats["max_in_service"] == 1
    assert stats["max_waiting"] == 3


def test_gate_queue_limit_and_bad_input():
    gate = overload.Gate(2, queue_limit=0)
    assert not gate.full()
    with pytest.raises(ValueError, match="workers"):
        overload.Gate(0)
    with pytest.raises(ValueError, match="queue_limit"):
        overload.Gate(1, queue_limit=-1)


@pytest.mark.parametrize(("kwargs", "match"), [({"service_ms": -1}, "service_ms"), ({"timeout_s": 0}, "timeout_s")])
def test_make_app_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        overload.make_app(**kwargs)


@pytest.mark.parametrize("argv", [["--workers", "0"], ["--timeout-s", "0"], ["--queue-limit", "-1"]])
def test_command_line_rejects_bad_input(argv):
    with pytest.raises(SystemExit):
        overload.main(["--port", "1", *argv])


def test_overload_app_rejects_bad_input():
    with pytest.raises(ValueError, match="workers"):
        overload_app(workers=0)
    with pytest.raises(ValueError, match="timeout_s"):
        overload_app(timeout_s=0)
    with pytest.raises(ValueError, match="queue_limit"):
        overload_app(queue_limit=-2)


# --- served, counted ------------------------------------------------------------------------
def test_never_more_than_k_requests_in_service():
    with overload_app(workers=2, service_ms=100, timeout_s=20) as app:
        codes = _get_many(app.url, 10)
        stats = server_stats(app.url)
    assert codes == [200] * 10
    assert stats["served"] == 10 and stats["arrived"] == 10
    assert stats["max_in_service"] == 2  # the workers are the limit
    assert stats["max_waiting"] >= 1 and stats["timeouts"] == stats["rejected"] == 0


def test_waiting_longer_than_the_timeout_is_a_504():
    with overload_app(workers=1, service_ms=1500, timeout_s=0.2) as app:
        codes = _get_many(app.url, 4, stagger_s=0.05)
        stats = server_stats(app.url)
        reset_stats(app.url)
        assert server_stats(app.url)["arrived"] == 0
    assert sorted(set(codes)) <= [200, 504] and codes.count(504) >= 1
    assert stats["served"] + stats["timeouts"] == 4 and stats["timeouts"] == codes.count(504)
    assert stats["max_in_service"] == 1


def test_a_full_queue_is_a_502():
    with overload_app(workers=1, service_ms=1500, timeout_s=20, queue_limit=1) as app:
        codes = _get_many(app.url, 5, stagger_s=0.05)
        stats = server_stats(app.url)
    assert sorted(set(codes)) <= [200, 502] and codes.count(502) >= 1
    assert stats["rejected"] == codes.count(502) and stats["max_waiting"] <= 1


def test_cpu_mode_with_two_processes_answers():
    with overload_app(cpu=True, processes=2, service_ms=5, timeout_s=5) as app:
        codes = _get_many(app.url, 6)
    assert codes == [200] * 6


def test_measure_with_locust_counts_and_predicts():
    with overload_app(workers=2, service_ms=50, timeout_s=5) as app:
        row = measure(app, 6, duration_s=2, workers=2, service_ms=50, timeout_s=5)
    assert row["requests"] > 0 and row["failures"] == 0
    assert row["max_in_service"] == 2 and row["served"] >= row["requests"]
    assert row["little_ms"] == pytest.approx(150)
    assert {"p50_ms", "p95_ms", "sim_p95_ms", "sim_error_ratio", "rps"} <= set(row)


def test_predict_steady_and_timed():
    steady = predict(12, workers=4, service_ms=50)
    assert steady["little_ms"] == pytest.approx(150) and steady["sim_mean_ms"] == pytest.approx(150, rel=0.05)
    timed = predict(96, workers=4, service_ms=50, timeout_s=1.0, duration_s=3)
    assert timed["sim_error_ratio"] > 0 and timed["sim_p95_ms"] <= 1050


def test_cpu_sampler_measures_this_process():
    with CpuSampler(os.getpid(), interval=0.05) as used:
        end = time.thread_time() + 0.3
        while time.thread_time() < end:
            pass
    assert 0 < used.cores <= (os.cpu_count() or 1) + 0.2


# --- plots ------------------------------------------------------------------------------------
def test_plots_draw():
    users = [1, 4, 8, 16]
    table = pd.DataFrame({"users": users, "workers": 4, "service_ms": 50.0, "p50_ms": [51, 52, 100, 200],
                          "p95_ms": [55, 56, 110, 210], "sim_p95_ms": [50, 50, 100, 200],
                          "little_ms": [50, 50, 100, 200], "failure_ratio": [0, 0, 0, 0.1]})  # fmt: skip
    table = table.set_index("users")
    ax = plot_load_curve(table, timeout_s=1.0, knee=8.0, title="t")
    assert ax.get_yscale() == "log" and len(ax.lines) >= 4
    ax2 = plot_mmc(60, 50, 4, compare={"vertical": (25, 4)})
    assert len(ax2.lines) >= 4
    ax3 = plot_mmc(100, 50, 4)  # unstable point: drawn without a value
    assert any("unstable" in t.get_text() for t in ax3.get_legend().get_texts())
    assert not math.isnan(ax3.get_ylim()[1])


def test_cpu_sampler_counts_a_child_only_from_its_birth_and_forgets_a_dead_one():
    import subprocess
    import sys

    burn = "import time\nend = time.thread_time() + {s}\nwhile time.thread_time() < end: pass"
    old = subprocess.Popen([sys.executable, "-c", burn.format(s=0.6)])  # spends its CPU before we sample
    old.wait()
    with CpuSampler(os.getpid(), interval=0.05) as used:
        young = subprocess.Popen([sys.executable, "-c", burn.format(s=0.3)])
        young.wait()
    assert 0 < used.cores <= (os.cpu_count() or 1) + 0.2
    assert used.samples[-1][1] < 0.6  # the child born inside the block counts, but only once
