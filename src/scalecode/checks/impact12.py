"""Checks of lab 12 (measure impact): per-endpoint stats, percentiles, the ranking, the saving.

Every check calls the learner's function on small logs whose answers are known (and on the
committed day of traffic), so any correct pandas (or plain Python) answer passes, and the
classic slips (mean instead of sum, milliseconds instead of seconds, no groupby,
``quantile(95)``, ranking by p95) get their own one-line hint.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..accesslog import endpoint_stats as _truth_stats
from ..accesslog import read_log
from .core import Hint, NotDone, call, check


def _log(durations: dict[str, list[float]]) -> pd.DataFrame:
    """A small, well-formed access log: one row per duration (ms), one second apart."""
    rows = []
    start = pd.Timestamp("2024-11-05T12:00:00Z")
    for endpoint, values in durations.items():
        for value in values:
            rows.append({"timestamp": start + pd.Timedelta(seconds=len(rows)), "method": "GET",
                         "endpoint": endpoint, "status": 200, "duration_ms": float(value), "queries": 1})  # fmt: skip
    return pd.DataFrame(rows)


#: Four endpoints whose rankings by total, mean, p95 and count all differ.
RANKING_LOG = {
    "/frequente/": [10.0] * 1000,  # total 10 s, mean 10 ms, the most requests
    "/medio/": [150.0] * 100,  # total 15 s: the priority
    "/lento/": [4000.0] * 2,  # total 8 s, the slowest per request
    "/cauda/": [20.0] * 45 + [1000.0] * 5,  # total 5.9 s, a long tail
}


def _frame(result, what: str) -> pd.DataFrame:
    """The learner's table with the endpoints as index (also accepted as a column)."""
    if result is None:
        raise NotDone(f"{what} returns None")
    if isinstance(result, pd.Series):
        raise Hint(f"{what} returned one Series; return a DataFrame with one column per figure (pd.DataFrame({{...}}))")
    if not isinstance(result, pd.DataFrame):
        raise Hint(f"{what} should return a pandas DataFrame, got {type(result).__name__}")
    if "endpoint" in result.columns:
        result = result.set_index("endpoint")
    return result


def _need(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise Hint(f"{what} has no column {missing[0]!r} (columns: {list(frame.columns)[:6]})")


def _groups(frame: pd.DataFrame, expected: pd.Index, what: str) -> None:
    if len(frame) == 1 and len(expected) > 1:
        raise Hint("one row for the whole log: group first, log.groupby('endpoint')['duration_ms']")
    if set(map(str, frame.index)) != set(map(str, expected)):
        raise Hint(f"{what} should have one row per endpoint (index {list(expected)[:3]}...), "
                   f"got index {list(frame.index)[:3]}...: groupby('endpoint')")  # fmt: skip


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)


