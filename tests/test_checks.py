"""Checks: one line, never a traceback; specific hints for the classic wrong answers."""

from __future__ import annotations

import pytest

from scalecode.backends import delete_prefix, get_redis
from scalecode.checks import (
    CheckFailed,
    check,
    check_cache_aside,
    check_cached_news_page,
    check_hit_ratio,
    check_news_page_key,
)  # fmt: skip
from scalecode.checks.core import Hint


def run(check_fn, *args, capsys=None):
    result = check_fn(*args)
    return result


# --- the framework -----------------------------------------------------------------
@check("Exercise X", "do the thing")
def check_positive(value):
    if value <= 0:
        raise Hint("make it positive")
    return "positive"


def test_framework_statuses_and_one_line(capsys):
    assert check_positive(None).status == "not done yet"
    assert check_positive(...).status == "not done yet"
    assert check_positive(-1).status == "hint"
    assert check_positive(1).status == "passed"
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "⏳ Exercise X — not done yet: do the thing",
        "⏳ Exercise X — not done yet: do the thing",
        "💡 Exercise X — hint: make it positive",
        "✅ Exercise X — passed: positive",
    ]


def test_unexpected_errors_become_a_hint_not_a_traceback(capsys):
    result = check_positive("text")  # '<=' between str and int raises TypeError
    assert result.status == "hint" and "TypeError" in result.message
    assert "Traceback" not in capsys.readouterr().out


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("SCALECODE_STRICT", "1")
    with pytest.raises(CheckFailed, match="make it positive"):
        check_positive(-1)
    assert check_positive(2).passed


# --- exercise 1: cache_aside --------------------------------------------------------
def good_cache_aside(client, key, ttl, compute):
    value = client.get(key)
    if value is None:
        value = compute()
        client.set(key, value, ex=ttl)
    return value


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_cache_aside, "passed", "one compute per key"),
        (stub, "not done yet", "NotImplementedError"),
        (lambda c, k, t, f: f(), "hint", "nothing was stored"),
        (lambda c, k, t, f: c.set(k, f()) and c.get(k), "hint", "no TTL"),
        (lambda c, k, t, f: c.set(k, f(), ex=3600) and c.get(k), "hint", "expires in 3600"),
        (lambda c, k, t, f: c.set(k, f(), ex=t) and f(), "hint", "compute() ran again on a hit"),
        (lambda c, k, t, f: c.get("page") or (c.set("page", f(), ex=t) and c.get("page")), "hint",
         "not under the key you were given"),
    ],
    ids=["correct", "stub", "no-store", "no-ttl", "wrong-ttl", "no-hit", "fixed-key"],
)  # fmt: skip
def test_check_cache_aside(answer, status, fragment):
    result = check_cache_aside(answer)
    assert result.status == status and fragment in result.message


# --- exercise 2: the key --------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (lambda p, c=None: f"scalecode:news:{c or 'all'}:{p}", "passed", "distinct"),
        (lambda p, c=None: f"scalecode:news:{c}", "hint", "put the page number in the key"),
        (lambda p, c=None: f"scalecode:news:{p}", "hint", "put the category in the key"),
        (lambda p, c=None: f"news:{c}:{p}", "hint", "scalecode:"),
        (lambda p, c=None: (p, c), "hint", "should be a str"),
        (lambda p, c=None: f"scalecode:{p}:{c}:{__import__('time').perf_counter_ns()}", "hint", "two different keys"),
        (stub, "not done yet", ""),
    ],
    ids=["correct", "no-page", "no-category", "no-prefix", "tuple", "unstable", "stub"],
)  # fmt: skip
def test_check_news_page_key(answer, status, fragment):
    result = check_news_page_key(answer)
    assert result.status == status and fragment in result.message


# --- exercise 3: the cached page ----------------------------------------------------------
def test_check_cached_news_page(django_ready):
    from scalecode.newsroom.pages import render_news_page

    r = get_redis(decode_responses=True)
    key = lambda p, c: f"scalecode:news:{c or 'all'}:{p}"  # noqa: E731
    good = lambda p=1, c=None: good_cache_aside(r, key(p, c), 60, lambda: render_news_page(p, c))  # noqa: E731
    assert check_cached_news_page(good).passed

    one_key = lambda p=1, c=None: good_cache_aside(r, "scalecode:news", 60, lambda: render_news_page(p, c))  # noqa: E731
    result = check_cached_news_page(one_key)
    assert result.status == "hint" and "separate pages" in result.message

    uncached = lambda p=1, c=None: render_news_page(p, c)  # noqa: E731
    result = check_cached_news_page(uncached)
    assert result.status == "hint" and "was not a hit" in result.message

    raw = get_redis()
    as_bytes = lambda p=1, c=None: good_cache_aside(raw, key(p, c), 60, lambda: render_news_page(p, c))  # noqa: E731
    result = check_cached_news_page(as_bytes)
    assert result.status == "hint" and "bytes" in result.message

    def no_ttl(p=1, c=None):
        value = r.get(key(p, c))
        if value is None:
            value = render_news_page(p, c)
            r.set(key(p, c), value)
        return value

    result = check_cached_news_page(no_ttl)
    assert result.status == "hint" and "no TTL" in result.message
    delete_prefix(r)


# --- exercise 4: the hit ratio --------------------------------------------------------------
TRACE = [(1, None), (1, None), (2, None), (1, None), (1, "esportes"), (2, None)]  # 3 distinct of 6


@pytest.mark.parametrize(
    ("value", "status", "fragment"),
    [(0.5, "passed", "3 hits"), (None, "not done yet", ""), (0.5 + 1e-12, "passed", ""),
     (1.0, "hint", "every request was a hit"), (0.0, "hint", "no hits"), (3.0, "hint", "between 0 and 1"),
     ("half", "hint", "number"), (0.6, "hint", "expected 0.500")],
)  # fmt: skip
def test_check_hit_ratio(value, status, fragment):
    result = check_hit_ratio(value, TRACE)
    assert result.status == status and fragment in result.message


def test_check_hit_ratio_recognises_the_miss_ratio():
    trace = TRACE + [(3, None)]  # 4 distinct of 7: miss ratio 4/7, hit ratio 3/7
    result = check_hit_ratio(4 / 7, trace)
    assert result.status == "hint" and "miss ratio" in result.message
