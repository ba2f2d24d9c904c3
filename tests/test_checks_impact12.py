"""Lab 12 checks: correct answers pass, the classic slips get their hint, stubs are 'not done yet'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalecode.checks import check_endpoint_stats, check_fix_first, check_percentiles, check_saving


def _g(log):
    return log.groupby("endpoint")["duration_ms"]


def stats_ok(log):
    g = _g(log)
    return pd.DataFrame({"count": g.size(), "mean_ms": g.mean(), "total_s": g.sum() / 1000})


def stats_agg(log):  # another correct answer: named aggregation, endpoint as a column
    out = log.groupby("endpoint", as_index=False).agg(count=("duration_ms", "count"), mean_ms=("duration_ms", "mean"),
                                                      total_ms=("duration_ms", "sum"))
    return out.assign(total_s=out["total_ms"] / 1000)


def pct_ok(log):
    g = _g(log)
    return pd.DataFrame({f"p{p}_ms": g.quantile(p / 100) for p in (50, 95, 99)})


def pct_numpy_nearest(log):
    return _g(log).agg(**{f"p{p}_ms": (lambda x, p=p: np.percentile(x, p, method="nearest")) for p in (50, 95, 99)})


def fix_ok(log):
    return list(_g(log).sum().sort_values(ascending=False).index)


def saving_ok(log, endpoint, factor):
    total = log.loc[log["endpoint"] == endpoint, "duration_ms"].sum() / 1000
    return total * (1 - 1 / factor)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer", [stats_ok, stats_agg])
def test_stats_correct(answer):
    assert check_endpoint_stats(answer).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda log: stats_ok(log).assign(total_s=_g(log).sum()), "ms vs s"),
    (lambda log: stats_ok(log).assign(total_s=_g(log).mean() / 1000), "mean"),
    (lambda log: stats_ok(log).assign(mean_ms=_g(log).sum()), "mean vs sum"),
    (lambda log: pd.DataFrame({"count": [len(log)], "mean_ms": [1.0], "total_s": [1.0]}), "groupby"),
    (lambda log: stats_ok(log).drop(columns="total_s"), "total_s"),
    (lambda log: _g(log).sum(), "DataFrame"),
])  # fmt: skip
def test_stats_hints(wrong, words):
    result = check_endpoint_stats(wrong)
    assert result.status == "hint" and words in result.message


@pytest.mark.parametrize("answer", [pct_ok, pct_numpy_nearest])
def test_percentiles_correct(answer):
    assert check_percentiles(answer).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda log: pd.DataFrame({f"p{p}_ms": _g(log).quantile(p) for p in (50, 95, 99)}), "quantile(0.95)"),
    (lambda log: _g(log).agg(**{f"p{p}_ms": (lambda x, p=p: np.percentile(x, p / 100)) for p in (50, 95, 99)}),
     "np.percentile takes"),
    (lambda log: pct_ok(log) / 1000, "seconds"),
    (lambda log: pct_ok(log).assign(p95_ms=_g(log).quantile(0.05)), "5th percentile"),
])  # fmt: skip
def test_percentile_hints(wrong, words):
    result = check_percentiles(wrong)
    assert result.status == "hint" and words in result.message


def test_fix_first_correct_as_list_or_series():
    assert check_fix_first(fix_ok).passed
    assert check_fix_first(lambda log: _g(log).sum().sort_values(ascending=False)).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda log: list(_g(log).mean().sort_values(ascending=False).index), "mean"),
    (lambda log: list(_g(log).quantile(0.95).sort_values(ascending=False).index), "p95"),
    (lambda log: list(_g(log).size().sort_values(ascending=False).index), "number of requests"),
    (lambda log: list(_g(log).sum().sort_values().index), "ascending=False"),
    (lambda log: _g(log).sum().to_frame(), "not the whole table"),
])  # fmt: skip
def test_fix_first_hints(wrong, words):
    result = check_fix_first(wrong)
    assert result.status == "hint" and words in result.message


def test_saving_correct():
    assert check_saving(saving_ok).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda log, e, f: saving_ok(log, e, f) * 1000, "milliseconds"),
    (lambda log, e, f: saving_ok(log, e, 1e12) / f, "time left"),
    (lambda log, e, f: saving_ok(log, e, 2), "use the factor"),
    (lambda log, e, f: saving_ok(log, e, f) / (log["endpoint"] == e).sum(), "per request"),
])  # fmt: skip
def test_saving_hints(wrong, words):
    result = check_saving(wrong)
    assert result.status == "hint" and words in result.message


@pytest.mark.parametrize("check", [check_endpoint_stats, check_percentiles, check_fix_first, check_saving])
def test_stubs_are_not_done(check):
    assert check(stub).status == "not done yet"
    assert check(None).status == "not done yet"


def test_a_crash_in_the_answer_is_a_hint_not_a_traceback():
    result = check_endpoint_stats(lambda log: log["nope"])
    assert result.status == "hint" and "KeyError" in result.message
