"""The newsroom behind Django's cache framework (module 05).

- ``news_list_cached``: the talks' ``/noticias/`` view wrapped in ``cache_page``, served at
  ``/cache/noticias/``: one whole HTTP response per URL (query string included) in Redis.
- ``reader_login`` / ``reader_logout``: a reader "logs in" by storing ``reader_id`` in the
  session (``POST /leitor/entrar/`` with ``reader_id``); sessions live in the cache.
- ``front_page``: ``/noticias/para-voce/``, a personalised page that ``cache_page`` cannot
  share between readers. Its template caches two fragments with ``{% cache %}``: the
  greeting, varied by ``reader_id``, and the news list, varied by page and category.
  The reader and the news page are lazy, so a cached fragment runs no query at all.

Sources: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): ``cache_page``
and ``{% cache 3600 sidebar request.user.username %}``; "Escalando para o imprevisível"
(Iuri de Silvio): cache the data and the Django sessions, the database cannot take the
reads. Django docs: "Django's cache framework", "How to use sessions".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_POST

from .models import Category, Comment, NewsItem, Reader
from .pages import remote_database
from .views import news_list

#: TTL of the cached /noticias/ responses, seconds.
NEWS_PAGE_TTL_S = 60
#: TTL of the greeting fragment, seconds.
GREETING_TTL_S = 60
#: TTL of the news list fragment of the personalised page, seconds.
LIST_FRAGMENT_TTL_S = 60
#: The session key holding the logged-in reader's id.
SESSION_READER_KEY = "reader_id"
#: TTL of a cached comment count (low-level API), seconds.
COMMENT_COUNT_TTL_S = 300
#: The cache key holding the current version of every cached comment count.
COMMENTS_VERSION_KEY = "comments:version"

news_list_cached = cache_page(NEWS_PAGE_TTL_S)(news_list)
news_list_cached.__doc__ = (
    f"``GET /cache/noticias/?page=N&category=slug``: ``/noticias/`` behind ``cache_page({NEWS_PAGE_TTL_S})``."
)


def _page_number(request: HttpRequest) -> int | None:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return None


@require_POST
def reader_login(request: HttpRequest) -> HttpResponse:
    """``POST /leitor/entrar/`` with ``reader_id``: store the reader in the session.

    400 for a missing or non-numeric id, 404 for an unknown reader; 200 ``ok`` otherwise.
    Rotates the session key, as ``django.contrib.auth.login`` does.
    """
    try:
        reader_id = int(request.POST.get("reader_id", ""))
    except ValueError:
        return HttpResponse("reader_id must be a whole number", status=400, content_type="text/plain")
    if not Reader.objects.filter(pk=reader_id).exists():
        return HttpResponse(f"no reader with id {reader_id}", status=404, content_type="text/plain")
    request.session.cycle_key()
    request.session[SESSION_READER_KEY] = reader_id
    return HttpResponse("ok", content_type="text/plain")


def reader_logout(request: HttpRequest) -> HttpResponse:
    """``/leitor/sair/``: forget the session (``flush``); answers ``ok``."""
    request.session.flush()
    return HttpResponse("ok", content_type="text/plain")


def front_page(request: HttpRequest) -> HttpResponse:
    """``GET /noticias/para-voce/?page=N&category=slug``: the news list with a greeting.

    Anonymous readers get a generic greeting. The template caches the greeting per
    ``reader_id`` and the list per page and category (``{% cache %}``), both for
    ``GREETING_TTL_S`` / ``LIST_FRAGMENT_TTL_S`` seconds. 400 for a bad page number.
    """
    number = _page_number(request)
    if number is None:
        return HttpResponse("page must be a whole number", status=400, content_type="text/plain")
    category = request.GET.get("category") or None
    reader_id = request.session.get(SESSION_READER_KEY)

    def news_page():
        items = NewsItem.objects.all()
        if category:
            items = items.filter(category__slug=category)
        return Paginator(items, settings.NEWS_PER_PAGE).get_page(number)

    context = {
        "reader_id": reader_id,
        "reader": SimpleLazyObject(lambda: Reader.objects.get(pk=reader_id)) if reader_id else None,
        "number": number,
        "category_slug": category or "all",
        "category": SimpleLazyObject(
            lambda: Category.objects.filter(slug=category).values_list("name", flat=True).first() or ""
        ) if category else "",
        "page": SimpleLazyObject(news_page),
        "greeting_ttl": GREETING_TTL_S,
        "list_ttl": LIST_FRAGMENT_TTL_S,
    }  # fmt: skip
    return render(request, "newsroom/front_page.html", context)


def comment_count(reader_id: int) -> int:
    """How many comments reader ``reader_id`` wrote, cached with the low-level API.

    ``cache.get_or_set`` under ``comments:reader=<id>`` for ``COMMENT_COUNT_TTL_S`` seconds,
    with the version read from ``COMMENTS_VERSION_KEY`` (created as 1, without expiry).
    A miss runs one ``COUNT`` query; a hit runs none. Django docs: "The low-level cache
    API" (``get_or_set``, cache versioning).
    """
    version = cache.get_or_set(COMMENTS_VERSION_KEY, 1, timeout=None)
    return cache.get_or_set(
        f"comments:reader={int(reader_id)}",
        lambda: Comment.objects.filter(reader_id=reader_id).count(),
        timeout=COMMENT_COUNT_TTL_S,
        version=version,
    )


def invalidate_comment_counts() -> int:
    """Invalidate every cached comment count at once by bumping their version; returns the new one.

    Nothing is deleted: entries of the old version are no longer read and expire by
    their TTL. ``cache.incr`` is atomic on Redis (Django stores integers unpickled).
    """
    cache.add(COMMENTS_VERSION_KEY, 1, timeout=None)
    return cache.incr(COMMENTS_VERSION_KEY)


@dataclass
class RequestRun:
    """``n`` requests of one path: ``latencies`` (seconds) and SQL ``queries`` per request."""

    path: str
    latencies: np.ndarray
    queries: np.ndarray

    @property
    def p50_ms(self) -> float:
        return float(np.median(self.latencies) * 1e3)


def time_requests(
    browser,
    path: str,
    n: int,
    *,
    before_each: Callable[[], object] | None = None,
    round_trip_s: float | None = None,
) -> RequestRun:
    """``GET path`` ``n`` times with ``browser`` (a ``django.test.Client``), timing each request.

    Every SQL query pays a simulated round trip (``pages.remote_database(round_trip_s)``,
    default 12 ms × TIME_SCALE). ``before_each`` runs before each request, outside the
    timing (e.g. emptying the cache). Returns a ``RequestRun``. Raises ``ValueError`` when
    ``n < 1`` and ``RuntimeError`` when a response is not 200.
    """
    import time

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    latencies, queries = np.empty(n), np.empty(n, dtype=int)
    with remote_database(round_trip_s) as db:
        for i in range(n):
            if before_each is not None:
                before_each()
            before = db.queries
            start = time.perf_counter()
            response = browser.get(path)
            latencies[i] = time.perf_counter() - start
            queries[i] = db.queries - before
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}")
    return RequestRun(path, latencies, queries)
