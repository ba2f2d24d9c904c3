"""Checks of lab 02 (``functools.lru_cache``): maxsize for a target hit ratio, unhashable
arguments, a method cache without the self-leak, results callers cannot corrupt, a TTL."""

from __future__ import annotations

import functools
import gc
import numbers
import time
import weakref

from .core import Hint, NotDone, call, check


def _show(value: object, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _lru_hit_ratio(trace, maxsize: int) -> float:
    cached = functools.lru_cache(maxsize=maxsize)(lambda key: key)
    for key in trace:
        cached(key)
    return cached.cache_info().hits / len(trace)


def smallest_maxsize(trace, target: float) -> int | None:
    """The smallest ``maxsize`` whose LRU hit ratio on ``trace`` is >= ``target`` (None if none).

    LRU is a stack algorithm (a bigger cache always holds what a smaller one holds), so
    the hit ratio grows with ``maxsize`` and a binary search finds the answer.
    """
    low, high = 1, max(1, len(set(trace)))
    if _lru_hit_ratio(trace, high) < target:
        return None
    while low < high:
        middle = (low + high) // 2
        if _lru_hit_ratio(trace, middle) >= target:
            high = middle
        else:
            low = middle + 1
    return low


@check("Exercise 1: maxsize for a target hit ratio", "set MAXSIZE to the cache size that reaches TARGET")
def check_maxsize(maxsize, trace, target) -> str:
    """Replays ``trace`` through ``lru_cache(maxsize)``: the ratio must reach ``target``, without waste."""
    if isinstance(maxsize, bool) or not isinstance(maxsize, numbers.Integral):
        raise Hint(f"maxsize is a whole number of cache entries, got {_show(maxsize)}")
    maxsize = int(maxsize)
    if maxsize <= 0:
        raise Hint("maxsize <= 0 caches nothing: every request would be a miss")
    distinct = len(set(trace))
    best = smallest_maxsize(trace, target)
    if best is None:
        raise Hint(f"no cache reaches {target} on this trace; is TARGET the one the lab gave?")
    ratio = _lru_hit_ratio(trace, maxsize)
    if ratio < target:
        raise Hint(f"maxsize={maxsize} gives a hit ratio of {ratio:.3f} < {target}: the cache needs more room")
    if maxsize >= distinct and best * 2 < maxsize:
        raise Hint(f"maxsize={maxsize} holds every one of the {distinct} keys: the skew lets a far smaller cache "
                   f"reach {target}; search for the smallest size that does")  # fmt: skip
    if maxsize > 2 * best:
        raise Hint(f"maxsize={maxsize} reaches {ratio:.3f}, but a cache half that size does too: memory is not free, "
                   "look for the smallest size that reaches the target")  # fmt: skip
    return f"maxsize={maxsize} gives {ratio:.3f} >= {target} (the smallest that works is {best}, of {distinct} keys)"


class _CountingSearch:
    """A ``search(category_ids: list, filters: dict) -> list`` that counts its calls and checks its input."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, category_ids, filters):
        if not isinstance(category_ids, list) or not isinstance(filters, dict):
            raise Hint(f"search() got {type(category_ids).__name__} and {type(filters).__name__}, it expects a list "
                       "and a dict: convert back inside the cached function")  # fmt: skip
        self.calls += 1
        return [f"news {c} {k}={v}" for c in category_ids for k, v in sorted(filters.items())]


def _search_call(cached_search, category_ids, filters):
    try:
        return cached_search(category_ids, filters)
    except TypeError as exc:
        if "unhashable" in str(exc):
            raise Hint(f"{exc}: lru_cache keys on the arguments, so turn the list into a tuple and the dict into "
                       "a frozenset (or sorted tuple) before calling the cached function") from None  # fmt: skip
        raise Hint(f"cached_search raised TypeError: {exc}") from None
    except NotImplementedError:
        raise NotDone("make_cached_search still raises NotImplementedError") from None
    except (Hint, NotDone):
        raise
    except Exception as exc:
        raise Hint(f"cached_search raised {type(exc).__name__}: {exc}") from None


@check("Exercise 2: cache a function that takes a list and a dict",
       "write make_cached_search(search) returning a cached search(category_ids, filters)")  # fmt: skip
def check_hashable_cache(make_cached_search) -> str:
    """Calls with equal lists and dicts (new objects, keys in another order) and counts real searches."""
    search = _CountingSearch()
    cached_search = call(make_cached_search, search, name="make_cached_search")
    if cached_search is None:
        raise NotDone("make_cached_search returns None: return the cached function")
    if not callable(cached_search):
        raise Hint(f"make_cached_search should return a function, got {type(cached_search).__name__}")
    expected = _CountingSearch()
    first = _search_call(cached_search, [1, 2], {"sort": "recent", "page": 1})
    if first != expected([1, 2], {"sort": "recent", "page": 1}):
        raise Hint(f"cached_search returned {_show(first)}, not what search() returns for the same arguments")
    if search.calls != 1:
        raise Hint(f"one call of cached_search ran search() {search.calls} times")
    _search_call(cached_search, [1, 2], {"sort": "recent", "page": 1})
    if search.calls != 1:
        raise Hint("equal arguments (new list and dict objects) ran search() again: key on their contents, not id()")
    _search_call(cached_search, [1, 2], {"page": 1, "sort": "recent"})
    if search.calls != 1:
        raise Hint("the same filters with keys in another order ran search() again: a dict's order does not matter "
                   "here, so use frozenset(filters.items()) or tuple(sorted(filters.items()))")  # fmt: skip
    other = _search_call(cached_search, [1, 3], {"sort": "recent", "page": 1})
    if search.calls != 2 or other != expected([1, 3], {"sort": "recent", "page": 1}):
        raise Hint("other category ids got a cached answer: the key must contain the category ids")
    other = _search_call(cached_search, [1, 2], {"sort": "recent", "page": 2})
    if search.calls != 3 or other != expected([1, 2], {"sort": "recent", "page": 2}):
        raise Hint("other filters got a cached answer: the key must contain the filters' values")
    return "equal lists and dicts share one entry, whatever the dict order; different ones do not"


class _PriceSource:
    """A slow price list: ``lookup(item)`` is counted."""

    def __init__(self, factor: int) -> None:
        self.factor = factor
        self.calls = 0

    def lookup(self, item: str) -> int:
        self.calls += 1
        return len(item) * self.factor


@check("Exercise 3: cache a method without keeping self alive",
       "write class PriceBook(source) with a cached price(item)")  # fmt: skip
def check_method_cache(price_book_class) -> str:
    """Counts ``source.lookup`` calls per instance, then checks instances are freed after ``del``."""
    if not isinstance(price_book_class, type):
        raise Hint(f"pass the class itself (PriceBook), not {_show(price_book_class)}")
    name = price_book_class.__name__
    source_a, source_b = _PriceSource(10), _PriceSource(1000)
    book_a = call(price_book_class, source_a, name=name)
    first = call(book_a.price, "coffee", name=f"{name}.price")
    if first is None and source_a.calls == 0:
        raise NotDone("price returns None")
    if first != source_a.lookup("coffee"):
        raise Hint(f"price('coffee') returned {_show(first)}, not self.source.lookup('coffee')")
    source_a.calls -= 1  # the check's own lookup
    call(book_a.price, "coffee", name=f"{name}.price")
    if source_a.calls != 1:
        raise Hint("price('coffee') ran source.lookup again for the same item: cache it")
    call(book_a.price, "tea", name=f"{name}.price")
    if source_a.calls != 2:
        raise Hint("price('tea') was not looked up: the cache key must contain the item")
    book_b = call(price_book_class, source_b, name=name)
    if call(book_b.price, "coffee", name=f"{name}.price") != len("coffee") * 1000:
        raise Hint("a second PriceBook returned the first one's price: each instance needs its own cache")
    del book_a, book_b
    refs = []
    for i in range(20):
        book = call(price_book_class, _PriceSource(i + 1), name=name)
        call(book.price, "bread", name=f"{name}.price")
        try:
            refs.append(weakref.ref(book))
        except TypeError:
            raise Hint(f"{name} instances cannot be weakly referenced (__slots__ without __weakref__?)") from None
        del book
    gc.collect()
    alive = sum(ref() is not None for ref in refs)
    if alive:
        raise Hint(f"{alive} of 20 PriceBooks are still alive after del: @lru_cache on a method keeps self in one "
                   "cache shared by the class; give each instance its own cache (e.g. in __init__)")  # fmt: skip
    return "one lookup per item and instance, and every instance is freed after del"


@check("Exercise 4: cached results that callers cannot corrupt",
       "write make_cached_tags(load_tags) returning a cached tags(article_id)")  # fmt: skip
def check_immutable_result(make_cached_tags) -> str:
    """A caller mutates what it got; the next caller must still see the original tags, with no new load."""
    calls = {"n": 0}

    def load_tags(article_id: int) -> list[str]:
        calls["n"] += 1
        return ["politica", "brasil", f"artigo-{article_id}"]

    tags = call(make_cached_tags, load_tags, name="make_cached_tags")
    if tags is None:
        raise NotDone("make_cached_tags returns None: return the cached function")
    first = call(tags, 7, name="tags")
    if first is None:
        raise NotDone("tags(article_id) returns None")
    expected = load_tags(7)
    calls["n"] -= 1
    try:
        same = list(first) == expected or sorted(first) == sorted(expected)
    except TypeError:
        same = False
    if not same:
        raise Hint(f"tags(7) returned {_show(first)}, expected the tags {expected} (a list, tuple or set of them)")
    for attempt in ("append", "add", "clear"):
        mutate = getattr(first, attempt, None)
        if callable(mutate):
            try:
                mutate("hacked") if attempt != "clear" else mutate()
            except (TypeError, AttributeError):
                pass
            break
    again = call(tags, 7, name="tags")
    if calls["n"] > 1:
        raise Hint("load_tags ran again for the same article: the function must cache")
    try:
        corrupted = "hacked" in again or len(again) != len(expected)
    except TypeError:
        corrupted = True
    if corrupted:
        raise Hint(f"a caller changed the list it got, and the next caller saw {_show(again)}: "
                   "return a tuple (or a copy) instead of the cached list")  # fmt: skip
    other = call(tags, 8, name="tags")
    try:
        other_ok = "artigo-8" in other
    except TypeError:
        other_ok = False
    if calls["n"] != 2 or not other_ok:
        raise Hint("article 8 did not get its own tags: the key must contain the article id")
    return f"the cache returns {type(again).__name__}s that a caller cannot change for the next one"


@check("Exercise 5: a TTL cache for data that changes",
       "write make_headline(fetch, ttl) with cachetools.TTLCache")  # fmt: skip
def check_ttl_cache(make_headline) -> str:
    """Changes the source: within the TTL the old value is served, after it the new one (real time, 0.3 s)."""
    state = {"headline": "old headline", "calls": 0}

    def fetch(section: str) -> str:
        state["calls"] += 1
        return f"{section}: {state['headline']}"

    ttl = 0.2
    headline = call(make_headline, fetch, ttl, name="make_headline")
    if headline is None:
        raise NotDone("make_headline returns None: return the cached function")
    if call(headline, "home", name="headline") != "home: old headline":
        raise Hint("headline('home') should return fetch('home')")
    state["headline"] = "new headline"
    within = call(headline, "home", name="headline")
    if state["calls"] > 1:
        raise Hint("fetch ran again within the TTL: cache the result (cachetools.cached(TTLCache(...)))")
    if within != "home: old headline":
        raise Hint(f"within the TTL the cached headline should be served, got {_show(within)}")
    if call(headline, "sport", name="headline") != "sport: new headline":
        raise Hint("another section got the cached home headline: the key must contain the section")
    time.sleep(ttl * 1.5)
    after = call(headline, "home", name="headline")
    if after != "home: new headline":
        raise Hint(f"{ttl * 1.5:.1f} s later (TTL {ttl} s) it still served {_show(after)}: entries must expire "
                   "after ttl seconds; lru_cache never expires, cachetools.TTLCache(maxsize, ttl) does")  # fmt: skip
    return "the old headline within the TTL, the new one after it"
