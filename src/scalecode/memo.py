"""In-process caching with ``functools.lru_cache``: what module 02 measures.

``lru_cache`` keeps a function's results in a dictionary inside the process, keyed on
the call's arguments (which must be hashable), and forgets the least recently used
entry when ``maxsize`` is reached. A hit costs well under a microsecond, so it pays
off when a miss is expensive, typically because the function talks to other software
(a database, an API), and it brings traps: a cached method keeps ``self`` alive, a
cached mutable result can be changed by any caller, nothing ever expires (use a TTL
cache such as ``cachetools.TTLCache`` for data that changes), and every process of a
served application has its own copy (a shared Redis serves them all).

This module holds the measurement tools of notebook 02: a slow dependency
(``SlowSource``), replaying a trace through an ``lru_cache`` (``replay``,
``hit_ratio``, ``hit_ratio_curve``), the cost of a hit (``hit_overhead_us``), the
memory a cache keeps alive (``retention``, ``LeakyReport`` vs ``SafeReport``), waiting
for fresh data (``time_to_fresh``), and small HTTP app workers, each with its own
``lru_cache`` or sharing a Redis (``app_workers``, ``send_trace``), run as processes
with ``python -m scalecode.memo``.

Sources: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza):
``@functools.lru_cache(maxsize=1000)``; "Cacheamento Lado Servidor" (J. Mário
Guedes): ``lru_cache``, only worth it when the function talks to other software;
Python docs, ``functools.lru_cache`` and the programming FAQ "How do I cache method
calls?"; cachetools docs (``TTLCache``, ``cached``, ``cachedmethod``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import sys
import time
import timeit
import tracemalloc
import weakref
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, quote, urlsplit
from urllib.request import urlopen

import cachetools

from .config import KEY_PREFIX, time_scale

#: The talk's cache miss: 1 s (scaled by TIME_SCALE).
TALK_MISS_S = 1.0

MIB = 1024 * 1024

#: Redis keys of the shared-cache app workers.
SHARED_KEY_PREFIX = f"{KEY_PREFIX}memo:value:"


def miss_latency_s() -> float:
    """Simulated latency of one call to the slow dependency, seconds: 1 s × ``TIME_SCALE``."""
    return TALK_MISS_S * time_scale()


class SlowSource:
    """A slow dependency (a database, an external API): every ``lookup`` sleeps and is counted.

    ``latency_s``: seconds per call (default ``miss_latency_s()``, i.e. the talk's 1 s ×
    ``TIME_SCALE``); ``values``: what ``lookup(key)`` returns for known keys (others
    give ``"value of <key>"``). ``calls`` counts lookups; change ``values`` to simulate
    data that changes at the source.
    """

    def __init__(self, latency_s: float | None = None, values: dict | None = None) -> None:
        if latency_s is not None and latency_s < 0:
            raise ValueError(f"latency_s must be >= 0, got {latency_s}")
        self.latency_s = miss_latency_s() if latency_s is None else float(latency_s)
        self.values = dict(values or {})
        self.calls = 0

    def lookup(self, key: Hashable) -> str:
        """The value of ``key`` after ``latency_s`` seconds (one round trip to the other software)."""
        self.calls += 1
        if self.latency_s:
            time.sleep(self.latency_s)
        return self.values.get(key, f"value of {key!r}")

    def __repr__(self) -> str:
        return f"<SlowSource {self.latency_s * 1e3:.1f} ms/call, {self.calls} calls>"


# --- replaying traces through an lru_cache --------------------------------------------
def replay(cached: Callable, keys: Iterable[Hashable]) -> list[bool]:
    """Call ``cached(key)`` for every key; return one bool per call, ``True`` for a cache hit.

    ``cached`` must be wrapped by ``functools.lru_cache``/``cache`` (hits are read from
    its ``cache_info()``); raises ``TypeError`` otherwise.
    """
    if not hasattr(cached, "cache_info"):
        raise TypeError("replay needs a function wrapped with functools.lru_cache (it reads cache_info())")
    events = []
    for key in keys:
        before = cached.cache_info().hits
        cached(key)
        events.append(cached.cache_info().hits > before)
    return events


def _identity(key: Hashable) -> Hashable:
    return key


def hit_ratio(trace: Sequence[Hashable], maxsize: int | None) -> float:
    """Hit ratio (0..1) of ``trace`` replayed through a fresh ``lru_cache(maxsize)``, from cold.

    ``maxsize=None`` is unbounded. Raises ``ValueError`` for an empty trace or a
    negative ``maxsize``.
    """
    if not trace:
        raise ValueError("the trace is empty")
    if maxsize is not None and maxsize < 0:
        raise ValueError(f"maxsize must be >= 0 or None, got {maxsize}")
    cached = functools.lru_cache(maxsize=maxsize)(_identity)
    for key in trace:
        cached(key)
    return cached.cache_info().hits / len(trace)


def hit_ratio_curve(trace: Sequence[Hashable], sizes: Iterable[int]):
    """Hit ratio of ``trace`` for each ``maxsize`` in ``sizes``: a pandas DataFrame.

    Columns: ``maxsize``; ``hit_ratio`` (LRU, from a cold cache); ``top_share``, the hit
    ratio of an ideal cache of that size that knew the future and kept exactly the
    ``maxsize`` most requested keys (their requests, minus one cold miss each);
    ``bound``, ``1 - distinct/len``, the best any cache can do from cold (every key
    misses once). Raises ``ValueError`` as ``hit_ratio`` does.
    """
    import pandas as pd

    counts = sorted(Counter(trace).values(), reverse=True)
    n = len(trace)
    rows = []
    for size in sizes:
        top = sum(counts[:size])
        misses_at_least = min(size, len(counts))  # each kept key misses once
        rows.append({
            "maxsize": size,
            "hit_ratio": hit_ratio(trace, size),
            "top_share": (top - misses_at_least) / n,
            "bound": 1 - len(counts) / n,
        })  # fmt: skip
    return pd.DataFrame(rows)


# --- cost of a hit -----------------------------------------------------------------------
def hit_overhead_us(number: int = 200_000, repeat: int = 5) -> dict[str, float]:
    """Microseconds per call (best of ``repeat`` runs of ``number`` calls) of a trivial function.

    Keys: ``plain`` (no cache), ``lru_cache`` (a hit of ``lru_cache(maxsize=128)``),
    ``cache`` (a hit of ``functools.cache``), ``lru_overhead`` (``lru_cache - plain``,
    may be negative: a hit skips the function body).
    """
    if number < 1 or repeat < 1:
        raise ValueError("number and repeat must be >= 1")

    def plain(x):
        return x * 2

    lru = functools.lru_cache(maxsize=128)(plain)
    unbounded = functools.cache(plain)
    lru(21)
    unbounded(21)
    out = {}
    for name, fn in (("plain", plain), ("lru_cache", lru), ("cache", unbounded)):
        best = min(timeit.repeat(lambda fn=fn: fn(21), number=number, repeat=repeat))
        out[name] = best / number * 1e6
    out["lru_overhead"] = out["lru_cache"] - out["plain"]
    return out


# --- the method trap: what a cache keeps alive ---------------------------------------------
@dataclass(frozen=True)
class Retention:
    """What is left after creating, using and dropping ``created`` objects.

    ``alive``: objects still reachable after ``del`` and ``gc.collect()``;
    ``retained_mib``: memory still allocated (tracemalloc), MiB.
    """

    created: int
    alive: int
    retained_mib: float


def retention(factory: Callable[[int], object], n: int, use: Callable[[object], object] | None = None) -> Retention:
    """Create ``n`` objects with ``factory(i)``, ``use`` each, drop them; count the survivors.

    Objects are created and dropped one at a time (like requests), so the peak stays
    small; whatever a cache still references survives. Memory is measured with
    ``tracemalloc`` (started and stopped here if it was not running). Raises
    ``TypeError`` when the objects do not support weak references.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        refs = []
        for i in range(n):
            obj = factory(i)
            if use is not None:
                use(obj)
            refs.append(weakref.ref(obj))
            del obj
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        if started:
            tracemalloc.stop()
    alive = sum(ref() is not None for ref in refs)
    return Retention(created=n, alive=alive, retained_mib=max(0.0, (after - before) / MIB))


