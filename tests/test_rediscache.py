"""The Redis caching decorator (module 03): keys, TTL, None, serializers, invalidation,
counters, stampede protection, fail-open; and the talk's naive decorator's flaws."""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import threading
import time
from decimal import Decimal

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalecode.backends import delete_prefix, get_redis, redis_server, redis_server_binary
from scalecode.naive_cache import PAYLOAD_LOG, flaw_report, naive_cache, poisoned_pickle, report_table
from scalecode.rediscache import (
    CACHE_PREFIX,
    KeyMaker,
    concurrent_calls,
    django_redis_cache,
    fast_fail_client,
    make_key,
    redis_cache,
)


@pytest.fixture
def r():
    """The workshop's Redis: embedded fakeredis, or the real one in real mode."""
    client = get_redis()
    delete_prefix(client)
    yield client
    delete_prefix(client)


@pytest.fixture
def private():
    """A private fakeredis server (for switching the connection off)."""
    server = fakeredis.FakeServer()
    return server, fakeredis.FakeRedis(server=server)


class Counter:
    def __init__(self):
        self.n = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.n += 1


# --- keys -------------------------------------------------------------------------------
def f(a, b=2, *rest, c=3, **extra):
    return None


def test_equivalent_calls_share_a_key():
    key = make_key(f, (1,), {})
    assert key == make_key(f, (1, 2), {}) == make_key(f, (), {"a": 1, "b": 2}) == make_key(f, (1,), {"c": 3})
    assert make_key(f, (1,), {"x": 1, "y": 2}) == make_key(f, (1,), {"y": 2, "x": 1})
    assert key.startswith(CACHE_PREFIX) and ".f:" in key


def test_keyword_names_and_values_matter():
    def power(base, exp):
        return base**exp

    assert make_key(power, (), {"base": 2, "exp": 3}) != make_key(power, (), {"exp": 2, "base": 3})
    assert make_key(power, (), {"base": 2, "exp": 3}) == make_key(power, (2, 3), {})


@pytest.mark.parametrize(
    ("one", "other"),
    [(("a:b",), ("a", "b")), ((1,), ("1",)), ((1,), (1.0,)), ((1,), (True,)), ((None,), ("None",)),
     (([1, 2],), ((1, 2),)), (({1: "x"},), ({"1": "x"},)), (({1, 2},), ([1, 2],)), (("",), ())],
    ids=["colon", "int-str", "int-float", "int-bool", "none-str", "list-tuple", "dict-keys", "set-list", "empty"],
)  # fmt: skip
def test_different_calls_never_share_a_key(one, other):
    def g(*parts):
        return None

    assert make_key(g, one, {}) != make_key(g, other, {})


def test_functions_namespaces_and_versions_separate_keys():
    def g(a, b=2, *rest, c=3, **extra):
        return None

    assert make_key(f, (1,), {}) != make_key(g, (1,), {})
    assert make_key(f, (1,), {}, version=1) != make_key(f, (1,), {})
    assert make_key(f, (1,), {}, namespace="news").startswith(f"{CACHE_PREFIX}news:v0:")


def test_long_arguments_are_hashed_and_keys_stay_short():
    key = make_key(f, ("palavra " * 10_000,), {})
    assert len(key) < 250 and ":sha256:" in key
    assert key == make_key(f, ("palavra " * 10_000,), {})
    assert key != make_key(f, ("palavra " * 10_001,), {})


def test_rich_argument_types_and_clear_errors():
    keys = KeyMaker(f)
    assert keys((dt.date(2024, 1, 2),), {}) != keys(("2024-01-02",), {})
    assert keys((Decimal("1.10"),), {}) != keys((1.1,), {})
    with pytest.raises(TypeError, match="cannot build a cache key"):
        keys((object(),), {})
    with pytest.raises(TypeError):
        keys((), {})  # 'a' is required


simple = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.floats(allow_nan=False))
arguments = st.lists(st.one_of(simple, st.lists(simple, max_size=3), st.tuples(simple, simple)), max_size=4)


