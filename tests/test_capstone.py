"""The capstone (module 13): the slow pieces, their fixes, the served app, the helpers.

Behaviour only (rows, queries, calls, bytes, memory ratios), never wall-clock speed.
"""

from __future__ import annotations

import time
import urllib.request

import pytest

from scalecode.backends import setup_django

setup_django()  # the capstone's modules import the newsroom's models: Django first (idempotent, lock-safe)

from scalecode.capstone import app  # noqa: E402
from scalecode.capstone.external import HEADLINE  # noqa: E402
from scalecode.capstone.serve import (  # noqa: E402
    capstone_server,
    external_count,
    external_service,
    load_round,
    plot_rounds,
    reset_external,
    server_env,
)


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def external():
    with external_service(delay_s=0.01) as service:
        yield service


def queries(fn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        value = fn()
    return value, len(captured)


# --- the external service ------------------------------------------------------------------------
def test_external_service_counts_and_resets(external):
    reset_external(external.url)
    assert external_count(external.url) == 0
    assert app.fetch_headline(external.url) == HEADLINE
    assert app.fetch_headline(external.url) == HEADLINE
    assert external_count(external.url) == 2
    reset_external(external.url)
    assert external_count(external.url) == 0


def test_external_service_rejects_a_negative_delay():
    with pytest.raises(ValueError, match="delay_s"):
        external_service(delay_s=-1)


# --- 1. the listing --------------------------------------------------------------------------------
def test_fast_listing_gives_the_slow_rows_in_two_queries(django_ready):
    slow_rows, slow_queries = queries(lambda: app.listing_rows(app.slow_listing(20)))
    fast_rows, fast_queries = queries(lambda: app.listing_rows(app.fast_listing(20)))
    assert fast_rows == slow_rows
    assert len(slow_rows) == 20
    assert slow_queries == 1 + 3 * 20
    assert fast_queries == 2


# --- 2. the expensive computation ----------------------------------------------------------------------
def test_cached_trending_computes_once_and_returns_the_same(django_ready):
    expected = app.trending_topics()
    assert len(expected) == 8 and all(isinstance(w, str) and c >= 1 for w, c in expected)
    app.cached_trending()
    before = app.CALLS["trending"]
    assert all(app.cached_trending() == expected for _ in range(10))
    assert app.CALLS["trending"] == before


def test_burn_cpu_spends_cpu_time():
    start = time.thread_time()
    assert app.burn_cpu(10) >= 1
    assert time.thread_time() - start >= 0.01


# --- 3. the external call ----------------------------------------------------------------------------
def test_cached_headline_calls_once_per_ttl(external):
    reset_external(external.url)
    assert [app.cached_headline(external.url, ttl=0.3) for _ in range(10)] == [HEADLINE] * 10
    assert external_count(external.url) == 1
    time.sleep(0.4)
    app.cached_headline(external.url, ttl=0.3)
    assert external_count(external.url) == 2


# --- the page ---------------------------------------------------------------------------------------
def test_every_round_renders_the_same_page(django_ready, external):
    pages = {r.number: app.render_front_page(r.listing, r.trending, r.headline, external.url) for r in app.ROUNDS}
    assert len(set(pages.values())) == 1
    assert HEADLINE in pages[0] and "comentário" in pages[0]
    assert [r.path for r in app.ROUNDS] == ["/r0/", "/r1/", "/r2/", "/r3/"]


def test_front_page_view_needs_an_external_url(django_ready):
    from django.core.exceptions import ImproperlyConfigured
    from django.test import RequestFactory

    view = app.front_page_view(app.fast_listing, app.cached_trending, app.cached_headline)
    with pytest.raises(ImproperlyConfigured, match="CAPSTONE_EXTERNAL_URL"):
        view(RequestFactory().get("/"))


def test_in_process_rps_counts_queries_per_request(django_ready, external):
    r0, r3 = app.ROUNDS[0], app.ROUNDS[3]
    slow = app.in_process_rps(app.front_page_view(r0.listing, r0.trending, r0.headline, external.url), 2,
                              round_trip_s=0)  # fmt: skip
    fixed_view = app.front_page_view(r3.listing, r3.trending, r3.headline, external.url)
    app.in_process_rps(fixed_view, 1, round_trip_s=0)
    fixed = app.in_process_rps(fixed_view, 5, round_trip_s=0)
    assert slow.queries_per_request == 62  # 61 for the listing, 1 for the trending topics
    assert fixed.queries_per_request == 2
    assert slow.rps > 0 and fixed.requests == 5
    with pytest.raises(ValueError, match="requests"):
        app.in_process_rps(fixed_view, 0)


def test_profile_request_finds_the_three_bottlenecks(django_ready, external):
    r0 = app.ROUNDS[0]
    profile = app.profile_request(app.front_page_view(r0.listing, r0.trending, r0.headline, external.url),
                                  round_trip_s=0.001)  # fmt: skip
    assert profile.queries == 62
    ms = profile.breakdown["ms"]
    assert ms["external call"] >= 10  # the service waits 10 ms
    assert ms["trending topics (CPU)"] >= app.EXPENSIVE_CPU_S * 1e3 * 0.9
    assert ms["database: queries + round trips"] >= 62 * 1.0
    assert (profile.breakdown["share"] >= 0).all()


# --- 4. the export ------------------------------------------------------------------------------------
def test_streaming_export_sends_the_same_bytes_with_much_less_memory(django_ready):
    slow = app.measure_export(app.export_slow)
    streamed = app.measure_export(app.export_streaming)
    assert not slow.streaming and streamed.streaming
    assert streamed.sha256 == slow.sha256 and slow.size_bytes > 1_000_000
    assert streamed.peak_mib * 10 < slow.peak_mib


def test_measure_export_rejects_an_error_response(django_ready):
    from django.http import HttpResponse

    with pytest.raises(ValueError, match="HTTP 500"):
        app.measure_export(lambda request: HttpResponse("boom", status=500))


# --- serving -------------------------------------------------------------------------------------------------
def test_server_env_points_at_the_same_database(django_ready):
    from scalecode.backends.database import sqlite_path

    env = server_env("http://127.0.0.1:1")
    assert env["DJANGO_SETTINGS_MODULE"] == "scalecode.capstone.settings"
    assert env["CAPSTONE_EXTERNAL_URL"] == "http://127.0.0.1:1"
    if django_ready.is_real:
        assert env["DATABASE_URL"].startswith("postgresql")
    else:
        assert env["SCALECODE_SQLITE_PATH"] == str(sqlite_path()) and env["DATABASE_URL"] == ""


def test_served_app_answers_every_round_and_the_exports(django_ready, external):
    reset_external(external.url)
    with capstone_server(external.url, workers=1, db_round_trip_s=0) as server:
        assert get(server.url + "/health/") == (200, "ok")
        pages = {r.number: get(server.url + r.path) for r in app.ROUNDS}
        assert {status for status, _ in pages.values()} == {200}
        assert len({body for _, body in pages.values()}) == 1
        assert external_count(external.url) == 4  # rounds 0-2 wait for it; round 3 fills its cache once
        slow_csv, stream_csv = get(server.url + "/export/slow.csv"), get(server.url + "/export/stream.csv")
        assert slow_csv == stream_csv
        row = load_round(server.url, app.ROUNDS[3], external_url=external.url, users=2, duration_s=3)
    assert row["requests"] > 0 and row["failures"] == 0 and row["round"] == 3
    assert row["external_per_request"] <= 0.1


@pytest.mark.real
def test_served_app_uses_postgresql_in_real_mode(django_ready):
    assert django_ready.is_real
    assert server_env("http://127.0.0.1:1")["DATABASE_URL"].startswith("postgresql")


def test_capstone_server_and_plot_reject_bad_input():
    import pandas as pd

    with pytest.raises(ValueError, match="workers"):
        capstone_server("http://127.0.0.1:1", workers=0)
    with pytest.raises(ValueError, match="p95_ms"):
        plot_rounds(pd.DataFrame({"rps": [1.0]}))
    fig = plot_rounds(pd.DataFrame({"rps": [5.0, 50.0], "p95_ms": [900.0, 40.0]}))
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)