class LeakyReport:
    """A report with a big payload and ``@lru_cache`` on a method: the method trap.

    The cache belongs to the class (one per process) and its key includes ``self``, so
    it keeps up to ``maxsize`` (128) reports alive, payload included, after everyone
    else dropped them. ``payload_mib``: size of each report's data, MiB.
    """

    def __init__(self, report_id: int, payload_mib: float = 0.1) -> None:
        self.report_id = report_id
        self.payload = bytearray(int(payload_mib * MIB))

    @functools.lru_cache(maxsize=128)  # noqa: B019 - the trap this class demonstrates
    def summary(self, top: int = 3) -> str:
        """A (pretend-expensive) summary of the report."""
        return f"report {self.report_id}: {len(self.payload):,} bytes, top {top}"


class SafeReport:
    """The same report with a cache per instance (``cachetools.cachedmethod``): freed with it.

    Each report owns an ``LRUCache``; ``cachedmethod``'s key leaves ``self`` out, and
    nothing outside the report references it, so ``del`` frees report, payload and cache.
    """

    def __init__(self, report_id: int, payload_mib: float = 0.1) -> None:
        self.report_id = report_id
        self.payload = bytearray(int(payload_mib * MIB))
        self._cache = cachetools.LRUCache(maxsize=128)

    @cachetools.cachedmethod(lambda self: self._cache)
    def summary(self, top: int = 3) -> str:
        """A (pretend-expensive) summary of the report."""
        return f"report {self.report_id}: {len(self.payload):,} bytes, top {top}"


