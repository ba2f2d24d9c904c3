"""Serve the capstone over HTTP and load each round: the external service, gunicorn, locust.

- ``external_service(delay_s)``: the slow third-party service (``scalecode.capstone.external``)
  as a ``Service``; ``external_count(url)`` / ``reset_external(url)`` read and reset its counter;
- ``capstone_server(external_url)``: gunicorn serving ``scalecode.capstone.wsgi`` with
  ``DJANGO_SETTINGS_MODULE=scalecode.capstone.settings``, on the same database as this
  process (the SQLite file or ``DATABASE_URL``), ready when ``/health/`` answers;
- ``load_round(url, round)``: ``run_locust`` on one round's path, plus the external calls it caused.

Sources: gunicorn docs ("Running Gunicorn", settings ``workers``, ``bind``, ``timeout``);
locust docs ("Running without the web UI").
"""

from __future__ import annotations

import os
import sys
import urllib.request

import pandas as pd

from ..loadtest import run_locust
from ..services import Service
from .app import DB_ROUND_TRIP_S, EXTERNAL_DELAY_S, ROUNDS, Round


def _get(url: str, timeout_s: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback only
        return response.read().decode()


def external_service(delay_s: float = EXTERNAL_DELAY_S) -> Service:
    """The slow external service (``delay_s`` seconds per ``/headline``) as a ``Service`` to ``with``."""
    if delay_s < 0:
        raise ValueError(f"delay_s must be >= 0 seconds, got {delay_s}")
    argv = [sys.executable, "-m", "scalecode.capstone.external", "--port", "{port}", "--delay-ms", str(delay_s * 1000)]
    return Service("capstone external service", argv, ready=lambda s: _get(f"{s.url}/count").isdigit())


def external_count(url: str) -> int:
    """How many ``/headline`` requests the external service at ``url`` has served since its last reset."""
    return int(_get(f"{url.rstrip('/')}/count"))


def reset_external(url: str) -> None:
    """Set the external service's counter to zero."""
    request = urllib.request.Request(f"{url.rstrip('/')}/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=2.0):  # noqa: S310
        pass


def server_env(external_url: str, db_round_trip_s: float = DB_ROUND_TRIP_S) -> dict[str, str]:
    """The environment of the served app: its settings, the external service, the same database."""
    from ..backends.database import database_backend, sqlite_path

    env = {
        "DJANGO_SETTINGS_MODULE": "scalecode.capstone.settings",
        "CAPSTONE_EXTERNAL_URL": external_url,
        "CAPSTONE_DB_ROUND_TRIP_S": str(db_round_trip_s),
    }
    if database_backend().is_real:
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        env["SCALECODE_SQLITE_PATH"] = str(sqlite_path())
        env["DATABASE_URL"] = ""  # this process fell back to SQLite: so does the server
    return env


def capstone_server(
    external_url: str, *, workers: int = 2, db_round_trip_s: float = DB_ROUND_TRIP_S, startup_timeout: float = 30
) -> Service:
    """gunicorn serving the capstone with ``workers`` sync worker processes, as a ``Service``.

    Every round is served at once (``/r0/`` … ``/r3/``, see ``ROUNDS``). Call
    ``setup_django()`` first: the server uses the same database and does not migrate it.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    argv = [
        sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", str(workers),
        "--timeout", "30", "--backlog", "512", "--graceful-timeout", "2", "scalecode.capstone.wsgi:application",
    ]  # fmt: skip
    return Service(
        "capstone gunicorn", argv, env=server_env(external_url, db_round_trip_s),
        ready=lambda s: _get(f"{s.url}/health/") == "ok", startup_timeout=startup_timeout,
    )  # fmt: skip


def load_round(
    url: str, round_: Round, *, external_url: str | None = None, users: int = 8, duration_s: float = 5
) -> dict[str, float]:
    """Load ``round_``'s path with locust for ``duration_s`` seconds; one row of results.

    The row: round, fix, rps (req/s), p50/p95/p99 (ms), requests, failures and, when
    ``external_url`` is given, ``external_per_request`` (external calls / requests served).
    """
    _get(url + round_.path, timeout_s=30)  # one warm-up request
    if external_url:
        reset_external(external_url)
    result = run_locust(url, users=users, duration_s=duration_s, paths=[round_.path])
    row = {"round": round_.number, "fix": round_.fix, **result.row()}
    if external_url:
        row["external_per_request"] = external_count(external_url) / max(1, result.requests)
    return row


def load_rounds(url: str, rounds=ROUNDS, **kwargs) -> pd.DataFrame:
    """``load_round`` for each round; a DataFrame indexed by round number."""
    return pd.DataFrame([load_round(url, r, **kwargs) for r in rounds]).set_index("round")


def plot_rounds(table: pd.DataFrame, *, title: str = "The capstone, round by round"):
    """Two bar charts, log scales: req/s and p95 latency (ms) per round of ``table`` (``load_rounds``' shape).

    Returns the matplotlib ``Figure``. Raises ``ValueError`` when ``rps`` or ``p95_ms`` is missing.
    """
    import matplotlib.pyplot as plt

    missing = {"rps", "p95_ms"} - set(table.columns)
    if missing:
        raise ValueError(f"the table lacks the columns {sorted(missing)}")
    labels = [f"r{i}" for i in table.index]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.bar(labels, table["rps"], color="tab:green")
    left.set(title="throughput (higher is better)", ylabel="req/s", yscale="log")
    right.bar(labels, table["p95_ms"], color="tab:red")
    right.set(title="p95 latency (lower is better)", ylabel="ms", yscale="log")
    for ax, column, fmt in ((left, "rps", "{:.0f}"), (right, "p95_ms", "{:.0f}")):
        for x, value in enumerate(table[column]):
            ax.annotate(fmt.format(value), (x, value), ha="center", va="bottom", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