@check("Exercise 1: per-endpoint stats", "write endpoint_stats(log) with count, mean_ms and total_s")
def check_endpoint_stats(endpoint_stats) -> str:
    """``count``, ``mean_ms`` and ``total_s`` per endpoint, on a tiny log and on the real day."""
    tiny = {"/a/": [100.0, 200.0, 300.0], "/b/": [1000.0], "/c/": [10.0] * 10}
    for name, log in (("a small log", _log(tiny)), ("the day's log", read_log())):
        truth = _truth_stats(log)
        got = _frame(call(endpoint_stats, log.copy(), name="endpoint_stats"), "endpoint_stats")
        _need(got, ("count", "mean_ms", "total_s"), "the table")
        _groups(got, truth.index, "the table")
        got = got.loc[truth.index]
        for endpoint in truth.index:
            count, mean, total = (truth.loc[endpoint, c] for c in ("count", "mean_ms", "total_s"))
            g_count, g_mean, g_total = (got.loc[endpoint, c] for c in ("count", "mean_ms", "total_s"))
            try:
                g_count, g_mean, g_total = float(g_count), float(g_mean), float(g_total)
            except (TypeError, ValueError):
                raise Hint("count, mean_ms and total_s should hold numbers") from None
            if not _close(g_count, count):
                if _close(g_count, total * 1000):
                    raise Hint("count holds the sum of durations: count requests with .size() or .count()")
                raise Hint(f"{endpoint} has {count} requests in {name}, your count says {g_count:g}")
            if not _close(g_mean, mean):
                if _close(g_mean, total * 1000):
                    raise Hint("mean_ms holds the sum: mean vs sum, use .mean() for mean_ms")
                if _close(g_mean, mean / 1000):
                    raise Hint("mean_ms is in seconds: keep the mean in milliseconds, as in the log")
                raise Hint(f"{endpoint}: mean_ms should be {mean:.4g} ms in {name}, got {g_mean:.4g}")
            if not _close(g_total, total):
                if _close(g_total, total * 1000):
                    raise Hint("total_s is in milliseconds: ms vs s, divide the sum of duration_ms by 1000")
                if _close(g_total, mean / 1000) or _close(g_total, mean):
                    raise Hint("total_s holds the mean: the total is the sum of all durations, .sum()")
                if _close(g_total, count):
                    raise Hint("total_s holds the count: add up duration_ms instead, .sum() / 1000")
                raise Hint(f"{endpoint}: total_s should be {total:.4g} s in {name}, got {g_total:.4g}")
    return "count, mean (ms) and total (s) match for every endpoint, on a small log and on the day"


@check("Exercise 2: percentiles", "write percentiles(log) with p50_ms, p95_ms and p99_ms per endpoint")
def check_percentiles(percentiles) -> str:
    """Any interpolation passes: each value must lie between the 'lower' and 'higher' percentile."""
    tiny = {"/um-a-cem/": [float(v) for v in range(1, 101)], "/dez/": [10.0] * 19 + [500.0],
            "/pares/": [float(v) for v in range(2, 402, 2)]}  # fmt: skip
    for name, log in (("a small log", _log(tiny)), ("the day's log", read_log())):
        try:
            result = call(percentiles, log.copy(), name="percentiles")
        except Hint as exc:
            if "[0, 1]" in str(exc) or "between 0 and 1" in str(exc) or "interval" in str(exc):
                raise Hint("pandas' quantile takes a fraction: quantile(0.95), not quantile(95)") from None
            raise
        got = _frame(result, "percentiles")
        _need(got, ("p50_ms", "p95_ms", "p99_ms"), "the table")
        groups = log.groupby("endpoint")["duration_ms"]
        _groups(got, pd.Index(sorted(groups.groups)), "the table")
        for endpoint, values in groups:
            arr = values.to_numpy()
            for p in (50, 95, 99):
                low = np.percentile(arr, p, method="lower")
                high = np.percentile(arr, p, method="higher")
                try:
                    value = float(got.loc[endpoint, f"p{p}_ms"])
                except (TypeError, ValueError):
                    raise Hint(f"p{p}_ms should hold numbers") from None
                if low - 1e-9 <= value <= high + 1e-9:
                    continue
                if np.isclose(value, np.percentile(arr, p / 100)):
                    raise Hint(f"that is the {p / 100}th percentile: np.percentile takes {p}, quantile takes {p / 100}")
                if np.isclose(value, arr.mean()):
                    raise Hint(f"p{p}_ms holds the mean: a percentile is a quantile, e.g. quantile({p / 100})")
                if low / 1000 - 1e-12 <= value <= high / 1000 + 1e-12:
                    raise Hint("the percentiles are in seconds: keep them in milliseconds (p95_ms)")
                if p != 50 and np.isclose(value, np.percentile(arr, 100 - p)):
                    raise Hint(f"p{p}_ms is the {100 - p}th percentile: the slow tail is quantile({p / 100})")
                raise Hint(f"{endpoint}: p{p}_ms should be about {np.percentile(arr, p):.4g} ms in {name}, "
                           f"got {value:.4g}")  # fmt: skip
    return "p50, p95 and p99 per endpoint are right (in ms)"


