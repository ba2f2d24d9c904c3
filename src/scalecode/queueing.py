"""Queueing: why 0.1 s becomes 2 s, then 4 s, then Bad Gateway as users grow.

A server with ``c`` workers, each busy ``S`` seconds per request, serves at most ``c / S``
req/s. Below that, requests rarely wait; near it, waits grow sharply (the *knee*); past it,
the queue grows without bound until a proxy gives up (504 Gateway Timeout) or refuses
(502 Bad Gateway). Two tools describe it:

- **the M/M/c model** (random arrivals at ``λ`` req/s, random service of mean ``S``, ``c``
  workers, one FIFO queue). With the offered load ``a = λ S`` (in "workers' worth of work")
  and the **utilisation** ``ρ = λ S / c`` (< 1 for a stable queue), the **Erlang C** formula
  gives the probability that a request has to wait; the mean wait is
  ``C / (c / S - λ)`` and the wait is exponential beyond zero, so its percentiles are exact:
  ``P(wait > t) = C · exp(-(c / S - λ) t)``. The percentiles of the response time
  (wait + service) are approximated as wait percentile + ``S`` (exact for a fixed service time
  when the wait percentile is; a good upper estimate for random service).
- **a discrete-event simulation** (``simulate_open``, ``simulate_closed``) of the same FIFO
  queue, with fixed or random service times, a timeout on the wait (answered 504 Gateway
  Timeout), and a bounded queue (answered 502 Bad Gateway at once). It gives what the formulas
  do not: percentiles with timeouts, and *closed-loop* clients (``N`` users that each wait for
  their answer before asking again, like locust's users), where Little's law gives the
  saturated latency ``N / c × S``.

Units: seconds, req/s, counts. Bad input raises ``ValueError`` with the name of the argument.

Sources: Ervilis Viana de Souza, "Não Escale Servidores, Escale Código!" (latency vs load,
vertical vs horizontal scaling); A. K. Erlang (1917), the Erlang C formula, as in L. Kleinrock,
*Queueing Systems* vol. 1 (1975), §3.5; J. D. C. Little, "A Proof for the Queuing Formula
L = λW" (1961).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

OK, BAD_GATEWAY, GATEWAY_TIMEOUT = 200, 502, 504

__all__ = [
    "MMc", "SimResult", "erlang_c", "mmc", "utilisation", "mean_wait_s", "mean_response_s",
    "wait_percentile_s", "response_percentile_s", "knee_arrival_rps", "knee_users",
    "littles_latency_s", "workers_for_budget", "crossing", "simulate_open", "simulate_closed", "latency_curve",
    "OK", "BAD_GATEWAY", "GATEWAY_TIMEOUT",
]  # fmt: skip


def _check(arrival_rps: float, service_s: float, workers: int) -> None:
    if not (isinstance(arrival_rps, int | float | np.number) and arrival_rps >= 0 and math.isfinite(arrival_rps)):
        raise ValueError(f"arrival_rps must be a number >= 0 (req/s), got {arrival_rps!r}")
    if not (isinstance(service_s, int | float | np.number) and service_s > 0 and math.isfinite(service_s)):
        raise ValueError(f"service_s must be a number > 0 (seconds per request), got {service_s!r}")
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")


def utilisation(arrival_rps: float, service_s: float, workers: int) -> float:
    """``ρ = λ S / c``: the fraction of the ``workers``' time spent serving (>= 1: unstable).

    ``arrival_rps`` λ in req/s, ``service_s`` S in seconds (mean), ``workers`` c >= 1.
    ``utilisation(30, 0.1, 4)`` = 0.75. (λ / μ = λ S alone is the *offered load* in workers,
    not the utilisation: divide by c.)
    """
    _check(arrival_rps, service_s, workers)
    return arrival_rps * service_s / workers


def erlang_c(arrival_rps: float, service_s: float, workers: int) -> float:
    """Probability that a request must wait for a worker in an M/M/c queue (Erlang C), in [0, 1].

    1.0 when the queue is unstable (utilisation >= 1). Computed with the Erlang B recursion
    ``B(k) = a B(k-1) / (k + a B(k-1))`` and ``C = c B / (c - a (1 - B))`` with ``a = λ S``, which
    stays accurate for thousands of workers (no factorials).
    """
    _check(arrival_rps, service_s, workers)
    a = arrival_rps * service_s
    if a >= workers:
        return 1.0
    if a == 0:
        return 0.0
    b = 1.0
    for k in range(1, workers + 1):
        b = a * b / (k + a * b)
    return workers * b / (workers - a * (1 - b))


def mean_wait_s(arrival_rps: float, service_s: float, workers: int) -> float:
    """Mean time a request waits in the queue, in seconds: ``C / (c / S - λ)`` (``inf`` if ρ >= 1)."""
    c = erlang_c(arrival_rps, service_s, workers)
    spare = workers / service_s - arrival_rps
    return math.inf if spare <= 0 else c / spare


def mean_response_s(arrival_rps: float, service_s: float, workers: int) -> float:
    """Mean response time (wait + service), in seconds (``inf`` if ρ >= 1)."""
    return mean_wait_s(arrival_rps, service_s, workers) + service_s


def wait_percentile_s(q: float, arrival_rps: float, service_s: float, workers: int) -> float:
    """The ``q`` quantile (0 < q < 1, e.g. 0.95) of the wait in the queue, in seconds (M/M/c, exact).

    ``P(wait > t) = C e^{-(c/S - λ) t}``, so the quantile is ``ln(C / (1 - q)) / (c/S - λ)``,
    or 0 when fewer than ``1 - q`` of the requests wait at all. ``inf`` if ρ >= 1.
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be a fraction between 0 and 1 (0.95 for p95), got {q!r}")
    c = erlang_c(arrival_rps, service_s, workers)
    spare = workers / service_s - arrival_rps
    if spare <= 0:
        return math.inf
    if c <= 1 - q:
        return 0.0
    return math.log(c / (1 - q)) / spare


