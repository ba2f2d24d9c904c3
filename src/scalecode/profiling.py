"""Profiling helpers for notebook 11: cProfile/pstats, line_profiler, memory_profiler, tracemalloc.

The method is the one of "High Audience Python" (Guilherme Vierno): make it work, find
the bottleneck, fix it, go to 2. cProfile says *which function* costs the time
(``profile_call`` + ``profile_table``), line_profiler says *which line* (``line_profile``,
``kernprof``), memory_profiler and tracemalloc say *where the memory goes*
(``memory_lines``, ``peak_increment_mib``, ``traced_mib``), as in "Não Escale Servidores,
Escale Código!" (Ervilis Viana de Souza).

Jupyter trap: ``%prun`` (IPython), ``%lprun`` (line_profiler 5.1) and ``%mprun``
(memory_profiler 0.61) all hand their report to ``IPython.core.page.page``, which calls
the shell's ``show_in_pager`` hook; ipykernel sets that hook (priority 99) to a *payload*
pager that JupyterLab shows in a side panel and papermill/nbclient throw away.
``install_pager_hook`` adds a hook that runs first and prints to stdout instead, so
the report lands in the cell's output. ``notebook.start()`` installs it.

Docs: https://docs.python.org/3/library/profile.html, https://docs.python.org/3/library/tracemalloc.html,
https://kernprof.readthedocs.io/, https://pypi.org/project/memory-profiler/.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import struct
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MIB = 2**20
#: Bytes of one pointer (one list slot) in this Python build: 8 on 64-bit.
POINTER_BYTES = struct.calcsize("P")

#: pstats sort keys accepted by ``profile_table`` (DataFrame column names) and their pstats names.
_SORT_KEYS = {"cumtime": "cumulative", "tottime": "tottime", "ncalls": "ncalls"}


# ----------------------------------------------------------------------------- cProfile / pstats
def profile_call(fn: Callable, *args, **kwargs) -> tuple[Any, pstats.Stats]:
    """Run ``fn(*args, **kwargs)`` under cProfile. Returns ``(result, pstats.Stats)``."""
    profiler = cProfile.Profile()
    try:
        result = profiler.runcall(fn, *args, **kwargs)
    finally:
        profiler.create_stats()
    return result, pstats.Stats(profiler)


def _label(func: tuple[str, int, str]) -> str:
    return func[2]  # built-ins: ('~', 0, "<built-in method builtins.sorted>")


def _where(func: tuple[str, int, str]) -> str:
    filename, line, _ = func
    if filename == "~":
        return "built-in"
    parts = Path(filename).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else filename
    return f"{short}:{line}"


def profile_table(stats: pstats.Stats, sort: str = "cumtime", limit: int | None = None) -> pd.DataFrame:
    """A pstats profile as a DataFrame, one row per function, sorted by ``sort`` (descending).

    Columns: ``function`` (name), ``where`` (``folder/file.py:line`` or ``built-in``),
    ``ncalls`` (all calls), ``primcalls`` (not recursive), ``tottime`` (s in the function
    itself), ``cumtime`` (s including what it calls), ``percall_ms`` (cumtime per call,
    ms), ``callers`` (names of the functions that called it). ``sort`` is ``cumtime``,
    ``tottime`` or ``ncalls``; raises ``ValueError`` otherwise.
    """
    import pandas as pd

    if sort not in _SORT_KEYS:
        raise ValueError(f"sort must be one of {sorted(_SORT_KEYS)}, got {sort!r}")
    rows = []
    for func, (primcalls, ncalls, tottime, cumtime, callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": _label(func),
                "where": _where(func),
                "ncalls": ncalls,
                "primcalls": primcalls,
                "tottime": tottime,
                "cumtime": cumtime,
                "percall_ms": cumtime / ncalls * 1e3 if ncalls else 0.0,
                "callers": sorted({_label(c) for c in callers}),
            }
        )
    table = pd.DataFrame(rows, columns=["function", "where", "ncalls", "primcalls", "tottime", "cumtime",
                                        "percall_ms", "callers"])  # fmt: skip
    table = table.sort_values(sort, ascending=False, kind="stable").reset_index(drop=True)
    return table.head(limit) if limit else table


def pstats_text(stats: pstats.Stats, sort: str = "cumtime", limit: int = 10, callers: bool = False) -> str:
    """pstats' own report (``print_stats``, or ``print_callers`` when ``callers``) as a str.

    ``sort`` as in ``profile_table``; ``limit`` = number of rows.
    """
    if sort not in _SORT_KEYS:
        raise ValueError(f"sort must be one of {sorted(_SORT_KEYS)}, got {sort!r}")
    buffer = io.StringIO()
    copy = pstats.Stats(stream=buffer)
    copy.add(stats)  # a copy: strip_dirs() below must not change the caller's stats
    copy.strip_dirs().sort_stats(_SORT_KEYS[sort])
    if callers:
        copy.print_callers(limit)
    else:
        copy.print_stats(limit)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- line_profiler
def line_profile(fn: Callable, *args, funcs: Iterable[Callable] = (), unit: float = 1e-3, **kwargs) -> tuple[Any, str]:
    """Run ``fn(*args, **kwargs)`` with line_profiler's ``LineProfiler`` on ``funcs`` (default: ``fn``).

    Returns ``(result, report)``: the report is line_profiler's text (``Line #``, ``Hits``,
    ``Time``, ``% Time`` per line), times in ``unit`` seconds (1e-3 = ms).
    """
    from line_profiler import LineProfiler

    profiler = LineProfiler()
    for func in list(funcs) or [fn]:
        profiler.add_function(func)
    result = profiler.runcall(fn, *args, **kwargs)
    buffer = io.StringIO()
    profiler.print_stats(stream=buffer, output_unit=unit, stripzeros=True)
    return result, buffer.getvalue()


def kernprof(script: str | os.PathLike | None = None, *, unit: float = 1e-3, timeout: float = 300,
             env: dict[str, str] | None = None) -> str:  # fmt: skip
    """Run ``kernprof -l`` on ``script`` in a subprocess, then read its ``.lprof`` with ``python -m line_profiler``.

    The default script is ``scalecode/profiling_examples.py`` (it line-profiles
    ``newsroom.slow.related_news``). Returns line_profiler's text report. Raises
    ``RuntimeError`` with the subprocess' stderr if either command fails, and
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds.
    """
    script = Path(script) if script else Path(__file__).with_name("profiling_examples.py")
    if not script.exists():
        raise FileNotFoundError(f"no such script: {script}")
    run_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="scalecode-kernprof-") as tmp:
        out = Path(tmp) / "profile.lprof"
        commands = [
            [sys.executable, "-m", "kernprof", "--no-config", "-l", "-q", "-o", str(out), str(script)],
            [sys.executable, "-m", "line_profiler", "--no-config", "-u", str(unit), "-z", str(out)],
        ]
        done = None
        for command in commands:
            done = subprocess.run(command, cwd=tmp, env=run_env, capture_output=True, text=True, timeout=timeout)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command[1:4])} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        return done.stdout


# ----------------------------------------------------------------------------- memory
def list_increment_mib(n: int) -> float:
    """Memory a list of ``n`` items adds, in MiB: one pointer per item (``POINTER_BYTES``), 2**20 B per MiB.

    The items themselves are not counted: ``[1] * n`` holds ``n`` pointers to the same
    small int. Raises ``ValueError`` for ``n < 0``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return n * POINTER_BYTES / MIB


