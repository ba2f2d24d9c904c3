"""Django's cache framework on the workshop's Redis: the ``CACHES`` setting, embedded or real.

Both cases use Django's own ``django.core.cache.backends.redis.RedisCache`` (Django 4.0+):

- real: with ``REDIS_URL`` set and reachable (``redis_backend()``), ``LOCATION`` is that URL;
- embedded (default): ``LOCATION`` is a placeholder URL and the ``pool_class`` option is
  ``EmbeddedConnectionPool``, a redis-py pool whose connections are fakeredis
  connections to the in-process server that ``get_redis()`` uses. So the notebook's
  ``get_redis()`` client sees the keys Django writes, on fakeredis as on a real Redis.

``KEY_PREFIX`` is ``"scalecode"``: Django's default key function builds
``"<prefix>:<version>:<key>"``, so every key starts with ``scalecode:1:`` and
``delete_prefix(get_redis())`` removes them. Never call ``cache.clear()``: Django's
RedisCache implements it with ``FLUSHDB``, which would empty a shared Redis.

Source: Django docs, "Django's cache framework" (Redis backend, ``OPTIONS``
``pool_class``, cache key prefixing, cache versioning).
"""

from __future__ import annotations

import redis

from ..config import KEY_PREFIX
from .redis_client import CONNECT_TIMEOUT_S, redis_backend

#: Django's KEY_PREFIX: the key function adds the ``:`` (``scalecode:1:<key>``).
DJANGO_KEY_PREFIX = KEY_PREFIX.rstrip(":")
#: LOCATION of the embedded cache: parsed by redis-py, never connected to (fakeredis serves it).
EMBEDDED_LOCATION = "redis://embedded-fakeredis:6379/0"
#: Default TTL of Django's cache in seconds (Django's own default is 300 too).
DEFAULT_TIMEOUT_S = 300


class EmbeddedConnectionPool(redis.ConnectionPool):
    """A redis-py connection pool served by the in-process fakeredis server of ``get_redis()``.

    Django's RedisCache builds its pool with ``pool_class.from_url(LOCATION, **OPTIONS)``;
    this class keeps the parsed database number and replaces the socket connection by
    ``fakeredis.FakeRedisConnection`` bound to ``scalecode.backends.redis_client._fake_server()``.
    """

    def __init__(self, **kwargs) -> None:
        import fakeredis

        from .redis_client import _fake_server

        kwargs["connection_class"] = fakeredis.FakeRedisConnection
        kwargs["server"] = _fake_server()
        super().__init__(**kwargs)


def cache_settings(*, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
    """The ``CACHES`` setting for the backend this process uses (decided by ``redis_backend()``).

    ``timeout``: the default TTL in seconds (``TIMEOUT``). Returns a dict with one alias,
    ``"default"``: Django's ``RedisCache`` on ``REDIS_URL`` (1 s connect and 5 s read
    timeouts, so a lost server fails fast) or on the embedded fakeredis. Raises
    ``ValueError`` for a timeout that is not > 0.
    """
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    backend = redis_backend()
    if backend.is_real:
        location = backend.url
        options: dict = {"socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_timeout": 5.0}
    else:
        location = EMBEDDED_LOCATION
        options = {"pool_class": f"{__name__}.EmbeddedConnectionPool"}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": DJANGO_KEY_PREFIX,
            "TIMEOUT": timeout,
            "OPTIONS": options,
        }
    }


def describe_cache() -> str:
    """One line: where Django's default cache lives (for notebooks). Needs Django configured."""
    from django.conf import settings

    config = settings.CACHES["default"]
    where = "the embedded fakeredis (shared with get_redis())" if config["LOCATION"] == EMBEDDED_LOCATION else (
        config["LOCATION"]
    )
    return f"{config['BACKEND'].rsplit('.', 1)[-1]} on {where}, KEY_PREFIX={config.get('KEY_PREFIX', '')!r}"
