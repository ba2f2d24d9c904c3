"""The talk's caching decorator, rewritten, kept to show what goes wrong with it.

"Cacheamento Lado Servidor" (J. Mário Guedes) caches a slow query with a decorator
that builds the key from the function's name and its arguments joined by ``':'``,
pickles the result into Redis and reads it back on the next call. It made a
123 s query answer in 19.7 s. ``naive_cache`` is that idea in our own code (its keys
get the workshop's ``scalecode:naive:`` prefix, nothing else is fixed), and
``flaw_report`` runs the same small scenarios against any decorator, so a notebook can
show each flaw failing here and passing with ``scalecode.rediscache.redis_cache``:

1. keyword arguments are keyed by their values only, in call order;
2. ``f(1, b=2)``, ``f(1, 2)`` and ``f(1)`` (``b=2`` by default) get three keys;
3. falsy results (``0``, ``[]``, ``""``) are never cached;
4. ``None`` is never cached;
5. no TTL: values live until someone deletes them;
6. ``f("a:b")`` and ``f("a", "b")`` share a key (so do ``f(1)`` and ``f("1")``);
7. the key grows with the arguments, without bound;
8. ``pickle.loads`` of whatever the shared store returns: whoever can write to that
   Redis can make this process run code.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass

from .config import KEY_PREFIX

NAIVE_PREFIX = f"{KEY_PREFIX}naive:"


def naive_cache(client) -> Callable[[Callable], Callable]:
    """The talk's decorator (with ``client`` passed in and the ``scalecode:naive:`` prefix): do not use.

    Key: ``scalecode:naive:<name>:<str(arg1)>:<str(arg2)>:...:<str(kwarg values)>``;
    value: ``pickle.dumps(result)``, no TTL, stored only when the result is truthy.
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def cached(*args, **kwargs):
            key = NAIVE_PREFIX + fn.__name__ + ":" + ":".join(
                [str(arg) for arg in args] + [str(value) for value in kwargs.values()]
            )
            buffer = client.get(key)
            if not buffer:
                result = fn(*args, **kwargs)
                if result:
                    client.set(key, pickle.dumps(result))
                return result
            return pickle.loads(buffer)

        return cached

    return decorate


# --- a harmless "malicious" payload -------------------------------------------------------
#: Set by ``_payload_ran``; a real attacker's payload would run a shell command instead.
PAYLOAD_LOG: list[str] = []


def _payload_ran(message: str) -> str:
    PAYLOAD_LOG.append(message)
    print(f"⚠ code chosen by whoever wrote to Redis just ran in this process: {message}")
    return "(the value the attacker wanted you to see)"


class Harmless:
    """Pickles to "call ``_payload_ran(message)``": what unpickling it does, instead of rebuilding an object.

    ``pickle.loads(pickle.dumps(Harmless("hi")))`` calls ``_payload_ran("hi")``: pickle's
    ``__reduce__`` lets the bytes name any importable callable and its arguments, which
    is how ``os.system`` ends up in real payloads (Python docs: "The pickle module is not
    secure").
    """

    def __init__(self, message: str = "hello from the cache") -> None:
        self.message = message

    def __reduce__(self):
        return (_payload_ran, (self.message,))


def poisoned_pickle(message: str = "hello from the cache") -> bytes:
    """Bytes that, once unpickled, call ``_payload_ran(message)`` (harmless: it appends to ``PAYLOAD_LOG``)."""
    return pickle.dumps(Harmless(message))


# --- the flaws, as scenarios ---------------------------------------------------------------
@dataclass
class Scenario:
    flaw: str
    example: str
    expected: str
    got: str
    ok: bool


def _computations(calls: list) -> str:
    return f"{len(calls)} computation{'' if len(calls) == 1 else 's'}"


def _new_keys(client, before: set) -> list:
    return [k for k in client.scan_iter(match=f"{KEY_PREFIX}*", count=500) if k not in before]


