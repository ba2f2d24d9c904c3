"""Checks of lab 03: correct answers pass (several styles), classic wrong ones get their hint."""

from __future__ import annotations

import hashlib
import inspect
import json

import pytest

from scalecode.checks import check_call_key, check_ttl_none_decorator, check_update_article
from scalecode.rediscache import make_key as scalecode_make_key


def stub(*args, **kwargs):
    raise NotImplementedError


# --- exercise 1: the key function ------------------------------------------------------------
def good_key(func, args, kwargs):
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    text = json.dumps(list(bound.arguments.items()), sort_keys=True)
    if len(text) > 100:
        text = hashlib.sha256(text.encode()).hexdigest()
    return f"scalecode:cache:{func.__qualname__}:{text}"


def repr_key(func, args, kwargs):  # another correct style: repr of sorted items, hashed always
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    items = sorted((k, sorted(v.items()) if isinstance(v, dict) else v) for k, v in bound.arguments.items())
    digest = hashlib.sha256(repr(items).encode()).hexdigest()
    return "scalecode:" + func.__module__ + "." + func.__qualname__ + ":" + digest


def talk_key(func, args, kwargs):
    return "scalecode:" + func.__name__ + ":" + ":".join([str(a) for a in args] + [str(v) for v in kwargs.values()])


def json_no_bind(func, args, kwargs):
    return f"scalecode:{func.__qualname__}:{json.dumps([args, kwargs], sort_keys=True)}"


def repr_values_only(func, args, kwargs):
    return f"scalecode:{func.__qualname__}:{args!r}:{tuple(kwargs.values())!r}"


def bind_no_defaults(func, args, kwargs):
    bound = inspect.signature(func).bind(*args, **kwargs)
    return f"scalecode:{func.__qualname__}:{json.dumps(bound.arguments)}"


def bind_unsorted(func, args, kwargs):
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return f"scalecode:{func.__qualname__}:{json.dumps(bound.arguments)}"


def bind_long(func, args, kwargs):
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return f"scalecode:{func.__qualname__}:{json.dumps(bound.arguments, sort_keys=True)}"


def unstable_hash(func, args, kwargs):
    text = bind_long(func, args, kwargs)
    unstable_hash.n = getattr(unstable_hash, "n", 0) + 1
    return text if len(text) < 200 else f"scalecode:{hashlib.sha256(text.encode()).hexdigest()}:{unstable_hash.n}"


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_key, "passed", "never do"),
        (repr_key, "passed", "never do"),
        (lambda f, a, k: scalecode_make_key(f, a, k), "passed", "never do"),
        (stub, "not done yet", "NotImplementedError"),
        (lambda f, a, k: None, "not done yet", "returns None"),
        (lambda f, a, k: good_key(f, a, k).removeprefix("scalecode:"), "hint", "'scalecode:'"),
        (lambda f, a, k: good_key(f, a, k).replace(f.__qualname__, "fn"), "hint", "__qualname__"),
        (talk_key, "hint", "joining with ':'"),
        (lambda f, a, k: f"scalecode:{f.__qualname__}:" + "|".join(map(str, [*a, *k.items()])), "hint", "str() drops"),
        (repr_values_only, "hint", "keyword values need their names"),
        (json_no_bind, "hint", "are the same call"),
        (bind_no_defaults, "hint", "apply_defaults"),
        (bind_unsorted, "hint", "sort the keyword"),
        (bind_long, "hint", "sha256"),
        (unstable_hash, "hint", "two different keys"),
        (lambda f, a, k: good_key(f, tuple(sorted(map(str, a))), k), "hint", "keep the arguments in their order"),
        (lambda f, a, k: (f.__qualname__, a), "hint", "should be a str"),
    ],
    ids=["correct", "repr-hash", "scalecode", "stub", "none", "no-prefix", "no-name", "talk", "str-types",
         "values-only", "no-bind", "no-defaults", "unsorted-kwargs", "long", "unstable-hash", "sorted-args", "tuple"],
)  # fmt: skip
def test_check_call_key(answer, status, fragment):
    result = check_call_key(answer)
    assert result.status == status, result.message
    assert fragment in result.message


# --- exercise 2: TTL and None -----------------------------------------------------------------
SENTINEL = b"\x00none"


def good_decorator(client, ttl):
    def decorate(fn):
        def wrapper(*args, **kwargs):
            key = scalecode_make_key(fn, args, kwargs)
            raw = client.get(key)
            if raw is not None:
                return None if raw == SENTINEL else json.loads(raw)
            value = fn(*args, **kwargs)
            client.set(key, SENTINEL if value is None else json.dumps(value), ex=ttl)
            return value

        return wrapper

    return decorate


def exists_decorator(client, ttl):  # another correct style: EXISTS + JSON null
    def decorate(fn):
        def wrapper(*args, **kwargs):
            key = scalecode_make_key(fn, args, kwargs)
            if client.exists(key):
                return json.loads(client.get(key))
            value = fn(*args, **kwargs)
            client.set(key, json.dumps(value), px=int(ttl * 1000))
            return value

        return wrapper

    return decorate