def traced_mib(make: Callable[[], Any]) -> float:
    """MiB that ``make()``'s result keeps allocated, measured exactly with ``tracemalloc``.

    Counts Python allocations only (not RSS): for ``lambda: [1] * 10**6`` it is
    (56 + 8 × 10**6) / 2**20 = 7.63 MiB on 64-bit.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = make()
        after = tracemalloc.get_traced_memory()[0]
        del kept
    finally:
        if started:
            tracemalloc.stop()
    return (after - before) / MIB


def traced_peak_mib(fn: Callable, *args, **kwargs) -> float:
    """Peak extra MiB allocated while ``fn(*args, **kwargs)`` runs (``tracemalloc``: exact, every allocation)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if started:
            tracemalloc.stop()
    return (peak - before) / MIB


def memory_lines(fn: Callable, *args, **kwargs) -> tuple[Any, str, pd.DataFrame]:
    """Run ``fn`` under memory_profiler's line-by-line profiler (RSS after each line, psutil backend).

    ``fn`` must be defined in a file (not a notebook cell). Returns ``(result, report, table)``:
    the text that ``%mprun`` shows (``Line #``, ``Mem usage``, ``Increment``) and a DataFrame
    with columns ``line``, ``code``, ``mem_mib``, ``increment_mib``, ``occurrences``.
    """
    import linecache

    import pandas as pd
    from memory_profiler import LineProfiler, show_results

    profiler = LineProfiler(backend="psutil")
    result = profiler(fn)(*args, **kwargs)
    buffer = io.StringIO()
    show_results(profiler, stream=buffer)
    rows = []
    for filename, lines in profiler.code_map.items():
        source = linecache.getlines(filename)
        for lineno, measure in lines:
            if measure:
                increment, mem, occurrences = measure
                rows.append({"line": lineno, "code": source[lineno - 1].strip(), "mem_mib": mem,
                             "increment_mib": increment, "occurrences": occurrences})  # fmt: skip
    return result, buffer.getvalue(), pd.DataFrame(rows, columns=["line", "code", "mem_mib", "increment_mib",
                                                                  "occurrences"])  # fmt: skip


