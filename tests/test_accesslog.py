"""scalecode.accesslog: reading a log, per-endpoint stats, the ranking by total time, the saving."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

from scalecode import accesslog

matplotlib.use("Agg")

CSV = """timestamp,method,endpoint,status,duration_ms,queries
2024-11-05T10:00:00.000Z,GET,/noticias/,200,100.0,61
2024-11-05T10:00:01.500Z,GET,/noticias/,200,300.0,61
2024-11-05T11:30:00.000Z,GET,/exportar/,500,5000.0,2
2024-11-05T11:31:00.000Z,GET,/health/,200,1.0,0
2024-11-05T23:59:59.999Z,POST,/noticias/,201,200.0,63
"""


def _log() -> pd.DataFrame:
    return accesslog.read_log(io.StringIO(CSV))


def test_read_log_types_the_columns():
    log = _log()
    assert list(log.columns) == list(accesslog.COLUMNS)
    assert str(log["timestamp"].dt.tz) == "UTC"
    assert log["timestamp"].iloc[-1] == pd.Timestamp("2024-11-05T23:59:59.999Z")
    assert log["status"].dtype.kind == "i" and log["queries"].dtype.kind == "i"
    assert log["duration_ms"].dtype.kind == "f"


def test_read_log_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_data.py"):
        accesslog.read_log(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="missing \\['duration_ms'"):
        accesslog.read_log(io.StringIO("timestamp,method,endpoint,status,queries\n"))


def test_endpoint_stats_by_hand():
    stats = accesslog.endpoint_stats(_log())
    assert list(stats.columns) == list(accesslog.STATS_COLUMNS)
    assert list(stats.index) == ["/exportar/", "/noticias/", "/health/"]  # by total time
    news = stats.loc["/noticias/"]
    assert news["count"] == 3 and news["mean_ms"] == pytest.approx(200.0)
    assert news["p50_ms"] == pytest.approx(200.0) and news["p95_ms"] == pytest.approx(290.0)  # linear
    assert news["total_s"] == pytest.approx(0.6)
    assert stats["share"].sum() == pytest.approx(1.0)
    assert stats.loc["/exportar/", "errors"] == 1 and stats.loc["/health/", "errors"] == 0


def test_endpoint_stats_rejects_an_empty_log():
    with pytest.raises(ValueError, match="no requests"):
        accesslog.endpoint_stats(accesslog.as_log([]))
    with pytest.raises(ValueError, match="duration_ms"):
        accesslog.endpoint_stats(pd.DataFrame({"endpoint": ["/a/"]}))


def test_ranking_and_saving():
    stats = accesslog.endpoint_stats(_log())
    assert accesslog.ranking(stats) == ["/exportar/", "/noticias/", "/health/"]
    assert accesslog.ranking(stats, "count")[0] == "/noticias/"
    assert accesslog.saving_s(stats, "/noticias/", 2) == pytest.approx(0.3)
    assert accesslog.saving_s(stats, "/exportar/", 10) == pytest.approx(4.5)
    assert accesslog.saving_s(stats, "/health/", 1) == 0
    with pytest.raises(KeyError, match="/busca/"):
        accesslog.saving_s(stats, "/busca/", 2)
    with pytest.raises(ValueError, match="faster"):
        accesslog.saving_s(stats, "/health/", 0.5)
    with pytest.raises(ValueError, match="no column"):
        accesslog.ranking(stats, "p42_ms")


def test_requests_per_hour_has_every_hour():
    per_hour = accesslog.requests_per_hour(_log())
    assert list(per_hour.index) == list(range(24))
    assert per_hour[10] == 2 and per_hour[11] == 2 and per_hour[23] == 1 and per_hour.sum() == 5


def test_the_committed_day_tells_the_story():
    """By design of data/make_data.py: the top by total time is not the top by p95."""
    log = accesslog.read_log()
    stats = accesslog.endpoint_stats(log)
    assert len(log) == stats["count"].sum() == 40_000
    assert accesslog.ranking(stats)[0] == "/noticias/"
    assert accesslog.ranking(stats, "p95_ms")[0] == "/exportar/"
    saving_top = accesslog.saving_s(stats, "/noticias/", 2)
    assert saving_top > accesslog.saving_s(stats, "/exportar/", 10)
    assert np.all(stats["p50_ms"] <= stats["p95_ms"]) and np.all(stats["p95_ms"] <= stats["p99_ms"])


def test_plots_draw(tmp_path):
    import matplotlib.pyplot as plt

    log = _log()
    left, right = accesslog.plot_rankings(accesslog.endpoint_stats(log))
    assert len(left.patches) == 3 and len(right.patches) == 3
    ax = accesslog.plot_requests_per_hour(log)
    assert len(ax.patches) == 24
    plt.close("all")