def flaw_report(decorate: Callable[[Callable], Callable], client) -> list[Scenario]:
    """Run the nine scenarios with ``decorate`` (e.g. ``naive_cache(r)``); one ``Scenario`` each.

    ``ok`` is True when the decorator behaves correctly. Keys created by a scenario are
    deleted after it; start from a Redis without keys of earlier runs (the naive keys are named
    after functions only). The unpickling scenario writes ``poisoned_pickle()`` over the
    value the decorator stored, calls again and reports whether the payload ran.
    """
    rows: list[Scenario] = []

    def run(flaw, example, expected, body):
        before = set(client.scan_iter(match=f"{KEY_PREFIX}*", count=500))
        try:
            got, ok = body(before)
        finally:
            created = _new_keys(client, before)
            if created:
                client.delete(*created)
        rows.append(Scenario(flaw, example, expected, got, ok))

    def kwargs_names(_):
        @decorate
        def power(base, exp):
            return base**exp

        first, second = power(base=2, exp=3), power(exp=2, base=3)
        return f"{first}, {second}", (first, second) == (8, 9)

    def positional_defaults(_):
        calls = []

        @decorate
        def area(width, height=1):
            calls.append(1)
            return width * height

        area(2, height=1), area(2, 1), area(2)
        return _computations(calls), len(calls) == 1

    def falsy(_):
        calls = []

        @decorate
        def unread(user):
            calls.append(1)
            return 0

        unread("ana"), unread("ana"), unread("ana")
        return _computations(calls), len(calls) == 1

    def none(_):
        calls = []

        @decorate
        def find_user(email):
            calls.append(1)
            return None

        find_user("nobody@example.com"), find_user("nobody@example.com")
        return _computations(calls), len(calls) == 1

    def ttl(before):
        @decorate
        def headline(news_id):
            return f"news {news_id}"

        headline(7)
        ttls = [client.pttl(k) for k in _new_keys(client, before)]
        if not ttls:
            return "nothing stored", False
        forever = sum(t < 0 for t in ttls)
        return ("no TTL (PTTL -1)" if forever else f"expires in {min(ttls) / 1000:.0f} s"), forever == 0

    def collision(_):
        @decorate
        def count_parts(*parts):
            return len(parts)

        first, second = count_parts("a:b"), count_parts("a", "b")
        return f"{first}, {second}", (first, second) == (1, 2)

    def types(_):
        @decorate
        def type_of(value):
            return type(value).__name__

        first, second = type_of(1), type_of("1")
        return f"{first}, {second}", (first, second) == ("int", "str")

    def key_length(before):
        @decorate
        def word_count(text):
            return len(text.split())

        word_count("palavra " * 5_000)
        lengths = [len(k) for k in _new_keys(client, before)]
        longest = max(lengths, default=0)
        return f"key of {longest:,} bytes", 0 < longest <= 250

    def unpickle(before):
        @decorate
        def profile(user):
            return {"user": user, "plan": "free"}

        profile("ana")
        keys = _new_keys(client, before)
        if not keys:
            return "nothing stored", False
        for key in keys:  # what someone with write access to this Redis could do
            client.set(key, poisoned_pickle(f"unpickled from {key.decode() if isinstance(key, bytes) else key}"))
        ran = len(PAYLOAD_LOG)
        result = profile("ana")
        if len(PAYLOAD_LOG) > ran:
            return "the payload ran", False
        return ("ignored, recomputed" if result == {"user": "ana", "plan": "free"} else repr(result)), True

    run("keyword names ignored", "power(base=2, exp=3); power(exp=2, base=3)", "8, 9", kwargs_names)
    run("positional vs keyword vs default", "area(2, height=1); area(2, 1); area(2)", "1 computation",
        positional_defaults)  # fmt: skip
    run("falsy result not cached", "unread('ana') → 0, three times", "1 computation", falsy)
    run("None not cached", "find_user(...) → None, twice", "1 computation", none)
    run("no TTL", "headline(7)", "expires", ttl)
    run("':' collision", "count_parts('a:b'); count_parts('a', 'b')", "1, 2", collision)
    run("type collision", "type_of(1); type_of('1')", "int, str", types)
    run("unbounded key length", "word_count('palavra ' * 5000)", "key ≤ 250 bytes", key_length)
    run("unpickling a shared store", "overwrite the value with a pickle, call again", "no code runs", unpickle)
    return rows


def report_table(**decorators) -> object:
    """``flaw_report`` of several decorators side by side: a DataFrame, one row per flaw.

    ``report_table(naive=(naive_cache(r), r), scalecode=(redis_cache(...), r))``: each
    value is ``(decorate, client)``. Cells read "✓ <got>" or "✗ <got>".
    """
    import pandas as pd

    columns, index = {}, None
    for name, (decorate, client) in decorators.items():
        rows = flaw_report(decorate, client)
        index = [(r.flaw, r.example, r.expected) for r in rows]
        columns[name] = [("✓ " if r.ok else "✗ ") + r.got for r in rows]
    frame = pd.DataFrame(columns, index=pd.MultiIndex.from_tuples(index, names=["flaw", "example", "expected"]))
    return frame