@settings(max_examples=200, deadline=None)
@given(arguments, arguments)
def test_keys_equal_exactly_when_arguments_are_equal_and_of_the_same_types(one, other):
    def g(*parts):
        return None

    def typed(value):
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, tuple(typed(v) for v in value))
        return (type(value).__name__, repr(value))

    same = [typed(v) for v in one] == [typed(v) for v in other]
    assert (make_key(g, tuple(one), {}) == make_key(g, tuple(other), {})) == same


# --- the decorator --------------------------------------------------------------------------
def test_hit_miss_ttl_and_counters(r):
    calls = Counter()

    @redis_cache(ttl=30, client=r)
    def headline(news_id, lang="pt"):
        calls()
        return {"id": news_id, "title": f"notícia {news_id}"}

    assert headline(1) == headline(1, "pt") == headline(news_id=1, lang="pt") == {"id": 1, "title": "notícia 1"}
    assert calls.n == 1
    info = headline.cache_info()
    assert (info.hits, info.misses, info.computes) == (2, 1, 1) and info.hit_ratio == pytest.approx(2 / 3)
    key = headline.key(1)
    assert key.startswith("scalecode:cache:") and r.exists(key)
    assert 25_000 < r.pttl(key) <= 30_000
    assert json.loads(r.get(key)) == {"id": 1, "title": "notícia 1"}  # JSON by default
    headline.cache_clear_stats()
    assert headline.cache_info().hits == 0


@pytest.mark.parametrize("result", [None, 0, "", [], {}, False])
def test_none_and_falsy_results_are_cached(r, result):
    calls = Counter()

    @redis_cache(ttl=30, client=r)
    def lookup(x):
        calls()
        return result

    assert lookup("k") == result and lookup("k") == result and lookup("k") == result
    assert calls.n == 1 and lookup.cache_info().hits == 2


def test_pickle_only_when_asked(r):
    @redis_cache(ttl=30, client=r, serializer="pickle")
    def members(team):
        return {"team": team, "ids": (1, 2), "tags": {"a"}}

    value = members("alpha")
    assert members("alpha") == value and isinstance(members("alpha")["ids"], tuple)
    assert pickle.loads(r.get(members.key("alpha"))) == value
    with pytest.raises(ValueError, match="serializer"):
        redis_cache(serializer="yaml")


def test_a_foreign_pickle_is_never_unpickled_by_the_json_default(r, caplog):
    calls = Counter()

    @redis_cache(ttl=30, client=r)
    def profile(user):
        calls()
        return {"user": user}

    profile("ana")
    r.set(profile.key("ana"), poisoned_pickle("test"))
    before = len(PAYLOAD_LOG)
    with caplog.at_level(logging.WARNING, logger="scalecode.rediscache"):
        assert profile("ana") == {"user": "ana"}
    assert len(PAYLOAD_LOG) == before and calls.n == 2
    assert len([rec for rec in caplog.records if "does not decode" in rec.message]) == 1
    assert profile("ana") == {"user": "ana"} and calls.n == 2  # the bad value was replaced


def test_invalidate_one_call_and_bump_a_namespace(r):
    calls = Counter()

    @redis_cache(ttl=60, client=r, namespace="test03.news")
    def article(news_id):
        calls()
        return f"article {news_id} #{calls.n}"

    @redis_cache(ttl=60, client=r, namespace="test03.news")
    def comments(news_id):
        calls()
        return [news_id]

    a1, a2, c1 = article(1), article(2), comments(1)
    assert calls.n == 3
    assert article.invalidate(1) is True and article.invalidate(1) is False
    assert article(1) != a1 and article(2) == a2 and calls.n == 4
    assert article.bump_version() == 1
    assert r.get(article.version_key) == b"1" or r.get(article.version_key) == "1"
    article(2), comments(1)  # both dropped by one INCR, even comments' (shares the namespace)
    assert calls.n == 6
    assert c1 == comments(1) and calls.n == 6
    assert ":v1:" in article.key(2)


def test_a_bump_from_another_process_is_seen_by_the_next_call(r):
    calls = Counter()

    @redis_cache(ttl=60, client=r, namespace="test03.bump")
    def value(x):
        calls()
        return x

    value(1)
    value(1)
    r.incr(value.version_key)  # someone else, e.g. another web process, bumps the namespace
    value(1)
    assert calls.n == 2


