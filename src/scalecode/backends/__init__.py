"""Backends: embedded by default (fakeredis, SQLite), real on request (``REDIS_URL``, ``DATABASE_URL``).

See ``redis_backend`` and ``database`` for details; ``describe()`` summarises both.
"""

from .database import DatabaseBackend, database_backend, setup_django
from .redis_client import (
    RedisBackend,
    RedisEndpoint,
    delete_prefix,
    get_redis,
    redis_backend,
    redis_server,
    redis_server_binary,
)

__all__ = [
    "DatabaseBackend",
    "RedisBackend",
    "RedisEndpoint",
    "database_backend",
    "delete_prefix",
    "describe",
    "get_redis",
    "redis_backend",
    "redis_server",
    "redis_server_binary",
    "setup_django",
]


def describe() -> dict[str, str]:
    """One line per need: which backend this process uses for it (for notebooks and the doctor)."""
    binary = redis_server_binary()
    redis_now = redis_backend()
    if redis_now.is_real:
        shared = f"the real Redis at {redis_now.url}"
    elif binary:
        shared = f"redis-server ({binary}) started on a free 127.0.0.1 port"
    else:
        shared = "fakeredis TCP server (pure Python) started on a free 127.0.0.1 port"
    return {
        "key-value cache, in-process": redis_now.detail,
        "key-value across processes": shared,
        "SQL database": database_backend().detail,
        "queue + worker": f"RQ on {'the real Redis' if redis_now.is_real else 'the cross-process Redis above'}",
        "load generator": "locust --headless as a subprocess",
    }
