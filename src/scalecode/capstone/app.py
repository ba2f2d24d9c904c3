"""The capstone's front page and export, slow and fixed, one bottleneck at a time.

Needs Django configured (``scalecode.backends.setup_django()`` in a notebook or a test;
``scalecode.capstone.settings`` in the served app).

The front page (``render_front_page``) is made of three pluggable pieces, so that a fix is
a function you swap in:

- ``listing(n)``: the ``n`` latest news items. ``slow_listing`` lets the template fetch
  each item's author, category and comment count one query at a time (1 + 3n queries:
  the N+1); ``fast_listing`` JOINs the authors and categories and prefetches the comments
  (2 queries);
- ``trending()``: the trending topics, ``trending_topics`` costs ``EXPENSIVE_CPU_S`` of CPU
  on every call; ``cached_trending`` computes them once per ``TRENDING_TTL_S``;
- ``headline(url)``: the breaking headline from the slow external service.
  ``fetch_headline`` waits for it on every request; ``cached_headline`` keeps the answer
  for ``HEADLINE_TTL_S`` seconds, so almost no request waits.

``ROUNDS`` lists the four versions served at ``/r0/`` … ``/r3/``. The export
(``export_slow`` vs ``export_streaming``) is measured by peak memory (``measure_export``).

Sources: "High Audience Python" (Guilherme Vierno): find the bottleneck, fix it, measure
again; the external call. "Escalando para o imprevisível" (Iuri de Silvio): N+1 with the
Django ORM. Django docs: "Database access optimization" (select_related, annotate,
iterator), "Streaming large CSV files" (StreamingHttpResponse), "Database instrumentation".
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
import time
import tracemalloc
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import cachetools
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from ..newsroom.models import Comment, NewsItem
from ..newsroom.pages import remote_database
from ..webapps.serving import burn_cpu

#: Simulated round trip to a remote database, seconds per query (every round pays it).
DB_ROUND_TRIP_S = 0.002
#: Delay of the external service, seconds per call.
EXTERNAL_DELAY_S = 0.2
#: CPU time of one ``trending_topics`` call, seconds.
EXPENSIVE_CPU_S = 0.03
#: News items on the front page.
PER_PAGE = 20
#: How long the fixed versions keep the trending topics and the headline, seconds.
TRENDING_TTL_S = 60.0
HEADLINE_TTL_S = 5.0

#: How many times the slow functions ran in this process: ``CALLS["trending"]``, ``CALLS["headline"]``.
CALLS: Counter[str] = Counter()

_PAGE_TEMPLATE = """<!doctype html>
<html lang="pt-br"><head><meta charset="utf-8"><title>Newsroom</title></head>
<body>
<p class="headline">{{ headline }}</p>
<ul class="trending">{% for word, count in topics %}<li>{{ word }} ({{ count }})</li>{% endfor %}</ul>
<ol class="news">{% for id, title, author, category, comments in rows %}
<li id="n{{ id }}"><a href="/noticias/{{ id }}/">{{ title }}</a> · {{ category }} · {{ author }}
 · {{ comments }} comentário{{ comments|pluralize }}</li>{% endfor %}
