"""Latency under load, measured: serve ``overload`` with K workers and load it with more and more users.

- ``overload_app(...)``: a ``Service`` (not started) running ``scalecode.webapps.overload``;
- ``server_stats`` / ``reset_stats``: its counters (arrived, served, 504 timeouts, 502 rejections,
  the most requests in service and waiting at once);
- ``measure`` / ``sweep``: ``locust --headless`` runs (``scalecode.loadtest.run_locust``, a
  subprocess: never imported here) at several user counts against one running app, one row per
  run, with the server's own counts and the predictions beside them: Little's law
  ``N / K × S`` and a simulation of the same closed loop (``scalecode.queueing.simulate_closed``);
- ``plot_load_curve`` and ``plot_mmc``: the figures of notebook 08.

Source: Ervilis Viana de Souza, "Não Escale Servidores, Escale Código!" (0.1 s → 2 s → 4 s →
Bad Gateway as users grow).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable

import httpx
import numpy as np
import pandas as pd

from .. import queueing
from ..loadtest import run_locust
from ..services import Service
from .overload import DEFAULT_SERVICE_MS, DEFAULT_TIMEOUT_S, DEFAULT_WORKERS
from .serving import CpuSampler, all_listening

__all__ = ["CpuSampler", "overload_app", "server_stats", "reset_stats", "measure", "sweep", "predict",
           "plot_load_curve", "plot_mmc"]  # fmt: skip


def overload_app(*, workers: int = DEFAULT_WORKERS, service_ms: float = DEFAULT_SERVICE_MS,
                 timeout_s: float = DEFAULT_TIMEOUT_S, queue_limit: int | None = None, cpu: bool = False,
                 processes: int = 1) -> Service:  # fmt: skip
    """A ``Service`` (use ``with overload_app(...) as app:``) serving K workers behind a queue.

    ``workers``: requests served at once (sleep mode); ``service_ms``: milliseconds each;
    ``timeout_s``: queue wait before a 504; ``queue_limit``: waiting requests before a 502
    (``None``: unbounded); ``cpu``: burn CPU time instead of sleeping, one worker per process;
    ``processes``: forked processes sharing the port. Raises ``ValueError`` for bad values.
    """
    if workers < 1 or processes < 1:
        raise ValueError(f"workers and processes must be >= 1, got {workers} and {processes}")
    if service_ms < 0 or not timeout_s > 0:
        raise ValueError(f"service_ms must be >= 0 and timeout_s > 0, got {service_ms} and {timeout_s}")
    if queue_limit is not None and queue_limit < 0:
        raise ValueError(f"queue_limit must be >= 0 or None, got {queue_limit}")
    argv = [sys.executable, "-m", "scalecode.webapps.overload", "--port", "{port}", "--workers", str(workers),
            "--service-ms", str(service_ms), "--timeout-s", str(timeout_s), "--processes", str(processes)]  # fmt: skip
    if queue_limit is not None:
        argv += ["--queue-limit", str(queue_limit)]
    if cpu:
        argv.append("--cpu")
    name = f"overload {'cpu ×' + str(processes) if cpu else str(workers) + ' workers'}"
    return Service(name, argv, ready=all_listening(processes))


def server_stats(url: str) -> dict[str, int]:
    """The app's counters (one process): arrived, served, timeouts, rejected, max_in_service, ..."""
    return httpx.get(f"{url.rstrip('/')}/stats", timeout=10).json()


def reset_stats(url: str) -> None:
    """Zero the app's counters (one process)."""
    httpx.post(f"{url.rstrip('/')}/reset", timeout=10).raise_for_status()


def predict(users: int, *, workers: int, service_ms: float, timeout_s: float | None = None,
            queue_limit: int | None = None, duration_s: float | None = None) -> dict[str, float]:  # fmt: skip
    """What the model says for ``users`` closed-loop users: Little's law and a simulation (ms, ratio).

    Keys: ``little_ms`` (``max(S, N / K × S)``), ``sim_p50_ms``, ``sim_p95_ms``, ``sim_mean_ms``,
    ``sim_error_ratio``. With ``duration_s`` the simulation covers a timed run from a cold start
    (like locust's); without, the steady state.
    """
    service_s = service_ms / 1000
    sim = queueing.simulate_closed(users, service_s, workers, timeout_s=timeout_s, queue_limit=queue_limit,
                                   duration_s=duration_s, warmup=0.0 if duration_s else 0.1,
                                   requests=100_000 if duration_s else 5_000)  # fmt: skip
    summary = sim.summary()
    return {"little_ms": 1000 * queueing.littles_latency_s(users, service_s, workers),
            "sim_p50_ms": 1000 * summary["p50_s"], "sim_p95_ms": 1000 * summary["p95_s"],
            "sim_mean_ms": 1000 * summary["mean_s"], "sim_error_ratio": summary["error_ratio"]}  # fmt: skip


