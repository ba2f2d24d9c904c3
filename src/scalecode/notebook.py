"""What every notebook's setup cell does, in one call, plus small display helpers."""

from __future__ import annotations

import inspect
import os

from .config import time_scale


def start(scale: float | None = None, *, quiet: bool = False) -> float:
    """Prepare a notebook: set ``TIME_SCALE`` (``None`` keeps the default), style the plots.

    Returns the time scale in use. Raises ``ValueError`` for a scale that is not > 0.
    Prints one line with the scale and the backends unless ``quiet``.
    """
    if scale is not None:
        if float(scale) <= 0:
            raise ValueError(f"TIME_SCALE must be > 0, got {scale}")
        os.environ["SCALECODE_TIME_SCALE"] = str(float(scale))
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
                         "axes.spines.top": False, "axes.spines.right": False})  # fmt: skip
    from .profiling import install_pager_hook

    install_pager_hook()  # %prun, %lprun, %mprun: print their reports in the cell (module 11)
    value = time_scale()
    if not quiet:
        from .backends import redis_backend

        print(f"TIME_SCALE = {value} (1.0 = the talks' real seconds) · Redis: {redis_backend().detail}")
    return value


def show_source(obj) -> object:
    """Display the source code of a function or class from ``scalecode`` (syntax-highlighted)."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")
