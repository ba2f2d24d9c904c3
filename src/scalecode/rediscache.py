"""A production-style Redis caching decorator: ``@redis_cache(ttl=60)``.

The talk "Cacheamento Lado Servidor" (J. Mário Guedes) caches a function's result in
Redis under ``name:arg1:arg2``, pickled, forever. ``scalecode.naive_cache`` keeps that
idea to show its flaws; this module does what production caching libraries do
(dogpile.cache, Django's cache framework, cachetools' keys), one fix per flaw:

- **a deterministic key**: the qualified name plus the call bound to the signature
  (``inspect.signature(...).bind`` + ``apply_defaults``), so ``f(1, b=2)``, ``f(1, 2)``
  and ``f(b=2, a=1)`` share a key; arguments are encoded as typed JSON, so ``f("a:b")``
  and ``f("a", "b")`` (or ``f(1)`` and ``f("1")``) never collide; a long encoding is
  replaced by its SHA-256, so keys stay short;
- **a TTL** on every value (seconds, ``SET ... PX``);
- **``None`` and falsy results cached**: a hit is "the key exists", and ``None`` is
  stored as a sentinel;
- **JSON by default**, pickle only when asked (``serializer="pickle"``): unpickling
  what a shared store returns runs code chosen by whoever wrote it;
- **invalidation**: ``f.invalidate(*args, **kwargs)`` deletes one call's key;
  ``f.bump_version()`` drops a whole namespace at once by ``INCR`` of a version counter
  that is part of every key (old keys are never read again and expire by their TTL);
- **hit/miss counters**: ``f.cache_info()``;
- **cache stampede protection**: on a miss, one caller takes a Redis lock
  (``SET key token NX PX``, redis-py's ``Lock``) and recomputes; the others poll briefly
  and read the value it stored;
- **fail-open**: when Redis is unreachable, the function still answers by computing,
  the error is logged once per outage (``logging``, logger ``scalecode.rediscache``),
  Redis is retried every ``retry_after`` seconds, and caching resumes when it answers.

Every key starts with ``scalecode:cache:``. A hit costs one round trip: ``MGET`` of the
namespace's version counter and of the value under the version we last saw.

Sources: "Cacheamento Lado Servidor" (J. Mário Guedes); redis-py docs (``Lock``,
``SET NX PX``); Redis docs, "Distributed locks"; Django docs, "The cache framework"
(``get_or_set``, cache versioning); Python docs, ``inspect.Signature.bind``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import decimal
import enum
import functools
import hashlib
import inspect
import json
import logging
import pickle
import statistics
import threading
import time
import timeit
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .config import KEY_PREFIX

logger = logging.getLogger("scalecode.rediscache")

#: Prefix of every key this module writes.
CACHE_PREFIX = f"{KEY_PREFIX}cache:"
#: What is stored for a ``None`` result (no JSON or pickle output starts with a NUL byte).
NONE_MARK = b"\x00none"
_NONE_MARK_STR = NONE_MARK.decode()
#: Encoded arguments longer than this (characters) are replaced by their SHA-256.
MAX_ARGS_CHARS = 128
REDIS_ERRORS = (redis.RedisError, OSError)

_MISS = object()  # "no usable cached value" (distinct from a cached None)
_SIMPLE = frozenset({str, int, float, bool, type(None)})
# argument types whose equal values always encode the same (not float: 0.0 == -0.0, nan != nan)
_REMEMBERED = frozenset({str, int, bool, type(None)})


# --- serializers -------------------------------------------------------------------------
class JSONSerializer:
    """JSON (UTF-8): safe to read from a shared store. Tuples come back as lists."""

    name = "json"

    @staticmethod
    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    loads = staticmethod(json.loads)


class PickleSerializer:
    """pickle: any Python object, but ``loads`` runs code chosen by whoever wrote the bytes.

    Use it only when every writer of the Redis is trusted (Python docs, ``pickle``:
    "Never unpickle data that could have come from an untrusted source").
    """

    name = "pickle"

    @staticmethod
    def dumps(value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    loads = staticmethod(pickle.loads)


SERIALIZERS = {"json": JSONSerializer, "pickle": PickleSerializer}


def _serializer(spec) -> Any:
    if isinstance(spec, str):
        try:
            return SERIALIZERS[spec]()
        except KeyError:
            raise ValueError(f"serializer must be 'json', 'pickle' or an object with dumps/loads, not {spec!r}") \
                from None
    if not (hasattr(spec, "dumps") and hasattr(spec, "loads")):
        raise ValueError("a serializer needs dumps(value) -> bytes and loads(bytes) -> value")
    return spec


# --- keys ----------------------------------------------------------------------------------
def _canonical(value: Any) -> Any:
    """A JSON-ready, typed form of one argument: equal arguments give equal forms, others differ."""
    kind = type(value)
    if kind in _SIMPLE:
        return value
    if kind is list:
        return [_canonical(v) for v in value]
    if kind is tuple:
        return {"tuple": [_canonical(v) for v in value]}
    if isinstance(value, dict):
        pairs = [[_canonical(k), _canonical(v)] for k, v in value.items()]
        return {"dict": sorted(pairs, key=lambda pair: _dumps(pair[0]))}
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((_canonical(v) for v in value), key=_dumps)}
    if isinstance(value, enum.Enum):
        return {kind.__qualname__: _canonical(value.value)}
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return {kind.__name__: value.isoformat()}
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return {kind.__name__: str(value)}
    if isinstance(value, (str, int, float)):  # subclasses: keep the value, tag the type
        return {kind.__qualname__: kind.__mro__[-2](value)}
    raise TypeError(
        f"cannot build a cache key from an argument of type {kind.__name__}: use str, numbers, bool, None, "
        "lists, tuples, dicts, sets, dates, Decimal, UUID or Enum (or pass a simple id instead of the object)"
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def qualified_name(fn: Callable) -> str:
    """``module.qualname`` of ``fn`` (e.g. ``"__main__.team_members"``); never contains ':'."""
    return f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', fn.__name__)}"


class KeyMaker:
    """Turns a call of ``fn`` into the argument part of its key (``str``).

    ``KeyMaker(fn)(args, kwargs)`` binds the call to ``fn``'s signature and applies the
    defaults, then encodes the arguments in signature order as typed JSON; an encoding
    longer than ``max_chars`` becomes ``"sha256:<64 hex digits>"``. Raises ``TypeError``
    for a call that does not match the signature or an argument that cannot be encoded.
    """

    def __init__(self, fn: Callable, max_chars: int = MAX_ARGS_CHARS) -> None:
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        plain = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        # fast path: every parameter given positionally, simple values -> same text as the slow path
        self._exact = len(params) if plain else -1
        self._var_positional = {p.name for p in params if p.kind is p.VAR_POSITIONAL}
        self.max_chars = max_chars
        # typed=True keeps 1, 1.0, True and "1" apart, as the JSON text does
        self.positional = functools.lru_cache(maxsize=4096, typed=True)(self._positional)

    def _positional(self, *args) -> str:
        text = _dumps(args)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest() if len(text) > self.max_chars else text

    def __call__(self, args: tuple, kwargs: dict) -> str:
        if not kwargs and len(args) == self._exact:
            types = set(map(type, args))
            if _REMEMBERED.issuperset(types):
                return self.positional(*args)  # remembered (up to 4096 calls per function)
            if _SIMPLE.issuperset(types):
                return self._positional(*args)
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = []
        for name, value in bound.arguments.items():
            if name in self._var_positional:
                values.append([_canonical(v) for v in value])
            else:
                values.append(_canonical(value))
        text = _dumps(values)
        if len(text) > self.max_chars:
            return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        return text


def make_key(fn: Callable, args: tuple = (), kwargs: dict | None = None, *, namespace: str | None = None,
             version: int = 0, prefix: str = CACHE_PREFIX) -> str:
    """The Redis key of the call ``fn(*args, **kwargs)`` (one-off; the decorator caches its ``KeyMaker``).

    Shape: ``scalecode:cache:<namespace>:v<version>:<module.qualname>:<arguments>``, where
    ``<arguments>`` is typed JSON or ``sha256:<hex>`` when long. ``namespace`` defaults
    to the qualified name.
    """
    name = qualified_name(fn)
    return f"{prefix}{namespace or name}:v{version}:{name}:{KeyMaker(fn)(tuple(args), dict(kwargs or {}))}"


# --- the decorator ---------------------------------------------------------------------------
class CacheInfo(NamedTuple):
    """Counters of one cached function since it was decorated (or ``cache_clear_stats()``).

    ``hits``: answered from Redis; ``misses``: not in Redis; ``computes``: times the
    function itself ran (database calls); ``waited``: misses answered by waiting for
    another caller's computation (stampede protection); ``errors``: Redis errors
    (each answered by computing); ``bypassed``: calls that skipped Redis during an outage.
    """

    hits: int
    misses: int
    computes: int
    waited: int
    errors: int
    bypassed: int

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else float("nan")


def fast_fail_client(url: str, timeout: float = 0.25, **kwargs) -> redis.Redis:
    """A redis-py client that gives up quickly: ``timeout`` seconds to connect and read, no retries.

    For a cache that fails open, a slow failure is as bad as an outage: redis-py's
    default retries with backoff would make every call wait.
    """
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                retry=Retry(NoBackoff(), 0), **kwargs)  # fmt: skip


class _RedisCached:
    """State and behaviour behind one decorated function (see ``redis_cache``)."""

    def __init__(self, fn, *, ttl, client, namespace, serializer, lock, lock_timeout, lock_wait,
                 poll_interval, max_key_chars, retry_after, prefix):  # fmt: skip
        self.fn = fn
        self.name = qualified_name(fn)
        self.namespace = namespace or self.name
        self.ttl_ms = int(round(ttl * 1000))
        self.serializer = _serializer(serializer)
        self.lock = lock
        self.lock_timeout = lock_timeout
        self.lock_wait = lock_timeout if lock_wait is None else lock_wait
        self.poll_interval = poll_interval
        self.retry_after = retry_after
        self.keys = KeyMaker(fn, max_key_chars)
        self.version_key = f"{prefix}{self.namespace}:version"
        self._base = f"{prefix}{self.namespace}:v"
        self._tail = f":{self.name}:"
        self._client_spec = client
        self._client = None
        self.version = 0  # the namespace version last seen in Redis
        self._counts = [0, 0, 0, 0, 0, 0]
        self._count_lock = threading.Lock()
        self._down = False
        self._down_until = 0.0

    # -- helpers -------------------------------------------------------------------------
    def client(self):
        if self._client is None:
            spec = self._client_spec
            if spec is None:
                from .backends import get_redis

                spec = get_redis
            self._client = spec if hasattr(spec, "get") else spec()
        return self._client

    def _count(self, index: int) -> None:
        with self._count_lock:
            self._counts[index] += 1

    def info(self) -> CacheInfo:
        with self._count_lock:
            return CacheInfo(*self._counts)

    def clear_stats(self) -> None:
        with self._count_lock:
            self._counts[:] = [0, 0, 0, 0, 0, 0]

    def key(self, *args, **kwargs) -> str:
        """The key of a call under the namespace version last seen (``str``)."""
        return f"{self._base}{self.version}{self._tail}{self.keys(args, kwargs)}"

    def _decode(self, raw, warn: bool = True) -> Any:
        if raw == NONE_MARK or raw == _NONE_MARK_STR:
            return None
        try:
            return self.serializer.loads(raw)
        except Exception as exc:  # corrupt or foreign bytes: never trust them, recompute
            if warn:
                kind = getattr(self.serializer, "name", "the serializer")
                logger.warning("%s: ignoring a cached value that does not decode as %s (%s)", self.name, kind,
                               type(exc).__name__)  # fmt: skip
            return _MISS

    def _encode(self, value) -> bytes:
        return NONE_MARK if value is None else self.serializer.dumps(value)

    def _failed(self, exc: BaseException) -> None:
        self._count(4)
        self._down_until = time.monotonic() + self.retry_after
        if not self._down:
            self._down = True
            logger.warning("Redis is unreachable (%s: %s); %s answers without the cache and retries Redis "
                           "every %.3g s", type(exc).__name__, exc, self.name, self.retry_after)  # fmt: skip

    def _recovered(self) -> None:
        self._down = False
        logger.info("Redis answers again; %s is cached again", self.name)

    def _compute(self, args, kwargs):
        self._count(2)
        return self.fn(*args, **kwargs)

    # -- the call --------------------------------------------------------------------------
    def __call__(self, args: tuple, kwargs: dict):
        """One call: the lean hit path (one ``MGET``), else ``_slow``."""
        tail = self._tail + self.keys(args, kwargs)
        if not self._down:
            try:
                version, raw = (self._client or self.client()).execute_command(
                    "MGET", self.version_key, f"{self._base}{self.version}{tail}"
                )
            except REDIS_ERRORS as exc:
                self._failed(exc)
                return self._compute(args, kwargs)
            if raw is not None and int(version or 0) == self.version:
                value = self._decode(raw, warn=False)
                if value is not _MISS:
                    with self._count_lock:
                        self._counts[0] += 1
                    return value
        return self._slow(tail, args, kwargs)

    def _slow(self, tail: str, args: tuple, kwargs: dict):
        """Everything but a plain hit: an outage, a bumped namespace, a miss."""
        if self._down and time.monotonic() < self._down_until:
            self._count(5)
            return self._compute(args, kwargs)
        try:
            client = self._client or self.client()
            version, raw = client.execute_command("MGET", self.version_key, f"{self._base}{self.version}{tail}")
            version = int(version or 0)
            if version != self.version:  # the namespace was bumped: read under the new version
                self.version = version
                raw = client.get(f"{self._base}{version}{tail}")
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return self._compute(args, kwargs)
        if self._down:
            self._recovered()
        if raw is not None:
            value = self._decode(raw)
            if value is not _MISS:
                self._count(0)
                return value
        self._count(1)
        return self._fill(client, f"{self._base}{version}{tail}", args, kwargs)

    def _store(self, client, key: str, value) -> None:
        try:
            client.set(key, self._encode(value), px=self.ttl_ms)
        except REDIS_ERRORS as exc:
            self._failed(exc)

    def _fill(self, client, key: str, args, kwargs):
        """A miss: compute and store; with ``lock``, only one caller at a time computes."""
        if not self.lock:
            value = self._compute(args, kwargs)
            self._store(client, key, value)
            return value
        deadline = time.monotonic() + self.lock_wait
        lock_key = key + ":lock"
        while True:
            lock = client.lock(lock_key, timeout=self.lock_timeout, blocking=False)
            try:
                acquired = lock.acquire()  # SET lock_key <token> NX PX lock_timeout
                if acquired:
                    raw = client.get(key)  # someone may have stored it since our lookup
            except REDIS_ERRORS as exc:
                self._failed(exc)
                return self._compute(args, kwargs)
            if acquired:
                try:
                    if raw is not None and (value := self._decode(raw, warn=False)) is not _MISS:
                        self._count(3)
                        return value
                    value = self._compute(args, kwargs)
                    self._store(client, key, value)
                    return value
                finally:
                    try:
                        lock.release()  # deletes the lock only if it still holds our token
                    except (redis.exceptions.LockError, *REDIS_ERRORS):
                        pass
            # another caller is computing: poll for its value (or for the lock to go away)
            pause = self.poll_interval
            while True:
                if time.monotonic() >= deadline:
                    value = self._compute(args, kwargs)  # waited long enough: answer anyway
                    self._store(client, key, value)
                    return value
                time.sleep(pause)
                pause = min(pause * 1.5, 0.1)
                try:
                    raw, holder = client.mget(key, lock_key)
                except REDIS_ERRORS as exc:
                    self._failed(exc)
                    return self._compute(args, kwargs)
                if raw is not None and (value := self._decode(raw, warn=False)) is not _MISS:
                    self._count(3)
                    return value
                if holder is None:
                    break  # the holder gave up without storing a value: try to take the lock

    def invalidate(self, *args, **kwargs) -> bool:
        """Delete the key of this one call; True when a cached value was deleted.

        Reads the current namespace version first. Redis errors propagate (an invalidation
        that did not happen must not pass silently).
        """
        client = self.client()
        self.version = int(client.get(self.version_key) or 0)
        return bool(client.delete(self.key(*args, **kwargs)))

    def bump_version(self) -> int:
        """Drop every key of the namespace at once (``INCR`` the version); returns the new version.

        Old keys are never read again and expire by their TTL. Redis errors propagate.
        """
        self.version = int(self.client().incr(self.version_key))
        return self.version


def redis_cache(
    ttl: float = 300.0,
    *,
    client=None,
    namespace: str | None = None,
    serializer="json",
    lock: bool = True,
    lock_timeout: float = 10.0,
    lock_wait: float | None = None,
    poll_interval: float = 0.005,
    max_key_chars: int = MAX_ARGS_CHARS,
    retry_after: float = 1.0,
    prefix: str = CACHE_PREFIX,
) -> Callable[[Callable], Callable]:
    """Cache a function's results in Redis: ``@redis_cache(ttl=60)``.

    Parameters
    ----------
    ttl: seconds a value lives (> 0; fractions allowed, stored with ``PX`` in ms).
    client: a redis-py/fakeredis client, or a zero-argument factory returning one (called
        at the first call); default ``scalecode.backends.get_redis``.
    namespace: the group ``bump_version()`` drops at once; several functions may share
        one. Default: the function's qualified name. No ':' or spaces.
    serializer: ``"json"`` (default), ``"pickle"`` (trusted stores only) or an object
        with ``dumps(value) -> bytes`` and ``loads(bytes) -> value``.
    lock: stampede protection: on a miss only the caller holding the Redis lock
        recomputes; others poll every ``poll_interval`` s (growing to 0.1 s) for up to
        ``lock_wait`` s (default ``lock_timeout``), then compute themselves.
    lock_timeout: seconds after which a lock expires even if its holder died.
    max_key_chars: longer argument encodings are replaced by their SHA-256.
    retry_after: seconds to skip Redis after an error before trying again.
    prefix: must start with ``scalecode:``.

    The decorated function has ``key(*a, **kw)``, ``invalidate(*a, **kw)``,
    ``bump_version()``, ``cache_info()``, ``cache_clear_stats()``, ``version_key`` and
    ``uncached`` (the original function). Arguments must be JSON-like values (see
    ``KeyMaker``). Raises ``ValueError`` for a bad parameter, at decoration time.
    Source: "Cacheamento Lado Servidor" (J. Mário Guedes), fixed as production libraries do.
    """
    if not isinstance(ttl, (int, float)) or isinstance(ttl, bool) or not ttl >= 0.001:
        raise ValueError(f"ttl must be a number of seconds >= 0.001 (every cached value expires), got {ttl!r}")
    if not prefix.startswith(KEY_PREFIX):
        raise ValueError(f"prefix must start with {KEY_PREFIX!r}, got {prefix!r}")
    if namespace is not None and (not namespace or any(c in namespace for c in ": \t\n")):
        raise ValueError(f"namespace must be a non-empty name without ':' or spaces, got {namespace!r}")
    if lock_timeout <= 0 or poll_interval <= 0 or retry_after < 0 or max_key_chars < 16:
        raise ValueError("lock_timeout and poll_interval must be > 0, retry_after >= 0, max_key_chars >= 16")
    _serializer(serializer)
    if client is not None and not (hasattr(client, "get") or callable(client)):
        raise ValueError("client must be a Redis client or a zero-argument function returning one")

    def decorate(fn: Callable) -> Callable:
        state = _RedisCached(
            fn, ttl=ttl, client=client, namespace=namespace, serializer=serializer, lock=lock,
            lock_timeout=lock_timeout, lock_wait=lock_wait, poll_interval=poll_interval,
            max_key_chars=max_key_chars, retry_after=retry_after, prefix=prefix,
        )  # fmt: skip
        loads = state.serializer.loads
        call, keys, positional, counts, count_lock = state.__call__, state.keys, state.keys.positional, \
            state._counts, state._count_lock
        exact, base, name_tail, version_key, none_mark = keys._exact, state._base, state._tail, \
            state.version_key, NONE_MARK

        @functools.wraps(fn)
        def cached(*args, **kwargs):
            # the hit path, inlined: simple positional arguments, Redis up, value present, version current
            if not kwargs and len(args) == exact and not state._down and _REMEMBERED.issuperset(map(type, args)):
                version = state.version
                try:
                    current, raw = (state._client or state.client()).execute_command(
                        "MGET", version_key, f"{base}{version}{name_tail}{positional(*args)}"
                    )
                except REDIS_ERRORS as exc:
                    state._failed(exc)
                    return state._compute(args, kwargs)
                if raw is not None and raw != none_mark and int(current or 0) == version:
                    try:
                        value = loads(raw)
                    except Exception:  # noqa: BLE001 - undecodable: the slow path logs and recomputes
                        return call(args, kwargs)
                    with count_lock:
                        counts[0] += 1
                    return value
            return call(args, kwargs)

        cached.key = state.key
        cached.invalidate = state.invalidate
        cached.bump_version = state.bump_version
        cached.cache_info = state.info
        cached.cache_clear_stats = state.clear_stats
        cached.version_key = state.version_key
        cached.uncached = fn
        cached.cache_state = state
        return cached

    return decorate


# --- measuring and comparing ------------------------------------------------------------------
def per_call_seconds(fn: Callable[[], object], *, number: int = 200, repeat: int = 7) -> float:
    """Median over ``repeat`` runs of the time of one call of ``fn()`` (seconds), ``number`` calls per run."""
    fn()
    return float(sorted(t / number for t in timeit.repeat(fn, number=number, repeat=repeat))[repeat // 2])


def hit_overhead(cached: Callable, *args, pairs: int = 2000, **kwargs) -> dict[str, float]:
    """Cost of a decorated hit vs the raw round trip it makes: ``GET`` + decode of the same key.

    Calls ``cached(*args, **kwargs)`` once (so the value is stored), then times ``pairs``
    interleaved pairs of single calls (raw then decorated, the order alternating) with
    ``time.perf_counter``. Medians of single calls ignore the calls another process
    interrupted, and interleaving makes both sides see the same machine. Returns
    ``{"raw_s", "decorated_s", "ratio"}``: median seconds per call and their ratio
    (decorated / raw). Raises ``RuntimeError`` when the two reads disagree.
    """
    cached(*args, **kwargs)
    state = cached.cache_state
    client, key, loads = state.client(), cached.key(*args, **kwargs), state.serializer.loads
    if loads(client.get(key)) != cached(*args, **kwargs):
        raise RuntimeError("the raw read and the decorated hit disagree: is the value cached?")
    clock = time.perf_counter
    raw_times, dec_times = [], []
    for i in range(pairs):
        if i % 2:
            t0 = clock()
            loads(client.get(key))
            t1 = clock()
            cached(*args, **kwargs)
            t2 = clock()
            raw_times.append(t1 - t0)
            dec_times.append(t2 - t1)
        else:
            t0 = clock()
            cached(*args, **kwargs)
            t1 = clock()
            loads(client.get(key))
            t2 = clock()
            dec_times.append(t1 - t0)
            raw_times.append(t2 - t1)
    raw_s, dec_s = statistics.median(raw_times), statistics.median(dec_times)
    return {"raw_s": raw_s, "decorated_s": dec_s, "ratio": dec_s / raw_s}


def concurrent_calls(fn: Callable, n: int, *args, timeout: float = 60.0, **kwargs) -> list:
    """Call ``fn(*args, **kwargs)`` from ``n`` threads released at the same instant; return the results.

    A ``threading.Barrier`` lines the threads up so they hit the cache together (a cache
    stampede). An exception in a thread is re-raised here. Raises ``TimeoutError`` when
    the threads do not finish within ``timeout`` seconds.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout)
            results[i] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"{n} concurrent calls did not finish within {timeout} s")
    if errors:
        raise errors[0]
    return results


