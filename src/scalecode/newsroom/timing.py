"""A request-timing middleware: one access-log row per request, to profile your own runs.

Each request becomes one row with the columns of ``scalecode.accesslog.COLUMNS``:
``timestamp`` (UTC, ms precision, ``2024-11-05T13:04:05.123Z``), ``method``, ``endpoint``
(the URL *pattern* Django matched, such as ``/noticia/<slug>/``, so that every request of a
view lands in one group; ``(no route)`` for a path that matched nothing), ``status``,
``duration_ms`` (wall-clock milliseconds spent inside Django for that request) and
``queries`` (database queries it ran, counted with ``connection.execute_wrapper``).

Rows always go to the in-memory ``LOG`` (the last 100 000); when the Django setting or the
environment variable ``SCALECODE_ACCESS_LOG`` names a file, they are also appended to it as
CSV (a header is written when the file is new), ready for ``accesslog.read_log``.

Enable it in a test or a notebook without touching the settings module::

    from django.test import Client
    from scalecode.newsroom import timing

    with timing.enabled() as log:      # prepends the middleware to settings.MIDDLEWARE
        client = Client()              # create the client inside: it loads the middleware once
        client.get("/noticias/")
    frame = log.frame()                # a DataFrame for accesslog.endpoint_stats

or permanently, first in ``MIDDLEWARE`` of a settings module::

    MIDDLEWARE = ["scalecode.newsroom.timing.RequestTimingMiddleware", *MIDDLEWARE]
    SCALECODE_ACCESS_LOG = "build/access_log.csv"   # optional: also write a CSV file

Source: Iuri de Silvio, *Escalando para o imprevisível* ("always measure impact"); Django
docs: writing middleware, database instrumentation (``execute_wrapper``).
"""

from __future__ import annotations

import csv
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

#: The dotted path to put in ``settings.MIDDLEWARE``.
MIDDLEWARE_PATH = "scalecode.newsroom.timing.RequestTimingMiddleware"
#: The name of the setting and of the environment variable that name the CSV file.
SETTING = "SCALECODE_ACCESS_LOG"
#: The endpoint of a request that matched no URL pattern.
NO_ROUTE = "(no route)"
COLUMNS = ("timestamp", "method", "endpoint", "status", "duration_ms", "queries")

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_file_lock = threading.Lock()


class TimingLog:
    """Thread-safe, bounded in-memory rows (dicts with ``COLUMNS``), oldest dropped first."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._rows: deque[dict] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, row: dict) -> None:
        with self._lock:
            self._rows.append(row)

    def rows(self) -> list[dict]:
        """A copy of the rows, oldest first."""
        with self._lock:
            return list(self._rows)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def frame(self) -> pd.DataFrame:
        """The rows as a typed access-log DataFrame (see ``scalecode.accesslog.as_log``)."""
        from ..accesslog import as_log

        return as_log(self.rows())

    def __len__(self) -> int:
        return len(self._rows)


#: Where the middleware keeps its rows.
LOG = TimingLog()


def endpoint_of(request) -> str:
    """The URL pattern Django matched for ``request`` (``/noticia/<slug>/``), or ``NO_ROUTE``.

    Converters are dropped (``<slug:slug>`` → ``<slug>``), and the route starts with ``/``.
    """
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    if match is None or route is None:
        return NO_ROUTE
    route = _CONVERTER.sub(r"<\1>", route).lstrip("^").rstrip("$")
    return "/" + route.lstrip("/")


def timestamp(moment: datetime) -> str:
    """``2024-11-05T13:04:05.123Z``: UTC, millisecond precision (the log's format)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def log_file() -> Path | None:
    """The CSV file named by the setting or the environment variable ``SCALECODE_ACCESS_LOG``, if any."""
    from django.conf import settings

    name = getattr(settings, SETTING, None) or os.environ.get(SETTING)
    return Path(name) if name else None


def append_csv(path: Path, row: dict) -> None:
    """Append one row to the CSV log at ``path``, writing the header first when the file is new or empty."""
    path = Path(path)
    with _file_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            if new:
                writer.writerow(COLUMNS)
            writer.writerow([row[c] for c in COLUMNS])


class _QueryCounter:
    """An ``execute_wrapper``: counts every query on the connections it wraps."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestTimingMiddleware:
    """Times each request and logs it (see the module docstring). Synchronous only."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        from django.db import connections

        counter = _QueryCounter()
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(counter))
            response = self.get_response(request)
        duration_ms = (time.perf_counter() - start) * 1000
        row = {
            "timestamp": timestamp(started_at),
            "method": request.method,
            "endpoint": endpoint_of(request),
            "status": response.status_code,
            "duration_ms": round(duration_ms, 3),
            "queries": counter.count,
        }
        LOG.append(row)
        path = log_file()
        if path is not None:
            append_csv(path, row)
        return response


#: The newsroom's own URLs and how often ``sample_paths`` asks for each (relative weights).
SAMPLE_MIX = {
    "/noticias/?page={page}": 30,  # the uncached news list: N+1 queries
    "/cache/noticias/?page={page}": 20,  # the same page behind Django's cache (module 05)
    "/health/": 35,  # the readiness probe
    "/noticias/para-voce/?page={page}": 10,  # cached list + per-reader fragment
    "/nao/existe/{page}/": 5,  # old links: 404
}


def sample_paths(n: int, *, seed: int = 12, pages: int = 3) -> list[str]:
    """``n`` request paths for the newsroom, drawn from ``SAMPLE_MIX`` (pages 1..``pages``), deterministic.

    Raises ``ValueError`` when ``n < 1``.
    """
    import random

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = random.Random(seed)
    templates = list(SAMPLE_MIX)
    chosen = rng.choices(templates, [SAMPLE_MIX[t] for t in templates], k=n)
    return [template.format(page=rng.randint(1, pages)) for template in chosen]


@contextmanager
def enabled(path: str | os.PathLike | None = None, *, clear: bool = True) -> Iterator[TimingLog]:
    """Run the block with the middleware first in ``settings.MIDDLEWARE``; yield ``LOG``.

    ``path``: also append the rows to this CSV file. ``clear``: empty ``LOG`` first.
    Django's test ``Client`` loads the middleware on its first request, so create the
    client inside the block. Needs Django configured (``backends.setup_django()``).
    """
    from django.test import modify_settings, override_settings

    if clear:
        LOG.clear()
    with modify_settings(MIDDLEWARE={"prepend": MIDDLEWARE_PATH}), \
            override_settings(**{SETTING: str(path) if path else None}):  # fmt: skip
        yield LOG
