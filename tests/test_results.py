from __future__ import annotations

import json

import pytest

from scalecode import results


@pytest.mark.parametrize(
    ("value", "expect", "verdict"),
    [(12, ">= 10", "holds"), (9.9, ">= 10", "differs"), (0, "== 0", "holds"), (1, "== 0", "differs"),
     (55, "~ 50 ±20%", "holds"), (65, "~ 50 ±20%", "differs"), (3, "", "info"), (3, "< 4", "holds"),
     (float("nan"), ">= 1", "differs")],
)  # fmt: skip
def test_judge(value, expect, verdict):
    assert results.judge(value, expect) == verdict


def test_judge_rejects_a_relation_it_cannot_read():
    with pytest.raises(ValueError, match="cannot parse"):
        results.judge(1, "about ten")


def test_record_gather_and_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCALECODE_RESULTS_DIR", str(tmp_path / "r"))
    results.record("01.hit_speedup", 42.0, "×", what="speedup", talk="10×", expect=">= 10")
    results.record("01.hit_speedup", 43.0, "×", what="speedup", talk="10×", expect=">= 10")  # replaces
    results.record("01.queries_per_hit", 1, "queries", what="queries per hit", expect="== 0")
    assert "✓ recorded 01.hit_speedup: 42×" in capsys.readouterr().out
    path = results.gather(tmp_path / "results.json", context={"time_scale": 0.05})
    payload = json.loads(path.read_text())
    assert [f["key"] for f in payload["figures"]] == ["01.hit_speedup", "01.queries_per_hit"]
    assert payload["figures"][0]["value"] == 43.0 and payload["context"]["time_scale"] == 0.05
    table = results.table()
    assert table.loc["01.hit_speedup", "verdict"] == "✓ holds"
    assert table.loc["01.queries_per_hit", "verdict"] == "✗ differs"
    results.print_table()
    out = capsys.readouterr().out
    assert "figure" in out and "talk" in out and "here" in out and "verdict" in out


def test_record_rejects_bad_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALECODE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="key must look like"):
        results.record("speedup", 1, "×", what="x")


def test_empty_table_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCALECODE_RESULTS_DIR", str(tmp_path / "empty"))
    results.print_table()
    assert "make run" in capsys.readouterr().out