</ol>
</body></html>"""


@cache
def _template():
    from django.template import engines

    return engines["django"].from_string(_PAGE_TEMPLATE)


# --- 1. the listing ---------------------------------------------------------------------
def slow_listing(n: int = PER_PAGE) -> list[NewsItem]:
    """The ``n`` latest news items, nothing related loaded (1 query; 3 more per item later)."""
    return list(NewsItem.objects.order_by("-published_at", "-id")[:n])


def fast_listing(n: int = PER_PAGE) -> list[NewsItem]:
    """The same items with author and category JOINed and their comments prefetched: 2 queries in all.

    ``annotate(Count("comments"))`` would need one query only, but it groups every news item
    before the ``LIMIT`` (about 10 ms on SQLite); the prefetch reads only these items'
    comments, through the index. Source: Django docs, ``select_related``, ``prefetch_related``.
    """
    return list(
        NewsItem.objects.select_related("author", "category")
        .prefetch_related("comments")
        .order_by("-published_at", "-id")[:n]
    )


def listing_rows(items: Iterable[NewsItem]) -> list[tuple[int, str, str, str, int]]:
    """(id, title, author name, category name, comments) per item, as the page shows them.

    Uses ``item.n_comments`` when the listing annotated it, else ``item.comments.count()``
    (one query per item, unless the comments were prefetched: then no query).
    """
    rows = []
    for item in items:
        comments = getattr(item, "n_comments", None)
        if comments is None:
            comments = item.comments.count()
        rows.append((item.id, item.title, item.author.name, item.category.name, int(comments)))
    return rows


# --- 2. the expensive computation ---------------------------------------------------------
def trending_topics(k: int = 8) -> list[tuple[str, int]]:
    """The ``k`` most frequent words (5+ letters) in the latest 300 titles, as (word, count).

    Stands for an expensive ranking: 1 query plus ``EXPENSIVE_CPU_S`` seconds of CPU per call.
    """
    CALLS["trending"] += 1
    titles = NewsItem.objects.order_by("-published_at", "-id").values_list("title", flat=True)[:300]
    words = Counter(word for title in titles for word in re.findall(r"\w{5,}", title.lower()))
    burn_cpu(EXPENSIVE_CPU_S * 1000)  # CPU time, not wall time: see webapps.serving.burn_cpu
    return words.most_common(k)


@cachetools.cached(cachetools.TTLCache(maxsize=1, ttl=TRENDING_TTL_S), lock=threading.Lock())
def cached_trending() -> list[tuple[str, int]]:
    """``trending_topics()`` computed at most once per ``TRENDING_TTL_S`` seconds in this process."""
    return trending_topics()


# --- 3. the external call -----------------------------------------------------------------
def fetch_headline(url: str, timeout_s: float = 5.0) -> str:
    """GET ``<url>/headline`` from the external service and return its text (blocks ``EXTERNAL_DELAY_S``, 200 ms).

    ``url``: ``http://127.0.0.1:PORT``. Raises ``urllib.error.URLError`` when it is unreachable.
    """
    CALLS["headline"] += 1
    with urllib.request.urlopen(url.rstrip("/") + "/headline", timeout=timeout_s) as response:  # noqa: S310
        return response.read().decode()


_headlines: dict[str, tuple[float, str]] = {}
_headlines_lock = threading.Lock()


def cached_headline(url: str, ttl: float = HEADLINE_TTL_S) -> str:
    """``fetch_headline(url)`` behind cache-aside in this process' memory, kept ``ttl`` seconds."""
    now = time.monotonic()
    with _headlines_lock:
        hit = _headlines.get(url)
    if hit and hit[0] > now:
        return hit[1]
    value = fetch_headline(url)
    with _headlines_lock:
        _headlines[url] = (now + ttl, value)
    return value


# --- the page -------------------------------------------------------------------------------
def render_front_page(
    listing: Callable[[int], Iterable[NewsItem]],
    trending: Callable[[], list[tuple[str, int]]],
    headline: Callable[[str], str],
    external_url: str,
    n: int = PER_PAGE,
) -> str:
    """The front page's HTML from the three pieces (see the module docstring)."""
    rows = listing_rows(listing(n))
    return _template().render({"rows": rows, "topics": trending(), "headline": headline(external_url)})


def front_page_view(
    listing: Callable, trending: Callable, headline: Callable, external_url: str | None = None
) -> Callable[[HttpRequest], HttpResponse]:
    """A Django view serving ``render_front_page`` with these pieces.

    ``external_url``: the external service; default ``settings.CAPSTONE_EXTERNAL_URL``
    (``ImproperlyConfigured`` when neither is set).
    """

    def view(request: HttpRequest) -> HttpResponse:
        url = external_url or getattr(settings, "CAPSTONE_EXTERNAL_URL", "")
        if not url:
            raise ImproperlyConfigured("set CAPSTONE_EXTERNAL_URL to the external service's http://127.0.0.1:PORT")
        return HttpResponse(render_front_page(listing, trending, headline, url))

    return view