def _as_list(result) -> list[str]:
    if result is None:
        raise NotDone("fix_first returns None")
    if isinstance(result, pd.DataFrame):
        raise Hint("return the endpoints in order (a list such as list(stats.index)), not the whole table")
    if isinstance(result, pd.Series):
        result = result.index if not all(isinstance(v, str) for v in result.to_numpy()) else result.to_numpy()
    if isinstance(result, str) or not hasattr(result, "__iter__"):
        raise Hint(f"return a list of endpoints, largest total time first; got {type(result).__name__}")
    return [str(v) for v in result]


@check("Exercise 3: what to fix first", "write fix_first(log): the endpoints ordered by total time, largest first")
def check_fix_first(fix_first) -> str:
    """On a log where the rankings by total, mean, p95 and count all differ, only total passes."""
    log = _log(RANKING_LOG)
    got = _as_list(call(fix_first, log.copy(), name="fix_first"))
    stats = _truth_stats(log)
    orders = {
        "total": list(stats["total_s"].sort_values(ascending=False).index),
        "mean": list(stats["mean_ms"].sort_values(ascending=False).index),
        "p95": list(stats["p95_ms"].sort_values(ascending=False).index),
        "count": list(stats["count"].sort_values(ascending=False).index),
        "ascending": list(stats["total_s"].sort_values().index),
    }
    if got != orders["total"]:
        if got == orders["mean"]:
            raise Hint("ranked by mean latency: rank by total time (the sum), which counts how often it runs")
        if got[:1] == orders["p95"][:1]:
            raise Hint("ranked by the slowest request (p95/max): rank by total time, count × mean = the sum")
        if got == orders["count"]:
            raise Hint("ranked by number of requests: rank by total time, which also weighs how slow each is")
        if got == orders["ascending"]:
            raise Hint("smallest first: sort_values(ascending=False) so the biggest total comes first")
        if sorted(got) != sorted(orders["total"]):
            raise Hint(f"expected every endpoint once, e.g. {orders['total']}; got {got[:5]}")
        raise Hint(f"expected {orders['total']} (by the sum of duration_ms), got {got}")
    day = read_log()
    got_day = _as_list(call(fix_first, day.copy(), name="fix_first"))
    truth_day = list(_truth_stats(day).index)
    if got_day != truth_day:
        raise Hint(f"right on a small log, but on the day's log expected {truth_day[:3]}..., got {got_day[:3]}...")
    return f"fix {truth_day[0]} first: it takes the most server time over the day"


@check("Exercise 4: estimate the saving", "write saving_s(log, endpoint, factor): seconds saved per day")
def check_saving(saving_s) -> str:
    """``total_s × (1 - 1/factor)`` for several endpoints and factors."""
    log = _log(RANKING_LOG)
    stats = _truth_stats(log)
    for endpoint, factor in (("/medio/", 2), ("/lento/", 10), ("/cauda/", 4), ("/frequente/", 1)):
        total = float(stats.loc[endpoint, "total_s"])
        count = int(stats.loc[endpoint, "count"])
        expected = total * (1 - 1 / factor)
        value = call(saving_s, log.copy(), endpoint, factor, name="saving_s")
        if value is None:
            raise NotDone("saving_s returns None")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise Hint(f"saving_s should return a number of seconds, got {type(value).__name__}") from None
        if _close(value, expected):
            continue
        if factor > 1 and _close(value, total / factor):
            raise Hint("that is the time left after the speed-up; the saving is total - total / factor")
        if _close(value, expected * 1000):
            raise Hint("the saving is in milliseconds: divide by 1000 for seconds")
        if _close(value, expected / count) or _close(value, expected * 1000 / count):
            raise Hint("that is the saving per request: multiply by the number of requests (use the sum)")
        if _close(value, total * 0.5):
            raise Hint(f"use the factor: {factor}× faster saves total × (1 - 1/{factor}), not always half")
        if _close(value, total):
            raise Hint("that is all of its time: a faster endpoint still takes total / factor")
        raise Hint(f"{endpoint} {factor}× faster should save {expected:.4g} s, got {value:.4g}")
    return "total × (1 - 1/factor): a 2× gain on a big total can beat a 10× gain on a small one"
