"""The check framework: every exercise check prints exactly one line.

- ``⏳ not done yet``: the answer is still the stub (it raises ``NotImplementedError``,
  or is ``None`` / ``...``);
- ``💡 hint``: the answer runs but behaves wrongly; the line says what to look at;
- ``✅ passed``.

A check never shows a traceback for a wrong answer: an exception raised by the
learner's code becomes a hint naming it. With ``SCALECODE_STRICT=1`` (CI, on the
solutions) anything but "passed" raises ``CheckFailed``.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

PASSED, HINT, NOT_DONE = "passed", "hint", "not done yet"
_MARKS = {PASSED: "✅", HINT: "💡", NOT_DONE: "⏳"}


class Hint(Exception):
    """Raised inside a check to report a wrong answer with a one-line hint."""


class NotDone(Exception):
    """Raised inside a check when the exercise has not been attempted yet."""


class CheckFailed(AssertionError):
    """Strict mode only: a check did not pass."""


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def line(self) -> str:
        return f"{_MARKS[self.status]} {self.exercise} — {self.status}: {self.message}"

    def _repr_html_(self) -> None:  # printed already; keep notebooks from echoing it
        return None

    def __repr__(self) -> str:
        return f"CheckResult({self.status!r})"


def strict() -> bool:
    return os.environ.get("SCALECODE_STRICT", "") not in {"", "0", "false", "no"}


def is_stub(answer: object) -> bool:
    """True for the placeholders a lab starts with: ``None`` and ``...``."""
    return answer is None or answer is Ellipsis


def number(value: object, what: str) -> float:
    """``value`` as a float when it is a number (int, float, NumPy scalar), else a ``Hint`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            import numpy as np

            if isinstance(value, np.number):
                return float(value)
        except ImportError:  # pragma: no cover
            pass
        raise Hint(f"{what} should return a number, got {type(value).__name__}: {value!r:.60}")
    return float(value)


def close(a: float, b: float, rel: float = 0.01) -> bool:
    """True when ``a`` is within ``rel`` (a fraction) of ``b``; infinities only match themselves."""
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rel * max(abs(b), 1e-12)


def call(fn: Callable, *args, name: str | None = None, **kwargs):
    """Call the learner's ``fn``; turn its exceptions into ``NotDone`` or a ``Hint``."""
    label = name or getattr(fn, "__name__", "your code")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDone(f"{label} still raises NotImplementedError") from None
    except (Hint, NotDone):
        raise
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise Hint(f"{label} raised {type(exc).__name__}{': ' + text if text else ''}") from None


def check(exercise: str, todo: str) -> Callable:
    """Decorate a check function: ``exercise`` names it, ``todo`` says what is still to do.

    The decorated function raises ``NotDone``/``Hint`` or returns a short success text.
    Calling it prints one line and returns a ``CheckResult``.
    """

    def decorate(fn: Callable[..., str]) -> Callable[..., CheckResult]:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs) -> CheckResult:
            if any(is_stub(a) for a in args) or any(is_stub(v) for v in kwargs.values()):
                result = CheckResult(exercise, NOT_DONE, todo)
            else:
                try:
                    result = CheckResult(exercise, PASSED, fn(*args, **kwargs) or "well done")
                except NotDone as exc:
                    result = CheckResult(exercise, NOT_DONE, str(exc) or todo)
                except Hint as exc:
                    result = CheckResult(exercise, HINT, str(exc))
                except Exception as exc:  # a bug in the answer the check did not foresee
                    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    result = CheckResult(exercise, HINT, f"your answer raised {type(exc).__name__}: {text}")
            print(result.line(), flush=True)
            if strict() and not result.passed:
                raise CheckFailed(result.line())
            return result

        return wrapper

    return decorate
