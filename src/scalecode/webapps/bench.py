"""The req/s table of "High Audience Python": serve each app variant, load it, compare with its bound.

- ``hello``: the Tornado app, one variant per row of the talk's table (hello world, 20 ms
  of CPU, N processes, a blocking external call, the same call awaited);
- ``external``: the slow external API (100 ms per answer, counts requests in flight).

``bench`` starts them with ``scalecode.services.Service`` (free 127.0.0.1 ports, always
stopped), loads them with ``locust --headless`` (``scalecode.loadtest.run_locust``, a
subprocess), and puts each measured row beside its theoretical bound
(``scalecode.capacity.bound``): ``run_table(talk_rows(), users=50, duration_s=4)``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
import pandas as pd

from ..capacity import bound, cores
from ..loadtest import run_locust
from ..services import Service
from .external import DEFAULT_DELAY_MS
from .hello import DEFAULT_CPU_MS, VARIANTS
from .serving import CpuSampler, all_listening

__all__ = ["Row", "external_api", "external_stats", "reset_external", "run_row", "run_table", "talk_rows",
           "web_app", "plot_throughput", "plot_latency"]  # fmt: skip


def external_api(delay_ms: float = DEFAULT_DELAY_MS) -> Service:
    """A ``Service`` (not started: use ``with external_api() as api:``) for the slow external API.

    Every answer takes ``delay_ms`` milliseconds (default 100, the talk's figure, not scaled by
    ``TIME_SCALE``). ``api.url`` is its address; see ``external_stats``.
    """
    if delay_ms < 0:
        raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
    argv = [sys.executable, "-m", "scalecode.webapps.external", "--port", "{port}", "--delay-ms", str(delay_ms)]
    return Service("external API", argv)


def external_stats(url: str) -> dict[str, int]:
    """The external API's counters: ``served``, ``in_flight``, ``max_in_flight`` (requests)."""
    return httpx.get(f"{url.rstrip('/')}/stats", timeout=10).json()


def reset_external(url: str) -> None:
    """Set the external API's counters to zero."""
    httpx.post(f"{url.rstrip('/')}/reset", timeout=10).raise_for_status()


