"""The running example: models, loader, the /noticias page, cached and uncached."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scalecode.backends import delete_prefix, get_redis


@pytest.fixture
def pages(django_ready):
    from scalecode.newsroom import pages

    return pages


def test_data_set_is_loaded_once(django_ready):
    from scalecode.newsroom.loader import load_newsroom
    from scalecode.newsroom.models import Comment, NewsItem

    assert NewsItem.objects.count() == 3000
    assert Comment.objects.count() > 3000
    assert load_newsroom() is False  # same checksum: nothing to do


def test_page_is_naive_n_plus_one(pages):
    with CaptureQueriesContext(connection) as captured:
        html = pages.render_news_page(1)
    assert len(captured) == 2 + 4 * 20
    assert html.count("<li>") == 20 and "página 1 de" in html


def test_category_and_out_of_range_pages(pages):
    from scalecode.newsroom.models import NewsItem

    html = pages.render_news_page(1, "esportes")
    item = NewsItem.objects.filter(category__slug="esportes").first()
    assert item.title.split()[0] in html and "Esportes" in html
    assert "Nenhuma notícia" in pages.render_news_page(1, "no-such-category")
    last = pages.render_news_page(10_000)  # Paginator.get_page: the last page
    assert "página 150 de 150" in last


def test_remote_database_adds_a_round_trip_per_query(pages):
    with pages.remote_database(0.002) as db:
        from scalecode.measure import time_call

        seconds = time_call(lambda: pages.render_news_page(2))
    assert db.queries == 82 and seconds >= 82 * 0.002
    with pytest.raises(ValueError):
        with pages.remote_database(-1):
            pass


def test_cached_page_hits_without_queries_and_keys_separate_pages(pages):
    from scalecode.caching import CacheStats

    r = get_redis()
    delete_prefix(r)
    stats = CacheStats()
    first = pages.cached_news_page(r, 1, ttl=30, stats=stats)
    with pages.remote_database(0) as db:
        second = pages.cached_news_page(r, 1, ttl=30, stats=stats)
    assert first == second == pages.render_news_page(1) and db.queries == 0
    assert pages.cached_news_page(r, 2, ttl=30, stats=stats) == pages.render_news_page(2)
    assert (stats.hits, stats.misses) == (1, 2)
    assert 0 < r.pttl(pages.news_page_key(1)) <= 30_000
    assert pages.news_page_key(1) != pages.news_page_key(1, "esportes") != pages.news_page_key(2)
    delete_prefix(r)


def test_view_over_django_test_client(django_ready):
    from django.test import Client

    client = Client()
    response = client.get("/noticias/?page=2&category=economia")
    assert response.status_code == 200 and "Economia" in response.content.decode()
    assert client.get("/noticias/?page=abc").status_code == 400
    assert client.get("/health/").content == b"ok"


def test_replay_and_ttl_sweep(django_ready):
    from scalecode.newsroom.replay import replay, ttl_sweep
    from scalecode.workload import news_requests

    r = get_redis()
    trace = news_requests(80, seed=1)
    run = replay(r, trace, ttl=60, round_trip_s=0)
    assert run.stats.misses == len(set(trace)) and run.stats.requests == 80
    sweep = ttl_sweep(r, trace, [0.001, 60], duration_s=0.3, round_trip_s=0)
    assert list(sweep["ttl_s"]) == [0.001, 60]
    assert sweep["hit_ratio"].iloc[1] > sweep["hit_ratio"].iloc[0]
    with pytest.raises(ValueError):
        replay(r, [], ttl=1)
