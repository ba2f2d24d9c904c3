"""The talks' figures, measured here: ``record()`` in notebooks, one table at the end.

Each lecture notebook calls ``record(...)`` for every figure it reproduces. A record is
written at once to ``build/results.d/<key>.json`` (``SCALECODE_RESULTS_DIR`` overrides
the folder), so each notebook run replaces its own figures only. ``gather()`` joins
them into ``build/results.json`` and ``table()`` prints figure, talk, here, verdict.

A figure that depends on the machine is judged by an ``expect`` relation against a
ratio or a bound, never against the talk's absolute number: ``">= 10"``, ``"<= 0"``,
``"== 0"``, or ``"~ 50 ±40%"`` (within 40 % of 50). Without ``expect``, the verdict is
"info": shown for comparison, not judged.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from .config import build_dir

_RELATION = re.compile(r"^\s*(>=|<=|==|>|<|~)\s*(-?[\d.eE+-]+)\s*(?:±\s*([\d.]+)\s*%)?\s*$")


@dataclass
class Figure:
    """One measured figure. ``value`` is in ``unit``; ``talk`` is the talk's figure as text."""

    key: str
    what: str
    value: float
    unit: str
    talk: str = ""
    source: str = ""
    expect: str = ""
    note: str = ""
    verdict: str = "info"
    recorded_at: float = 0.0


def judge(value: float, expect: str) -> str:
    """``"holds"``, ``"differs"`` or ``"info"`` (no relation) for ``value`` against ``expect``.

    Raises ``ValueError`` for a relation that does not parse (see the module docstring).
    """
    if not expect:
        return "info"
    match = _RELATION.match(expect)
    if not match:
        raise ValueError(f"cannot parse expect={expect!r}; use '>= 10', '== 0' or '~ 50 ±20%'")
    op, number, tolerance = match.group(1), float(match.group(2)), match.group(3)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "differs"
    if op == "~":
        tol = abs(number) * float(tolerance or 10) / 100
        ok = abs(value - number) <= tol
    else:
        ok = {
            ">=": value >= number,
            "<=": value <= number,
            ">": value > number,
            "<": value < number,
            "==": value == number,
        }[op]
    return "holds" if ok else "differs"


def results_dir() -> Path:
    env = os.environ.get("SCALECODE_RESULTS_DIR")
    path = Path(env) if env else build_dir() / "results.d"
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(
    key: str,
    value: float,
    unit: str,
    *,
    what: str,
    talk: str = "",
    source: str = "",
    expect: str = "",
    note: str = "",
    quiet: bool = False,
) -> Figure:
    """Record one measured figure for the results table and print one line about it.

    ``key``: ``"<module>.<name>"`` such as ``"01.hit_speedup"``; ``value`` in ``unit``
    (``"ms"``, ``"×"``, ``"req/s"``, ``"queries"``, ...); ``what``: a short description;
    ``talk``: the talk's figure as text (``"10× (1 s → 0.1 s)"``); ``source``: talk
    title and speaker; ``expect``: the relation that should hold here. Returns the
    ``Figure``. Raises ``ValueError`` for a bad key or relation.
    """
    if not re.fullmatch(r"[0-9]{2}\.[a-z0-9_]+", key):
        raise ValueError(f"key must look like '01.hit_speedup', got {key!r}")
    figure = Figure(
        key=key, what=what, value=float(value), unit=unit, talk=talk, source=source,
        expect=expect, note=note, verdict=judge(float(value), expect), recorded_at=time.time(),
    )  # fmt: skip
    target = results_dir() / f"{key}.json"
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(figure), handle, ensure_ascii=False, indent=1)
    os.replace(tmp, target)  # atomic: a reader never sees half a file
    if not quiet:
        mark = {"holds": "✓", "differs": "✗", "info": "·"}[figure.verdict]
        talk_text = f" (talk: {talk})" if talk else ""
        rule = f" [expect {expect}]" if expect else ""
        print(f"{mark} recorded {key}: {format_value(figure.value, unit)}{talk_text}{rule}")
    return figure


def format_value(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text}{unit}" if unit in {"×", "%"} else f"{text} {unit}"


def load(folder: Path | None = None) -> list[Figure]:
    """Every recorded figure in ``folder`` (default ``results_dir()``), sorted by key."""
    folder = folder or results_dir()
    figures = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        figures.append(Figure(**data))
    return figures


def gather(output: Path | None = None, *, context: dict | None = None) -> Path:
    """Write ``build/results.json``: ``{"context": {...}, "figures": [...]}``; returns its path."""
    output = output or build_dir() / "results.json"
    payload = {"context": context or {}, "figures": [asdict(f) for f in load()]}
    output.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return output


def table(figures: list[Figure] | None = None) -> pd.DataFrame:
    """The results table as a DataFrame: figure, talk, here, expect, verdict (index: key)."""
    figures = load() if figures is None else figures
    rows = [
        {
            "key": f.key,
            "figure": _short(f.what, 60),
            "talk": _short(f.talk, 36) or "—",
            "here": format_value(f.value, f.unit),
            "expect": f.expect or "—",
            "verdict": {"holds": "✓ holds", "differs": "✗ differs", "info": "· info"}[f.verdict],
        }
        for f in figures
    ]
    frame = pd.DataFrame(rows, columns=["key", "figure", "talk", "here", "expect", "verdict"])
    return frame.set_index("key")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(figures: list[Figure] | None = None) -> None:
    """Print the results table (plain text, fits a terminal)."""
    frame = table(figures)
    if frame.empty:
        print("(no figures recorded yet: run the notebooks, e.g. make run)")
        return
    with pd.option_context("display.width", 250):
        print(frame.to_string())
    verdicts = frame["verdict"].value_counts()
    print(f"\n{verdicts.get('✓ holds', 0)} hold, {verdicts.get('✗ differs', 0)} differ, "
          f"{verdicts.get('· info', 0)} for information (full text: build/results.json)")
