"""Cache-aside ("lazy loading"), the pattern behind every cache in the talks.

On a read: look the key up in the cache; on a *hit* return the cached value; on a
*miss* compute the value (the slow path: a database, an external API), store it with a
TTL (time to live, seconds) and return it. Writers do not touch the cache; stale
entries disappear when their TTL runs out (module 04 adds invalidation on write).

Sources: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza) and
"Cacheamento Lado Servidor" (J. Mário Guedes); Redis docs, "Caching patterns".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CacheStats:
    """Hit and miss counters; ``events`` keeps the sequence (True = hit) for plots."""

    hits: int = 0
    misses: int = 0
    events: list[bool] = field(default_factory=list)

    def record(self, hit: bool) -> None:
        self.events.append(hit)
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    @property
    def requests(self) -> int:
        return self.hits + self.misses

    @property
    def hit_ratio(self) -> float:
        """hits / requests, in [0, 1]; ``nan`` before the first request."""
        return self.hits / self.requests if self.requests else math.nan


def cache_aside(
    client,
    key: str,
    ttl: float,
    compute: Callable[[], str],
    *,
    stats: CacheStats | None = None,
) -> str:
    """Return the cached value of ``key``, or compute, store (with ``ttl`` seconds) and return it.

    ``client`` is a redis-py (or fakeredis) client; ``compute`` returns a ``str`` (stored
    UTF-8 encoded). A ``ttl`` below 1 ms is rejected with ``ValueError`` (Redis needs
    a positive expiry; fractions of a second use ``PX``). Redis errors propagate.
    """
    if ttl < 0.001:
        raise ValueError(f"ttl must be at least 0.001 s, got {ttl}")
    cached = client.get(key)
    if cached is not None:
        if stats is not None:
            stats.record(True)
        return cached.decode() if isinstance(cached, bytes) else cached
    value = compute()
    client.set(key, value, px=int(ttl * 1000))
    if stats is not None:
        stats.record(False)
    return value
