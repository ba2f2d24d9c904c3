"""Checks of lab 09: correct answers pass, the classic wrong ones get their hint, stubs are not done."""

from __future__ import annotations

import pytest
from django.db.models import Count, Prefetch

from scalecode.checks import (
    check_filtered_prefetch,
    check_listing_budget,
    check_one_column,
    check_related_choice,
)


@pytest.fixture(autouse=True)
def _django(django_ready):
    return django_ready


def _models():
    from scalecode.newsroom.models import Comment, NewsItem

    return Comment, NewsItem


def _stub(n):
    raise NotImplementedError


def _rows(items, count=lambda i: i.n_comments):
    from scalecode.newsroom.listings import NewsRow

    return [NewsRow(i.id, i.title, i.author.name, i.category.name, count(i)) for i in items]


# --- Exercise 1 --------------------------------------------------------------------------
def test_listing_budget_accepts_annotate_and_prefetch():
    _, NewsItem = _models()

    def annotated(n):
        qs = NewsItem.objects.select_related("author", "category").annotate(n_comments=Count("comments"))
        return _rows(qs.order_by("-published_at", "-id")[:n])

    def prefetched(n):
        qs = NewsItem.objects.select_related("author", "category").prefetch_related("comments")[:n]
        return _rows(qs, lambda i: len(i.comments.all()))

    assert check_listing_budget(annotated).passed
    assert check_listing_budget(prefetched).passed


def test_listing_budget_hints():
    from scalecode.newsroom import listings

    _, NewsItem = _models()
    assert check_listing_budget(_stub).status == "not done yet"
    assert check_listing_budget(None).status == "not done yet"
    result = check_listing_budget(listings.news_naive)
    assert result.status == "hint" and "select_related" in result.message
    result = check_listing_budget(listings.news_select_related)
    assert result.status == "hint" and "counted once per item" in result.message

    def unordered(n):  # GROUP BY drops Meta.ordering
        qs = NewsItem.objects.select_related("author", "category").annotate(n_comments=Count("comments"))
        return _rows(qs[:n])

    result = check_listing_budget(unordered)
    assert result.status == "hint" and ".order_by(" in result.message

    def prefetch_then_count(n):  # .count() on a prefetched relation uses the prefetched rows: fine
        qs = NewsItem.objects.select_related("author", "category").prefetch_related("comments")[:n]
        return _rows(qs, lambda i: i.comments.count())

    assert check_listing_budget(prefetch_then_count).passed

    def wrong_count(n):
        return [row._replace(comments=row.comments + 1) for row in listings.news_annotate(n)]

    result = check_listing_budget(wrong_count)
    assert result.status == "hint" and "comments instead of" in result.message
    assert "NewsRow" in check_listing_budget(lambda n: list(NewsItem.objects.all()[:n])).message
    assert "rows" in check_listing_budget(lambda n: listings.news_annotate(n)[:-1]).message


# --- Exercise 2 --------------------------------------------------------------------------
def test_related_choice_passes_with_select_and_prefetch():
    _, NewsItem = _models()
    result = check_related_choice(lambda n: NewsItem.objects.select_related("author")[:n],
                                  lambda n: NewsItem.objects.prefetch_related("comments")[:n])  # fmt: skip
    assert result.passed, result.message


def test_related_choice_hints():
    _, NewsItem = _models()
    good_authors = lambda n: NewsItem.objects.select_related("author")[:n]  # noqa: E731
    good_comments = lambda n: NewsItem.objects.prefetch_related("comments")[:n]  # noqa: E731
    assert check_related_choice(_stub, good_comments).status == "not done yet"
    assert check_related_choice(good_authors, _stub).status == "not done yet"
    wrong = check_related_choice(lambda n: NewsItem.objects.prefetch_related("author")[:n], good_comments)
    assert wrong.status == "hint" and "second query" in wrong.message
    lazy = check_related_choice(lambda n: NewsItem.objects.all()[:n], good_comments)
    assert lazy.status == "hint" and "JOIN" in lazy.message
    reverse = check_related_choice(good_authors, lambda n: NewsItem.objects.select_related("comments")[:n])
    assert reverse.status == "hint" and "reverse relation" in reverse.message
    per_item = check_related_choice(good_authors, lambda n: NewsItem.objects.all()[:n])
    assert per_item.status == "hint" and "prefetch_related('comments')" in per_item.message
    oldest = check_related_choice(lambda n: NewsItem.objects.order_by("id")[:n], good_comments)
    assert oldest.status == "hint" and "latest" in oldest.message