def test_client_factory_and_default_client(r):
    made = []

    def factory():
        made.append(1)
        return r

    @redis_cache(ttl=5, client=factory)
    def one(x):
        return x

    one(1), one(1)
    assert made == [1]

    @redis_cache(ttl=5)
    def two(x):
        return x

    two(3)
    assert get_redis().exists(two.key(3))


@pytest.mark.parametrize(
    "kwargs",
    [{"ttl": 0}, {"ttl": None}, {"ttl": -1}, {"prefix": "cache:"}, {"namespace": "a:b"}, {"namespace": ""},
     {"lock_timeout": 0}, {"client": 42}],
)  # fmt: skip
def test_bad_parameters_are_clear_errors(kwargs):
    with pytest.raises(ValueError):
        redis_cache(**kwargs)


# --- cache stampede ----------------------------------------------------------------------------
def _slow_counter(n_expected: int, hold: float):
    """A computation that waits until ``n_expected`` callers are computing, or ``hold`` seconds."""
    calls = Counter()
    everyone_in = threading.Event()

    def compute(x):
        calls()
        if calls.n >= n_expected:
            everyone_in.set()
        everyone_in.wait(hold)
        return {"x": x}

    return calls, compute


def test_stampede_protection_one_computation_for_50_callers(r):
    calls, compute = _slow_counter(50, hold=0.3)  # only one caller ever computes: it holds 0.3 s
    cached = redis_cache(ttl=60, client=r, lock_timeout=30)(compute)
    results = concurrent_calls(cached, 50, 7)
    assert calls.n == 1
    assert results == [{"x": 7}] * 50
    info = cached.cache_info()
    assert info.computes == 1 and info.waited + info.hits == 49
    assert not r.exists(cached.key(7) + ":lock")


def test_without_protection_every_caller_computes(r):
    calls, compute = _slow_counter(50, hold=30)  # returns as soon as all 50 are computing
    cached = redis_cache(ttl=60, client=r, lock=False)(compute)
    assert concurrent_calls(cached, 50, 7) == [{"x": 7}] * 50
    assert calls.n == 50


def test_a_failing_lock_holder_lets_the_waiters_compute(r):
    failures = []

    @redis_cache(ttl=60, client=r, lock_timeout=30, poll_interval=0.002)
    def fragile(x):
        if not failures:
            failures.append(1)
            time.sleep(0.05)
            raise RuntimeError("database down")
        return x

    results = []
    for _ in range(2):
        try:
            results += concurrent_calls(fragile, 5, 1)
        except RuntimeError:
            pass
    assert results and all(v == 1 for v in results)


def test_concurrent_calls_validates_and_reraises():
    with pytest.raises(ValueError):
        concurrent_calls(lambda: None, 0)
    with pytest.raises(ZeroDivisionError):
        concurrent_calls(lambda: 1 / 0, 3)


# --- fail-open -----------------------------------------------------------------------------------
def test_fails_open_logs_once_and_recovers(private, caplog):
    server, client = private
    calls = Counter()

    @redis_cache(ttl=60, client=client, retry_after=0)
    def total(x):
        calls()
        return x * 2

    assert total(2) == 4 and total(2) == 4 and calls.n == 1
    server.connected = False
    with caplog.at_level(logging.INFO, logger="scalecode.rediscache"):
        assert [total(2) for _ in range(5)] == [4] * 5
        assert calls.n == 6
        warnings = [rec for rec in caplog.records if rec.levelno == logging.WARNING]
        assert len(warnings) == 1 and "unreachable" in warnings[0].message
        server.connected = True
        assert total(2) == 4
        assert calls.n == 6  # cached again (the value stored before the outage)
        assert any("answers again" in rec.message for rec in caplog.records)
    assert total.cache_info().errors == 5


def test_skips_redis_for_retry_after_seconds(private):
    server, client = private

    @redis_cache(ttl=60, client=client, retry_after=3600)
    def same(x):
        return x

    server.connected = False
    same(1)
    server.connected = True
    assert same(1) == 1
    info = same.cache_info()
    assert info.errors == 1 and info.bypassed == 1


