"""Cache invalidation and population for the newsroom: what a write must drop or refresh.

A news item appears on its own page (``news_item_key``) and on the list pages of all
news and of its category (``news_page_key(page, category)``). Editing its title changes
one page of each listing; inserting or deleting an item shifts *every* page after it, and
moving it to another category changes the old category's listing too. So the simplest
correct rule is: on any write, drop the item's page and every cached page of the "all"
listing and of its category (old and new).

Three ways to find those list pages (module 04 measures them):

- ``keys_to_invalidate``/``invalidate``: delete by pattern, with ``SCAN MATCH`` (never
  ``KEYS``, which blocks Redis): correct for any page number that was ever cached, but a
  write costs a walk over the whole keyspace;
- namespace versioning (``versioned_page_key``, ``bump_listing_versions``): the key
  carries a per-listing version number; a write ``INCR``s it, old keys are never read
  again and expire by their TTL. A write costs one command; a read costs one more ``GET``;
- enumerating page numbers (what learners often write first): cheap, but misses page
  numbers past the end of a listing, which Django's paginator serves as the last page.

Where to hook it: in ``save()``/``delete()`` as in the talk (``save_news_item``,
``delete_news_item``), or, the idiomatic Django way, in ``pre_save``/``post_save``/
``post_delete`` receivers (``connect_invalidation``), which also catch code paths that
call ``item.save()`` directly. Neither sees ``QuerySet.update()`` or ``bulk_create``.
Write-through (``populate``) stores the fresh item page on save, so the next read is a
hit. Signals are never connected at import time: ``connect_invalidation`` returns a
handle (and context manager) that disconnects them.

Sources: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): ``Noticia.save``
clears the item, the news list and the category ("Limpando o cache") and populates the
cache ("Populando o cache"); Django docs, "Signals" and ``transaction.on_commit``; Redis
docs, ``SCAN`` and ``INCR``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from ..backends import delete_prefix
from ..caching import CacheStats, cache_aside
from ..config import KEY_PREFIX
from .models import Author, Category, NewsItem
from .pages import cached_news_page, news_item_key, news_page_key, remote_database, render_news_item, render_news_page

_OLD_CATEGORY = "_scalecode_old_category"


def _text(key) -> str:
    return key.decode() if isinstance(key, bytes) else key


def _category_slug(item: NewsItem) -> str | None:
    return item.category.slug if item.category_id else None


def affected_listings(item: NewsItem, old_category: str | None = None) -> list[str | None]:
    """The listings a write of ``item`` can change: ``[None (all news), its category, old category]``.

    ``old_category`` is the slug it had before the write (a category change affects both).
    """
    listings: list[str | None] = [None]
    for slug in (_category_slug(item), old_category):
        if slug and slug not in listings:
            listings.append(slug)
    return listings


def listing_pattern(category: str | None) -> str:
    """The ``SCAN MATCH`` pattern of every cached page of one listing (any page number)."""
    return news_page_key(0, category).rsplit("=", 1)[0] + "=*"


def keys_to_invalidate(client, item: NewsItem, *, old_category: str | None = None) -> list[str]:
    """Every cached key a write of ``item`` can make stale: its page and its listings' pages.

    Finds the list pages with ``SCAN MATCH`` (one walk over the keyspace per listing), so
    page numbers past the end of a listing are found too. Returns ``str`` keys.
    """
    keys = [news_item_key(item.pk)] if item.pk is not None else []
    for category in affected_listings(item, old_category):
        keys.extend(_text(k) for k in client.scan_iter(match=listing_pattern(category), count=1000))
    return keys


def invalidate(client, item: NewsItem, *, old_category: str | None = None) -> int:
    """Delete ``keys_to_invalidate(...)`` from Redis; returns how many keys existed and were deleted."""
    keys = keys_to_invalidate(client, item, old_category=old_category)
    return int(client.delete(*keys)) if keys else 0


def populate(client, item_id: int, *, ttl: float) -> str:
    """Write-through: render the item's page now and store it with a TTL (seconds); returns the HTML.

    The next read of the item is a cache hit and fresh. Raises ``ValueError`` for a TTL
    below 1 ms and ``NewsItem.DoesNotExist`` for an unknown id.
    """
    if ttl < 0.001:
        raise ValueError(f"ttl must be at least 0.001 s, got {ttl}")
    html = render_news_item(item_id)
    client.set(news_item_key(item_id), html, px=int(ttl * 1000))
    return html


def stored_category(item: NewsItem) -> str | None:
    """The category slug ``item`` has in the database now (before a save), or ``None`` if new."""
    if item.pk is None:
        return None
    return NewsItem.objects.filter(pk=item.pk).values_list("category__slug", flat=True).first()


# --- helpers for demos and tests: writes that leave no trace -------------------------------
@contextlib.contextmanager
def rolled_back(client=None) -> Iterator[None]:
    """A database transaction that is always rolled back; then the workshop's keys are deleted.

    Demos and checks edit the shared data set inside it, so every notebook and test still
    sees the 3000 committed news items. ``client``: the Redis client to clean (optional).
    """
    try:
        with transaction.atomic():
            try:
                yield
            finally:
                transaction.set_rollback(True)
    finally:
        if client is not None:
            delete_prefix(client)


def sample_item(category: str = "esportes", title: str = "Plantão: notícia de última hora") -> NewsItem:
    """A new, unsaved news item in ``category`` (slug), published now: it tops every listing it is in."""
    from django.utils import timezone

    return NewsItem(
        title=title, slug=f"plantao-{uuid.uuid4().hex}", category=Category.objects.get(slug=category),
        author=Author.objects.order_by("id").first(), published_at=timezone.now(),
        summary="Resumo da notícia de última hora.", body="Texto da notícia de última hora.",
    )  # fmt: skip


def stale_cached_keys(client) -> list[str]:
    """The cached news pages (list and item pages) whose HTML differs from a fresh render.

    A cached page of a deleted item counts as stale. Renders every cached page: for
    demos and tests on a few dozen keys, not for production.
    """
    stale = []
    for raw in client.scan_iter(match=f"{KEY_PREFIX}news:*", count=1000):
        key = _text(raw)
        fields = dict(part.split("=", 1) for part in key.split(":") if "=" in part)
        if "page" in fields and "v" not in fields:
            category = None if fields["category"] == "all" else fields["category"]
            fresh = render_news_page(int(fields["page"]), category)
        elif "id" in fields:
            try:
                fresh = render_news_item(int(fields["id"]))
            except NewsItem.DoesNotExist:
                fresh = None
        else:
            continue
        cached = client.get(key)
        if (cached.decode() if isinstance(cached, bytes) else cached) != fresh:
            stale.append(key)
    return sorted(stale)


# --- the talk's way: invalidate inside save() and delete() ------------------------------
def save_news_item(client, item: NewsItem, *, write_through_ttl: float | None = None, **save_kwargs) -> int:
    """``item.save(**save_kwargs)``, then drop the keys it made stale (and populate its page).

    The talk's ``Noticia.save`` as a function (the shared model is not subclassed here).
    With ``write_through_ttl`` (seconds) the item's fresh page is stored at once.
    Returns the number of keys deleted.
    """
    old = stored_category(item)
    item.save(**save_kwargs)
    dropped = invalidate(client, item, old_category=old)
    if write_through_ttl:
        populate(client, item.pk, ttl=write_through_ttl)
    return dropped


def delete_news_item(client, item: NewsItem) -> int:
    """``item.delete()``, then drop its page and its listings' pages; returns the keys deleted."""
    pk = item.pk
    item.delete()  # Django sets item.pk to None afterwards
    item.pk = pk
    try:
        return invalidate(client, item)
    finally:
        item.pk = None