# --- data that changes: how long until a cache shows the new value ----------------------------
def time_to_fresh(read: Callable[[], object], change: Callable[[], object], *, timeout_s: float,
                  poll_s: float = 0.005) -> float:  # fmt: skip
    """Seconds between ``change()`` and the first ``read()`` that returns a different value.

    Reads once before the change, then polls every ``poll_s`` seconds; returns
    ``math.inf`` when the old value is still served after ``timeout_s`` seconds (a cache
    that never expires).
    """
    if timeout_s <= 0 or poll_s <= 0:
        raise ValueError("timeout_s and poll_s must be > 0")
    old = read()
    change()
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) <= timeout_s:
        if read() != old:
            return elapsed
        time.sleep(poll_s)
    return float("inf")


# --- several processes: a cache per process vs one shared Redis ---------------------------------
class _Lookup:
    """What one app worker process computes: a slow value, through its cache."""

    def __init__(self, cache: str, redis_url: str | None, latency_s: float) -> None:
        self.source = SlowSource(latency_s)
        self.cache = cache
        self.hits = 0
        self.misses = 0
        if cache == "lru":
            self._cached = functools.lru_cache(maxsize=None)(self.source.lookup)
        elif cache == "redis":
            import redis

            if not redis_url:
                raise ValueError("--cache redis needs --redis-url")
            self._client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5)
        elif cache != "none":
            raise ValueError(f"cache must be 'lru', 'redis' or 'none', not {cache!r}")

    def get(self, key: str) -> tuple[str, bool]:
        if self.cache == "lru":
            before = self._cached.cache_info().hits
            value = self._cached(key)
            hit = self._cached.cache_info().hits > before
        elif self.cache == "redis":
            from .caching import CacheStats, cache_aside

            stats = CacheStats()
            value = cache_aside(self._client, SHARED_KEY_PREFIX + key, 60, lambda: self.source.lookup(key), stats=stats)
            hit = stats.hits == 1
        else:
            value, hit = self.source.lookup(key), False
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        return value, hit


