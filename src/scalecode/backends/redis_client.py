"""Redis for the workshop: embedded by default, real on request.

- ``get_redis()``: a client for in-process use. With ``REDIS_URL`` set and reachable
  (checked once, with a 1 s timeout) it is redis-py on that server; otherwise it is
  fakeredis on one in-process ``FakeServer`` shared by every client of the process
  (with Lua, through lupa). When ``REDIS_URL`` is set but unreachable, it says so once,
  with the command that fixes it, and falls back to the embedded server.
- ``redis_server()``: a Redis other processes can reach (queue workers, a served app):
  the real one at ``REDIS_URL``, else ``redis-server`` started on a free 127.0.0.1 port,
  else the pure-Python fakeredis TCP server (``fake_redis_server``). A context manager:
  what it starts, it stops.
- ``delete_prefix()``: removes the workshop's keys only (``SCAN`` + ``DEL``), never
  ``FLUSHDB``, so a shared real Redis keeps its other data.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

import redis

from ..config import KEY_PREFIX
from ..services import Service, ServiceError

CONNECT_TIMEOUT_S = 1.0
START_REDIS_HINT = (
    "start it (redis-server --port 6379 --save '' --appendonly no --daemonize yes) "
    "or unset REDIS_URL to use the embedded fakeredis"
)


@dataclass(frozen=True)
class RedisBackend:
    """Which Redis a process uses. ``kind`` is ``"real"`` or ``"embedded"``."""

    kind: str
    url: str | None
    detail: str
    problem: str | None = None  # set when REDIS_URL was given but could not be used

    @property
    def is_real(self) -> bool:
        return self.kind == "real"


def redis_url() -> str | None:
    """``REDIS_URL`` from the environment, or ``None`` when unset or empty."""
    import os

    return os.environ.get("REDIS_URL") or None


def probe(url: str, timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """Ping the Redis at ``url``; ``None`` when it answers, else the reason (a short string)."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@cache
def _decide(url: str | None) -> RedisBackend:
    if url is None:
        return RedisBackend("embedded", None, "fakeredis (embedded, in-process)")
    problem = probe(url)
    if problem is None:
        info = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S).info("server")
        return RedisBackend("real", url, f"Redis {info.get('redis_version', '?')} at {url}")
    message = f"REDIS_URL={url} is unreachable ({problem}); {START_REDIS_HINT}"
    print(f"⚠ {message}. Falling back to the embedded fakeredis.", file=sys.stderr)
    return RedisBackend("embedded", None, "fakeredis (embedded, fallback)", problem=message)


def redis_backend() -> RedisBackend:
    """The backend ``get_redis()`` uses in this process (decided once per ``REDIS_URL``)."""
    return _decide(redis_url())


@lru_cache(maxsize=1)
def _fake_server():
    import fakeredis

    return fakeredis.FakeServer()


def get_redis(*, decode_responses: bool = False) -> redis.Redis:
    """Return a Redis client: real at ``REDIS_URL`` when reachable, else embedded fakeredis.

    ``decode_responses=True`` returns ``str`` instead of ``bytes``. The real client uses
    1 s connect and 5 s read timeouts, so a lost server raises
    ``redis.ConnectionError``/``TimeoutError`` quickly instead of hanging.
    """
    backend = redis_backend()
    if backend.is_real:
        return redis.Redis.from_url(
            backend.url,
            decode_responses=decode_responses,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=5.0,
        )
    import fakeredis

    return fakeredis.FakeRedis(server=_fake_server(), decode_responses=decode_responses)


def delete_prefix(client: redis.Redis, prefix: str = KEY_PREFIX) -> int:
    """Delete every key starting with ``prefix`` (default ``scalecode:``); returns how many.

    Uses ``SCAN`` in batches, so it is safe on a large shared Redis. Raises ``ValueError``
    for an empty prefix (that would mean the whole database).
    """
    if not prefix:
        raise ValueError("refusing to delete with an empty prefix (that is the whole database)")
    deleted = 0
    batch: list = []
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)
            batch.clear()
    if batch:
        deleted += client.delete(*batch)
    return deleted


@dataclass
class RedisEndpoint:
    """A Redis reachable by other processes. ``kind``: real, redis-server or fakeredis-tcp."""

    url: str
    kind: str
    service: Service | None = None


def redis_server_binary() -> str | None:
    """Path of ``redis-server`` on PATH, or ``None``."""
    return shutil.which("redis-server")


def _pings(service: Service) -> bool:
    return probe(f"redis://{service.host}:{service.port}/0", timeout=0.2) is None


@contextlib.contextmanager
def redis_server(prefer: str = "auto") -> Iterator[RedisEndpoint]:
    """A Redis that other processes can use, for the duration of a ``with`` block.

    ``prefer``: ``"auto"`` (real ``REDIS_URL`` if reachable, else ``redis-server``, else
    fakeredis' TCP server), ``"redis-server"`` or ``"fakeredis"`` to force a local one.
    Yields a ``RedisEndpoint``; anything started is stopped on exit, even on error.
    Raises ``ServiceError`` when ``prefer="redis-server"`` and the binary is missing.
    """
    if prefer not in {"auto", "redis-server", "fakeredis"}:
        raise ValueError(f"prefer must be 'auto', 'redis-server' or 'fakeredis', not {prefer!r}")
    if prefer == "auto" and redis_backend().is_real:
        yield RedisEndpoint(redis_backend().url, "real")
        return
    binary = redis_server_binary()
    if prefer == "redis-server" and binary is None:
        raise ServiceError("redis-server is not installed (apt-get install redis-server, or conda install redis)")
    with tempfile.TemporaryDirectory(prefix="scalecode-redis-") as workdir:
        if binary and prefer != "fakeredis":
            argv = [
                binary, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", workdir, "--logfile", "",
            ]  # fmt: skip
            kind = "redis-server"
        else:
            argv = [sys.executable, "-m", "scalecode.backends.fake_redis_server", "--port", "{port}"]
            kind = "fakeredis-tcp"
        with Service(kind, argv, ready=_pings, scheme="redis", cwd=workdir) as service:
            yield RedisEndpoint(f"{service.url}/0", kind, service)