# --- the Django way: signals, connected explicitly ---------------------------------------
@dataclass
class InvalidationHandle:
    """Receivers connected by ``connect_invalidation``; ``disconnect()`` (or ``with``) removes them.

    Counters: ``saves``, ``deletes``, ``keys_dropped``, ``populated``.
    """

    client: object = field(repr=False)
    write_through_ttl: float | None = None
    on_commit: bool = False
    saves: int = 0
    deletes: int = 0
    keys_dropped: int = 0
    populated: int = 0
    connected: bool = False
    _uid: str = field(default="", repr=False)

    def _later(self, action: Callable[[], None]) -> None:
        if self.on_commit:
            transaction.on_commit(action)  # after COMMIT: readers can no longer re-cache the old row
        else:
            action()

    def _pre_save(self, sender, instance, raw=False, **kwargs) -> None:
        if not raw:
            setattr(instance, _OLD_CATEGORY, stored_category(instance))

    def _post_save(self, sender, instance, created=False, raw=False, **kwargs) -> None:
        if raw:
            return
        old = getattr(instance, _OLD_CATEGORY, None)
        pk = instance.pk

        def act() -> None:
            self.saves += 1
            self.keys_dropped += invalidate(self.client, instance, old_category=old)
            if self.write_through_ttl:
                populate(self.client, pk, ttl=self.write_through_ttl)
                self.populated += 1

        self._later(act)

    def _post_delete(self, sender, instance, **kwargs) -> None:
        keys = keys_to_invalidate(self.client, instance)  # instance.pk is still set here

        def act() -> None:
            self.deletes += 1
            self.keys_dropped += int(self.client.delete(*keys)) if keys else 0

        self._later(act)

    def connect(self) -> InvalidationHandle:
        if not self.connected:
            self._uid = f"scalecode-04-invalidation-{id(self)}"
            pre_save.connect(self._pre_save, sender=NewsItem, weak=False, dispatch_uid=self._uid + "-pre")
            post_save.connect(self._post_save, sender=NewsItem, weak=False, dispatch_uid=self._uid + "-save")
            post_delete.connect(self._post_delete, sender=NewsItem, weak=False, dispatch_uid=self._uid + "-del")
            self.connected = True
        return self

    def disconnect(self) -> None:
        if self.connected:
            pre_save.disconnect(sender=NewsItem, dispatch_uid=self._uid + "-pre")
            post_save.disconnect(sender=NewsItem, dispatch_uid=self._uid + "-save")
            post_delete.disconnect(sender=NewsItem, dispatch_uid=self._uid + "-del")
            self.connected = False

    def __enter__(self) -> InvalidationHandle:
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.disconnect()


