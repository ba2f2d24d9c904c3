"""Checks of lab 03 (a Redis caching decorator): the key function, TTL + None caching, invalidation."""

from __future__ import annotations

from collections import UserDict

import fakeredis

from ..config import KEY_PREFIX
from .core import Hint, NotDone, call, check


def _show(value: object, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# functions whose calls the key check encodes -----------------------------------------------
def power(base, exp):
    return base**exp


def other_power(base, exp):
    return base**exp


def area(width, height=1):
    return width * height


def parts(*pieces):
    return len(pieces)


def report(region, *, year=2024, **filters):
    return region


@check("Exercise 1: a key function without collisions", "write make_key(func, args, kwargs)")
def check_call_key(make_key) -> str:
    """Equivalent calls must share a key, different calls must not; keys short and prefixed."""

    def key(func, *args, **kwargs):
        value = call(make_key, func, args, kwargs, name="make_key")
        if value is None:
            raise NotDone("make_key returns None")
        if not isinstance(value, str):
            raise Hint(f"a Redis key should be a str, got {type(value).__name__}")
        return value

    first = key(power, 2, 3)
    if not first.startswith(KEY_PREFIX):
        raise Hint(f"start every key with {KEY_PREFIX!r}, e.g. {KEY_PREFIX}cache:<function>:<arguments>")
    if key(power, 2, 3) != first:
        raise Hint("the same call gave two different keys: build the key only from the function and its arguments")
    if key(other_power, 2, 3) == first:
        raise Hint("power(2, 3) and other_power(2, 3) share a key: put the function's name (__qualname__) in it")
    if key(power, 3, 2) == first:
        raise Hint("power(2, 3) and power(3, 2) share a key: keep the arguments in their order")
    if key(parts, "a:b") == key(parts, "a", "b"):
        raise Hint("parts('a:b') and parts('a', 'b') share a key: joining with ':' is ambiguous; "
                   "encode the arguments with json.dumps (or repr)")  # fmt: skip
    if key(parts, 1) == key(parts, "1"):
        raise Hint("parts(1) and parts('1') share a key: str() drops the type; json.dumps or repr keeps it")
    if key(power, base=2, exp=3) == key(power, exp=2, base=3):
        raise Hint("power(base=2, exp=3) and power(exp=2, base=3) share a key: keyword values need their names; "
                   "bind the call with inspect.signature(func).bind(*args, **kwargs)")  # fmt: skip
    if not key(power, 2, 3) == key(power, 2, exp=3) == key(power, base=2, exp=3):
        raise Hint("power(2, 3), power(2, exp=3) and power(base=2, exp=3) are the same call: "
                   "use inspect.signature(func).bind(*args, **kwargs).arguments")  # fmt: skip
    if not key(area, 2) == key(area, 2, 1) == key(area, 2, height=1):
        raise Hint("area(2) and area(2, 1) are the same call (height=1 by default): call bound.apply_defaults()")
    if key(report, "sul") != key(report, "sul", year=2024):
        raise Hint("report('sul') and report('sul', year=2024) are the same call: call bound.apply_defaults()")
    if key(report, "sul", a=1, b=2) != key(report, "sul", b=2, a=1):
        raise Hint("report('sul', a=1, b=2) and report('sul', b=2, a=1) differ: sort the keyword arguments "
                   "(json.dumps(..., sort_keys=True))")  # fmt: skip
    if key(report, "sul", a=1) == key(report, "sul", a=2) or key(report, "sul") == key(report, "norte"):
        raise Hint("report calls with different arguments share a key: encode every argument, **filters too")
    long_one, long_two = key(parts, "palavra " * 5_000), key(parts, "palavra " * 5_001)
    if max(len(long_one), len(long_two)) > 250:
        raise Hint(f"a long argument made a {max(len(long_one), len(long_two)):,}-character key: "
                   "replace long encodings by hashlib.sha256(text.encode()).hexdigest()")  # fmt: skip
    if long_one == long_two:
        raise Hint("two different long arguments share a key: hash the whole encoding, not a prefix of it")
    if long_one != key(parts, "palavra " * 5_000):
        raise Hint("a long argument gave two different keys: hash it with hashlib.sha256 (stable everywhere)")
    return f"equal calls share a key, different calls never do; e.g. {_show(key(area, 2))}"


def _counting(result, calls: list, name: str):
    def compute(item):
        calls.append(item)
        return result

    compute.__name__ = compute.__qualname__ = name
    return compute


@check("Exercise 2: TTL and None caching", "write ttl_cache(client, ttl)")
def check_ttl_none_decorator(ttl_cache) -> str:
    """Decorates counting functions (dict, None, 0, [], '') on a private fakeredis; inspects keys and TTLs."""
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    decorate = call(ttl_cache, client, 30, name="ttl_cache")
    if decorate is None:
        raise NotDone("ttl_cache returns None")
    if not callable(decorate):
        raise Hint("ttl_cache(client, ttl) should return a decorator: a function that takes the function to cache")
    outcomes = [("a dict", {"news": 1, "title": "Olá"}), ("None", None), ("0", 0), ("[]", []), ("''", "")]
    for index, (label, result) in enumerate(outcomes):
        calls: list = []
        compute = _counting(result, calls, f"lookup_{index}")
        cached = call(decorate, compute, name="the decorator")
        if not callable(cached):
            raise Hint("the decorator should return the wrapper function (return wrapper)")
        before = set(client.keys("*"))
        first = call(cached, "x", name="the cached function")
        if calls != ["x"]:
            raise Hint("on a miss (empty cache) the cached function must call the original function once")
        if first != result or type(first) is not type(result):
            raise Hint(f"a miss returned {_show(first)} instead of what the function returned, {_show(result)}")
        created = set(client.keys("*")) - before
        if not created:
            raise Hint(f"nothing was stored in Redis when the function returned {label}: "
                       + ("store a sentinel for None (GET cannot tell it from a missing key)" if result is None
                          else "store every result, not only the truthy ones"))  # fmt: skip
        second = call(cached, "x", name="the cached function")
        if len(calls) > 1:
            if result is None:
                raise Hint("a None result was computed again: GET returns None for a missing key too, so store "
                           "a sentinel (e.g. b'\\x00none') or check client.exists(key)")  # fmt: skip
            if not result:
                raise Hint(f"a falsy result ({label}) was computed again: test `cached is None`, not `if not cached`")
            raise Hint("the function ran again on a hit: return the cached value when the key exists")
        if second != result or type(second) is not type(result):
            if result is None:
                raise Hint(f"a hit returned {_show(second)} for a None result: turn the sentinel back into None")
            if isinstance(second, (bytes, str)) and not isinstance(result, (bytes, str)):
                raise Hint(f"a hit returned {_show(second)}: decode what Redis returns (json.loads)")
            raise Hint(f"a hit returned {_show(second)} instead of {_show(result)}")
        for key in created:
            name = key.decode() if isinstance(key, bytes) else key
            if not name.startswith(KEY_PREFIX):
                raise Hint(f"the key {_show(name)} does not start with {KEY_PREFIX!r}: use your make_key")
            ttl_ms = client.pttl(key)
            if ttl_ms == -1:
                raise Hint("the key has no TTL, so it never expires: client.set(key, data, ex=ttl) (or px= in ms)")
            if not 20_000 <= ttl_ms <= 30_000:
                raise Hint(f"asked for ttl=30 s but the key expires in {ttl_ms / 1000:.1f} s: pass the ttl to SET")
            raw = client.get(key)
            if result is not None and raw[:1] == b"\x80":
                raise Hint("the value is pickled: store JSON (json.dumps) so reading it cannot run someone's code")
        call(cached, "y", name="the cached function")
        if len(calls) != 2:
            raise Hint("cached('x') and cached('y') shared a value: build the key from the arguments (make_key)")
    return "every result is cached once, None and falsy ones too, each key with its TTL"


class _ArticleDB(UserDict):
    """The lab's 'database': a reader sneaks in just before each write, as in a busy site."""

    def __init__(self, data, reader):
        super().__init__(data)
        self.reader = reader
        self.writes = 0

    def __setitem__(self, key, value):
        if hasattr(self, "reader"):
            self.writes += 1
            self.reader(key)  # a concurrent request reads (and may cache) the old title
        super().__setitem__(key, value)


@check("Exercise 3: invalidate after an update", "write update_article(db, get_article, article_id, title)")
def check_update_article(update_article) -> str:
    """Three cached articles; update one; the next read must be fresh and the other two still hits."""
    from ..rediscache import redis_cache

    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    reads = []
    db = None

    def get_article(article_id):
        reads.append(article_id)
        return {"id": article_id, "title": db[article_id]}

    get_article.__qualname__ = "lab03.get_article"
    cached = redis_cache(ttl=300, client=client, namespace="lab03.articles")(get_article)
    db = _ArticleDB({1: "Chuva em Recife", 2: "Eleições municipais", 3: "Final do campeonato"}, cached)
    for article_id in (1, 2, 3):
        cached(article_id)
    reads.clear()
    call(update_article, db, cached, 2, "Eleições: resultado final", name="update_article")
    if db.writes == 0 or db.data[2] != "Eleições: resultado final":
        if db.data[2] == "Eleições municipais" and not reads and client.dbsize() == 3:
            raise NotDone("update_article did nothing yet")
        raise Hint("write the new title to the database first: db[article_id] = title")
    fresh = cached(2)
    if fresh["title"] != "Eleições: resultado final":
        if client.dbsize() < 3 or reads:
            raise Hint("invalidate after the write, not before: a reader between your invalidate and the write "
                       "cached the old title again")  # fmt: skip
        raise Hint("get_article(2) still returns the old title: call get_article.invalidate(article_id) after "
                   "the write (same arguments as the read)")  # fmt: skip
    reads.clear()
    cached(1), cached(3)
    if reads:
        raise Hint(f"that also dropped article(s) {sorted(set(reads))}: invalidate only the article you changed "
                   "(bump_version and delete_prefix drop every key)")  # fmt: skip
    return "the updated article is fresh at once, the others are still served from the cache"
