"""Checks of lab 09 (N+1 queries): a listing under a query budget, select_related vs
prefetch_related, one column with values_list, a filtered Prefetch.

Every check counts the SQL queries the learner's code sends (``query_budget``'s log) for
two different ``n`` and compares the results with the naive implementation's: a correct
answer returns the same data in a number of queries that does not grow with ``n``.
Timings are never used. Holds on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .core import Hint, NotDone, call, check

#: The two list sizes every check tries: a fixed count of queries must not depend on them.
SIZES = (6, 40)


def _show(value: object, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _run(fn: Callable, n: int, name: str, use: Callable[[object], object] = list):
    """Call ``fn(n)`` and consume its result with ``use`` while counting queries: (value, QueryLog)."""
    from django.core.exceptions import FieldError

    from ..querybudget import query_budget

    with query_budget(10**9) as counted:
        result = call(fn, n, name=name)
        if result is None:
            raise NotDone(f"{name} returns None")
        try:
            value = use(result)
        except FieldError as exc:
            raise _field_error_hint(exc) from None
        except (Hint, NotDone):
            raise
        except Exception as exc:
            text = str(exc).splitlines()[0] if str(exc) else ""
            raise Hint(f"using what {name} returned raised {type(exc).__name__}{': ' + text if text else ''}") from None
    return value, counted.log


def _field_error_hint(exc: Exception) -> Hint:
    text = str(exc)
    if "select_related" in text and "comments" in text:
        return Hint("select_related follows forward foreign keys only (one related row per item); "
                    "comments are a reverse relation: use prefetch_related('comments')")  # fmt: skip
    return Hint(f"Django raised FieldError: {text.splitlines()[0]}")


def _repeated_tables(log) -> set[str]:
    """The tables read by statements that run more than once (the N+1 signature)."""
    tables = set()
    for sql, _times in log.repeated():
        match = re.search(r'FROM\s+"?(\w+)"?', sql, re.I)
        if match:
            tables.add(match.group(1).removeprefix("newsroom_"))
    return tables


# --- Exercise 1 ---------------------------------------------------------------------------
LISTING_BUDGET = 2


@check("Exercise 1: the front page under a query budget",
       "write front_page(n): the naive rows in at most 2 queries")  # fmt: skip
def check_listing_budget(front_page) -> str:
    """Same rows as ``news_naive(n)`` for two ``n``, in <= 2 queries each (so independent of n)."""
    from ..newsroom.listings import news_naive
    from ..newsroom.models import NewsItem

    counts = []
    for n in SIZES:
        expected = [tuple(r) for r in news_naive(n)]
        rows, log = _run(front_page, n, "front_page")
        if rows and isinstance(rows[0], NewsItem):
            raise Hint("front_page returned NewsItem objects: return NewsRow(id, title, author name, "
                       "category name, number of comments) for each item")  # fmt: skip
        try:
            got = [tuple(r) for r in rows]
        except TypeError:
            raise Hint(f"return a list of NewsRow tuples, got items like {_show(rows[0])}") from None
        if len(got) != len(expected):
            raise Hint(f"front_page({n}) returned {len(got)} rows: return the {n} latest news items")
        if got != expected:
            if [r[0] for r in got] != [r[0] for r in expected]:
                raise Hint(f"front_page({n}) must list the {n} latest news items, newest first; annotate() "
                           "(GROUP BY) drops the model's ordering: add .order_by('-published_at', '-id')")  # fmt: skip
            if [r[:4] for r in got] == [r[:4] for r in expected]:
                bad = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
                raise Hint(f"item {got[bad][0]} has {_show(got[bad][4])} comments instead of {expected[bad][4]}: "
                           "count them with annotate(Count('comments')) or len(item.comments.all())")  # fmt: skip
            bad = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            raise Hint(f"row {bad} is {_show(got[bad])}, the naive listing has {_show(expected[bad])}")
        if log.count > LISTING_BUDGET:
            tables = _repeated_tables(log)
            if tables & {"author", "category"}:
                raise Hint(f"{log.count} queries for n={n}: author and category are fetched once per item; "
                           "JOIN them with select_related('author', 'category')")  # fmt: skip
            if "comment" in tables:
                raise Hint(f"{log.count} queries for n={n}: the comments are counted once per item; use "
                           "annotate(Count('comments')), or prefetch_related('comments')")  # fmt: skip
            raise Hint(f"{log.count} queries for n={n}, the budget is {LISTING_BUDGET}: "
                       "load everything with the first query or two")  # fmt: skip
        counts.append(log.count)
    naive = ", ".join(str(1 + 3 * n) for n in SIZES)
    return (f"n={SIZES[0]} and n={SIZES[1]}: the naive rows in {counts[0]} and {counts[1]} queries "
            f"(the naive listing needs {naive})")  # fmt: skip


# --- Exercise 2 ---------------------------------------------------------------------------
@check("Exercise 2: select_related or prefetch_related?",
       "write news_with_authors(n) and news_with_comments(n)")  # fmt: skip
def check_related_choice(news_with_authors, news_with_comments) -> str:
    """Forward FK (author): 1 query in all. Reverse FK (comments): 2 queries in all."""
    from ..newsroom.listings import latest_news
    from ..newsroom.models import Comment, NewsItem

    def ids_of(items: Iterable) -> list[int]:
        items = list(items)
        if items and not isinstance(items[0], NewsItem):
            raise Hint(f"return NewsItem objects (a QuerySet is fine), got {type(items[0]).__name__}")
        return [i.id for i in items]

    for n in SIZES:
        latest = list(latest_news(n).values_list("id", flat=True))

        def authors(result):
            items = list(result)
            return ids_of(items), [i.author.name for i in items]

        (ids, names), log = _run(news_with_authors, n, "news_with_authors", authors)
        if ids != latest:
            raise Hint(f"news_with_authors({n}) must return the {n} latest news items, newest first")
        expected = list(latest_news(n).values_list("author__name", flat=True))
        if names != expected:
            raise Hint("the authors' names differ from the database's: do not change item.author")
        if log.count == 2 and "author" in log.statements[1]:
            raise Hint("prefetch_related works on a foreign key but costs a second query: "
                       "select_related('author') JOINs the author into the first one")  # fmt: skip
        if log.count > 1:
            raise Hint(f"{log.count} queries for n={n}: each item.author ran its own query; "
                       "load the authors with the news in one query (a JOIN)")  # fmt: skip

    for n in SIZES:

        def comments(result):
            items = list(result)
            return ids_of(items), [[c.id for c in i.comments.all()] for i in items]

        (ids, got), log = _run(news_with_comments, n, "news_with_comments", comments)
        latest = list(latest_news(n).values_list("id", flat=True))
        if ids != latest:
            raise Hint(f"news_with_comments({n}) must return the {n} latest news items, newest first")
        by_item: dict[int, list[int]] = {i: [] for i in latest}
        for news_id, comment_id in Comment.objects.filter(news_id__in=latest).values_list("news_id", "id"):
            by_item[news_id].append(comment_id)
        if got != [by_item[i] for i in latest]:
            raise Hint("item.comments.all() does not give each item's comments: prefetch the plain relation")
        if log.count > 2:
            if "comment" in _repeated_tables(log):
                raise Hint(f"{log.count} queries for n={n}: each item.comments.all() ran its own query; "
                           "fetch every item's comments at once with prefetch_related('comments')")  # fmt: skip
            raise Hint(f"{log.count} queries for n={n}: one for the news and one for all their comments is enough")
    return "author: one query with a JOIN (select_related); comments: two queries, news + IN (...) (prefetch_related)"


# --- Exercise 3 ---------------------------------------------------------------------------
@check("Exercise 3: only the column you need", "write author_names(n) with values_list")
def check_one_column(author_names) -> str:
    """A flat list of the n latest items' author names, in 1 query that selects 1 column."""
    from django.db.models import Model

    from ..newsroom.listings import select_columns

    for n in (8, 50):
        expected = list(_latest_author_names(n))
        got, log = _run(author_names, n, "author_names")
        if got and isinstance(got[0], Model):
            raise Hint(f"author_names returned {type(got[0]).__name__} objects: return the names only, "
                       "e.g. values_list('author__name', flat=True)")  # fmt: skip
        if got and isinstance(got[0], tuple):
            raise Hint("each value is a tuple: values_list('author__name', flat=True) gives plain strings")
        if got and isinstance(got[0], dict):
            raise Hint("values() gives dicts: values_list('author__name', flat=True) gives plain strings")
        if got != expected:
            if sorted(map(str, got)) == sorted(expected):
                raise Hint("the right names in another order: keep the news items' order (newest first)")
            raise Hint(f"author_names({n}) gave {_show(got)}; expected the authors of the {n} latest news items")
        if log.count > 1:
            raise Hint(f"{log.count} queries for n={n}: follow the foreign key inside the query, "
                       "values_list('author__name', flat=True)")  # fmt: skip
        columns = select_columns(log.statements[0]) if log.statements else []
        if len(columns) > 1:
            raise Hint(f"the query selects {len(columns)} columns; only() still fetches the keys to build "
                       "objects: values_list('author__name', flat=True) selects just the name")  # fmt: skip
    return "one query, one column, a flat list of names"