def connect_invalidation(
    client, *, write_through_ttl: float | None = None, on_commit: bool = False
) -> InvalidationHandle:
    """Connect ``pre_save``/``post_save``/``post_delete`` receivers on ``NewsItem`` that invalidate.

    Every ``NewsItem.save()`` then drops the keys in ``keys_to_invalidate`` (old and new
    category) and, with ``write_through_ttl`` (seconds), stores the fresh item page;
    every ``delete()`` drops the item's page and its listings. With ``on_commit=True`` the
    work waits for the transaction to commit (Django's ``transaction.on_commit``), so a
    reader cannot re-cache the old row in between; a rolled-back write then does nothing.
    Returns the connected ``InvalidationHandle``: call ``disconnect()`` or use it in ``with``.
    """
    if write_through_ttl is not None and write_through_ttl < 0.001:
        raise ValueError(f"write_through_ttl must be at least 0.001 s, got {write_through_ttl}")
    return InvalidationHandle(client, write_through_ttl, on_commit).connect()


# --- namespace versioning: INCR a number instead of finding keys --------------------------
def listing_version_key(category: str | None) -> str:
    """The key holding a listing's version number: ``scalecode:news:version:category=<slug|all>``."""
    return f"{KEY_PREFIX}news:version:category={category or 'all'}"


def versioned_page_key(client, page: int, category: str | None = None) -> str:
    """``news_page_key`` plus the listing's current version (one ``GET``): ``...:page=<n>:v=<version>``."""
    version = client.get(listing_version_key(category))
    return f"{news_page_key(page, category)}:v={int(version or 0)}"


