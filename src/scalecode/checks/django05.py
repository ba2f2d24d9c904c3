"""Checks of lab 05 (Django's cache framework): ``cache_page``, a ``{% cache %}`` fragment per
reader, the low-level API with a version bump, and where a cached session lives in Redis.

Every check counts SQL queries with Django's ``CaptureQueriesContext`` and looks at the
keys and TTLs Django wrote to Redis (``get_redis()`` sees the same server as Django's cache).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..backends import delete_prefix, get_redis
from ..config import KEY_PREFIX
from .core import Hint, NotDone, call, check

SESSION_PREFIX = "django.contrib.sessions.cache"


def _queries(fn, *args, name: str):
    """``(result, number of SQL queries)`` of ``call(fn, *args)``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = call(fn, *args, name=name)
    return result, len(captured)


def _keys(client) -> set[str]:
    return {k.decode() if isinstance(k, bytes) else k for k in client.scan_iter(match=f"{KEY_PREFIX}*", count=500)}


def _two_readers():
    """Two readers with different names and comment counts: ``[(reader, comments), ...]``."""
    from django.db.models import Count

    from ..newsroom.models import Reader

    chosen: list = []
    for reader in Reader.objects.annotate(n=Count("comments")).filter(n__gt=0).order_by("id")[:50]:
        if all(reader.n != other.n and reader.name not in other.name and other.name not in reader.name
               for other in chosen):  # fmt: skip
            chosen.append(reader)
        if len(chosen) == 2:
            return chosen
    raise RuntimeError("the newsroom data set needs two readers with comments: run setup_django()")


