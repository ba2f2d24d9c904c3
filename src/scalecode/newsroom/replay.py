"""Replaying traffic through the cached news page: hit ratio over time, the TTL sweep.

Requests run one after another as fast as the page allows, in real time, so TTLs
expire as they would in production.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..backends import delete_prefix
from ..caching import CacheStats
from .pages import cached_news_page, remote_database


@dataclass
class Replay:
    """What a replay measured: per-request latency (s) and hit flags, and the totals."""

    latencies: np.ndarray
    stats: CacheStats
    queries: int
    seconds: float
    ttl: float
    timeline: list[float] = field(default_factory=list)  # request start, s since the replay began

    @property
    def throughput(self) -> float:
        """Requests per second over the whole replay (req/s)."""
        return len(self.latencies) / self.seconds if self.seconds else float("nan")


def replay(
    client,
    trace: list[tuple[int, str | None]],
    *,
    ttl: float,
    duration_s: float | None = None,
    round_trip_s: float | None = None,
    empty_first: bool = True,
    warm: bool = False,
) -> Replay:
    """Serve ``trace`` (``(page, category)`` pairs) through ``cached_news_page``.

    With ``duration_s`` the trace repeats until that many seconds have passed; without,
    it runs once. ``ttl`` in seconds; ``round_trip_s`` per query (default: the simulated
    remote database). ``empty_first`` deletes the workshop's keys before starting;
    ``warm`` then caches every page of the trace once, untimed (a steady state, not a cold start).
    """
    if not trace:
        raise ValueError("the trace is empty")
    if empty_first:
        delete_prefix(client)
    if warm:
        for page, category in dict.fromkeys(trace):
            cached_news_page(client, page, category, ttl=ttl)
    stats = CacheStats()
    latencies, timeline = [], []
    requests = itertools.cycle(trace) if duration_s else iter(trace)
    with remote_database(round_trip_s) as db:
        began = time.perf_counter()
        for page, category in requests:
            start = time.perf_counter()
            if duration_s and start - began >= duration_s:
                break
            cached_news_page(client, page, category, ttl=ttl, stats=stats)
            latencies.append(time.perf_counter() - start)
            timeline.append(start - began)
        seconds = time.perf_counter() - began
    return Replay(np.asarray(latencies), stats, db.queries, seconds, ttl, timeline)


def ttl_sweep(
    client,
    trace: list[tuple[int, str | None]],
    ttls: list[float],
    *,
    duration_s: float,
    round_trip_s: float | None = None,
) -> pd.DataFrame:
    """Replay the same traffic for ``duration_s`` seconds per TTL, from a warm cache; one row per TTL.

    Columns: ttl_s, requests, hit_ratio, throughput (req/s), mean_ms, p95_ms, queries.
    """
    rows = []
    for ttl in ttls:
        run = replay(client, trace, ttl=ttl, duration_s=duration_s, round_trip_s=round_trip_s, warm=True)
        rows.append({
            "ttl_s": ttl,
            "requests": len(run.latencies),
            "hit_ratio": run.stats.hit_ratio,
            "throughput": run.throughput,
            "mean_ms": run.latencies.mean() * 1e3,
            "p95_ms": float(np.percentile(run.latencies, 95)) * 1e3,
            "queries": run.queries,
        })  # fmt: skip
    delete_prefix(client)
    return pd.DataFrame(rows)
