"""Reading and ranking an HTTP access log: which endpoint should we fix first?

A log has one row per request with the columns of ``COLUMNS``:
``timestamp`` (UTC), ``method``, ``endpoint`` (the URL pattern such as ``/noticia/<slug>/``,
not the raw path, so that all requests of one view fall in one group), ``status``,
``duration_ms`` (milliseconds) and ``queries`` (database queries the request ran).
``data/newsroom/access_log.csv`` is one generated day of the newsroom (``data/make_data.py``);
``scalecode.newsroom.timing.RequestTimingMiddleware`` writes the same shape for your own runs.

The idea comes from Iuri de Silvio, *Escalando para o imprevisível* ("always measure impact:
the sum of execution time gives the priority"): an endpoint that is fast but called all the
time can cost the servers more than a slow endpoint called a few times a day. Percentiles
say how one request feels; the *sum* says where the servers spend their time.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import IO

import matplotlib.pyplot as plt
import pandas as pd

from .config import data_dir

#: The columns of an access log, in order.
COLUMNS = ("timestamp", "method", "endpoint", "status", "duration_ms", "queries")

#: The columns of ``endpoint_stats``: requests, milliseconds, seconds, share of all time.
STATS_COLUMNS = ("count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "total_s", "share", "errors")


def log_path() -> Path:
    """The committed day of newsroom traffic: ``data/newsroom/access_log.csv``."""
    return data_dir() / "newsroom" / "access_log.csv"


def read_log(source: str | PathLike | IO[str] | None = None) -> pd.DataFrame:
    """Read an access log CSV (a path or an open text file; default ``log_path()``).

    Returns a DataFrame with the ``COLUMNS``: ``timestamp`` as UTC ``datetime64``,
    ``status`` and ``queries`` as integers, ``duration_ms`` as float milliseconds.
    Raises ``FileNotFoundError`` (with the command that makes the file) or ``ValueError``
    naming the missing columns.
    """
    source = log_path() if source is None else source
    if isinstance(source, (str, PathLike)) and not Path(source).exists():
        raise FileNotFoundError(f"{source} does not exist: make the data set with python data/make_data.py")
    frame = pd.read_csv(source, dtype={"method": str, "endpoint": str})
    return as_log(frame)


def as_log(frame: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """Check and type a log given as a DataFrame or a list of row dicts (see ``read_log``)."""
    frame = pd.DataFrame(frame)
    if frame.empty and not len(frame.columns):
        frame = pd.DataFrame(columns=list(COLUMNS))
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"an access log needs the columns {list(COLUMNS)}; missing {missing}")
    frame = frame[list(COLUMNS)].copy()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["status"] = frame["status"].astype(int)
    frame["duration_ms"] = frame["duration_ms"].astype(float)
    frame["queries"] = frame["queries"].astype(int)
    return frame.reset_index(drop=True)


def endpoint_stats(log: pd.DataFrame) -> pd.DataFrame:
    """One row per endpoint, sorted by ``total_s`` (the priority), largest first.

    Columns (``STATS_COLUMNS``): ``count`` (requests), ``mean_ms``, ``p50_ms``, ``p95_ms``,
    ``p99_ms`` (milliseconds; percentiles with pandas' default linear interpolation),
    ``total_s`` (the sum of all durations, in seconds), ``share`` (``total_s`` / the total
    of all endpoints, 0..1) and ``errors`` (responses with status >= 500).
    Raises ``ValueError`` for a log without rows or without the needed columns.
    """
    if "endpoint" not in log or "duration_ms" not in log:
        raise ValueError("the log needs 'endpoint' and 'duration_ms' columns (see accesslog.COLUMNS)")
    if log.empty:
        raise ValueError("the log has no requests")
    grouped = log.groupby("endpoint")["duration_ms"]
    stats = pd.DataFrame({
        "count": grouped.size(),
        "mean_ms": grouped.mean(),
        "p50_ms": grouped.quantile(0.50),
        "p95_ms": grouped.quantile(0.95),
        "p99_ms": grouped.quantile(0.99),
        "total_s": grouped.sum() / 1000,
    })  # fmt: skip
    stats["share"] = stats["total_s"] / stats["total_s"].sum()
    if "status" in log:
        stats["errors"] = (log["status"] >= 500).groupby(log["endpoint"]).sum().astype(int)
    else:
        stats["errors"] = 0
    return stats.sort_values("total_s", ascending=False)


def ranking(stats: pd.DataFrame, by: str = "total_s") -> list[str]:
    """Endpoints ordered by the column ``by`` of ``endpoint_stats``, largest first."""
    if by not in stats:
        raise ValueError(f"no column {by!r} in the stats; choose one of {list(stats.columns)}")
    return list(stats[by].sort_values(ascending=False, kind="stable").index)


def saving_s(stats: pd.DataFrame, endpoint: str, factor: float) -> float:
    """Seconds of server time saved over the log if ``endpoint`` became ``factor`` times faster.

    ``total_s × (1 - 1/factor)``: making it 2× faster saves half its total, 10× faster
    saves 90 %. Raises ``KeyError`` for an unknown endpoint, ``ValueError`` for factor < 1.
    """
    if factor < 1:
        raise ValueError(f"factor is how many times faster, >= 1; got {factor}")
    if endpoint not in stats.index:
        raise KeyError(f"no endpoint {endpoint!r} in the stats; known: {list(stats.index)}")
    return float(stats.loc[endpoint, "total_s"] * (1 - 1 / factor))


def requests_per_hour(log: pd.DataFrame) -> pd.Series:
    """Requests per hour of the day (index 0..23, UTC; hours without requests count 0)."""
    hours = log["timestamp"].dt.hour
    return hours.value_counts().reindex(range(24), fill_value=0).rename("requests").rename_axis("hour (UTC)")


def plot_rankings(stats: pd.DataFrame, *, axes=None):
    """Two bar charts side by side: total time per endpoint (s) and p95 per endpoint (ms).

    Each chart is sorted by its own measure, so the two rankings can be compared.
    Returns the two axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    left, right = axes
    total = stats["total_s"].sort_values()
    p95 = stats["p95_ms"].sort_values()
    top = total.index[-1]
    left.barh(total.index, total.values, color=["tab:red" if e == top else "tab:gray" for e in total.index])
    left.set_xlabel("total time in the log (s)")
    left.set_title("by total time: what costs the servers most")
    right.barh(p95.index, p95.values, color=["tab:red" if e == top else "tab:gray" for e in p95.index])
    right.set_xscale("log")
    right.set_xlabel("p95 latency (ms, log)")
    right.set_title("by p95: what feels slowest to one user")
    left.figure.tight_layout()
    return axes


def plot_requests_per_hour(log: pd.DataFrame, *, ax=None):
    """Bar chart of requests per UTC hour (the daily shape of the traffic). Returns the axis."""
    ax = ax or plt.subplots(figsize=(8, 3))[1]
    per_hour = requests_per_hour(log)
    ax.bar(per_hour.index, per_hour.values, color="tab:blue")
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("hour of the day (UTC; Brasília is UTC-3)")
    ax.set_ylabel("requests")
    ax.set_title("requests per hour")
    return ax
