"""The front-page listing, written the naive way (N+1 queries) and the ways that fix it.

The listing: the ``n`` latest news items, each with its author's name, its category's
name and its number of comments, as ``NewsRow`` tuples. Every implementation returns the
same rows; they differ in how many SQL queries they send:

- ``news_naive``, 1 + 3n queries: lazy foreign keys and ``comments.count()`` per item;
- ``news_select_related``, 1 + n: ``select_related("author", "category")`` JOINs them;
- ``news_prefetch``, 2: and ``prefetch_related("comments")``, one ``IN (...)`` query;
- ``news_annotate``, 1: and ``annotate(Count("comments"))``, a ``GROUP BY``.

Two more cases from the talk: a filtered ``Prefetch`` (only the comments by subscribed
readers) and fetching one column (``values_list``/``only``: the emails of the readers
behind the latest comments, the talk's "only the phone numbers"). ``measure`` times
them for several ``n``, optionally through ``pages.remote_database`` (a round trip per query).

Source: "Escalando para o imprevisível" (Iuri de Silvio): N+1 with the Django ORM,
``select_related``, ``values_list``. Django docs: QuerySet API (``select_related``,
``prefetch_related``, ``Prefetch``, ``annotate``, ``values_list``, ``only``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from django.db.models import Count, Prefetch

from .models import Comment, NewsItem


class NewsRow(NamedTuple):
    """One line of the listing: the item's ``id`` and ``title``, author and category names, comment count."""

    id: int
    title: str
    author: str
    category: str
    comments: int


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0 (how many news items), got {n!r}")
    return n


def latest_news(n: int):
    """The ``n`` latest news items (``NewsItem``'s ordering: newest first), as a lazy QuerySet."""
    return NewsItem.objects.all()[: _check_n(n)]


# --- the front-page listing, four ways -----------------------------------------------------
def news_naive(n: int) -> list[NewsRow]:
    """1 + 3n queries: the list, then per item its author, its category and a COUNT of its comments."""
    rows = []
    for item in latest_news(n):
        rows.append(NewsRow(item.id, item.title, item.author.name, item.category.name, item.comments.count()))
    return rows


def news_select_related(n: int) -> list[NewsRow]:
    """1 + n queries: author and category JOINed into the first query; the comment COUNT still per item."""
    items = NewsItem.objects.select_related("author", "category")[: _check_n(n)]
    return [NewsRow(i.id, i.title, i.author.name, i.category.name, i.comments.count()) for i in items]


def news_prefetch(n: int) -> list[NewsRow]:
    """2 queries: the JOINed list, then every comment of those items in one ``WHERE news_id IN (...)``."""
    items = NewsItem.objects.select_related("author", "category").prefetch_related("comments")[: _check_n(n)]
    # .all() (and .count()) use the prefetched rows; a .filter() would query again
    return [NewsRow(i.id, i.title, i.author.name, i.category.name, len(i.comments.all())) for i in items]


def news_annotate(n: int) -> list[NewsRow]:
    """1 query: JOINs for author and category, ``COUNT(comments)`` with ``GROUP BY`` for the count.

    The ``order_by`` is needed: Django leaves the model's ``Meta.ordering`` out of
    ``GROUP BY`` queries, so without it the rows come back in the database's order.
    """
    items = (
        NewsItem.objects.select_related("author", "category")
        .annotate(n_comments=Count("comments"))
        .order_by(*NewsItem._meta.ordering)
    )
    return [NewsRow(i.id, i.title, i.author.name, i.category.name, i.n_comments) for i in items[: _check_n(n)]]


#: The four implementations of the listing, slowest first, with their query count formula.
LISTINGS: dict[str, Callable[[int], list[NewsRow]]] = {
    "naive": news_naive,
    "select_related": news_select_related,
    "prefetch_related": news_prefetch,
    "annotate": news_annotate,
}
FORMULAS = {"naive": "1 + 3N", "select_related": "1 + N", "prefetch_related": "2", "annotate": "1"}


# --- a filtered Prefetch: only the comments by subscribed readers --------------------------
class SubscriberComments(NamedTuple):
    """A news item's ``id`` and ``title`` with the names of the subscribed readers who commented (in order)."""

    id: int
    title: str
    readers: tuple[str, ...]


def subscriber_comments_naive(n: int) -> list[SubscriberComments]:
    """1 + n + (comments) queries: each item's comments, then each comment's reader, filtered in Python."""
    out = []
    for item in latest_news(n):
        names = tuple(c.reader.name for c in item.comments.all() if c.reader.subscribed)
        out.append(SubscriberComments(item.id, item.title, names))
    return out


def subscriber_comments_prefetch(n: int) -> list[SubscriberComments]:
    """2 queries: ``Prefetch("comments", queryset=<only subscribers' comments, with the reader JOINed>)``."""
    by_subscribers = Comment.objects.filter(reader__subscribed=True).select_related("reader")
    items = NewsItem.objects.prefetch_related(
        Prefetch("comments", queryset=by_subscribers, to_attr="subscriber_comments")
    )[: _check_n(n)]
    return [SubscriberComments(i.id, i.title, tuple(c.reader.name for c in i.subscriber_comments)) for i in items]