def variant(*, falsy=False, none=False, ttl=True, decode=True, wrong_ttl=False, fixed_key=False, pickled=False,
            unsentinel=True, prefix="scalecode:"):  # fmt: skip
    import pickle

    def factory(client, seconds):
        def decorate(fn):
            def wrapper(*args, **kwargs):
                key = f"scalecode:{fn.__qualname__}" if fixed_key else scalecode_make_key(fn, args, kwargs)
                key = key.replace("scalecode:", prefix, 1)
                raw = client.get(key)
                if (raw if falsy else raw is not None):
                    if raw == SENTINEL:
                        return None if unsentinel else raw
                    if not decode:
                        return raw
                    return pickle.loads(raw) if pickled else json.loads(raw)
                value = fn(*args, **kwargs)
                if none and value is None:
                    return value
                if falsy and not value:
                    return value
                data = SENTINEL if value is None else (pickle.dumps(value) if pickled else json.dumps(value))
                client.set(key, data, ex=(3600 if wrong_ttl else seconds) if ttl else None)
                return value

            return wrapper

        return decorate

    return factory


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_decorator, "passed", "None and falsy"),
        (exists_decorator, "passed", "None and falsy"),
        (stub, "not done yet", "NotImplementedError"),
        (lambda c, t: None, "not done yet", "returns None"),
        (lambda c, t: 42, "hint", "should return a decorator"),
        (lambda c, t: (lambda fn: None), "hint", "return the wrapper"),
        (variant(falsy=True), "hint", "nothing was stored"),
        (variant(none=True), "hint", "sentinel"),
        (variant(ttl=False), "hint", "no TTL"),
        (variant(wrong_ttl=True), "hint", "expires in 3600"),
        (variant(decode=False), "hint", "decode"),
        (variant(unsentinel=False), "hint", "back into None"),
        (variant(fixed_key=True), "hint", "shared a value"),
        (variant(pickled=True), "hint", "pickled"),
        (variant(prefix="cache:"), "hint", "does not start with"),
        (lambda c, t: (lambda fn: fn), "hint", "nothing was stored"),
    ],
    ids=["correct", "exists", "stub", "none", "not-callable", "no-wrapper", "falsy", "none-not-cached", "no-ttl",
         "wrong-ttl", "no-decode", "sentinel-leaks", "fixed-key", "pickle", "prefix", "no-cache"],
)  # fmt: skip
def test_check_ttl_none_decorator(answer, status, fragment):
    result = check_ttl_none_decorator(answer)
    assert result.status == status, result.message
    assert fragment in result.message


def test_falsy_check_hint_mentions_is_none():
    def falsy_miss(client, ttl):  # stores everything, but treats a falsy cached value as a miss
        def decorate(fn):
            def wrapper(*args):
                key = scalecode_make_key(fn, args, {})
                raw = client.get(key)
                if raw is not None and raw != SENTINEL and json.loads(raw):
                    return json.loads(raw)
                if raw == SENTINEL:
                    return None
                value = fn(*args)
                client.set(key, SENTINEL if value is None else json.dumps(value), ex=ttl)
                return value

            return wrapper

        return decorate

    result = check_ttl_none_decorator(falsy_miss)
    assert result.status == "hint" and "is None" in result.message


# --- exercise 3: invalidate after an update ---------------------------------------------------
def good_update(db, get_article, article_id, title):
    db[article_id] = title
    get_article.invalidate(article_id)


def refill_update(db, get_article, article_id, title):  # write, invalidate, warm it again
    db[article_id] = title
    get_article.invalidate(article_id=article_id)
    get_article(article_id)


def invalidate_first(db, get_article, article_id, title):
    get_article.invalidate(article_id)
    db[article_id] = title


def bump_all(db, get_article, article_id, title):
    db[article_id] = title
    get_article.bump_version()


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_update, "passed", "fresh at once"),
        (refill_update, "passed", "fresh at once"),
        (stub, "not done yet", "NotImplementedError"),
        (lambda db, g, i, t: None, "not done yet", "did nothing"),
        (lambda db, g, i, t: g.invalidate(i), "hint", "write the new title"),
        (lambda db, g, i, t: db.__setitem__(i, t), "hint", "still returns the old title"),
        (lambda db, g, i, t: (db.__setitem__(i, t), g.invalidate(str(i))), "hint", "same arguments"),
        (invalidate_first, "hint", "after the write, not before"),
        (bump_all, "hint", "also dropped"),
    ],
    ids=["correct", "refill", "stub", "nothing", "no-write", "no-invalidate", "wrong-args", "before", "bump"],
)  # fmt: skip
def test_check_update_article(answer, status, fragment):
    result = check_update_article(answer)
    assert result.status == status, result.message
    assert fragment in result.message
