"""Timing many calls and summarising latencies: p50/p95/p99, in one place.

Latency percentiles, not means, are how the field reports response times: p50 is the
typical request, p95/p99 the slow tail that many users still meet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

PERCENTILES = (50, 95, 99)


def time_call(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn()`` takes (``time.perf_counter``)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_calls(fn: Callable[[], object], n: int, *, before_each: Callable[[], object] | None = None) -> np.ndarray:
    """Call ``fn()`` ``n`` times; return the ``n`` latencies in seconds (float array).

    ``before_each`` runs before every call, outside the timing (e.g. emptying the cache
    to measure misses). Raises ``ValueError`` when ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    samples = np.empty(n)
    for i in range(n):
        if before_each is not None:
            before_each()
        samples[i] = time_call(fn)
    return samples


def latency_summary(samples: Iterable[float]) -> dict[str, float]:
    """``{"n", "mean", "p50", "p95", "p99", "max"}`` of latencies given in seconds (values in seconds)."""
    arr = np.asarray(list(samples) if not isinstance(samples, np.ndarray) else samples, dtype=float)
    if arr.size == 0:
        raise ValueError("no samples to summarise")
    out = {"n": float(arr.size), "mean": float(arr.mean())}
    for p in PERCENTILES:
        out[f"p{p}"] = float(np.percentile(arr, p))
    out["max"] = float(arr.max())
    return out


def latency_table(samples: Mapping[str, Iterable[float]], unit: str = "ms") -> pd.DataFrame:
    """One row per named sample set: n, mean, p50, p95, p99, max, in ``unit`` (ms, us or s)."""
    factor = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    rows = {}
    for name, values in samples.items():
        summary = latency_summary(values)
        rows[name] = {k: (v if k == "n" else v * factor) for k, v in summary.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["n"] = table["n"].astype(int)
    table.columns = [c if c == "n" else f"{c} ({unit})" for c in table.columns]
    return table