def _latest_author_names(n: int):
    from ..newsroom.listings import latest_news

    return latest_news(n).values_list("author__name", flat=True)


# --- Exercise 4 ---------------------------------------------------------------------------
@check("Exercise 4: a filtered Prefetch",
       "write news_with_subscriber_comments(n) with Prefetch(..., to_attr='subscriber_comments')")  # fmt: skip
def check_filtered_prefetch(news_with_subscriber_comments) -> str:
    """Each item's ``subscriber_comments``: its comments by subscribed readers, in order; <= 2 queries."""
    from ..newsroom.listings import latest_news
    from ..newsroom.models import Comment

    def use(result):
        items = list(result)
        if items and not hasattr(items[0], "subscriber_comments"):
            raise Hint("the items have no subscriber_comments: Prefetch('comments', queryset=..., "
                       "to_attr='subscriber_comments')")  # fmt: skip
        return [i.id for i in items], [[c.id for c in i.subscriber_comments] for i in items]

    for n in SIZES:
        (ids, got), log = _run(news_with_subscriber_comments, n, "news_with_subscriber_comments", use)
        latest = list(latest_news(n).values_list("id", flat=True))
        if ids != latest:
            raise Hint(f"return the {n} latest news items, newest first")
        wanted: dict[int, list[int]] = {i: [] for i in latest}
        everything: dict[int, set[int]] = {i: set() for i in latest}
        for news_id, comment_id, subscribed in Comment.objects.filter(news_id__in=latest).values_list(
            "news_id", "id", "reader__subscribed"
        ):
            everything[news_id].add(comment_id)
            if subscribed:
                wanted[news_id].append(comment_id)
        expected = [wanted[i] for i in latest]
        if got != expected:
            extra = any(set(g) - set(w) for g, w in zip(got, expected, strict=True))
            if extra and all(set(g) == everything[i] for g, i in zip(got, latest, strict=True)):
                raise Hint("these are all the comments: filter the Prefetch queryset, "
                           "Comment.objects.filter(reader__subscribed=True)")  # fmt: skip
            if [sorted(g) for g in got] == [sorted(w) for w in expected]:
                raise Hint("the right comments in another order: keep Comment's ordering (oldest first)")
            raise Hint("some items' subscriber_comments differ from their comments by subscribed readers")
        if log.count > 2:
            tables = _repeated_tables(log)
            if "comment" in tables:
                raise Hint(f"{log.count} queries for n={n}: item.comments.filter(...) ignores a prefetch and "
                           "queries per item; put the filter in Prefetch(queryset=...)")  # fmt: skip
            if "reader" in tables:
                raise Hint(f"{log.count} queries for n={n}: checking c.reader.subscribed in Python loads every "
                           "reader; filter in the database, reader__subscribed=True")  # fmt: skip
            raise Hint(f"{log.count} queries for n={n}: one for the news and one for the filtered comments is enough")
    return "two queries for any n: the news, then only the subscribers' comments"