@pytest.mark.parametrize("prefer", ["redis-server", "fakeredis"])
def test_keeps_answering_when_redis_is_stopped_mid_run(prefer, caplog):
    if prefer == "redis-server" and redis_server_binary() is None:
        pytest.skip("redis-server is not installed")
    calls = Counter()
    with redis_server(prefer=prefer) as endpoint:
        client = fast_fail_client(endpoint.url, timeout=0.25)

        @redis_cache(ttl=60, client=client, retry_after=0)
        def price(item):
            calls()
            return {"item": item, "price": 10}

        try:
            assert price("book") == price("book") == {"item": "book", "price": 10}
            assert calls.n == 1
            endpoint.service.stop()
            with caplog.at_level(logging.WARNING, logger="scalecode.rediscache"):
                answers = [price("book") for _ in range(3)]
            assert answers == [{"item": "book", "price": 10}] * 3 and calls.n == 4
            warnings = [rec for rec in caplog.records if "unreachable" in rec.message]
            assert len(warnings) == 1
            endpoint.service.start()  # Redis comes back on the same port (empty: nothing was saved)
            assert price("book") == {"item": "book", "price": 10}
            assert price("book") == {"item": "book", "price": 10}
            assert calls.n == 5
        finally:
            client.close()


# --- Django, side by side ---------------------------------------------------------------------
def test_django_redis_cache_on_the_same_redis(r, django_ready):
    cache = django_redis_cache(r, timeout=30)
    calls = Counter()

    def compute():
        calls()
        return None

    assert cache.get_or_set("news:1", compute) is None and cache.get_or_set("news:1", compute) is None
    assert calls.n == 1
    keys = [k.decode() if isinstance(k, bytes) else k for k in r.scan_iter(match="scalecode:django:*")]
    assert keys == ["scalecode:django:1:news:1"]


# --- the naive decorator's flaws --------------------------------------------------------------
def test_the_naive_decorator_has_every_flaw_and_ours_none(r):
    naive = flaw_report(naive_cache(r), r)
    ours = flaw_report(redis_cache(ttl=60, client=r), r)
    assert [row.ok for row in naive] == [False] * len(naive)
    assert [row.ok for row in ours] == [True] * len(ours) and len(ours) == 9
    assert not list(r.scan_iter(match="scalecode:*"))  # scenarios clean up after themselves
    table = report_table(naive=(naive_cache(r), r), scalecode=(redis_cache(ttl=60, client=r), r))
    assert table.shape == (9, 2) and table["scalecode"].str.startswith("✓").all()


def test_naive_unpickling_runs_the_payload(r):
    @naive_cache(r)
    def profile(user):
        return {"user": user}

    profile("ana")
    r.set("scalecode:naive:profile:ana", poisoned_pickle("naive test"))
    before = len(PAYLOAD_LOG)
    profile("ana")
    assert PAYLOAD_LOG[before:] == ["naive test"]


# --- the fast path and the measuring helpers -------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(simple, simple)
def test_the_fast_path_gives_the_same_key_as_binding(x, y):
    def pair(a, b):
        return None

    keys = KeyMaker(pair)
    assert keys((x, y), {}) == keys((x,), {"b": y}) == keys((), {"b": y, "a": x})


def test_remembered_fast_path_keeps_equal_but_different_values_apart():
    keys = KeyMaker(lambda a: a)
    assert keys((0.0,), {}) != keys((-0.0,), {})
    assert keys((1,), {}) != keys((True,), {}) != keys((1.0,), {})


def test_hit_overhead_and_captured_log(r):
    from scalecode.rediscache import captured_log, hit_overhead, per_call_seconds

    @redis_cache(ttl=30, client=r)
    def small(x):
        return {"x": x}

    cost = hit_overhead(small, 1, pairs=50)
    assert set(cost) == {"raw_s", "decorated_s", "ratio"} and cost["ratio"] > 0
    assert per_call_seconds(lambda: small(1), number=5, repeat=3) > 0
    with captured_log(echo=False) as records:
        r.set(small.key(2), b"not json")
        assert small(2) == {"x": 2}
    assert len(records) == 1 and "does not decode" in records[0].getMessage()