# --- only the column you need: the emails of the readers behind the latest comments --------
def latest_comments(n: int):
    """The ``n`` latest comments, newest first (lazy QuerySet)."""
    return Comment.objects.order_by("-created_at", "-id")[: _check_n(n)]


def emails_naive(n: int) -> list[str]:
    """1 + n queries, every column of both tables: ``comment.reader.email`` loads each reader."""
    return [c.reader.email for c in latest_comments(n)]


def emails_select_related(n: int) -> list[str]:
    """1 query, but it selects every column of comments and readers to build model instances."""
    return [c.reader.email for c in latest_comments(n).select_related("reader")]


def emails_only(n: int) -> list[str]:
    """1 query of 4 columns (the two primary keys, the foreign key and the email): ``only()`` defers the rest."""
    return [c.reader.email for c in latest_comments(n).select_related("reader").only("reader__email")]


def emails_values_list(n: int) -> list[str]:
    """1 query of exactly 1 column: ``values_list("reader__email", flat=True)`` gives plain strings."""
    return list(latest_comments(n).values_list("reader__email", flat=True))


EMAILS: dict[str, Callable[[int], list[str]]] = {
    "naive": emails_naive,
    "select_related": emails_select_related,
    "only": emails_only,
    "values_list": emails_values_list,
}


# --- measuring -------------------------------------------------------------------------------
def measure(
    functions: dict[str, Callable[[int], object]],
    ns: list[int],
    *,
    round_trip_s: float = 0.0,
    repeats: int = 1,
    max_repeat_s: float | None = None,
):
    """Time each function for each ``n``: a DataFrame with columns approach, n, queries, seconds.

    ``round_trip_s`` (seconds) is added to every query through ``pages.remote_database``
    (0 = the database as it is). ``seconds`` is the best of ``repeats`` runs (the least
    disturbed); with ``max_repeat_s``, a point stops repeating once its runs took that
    many seconds, so slow points run once and fast, noisy ones several times.
    ``queries`` is the count of one run. Raises ``ValueError`` for empty inputs or
    ``repeats < 1``.
    """
    import pandas as pd

    from .pages import remote_database

    if not functions or not ns:
        raise ValueError("give at least one function and one n")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    rows = []
    for name, fn in functions.items():
        for n in ns:
            best, queries, spent = float("inf"), 0, 0.0
            for _ in range(repeats):
                with remote_database(round_trip_s) as db:
                    start = time.perf_counter()
                    fn(n)
                    seconds = time.perf_counter() - start
                best, queries, spent = min(best, seconds), db.queries, spent + seconds
                if max_repeat_s is not None and spent >= max_repeat_s:
                    break
            rows.append({"approach": name, "n": n, "queries": queries, "seconds": best})
    return pd.DataFrame(rows)


def select_columns(sql: str) -> list[str]:
    """The column expressions of a statement's SELECT list (``[]`` when it is not a SELECT).

    Splits on commas, which is right for the ORM's SQL (quoted names hold no commas) but
    not for function calls with several arguments.
    """
    import re

    match = re.match(r"\s*SELECT\s+(?:DISTINCT\s+)?(.*?)\s+FROM\s", sql, re.S | re.I)
    return [c.strip() for c in match.group(1).split(",")] if match else []


def short_sql(sql: str, *, columns: int = 3) -> str:
    """``sql`` with a long SELECT list cut to its first ``columns`` columns and a count of the rest."""
    import re

    match = re.match(r"(\s*SELECT\s+(?:DISTINCT\s+)?)(.*?)(\s+FROM\s.*)", sql, re.S | re.I)
    if not match:
        return sql
    names = [c.strip() for c in match.group(2).split(",")]
    if len(names) <= columns + 1:
        return sql
    shown = ", ".join(names[:columns])
    return f"{match.group(1)}{shown}, …{len(names) - columns} more columns ({len(names)} in all){match.group(3)}"


def show_sql(fn: Callable[[], object], *, limit: int = 3, width: int = 400, columns: int | None = 3) -> int:
    """Run ``fn()``, print its first ``limit`` SQL statements (parameters filled in, cut at ``width``).

    ``columns``: long SELECT lists are shortened to that many columns plus a count
    (``None`` prints them all). Returns the number of queries. Uses
    ``CaptureQueriesContext`` (Django's test tools).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    for query in captured.captured_queries[:limit]:
        sql = query["sql"] if columns is None else short_sql(query["sql"], columns=columns)
        print("  " + (sql if len(sql) <= width else sql[: width - 3] + "..."))
    if len(captured) > limit:
        print(f"  ... and {len(captured) - limit} more")
    return len(captured)
