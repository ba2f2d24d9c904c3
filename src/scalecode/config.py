"""Workshop-wide parameters and paths.

Every simulated latency in the workshop is the talk's real latency multiplied by
``TIME_SCALE`` (environment variable ``SCALECODE_TIME_SCALE``, default 0.05), so that CI
and Binder finish in minutes while an instructor can set ``TIME_SCALE=1`` and show the
talks' real seconds. Paths are resolved from the repository checkout; set
``SCALECODE_HOME`` to point at another checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Default scale of simulated latencies: 1.0 reproduces the talks' real seconds.
DEFAULT_TIME_SCALE = 0.05

#: Prefix of every Redis key the workshop writes, so that it never touches other keys
#: on a shared, real Redis (it deletes by this prefix, never with FLUSHDB).
KEY_PREFIX = "scalecode:"


def time_scale() -> float:
    """Return the latency scale factor (dimensionless, > 0).

    Read from ``SCALECODE_TIME_SCALE``; raises ``ValueError`` with a clear message
    when it is not a positive number.
    """
    raw = os.environ.get("SCALECODE_TIME_SCALE", str(DEFAULT_TIME_SCALE))
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"SCALECODE_TIME_SCALE must be a number such as 0.05 or 1, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"SCALECODE_TIME_SCALE must be > 0, got {value}")
    return value


def repo_root() -> Path:
    """Return the workshop checkout: ``SCALECODE_HOME``, or the folder holding ``data/newsroom``.

    Searches upward from this package (editable install) and from the current directory.
    Raises ``FileNotFoundError`` naming ``SCALECODE_HOME`` when no checkout is found.
    """
    env = os.environ.get("SCALECODE_HOME")
    if env:
        return Path(env).resolve()
    starts = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / "data" / "newsroom").is_dir() and (folder / "pyproject.toml").exists():
                return folder
    raise FileNotFoundError(
        "cannot find the workshop checkout (a folder with data/newsroom and pyproject.toml); "
        "run from inside it or set SCALECODE_HOME=/path/to/checkout"
    )


def data_dir() -> Path:
    """The committed data sets (``data/``)."""
    return repo_root() / "data"


def build_dir() -> Path:
    """Generated files (``build/``, ignored by git): executed notebooks, results, SQLite file.

    ``SCALECODE_BUILD_DIR`` overrides it (tests use a temporary folder). Created on demand.
    """
    env = os.environ.get("SCALECODE_BUILD_DIR")
    path = Path(env).resolve() if env else repo_root() / "build"
    path.mkdir(parents=True, exist_ok=True)
    return path