def web_app(
    variant: str, *, processes: int = 1, cpu_ms: float | None = None, external_url: str | None = None
) -> Service:
    """A ``Service`` (not started) serving the Tornado app's ``variant`` with ``processes`` workers.

    Ready once every worker listens. ``cpu_ms``: CPU milliseconds per request (``None``: the
    variant's default, 20 for ``cpu``). ``external_url``: the external API, for ``blocking``
    and ``async``. Raises ``ValueError`` for an unknown variant or processes < 1.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    argv = [sys.executable, "-m", "scalecode.webapps.hello", "--port", "{port}", "--variant", variant,
            "--processes", str(processes)]  # fmt: skip
    if cpu_ms is not None:
        argv += ["--cpu-ms", str(cpu_ms)]
    if external_url:
        argv += ["--external", external_url]
    return Service(f"tornado {variant} ×{processes}", argv, ready=all_listening(processes))


@dataclass(frozen=True)
class Row:
    """One row of the table: a label, the app variant, its processes and CPU ms, locust users, the talk's figure.

    ``users``: concurrent locust users for this row (``None``: the ``users`` given to ``run_table``).
    """

    label: str
    variant: str
    processes: int = 1
    cpu_ms: float | None = None
    users: int | None = None
    talk: str = ""

    @property
    def cpu(self) -> float:
        return DEFAULT_CPU_MS[self.variant] if self.cpu_ms is None else float(self.cpu_ms)

    @property
    def external(self) -> bool:
        return self.variant in {"blocking", "async"}


def talk_rows(processes: Iterable[int] = (2,), cpu_ms: float = 20.0, users: int = 12, async_users: int = 100,
              async_with_cpu: bool = True) -> list[Row]:  # fmt: skip
    """The talk's table as rows: hello world; + ``cpu_ms`` CPU; the same with each N in
    ``processes``; a blocking external call; the call awaited; (``async_with_cpu``) awaited + CPU.

    The external rows burn no CPU, so they isolate the effect of waiting (see the notebook).
    Every row gets ``users`` locust users except the async rows, which get ``async_users``:
    Little's law caps them at ``async_users / latency``, so they need many (with few users, the
    users of the async + CPU row also fall into step: all waiting at once, the CPU idle).
    """
    rows = [Row("hello world", "hello", users=users, talk="1703.99"),
            Row(f"+ {cpu_ms:g} ms CPU", "cpu", 1, cpu_ms, users=users, talk="39.60 (max 50)")]  # fmt: skip
    for n in processes:
        rows.append(Row(f"+ {cpu_ms:g} ms CPU, {n} processes", "cpu", n, cpu_ms, users=users,
                        talk="314.16" if n == 8 else ""))  # fmt: skip
    rows += [Row("blocking external call", "blocking", 1, 0, users=users, talk="9"),
             Row("async external call", "async", 1, 0, users=async_users, talk="300")]  # fmt: skip
    if async_with_cpu:
        rows.append(Row(f"async external call + {cpu_ms:g} ms CPU", "async", 1, cpu_ms, users=async_users))
    return rows


def run_row(row: Row, *, users: int, duration_s: float, external_url: str | None = None,
            delay_ms: float = DEFAULT_DELAY_MS, cores_available: int | None = None) -> dict:  # fmt: skip
    """Serve ``row``'s app, load it with locust for ``duration_s`` s and ``users`` users; one table row.

    Returns a dict: the row's settings, locust's ``users, requests, failures, rps, mean_ms,
    p50_ms, p95_ms, p99_ms``, the theoretical ``bound_rps`` and its ``limit``, ``of_bound``
    (rps / bound), ``server_cores`` (CPU the app's processes used while they were busy, in
    cores: well below ``min(processes, cores)`` on a CPU-bound row means that other work on the
    machine took the cores), and for external rows ``external_in_flight``, the most calls in
    flight at the external API.
    """
    if row.external and not external_url:
        raise ValueError(f"row {row.label!r} calls the external API: pass external_url")
    limits = bound(processes=row.processes, cores_available=cores_available, cpu_ms=row.cpu,
                   external_ms=delay_ms if row.external else 0, blocking=row.variant == "blocking",
                   users=users)  # fmt: skip
    with web_app(row.variant, processes=row.processes, cpu_ms=row.cpu,
                 external_url=external_url if row.external else None) as app:  # fmt: skip
        if row.external:
            reset_external(external_url)
        with CpuSampler(app.pid) as sampler:
            result = run_locust(app.url, users=users, duration_s=duration_s, paths=("/",), request_timeout_s=30)
            in_flight = external_stats(external_url)["max_in_flight"] if row.external else math.nan
        server_cores = sampler.cores
    bound_rps = limits.rps
    return {
        "variant": row.label, "app": row.variant, "processes": row.processes, "cpu_ms": row.cpu,
        "external_ms": delay_ms if row.external else 0.0, **result.row(),
        "bound_rps": bound_rps, "limit": limits.limit,
        "of_bound": result.rps / bound_rps if math.isfinite(bound_rps) else math.nan,
        "server_cores": server_cores,
        "external_in_flight": in_flight, "talk_rps": row.talk,
    }  # fmt: skip


def run_table(rows: Iterable[Row], *, users: int = 12, duration_s: float = 4, delay_ms: float = DEFAULT_DELAY_MS,
              cores_available: int | None = None, progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Measure every row (one app at a time; the external API is shared); a DataFrame indexed by label.

    ``users``: locust users for the rows that do not set their own; ``duration_s``: seconds per load run. Prints one
    line per row when ``progress``. Every process is stopped before it returns, even on error.
    """
    rows = list(rows)
    cores_available = cores() if cores_available is None else cores_available
    records = []
    with external_api(delay_ms) as api:
        for row in rows:
            record = run_row(row, users=row.users or users, duration_s=duration_s, external_url=api.url,
                             delay_ms=delay_ms, cores_available=cores_available)  # fmt: skip
            records.append(record)
            if progress:
                shown = f"{record['bound_rps']:.0f}" if math.isfinite(record["bound_rps"]) else "—"
                print(f"{row.label:<38} {record['rps']:8.1f} req/s  (bound {shown})", flush=True)
    return pd.DataFrame.from_records(records).set_index("variant")


def plot_throughput(table: pd.DataFrame, *, title: str = "", ax=None):
    """Bars of measured req/s per variant (log scale) with a marker at each theoretical bound."""
    import matplotlib.pyplot as plt
    import numpy as np

    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    x = np.arange(len(table))
    bars = ax.bar(x, table["rps"], color="tab:blue", alpha=0.8, label="measured")
    finite = np.isfinite(table["bound_rps"].to_numpy(dtype=float))
    ax.scatter(x[finite], table["bound_rps"].to_numpy(dtype=float)[finite], marker="_", s=900, linewidths=3,
               color="tab:red", zorder=3, label="theoretical bound")  # fmt: skip
    ax.bar_label(bars, labels=[f"{v:.0f}" for v in table["rps"]], label_type="center", color="white", fontsize=9)
    ax.set_yscale("log")
    ax.set_xticks(x, [label.replace(" external call", "\nexternal call").replace(", ", ",\n")
                      for label in table.index], fontsize=8)  # fmt: skip
    ax.set_ylabel("requests / s (log)")
    ax.set_title(title)
    ax.legend(loc="upper center")
    return ax


def plot_latency(table: pd.DataFrame, *, title: str = "", ax=None):
    """Grouped bars of p50 / p95 / p99 latency (ms, log scale) per variant."""
    import matplotlib.pyplot as plt
    import numpy as np

    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    x = np.arange(len(table))
    for i, col in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        ax.bar(x + (i - 1) * 0.27, table[col], width=0.27, label=col.replace("_ms", ""))
    ax.set_yscale("log")
    ax.set_xticks(x, [label.replace(" external call", "\nexternal call").replace(", ", ",\n")
                      for label in table.index], fontsize=8)  # fmt: skip
    ax.set_ylabel("latency (ms, log)")
    ax.set_title(title)
    ax.legend()
    return ax
