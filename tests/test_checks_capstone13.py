"""Checks of lab 13: the solutions pass, stubs are "not done yet", classic mistakes get their hint."""

from __future__ import annotations

import functools

import pytest

from scalecode.backends import setup_django

setup_django()  # the capstone's modules import the newsroom's models

from scalecode.capstone import app  # noqa: E402
from scalecode.capstone.external import HEADLINE  # noqa: E402
from scalecode.checks import (  # noqa: E402
    check_cached_headline,
    check_cached_trending,
    check_fast_listing,
    check_fixed_page,
    check_streaming_export,
)


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "check_fn, args",
    [
        (check_fast_listing, (stub,)),
        (check_cached_trending, (stub,)),
        (check_cached_headline, (stub,)),
        (check_streaming_export, (stub,)),
        (check_fixed_page, (stub, stub, stub)),
        (check_fast_listing, (None,)),
        (check_fixed_page, (None, None, None)),
    ],
)
def test_stubs_are_not_done_yet(django_ready, check_fn, args):
    assert check_fn(*args).status == "not done yet"


def test_listing(django_ready):
    assert check_fast_listing(app.fast_listing).passed
    hint = check_fast_listing(app.slow_listing)
    assert hint.status == "hint" and "select_related" in hint.message
    only_joined = lambda n: app.NewsItem.objects.select_related("author", "category")[:n]  # noqa: E731
    hint = check_fast_listing(only_joined)
    assert hint.status == "hint" and "comments" in hint.message
    unordered = lambda n: app.NewsItem.objects.select_related("author", "category").order_by("id")[:n]  # noqa: E731
    assert "newest first" in check_fast_listing(unordered).message
    assert "slice" in check_fast_listing(lambda n: app.fast_listing(n + 1)).message


def test_annotate_listing_passes(django_ready):
    from django.db.models import Count

    def annotated(n):
        return (app.NewsItem.objects.select_related("author", "category").annotate(n_comments=Count("comments"))
                .order_by("-published_at", "-id")[:n])  # fmt: skip

    assert check_fast_listing(annotated).passed


def test_trending(django_ready):
    assert check_cached_trending(app.cached_trending).passed
    assert check_cached_trending(functools.lru_cache(app.trending_topics)).passed
    hint = check_cached_trending(app.trending_topics)
    assert hint.status == "hint" and "cache" in hint.message
    assert check_cached_trending(lambda: [("x", 1)]).status == "hint"


def test_headline():
    assert check_cached_headline(app.cached_headline).passed
    forever = functools.lru_cache(app.fetch_headline)
    hint = check_cached_headline(forever)
    assert hint.status == "hint" and "ttl" in hint.message
    hint = check_cached_headline(lambda url, ttl: app.fetch_headline(url))
    assert hint.status == "hint" and "30 requests" in hint.message
    hint = check_cached_headline(lambda url, ttl: HEADLINE)
    assert hint.status == "hint" and "no request" in hint.message


def test_export(django_ready):
    from django.http import StreamingHttpResponse

    assert check_streaming_export(app.export_streaming).passed
    hint = check_streaming_export(app.export_slow)
    assert hint.status == "hint" and "StreamingHttpResponse" in hint.message

    def streams_a_list(request):
        return StreamingHttpResponse([app.export_slow(request).content])

    hint = check_streaming_export(streams_a_list)
    assert hint.status == "hint" and "iterator" in hint.message

    def no_header(request):
        response = app.export_streaming(request)
        next(iter(response.streaming_content))
        return response

    hint = check_streaming_export(no_header)
    assert hint.status == "hint" and "differs" in hint.message


def test_fixed_page(django_ready):
    result = check_fixed_page(app.fast_listing, app.cached_trending, app.cached_headline)
    assert result.passed, result.message
    hint = check_fixed_page(app.fast_listing, app.cached_trending, app.fetch_headline)
    assert hint.status == "hint" and "cached_headline" in hint.message
    hint = check_fixed_page(app.slow_listing, app.cached_trending, app.cached_headline)
    assert hint.status == "hint" and "fast_listing" in hint.message
    hint = check_fixed_page(app.fast_listing, app.trending_topics, app.cached_headline)
    assert hint.status == "hint" and "cached_trending" in hint.message
