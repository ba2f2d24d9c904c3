"""The Tornado app of the req/s table and the slow external API, served as subprocesses."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import matplotlib
import pandas as pd
import pytest

from scalecode.webapps import hello
from scalecode.webapps.bench import (
    Row,
    external_api,
    external_stats,
    plot_latency,
    plot_throughput,
    reset_external,
    run_row,
    talk_rows,
    web_app,
)

matplotlib.use("Agg")


def _get_many(url: str, n: int) -> list[httpx.Response]:
    """``n`` concurrent GETs, each on its own connection."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: httpx.get(url, timeout=20), range(n)))


def test_burn_cpu_spends_cpu_time_not_wall_time():
    before = time.thread_time()
    loops = hello.burn_cpu(20)
    assert time.thread_time() - before >= 0.020
    assert loops > 0
    assert hello.render(0) == "Hello, world"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "nope"}, "unknown variant"),
        ({"variant": "cpu", "cpu_ms": -1}, "cpu_ms"),
        ({"variant": "blocking"}, "external_url"),
    ],
)
def test_make_app_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hello.make_app(**kwargs)


def test_web_app_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown variant"):
        web_app("nope")
    with pytest.raises(ValueError, match="processes"):
        web_app("hello", processes=0)
    with pytest.raises(ValueError, match="delay_ms"):
        external_api(-1)


def test_external_api_waits_and_counts_calls_in_flight():
    with external_api(300) as api:
        started = time.perf_counter()
        assert httpx.get(api.url, timeout=10).text == "external #1"
        assert time.perf_counter() - started >= 0.3  # it waited (a lower bound, not a speed)
        reset_external(api.url)
        answers = _get_many(api.url, 8)
        stats = external_stats(api.url)
    assert sorted(r.text for r in answers) == sorted(f"external #{i}" for i in range(1, 9))
    assert stats == {"served": 8, "in_flight": 0, "max_in_flight": 8}  # all 8 waited together


@pytest.mark.parametrize("variant", ["hello", "cpu"])
def test_local_variants_answer_hello_world(variant):
    with web_app(variant) as app:
        response = httpx.get(app.url, timeout=10)
    assert response.status_code == 200
    assert response.text == "Hello, world"
    assert response.headers["X-Worker-Pid"] == str(app.pid)


def test_processes_share_the_port():
    with web_app("hello", processes=2) as app:
        pids = {r.headers["X-Worker-Pid"] for r in _get_many(app.url, 40)}
    assert len(pids) == 2 and str(app.pid) not in pids  # two forked workers answered, not the parent


def test_blocking_call_holds_the_loop_and_async_call_does_not():
    in_flight = {}
    with external_api(200) as api:
        for variant in ("blocking", "async"):
            with web_app(variant, external_url=api.url) as app:
                reset_external(api.url)
                pages = _get_many(app.url, 6)
                in_flight[variant] = external_stats(api.url)["max_in_flight"]
            assert all(p.status_code == 200 and p.text.startswith("Hello, world | external #") for p in pages)
    assert in_flight == {"blocking": 1, "async": 6}


def test_talk_rows():
    rows = talk_rows(processes=(2, 8))
    assert [r.variant for r in rows] == ["hello", "cpu", "cpu", "cpu", "blocking", "async", "async"]
    assert [r.processes for r in rows[:4]] == [1, 1, 2, 8]
    assert rows[1].cpu == 20 and rows[4].cpu == 0 and rows[-1].cpu == 20
    assert rows[5].users == rows[6].users == 100 and rows[0].users == 12
    assert not talk_rows(async_with_cpu=False)[-1].cpu
    with pytest.raises(ValueError, match="external_url"):
        run_row(Row("x", "async"), users=1, duration_s=1)


def test_run_row_loads_the_app_with_locust():
    record = run_row(Row("hello world", "hello"), users=2, duration_s=3)
    assert record["requests"] > 0 and record["failures"] == 0 and record["rps"] > 0
    assert math.isinf(record["bound_rps"]) and record["limit"] == "none" and math.isnan(record["of_bound"])
    assert record["server_cores"] > 0


def test_plots_draw_bars_and_bounds():
    table = pd.DataFrame(
        {"rps": [1500.0, 48.0, 9.5], "bound_rps": [math.inf, 50.0, 10.0], "p50_ms": [5.0, 400, 2000],
         "p95_ms": [8.0, 500, 2100], "p99_ms": [9.0, 600, 2200]},
        index=["hello world", "+ 20 ms CPU", "blocking external call"],
    )  # fmt: skip
    ax = plot_throughput(table, title="t")
    assert len(ax.patches) == 3 and len(ax.collections) == 1  # bars, and one set of bound markers
    ax = plot_latency(table)
    assert len(ax.patches) == 9


def test_forked_workers_die_with_a_killed_parent():
    import os
    import signal

    import psutil

    with web_app("hello", processes=2) as app:
        workers = psutil.Process(app.pid).children()
        assert len(workers) == 2
        os.kill(app.pid, signal.SIGKILL)  # the parent dies without cleaning up
        gone, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, f"orphan workers still running: {[p.pid for p in alive]}"
