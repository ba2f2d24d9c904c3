"""The main job's failure report names the notebook, the cell and the error."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from scalecode.runner import execute, notebooks_to_run

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("X = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_failure_names_the_cell_and_the_error(tmp_path: Path):
    source = _notebook(tmp_path / "broken.ipynb", "Y = X + 1", "1 / (Y - Y)", "print('never')")
    outcome = execute(source, tmp_path / "out" / "broken.ipynb", parameters={"X": 5})
    assert not outcome.ok
    assert "cell" in outcome.error and "1 / (Y - Y)" in outcome.error
    assert "ZeroDivisionError" in outcome.error


@pytest.mark.notebook
def test_parameters_and_cwd(tmp_path: Path):
    (tmp_path / "here.txt").write_text("found")
    source = _notebook(tmp_path / "ok.ipynb", "assert X == 7", "assert open('here.txt').read() == 'found'")
    outcome = execute(source, tmp_path / "out" / "ok.ipynb", parameters={"X": 7})
    assert outcome.ok, outcome.error


def test_notebooks_to_run_lists_lectures_then_solutions():
    paths = notebooks_to_run(ROOT)
    folders = [p.parent.name for p in paths]
    assert folders == sorted(folders, key=["notebooks", "solutions"].index)
    assert all(p.parent.name != "labs" for p in paths)
    assert [p.name for p in notebooks_to_run(ROOT, "01")] == ["01_cache_miss_vs_hit.ipynb"] * 2
