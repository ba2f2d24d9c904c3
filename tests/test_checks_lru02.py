"""Checks of lab 02: any correct answer passes, the classic wrong ones get their specific hint."""

from __future__ import annotations

import functools

import cachetools
import pytest

from scalecode.checks import (
    check_hashable_cache,
    check_immutable_result,
    check_maxsize,
    check_method_cache,
    check_ttl_cache,
)  # fmt: skip
from scalecode.checks.lru02 import smallest_maxsize
from scalecode.workload import zipf_trace


def stub(*args, **kwargs):
    raise NotImplementedError


# --- exercise 1: maxsize ----------------------------------------------------------------
TRACE = zipf_trace(3000, 400, seed=21)
TARGET = 0.6
BEST = smallest_maxsize(TRACE, TARGET)


def test_smallest_maxsize_is_the_smallest():
    from scalecode.memo import hit_ratio

    assert hit_ratio(TRACE, BEST) >= TARGET > hit_ratio(TRACE, BEST - 1)
    assert smallest_maxsize(TRACE, 0.999) is None


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (BEST, "passed", "the smallest that works"),
        (int(BEST * 1.5), "passed", ""),
        (None, "not done yet", ""),
        (BEST - 5, "hint", "needs more room"),
        (0, "hint", "caches nothing"),
        (3 * BEST, "hint", "half that size"),
        (10_000, "hint", "holds every one"),
        (float(BEST), "hint", "whole number"),
        ("128", "hint", "whole number"),
    ],
    ids=["smallest", "within-2x", "stub", "too-small", "zero", "wasteful", "everything", "float", "str"],
)  # fmt: skip
def test_check_maxsize(answer, status, fragment):
    result = check_maxsize(answer, TRACE, TARGET)
    assert result.status == status and fragment in result.message


# --- exercise 2: unhashable arguments ----------------------------------------------------
def good_frozenset(search):
    @functools.lru_cache(maxsize=256)
    def cached(ids, filters):
        return search(list(ids), dict(filters))

    return lambda ids, filters: cached(tuple(ids), frozenset(filters.items()))


def good_sorted_cachetools(search):
    cache = cachetools.LRUCache(maxsize=64)

    def cached_search(ids, filters):
        key = (tuple(ids), tuple(sorted(filters.items())))
        if key not in cache:
            cache[key] = search(list(ids), dict(filters))
        return cache[key]

    return cached_search


def direct_lru(search):
    return functools.lru_cache(maxsize=None)(search)


def ordered_items(search):
    @functools.cache
    def cached(ids, items):
        return search(list(ids), dict(items))

    return lambda ids, filters: cached(tuple(ids), tuple(filters.items()))


def by_identity(search):
    cache = {}

    def cached_search(ids, filters):
        key = (id(ids), id(filters))
        if key not in cache:
            cache[key] = search(ids, filters)
        return cache[key]

    return cached_search


def no_convert_back(search):
    cached = functools.lru_cache(maxsize=None)(search)
    return lambda ids, filters: cached(tuple(ids), frozenset(filters.items()))


def ids_only(search):
    cache = {}

    def cached_search(ids, filters):
        if tuple(ids) not in cache:
            cache[tuple(ids)] = search(ids, filters)
        return cache[tuple(ids)]

    return cached_search


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_frozenset, "passed", "whatever the dict order"),
        (good_sorted_cachetools, "passed", ""),
        (stub, "not done yet", ""),
        (lambda search: None, "not done yet", "returns None"),
        (direct_lru, "hint", "unhashable"),
        (ordered_items, "hint", "another order"),
        (by_identity, "hint", "not id()"),
        (no_convert_back, "hint", "convert back"),
        (ids_only, "hint", "filters' values"),
        (lambda search: search, "hint", "ran search() again"),
    ],
    ids=["frozenset", "sorted", "stub", "none", "unhashable", "ordered", "identity", "no-convert", "ids-only",
         "no-cache"],
)  # fmt: skip
def test_check_hashable_cache(answer, status, fragment):
    result = check_hashable_cache(answer)
    assert result.status == status and fragment in result.message, result.message


