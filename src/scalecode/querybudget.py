"""A query budget: fail loudly when a block of code runs more SQL queries than allowed.

``query_budget(3)`` is both a context manager and a decorator::

    with query_budget(2):
        rows = front_page(100)

    @query_budget(2)
    def test_front_page_is_not_n_plus_one():
        front_page(100)

It counts every query Django sends on the connection (``connection.execute_wrapper``,
Django docs "Database instrumentation") and, when the block ends with more queries than
the budget, raises ``QueryBudgetExceeded``: the count, the budget, the statements that
repeat (the same SQL with different parameters, the signature of N+1 queries) and the
first statements in order. Put it in tests, so a change that brings an N+1 back fails CI
instead of slowing production down.

Source: "Escalando para o imprevisível" (Iuri de Silvio): N+1 queries with the Django ORM;
Django docs, ``django.test.utils.CaptureQueriesContext`` and ``assertNumQueries``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections

__all__ = ["QueryBudgetExceeded", "QueryLog", "normalize_sql", "query_budget"]

#: How many statements the error message lists, in order, after the repeated ones.
SHOW_STATEMENTS = 8
#: Longest SQL text shown per statement (characters).
SQL_WIDTH = 160


def normalize_sql(sql: str) -> str:
    """The statement's shape: whitespace collapsed, literal numbers and strings replaced by ``?``.

    Django passes parameters separately (``%s`` placeholders), so the same ORM call with a
    different id already gives the same text; literals inlined by hand are folded too.
    """
    text = re.sub(r"\s+", " ", sql).strip()
    text = re.sub(r"'(?:[^']|'')*'", "?", text)
    text = re.sub(r"(?<![\w\"])-?\d+(?:\.\d+)?(?![\w\"])", "?", text)
    return re.sub(r"%s", "?", text)


def _short(sql: str, width: int = SQL_WIDTH) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class QueryLog:
    """The SQL statements (``sql``, placeholders not filled) and parameters run in a block."""

    statements: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def repeated(self, at_least: int = 2) -> list[tuple[str, int]]:
        """``[(normalized sql, times), ...]`` for shapes run ``at_least`` times, most frequent first."""
        counts = Counter(normalize_sql(s) for s in self.statements)
        return [(sql, n) for sql, n in counts.most_common() if n >= at_least]


class QueryBudgetExceeded(AssertionError):
    """A block ran more SQL queries than its budget.

    Attributes: ``count`` (queries run), ``budget`` (allowed), ``label``, ``log``
    (``QueryLog``), ``repeated`` (``[(sql, times)]``). An ``AssertionError``, so pytest
    reports it as a failed test with the message below.
    """

    def __init__(self, count: int, budget: int, log: QueryLog, label: str = ""):
        self.count, self.budget, self.log, self.label = count, budget, log, label
        self.repeated = log.repeated()
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" in {self.label}" if self.label else ""
        lines = [f"{self.count} queries ran{where}, the budget is {self.budget}."]
        if self.repeated:
            lines.append("Repeated statements (the same SQL again and again is the N+1 signature):")
            lines += [f"  {times:>5}× {_short(sql)}" for sql, times in self.repeated[:3]]
            lines.append(
                "  fix: load the relation with the first query (select_related for a foreign key, "
                "prefetch_related for a reverse relation or many-to-many, annotate(Count(...)) for counts)"
            )
        lines.append(f"The first {min(SHOW_STATEMENTS, self.count)} of {self.count} queries:")
        lines += [f"  {i:>5}. {_short(sql)}" for i, sql in enumerate(self.log.statements[:SHOW_STATEMENTS], 1)]
        return "\n".join(lines)


class query_budget:  # noqa: N801 - used like a function: with query_budget(2), @query_budget(2)
    """Allow at most ``budget`` SQL queries inside a ``with`` block or a decorated function.

    ``budget``: an int >= 0. ``using``: the database alias (default ``"default"``).
    ``label``: named in the error (a decorator uses the function's name by default).
    After the block, ``.log`` (``QueryLog``) and ``.count`` tell what ran, also when it
    stayed within budget. Raises ``QueryBudgetExceeded`` at the end of the block when
    ``count > budget`` (an exception already leaving the block takes precedence), and
    ``TypeError``/``ValueError`` for a bad budget. Works nested: each block counts its own.
    """

    def __init__(self, budget: int, *, using: str = DEFAULT_DB_ALIAS, label: str = ""):
        if callable(budget):
            raise TypeError("query_budget needs the number of queries allowed: write @query_budget(2), "
                            "not @query_budget")  # fmt: skip
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise TypeError(f"budget must be an int (a number of queries), got {budget!r}")
        if budget < 0:
            raise ValueError(f"budget must be >= 0 queries, got {budget}")
        self.budget, self.using, self.label = budget, using, label
        self.log = QueryLog()
        self._cm = None

    @property
    def count(self) -> int:
        return self.log.count

    def _record(self, execute, sql, params, many, context):
        self.log.statements.append(sql)
        self.log.params.append(params)
        return execute(sql, params, many, context)

    def __enter__(self) -> query_budget:
        if self._cm is not None:
            raise RuntimeError("this query_budget is already in use: create a new one per block")
        self.log = QueryLog()
        self._cm = connections[self.using].execute_wrapper(self._record)
        self._cm.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        cm, self._cm = self._cm, None
        cm.__exit__(exc_type, exc, tb)
        if exc_type is None and self.count > self.budget:
            raise QueryBudgetExceeded(self.count, self.budget, self.log, self.label)

    def __call__(self, fn: Callable) -> Callable:
        """Decorate ``fn``: every call gets a fresh budget of the same size."""
        label = self.label or getattr(fn, "__qualname__", getattr(fn, "__name__", "the function"))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with query_budget(self.budget, using=self.using, label=label):
                return fn(*args, **kwargs)

        return wrapper
