"""The front-page listing: naive (N+1) and fixed implementations return the same rows."""

from __future__ import annotations

import pytest

from scalecode.querybudget import query_budget


@pytest.fixture
def listings(django_ready):
    from scalecode.newsroom import listings

    return listings


def _counted(fn, n):
    with query_budget(10**9) as budget:
        result = fn(n)
    return result, budget.count


@pytest.mark.parametrize("n", [7, 40])
def test_every_listing_gives_the_naive_rows_with_its_query_formula(listings, n):
    naive, count = _counted(listings.news_naive, n)
    assert len(naive) == n and count == 1 + 3 * n
    assert all(isinstance(row, listings.NewsRow) and row.comments >= 0 for row in naive)
    expected = {"naive": 1 + 3 * n, "select_related": 1 + n, "prefetch_related": 2, "annotate": 1}
    for name, fn in listings.LISTINGS.items():
        rows, queries = _counted(fn, n)
        assert rows == naive, name
        assert queries == expected[name], name


def test_newest_first_and_empty(listings):
    from scalecode.newsroom.models import NewsItem

    rows = listings.news_annotate(3)
    assert [r.id for r in rows] == list(NewsItem.objects.values_list("id", flat=True)[:3])
    for fn in listings.LISTINGS.values():
        assert fn(0) == []
    assert set(listings.FORMULAS) == set(listings.LISTINGS)


@pytest.mark.parametrize("bad", [-1, 2.0, "10", None])
def test_bad_n_is_a_clear_error(listings, bad):
    with pytest.raises(ValueError, match="n must be"):
        listings.news_annotate(bad)


def test_filtered_prefetch_equals_the_python_filter(listings):
    naive, naive_queries = _counted(listings.subscriber_comments_naive, 30)
    fixed, fixed_queries = _counted(listings.subscriber_comments_prefetch, 30)
    assert fixed == naive and fixed_queries == 2 and naive_queries > 1 + 30
    assert any(row.readers for row in fixed) and not all(row.readers for row in fixed)
    from scalecode.newsroom.models import Reader

    subscribed = set(Reader.objects.filter(subscribed=True).values_list("name", flat=True))
    assert {name for row in fixed for name in row.readers} <= subscribed


def test_one_column_versions(listings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    naive, count = _counted(listings.emails_naive, 25)
    assert count == 26 and all("@" in e for e in naive)
    columns = {}
    for name, fn in listings.EMAILS.items():
        with CaptureQueriesContext(connection) as captured:
            assert fn(25) == naive, name
        select = captured.captured_queries[0]["sql"].split(" FROM ")[0]
        columns[name] = select.count(",") + 1
        if name != "naive":
            assert len(captured) == 1, name
    assert columns["values_list"] == 1 and columns["only"] == 4 and columns["select_related"] > 4


def test_measure_counts_queries_and_adds_round_trips(listings):
    frame = listings.measure({"naive": listings.news_naive, "annotate": listings.news_annotate}, [2, 5],
                             round_trip_s=0.001, repeats=2)  # fmt: skip
    assert list(frame.columns) == ["approach", "n", "queries", "seconds"]
    assert frame["queries"].tolist() == [7, 16, 1, 1]
    assert (frame["seconds"] >= frame["queries"] * 0.001).all()  # a lower bound: each query sleeps
    quick = listings.measure({"naive": listings.news_naive}, [1], repeats=50, max_repeat_s=0)
    assert quick["queries"].tolist() == [4]  # stopped after one run
    with pytest.raises(ValueError):
        listings.measure({}, [1])
    with pytest.raises(ValueError):
        listings.measure(listings.LISTINGS, [1], repeats=0)


def test_show_sql_prints_the_statements(listings, capsys):
    assert listings.show_sql(lambda: listings.news_select_related(3), limit=2) == 4
    out = capsys.readouterr().out
    assert "JOIN" in out and "... and 2 more" in out


def test_short_sql_keeps_short_selects(listings):
    sql = 'SELECT "a"."x", "a"."y", "a"."z", "a"."w", "a"."v" FROM "a" INNER JOIN "b" ON (1)'
    short = 'SELECT "a"."x", "a"."y", …3 more columns (5 in all) FROM "a" INNER JOIN "b" ON (1)'
    assert listings.short_sql(sql, columns=2) == short
    assert listings.short_sql('SELECT "a"."x" FROM "a"') == 'SELECT "a"."x" FROM "a"'
    assert listings.select_columns('SELECT "a"."x" AS "y", "b"."z" FROM "a"') == ['"a"."x" AS "y"', '"b"."z"']
    assert listings.select_columns("UPDATE a SET x = 1") == []


@pytest.mark.real
def test_same_query_counts_on_postgresql(listings, django_ready):
    from django.db import connection

    assert django_ready.is_real and connection.vendor == "postgresql"
    counts = {name: _counted(fn, 25)[1] for name, fn in listings.LISTINGS.items()}
    assert counts == {"naive": 76, "select_related": 26, "prefetch_related": 2, "annotate": 1}