def response_percentile_s(q: float, arrival_rps: float, service_s: float, workers: int) -> float:
    """Approximate ``q`` quantile of the response time, in seconds: M/M/c wait quantile + ``service_s``.

    That is the response of a request whose own service takes exactly ``S`` (like the served
    app's fixed sleep). It is an approximation both ways: a fixed service time waits less than
    M/M/c says (about half as long), and an exponential one has a longer tail than ``+ S``
    (``simulate_open`` gives either exactly).
    """
    return wait_percentile_s(q, arrival_rps, service_s, workers) + service_s


@dataclass(frozen=True)
class MMc:
    """The M/M/c figures for one configuration (seconds, req/s, fractions); see ``mmc``."""

    arrival_rps: float
    service_s: float
    workers: int
    utilisation: float
    p_wait: float
    mean_wait_s: float
    mean_response_s: float
    p95_s: float
    p99_s: float

    @property
    def capacity_rps(self) -> float:
        """``c / S``: the most req/s the workers can serve."""
        return self.workers / self.service_s

    @property
    def stable(self) -> bool:
        return self.utilisation < 1


def mmc(arrival_rps: float, service_s: float, workers: int) -> MMc:
    """All the M/M/c figures at once: utilisation, P(wait), mean wait and response, p95/p99 response."""
    return MMc(
        arrival_rps=float(arrival_rps), service_s=float(service_s), workers=int(workers),
        utilisation=utilisation(arrival_rps, service_s, workers),
        p_wait=erlang_c(arrival_rps, service_s, workers),
        mean_wait_s=mean_wait_s(arrival_rps, service_s, workers),
        mean_response_s=mean_response_s(arrival_rps, service_s, workers),
        p95_s=response_percentile_s(0.95, arrival_rps, service_s, workers),
        p99_s=response_percentile_s(0.99, arrival_rps, service_s, workers),
    )  # fmt: skip


def latency_curve(service_s: float, workers: int, *, points: int = 200, max_utilisation: float = 0.99):
    """A pandas DataFrame of the M/M/c curve from 0 to ``max_utilisation``: one row per arrival rate.

    Columns: ``arrival_rps``, ``utilisation``, ``p_wait``, ``mean_s``, ``p95_s``, ``p99_s``.
    """
    import pandas as pd

    _check(0, service_s, workers)
    if not 0 < max_utilisation < 1:
        raise ValueError(f"max_utilisation must be in (0, 1), got {max_utilisation!r}")
    rates = np.linspace(0, max_utilisation * workers / service_s, points)
    rows = [mmc(float(lam), service_s, workers) for lam in rates]
    return pd.DataFrame({
        "arrival_rps": rates, "utilisation": [r.utilisation for r in rows], "p_wait": [r.p_wait for r in rows],
        "mean_s": [r.mean_response_s for r in rows], "p95_s": [r.p95_s for r in rows],
        "p99_s": [r.p99_s for r in rows],
    })  # fmt: skip