# --- exercise 3: the method trap -----------------------------------------------------------
class PerInstance:
    def __init__(self, source):
        self.source = source
        self.price = functools.lru_cache(maxsize=128)(self._price)

    def _price(self, item):
        return self.source.lookup(item)


class CachedMethod:
    def __init__(self, source):
        self.source = source
        self.cache = cachetools.LRUCache(maxsize=128)

    @cachetools.cachedmethod(lambda self: self.cache)
    def price(self, item):
        return self.source.lookup(item)


class Leaky:
    def __init__(self, source):
        self.source = source

    @functools.lru_cache(maxsize=128)  # noqa: B019 - the wrong answer under test
    def price(self, item):
        return self.source.lookup(item)


class Uncached:
    def __init__(self, source):
        self.source = source

    def price(self, item):
        return self.source.lookup(item)


_SHARED: dict = {}


class SharedByItem:
    def __init__(self, source):
        self.source = source

    def price(self, item):
        if item not in _SHARED:
            _SHARED[item] = self.source.lookup(item)
        return _SHARED[item]


class NotStarted:
    def __init__(self, source):
        self.source = source

    def price(self, item):
        raise NotImplementedError


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (PerInstance, "passed", "freed after del"),
        (CachedMethod, "passed", "freed after del"),
        (NotStarted, "not done yet", ""),
        (Leaky, "hint", "still alive after del"),
        (Uncached, "hint", "ran source.lookup again"),
        (SharedByItem, "hint", "own cache"),
        (PerInstance(None), "hint", "the class itself"),
    ],
    ids=["per-instance", "cachedmethod", "stub", "leaky", "uncached", "shared", "instance"],
)  # fmt: skip
def test_check_method_cache(answer, status, fragment):
    _SHARED.clear()
    result = check_method_cache(answer)
    assert result.status == status and fragment in result.message, result.message


# --- exercise 4: mutable results -------------------------------------------------------------
def tuple_answer(load_tags):
    return functools.lru_cache(maxsize=None)(lambda article_id: tuple(load_tags(article_id)))


def copy_answer(load_tags):
    cached = functools.lru_cache(maxsize=None)(load_tags)
    return lambda article_id: list(cached(article_id))


def frozenset_answer(load_tags):
    return functools.cache(lambda article_id: frozenset(load_tags(article_id)))


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (tuple_answer, "passed", "tuples"),
        (copy_answer, "passed", "lists"),
        (frozenset_answer, "passed", "frozensets"),
        (stub, "not done yet", ""),
        (lambda load: functools.lru_cache(maxsize=None)(load), "hint", "return a tuple"),
        (lambda load: (lambda a: tuple(load(a))), "hint", "must cache"),
        (lambda load: functools.cache(lambda a: tuple(load(7))), "hint", "article id"),
    ],
    ids=["tuple", "copy", "frozenset", "stub", "cached-list", "uncached", "fixed-article"],
)  # fmt: skip
def test_check_immutable_result(answer, status, fragment):
    result = check_immutable_result(answer)
    assert result.status == status and fragment in result.message, result.message


# --- exercise 5: TTL ---------------------------------------------------------------------------
def ttl_answer(fetch, ttl):
    return cachetools.cached(cachetools.TTLCache(maxsize=32, ttl=ttl))(fetch)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (ttl_answer, "passed", "new one after it"),
        (stub, "not done yet", ""),
        (lambda fetch, ttl: functools.lru_cache(maxsize=32)(fetch), "hint", "never expires"),
        (lambda fetch, ttl: cachetools.cached(cachetools.TTLCache(maxsize=32, ttl=60))(fetch), "hint", "expire"),
        (lambda fetch, ttl: fetch, "hint", "within the TTL"),
        (lambda fetch, ttl: functools.cache(lambda section: fetch("home")), "hint", "section"),
    ],
    ids=["ttlcache", "stub", "lru", "ignores-ttl", "uncached", "fixed-section"],
)  # fmt: skip
def test_check_ttl_cache(answer, status, fragment):
    result = check_ttl_cache(answer)
    assert result.status == status and fragment in result.message, result.message
