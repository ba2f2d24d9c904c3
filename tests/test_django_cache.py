"""Module 05: Django's cache framework on the workshop's Redis, the cached views, and the lab's checks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scalecode.backends import delete_prefix, get_redis, redis_backend


@pytest.fixture
def r(django_ready):
    client = get_redis()
    delete_prefix(client)
    yield client
    delete_prefix(client)


def _keys(client) -> list[str]:
    return sorted(k.decode() for k in client.scan_iter(match="scalecode:*"))


def _queries(fn, *args, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        result = fn(*args, **kwargs)
    return result, len(captured)


def _readers():
    from scalecode.checks.django05 import _two_readers

    return _two_readers()


def _login(reader_id):
    from django.test import Client

    browser = Client()
    assert browser.post("/leitor/entrar/", {"reader_id": reader_id}).content == b"ok"
    return browser


# --- the backend ---------------------------------------------------------------------------------
def test_cache_settings_follow_the_redis_backend(django_ready):
    from django.conf import settings

    from scalecode.backends.django_cache import EMBEDDED_LOCATION, cache_settings, describe_cache

    config = cache_settings(timeout=10)["default"]
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["KEY_PREFIX"] == "scalecode" and config["TIMEOUT"] == 10
    if redis_backend().is_real:
        assert config["LOCATION"] == redis_backend().url and "pool_class" not in config["OPTIONS"]
    else:
        assert config["LOCATION"] == EMBEDDED_LOCATION and config["OPTIONS"]["pool_class"].endswith("ConnectionPool")
    assert settings.CACHES["default"]["LOCATION"] == config["LOCATION"]
    assert "RedisCache" in describe_cache()
    with pytest.raises(ValueError):
        cache_settings(timeout=0)


@pytest.mark.real
def test_real_mode_uses_the_real_redis(django_ready):
    from django.conf import settings

    assert settings.CACHES["default"]["LOCATION"] == redis_backend().url


def test_django_cache_writes_prefixed_keys_that_get_redis_sees(r):
    from django.core.cache import cache

    cache.set("answer", {"value": 42}, timeout=30)
    assert cache.make_key("answer") == "scalecode:1:answer"
    assert _keys(r) == ["scalecode:1:answer"] and 0 < r.ttl("scalecode:1:answer") <= 30
    assert cache.get("answer") == {"value": 42}
    assert cache.get_or_set("answer", lambda: 0, version=2) == 0  # another version: another key
    assert cache.incr("n", 1) if cache.add("n", 1) else False
    assert delete_prefix(r) == 3 and cache.get("answer") is None


def test_embedded_pool_shares_the_in_process_server():
    import redis

    from scalecode.backends.django_cache import EMBEDDED_LOCATION, EmbeddedConnectionPool

    if redis_backend().is_real:
        pytest.skip("embedded-mode test")
    client = redis.Redis(connection_pool=EmbeddedConnectionPool.from_url(EMBEDDED_LOCATION))
    client.set("scalecode:test:pool", "x", ex=5)
    assert get_redis().get("scalecode:test:pool") == b"x"
    delete_prefix(get_redis())


# --- the views -------------------------------------------------------------------------------------
def test_existing_views_keep_their_behaviour(r):
    from django.test import Client

    from scalecode.newsroom.pages import render_news_page

    browser = Client()
    for _ in range(2):
        response, queries = _queries(browser.get, "/noticias/?page=2")
        assert queries == 82 and response.content.decode() == render_news_page(2)
        assert "Cache-Control" not in response.headers and not response.cookies
    assert browser.get("/health/").content == b"ok"
    assert _keys(r) == []


def test_cache_page_view_runs_zero_queries_when_warm(r):
    from django.test import Client

    from scalecode.newsroom.cached_views import NEWS_PAGE_TTL_S
    from scalecode.newsroom.pages import render_news_page

    browser = Client()
    first, cold = _queries(browser.get, "/cache/noticias/?page=3")
    second, warm = _queries(browser.get, "/cache/noticias/?page=3")
    assert cold == 82 and warm == 0 and first.content == second.content
    assert first.content.decode() == render_news_page(3)
    assert browser.get("/cache/noticias/?page=4").content.decode() == render_news_page(4)
    keys = _keys(r)
    assert keys and all(k.startswith("scalecode:1:views.decorators.cache.") for k in keys)
    assert all(0 < r.ttl(k) <= NEWS_PAGE_TTL_S for k in keys)


def test_login_sessions_live_in_redis_not_in_the_database(r):
    from django.conf import settings
    from django.test import Client

    reader, _ = _readers()
    browser = Client()
    assert browser.get("/leitor/entrar/").status_code == 405
    assert browser.post("/leitor/entrar/", {"reader_id": "x"}).status_code == 400
    assert browser.post("/leitor/entrar/", {"reader_id": 10**9}).status_code == 404
    browser = _login(reader.id)
    session_id = browser.cookies[settings.SESSION_COOKIE_NAME].value
    key = f"scalecode:1:django.contrib.sessions.cache{session_id}"
    assert r.exists(key) and 0 < r.ttl(key) <= settings.SESSION_COOKIE_AGE
    _, queries = _queries(browser.get, "/noticias/para-voce/?page=1")
    _, queries = _queries(browser.get, "/noticias/para-voce/?page=1")
    assert queries == 0  # session from Redis, both fragments cached
    assert browser.get("/leitor/sair/").content == b"ok" and not r.exists(key)


def test_database_sessions_cost_a_query_per_request(r):
    from django.test import override_settings

    reader, _ = _readers()
    _login(reader.id).get("/noticias/para-voce/")  # warm the fragments
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db"):
        browser = _login(reader.id)
        _, queries = _queries(browser.get, "/noticias/para-voce/")
    assert queries == 1  # SELECT ... FROM django_session


def _greeting(html: str) -> str:
    return next(line for line in html.splitlines() if 'class="greeting"' in line)


def test_front_page_fragments_are_per_reader_and_per_page(r):
    from django.test import Client

    a, b = _readers()
    html_a = _login(a.id).get("/noticias/para-voce/?page=1").content.decode()
    html_b, queries = _queries(_login(b.id).get, "/noticias/para-voce/?page=1")
    greeting_a, greeting_b = (_greeting(html_a), _greeting(html_b.content.decode()))
    assert a.name in greeting_a and f"{a.n} comentário" in greeting_a
    assert b.name in greeting_b and a.name not in greeting_b and queries == 2  # reader + count, no list queries
    anonymous = Client().get("/noticias/para-voce/?page=2&category=esportes").content.decode()
    assert "visitante" in _greeting(anonymous) and "Esportes" in anonymous and "página 2 de" in anonymous
    assert Client().get("/noticias/para-voce/?page=x").status_code == 400
    greeting = [k for k in _keys(r) if "template.cache.greeting." in k]
    assert len(greeting) == 2 and all(0 < r.ttl(k) <= 60 for k in greeting)


# --- the checks ------------------------------------------------------------------------------------
def stub(*args, **kwargs):
    raise NotImplementedError


def test_check_cache_page(r):
    from django.core.cache import cache
    from django.views.decorators.cache import cache_page

    from scalecode.checks import check_cache_page

    assert check_cache_page(lambda view, timeout: cache_page(timeout)(view)).passed
    assert check_cache_page(stub).status == "not done yet"
    assert check_cache_page(None).status == "not done yet"
    cases = {
        "timeout first": lambda view, timeout: cache_page(view),
        "not served from the cache": lambda view, timeout: view,
        "no TTL": lambda view, timeout: lambda req: cache.get_or_set(req.get_full_path(), lambda: view(req), None),
        "use the timeout argument": lambda view, timeout: cache_page(900)(view),
        "timeout=30 but a key expires in 600": lambda view, timeout: cache_page(None)(view),
    }
    for fragment, answer in cases.items():
        result = check_cache_page(answer)
        assert result.status == "hint" and fragment in result.message, (fragment, result)

    def one_entry(view, timeout):
        return lambda request: cache.get_or_set("news", lambda: view(request), timeout)

    result = check_cache_page(one_entry)
    assert result.status == "hint" and "own entry" in result.message
    assert _keys(r) == []


GOOD = (
    "{% load cache %}{% cache 60 greeting reader_id %}Olá, {{ reader.name }}: {{ reader.comments.count }}{% endcache %}"
)


@pytest.mark.parametrize(
    ("template", "status", "fragment"),
    [
        (GOOD, "passed", "one fragment per reader"),
        (None, "not done yet", ""),
        (GOOD.replace("{% load cache %}", ""), "hint", "{% load cache %}"),
        (GOOD.replace(" reader_id %}", " %}"), "hint", "reader B saw reader A's greeting"),
        (GOOD.replace("reader_id %}", "reader.name %}"), "hint", "vary it on reader_id"),
        ("Olá, {{ reader.name }}: {{ reader.comments.count }}", "hint", "nothing was cached"),
        (GOOD.replace("60", "3600"), "hint", "cache it for 60 seconds"),
        (GOOD.replace(": {{ reader.comments.count }}", ""), "hint", "comment count"),
        ("{% if %}", "hint", "does not compile"),
        (42, "hint", "a str"),
    ],
    ids=["correct", "stub", "no-load", "not-varied", "varied-on-name", "uncached", "long-ttl", "no-count",
         "syntax", "not-str"],
)  # fmt: skip
def test_check_greeting_fragment(r, template, status, fragment):
    from scalecode.checks import check_greeting_fragment

    result = check_greeting_fragment(template)
    assert result.status == status and fragment in result.message, result
    assert _keys(r) == []


def _versioned_answer(invalidate="bump"):
    from django.core.cache import cache

    from scalecode.newsroom.models import Comment

    def comment_count(reader_id):
        version = cache.get_or_set("comments:version", 1, timeout=None)
        return cache.get_or_set(f"comments:{reader_id}", lambda: Comment.objects.filter(reader_id=reader_id).count(),
                                timeout=300, version=version)  # fmt: skip

    def invalidate_comment_counts():
        if invalidate == "bump":
            cache.add("comments:version", 1, timeout=None)
            cache.incr("comments:version")
        elif invalidate == "clear":
            cache.clear()
        elif invalidate == "set-2":
            cache.set("comments:version", 2, timeout=None)

    return comment_count, invalidate_comment_counts


def test_check_comment_count(r):
    from django.core.cache import cache

    from scalecode.checks import check_comment_count
    from scalecode.newsroom.models import Comment

    assert check_comment_count(*_versioned_answer()).passed
    assert check_comment_count(stub, stub).status == "not done yet"
    assert check_comment_count(None, None).status == "not done yet"
    cases = {
        "FLUSHDB": _versioned_answer("clear"),
        "still a hit": _versioned_answer("nothing"),
        "increment the version each time": _versioned_answer("set-2"),
        "second call ran": (lambda i: Comment.objects.filter(reader_id=i).count(), lambda: None),
        "reader id in the key": (
            lambda i: cache.get_or_set("count", lambda: Comment.objects.filter(reader_id=i).count(), 300), lambda: None
        ),
        "never expires": (
            lambda i: cache.get_or_set(f"c{i}", lambda: Comment.objects.filter(reader_id=i).count(), None), lambda: None
        ),
    }
    for fragment, answer in cases.items():
        result = check_comment_count(*answer)
        assert result.status == "hint" and fragment in result.message, (fragment, result)
    assert _keys(r) == [] and cache.get_or_set("still-works", 1, 5) == 1  # clear() was restored


def test_check_session_key(r):
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.cache import cache

    from scalecode.checks import check_session_key

    assert check_session_key(lambda sid: cache.make_key(SessionStore(session_key=sid).cache_key)).passed
    assert check_session_key(lambda sid: f"scalecode:1:django.contrib.sessions.cache{sid}".encode()).passed
    assert check_session_key(stub).status == "not done yet"
    cases = {
        "session id from the cookie": lambda sid: sid,
        "KEY_PREFIX and the version": lambda sid: "django.contrib.sessions.cache" + sid,
        "SessionStore.cache_key": lambda sid: cache.make_key(sid),
        "no key": lambda sid: "scalecode:1:nothing",
        "a str": lambda sid: 1,
    }
    for fragment, answer in cases.items():
        result = check_session_key(answer)
        assert result.status == "hint" and fragment in result.message, (fragment, result)
    assert _keys(r) == []


# --- the low-level API and the request timer ------------------------------------------------------
def test_comment_count_hits_and_version_bump_invalidates(r):
    from scalecode.checks import check_comment_count
    from scalecode.newsroom import cached_views

    a, b = _readers()
    assert _queries(cached_views.comment_count, a.id) == (a.n, 1)
    assert _queries(cached_views.comment_count, a.id) == (a.n, 0)
    assert 0 < r.ttl(f"scalecode:1:comments:reader={a.id}") <= cached_views.COMMENT_COUNT_TTL_S
    assert r.ttl("scalecode:1:comments:version") == -1  # the version itself never expires
    assert cached_views.invalidate_comment_counts() == 2
    assert _queries(cached_views.comment_count, a.id) == (a.n, 1)
    assert r.exists(f"scalecode:2:comments:reader={a.id}") and r.exists(f"scalecode:1:comments:reader={a.id}")
    delete_prefix(r)
    assert cached_views.invalidate_comment_counts() == 2  # works on an empty cache too
    assert check_comment_count(cached_views.comment_count, cached_views.invalidate_comment_counts).passed


def test_time_requests_counts_queries_per_request(r):
    from django.test import Client

    from scalecode.newsroom.cached_views import time_requests

    run = time_requests(Client(), "/cache/noticias/?page=5", 3, round_trip_s=0)
    assert list(run.queries) == [82, 0, 0] and run.latencies.shape == (3,) and run.p50_ms > 0
    cold = time_requests(Client(), "/cache/noticias/?page=5", 2, before_each=lambda: delete_prefix(r), round_trip_s=0)
    assert list(cold.queries) == [82, 82]
    with pytest.raises(ValueError):
        time_requests(Client(), "/health/", 0)
    with pytest.raises(RuntimeError, match="404"):
        time_requests(Client(), "/no/such/page/", 1, round_trip_s=0)