# --- exercise 1 ------------------------------------------------------------------------------
@check("Exercise 1: cache_page on the news list", "write cache_news_list(view, timeout) with cache_page")
def check_cache_page(cache_news_list) -> str:
    """Wraps ``views.news_list`` with the answer; counts queries per request; reads keys and TTLs."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from ..newsroom.pages import render_news_page
    from ..newsroom.views import news_list

    client = get_redis()
    factory = RequestFactory()
    delete_prefix(client)
    try:
        view = call(cache_news_list, news_list, 30, name="cache_news_list")
        if view is None:
            raise NotDone("cache_news_list returns None: return the cached view")
        if not callable(view):
            raise Hint(f"cache_news_list must return a view (a function of the request), got {type(view).__name__}")
        expected = render_news_page(3)
        response, first = _queries(view, factory.get("/noticias/?page=3"), name="the cached view")
        if callable(response) and not isinstance(response, HttpResponse):
            raise Hint("cache_page takes the timeout first, then the view: cache_page(timeout)(view)")
        if not isinstance(response, HttpResponse):
            raise Hint(f"the cached view must return an HttpResponse, got {type(response).__name__}")
        if response.content.decode() != expected:
            raise Hint("the cached view must return the same page as news_list: wrap the view you were given")
        if first == 0:
            raise Hint("the first request ran no query from an empty cache: is it the news_list view?")
        again, second = _queries(view, factory.get("/noticias/?page=3"), name="the cached view")
        if second:
            raise Hint(f"the second request for the same URL ran {second} queries: it was not served from the cache")
        if again.content != response.content:
            raise Hint("the cached response differs from the first one")
        other, _ = _queries(view, factory.get("/noticias/?page=4"), name="the cached view")
        if other.content.decode() != render_news_page(4):
            raise Hint("/noticias/?page=4 returned page 3: each URL (with its query string) needs its own entry")
        keys = _keys(client)
        if not keys:
            raise Hint("nothing was stored in Django's cache (Redis): use cache_page, not a dict of your own")
        ttls = {k: client.ttl(k) for k in keys}
        if any(t == -1 for t in ttls.values()):
            raise Hint("a cached response has no TTL, so it never expires: give cache_page a timeout")
        if any(t > 30 for t in ttls.values()):
            raise Hint(f"asked for timeout=30 but a key expires in {max(ttls.values())} s: use the timeout argument")
        delete_prefix(client)
        short = call(cache_news_list, news_list, 7, name="cache_news_list")
        _queries(short, factory.get("/noticias/?page=2"), name="the cached view")
        if any(client.ttl(k) > 7 for k in _keys(client)):
            raise Hint("with timeout=7 the keys lived longer than 7 s: pass the timeout to cache_page")
    finally:
        delete_prefix(client)
    return f"2nd request: 0 queries (1st: {first}); one entry per URL, TTL = the timeout ({len(keys)} keys)"


# --- exercise 2 ------------------------------------------------------------------------------
@check("Exercise 2: a greeting fragment per reader", "write GREETING_TEMPLATE with a {% cache %} fragment")
def check_greeting_fragment(template_source) -> str:
    """Renders the template for reader A, A again, then B; counts queries; looks for leaks and TTLs."""
    from django.db import connection
    from django.template import TemplateSyntaxError, engines
    from django.test.utils import CaptureQueriesContext
    from django.utils.functional import SimpleLazyObject

    from ..newsroom.models import Reader

    if not isinstance(template_source, str):
        raise Hint(f"GREETING_TEMPLATE should be the template's text (a str), got {type(template_source).__name__}")
    try:
        template = engines["django"].from_string(template_source)
    except TemplateSyntaxError as exc:
        text = str(exc).splitlines()[0]
        if "'cache'" in text:
            raise Hint("Django does not know the cache tag yet: start the template with {% load cache %}") from None
        raise Hint(f"the template does not compile: {text}") from None

    def render(reader) -> tuple[str, int]:
        context = {"reader_id": reader.id, "reader": SimpleLazyObject(lambda: Reader.objects.get(pk=reader.id))}
        with CaptureQueriesContext(connection) as captured:
            try:
                html = template.render(context)
            except Exception as exc:
                text = str(exc).splitlines()[0] if str(exc) else ""
                raise Hint(f"rendering raised {type(exc).__name__}: {text}") from None
        return html, len(captured)

    client = get_redis()
    delete_prefix(client)
    try:
        a, b = _two_readers()
        html_a, first = render(a)
        if a.name not in html_a:
            raise Hint("the greeting must show the reader's name: {{ reader.name }}")
        if str(a.n) not in html_a:
            raise Hint("the greeting must show the reader's comment count: {{ reader.comments.count }}")
        again, second = render(a)
        fragments = [k for k in _keys(client) if "template.cache." in k]
        if not fragments:
            raise Hint("nothing was cached: wrap the greeting in {% cache 60 greeting reader_id %} ... {% endcache %}")
        if second:
            raise Hint(
                f"rendering again for the same reader ran {second} queries: keep every use of reader inside "
                "the fragment and vary it on reader_id (already in the context), not on reader.name"
            )
        if again != html_a:
            raise Hint("the second render differs from the first: cache the whole greeting")
        html_b, _ = render(b)
        if a.name in html_b or b.name not in html_b:
            raise Hint(
                "reader B saw reader A's greeting: vary the fragment on the reader, {% cache 60 greeting reader_id %}"
            )
        ttls = [client.ttl(k) for k in fragments]
        if any(t == -1 for t in ttls):
            raise Hint("the fragment never expires: give {% cache %} a timeout in seconds, e.g. 60")
        if any(t > 60 for t in ttls):
            raise Hint(f"the fragment lives {max(ttls)} s: cache it for 60 seconds ({{% cache 60 ... %}})")
    finally:
        delete_prefix(client)
    return f"one fragment per reader, cached for {max(ttls)} s; a repeat render runs 0 queries (first: {first})"


# --- exercise 3 ------------------------------------------------------------------------------
@contextlib.contextmanager
def _no_clear() -> Iterator[list]:
    """Forbid ``cache.clear()`` (FLUSHDB on Redis) while the learner's code runs."""
    from django.core.cache import caches

    cache = caches["default"]
    calls: list = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise Hint("never cache.clear(): on Redis it runs FLUSHDB and empties the whole database; bump a version")

    cache.clear = refuse
    try:
        yield calls
    finally:
        del cache.clear


