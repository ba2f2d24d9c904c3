"""Checks of lab 11 (profilers): read a profile, predict a memory increment, fix the bottleneck.

Exercise 1 runs the learner's ``hottest(table, column)`` on a made-up profile table
whose columns each have a different winner, so each classic slip (sorting by ncalls,
tottime for cumtime, ascending order, no sort) gives its own hint. Exercise 3 counts
the calls of ``newsroom.slow.tokens`` (work, not time) and compares the related news
with the slow version's.
"""

from __future__ import annotations

import math
import numbers

from ..profiling import POINTER_BYTES, list_increment_mib
from .core import Hint, NotDone, call, check


def _show(value: object, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def example_table():
    """A profile table (``profiling.profile_table`` columns) where each column has a different winner."""
    import pandas as pd

    rows = [  # function, ncalls, tottime, cumtime, callers
        ("tokens", 6000, 0.030, 0.124, ["related_news"]),
        ("<built-in method builtins.len>", 50000, 0.020, 0.020, ["related_news", "tokens"]),
        ("render_related_page", 1, 0.0001, 0.160, []),
        ("<method 'findall' of 're.Pattern' objects>", 6000, 0.081, 0.081, ["tokens"]),
        ("related_news", 10, 0.014, 0.141, ["render_related_page"]),
        ("latest_news", 1, 0.00007, 0.017, ["render_related_page"]),
    ]
    return pd.DataFrame(
        [
            {"function": f, "where": "slow.py", "ncalls": n, "primcalls": n, "tottime": tt, "cumtime": ct,
             "percall_ms": ct / n * 1e3, "callers": c}  # fmt: skip
            for f, n, tt, ct, c in rows
        ]
    )


def _name(answer: object, column: str) -> str:
    if answer is None:
        raise NotDone("hottest returned None")
    if not isinstance(answer, str):
        if hasattr(answer, "get") and isinstance(answer.get("function"), str):
            raise Hint("return just the function's name (a str), e.g. row['function'], not the whole row")
        raise Hint(f"return the name of the function (a str from the 'function' column), got {_show(answer)}")
    return answer


@check("Exercise 1: the hottest function", "write hottest(table, column)")
def check_hottest(hottest) -> str:
    """``hottest(table, column)`` must return the ``function`` with the largest ``column``."""
    table = example_table()
    by = {col: table.sort_values(col, ascending=False).iloc[0]["function"] for col in ("ncalls", "tottime", "cumtime")}
    lowest = {col: table.sort_values(col).iloc[0]["function"] for col in ("tottime", "cumtime")}
    for column, other in (("cumtime", "tottime"), ("tottime", "cumtime")):
        got = _name(call(hottest, table.copy(), column, name="hottest"), column)
        if got == by[column]:
            continue
        if got == by["ncalls"]:
            raise Hint(f"{got!r} has the most calls: you sorted by ncalls, sort by the column you were given")
        if got == by[other]:
            what = {"tottime": "time inside the function itself", "cumtime": "time including what it calls"}
            raise Hint(f"{got!r} has the largest {other}: that is {what[other]}, we asked {column}")
        if got == lowest[column]:
            raise Hint(f"{got!r} has the smallest {column}: sort in descending order (ascending=False)")
        if got == table.iloc[0]["function"]:
            raise Hint("that is just the first row: sort the table by the column first (or use idxmax)")
        raise Hint(f"asked for the largest {column}, got {got!r}: look at table[{column!r}]")
    shuffled = table.sample(frac=1, random_state=3).reset_index(drop=True)
    if _name(call(hottest, shuffled, "cumtime", name="hottest"), "cumtime") != by["cumtime"]:
        raise Hint("the answer changed when the rows were shuffled: sort by the column, do not rely on row order")
    return f"cumtime → {by['cumtime']!r} (the whole view), tottime → {by['tottime']!r} (where the CPU is spent)"


@check("Exercise 2: predict a list's memory", "write list_mib(n)")
def check_list_mib(list_mib) -> str:
    """``list_mib(n)`` must give ``n × 8 / 2**20`` MiB (pointers only), within 0.1 %."""
    for n in (10**6, 2 * 10**7, 123_456):
        got = call(list_mib, n, name="list_mib")
        if got is None:
            raise NotDone("list_mib returns None")
        if not isinstance(got, numbers.Real) or isinstance(got, bool) or not math.isfinite(got):
            raise Hint(f"list_mib({n}) should be a number of MiB, got {_show(got)}")
        expected = list_increment_mib(n)
        if math.isclose(got, expected, rel_tol=1e-3):
            continue
        wrong = {
            n * POINTER_BYTES: "that is bytes: divide by 2**20 to get MiB",
            n * POINTER_BYTES / 2**10: "that is KiB: a MiB is 2**20 bytes",
            n * 4 / 2**20: "a pointer is 8 bytes on a 64-bit Python, not 4",
            n * POINTER_BYTES / 10**6: "that is MB (10**6 bytes): a MiB is 2**20 = 1,048,576 bytes",
            n / 2**20: "each item is one pointer of 8 bytes: multiply by 8",
            n * 28 / 2**20: "the int is shared: [1] * n stores n pointers to the same small int, count 8 bytes each",
            n * (28 + POINTER_BYTES) / 2**20: "the int is shared: count only the 8-byte pointers",
        }
        for value, hint in wrong.items():
            if math.isclose(got, value, rel_tol=1e-3):
                raise Hint(hint)
        raise Hint(f"list_mib({n:,}) gave {got:.4g}, expected {expected:.4g}: n pointers × 8 bytes / 2**20")
    small, big = list_increment_mib(10**6), list_increment_mib(2 * 10**7)
    return f"[1] * 10**6 → {small:.2f} MiB, [2] * (2 × 10**7) → {big:.2f} MiB"


@check("Exercise 3: fix the bottleneck", "write related_for_page(items, page_items, k)")
def check_related_for_page(related_for_page) -> str:
    """Same related news as ``related_news`` for every page item, with ``tokens`` called at most once per news."""
    from ..newsroom.slow import TOKEN_CALLS, related_news, sample_articles

    items = sample_articles(150)
    report = ""
    for page_items, k in ((items[:8], 3), (items[40:45], 4)):
        expected = {item.id: related_news(item, items, k) for item in page_items}
        slow_calls = 2 * len(page_items) * (len(items) - 1)
        TOKEN_CALLS.clear()
        got = call(related_for_page, items, page_items, k, name="related_for_page")
        calls = TOKEN_CALLS["tokens"]
        if got is None:
            raise NotDone("related_for_page returns None")
        if not isinstance(got, dict):
            raise Hint(f"return a dict {{news id: [related ids]}}, got {type(got).__name__}")
        if set(got) != set(expected):
            raise Hint(f"the dict's keys should be the ids of page_items ({len(expected)}), got {len(got)} keys")
        for item in page_items:
            mine, theirs = list(got[item.id]), expected[item.id]
            if mine == theirs:
                continue
            if item.id in mine:
                raise Hint(f"news {item.id} is listed as related to itself: skip the item")
            if len(mine) != k:
                raise Hint(f"news {item.id}: return the k={k} best ids, got {len(mine)}")
            if set(mine) == set(theirs):
                raise Hint("right news, wrong order: most shared words first, ties to the smaller id")
            raise Hint(f"news {item.id}: expected {theirs}, got {mine}: score = len(tokens(a.body) & tokens(b.body))")
        if calls == 0:
            raise Hint("tokens() was never called: use tokens from scalecode.newsroom.slow (the check counts calls)")
        if calls > len(items) + len(page_items):
            if calls >= slow_calls:
                raise Hint(f"tokens() ran {calls} times, as slow as before: tokenize each news once, before the loop")
            raise Hint(
                f"tokens() ran {calls} times for {len(items)} news: build an index {{id: tokens(body)}} once "
                "and look candidates up in it"
            )
        report = f"tokens() calls {slow_calls} → {calls} ({slow_calls / calls:.0f}× less work), same related news"
    return report
