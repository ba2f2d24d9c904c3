"""Checks of lab 08: any correct answer passes, the classic wrong ones get their specific hint."""

from __future__ import annotations

import math

import pytest

from scalecode import queueing
from scalecode.checks import check_erlang_c, check_saturated_latency, check_utilisation, check_workers_for_p95


def stub(*args, **kwargs):
    raise NotImplementedError


def _status(result, hint_part: str = ""):
    assert result.status == ("passed" if not hint_part else "hint"), result.message
    assert hint_part in result.message


@pytest.mark.parametrize("check", [check_utilisation, check_erlang_c, check_saturated_latency, check_workers_for_p95])
def test_stubs_are_not_done(check):
    assert check(stub).status == "not done yet"
    assert check(None).status == "not done yet"


# --- exercise 1 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda lam, ms, c: lam * ms / 1000 / c, ""),
        (lambda lam, ms, c: queueing.utilisation(lam, ms / 1000, c), ""),
        (lambda lam, ms, c: lam / (c * (1000 / ms)), ""),
        (lambda lam, ms, c: lam * ms / c, "milliseconds to seconds"),
        (lambda lam, ms, c: lam * ms / 1000, "divide by c"),
        (lambda lam, ms, c: lam * ms, "divide by the workers"),
        (lambda lam, ms, c: c / (lam * ms / 1000), "upside down"),
        (lambda lam, ms, c: "0.75", "should return a number"),
        (lambda lam, ms, c: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_utilisation(answer, hint):
    _status(check_utilisation(answer), hint)


# --- exercise 2 ---------------------------------------------------------------------------
def _erlang_factorial(lam, s, c):
    a = lam * s
    if a >= c:
        return 1.0
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def _erlang_b(lam, s, c):
    a = lam * s
    top = a**c / math.factorial(c)
    return top / sum(a**k / math.factorial(k) for k in range(c + 1))


def _no_unstable_case(lam, s, c):
    a = lam * s
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def _rho_instead_of_a(lam, s, c):
    return _erlang_factorial(lam / c, s, c)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_erlang_factorial, ""),
        (queueing.erlang_c, ""),
        (_erlang_b, "Erlang B"),
        (_no_unstable_case, "return 1.0"),
        (_rho_instead_of_a, "offered load"),
        (lambda lam, s, c: 2.0, "between 0 and 1"),
    ],
)
def test_erlang_c(answer, hint):
    _status(check_erlang_c(answer), hint)


# --- exercise 3 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda n, k, ms: max(ms / 1000, n / k * ms / 1000), ""),
        (lambda n, k, ms: queueing.littles_latency_s(n, ms / 1000, k), ""),
        (lambda n, k, ms: max(ms, n / k * ms), "seconds"),
        (lambda n, k, ms: max(ms / 1000, n * ms / 1000), "divide by the workers"),
        (lambda n, k, ms: k * ms / 1000 / n, "upside down"),
        (lambda n, k, ms: n / k * ms / 1000, "nobody waits"),
    ],
)
def test_saturated_latency(answer, hint):
    _status(check_saturated_latency(answer), hint)


# --- exercise 4 ---------------------------------------------------------------------------
def _sizing(lam, ms, budget, start=None, offset=0):
    s = ms / 1000
    c = math.floor(lam * s) + 1 if start is None else start(lam * s)
    while queueing.response_percentile_s(0.95, lam, s, c) > budget / 1000:
        c += 1
    return c + offset


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_sizing, ""),
        (lambda lam, ms, b: queueing.workers_for_budget(lam, ms / 1000, p95_budget_s=b / 1000), ""),
        (lambda lam, ms, b: math.ceil(lam * ms / 1000), "unstable"),
        (lambda lam, ms, b: math.floor(lam * ms / 1000) + 1, "keep adding workers"),
        (lambda lam, ms, b: _sizing(lam, ms, b, offset=-1 if lam == 300 else 0), "round up"),  # 17 of 18
        (lambda lam, ms, b: _sizing(lam, ms, b, offset=1), "smallest"),
        (lambda lam, ms, b: _sizing(lam, ms, b) + 0.5, "whole number"),
        (lambda lam, ms, b: _sizing(lam, ms * 1000, b * 1000), "milliseconds to seconds"),
    ],
)
def test_workers_for_p95(answer, hint):
    _status(check_workers_for_p95(answer), hint)
