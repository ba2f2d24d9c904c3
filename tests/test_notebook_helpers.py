from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # tests only: notebooks keep the inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from scalecode import notebook, plots  # noqa: E402


def test_start_sets_and_validates_the_time_scale(monkeypatch, capsys):
    monkeypatch.setenv("SCALECODE_TIME_SCALE", "0.05")
    assert notebook.start(None) == 0.05
    assert notebook.start(1) == 1.0 and os.environ["SCALECODE_TIME_SCALE"] == "1.0"
    assert "TIME_SCALE = 1.0" in capsys.readouterr().out
    with pytest.raises(ValueError):
        notebook.start(0)


def test_show_source_returns_highlighted_code():
    code = notebook.show_source(plots.rolling_ratio)
    assert "def rolling_ratio" in code.data


def test_plots_draw_on_given_axes():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    ax = plots.latency_histogram({"miss": np.full(10, 0.1), "hit": np.full(10, 0.0001)}, ax=a)
    assert ax is a and len(ax.patches) > 0 and ax.get_xscale() == "log"
    ax = plots.hit_ratio_over_time([False, True, True, True], window=2, ax=b)
    assert len(ax.lines) == 2
    plt.close(fig)