# --- Exercise 3 --------------------------------------------------------------------------
def test_one_column_passes_with_values_list():
    _, NewsItem = _models()
    assert check_one_column(lambda n: NewsItem.objects.values_list("author__name", flat=True)[:n]).passed
    assert check_one_column(lambda n: list(NewsItem.objects.values_list("author__name", flat=True)[:n])).passed


def test_one_column_hints():
    _, NewsItem = _models()
    assert check_one_column(_stub).status == "not done yet"
    naive = check_one_column(lambda n: [i.author.name for i in NewsItem.objects.all()[:n]])
    assert naive.status == "hint" and "queries" in naive.message
    joined = check_one_column(lambda n: [i.author.name for i in NewsItem.objects.select_related("author")[:n]])
    assert joined.status == "hint" and "columns" in joined.message
    only = check_one_column(
        lambda n: [i.author.name for i in NewsItem.objects.select_related("author").only("author__name")[:n]]
    )
    assert only.status == "hint" and "only()" in only.message
    tuples = check_one_column(lambda n: NewsItem.objects.values_list("author__name")[:n])
    assert tuples.status == "hint" and "flat=True" in tuples.message
    dicts = check_one_column(lambda n: NewsItem.objects.values("author__name")[:n])
    assert dicts.status == "hint" and "dicts" in dicts.message
    instances = check_one_column(lambda n: NewsItem.objects.select_related("author")[:n])
    assert instances.status == "hint" and "NewsItem objects" in instances.message


# --- Exercise 4 --------------------------------------------------------------------------
def test_filtered_prefetch_passes():
    Comment, NewsItem = _models()

    def answer(n):
        by_subscribers = Comment.objects.filter(reader__subscribed=True)
        return NewsItem.objects.prefetch_related(
            Prefetch("comments", queryset=by_subscribers, to_attr="subscriber_comments"))[:n]  # fmt: skip

    assert check_filtered_prefetch(answer).passed


def test_filtered_prefetch_hints():
    Comment, NewsItem = _models()
    assert check_filtered_prefetch(_stub).status == "not done yet"
    missing = check_filtered_prefetch(lambda n: NewsItem.objects.prefetch_related("comments")[:n])
    assert missing.status == "hint" and "to_attr" in missing.message

    def unfiltered(n):
        return NewsItem.objects.prefetch_related(Prefetch("comments", to_attr="subscriber_comments"))[:n]

    result = check_filtered_prefetch(unfiltered)
    assert result.status == "hint" and "reader__subscribed=True" in result.message

    def filter_after_prefetch(n):
        items = list(NewsItem.objects.prefetch_related("comments")[:n])
        for item in items:
            item.subscriber_comments = list(item.comments.filter(reader__subscribed=True))
        return items

    result = check_filtered_prefetch(filter_after_prefetch)
    assert result.status == "hint" and "Prefetch(queryset=...)" in result.message

    def filter_in_python(n):
        items = list(NewsItem.objects.prefetch_related("comments")[:n])
        for item in items:
            item.subscriber_comments = [c for c in item.comments.all() if c.reader.subscribed]
        return items

    result = check_filtered_prefetch(filter_in_python)
    assert result.status == "hint" and "in Python" in result.message


def test_strict_mode_raises(monkeypatch):
    from scalecode.checks import CheckFailed

    monkeypatch.setenv("SCALECODE_STRICT", "1")
    with pytest.raises(CheckFailed):
        check_one_column(_stub)
