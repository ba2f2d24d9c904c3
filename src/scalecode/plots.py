"""The figures notebooks share (matplotlib), so no notebook redefines a plotting helper."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def latency_histogram(samples: Mapping[str, Iterable[float]], *, title: str = "", ax=None):
    """Overlaid latency histograms in milliseconds on a log x-axis (samples in seconds)."""
    ax = ax or plt.subplots(figsize=(8, 3.5))[1]
    arrays = {name: np.asarray(list(v), dtype=float) * 1e3 for name, v in samples.items()}
    low = max(min(a.min() for a in arrays.values()), 1e-3)
    high = max(a.max() for a in arrays.values())
    bins = np.logspace(np.log10(low * 0.9), np.log10(high * 1.1), 60)
    for name, arr in arrays.items():
        ax.hist(arr, bins=bins, alpha=0.6, label=f"{name} (p50 {np.median(arr):.3g} ms)")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("requests")
    ax.set_title(title)
    ax.legend()
    return ax


def rolling_ratio(events: Sequence[bool], window: int = 50) -> np.ndarray:
    """Rolling mean of booleans (e.g. hits): the hit ratio over the last ``window`` requests."""
    arr = np.asarray(events, dtype=float)
    if arr.size == 0:
        return arr
    window = max(1, min(window, arr.size))
    cumulative = np.cumsum(np.insert(arr, 0, 0.0))
    out = np.empty(arr.size)
    for i in range(arr.size):
        lo = max(0, i + 1 - window)
        out[i] = (cumulative[i + 1] - cumulative[lo]) / (i + 1 - lo)
    return out


def hit_ratio_over_time(events: Sequence[bool], *, window: int = 50, title: str = "", ax=None):
    """Plot the rolling and the cumulative hit ratio against the request number."""
    ax = ax or plt.subplots(figsize=(8, 3.5))[1]
    arr = np.asarray(events, dtype=float)
    x = np.arange(1, arr.size + 1)
    ax.plot(x, rolling_ratio(events, window), label=f"last {window} requests")
    ax.plot(x, np.cumsum(arr) / x, label="since the start", linestyle="--")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("request number")
    ax.set_ylabel("hit ratio")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return ax