def memory_lines_fresh(timeout: float = 120) -> tuple[str, pd.DataFrame]:
    """``memory_lines(profiling_examples.my_func)`` in a fresh Python process: ``(report, table)``.

    A fresh process has not freed (and so cannot reuse) any memory yet, so each RSS
    increment is the whole allocation, as when the talk ran ``python -m memory_profiler``.
    Raises ``RuntimeError`` if the subprocess fails.
    """
    import json

    import pandas as pd

    script = Path(__file__).with_name("profiling_examples.py")
    done = subprocess.run([sys.executable, str(script), "memory"], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or "JSON:" not in done.stdout:
        raise RuntimeError(f"memory_profiler subprocess failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    report, _, data = done.stdout.rpartition("JSON:")
    return report.rstrip() + "\n", pd.DataFrame(json.loads(data))


def peak_increment_mib(fn: Callable, *args, interval: float = 0.001, **kwargs) -> tuple[float, float]:
    """What ``%memit -i interval`` reports: ``(peak_mib, increment_mib)`` of RSS while ``fn`` runs.

    memory_profiler samples RSS every ``interval`` seconds from a helper process; the
    default 0.1 s misses short peaks, hence 1 ms here.
    """
    from memory_profiler import memory_usage

    baseline = memory_usage(-1, interval=interval, timeout=interval * 5, max_usage=True)
    peak = memory_usage((fn, args, kwargs), interval=interval, max_usage=True, include_children=False)
    return float(peak), float(peak - baseline)


# ----------------------------------------------------------------------------- the pager hook
def _print_page(data, start: int = 0, screen_lines: int = 0, pager_cmd=None) -> None:
    text = data.get("text/plain", "") if isinstance(data, dict) else str(data)
    if start:
        text = "\n".join(text.splitlines()[start:])
    print(text, flush=True)


def _stdout_pager_hook(self, data, start: int = 0, screen_lines: int = 0, pager_cmd=None) -> None:
    _print_page(data, start)


def install_pager_hook(shell=None) -> bool:
    """Make IPython's pager print to stdout, so ``%prun``, ``%lprun`` and ``%mprun`` reports stay in the notebook.

    Adds a ``show_in_pager`` hook with priority 10 (before ipykernel's payload pager, 99)
    to ``shell`` (default: the running IPython). Returns ``False`` outside IPython, ``True``
    otherwise; installing twice does nothing more.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        shell = get_ipython()
    if shell is None:
        return False
    chain = getattr(getattr(shell.hooks, "show_in_pager", None), "chain", [])
    if any(getattr(getattr(f, "__func__", f), "__name__", "") == _stdout_pager_hook.__name__ for _, f in chain):
        return True
    shell.set_hook("show_in_pager", _stdout_pager_hook, priority=10)
    return True