def measure(app: Service, users: int, *, duration_s: float = 4, workers: int, service_ms: float,
            timeout_s: float, queue_limit: int | None = None, stats: bool = True) -> dict:  # fmt: skip
    """One locust run of ``users`` users for ``duration_s`` s against the running ``app``; one row.

    ``workers``, ``service_ms``, ``timeout_s``, ``queue_limit`` describe the app (for the
    predictions). The row holds locust's figures (users, requests, failures, failure_ratio,
    rps, mean/p50/p95/p99 ms), the server's counts when ``stats`` (one process only):
    ``served``, ``timeouts`` (504), ``rejected`` (502), ``max_in_service``, ``max_waiting``, and
    ``predict(...)``'s columns.
    """
    if stats:
        reset_stats(app.url)
    result = run_locust(app.url, users=users, duration_s=duration_s, paths=("/",),
                        request_timeout_s=max(30.0, 3 * timeout_s))  # fmt: skip
    row = {"workers": workers, "service_ms": service_ms, **result.row()}
    if stats:
        counts = server_stats(app.url)
        row.update({k: counts[k] for k in ("served", "timeouts", "rejected", "max_in_service", "max_waiting")})
    row.update(predict(users, workers=workers, service_ms=service_ms, timeout_s=timeout_s,
                       queue_limit=queue_limit, duration_s=duration_s))  # fmt: skip
    return row


def sweep(users: Iterable[int], *, workers: int = DEFAULT_WORKERS, service_ms: float = DEFAULT_SERVICE_MS,
          timeout_s: float = DEFAULT_TIMEOUT_S, queue_limit: int | None = None, duration_s: float = 4,
          progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Serve one app and run ``measure`` at each user count in turn; a DataFrame indexed by users.

    Prints one line per run when ``progress``. The app is stopped before it returns, even on error.
    """
    users = [int(u) for u in users]
    if not users or min(users) < 1:
        raise ValueError(f"users must be counts >= 1, got {users}")
    rows = []
    with overload_app(workers=workers, service_ms=service_ms, timeout_s=timeout_s, queue_limit=queue_limit) as app:
        for n in users:
            row = measure(app, n, duration_s=duration_s, workers=workers, service_ms=service_ms,
                          timeout_s=timeout_s, queue_limit=queue_limit)  # fmt: skip
            rows.append(row)
            if progress:
                print(f"{n:>4} users: p50 {row['p50_ms']:7.0f} ms  p95 {row['p95_ms']:7.0f} ms  "
                      f"{row['rps']:6.1f} req/s  errors {row['failure_ratio']:6.1%}  "
                      f"(Little: {row['little_ms']:.0f} ms)", flush=True)  # fmt: skip
    return pd.DataFrame.from_records(rows).set_index("users")


def plot_load_curve(table: pd.DataFrame, *, timeout_s: float | None = None, knee: float | None = None,
                    title: str = "", ax=None):  # fmt: skip
    """Measured p50/p95 (ms, log) against users, the simulated p95 and Little's law, error ratio bars.

    ``table``: ``sweep``'s DataFrame. ``timeout_s`` draws the proxy's timeout; ``knee`` a
    vertical line at that many users. Returns the latency axis.
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(9, 4.2))[1]
    users = table.index.to_numpy(dtype=float)
    ax.plot(users, table["p50_ms"], "o-", color="tab:blue", label="measured p50")
    ax.plot(users, table["p95_ms"], "s-", color="tab:red", label="measured p95")
    if "sim_p95_ms" in table:
        ax.plot(users, table["sim_p95_ms"], ":", color="tab:red", lw=2, label="simulated p95")
    if "little_ms" in table:
        fine = np.geomspace(users.min(), users.max(), 200)
        service = float(table["service_ms"].iloc[0])
        workers = float(table["workers"].iloc[0])
        ax.plot(fine, np.maximum(service, fine * service / workers), "--", color="gray",
                label=f"Little's law: max(S, N / K × S), K = {workers:g}")  # fmt: skip
    if timeout_s:
        ax.axhline(1000 * timeout_s, color="black", lw=0.8)
        ax.annotate(f"proxy timeout {timeout_s:g} s → 504", (users.min(), 1000 * timeout_s), va="bottom", fontsize=8)
    if knee and math.isfinite(knee):
        ax.axvline(knee, color="tab:purple", lw=1)
        ax.annotate(f" knee ≈ {knee:.1f} users", (knee, 2 * float(table["service_ms"].iloc[0])), va="bottom",
                    fontsize=8, color="tab:purple")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent users (log)")
    ax.set_ylabel("latency (ms, log)")
    errors = ax.twinx()
    errors.bar(users, table["failure_ratio"] * 100, width=users * 0.25, color="tab:orange", alpha=0.35,
               label="errors (502/504) %")  # fmt: skip
    errors.set_ylim(0, 100)
    errors.set_ylabel("errors (%)")
    errors.grid(False)
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = errors.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3,
              fontsize=8)  # fmt: skip
    ax.set_title(title)
    return ax


