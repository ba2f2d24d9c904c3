"""The /noticias page, uncached and cached: what notebook 01 measures.

``render_news_page`` is the slow path of the talks' story: it queries the database the
naive way (one query for the page, then the author, the category and the comment
count of every item: 2 + 4 × 20 = 82 queries for a page of 20; module 09 fixes that) and renders the
template. ``remote_database`` adds a network round trip to every query, as a database
on another machine would; at ``TIME_SCALE=1`` a page costs about 1 s, the talk's cache
miss. ``cached_news_page`` is the same page behind cache-aside in Redis.

Source: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): /noticias,
cache miss 1 s vs cache hit 0.1 s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.template.loader import render_to_string

from ..caching import CacheStats, cache_aside
from ..config import KEY_PREFIX, time_scale
from .models import Category, NewsItem

#: Simulated round trip to a remote database, seconds per query at TIME_SCALE=1.
DB_ROUND_TRIP_S = 0.012


def render_news_page(page: int = 1, category: str | None = None, per_page: int | None = None) -> str:
    """Render the news list page ``page`` (1-based), optionally of one category slug.

    Returns the HTML (``str``). Out-of-range pages give the last page (Django's
    ``Paginator.get_page``); an unknown category gives an empty list. Runs
    2 + 4 × ``per_page`` queries (naive, N+1) and no caching.
    """
    items = NewsItem.objects.all()
    category_name = None
    if category:
        items = items.filter(category__slug=category)
        category_name = Category.objects.filter(slug=category).values_list("name", flat=True).first()
    page_obj = Paginator(items, per_page or settings.NEWS_PER_PAGE).get_page(page)
    return render_to_string("newsroom/news_list.html", {"page": page_obj, "category": category_name})


def news_page_key(page: int = 1, category: str | None = None) -> str:
    """The cache key of one list page: ``scalecode:news:list:category=<slug|all>:page=<n>``."""
    return f"{KEY_PREFIX}news:list:category={category or 'all'}:page={int(page)}"


def cached_news_page(
    client,
    page: int = 1,
    category: str | None = None,
    *,
    ttl: float = 60,
    stats: CacheStats | None = None,
) -> str:
    """``render_news_page`` behind cache-aside in Redis (``client``), with a TTL in seconds."""
    return cache_aside(
        client, news_page_key(page, category), ttl, lambda: render_news_page(page, category), stats=stats
    )


@dataclass
class QueryCounter:
    """Counts the SQL queries run inside ``remote_database`` (``.queries``)."""

    round_trip_s: float
    queries: int = 0


@contextlib.contextmanager
def remote_database(round_trip_s: float | None = None) -> Iterator[QueryCounter]:
    """Make every SQL query pay a network round trip of ``round_trip_s`` seconds.

    Default: ``DB_ROUND_TRIP_S × TIME_SCALE``. Uses Django's
    ``connection.execute_wrapper`` (Django docs, "Database instrumentation"); yields a
    ``QueryCounter`` whose ``queries`` counts the queries run inside the block.
    """
    if round_trip_s is None:
        round_trip_s = DB_ROUND_TRIP_S * time_scale()
    if round_trip_s < 0:
        raise ValueError(f"round_trip_s must be >= 0 seconds, got {round_trip_s}")
    counter = QueryCounter(round_trip_s)

    def wrapper(execute, sql, params, many, context):
        counter.queries += 1
        if round_trip_s:
            time.sleep(round_trip_s)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


# --- one news item's own page (module 04: which keys a write affects) ---------------------
_ITEM_TEMPLATE = """<!doctype html>
<html lang="pt-br">
<head><meta charset="utf-8"><title>{{ item.title }}</title></head>
<body>
<article>
<h1>{{ item.title }}</h1>
<p class="meta">{{ item.category.name }} · por {{ item.author.name }} · {{ item.published_at|date:"d/m/Y H:i" }}
 · {{ comments }} comentário{{ comments|pluralize }}</p>
<p class="summary">{{ item.summary }}</p>
<div class="body">{{ item.body|linebreaks }}</div>
</article>
</body>
</html>"""


def news_item_key(item_id: int) -> str:
    """The cache key of one news item's page: ``scalecode:news:item:id=<id>``."""
    return f"{KEY_PREFIX}news:item:id={int(item_id)}"


def render_news_item(item_id: int) -> str:
    """Render the page of the news item with primary key ``item_id``, uncached (4 queries).

    Returns the HTML (``str``). Raises ``NewsItem.DoesNotExist`` for an unknown id.
    """
    from django.template import engines

    item = NewsItem.objects.get(pk=item_id)
    context = {"item": item, "comments": item.comments.count()}
    return engines["django"].from_string(_ITEM_TEMPLATE).render(context)


def cached_news_item(client, item_id: int, *, ttl: float = 60, stats: CacheStats | None = None) -> str:
    """``render_news_item`` behind cache-aside in Redis (``client``), with a TTL in seconds."""
    return cache_aside(client, news_item_key(item_id), ttl, lambda: render_news_item(item_id), stats=stats)