@check("Exercise 3: get_or_set and a version bump", "write comment_count(reader_id) and invalidate_comment_counts()")
def check_comment_count(comment_count, invalidate_comment_counts) -> str:
    """Counts queries: miss, hit, other reader, then a miss after invalidation and a hit again."""
    client = get_redis()
    delete_prefix(client)
    try:
        with _no_clear():
            a, b = _two_readers()
            value, first = _queries(comment_count, a.id, name="comment_count")
            if value is None:
                raise NotDone("comment_count returns None")
            if value != a.n:
                raise Hint(f"reader {a.id} has {a.n} comments but comment_count returned {value!r}")
            if first == 0:
                raise Hint("the first call ran no query from an empty cache: count the comments in the database")
            value, second = _queries(comment_count, a.id, name="comment_count")
            if second:
                raise Hint(f"the second call ran {second} queries: use cache.get_or_set(key, compute, timeout, ...)")
            if value != a.n:
                raise Hint(f"the cached count is {value!r}, not {a.n}")
            before = _keys(client)
            if not before:
                raise Hint("nothing in Django's cache (Redis): use django.core.cache.cache, not a dict")
            value_b, _ = _queries(comment_count, b.id, name="comment_count")
            if value_b != b.n:
                raise Hint(f"reader {b.id} got {value_b!r} instead of {b.n}: put the reader id in the key")
            new = _keys(client) - before
            if any(client.ttl(k) == -1 for k in new):
                raise Hint("the cached count never expires: pass a timeout (seconds) to get_or_set")
            call(invalidate_comment_counts, name="invalidate_comment_counts")
            value, third = _queries(comment_count, a.id, name="comment_count")
            if third == 0:
                raise Hint(
                    "after invalidate_comment_counts() the next call was still a hit: bump the version you "
                    "pass to get_or_set (e.g. cache.incr on a version key)"
                )
            if value != a.n:
                raise Hint(f"after the invalidation comment_count returned {value!r}, not {a.n}")
            _, fourth = _queries(comment_count, a.id, name="comment_count")
            if fourth:
                raise Hint("after the invalidation the new value must be cached again: the version must stay bumped")
            _, other = _queries(comment_count, b.id, name="comment_count")
            if other == 0:
                raise Hint("invalidate_comment_counts() must invalidate every reader's count, not just one")
            call(invalidate_comment_counts, name="invalidate_comment_counts")  # twice in a row works too
            _, fifth = _queries(comment_count, a.id, name="comment_count")
            if fifth == 0:
                raise Hint("a second invalidate_comment_counts() did not invalidate: increment the version each time")
    finally:
        delete_prefix(client)
    return "miss, hit, one key per reader with a TTL, and one call invalidates every count"


# --- exercise 4 ------------------------------------------------------------------------------
@check("Exercise 4: where the session lives", "write session_redis_key(session_id)")
def check_session_key(session_redis_key) -> str:
    """Logs two readers in with Django's test client and looks their sessions up in Redis."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    client = get_redis()
    delete_prefix(client)
    try:
        found = []
        for reader in _two_readers():
            browser = Client()
            if browser.post("/leitor/entrar/", {"reader_id": reader.id}).status_code != 200:
                raise RuntimeError("POST /leitor/entrar/ failed")
            session_id = browser.cookies[settings.SESSION_COOKIE_NAME].value
            key = call(session_redis_key, session_id, name="session_redis_key")
            if key is None:
                raise NotDone("session_redis_key returns None")
            if isinstance(key, bytes):
                key = key.decode()
            if not isinstance(key, str):
                raise Hint(f"return the key as a str, got {type(key).__name__}")
            if key == session_id:
                raise Hint(
                    "that is the session id from the cookie; the cache backend stores it under "
                    f"'{SESSION_PREFIX}' + id, and Django's cache adds 'scalecode:1:' in front"
                )
            if key == SESSION_PREFIX + session_id:
                raise Hint("Django's cache adds KEY_PREFIX and the version in front: cache.make_key(...)")
            if key == cache.make_key(session_id):
                raise Hint(f"the cache session backend stores '{SESSION_PREFIX}' + id (SessionStore.cache_key)")
            if not client.exists(key):
                raise Hint(f"there is no key {key!r} in Redis: print(sorted(get_redis().keys())) to compare")
            if session_id not in key:
                raise Hint("the key must come from the session id you were given")
            ttl = client.ttl(key)
            found.append(ttl)
    finally:
        delete_prefix(client)
    return f"each session is one Redis key, expiring with the cookie (TTL {min(found)} s)"
