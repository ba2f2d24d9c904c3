"""Load tests with locust, always as a subprocess, results as pandas tables.

``import locust`` inside a Jupyter kernel hangs it (gevent monkey-patches the kernel's
event loop), so the workshop only ever runs ``locust --headless`` as a child process,
bounded in time, against 127.0.0.1, and reads its CSV statistics with pandas.

``run_locust(host, users=..., duration_s=...)`` returns a ``LoadResult``: throughput
(req/s), latency percentiles (ms), failures, the per-second history. The requests come
from a locustfile in ``scalecode.locustfiles`` (default ``paths``: GET each path in
``paths`` in turn, with no think time, so that N users keep N requests in flight).

Source: "High Audience Python" (Guilherme Vierno): measure req/s with a load generator
(wrk, ab, locust). Locust docs: "Running without the web UI", "Retrieve test statistics in CSV format".
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

LOCUSTFILES = Path(__file__).resolve().parent / "locustfiles"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class LoadTestError(RuntimeError):
    """locust could not run, or produced no statistics (the message includes its output)."""


@dataclass
class LoadResult:
    """What one locust run measured.

    ``requests`` and ``failures`` are counts; ``rps`` is requests per second over the run;
    ``p50``/``p95``/``p99``/``mean`` are latencies in milliseconds; ``stats`` is locust's
    ``*_stats.csv`` (one row per request name plus "Aggregated") and ``history`` its
    ``*_stats_history.csv`` (one row per second).
    """

    users: int
    duration_s: float
    requests: int
    failures: int
    rps: float
    mean: float
    p50: float
    p95: float
    p99: float
    stats: pd.DataFrame = field(repr=False)
    history: pd.DataFrame = field(repr=False)

    @property
    def failure_ratio(self) -> float:
        """failures / requests, in [0, 1] (``nan`` when nothing was sent)."""
        return self.failures / self.requests if self.requests else math.nan

    def row(self) -> dict[str, float]:
        """A flat dict for a pandas row: users, requests, failures, rps, mean/p50/p95/p99 ms."""
        return {
            "users": self.users, "requests": self.requests, "failures": self.failures,
            "failure_ratio": self.failure_ratio, "rps": self.rps, "mean_ms": self.mean,
            "p50_ms": self.p50, "p95_ms": self.p95, "p99_ms": self.p99,
        }  # fmt: skip


def _check_host(host: str) -> None:
    parts = urlsplit(host)
    if parts.scheme not in {"http", "https"} or (parts.hostname or "") not in _LOOPBACK:
        raise ValueError(f"load tests only target this machine (http://127.0.0.1:PORT), not {host!r}")


def locust_executable() -> str:
    """The ``locust`` script installed next to this Python, else the one on PATH."""
    local = Path(sys.executable).with_name("locust")
    return str(local) if local.exists() else "locust"


def run_locust(
    host: str,
    *,
    users: int = 10,
    spawn_rate: float | None = None,
    duration_s: float = 5,
    paths: list[str] | tuple[str, ...] = ("/",),
    locustfile: str = "paths",
    timeout_s: float | None = None,
    request_timeout_s: float = 10,
    env: dict[str, str] | None = None,
) -> LoadResult:
    """Run ``locust --headless`` against ``host`` for ``duration_s`` seconds; return the stats.

    ``host``: ``http://127.0.0.1:PORT`` (anything else raises ``ValueError``). ``users``:
    concurrent simulated users, all started at once unless ``spawn_rate`` (users/s) is given.
    ``paths``: the URLs each user requests in turn. ``request_timeout_s``: a request slower
    than this counts as a failure. The child is killed after ``timeout_s`` (default
    duration + 30 s) and ``LoadTestError`` is raised, so a run never hangs.
    """
    _check_host(host)
    if users < 1 or duration_s <= 0:
        raise ValueError(f"users must be >= 1 and duration_s > 0, got {users} and {duration_s}")
    file = LOCUSTFILES / f"{locustfile}.py"
    if not file.exists():
        raise ValueError(f"no locustfile {locustfile!r} in {LOCUSTFILES}")
    timeout_s = timeout_s or duration_s + 30
    with tempfile.TemporaryDirectory(prefix="scalecode-locust-") as workdir:
        prefix = Path(workdir) / "run"
        argv = [
            locust_executable(), "-f", str(file), "--headless", "--host", host.rstrip("/"),
            "-u", str(users), "-r", str(spawn_rate or users), "-t", f"{max(1, round(duration_s))}s",
            "--csv", str(prefix), "--only-summary", "--stop-timeout", "2",
            "--exit-code-on-error", "0", "--loglevel", "WARNING",
        ]  # fmt: skip
        child_env = {**os.environ, **(env or {}), "SCALECODE_LOCUST_PATHS": ",".join(paths),
                     "SCALECODE_LOCUST_TIMEOUT": str(request_timeout_s)}  # fmt: skip
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout_s, env=child_env, cwd=workdir,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise LoadTestError(f"locust did not finish within {timeout_s:.0f} s; it was stopped") from exc
        except FileNotFoundError:
            raise LoadTestError("locust is not installed: pip install -e .") from None
        elapsed = time.perf_counter() - started
        stats_path = Path(f"{prefix}_stats.csv")
        if proc.returncode != 0 or not stats_path.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise LoadTestError(f"locust exited with code {proc.returncode}:\n{tail}")
        stats = pd.read_csv(stats_path)
        history_path = Path(f"{prefix}_stats_history.csv")
        history = pd.read_csv(history_path) if history_path.exists() else pd.DataFrame()
    total = stats[stats["Name"] == "Aggregated"].iloc[0]
    return LoadResult(
        users=users,
        duration_s=min(elapsed, duration_s),
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        rps=float(total["Requests/s"]),
        mean=float(total["Average Response Time"]),
        p50=float(total["50%"]),
        p95=float(total["95%"]),
        p99=float(total["99%"]),
        stats=stats,
        history=history,
    )