def plot_mmc(arrival_rps: float, service_ms: float, workers: int, *, ax=None, max_utilisation: float = 0.98,
             compare: dict[str, tuple[float, int]] | None = None):  # fmt: skip
    """The M/M/c curve of ``workers`` workers at ``service_ms``: mean and p95 response (ms) against
    the arrival rate, the knee (mean response = 2 × S) and a marker at ``arrival_rps``.

    ``compare``: more configurations to draw, ``{"label": (service_ms, workers)}`` (mean only).
    Returns the axis. The p95 is ``queueing.response_percentile_s`` (M/M/c wait + S).
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    service_s = service_ms / 1000
    curve = queueing.latency_curve(service_s, workers, max_utilisation=max_utilisation)
    ax.plot(curve["arrival_rps"], 1000 * curve["mean_s"], color="tab:blue",
            label=f"mean, K={workers}, S={service_ms:g} ms")
    ax.plot(curve["arrival_rps"], 1000 * curve["p95_s"], color="tab:blue", ls="--", label="p95")
    knee = queueing.knee_arrival_rps(service_s, workers)
    ax.axvline(knee, color="tab:purple", lw=1)
    ax.annotate(f"knee {knee:.0f} req/s (ρ = {knee * service_s / workers:.2f})", (knee, 1000 * service_s),
                rotation=90, va="bottom", ha="right", fontsize=8, color="tab:purple",
                bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})  # fmt: skip
    ax.axvline(workers / service_s, color="black", lw=0.8)
    colours = iter(["tab:green", "tab:orange", "tab:brown", "tab:pink"])
    for label, (ms, k) in (compare or {}).items():
        other = queueing.latency_curve(ms / 1000, k, max_utilisation=max_utilisation)
        ax.plot(other["arrival_rps"], 1000 * other["mean_s"], color=next(colours, "gray"),
                label=f"mean, {label} (K={k}, S={ms:g} ms)")  # fmt: skip
    if arrival_rps > 0:
        point = queueing.mmc(arrival_rps, service_s, workers)
        shown = 1000 * point.mean_response_s if point.stable else np.nan
        ax.plot([arrival_rps], [shown], "o", color="tab:red", ms=8,
                label=f"λ = {arrival_rps:g} req/s: ρ = {point.utilisation:.2f}, "
                      f"mean {shown:.0f} ms" if point.stable else f"λ = {arrival_rps:g}: ρ ≥ 1, unstable")  # fmt: skip
    ax.set_yscale("log")
    top = max(curve["p95_s"].iloc[-1] * 1000, 20 * service_ms)
    fastest = min([service_ms, *(ms for ms, _ in (compare or {}).values())])
    ax.set_ylim(fastest * 0.8, top)
    ax.set_xlabel("arrival rate λ (req/s); black line: capacity K / S")
    ax.set_ylabel("response time (ms, log)")
    ax.legend(fontsize=8, loc="upper left")
    return ax
