"""Gantt charts of the payment flows: who waits, where, and for how long (matplotlib ``broken_barh``)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch

COLORS = {
    "waits for a server thread": "#bbbbbb",
    "request (user waits)": "tab:red",
    "in the queue / backoff": "tab:orange",
    "worker calls the gateway": "tab:blue",
    "failed attempt": "tab:purple",
}


def _bars(ax, y: float, spans: list[tuple[float, float]], color: str, height: float = 0.35) -> None:
    spans = [(s, max(d, 0.004)) for s, d in spans if not (math.isnan(s) or math.isnan(d))]
    if spans:
        ax.broken_barh(spans, (y - height / 2, height), facecolors=color)


def plot_sync(ax, users: pd.DataFrame, t0: float | None = None, title: str = "synchronous") -> None:
    """One row per user: waiting for a thread (grey), then the request (red) until the answer."""
    t0 = users["arrived"].min() if t0 is None else t0
    for i, row in enumerate(users.itertuples()):
        _bars(ax, i, [(row.arrived - t0, row.started - row.arrived)], COLORS["waits for a server thread"])
        _bars(ax, i, [(row.started - t0, row.answered - row.started)], COLORS["request (user waits)"])
    _style(ax, users, title)


def plot_async(ax, users: pd.DataFrame, t0: float | None = None, title: str = "asynchronous") -> None:
    """Per user: the short request (red, upper), then on a lower lane the queue wait (orange),
    the worker's attempts (blue; failed ones purple) and a ✓ when the page sees "paid"."""
    t0 = users["arrived"].min() if t0 is None else t0
    for i, row in enumerate(users.itertuples()):
        _bars(ax, i - 0.18, [(row.arrived - t0, row.started - row.arrived)], COLORS["waits for a server thread"], 0.3)
        _bars(ax, i - 0.18, [(row.started - t0, row.answered - row.started)], COLORS["request (user waits)"], 0.3)
        log = list(row.attempt_log) if isinstance(row.attempt_log, list) else []
        end = row.answered
        waits, ok, bad = [], [], []
        for attempt in log:
            waits.append((end - t0, attempt["start"] - end))
            span = (attempt["start"] - t0, attempt["end"] - attempt["start"])
            (ok if attempt["outcome"] == "paid" else bad).append(span)
            end = attempt["end"]
        _bars(ax, i + 0.18, waits, COLORS["in the queue / backoff"], 0.3)
        _bars(ax, i + 0.18, ok, COLORS["worker calls the gateway"], 0.3)
        _bars(ax, i + 0.18, bad, COLORS["failed attempt"], 0.3)
        if not math.isnan(row.notified):
            ax.plot(row.notified - t0, i + 0.18, marker="$✓$", color="tab:green", markersize=9)
    _style(ax, users, title)


def _style(ax, users: pd.DataFrame, title: str) -> None:
    ax.set_yticks(range(len(users)))
    ax.set_yticklabels([f"user {u}" for u in users["user"]])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the users clicked 'subscribe'")
    ax.set_title(title)


def add_legend(ax, kinds=None, loc: str = "lower right") -> None:
    """A legend of the bar colours (``kinds``: a subset of ``COLORS``' names; default all)."""
    kinds = list(COLORS) if kinds is None else kinds
    ax.legend(handles=[Patch(color=COLORS[k], label=k) for k in kinds], loc=loc, fontsize=8, framealpha=0.9)


def sync_vs_async(sync_users: pd.DataFrame, async_users: pd.DataFrame, suptitle: str = ""):
    """Two Gantt charts on one time axis: the synchronous flow above, the asynchronous below."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 1.2 + 0.55 * (len(sync_users) + len(async_users))),
                                      sharex=True)  # fmt: skip
    plot_sync(top, sync_users, title="synchronous: the user waits for the gateway")
    plot_async(bottom, async_users, title="asynchronous: queue + worker, the page is notified (✓)")
    add_legend(top)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