@dataclass(frozen=True)
class Round:
    """One version of the front page: which fix it adds, served at ``path``."""

    number: int
    fix: str
    listing: Callable
    trending: Callable
    headline: Callable

    @property
    def path(self) -> str:
        return f"/r{self.number}/"


ROUNDS = (
    Round(0, "slow (N+1, CPU, external call)", slow_listing, trending_topics, fetch_headline),
    Round(1, "N+1 fixed (select_related + prefetch_related)", fast_listing, trending_topics, fetch_headline),
    Round(2, "trending cached (TTL 60 s)", fast_listing, cached_trending, fetch_headline),
    Round(3, "headline cached (TTL 5 s)", fast_listing, cached_trending, cached_headline),
)


def health(request: HttpRequest) -> HttpResponse:
    """``GET /health/``: ``ok`` (readiness probe)."""
    return HttpResponse("ok", content_type="text/plain")


class RemoteDatabaseMiddleware:
    """Django middleware: every query of a request pays ``settings.CAPSTONE_DB_ROUND_TRIP_S`` seconds.

    The database of the capstone "lives on another machine" in every round: the fixes
    change how many queries a request sends, not the network. (Queries run while a
    streaming response is being sent, after the view returned, are not delayed.)
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.round_trip_s = float(getattr(settings, "CAPSTONE_DB_ROUND_TRIP_S", DB_ROUND_TRIP_S))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.round_trip_s or request.path.startswith("/health"):
            return self.get_response(request)
        with remote_database(self.round_trip_s):
            return self.get_response(request)


# --- 4. the export ----------------------------------------------------------------------------
EXPORT_COLUMNS = ("comment_id", "news_title", "reader", "created_at", "text")


def export_slow(request: HttpRequest) -> HttpResponse:
    """``GET /export/slow.csv``: every comment as CSV, built whole in memory (model objects, one string)."""
    comments = list(Comment.objects.select_related("news", "reader"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for c in comments:
        writer.writerow([c.id, c.news.title, c.reader.name, c.created_at.isoformat(), c.text])
    return HttpResponse(buffer.getvalue(), content_type="text/csv")


class _Echo:
    """A file-like object whose ``write`` returns the line (Django docs, "Streaming large CSV files")."""

    def write(self, value: str) -> str:
        return value


def export_rows(chunk_size: int = 500) -> Iterator[tuple]:
    """The export's rows, only the needed columns, fetched ``chunk_size`` at a time (``iterator()``)."""
    columns = ("id", "news__title", "reader__name", "created_at", "text")
    yield from Comment.objects.values_list(*columns).iterator(chunk_size=chunk_size)


def export_streaming(request: HttpRequest) -> StreamingHttpResponse:
    """``GET /export/stream.csv``: the same CSV, line by line, never whole in memory."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for comment_id, title, reader, created_at, text in export_rows():
            yield writer.writerow([comment_id, title, reader, created_at.isoformat(), text])

    return StreamingHttpResponse(lines(), content_type="text/csv")


@dataclass(frozen=True)
class ExportMeasure:
    """One export: ``size_bytes`` sent, ``sha256`` of the body, ``peak_mib`` (tracemalloc), ``seconds``."""

    size_bytes: int
    sha256: str
    peak_mib: float
    seconds: float
    streaming: bool


def consume(response: HttpResponse | StreamingHttpResponse) -> tuple[int, str]:
    """Read a response's body the way a server sends it, chunk by chunk: (bytes, sha256 hex)."""
    digest = hashlib.sha256()
    size = 0
    chunks = response.streaming_content if getattr(response, "streaming", False) else [response.content]
    for chunk in chunks:
        chunk = chunk.encode() if isinstance(chunk, str) else chunk
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def measure_export(view: Callable[[HttpRequest], HttpResponse], path: str = "/export.csv") -> ExportMeasure:
    """Call ``view`` on a GET and send its body nowhere, tracing the peak of Python allocations.

    ``peak_mib``: the highest memory allocated during the call above what was allocated
    before, in MiB (``tracemalloc``; Python docs). Raises ``ValueError`` for a status >= 400.
    """
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        response = view(request)
        if response.status_code >= 400:
            raise ValueError(f"the export answered HTTP {response.status_code}")
        size, digest = consume(response)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return ExportMeasure(size, digest, peak / 2**20, seconds, bool(getattr(response, "streaming", False)))


