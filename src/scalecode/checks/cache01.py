"""Checks of lab 01 (cache miss vs hit): cache-aside, the page key, the cached page, the hit ratio."""

from __future__ import annotations

import itertools

import fakeredis

from ..backends import delete_prefix, get_redis
from ..config import KEY_PREFIX
from .core import Hint, NotDone, call, check


def _show(value: object, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@check("Exercise 1: cache-aside with a TTL", "write cache_aside(client, key, ttl, compute)")
def check_cache_aside(cache_aside) -> str:
    """Calls ``cache_aside`` on a private fakeredis with a counting ``compute``."""
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    calls = {"n": 0}

    def compute() -> str:
        calls["n"] += 1
        return "<html>página 1</html>"

    first = call(cache_aside, client, "scalecode:test:a", 30, compute, name="cache_aside")
    if first is None and calls["n"] == 0:
        raise NotDone("cache_aside returned None without computing anything")
    if calls["n"] == 0:
        raise Hint("on a miss (empty cache), call compute() to build the value")
    if first != "<html>página 1</html>":
        raise Hint(f"a miss must return what compute() returned, got {_show(first)}")
    stored = client.keys("*")
    if not stored:
        raise Hint("nothing was stored in Redis after a miss: client.set(key, value, ...)")
    if "scalecode:test:a" not in stored:
        raise Hint(f"the value was stored under {_show(stored[0])}, not under the key you were given")
    ttl_ms = client.pttl("scalecode:test:a")
    if ttl_ms == -1:
        raise Hint("the key has no TTL, so it never expires: pass ex= or px= to client.set")
    if not 25_000 <= ttl_ms <= 30_000:
        raise Hint(f"asked for ttl=30 s but the key expires in {ttl_ms / 1000:.1f} s: use the ttl argument")
    second = call(cache_aside, client, "scalecode:test:a", 30, compute, name="cache_aside")
    if calls["n"] > 1:
        raise Hint("compute() ran again on a hit: return the cached value when client.get(key) is not None")
    if second != first:
        raise Hint(f"a hit returned {_show(second)} instead of the cached {_show(first)}")
    call(cache_aside, client, "scalecode:test:b", 30, compute, name="cache_aside")
    if calls["n"] != 2:
        raise Hint("a different key must be a miss: look up the key you were given, not a fixed one")
    return "one compute per key, then hits, with the TTL you asked for"


@check("Exercise 2: a key per page and category", "write news_page_key(page, category)")
def check_news_page_key(news_page_key) -> str:
    pages = (1, 2, 10)
    categories = (None, "esportes", "politica")
    keys = {}
    for page, category in itertools.product(pages, categories):
        key = call(news_page_key, page, category, name="news_page_key")
        if key is None:
            raise NotDone("news_page_key returns None")
        if not isinstance(key, str):
            raise Hint(f"a Redis key should be a str, got {type(key).__name__}")
        if key != call(news_page_key, page, category, name="news_page_key"):
            raise Hint("the same page gave two different keys: build the key only from page and category")
        for (other_page, other_category), other in keys.items():
            if other == key:
                what = "page number" if other_page != page else "category"
                raise Hint(
                    f"page {other_page}/{other_category} and page {page}/{category} share the key "
                    f"{_show(key)}: put the {what} in the key"
                )
        keys[(page, category)] = key
    bad = [k for k in keys.values() if not k.startswith(KEY_PREFIX)]
    if bad:
        raise Hint(f"start every key with {KEY_PREFIX!r} (the workshop's namespace), e.g. {KEY_PREFIX}news:...")
    if any(len(k) > 200 or " " in k for k in keys.values()):
        raise Hint("keep keys short and without spaces, e.g. scalecode:news:esportes:2")
    return f"{len(keys)} distinct, stable keys such as {_show(keys[(2, 'esportes')])}"


@check("Exercise 3: the cached news page", "write cached_news_page(page, category)")
def check_cached_news_page(cached_news_page) -> str:
    """Counts database queries per call: a miss queries, a hit does not; pages stay apart."""
    from ..newsroom.pages import remote_database, render_news_page

    client = get_redis()
    delete_prefix(client)
    expected = {(1, None): render_news_page(1, None), (2, None): render_news_page(2, None)}
    expected[(1, "esportes")] = render_news_page(1, "esportes")
    for (page, category), html in expected.items():
        with remote_database(0) as db:
            first = call(cached_news_page, page, category, name="cached_news_page")
        if first is None:
            raise NotDone("cached_news_page returns None")
        if isinstance(first, bytes):
            raise Hint("the page came back as bytes: decode it, or use get_redis(decode_responses=True)")
        if first != html:
            raise Hint(
                f"page {page}/{category} differs from render_news_page({page}, {category!r}): "
                "the key must separate pages and categories"
            )
        if db.queries == 0:
            raise Hint(
                f"page {page}/{category} was served without a query from an empty cache: is the key too generic?"
            )
        with remote_database(0) as db:
            second = call(cached_news_page, page, category, name="cached_news_page")
        if db.queries:
            raise Hint(f"the second request for page {page}/{category} ran {db.queries} queries: it was not a hit")
        if isinstance(second, bytes):
            raise Hint("a hit returned bytes: decode it, or use get_redis(decode_responses=True)")
        if second != html:
            raise Hint("the cached copy differs from the page: store the rendered HTML as it is")
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*"))
    if not keys:
        raise Hint(f"no key starting with {KEY_PREFIX!r} in Redis: use news_page_key for the key")
    if any(client.pttl(k) < 0 for k in keys):
        raise Hint("a cached page has no TTL: pass the ttl to cache_aside")
    delete_prefix(client)
    return "a miss runs the queries once, a hit runs none, and each page has its own key"


@check("Exercise 4: measure the hit ratio", "compute hit_ratio from the replayed trace")
def check_hit_ratio(hit_ratio, trace) -> str:
    """``hit_ratio`` must equal 1 - distinct/len(trace): every first request is a miss."""
    try:
        value = float(hit_ratio)
    except (TypeError, ValueError):
        raise Hint(f"hit_ratio should be a number between 0 and 1, got {_show(hit_ratio)}") from None
    total = len(trace)
    distinct = len(set(trace))
    expected = 1 - distinct / total
    if abs(value - expected) < 1e-9:
        return f"{value:.3f}: {total - distinct} hits out of {total} requests ({distinct} misses, one per page)"
    if abs(value - distinct / total) < 1e-9:
        raise Hint("that is the miss ratio: count the requests served from the cache (hits) / all requests")
    if value > 1 or value < 0:
        raise Hint(f"a ratio is between 0 and 1, got {value}: divide hits by the number of requests")
    if value == 0:
        raise Hint("no hits at all: empty the cache once before the replay, not before every request")
    if value == 1:
        raise Hint("every request was a hit: empty the cache once (delete_prefix(r)) before the replay")
    if abs(value - (total - distinct) / distinct) < 1e-9:
        raise Hint("divide the hits by all requests, not by the misses")
    raise Hint(
        f"expected {expected:.3f}, got {value:.3f}: count a hit when the page's key is already in Redis "
        "before the request, starting from an empty cache"
    )