def knee_arrival_rps(service_s: float, workers: int, *, factor: float = 2.0, statistic: str = "mean") -> float:
    """The knee of the M/M/c curve: the arrival rate (req/s) at which the response time reaches
    ``factor`` × the no-load latency ``service_s``.

    ``statistic``: "mean" (the mean response; with ``factor=2`` the mean wait equals one
    service time) or "p95" / "p99" (``response_percentile_s``). Found by bisection between 0 and
    the capacity ``c / S`` (the response time grows with λ). Divide by ``c / S`` for the
    utilisation at the knee: 0.5 with one worker (``ρ / (1 - ρ) = 1``), about 0.83 with 4 workers,
    0.98 with 64: more workers can run hotter before waits grow.
    """
    _check(0, service_s, workers)
    if factor <= 1:
        raise ValueError(f"factor must be > 1 (a multiple of the no-load latency), got {factor!r}")
    stats = {"mean": lambda lam: mean_response_s(lam, service_s, workers),
             "p95": lambda lam: response_percentile_s(0.95, lam, service_s, workers),
             "p99": lambda lam: response_percentile_s(0.99, lam, service_s, workers)}  # fmt: skip
    if statistic not in stats:
        raise ValueError(f"statistic must be one of {', '.join(stats)}, got {statistic!r}")
    target = factor * service_s
    lo, hi = 0.0, workers / service_s
    for _ in range(80):
        mid = (lo + hi) / 2
        if stats[statistic](mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def littles_latency_s(users: int, service_s: float, workers: int, think_s: float = 0.0) -> float:
    """Closed loop, Little's law: the latency of ``users`` clients sharing ``workers`` busy ``service_s``.

    Saturated (``users`` > ``workers``), throughput is ``c / S`` and every user is either thinking
    or in the system, so latency = ``users × S / c - think_s``; never below ``service_s``.
    ``littles_latency_s(40, 0.1, 2)`` = 2.0 s: the talk's 0.1 s request with 40 users and 2 workers.
    """
    _check(0, service_s, workers)
    if isinstance(users, bool) or not isinstance(users, int | np.integer) or users < 1:
        raise ValueError(f"users must be a whole number >= 1, got {users!r}")
    if think_s < 0:
        raise ValueError(f"think_s must be >= 0 seconds, got {think_s!r}")
    return max(service_s, users * service_s / workers - think_s)


def workers_for_budget(arrival_rps: float, service_s: float, *, p95_budget_s: float | None = None,
                       mean_wait_budget_s: float | None = None, max_workers: int = 100_000) -> int:  # fmt: skip
    """The fewest workers ``c`` that keep the M/M/c queue stable and within the budget(s).

    ``p95_budget_s``: the p95 response time must be <= this; ``mean_wait_budget_s``: the mean
    wait must be <= this (seconds; give one or both). Starts at the smallest stable ``c``
    (``floor(λ S) + 1``: utilisation < 1). Raises ``ValueError`` when a budget is below the
    service time itself (no number of workers helps: make the code faster) or none is given.
    """
    _check(arrival_rps, service_s, 1)
    if p95_budget_s is None and mean_wait_budget_s is None:
        raise ValueError("give p95_budget_s or mean_wait_budget_s (seconds)")
    if p95_budget_s is not None and p95_budget_s < service_s:
        raise ValueError(f"a p95 budget of {p95_budget_s} s is below the service time {service_s} s: "
                         "no number of workers meets it (scale vertically: make each request faster)")
    if mean_wait_budget_s is not None and mean_wait_budget_s < 0:
        raise ValueError(f"mean_wait_budget_s must be >= 0, got {mean_wait_budget_s!r}")
    c = max(1, math.floor(arrival_rps * service_s) + 1)
    while c <= max_workers:
        ok = True
        if p95_budget_s is not None:
            ok &= response_percentile_s(0.95, arrival_rps, service_s, c) <= p95_budget_s
        if mean_wait_budget_s is not None:
            ok &= mean_wait_s(arrival_rps, service_s, c) <= mean_wait_budget_s
        if ok:
            return c
        c += 1
    raise ValueError(f"no c <= {max_workers} meets the budget")


# -- discrete-event simulation ------------------------------------------------------------
@dataclass
class SimResult:
    """What a simulation produced, one entry per request, in arrival order.

    ``arrival_s``, ``wait_s``, ``latency_s`` (seconds; for a 504 the latency is the timeout,
    for a 502 zero) and ``status`` (200, 502 or 504) are numpy arrays. ``duration_s`` is the
    simulated time from the first arrival to the last answer.
    """

    arrival_s: np.ndarray
    wait_s: np.ndarray
    latency_s: np.ndarray
    status: np.ndarray
    duration_s: float
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.status)

    @property
    def error_ratio(self) -> float:
        """Fraction of requests answered 502 or 504."""
        return float(np.mean(self.status != OK)) if len(self) else math.nan

    @property
    def throughput_rps(self) -> float:
        """Successful answers per second of simulated time."""
        return float(np.sum(self.status == OK) / self.duration_s) if self.duration_s > 0 else math.nan

    def percentile_s(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the latency of every request (errors included, as a client sees it)."""
        return float(np.quantile(self.latency_s, q)) if len(self) else math.nan

    @property
    def mean_wait_s(self) -> float:
        served = self.status == OK
        return float(self.wait_s[served].mean()) if served.any() else math.nan

    def summary(self) -> dict[str, float]:
        """p50/p95/p99/mean latency (s), error ratio, throughput (req/s), requests."""
        return {"p50_s": self.percentile_s(0.5), "p95_s": self.percentile_s(0.95), "p99_s": self.percentile_s(0.99),
                "mean_s": float(self.latency_s.mean()), "error_ratio": self.error_ratio,
                "throughput_rps": self.throughput_rps, "requests": len(self)}  # fmt: skip


def _service_times(rng: np.random.Generator, n: int, service_s: float, service: str) -> np.ndarray:
    if service == "deterministic":
        return np.full(n, float(service_s))
    if service == "exponential":
        return rng.exponential(service_s, n)
    raise ValueError(f"service must be 'deterministic' or 'exponential', got {service!r}")


def _check_limits(timeout_s: float | None, queue_limit: int | None) -> None:
    if timeout_s is not None and not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0 seconds or None, got {timeout_s!r}")
    if queue_limit is not None and (not isinstance(queue_limit, int | np.integer) or queue_limit < 0):
        raise ValueError(f"queue_limit must be a whole number >= 0 or None, got {queue_limit!r}")


class _FifoServers:
    """``workers`` servers and one FIFO queue; requests must be offered in arrival order."""

    def __init__(self, workers: int, timeout_s: float | None, queue_limit: int | None) -> None:
        self.free_at = [0.0] * workers  # heap: when each worker is next free
        self.starts: list[float] = []  # heap: start times of the requests still waiting
        self.timeout_s, self.queue_limit = timeout_s, queue_limit

    def offer(self, arrival: float, service: float) -> tuple[float, float, int]:
        """(wait, latency, status) of a request arriving at ``arrival`` needing ``service`` seconds."""
        while self.starts and self.starts[0] <= arrival:
            heapq.heappop(self.starts)
        if self.queue_limit is not None and len(self.starts) >= self.queue_limit and self.free_at[0] > arrival:
            return 0.0, 0.0, BAD_GATEWAY
        start = max(arrival, self.free_at[0])
        wait = start - arrival
        if self.timeout_s is not None and wait > self.timeout_s:
            return self.timeout_s, self.timeout_s, GATEWAY_TIMEOUT
        heapq.heapreplace(self.free_at, start + service)
        if wait > 0:
            heapq.heappush(self.starts, start)
        return wait, wait + service, OK


def simulate_open(arrival_rps: float, service_s: float, workers: int, *, requests: int = 20_000,
                  service: str = "exponential", timeout_s: float | None = None, queue_limit: int | None = None,
                  seed: int = 0) -> SimResult:  # fmt: skip
    """Simulate ``requests`` Poisson arrivals at ``arrival_rps`` to ``workers`` FIFO workers.

    ``service``: "exponential" (the M/M/c model) or "deterministic" (every request takes
    ``service_s``, like a fixed sleep). ``timeout_s``: a request that would wait longer is
    answered 504 after ``timeout_s`` and never uses a worker; ``queue_limit``: a request that
    finds that many already waiting is answered 502 at once. Deterministic for a given ``seed``.
    """
    _check(arrival_rps, service_s, workers)
    _check_limits(timeout_s, queue_limit)
    if arrival_rps <= 0 or requests < 1:
        raise ValueError("simulate_open needs arrival_rps > 0 and requests >= 1")
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / arrival_rps, requests))
    services = _service_times(rng, requests, service_s, service)
    servers = _FifoServers(int(workers), timeout_s, queue_limit)
    out = np.array([servers.offer(a, s) for a, s in zip(arrivals.tolist(), services.tolist(), strict=True)])
    latency = out[:, 1]
    duration = float(np.max(arrivals + latency) - arrivals[0])
    return SimResult(arrivals, out[:, 0], latency, out[:, 2].astype(int), duration,
                     {"model": "open", "arrival_rps": arrival_rps, "service_s": service_s, "workers": workers})


def simulate_closed(users: int, service_s: float, workers: int, *, requests: int = 5_000, think_s: float = 0.0,
                    service: str = "deterministic", timeout_s: float | None = None, queue_limit: int | None = None,
                    warmup: float = 0.1, duration_s: float | None = None, seed: int = 0) -> SimResult:  # fmt: skip
    """Simulate ``users`` closed-loop clients (each sends, waits for the answer, thinks, sends again).

    This is how locust's users load a server: with ``think_s = 0``, ``users`` requests are always
    in flight. All users start at time 0 (as locust starts them at once), with a random offset of
    up to one service time so they do not arrive in lockstep. ``think_s`` is the mean of an
    exponential think time (0: none). The first ``warmup`` fraction of the requests (the start,
    while the queue fills) is dropped from the result. ``duration_s``: stop sending at that
    simulated time instead (like a timed locust run; ``requests`` is then an upper bound).
    Other parameters as in ``simulate_open``.
    """
    _check(0, service_s, workers)
    _check_limits(timeout_s, queue_limit)
    if isinstance(users, bool) or not isinstance(users, int | np.integer) or users < 1:
        raise ValueError(f"users must be a whole number >= 1, got {users!r}")
    if think_s < 0 or requests < 1 or not 0 <= warmup < 1 or (duration_s is not None and not duration_s > 0):
        raise ValueError("need think_s >= 0, requests >= 1, 0 <= warmup < 1 and duration_s > 0 (or None)")
    rng = np.random.default_rng(seed)
    services = _service_times(rng, requests, service_s, service)
    thinks = rng.exponential(think_s, requests) if think_s > 0 else np.zeros(requests)
    servers = _FifoServers(int(workers), timeout_s, queue_limit)
    ready = [(float(t), u) for u, t in enumerate(rng.uniform(0, service_s, users))]
    heapq.heapify(ready)
    rows = []
    for i in range(requests):
        arrival, user = heapq.heappop(ready)
        if duration_s is not None and arrival >= duration_s and rows:
            break
        wait, latency, status = servers.offer(arrival, float(services[i]))
        rows.append((arrival, wait, latency, status))
        heapq.heappush(ready, (arrival + latency + float(thinks[i]), user))
    data = np.array(rows)
    data = data[int(warmup * len(data)):]
    duration = float(np.max(data[:, 0] + data[:, 2]) - data[0, 0])
    return SimResult(data[:, 0], data[:, 1], data[:, 2], data[:, 3].astype(int), duration,
                     {"model": "closed", "users": users, "service_s": service_s, "workers": workers})


def crossing(x, y, level: float) -> float:
    """The first ``x`` at which the curve ``y(x)`` reaches ``level``, interpolated linearly; ``nan`` if never.

    ``x`` increasing (e.g. users), ``y`` the measured statistic (e.g. p95 ms). Used for the
    measured knee: ``crossing(users, p95, 2 * p95_at_no_load)``. Returns ``x[0]`` if already there.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError("x and y must be 1-D sequences of the same, non-zero length")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    above = np.nonzero(y >= level)[0]
    if len(above) == 0:
        return math.nan
    i = int(above[0])
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (level - y0) / (y1 - y0) * (x1 - x0))


def knee_users(service_s: float, workers: int, *, factor: float = 2.0, q: float = 0.95, max_users: int | None = None,
               **sim) -> float:  # fmt: skip
    """The knee of the closed-loop curve: the users at which the ``q`` latency quantile first
    reaches ``factor`` × ``service_s`` (simulated with ``simulate_closed``; ``sim`` passes its
    options). Linear interpolation between consecutive user counts; ``nan`` if not reached.
    """
    _check(0, service_s, workers)
    max_users = max_users or 20 * workers
    target = factor * service_s
    previous = (0, service_s)
    for users in range(1, max_users + 1):
        value = simulate_closed(users, service_s, workers, **sim).percentile_s(q)
        if value >= target:
            (u0, v0) = previous
            return u0 + (target - v0) / (value - v0) * (users - u0) if value > v0 else float(users)
        previous = (users, value)
    return math.nan