def django_redis_cache(client=None, *, key_prefix: str = "scalecode:django", timeout: float = 300):
    """Django's own Redis cache backend (``django.core.cache.backends.redis.RedisCache``) on ``client``'s Redis.

    Shares ``client``'s connection pool (default ``get_redis()``), so Django and
    ``redis_cache`` work on the same Redis, embedded or real, for a side-by-side
    comparison. Django must be configured first (``scalecode.backends.setup_django()``).
    Keys are ``scalecode:django:<version>:<key>``; values are pickled (Django's default).
    Source: Django docs, "The cache framework" (Redis backend, ``get_or_set``).
    """
    from django.core.cache.backends.redis import RedisCache

    if client is None:
        from .backends import get_redis

        client = get_redis()
    pool = client.connection_pool

    class SharedPool:  # Django asks its pool class for a pool by URL: hand it the client's pool
        @staticmethod
        def from_url(url, **options):
            return pool

    return RedisCache("redis://shared-pool/0", {
        "TIMEOUT": timeout, "KEY_PREFIX": key_prefix, "OPTIONS": {"pool_class": SharedPool},
    })  # fmt: skip


@contextlib.contextmanager
def captured_log(level: int = logging.WARNING, *, echo: bool = True) -> Iterator[list[logging.LogRecord]]:
    """Collect what ``scalecode.rediscache`` logs at ``level`` or above inside a ``with`` block.

    Yields the list the records are appended to; with ``echo``, each one is also
    printed as one line (so a notebook shows it where it happened).
    """
    records: list[logging.LogRecord] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            if echo:
                print(f"[log {record.levelname.lower()}] {record.getMessage()}")

    handler = _Collect(level)
    logger.addHandler(handler)
    previous = logger.level
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