# --- throughput in this process ------------------------------------------------------------------
@dataclass(frozen=True)
class InProcess:
    """``requests`` served one after another in ``seconds``: ``rps``, ``queries_per_request``."""

    requests: int
    seconds: float
    queries_per_request: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else float("inf")


def in_process_rps(
    view: Callable[[HttpRequest], HttpResponse], requests: int, *, round_trip_s: float = DB_ROUND_TRIP_S
) -> InProcess:
    """Serve ``requests`` GETs to ``view`` in this process (no HTTP), each query paying ``round_trip_s``.

    One request at a time, so ``rps`` is 1 / (mean latency): good for comparing two versions
    measured in the same call, not for a server's capacity. Raises ``ValueError`` for
    ``requests < 1`` or a response with status >= 400.
    """
    from django.test import RequestFactory

    if requests < 1:
        raise ValueError(f"requests must be >= 1, got {requests}")
    factory = RequestFactory()
    with remote_database(round_trip_s) as db:
        started = time.perf_counter()
        for _ in range(requests):
            response = view(factory.get("/"))
            if response.status_code >= 400:
                raise ValueError(f"the view answered HTTP {response.status_code}")
        seconds = time.perf_counter() - started
    return InProcess(requests, seconds, db.queries / requests)


# --- profiling one request ------------------------------------------------------------------------
@dataclass
class Profile:
    """One request under cProfile: ``seconds`` (wall), ``queries``, ``stats`` (``pstats.Stats``)
    and ``breakdown`` (a DataFrame: seconds and share of the request per bottleneck)."""

    seconds: float
    queries: int
    stats: object
    breakdown: object


#: (label, file suffix, function name) of the functions whose cumulative time the breakdown shows.
_SPOTS = (
    ("database: queries + round trips", "newsroom/pages.py", "wrapper"),
    ("external call", "capstone/app.py", "fetch_headline"),
    ("trending topics (CPU)", "capstone/app.py", "trending_topics"),
    ("template rendering", "django/template/base.py", "render"),
)


def profile_request(
    view: Callable[[HttpRequest], HttpResponse], *, round_trip_s: float = DB_ROUND_TRIP_S, warm_up: bool = True
) -> Profile:
    """Serve one GET to ``view`` in this process under ``cProfile``, the remote database's round trip on.

    ``warm_up``: serve one request first, unprofiled, so that caches are filled as they
    would be on a server that has been running for a while.
    ``breakdown``: for each usual suspect (database, external call, trending topics,
    template), the cumulative milliseconds spent in it and its share of the request (the one
    query inside ``trending_topics`` is counted in both rows); "other" is the rest.
    Source: Python docs, "The Python Profilers" (cProfile, pstats); Django's test tools.
    """
    import cProfile
    import pstats

    import pandas as pd
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    if warm_up:
        with remote_database(round_trip_s):
            view(RequestFactory().get("/"))
    profiler = cProfile.Profile()
    with remote_database(round_trip_s) as db:
        started = time.perf_counter()
        profiler.enable()
        try:
            view(request)
        finally:
            profiler.disable()
        seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    rows = []
    for label, suffix, name in _SPOTS:
        spent = 0.0
        for (filename, _line, func), (_cc, _nc, _tt, cumulative, callers) in stats.stats.items():
            if func != name or not filename.replace("\\", "/").endswith(suffix):
                continue
            # count only the outermost calls (a caller that is not this function itself)
            if not any(caller[2] == name and caller[0] == filename for caller in callers):
                spent += cumulative
        rows.append((label, spent))
    counted = sum(s for _label, s in rows)
    rows.append(("other (Django, Python)", max(0.0, stats.total_tt - counted)))
    breakdown = pd.DataFrame(rows, columns=["where", "seconds"]).set_index("where")
    breakdown["ms"] = breakdown["seconds"] * 1e3
    breakdown["share"] = breakdown["seconds"] / stats.total_tt
    return Profile(seconds, db.queries, stats, breakdown[["ms", "share"]])