def cached_versioned_page(
    client, page: int = 1, category: str | None = None, *, ttl: float = 60, stats: CacheStats | None = None
) -> str:
    """The news list page behind cache-aside under ``versioned_page_key`` (TTL in seconds)."""
    key = versioned_page_key(client, page, category)
    return cache_aside(client, key, ttl, lambda: render_news_page(page, category), stats=stats)


def bump_listing_versions(client, item: NewsItem, *, old_category: str | None = None) -> int:
    """Invalidate by versioning: ``INCR`` each affected listing's version and delete the item page.

    Two round trips whatever the size of the keyspace; old page keys are never read again
    and expire with their TTL. Returns the number of listings bumped.
    """
    listings = affected_listings(item, old_category)
    with client.pipeline(transaction=False) as pipe:
        for category in listings:
            pipe.incr(listing_version_key(category))
        if item.pk is not None:
            pipe.delete(news_item_key(item.pk))
        pipe.execute()
    return len(listings)


# --- staleness vs hit ratio under reads with occasional writes ----------------------------
@dataclass
class StalenessRun:
    """One run of ``staleness_run``: reads, hits, stale reads, staleness (seconds), writes."""

    label: str
    ttl: float
    reads: int
    hits: int
    stale_reads: int
    max_staleness_s: float
    writes: int
    seconds: float
    queries: int
    staleness_s: list[float] = field(default_factory=list)

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.reads if self.reads else math.nan

    @property
    def stale_fraction(self) -> float:
        """Stale reads / reads, in [0, 1]."""
        return self.stale_reads / self.reads if self.reads else math.nan


def _page_positions(trace: Iterable[tuple[int, str | None]]) -> dict[str | None, list[int]]:
    """For each listing of ``trace``: the ids on its pages up to the deepest page requested."""
    deepest: dict[str | None, int] = {}
    for page, category in trace:
        deepest[category] = max(deepest.get(category, 0), int(page))
    per_page = settings.NEWS_PER_PAGE
    positions = {}
    for category, pages in deepest.items():
        items = NewsItem.objects.all()
        if category:
            items = items.filter(category__slug=category)
        positions[category] = list(items.values_list("id", flat=True)[: pages * per_page])
    return positions


