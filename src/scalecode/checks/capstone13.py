"""Checks of lab 13 (the capstone): fix the slow newsroom one bottleneck at a time.

Each check runs the learner's piece in this process and measures behaviour: SQL queries
(``CaptureQueriesContext``), calls of the expensive function (``capstone.app.CALLS``),
requests seen by the external service (its ``/count``), peak memory of the export
(``tracemalloc``), and, for the last one, the throughput of the fixed page against the
slow page measured in the same call (a ratio with a generous bound, so a busy machine
does not fail a correct answer).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from functools import cache

from .core import Hint, NotDone, call, check

#: Bounds the answers must meet.
MAX_LISTING_QUERIES = 3
MAX_EXTERNAL_PER_REQUEST = 0.1
MIN_SPEEDUP = 5.0
MAX_EXPORT_PEAK_RATIO = 0.25


def _show(value: object, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# --- Exercise 1 ---------------------------------------------------------------------------------
@check("Exercise 1: the listing without N+1", "write fast_listing(n): the n latest items in at most 3 queries")
def check_fast_listing(fast_listing) -> str:
    """Same rows as ``slow_listing(n)`` for n = 5 and 20, in <= 3 queries each (listing + page rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..capstone.app import listing_rows, slow_listing

    counts = []
    for n in (5, 20):
        expected = listing_rows(slow_listing(n))
        with CaptureQueriesContext(connection) as captured:
            items = call(fast_listing, n, name="fast_listing")
            if items is None:
                raise NotDone("fast_listing returns None")
            try:
                got = listing_rows(items)
            except AttributeError as exc:
                raise Hint(f"fast_listing must return NewsItem objects (a queryset or a list): {exc}") from None
        if len(got) != n:
            raise Hint(f"fast_listing({n}) returned {len(got)} items: slice the queryset with [:n]")
        if [r[0] for r in got] != [r[0] for r in expected]:
            raise Hint(f"fast_listing({n}) must list the {n} latest items, newest first: "
                       "order_by('-published_at', '-id')")  # fmt: skip
        if got != expected:
            bad = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            raise Hint(f"row {bad} is {_show(got[bad])}, the slow listing shows {_show(expected[bad])}")
        if len(captured) > MAX_LISTING_QUERIES:
            tables = Counter(m.group(1) for q in captured.captured_queries
                             if (m := re.search(r'FROM\s+"?(\w+)"?', q["sql"], re.I)))  # fmt: skip
            if tables["newsroom_author"] > 1 or tables["newsroom_category"] > 1:
                raise Hint(f"{len(captured)} queries for n={n}: each item's author and category are fetched "
                           "one by one; JOIN them with select_related('author', 'category')")  # fmt: skip
            raise Hint(f"{len(captured)} queries for n={n}: the comments are counted one item at a time; "
                       "prefetch_related('comments') or annotate(n_comments=Count('comments'))")  # fmt: skip
        counts.append(len(captured))
    return f"the slow listing's rows in {counts[0]} and {counts[1]} queries (the slow one needs 16 and 61)"


# --- Exercise 2 ---------------------------------------------------------------------------------
@check("Exercise 2: cache the expensive computation",
       "write cached_trending(): trending_topics() computed once, then served from a cache")  # fmt: skip
def check_cached_trending(cached_trending) -> str:
    """20 calls of ``cached_trending()`` run ``trending_topics`` at most once, and return its result."""
    from ..capstone.app import CALLS, trending_topics

    expected = trending_topics()
    before = CALLS["trending"]
    results = [call(cached_trending, name="cached_trending") for _ in range(20)]
    computed = CALLS["trending"] - before
    if results[0] is None:
        raise NotDone("cached_trending returns None")
    if any(list(r) != list(expected) for r in results):
        bad = next(r for r in results if list(r) != list(expected))
        raise Hint(f"cached_trending() returned {_show(bad)}; trending_topics() gives {_show(expected)}")
    if computed >= 10:
        raise Hint(f"20 calls ran trending_topics() {computed} times: keep its result in a cache "
                   "(functools.lru_cache, cachetools.TTLCache or Django's cache) and reuse it")  # fmt: skip
    if computed > 1:
        raise Hint(f"20 calls ran trending_topics() {computed} times: after the first, every call should hit")
    return f"20 calls, trending_topics() computed {computed} time{'s' if computed != 1 else ''}"


# --- Exercise 3 ---------------------------------------------------------------------------------
@check("Exercise 3: the external call off the request path",
       "write cached_headline(url, ttl): fetch_headline(url) kept ttl seconds")  # fmt: skip
def check_cached_headline(cached_headline) -> str:
    """30 calls reach the external service at most 3 times; after ``ttl`` the answer is fetched again."""
    from ..capstone.external import HEADLINE
    from ..capstone.serve import external_count, external_service

    ttl = 1.0
    with external_service(delay_s=0.01) as ext:
        values = [call(cached_headline, ext.url, ttl, name="cached_headline") for _ in range(30)]
        first = external_count(ext.url)
        if values[0] is None:
            raise NotDone("cached_headline returns None")
        if any(v != HEADLINE for v in values):
            raise Hint(f"cached_headline returned {_show(next(v for v in values if v != HEADLINE))}; "
                       "return fetch_headline(url)'s text")  # fmt: skip
        if first == 0:
            raise Hint("the external service saw no request: call fetch_headline(url) with the url you are given")
        if first > 30 * MAX_EXTERNAL_PER_REQUEST:
            raise Hint(f"30 calls sent {first} requests to the external service: keep its answer for ttl "
                       "seconds and serve it from memory")  # fmt: skip
        time.sleep(ttl + 0.3)
        call(cached_headline, ext.url, ttl, name="cached_headline")
        if external_count(ext.url) == first:
            raise Hint(f"after ttl={ttl:g} s the cached headline was still served: store when it expires "
                       "with the value, and fetch again once it has")  # fmt: skip
    return f"30 calls → {first} external request{'s' if first != 1 else ''}; refreshed after the TTL"


# --- Exercise 4 ---------------------------------------------------------------------------------
@cache
def _slow_export(database: str):
    from ..capstone.app import export_slow, measure_export

    return measure_export(export_slow)


@check("Exercise 4: stream the export",
       "write export_streaming(request): the same CSV as a StreamingHttpResponse, rows from iterator()")  # fmt: skip
def check_streaming_export(export_view) -> str:
    """Same bytes as ``export_slow``, streamed, with a peak of memory <= 1/4 of the slow one's."""
    from django.db import connection

    from ..capstone.app import measure_export

    slow = _slow_export(f"{connection.vendor}:{connection.settings_dict['NAME']}")
    try:
        got = call(measure_export, export_view, name="export_streaming")
    except Hint as exc:
        if "NotImplementedError" in str(exc):
            raise NotDone("export_streaming still raises NotImplementedError") from None
        raise
    if not got.streaming:
        raise Hint(f"the whole CSV is built before it is sent (peak {got.peak_mib:.1f} MiB): return a "
                   "StreamingHttpResponse over a generator of lines")  # fmt: skip
    if got.sha256 != slow.sha256:
        raise Hint(f"the CSV differs from export_slow's ({got.size_bytes:,} vs {slow.size_bytes:,} bytes): same "
                   "header, same columns and order, created_at.isoformat()")  # fmt: skip
    if got.peak_mib > MAX_EXPORT_PEAK_RATIO * slow.peak_mib:
        raise Hint(f"it streams, but memory peaked at {got.peak_mib:.1f} MiB (slow: {slow.peak_mib:.1f} MiB): "
                   "read the rows with .values_list(...).iterator(), not a list of every Comment")  # fmt: skip
    return f"same {got.size_bytes / 2**20:.1f} MiB CSV; peak memory {slow.peak_mib:.1f} → {got.peak_mib:.2f} MiB"


# --- Exercise 5 ---------------------------------------------------------------------------------
@check("Exercise 5: the fixed front page",
       "pass your fast_listing, cached_trending and cached_headline to check_fixed_page")  # fmt: skip
def check_fixed_page(fast_listing, cached_trending, cached_headline) -> str:
    """The page built from the three fixes vs the slow page, in this process, same call.

    Passes with <= 3 queries and <= 0.1 external calls per request and at least
    ``MIN_SPEEDUP``× the slow page's requests per second (one request at a time, the
    remote database's round trip on every query).
    """
    from ..capstone.app import CALLS, ROUNDS, front_page_view, in_process_rps
    from ..capstone.serve import external_count, external_service, reset_external

    slow = ROUNDS[0]
    with external_service() as ext:
        fixed_view = front_page_view(fast_listing, cached_trending, cached_headline, ext.url)
        slow_view = front_page_view(slow.listing, slow.trending, slow.headline, ext.url)
        call(in_process_rps, fixed_view, 1, name="the fixed page")  # warm the caches
        reset_external(ext.url)
        trending_before = CALLS["trending"]
        n_fixed = 30
        fixed = call(in_process_rps, fixed_view, n_fixed, name="the fixed page")
        external = external_count(ext.url) / n_fixed
        trending = (CALLS["trending"] - trending_before) / n_fixed
        before = call(in_process_rps, slow_view, 3, name="the slow page")
    speedup = fixed.rps / before.rps
    if fixed.queries_per_request > MAX_LISTING_QUERIES + 1:
        raise Hint(f"{fixed.queries_per_request:.0f} queries per request: pass your fast_listing (exercise 1)")
    if external > MAX_EXTERNAL_PER_REQUEST:
        raise Hint(f"{external:.2f} external calls per request: pass your cached_headline (exercise 3)")
    if trending > MAX_EXTERNAL_PER_REQUEST:
        raise Hint(f"trending_topics() ran {trending:.2f} times per request: pass your cached_trending (exercise 2)")
    if speedup < MIN_SPEEDUP:
        raise Hint(f"only {speedup:.1f}× the slow page's req/s ({before.rps:.1f} → {fixed.rps:.1f}): "
                   "profile one request (cProfile) and fix what dominates")  # fmt: skip
    return (f"{before.rps:.1f} → {fixed.rps:.0f} req/s in this process ({speedup:.0f}×), "
            f"{fixed.queries_per_request:.0f} quer{'y' if fixed.queries_per_request == 1 else 'ies'} and "
            f"{external:.2f} external calls per request")  # fmt: skip
