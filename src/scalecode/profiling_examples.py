"""Functions that notebook 11 profiles; they live in a file because ``%mprun`` needs one.

``my_func`` is memory_profiler's classic example, shown in the talk "Não Escale
Servidores, Escale Código!" (Ervilis Viana de Souza): a list of 10**6 items (about
7.63 MiB), then one of 2 × 10**7 items (about 152.59 MiB) that is deleted again.

Run as a script, this file is the target of ``kernprof``: it line-profiles the related
news box of the slow newsroom view (``scalecode.newsroom.slow``), the function cProfile
points to. ``kernprof`` puts ``profile`` in the builtins; see ``profiling.kernprof``.
Run as ``python profiling_examples.py memory``, it runs ``my_func`` under memory_profiler in
a fresh process (``profiling.memory_lines_fresh``).
"""

from __future__ import annotations


def my_func() -> list[int]:
    """Allocate 10**6 pointers (kept) and 2 × 10**7 pointers (freed). Returns the small list."""
    a = [1] * (10**6)
    b = [2] * (2 * 10**7)
    del b
    return a


def _kernprof_main() -> None:  # pragma: no cover - runs under kernprof in a subprocess
    import builtins
    import os

    from scalecode.backends import setup_django

    setup_django()
    import scalecode.newsroom.slow as slow

    profile = builtins.__dict__["profile"]  # put there by kernprof -l
    slow.related_news = profile(slow.related_news)
    pages = int(os.environ.get("SCALECODE_KERNPROF_PAGES", "1"))
    for page in range(1, pages + 1):
        slow.render_related_page(page)


def _memory_main() -> None:  # pragma: no cover - runs in a fresh subprocess
    import json

    from scalecode.profiling import memory_lines

    _, report, table = memory_lines(my_func)
    print(report)
    print("JSON:" + json.dumps(table.to_dict(orient="records")))


if __name__ == "__main__":
    import sys

    _memory_main() if sys.argv[1:] == ["memory"] else _kernprof_main()
