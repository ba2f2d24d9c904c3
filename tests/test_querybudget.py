"""The query-budget guard: a context manager and a decorator that fail on too many queries."""

from __future__ import annotations

import pytest


@pytest.fixture
def qb(django_ready):
    from scalecode import querybudget

    return querybudget


def _naive(n):
    from scalecode.newsroom.listings import news_naive

    return news_naive(n)


def _fixed(n):
    from scalecode.newsroom.listings import news_annotate

    return news_annotate(n)


def test_within_budget_records_the_queries(qb):
    with qb.query_budget(1) as budget:
        rows = _fixed(20)
    assert len(rows) == 20 and budget.count == 1 and len(budget.log.statements) == 1
    with qb.query_budget(0) as nothing:
        pass
    assert nothing.count == 0


def test_over_budget_raises_with_count_and_repeated_sql(qb):
    with pytest.raises(qb.QueryBudgetExceeded) as info:
        with qb.query_budget(3, label="front page"):
            _naive(5)
    error = info.value
    assert (error.count, error.budget) == (16, 3)
    assert isinstance(error, AssertionError)  # pytest shows it as a failed assertion
    shapes = dict(error.repeated)
    assert sorted(shapes.values()) == [5, 5, 5]
    assert any("newsroom_author" in sql for sql in shapes)
    text = str(error)
    assert text.startswith("16 queries ran in front page, the budget is 3.")
    assert "N+1" in text and "5×" in text and "select_related" in text
    assert "1. SELECT" in text and "8. SELECT" in text and "9. SELECT" not in text


def test_decorator_gives_every_call_a_fresh_budget(qb):
    @qb.query_budget(1)
    def front_page(n):
        """Docstring kept."""
        return _fixed(n)

    assert front_page.__name__ == "front_page" and front_page.__doc__ == "Docstring kept."
    assert len(front_page(5)) == 5 and len(front_page(50)) == 50  # one query each time

    @qb.query_budget(2)
    def slow_page(n):
        return _naive(n)

    with pytest.raises(qb.QueryBudgetExceeded, match=r"^7 queries ran in .*slow_page, the budget is 2"):
        slow_page(2)


def test_nested_blocks_count_their_own_queries(qb):
    with qb.query_budget(10) as outer:
        _fixed(3)
        with qb.query_budget(5) as inner:
            _naive(1)
    assert (outer.count, inner.count) == (5, 4)


def test_an_error_inside_the_block_wins_over_the_budget(qb):
    with pytest.raises(ZeroDivisionError):
        with qb.query_budget(0):
            _naive(2)
            raise ZeroDivisionError


def test_an_instance_is_reusable_but_not_reentrant(qb):
    budget = qb.query_budget(1)
    with budget:
        _fixed(2)
    with budget:
        _fixed(2)
    assert budget.count == 1
    with pytest.raises(RuntimeError):
        with budget:
            with budget:
                pass


@pytest.mark.parametrize("bad, error", [("3", TypeError), (2.5, TypeError), (True, TypeError), (-1, ValueError)])
def test_bad_budgets_are_clear_errors(qb, bad, error):
    with pytest.raises(error, match="budget"):
        qb.query_budget(bad)


def test_forgetting_the_number_is_a_clear_error(qb):
    with pytest.raises(TypeError, match=r"@query_budget\(2\)"):

        @qb.query_budget
        def page():
            return None


def test_normalize_sql_folds_parameters_and_literals(qb):
    a = qb.normalize_sql('SELECT "t"."id"  FROM "t"\n WHERE "t"."id" = %s LIMIT 21')
    b = qb.normalize_sql("SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"id\" = 7 LIMIT 21")
    assert a == b == 'SELECT "t"."id" FROM "t" WHERE "t"."id" = ? LIMIT ?'
    assert qb.normalize_sql("SELECT 'it''s' FROM table2") == "SELECT ? FROM table2"


def test_how_a_test_suite_uses_it(qb):
    """The pattern the notebook shows: a test that fails as soon as an N+1 comes back."""

    @qb.query_budget(2)
    def test_front_page_is_not_n_plus_one():
        assert len(_fixed(100)) == 100

    test_front_page_is_not_n_plus_one()  # passes: 1 query