def staleness_run(
    client,
    trace: list[tuple[int, str | None]],
    *,
    ttl: float,
    invalidation: bool,
    reads: int = 3000,
    write_every: int = 300,
    write_every_s: float | None = None,
    max_seconds: float = 3.0,
    round_trip_s: float | None = None,
    seed: int = 4,
    label: str = "",
) -> StalenessRun:
    """Read ``trace`` pages through ``cached_news_page`` while an editor changes titles now and then.

    Up to ``reads`` reads (cycling through ``trace``), stopping after ``max_seconds`` seconds;
    after every ``write_every`` reads, or ``write_every_s`` seconds since the last write if
    that comes first, one item shown on a traced page gets a new title (``item.save()``):
    the read/write mix hardly depends on the machine's speed, while TTLs expire in real
    time and slow runs (all misses) still see writes. With ``invalidation`` the signal receivers drop the affected
    keys. A read is *stale* when it is a hit on an entry cached before the page last
    changed; its staleness is the time since that change (seconds). Title edits do not move
    items, so the changed pages are known exactly. All edits run in a transaction that is
    rolled back, and the workshop's keys are deleted before and after: the data set is
    unchanged. Raises ``ValueError`` for an empty trace or non-positive counts or durations.
    """
    if not trace:
        raise ValueError("the trace is empty")
    if reads < 1 or write_every < 1 or max_seconds <= 0:
        raise ValueError(f"reads and write_every must be >= 1 and max_seconds > 0, got {reads}, {write_every}, "
                         f"{max_seconds}")  # fmt: skip
    rng = random.Random(seed)
    per_page = settings.NEWS_PER_PAGE
    delete_prefix(client)
    stats = CacheStats()
    stored_at: dict[str, float] = {}
    changed_at: dict[str, list[float]] = {}
    staleness: list[float] = []
    writes = 0
    handle = connect_invalidation(client) if invalidation else None
    try:
        with transaction.atomic():
            positions = _page_positions(trace)
            where: dict[int, list[str]] = {}  # item id -> the traced page keys that show it
            for category, ids in positions.items():
                for index, item_id in enumerate(ids):
                    where.setdefault(item_id, []).append(news_page_key(index // per_page + 1, category))
            editable = sorted(where)
            with remote_database(round_trip_s) as db:
                began = last_write = time.perf_counter()
                since_write = 0
                for page, category in itertools.islice(itertools.cycle(trace), reads):
                    if time.perf_counter() - began >= max_seconds:
                        break
                    late = write_every_s is not None and time.perf_counter() - last_write >= write_every_s
                    if since_write >= write_every or late:
                        item = NewsItem.objects.get(pk=rng.choice(editable))
                        writes += 1
                        item.title = f"{item.title.split(' [')[0]} [edição {writes}]"
                        item.save(update_fields=["title"])
                        changed = last_write = time.perf_counter()
                        since_write = 0
                        for key in where[item.pk]:
                            changed_at.setdefault(key, []).append(changed)
                    since_write += 1
                    now = time.perf_counter()
                    key = news_page_key(page, category)
                    cached_news_page(client, page, category, ttl=ttl, stats=stats)
                    if stats.events[-1]:
                        later = [t for t in changed_at.get(key, ()) if t > stored_at[key]]
                        if later:
                            staleness.append(now - min(later))
                    else:
                        stored_at[key] = now
                seconds = time.perf_counter() - began
            transaction.set_rollback(True)
    finally:
        if handle:
            handle.disconnect()
        delete_prefix(client)
    return StalenessRun(
        label=label or (f"invalidation, TTL {ttl:g} s" if invalidation else f"TTL {ttl:g} s only"),
        ttl=ttl, reads=stats.requests, hits=stats.hits, stale_reads=len(staleness),
        max_staleness_s=max(staleness, default=0.0), writes=writes, seconds=seconds, queries=db.queries,
        staleness_s=staleness,
    )  # fmt: skip


def staleness_sweep(
    client,
    trace: list[tuple[int, str | None]],
    ttls: Iterable[float],
    *,
    invalidation_ttl: float | None = None,
    **run_kwargs,
) -> pd.DataFrame:
    """``staleness_run`` for each TTL (seconds) without invalidation, then once with invalidation.

    ``invalidation_ttl`` (seconds; default the longest TTL) is the TTL of the run with
    invalidation; ``run_kwargs`` go to every ``staleness_run`` (``reads``, ``write_every``,
    ``write_every_s``, ``max_seconds``, ``round_trip_s``, ``seed``). Returns a DataFrame with one row per run:
    ``label``, ``invalidation``, ``ttl`` (s), ``reads``, ``writes``, ``hit_ratio``,
    ``stale_fraction``, ``max_staleness_s``, ``throughput`` (req/s).
    """
    ttls = list(ttls)
    if not ttls:
        raise ValueError("give at least one TTL")
    runs = [staleness_run(client, trace, ttl=t, invalidation=False, **run_kwargs) for t in ttls]
    runs.append(staleness_run(client, trace, ttl=invalidation_ttl or max(ttls), invalidation=True, **run_kwargs))
    return pd.DataFrame(
        [
            {"label": r.label, "invalidation": i == len(ttls), "ttl": r.ttl, "reads": r.reads, "writes": r.writes,
             "hit_ratio": r.hit_ratio, "stale_fraction": r.stale_fraction, "max_staleness_s": r.max_staleness_s,
             "throughput": r.reads / r.seconds if r.seconds else math.nan}
            for i, r in enumerate(runs)
        ]
    )  # fmt: skip
