"""Capacity maths: how many req/s we need, and how many a configuration can serve at most.

Three small laws cover the talk's req/s table:

- **demand**: ``users × page views / seconds``: 10 M users in 10 h with 5 page views each
  is 1e7 × 5 / 36 000 ≈ 1 389 req/s (the talk rounds it to "~1 500");
- **service time**: a process that spends ``s`` seconds of CPU per request serves at most
  ``1 / s`` req/s (20 ms → 50 req/s), and N processes on C cores at most ``min(N, C) / s``;
  a process that *blocks* for an external call is busy for CPU + wait, so ``N / (cpu + wait)``;
- **Little's law**: in a steady state, requests in flight = throughput × latency
  (``L = λ W``). With ``users`` clients that wait for each answer, throughput is at most
  ``users / latency``; to serve ``λ`` req/s at latency ``W`` you need ``λ W`` requests in
  flight, so that many synchronous workers.

Every function takes and returns plain numbers; units are in the names and docstrings
(``_ms`` milliseconds, ``_s`` seconds, req/s). Bad input raises ``ValueError``.

Sources: "High Audience Python" (Guilherme Vierno, globo.com): the capacity estimate and the
"maximum 50 req/s" bound of a 20 ms render; J. D. C. Little, "A Proof for the Queuing Formula
L = λW" (Operations Research, 1961).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import psutil


def cores() -> int:
    """CPU cores this process may use (the affinity mask, else ``os.cpu_count()``), >= 1."""
    try:
        return max(1, len(psutil.Process().cpu_affinity()))
    except (AttributeError, psutil.Error):
        return max(1, os.cpu_count() or 1)


def _positive(**values: float) -> None:
    for name, value in values.items():
        if value is None or not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")


def _non_negative(**values: float) -> None:
    for name, value in values.items():
        if value is None or not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")


def demand_rps(users: float, hours: float, page_views: float = 1) -> float:
    """Average req/s when ``users`` each view ``page_views`` pages spread over ``hours`` hours.

    ``demand_rps(10_000_000, 10, 5)`` ≈ 1 388.9 req/s (the talk: "~1 500 views/requests per
    second"). Peaks are higher than this average: size for a peak factor on top.
    """
    _positive(users=users, hours=hours, page_views=page_views)
    return users * page_views / (hours * 3600)


def littles_concurrency(throughput_rps: float, latency_s: float) -> float:
    """Little's law, ``L = λ W``: requests in flight for ``throughput_rps`` at ``latency_s`` seconds."""
    _non_negative(throughput_rps=throughput_rps, latency_s=latency_s)
    return throughput_rps * latency_s


def littles_throughput(concurrency: float, latency_s: float) -> float:
    """Little's law, ``λ = L / W``: req/s that ``concurrency`` requests in flight of ``latency_s`` give."""
    _non_negative(concurrency=concurrency)
    _positive(latency_s=latency_s)
    return concurrency / latency_s


def workers_needed(target_rps: float, latency_ms: float, per_worker: int = 1) -> int:
    """Synchronous workers needed to serve ``target_rps`` req/s at ``latency_ms`` ms each.

    Little's law gives the requests in flight, ``target_rps × latency_s``; a synchronous
    worker holds one request at a time (``per_worker`` for threads/async), so the answer is
    that divided by ``per_worker``, rounded *up* (a fraction of a worker does not exist).
    ``workers_needed(1500, 120)`` = 180.
    """
    _positive(target_rps=target_rps, latency_ms=latency_ms, per_worker=per_worker)
    in_flight = littles_concurrency(target_rps, latency_ms / 1000)
    return math.ceil(round(in_flight / per_worker, 9))  # round(): 180.00000000000003 is 180


@dataclass(frozen=True)
class Bound:
    """The theoretical maximum req/s of a configuration and what sets it.

    ``cpu``: ``min(processes, cores) / cpu_s`` (inf without CPU work); ``blocking``:
    ``processes / (cpu_s + external_s)`` when calls block (else inf); ``users``: Little's law,
    ``users / (cpu_s + external_s)`` (inf when users is unknown or latency is 0). ``rps`` is
    the smallest, ``limit`` its name ("cpu", "blocking", "users" or "none").
    """

    cpu: float
    blocking: float
    users: float

    @property
    def rps(self) -> float:
        return min(self.cpu, self.blocking, self.users)

    @property
    def limit(self) -> str:
        if math.isinf(self.rps):
            return "none"
        return min(("cpu", self.cpu), ("blocking", self.blocking), ("users", self.users), key=lambda kv: kv[1])[0]


def bound(
    *,
    processes: int = 1,
    cores_available: int | None = None,
    cpu_ms: float = 0.0,
    external_ms: float = 0.0,
    blocking: bool = True,
    users: int | None = None,
) -> Bound:
    """The theoretical maximum req/s of ``processes`` workers on ``cores_available`` cores.

    Each request burns ``cpu_ms`` of CPU and waits ``external_ms`` for an external call that
    either ``blocking`` (holds its process) or not (async: waiting costs nothing). ``users``:
    concurrent clients, each waiting for its answer (``None``: enough clients). Defaults:
    ``cores_available`` = this machine's ``cores()``. Examples: 1 process, 20 ms → 50 req/s;
    8 processes on 2 cores, 20 ms → 100; blocking 20 + 100 ms, 1 process → 8.3; async 100 ms,
    50 users → 500. Raises ``ValueError`` for processes/cores < 1 or negative times.
    """
    cores_available = cores() if cores_available is None else cores_available
    _positive(processes=processes, cores_available=cores_available)
    _non_negative(cpu_ms=cpu_ms, external_ms=external_ms)
    if users is not None:
        _positive(users=users)
    cpu_s, latency_s = cpu_ms / 1000, (cpu_ms + external_ms) / 1000
    cpu = min(processes, cores_available) / cpu_s if cpu_s > 0 else math.inf
    held = blocking and external_ms > 0
    per_process = processes / latency_s if held else math.inf
    by_users = users / latency_s if users and latency_s > 0 else math.inf
    return Bound(cpu=cpu, blocking=per_process, users=by_users)


def bound_rps(processes: int, cores_available: int, cpu_ms: float, external_ms: float = 0.0,
              blocking: bool = True, users: int | None = None) -> float:  # fmt: skip
    """``bound(...).rps`` with positional arguments: the maximum req/s (``math.inf`` when unbounded)."""
    return bound(processes=processes, cores_available=cores_available, cpu_ms=cpu_ms,
                 external_ms=external_ms, blocking=blocking, users=users).rps  # fmt: skip