def _handler(lookup: _Lookup) -> type[BaseHTTPRequestHandler]:
    import os

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            if url.path == "/value":
                key = parse_qs(url.query).get("key", [""])[0]
                value, hit = lookup.get(key)
                body = {"key": key, "value": value, "hit": hit, "pid": os.getpid()}
            elif url.path == "/stats":
                body = {"pid": os.getpid(), "cache": lookup.cache, "hits": lookup.hits, "misses": lookup.misses,
                        "source_calls": lookup.source.calls}  # fmt: skip
            else:
                self.send_error(404, "try /value?key=K or /stats")
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # quiet
            pass

    return Handler


def serve(port: int, cache: str, redis_url: str | None = None, latency_s: float | None = None) -> None:
    """Serve ``/value?key=K`` (a slow lookup through the chosen cache) and ``/stats`` on 127.0.0.1:``port``.

    ``cache``: ``"lru"`` (this process' own ``lru_cache``), ``"redis"`` (cache-aside in
    the Redis at ``redis_url``, shared by every worker) or ``"none"``. Runs until killed.
    """
    lookup = _Lookup(cache, redis_url, miss_latency_s() if latency_s is None else latency_s)
    server = HTTPServer(("127.0.0.1", port), _handler(lookup))
    print(f"app worker ({cache} cache) on 127.0.0.1:{port}", flush=True)
    server.serve_forever(poll_interval=0.1)


@contextlib.contextmanager
def app_workers(n: int, cache: str, *, redis_url: str | None = None,
                latency_s: float | None = None) -> Iterator[list[str]]:  # fmt: skip
    """Start ``n`` app worker processes (``python -m scalecode.memo``); yield their base URLs.

    Each is a ``scalecode.services.Service`` on a free 127.0.0.1 port, stopped on exit.
    ``cache`` and ``redis_url`` as in ``serve``; ``latency_s`` per miss (default the
    talk's 1 s × ``TIME_SCALE``). Raises ``ValueError`` for ``n < 1`` or a bad ``cache``,
    ``ServiceError`` when a worker does not start.
    """
    from .services import Service

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if cache not in {"lru", "redis", "none"}:
        raise ValueError(f"cache must be 'lru', 'redis' or 'none', not {cache!r}")
    if cache == "redis" and not redis_url:
        raise ValueError("cache='redis' needs redis_url (e.g. from scalecode.backends.redis_server())")
    latency = miss_latency_s() if latency_s is None else latency_s
    argv = [sys.executable, "-m", "scalecode.memo", "--port", "{port}", "--cache", cache, "--latency", repr(latency)]
    if redis_url:
        argv += ["--redis-url", redis_url]
    with contextlib.ExitStack() as stack:
        services = [stack.enter_context(Service(f"app worker {i + 1}", argv)) for i in range(n)]
        yield [service.url for service in services]


def _get_json(url: str) -> dict:
    with urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return json.loads(response.read())


def send_trace(urls: Sequence[str], keys: Iterable[Hashable]):
    """Send one request per key, round robin over the workers (a load balancer); a DataFrame.

    Columns: ``worker`` (index into ``urls``), ``pid``, ``key``, ``hit`` (bool),
    ``seconds`` (latency seen by the client).
    """
    import pandas as pd

    if not urls:
        raise ValueError("no worker URLs")
    rows = []
    for i, key in enumerate(keys):
        worker = i % len(urls)
        start = time.perf_counter()
        body = _get_json(f"{urls[worker]}/value?key={quote(str(key))}")
        rows.append({"worker": worker, "pid": body["pid"], "key": key, "hit": body["hit"],
                     "seconds": time.perf_counter() - start})  # fmt: skip
    return pd.DataFrame(rows)


def worker_stats(urls: Sequence[str]):
    """``/stats`` of every worker: a DataFrame with pid, cache, hits, misses, source_calls."""
    import pandas as pd

    return pd.DataFrame([_get_json(f"{url}/stats") for url in urls])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An app worker with a slow lookup behind a cache (module 02).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cache", choices=["lru", "redis", "none"], required=True)
    parser.add_argument("--redis-url")
    parser.add_argument("--latency", type=float, help="seconds per miss (default: 1 s × TIME_SCALE)")
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.cache, args.redis_url, args.latency)
    except (OSError, ValueError) as exc:
        print(f"cannot start the app worker: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
