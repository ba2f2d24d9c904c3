"""Module 11: profiling helpers, the slow view and its fix, the pager hook, the lab's checks."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from scalecode import profiling
from scalecode.checks import check_hottest, check_list_mib, check_related_for_page
from scalecode.checks.profiling11 import example_table
from scalecode.newsroom import slow
from scalecode.profiling_examples import my_func

ROOT = Path(__file__).resolve().parents[1]


def stub(*args, **kwargs):
    raise NotImplementedError


def _work(n: int) -> int:
    return sum(_leaf(i) for i in range(n))


def _leaf(i: int) -> int:
    return i * i


# --- cProfile / pstats --------------------------------------------------------------------
def test_profile_table_sorts_and_names_callers():
    result, stats = profiling.profile_call(_work, 200)
    assert result == sum(i * i for i in range(200))
    table = profiling.profile_table(stats)
    assert list(table.columns) == ["function", "where", "ncalls", "primcalls", "tottime", "cumtime",
                                   "percall_ms", "callers"]  # fmt: skip
    assert table["cumtime"].is_monotonic_decreasing
    leaf = table.set_index("function").loc["_leaf"]
    assert leaf["ncalls"] == 200 and leaf["callers"] == ["<genexpr>"]
    by_calls = profiling.profile_table(stats, "ncalls", limit=2)
    assert len(by_calls) == 2 and by_calls["ncalls"].iloc[0] >= 200
    with pytest.raises(ValueError, match="sort must be one of"):
        profiling.profile_table(stats, "time")


def test_pstats_text_has_the_headers_and_leaves_stats_alone():
    _, stats = profiling.profile_call(_work, 50)
    text = profiling.pstats_text(stats, "tottime", limit=10)
    assert "ncalls" in text and "tottime" in text and "_leaf" in text
    assert "was called by" in profiling.pstats_text(stats, callers=True)
    assert any("/" in f[0] for f in stats.stats)  # strip_dirs ran on a copy


def test_line_profile_reports_each_line():
    result, text = profiling.line_profile(_work, 30, funcs=[_work])
    assert result == sum(i * i for i in range(30))
    assert "Line #" in text and "% Time" in text and "def _work" in text


# --- memory -------------------------------------------------------------------------------
def test_list_increment_is_pointers_only():
    assert profiling.POINTER_BYTES == 8
    assert round(profiling.list_increment_mib(10**6), 2) == 7.63
    assert round(profiling.list_increment_mib(2 * 10**7), 2) == 152.59
    with pytest.raises(ValueError):
        profiling.list_increment_mib(-1)


def test_tracemalloc_measures_the_talks_lists_exactly():
    assert math.isclose(profiling.traced_mib(lambda: [1] * 10**6), 7.63, rel_tol=1e-3)
    assert math.isclose(profiling.traced_mib(lambda: [2] * (2 * 10**6)), 15.26, rel_tol=1e-3)
    peak = profiling.traced_peak_mib(lambda: [0] * 10**6)
    assert 7.5 < peak < 8


def test_memory_lines_reports_increments_per_line():
    result, text, table = profiling.memory_lines(my_func)
    assert len(result) == 10**6
    assert "Increment" in text and "Mem usage" in text
    big = table.set_index("code").loc["b = [2] * (2 * 10**7)", "increment_mib"]
    assert big == pytest.approx(152.59, rel=0.02)  # > glibc's mmap threshold: always fresh pages


# --- the slow view and its fix ------------------------------------------------------------
def test_tokens_counts_calls_and_drops_stopwords():
    slow.TOKEN_CALLS.clear()
    assert slow.tokens("Para o Governo, para a cidade: governo!") == frozenset({"governo", "cidade"})
    assert slow.TOKEN_CALLS["tokens"] == 1


def test_related_news_indexed_equals_the_slow_version():
    items = slow.sample_articles(60)
    index = {i.id: slow.tokens(i.body) for i in items}
    for item in items[:5]:
        fast = slow.related_news_indexed(item, items, index, 4)
        assert fast == slow.related_news(item, items, 4) and item.id not in fast and len(fast) == 4


def test_related_news_breaks_ties_by_id():
    items = [SimpleNamespace(id=i, title=str(i), body="alpha beta gamma") for i in (5, 3, 9, 1)]
    assert slow.related_news(items[0], items, 2) == [1, 3]


def test_the_fixed_view_renders_the_same_page_with_far_fewer_tokenizations(django_ready):
    slow.TOKEN_CALLS.clear()
    before = slow.render_related_page(2, per_page=5, pool=80)
    slow_calls = slow.TOKEN_CALLS["tokens"]
    slow.TOKEN_CALLS.clear()
    after = slow.render_related_page_fixed(2, per_page=5, pool=80)
    assert after == before and before.count("class='related'") == 5
    assert slow_calls == 2 * 5 * 79 and slow.TOKEN_CALLS["tokens"] == 80
    with pytest.raises(ValueError, match="page and per_page"):
        slow.render_related_page(0)


def test_cprofile_points_to_tokens_and_line_profiler_to_its_line(django_ready):
    _, stats = profiling.profile_call(slow.render_related_page, 1, per_page=4, pool=60)
    table = profiling.profile_table(stats).set_index("function")
    assert table.loc["tokens", "ncalls"] == 2 * 4 * 59 and table.loc["tokens", "callers"] == ["related_news"]
    _, text = profiling.line_profile(slow.render_related_page, 1, per_page=4, pool=60, funcs=[slow.related_news])
    assert "tokens(item.body) & tokens(other.body)" in text


def test_kernprof_subprocess_reads_the_lprof(django_ready, tmp_path):
    text = profiling.kernprof()
    assert "Line #" in text and "related_news" in text and "Hits" in text
    with pytest.raises(FileNotFoundError):
        profiling.kernprof(tmp_path / "missing.py")


def test_memory_lines_fresh_runs_in_a_subprocess():
    report, table = profiling.memory_lines_fresh()
    assert "Increment" in report
    increments = dict(zip(table["code"], table["increment_mib"], strict=True))
    assert increments["b = [2] * (2 * 10**7)"] == pytest.approx(152.59, rel=0.01)
    assert increments["a = [1] * (10**6)"] == pytest.approx(7.63, rel=0.05)


# --- the pager hook -----------------------------------------------------------------------
def test_pager_hook_prints_to_stdout(capsys):
    from IPython.core import page
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    assert profiling.install_pager_hook(shell) is True
    assert profiling.install_pager_hook(shell) is True  # idempotent
    names = [getattr(f, "__name__", "") for _, f in shell.hooks.show_in_pager.chain]
    assert names.count("_stdout_pager_hook") == 1
    page.page("Line #  Hits  report")
    page.page({"text/plain": "ncalls tottime"})
    out = capsys.readouterr().out
    assert "Line #  Hits  report" in out and "ncalls tottime" in out


def test_pager_hook_outside_ipython_is_a_no_op(monkeypatch):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert profiling.install_pager_hook() is False


@pytest.mark.notebook
def test_executed_lecture_notebook_shows_every_profilers_report(tmp_path):
    """Executed by papermill, the lecture notebook keeps the reports the magics send to the pager."""
    import nbformat

    from scalecode.runner import execute

    output = tmp_path / "11_profilers.ipynb"
    outcome = execute(ROOT / "notebooks/11_profilers.ipynb", output)
    assert outcome.ok, outcome.error
    nb = nbformat.read(output, as_version=4)

    def out_of(magic: str) -> str:
        return "".join(
            o.get("text", "") for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(magic)
            for o in c.get("outputs", []) if o.get("output_type") == "stream"
        )  # fmt: skip

    assert "ncalls" in out_of("%prun") and "tottime" in out_of("%prun")
    assert "Line #" in out_of("%lprun") and "% Time" in out_of("%lprun")
    assert "Increment" in out_of("%mprun") and "Mem usage" in out_of("%mprun")
    assert "peak memory" in out_of("%memit")
    assert "Hits" in out_of("print(kernprof())")


# --- the lab's checks ---------------------------------------------------------------------
def hottest(table, column):
    return table.loc[table[column].idxmax(), "function"]


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (hottest, "passed", "cumtime"),
        (lambda t, c: t.sort_values(c, ascending=False)["function"].iloc[0], "passed", ""),
        (stub, "not done yet", ""),
        (lambda t, c: t.sort_values("ncalls", ascending=False)["function"].iloc[0], "hint", "sorted by ncalls"),
        (lambda t, c: hottest(t, "tottime"), "hint", "we asked cumtime"),
        (lambda t, c: t.sort_values(c)["function"].iloc[0], "hint", "descending"),
        (lambda t, c: t["function"].iloc[0], "hint", "first row"),
        (lambda t, c: t.loc[t[c].idxmax()], "hint", "just the function's name"),
        (lambda t, c: None, "not done yet", ""),
    ],
    ids=["idxmax", "sort", "stub", "ncalls", "tottime", "ascending", "first-row", "row", "none"],
)  # fmt: skip
def test_check_hottest(answer, status, fragment):
    result = check_hottest(answer)
    assert result.status == status and fragment in result.message


def test_example_table_has_a_different_winner_per_column():
    table = example_table()
    winners = {c: table.loc[table[c].idxmax(), "function"] for c in ("ncalls", "tottime", "cumtime")}
    assert len(set(winners.values())) == 3


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (lambda n: n * 8 / 2**20, "passed", "7.63 MiB"),
        (lambda n: (56 + 8 * n) / 1024 / 1024, "passed", ""),
        (stub, "not done yet", ""),
        (lambda n: n * 8, "hint", "bytes"),
        (lambda n: n * 4 / 2**20, "hint", "8 bytes"),
        (lambda n: n * 8 / 1e6, "hint", "MB"),
        (lambda n: n * 28 / 2**20, "hint", "shared"),
        (lambda n: n / 2**20, "hint", "multiply by 8"),
        (lambda n: "7.63", "hint", "number of MiB"),
        (lambda n: 1.0, "hint", "expected"),
    ],
    ids=["exact", "with-header", "stub", "bytes", "4-bytes", "MB", "int-size", "no-pointer", "str", "wrong"],
)  # fmt: skip
def test_check_list_mib(answer, status, fragment):
    result = check_list_mib(answer)
    assert result.status == status and fragment in result.message


def good_related(items, page_items, k=3):
    index = {i.id: slow.tokens(i.body) for i in items}
    return {item.id: slow.related_news_indexed(item, items, index, k) for item in page_items}


def cached_related(items, page_items, k=3):
    import functools

    words = functools.lru_cache(maxsize=None)(slow.tokens)
    result = {}
    for item in page_items:
        scored = [(len(words(item.body) & words(o.body)), o.id) for o in items if o.id != item.id]
        result[item.id] = [i for _, i in sorted(scored, key=lambda p: (-p[0], p[1]))[:k]]
    return result


def item_once_related(items, page_items, k=3):
    out = {}
    for item in page_items:
        mine = slow.tokens(item.body)
        scored = [(len(mine & slow.tokens(o.body)), o.id) for o in items if o.id != item.id]
        out[item.id] = [i for _, i in sorted(scored, key=lambda p: (-p[0], p[1]))[:k]]
    return out


def wrong_order(items, page_items, k=3):
    return {i: list(reversed(v)) for i, v in good_related(items, page_items, k).items()}


def with_self(items, page_items, k=3):
    index = {i.id: slow.tokens(i.body) for i in items}
    out = {}
    for item in page_items:
        scored = sorted(((len(index[item.id] & index[o.id]), o.id) for o in items), key=lambda p: (-p[0], p[1]))
        out[item.id] = [i for _, i in scored[:k]]
    return out


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_related, "passed", "less work"),
        (cached_related, "passed", ""),
        (stub, "not done yet", ""),
        (lambda items, page_items, k=3: {i.id: slow.related_news(i, items, k) for i in page_items}, "hint",
         "as slow as before"),
        (item_once_related, "hint", "build an index"),
        (wrong_order, "hint", "wrong order"),
        (with_self, "hint", "related to itself"),
        (lambda items, page_items, k=3: [], "hint", "return a dict"),
        (lambda items, page_items, k=3: {}, "hint", "keys"),
    ],
    ids=["index", "lru-cache", "stub", "slow", "item-once", "order", "self", "list", "empty"],
)  # fmt: skip
def test_check_related_for_page(answer, status, fragment):
    result = check_related_for_page(answer)
    assert result.status == status and fragment in result.message
