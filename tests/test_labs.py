"""The lab generator, and labs/ kept in step with solutions/."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from scalecode.labs import LabError, generate, make_lab, strip_region

ROOT = Path(__file__).resolve().parents[1]


def test_function_body_becomes_not_implemented():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\ncheck(f)"
    assert strip_region(source) == "def f(x):\n    # your code here\n    raise NotImplementedError\n\ncheck(f)"


def test_top_level_region_uses_its_stub_lines():
    source = "### BEGIN SOLUTION\n### STUB: ratio = None\nratio = 0.5\n### END SOLUTION\ncheck(ratio)"
    assert strip_region(source) == "# your code here\nratio = None\ncheck(ratio)"


@pytest.mark.parametrize(
    "source",
    ["### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
     "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"],
    ids=["unclosed", "unopened", "top-level-without-stub", "nested"],
)  # fmt: skip
def test_broken_markers_are_errors(source):
    with pytest.raises(LabError):
        strip_region(source)


def test_make_lab_strips_outputs_and_drops_solution_only_cells():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    answer.metadata["tags"] = ["solution"]
    answer.outputs = [nbformat.v4.new_output("stream", text="1")]
    note = nbformat.v4.new_markdown_cell("the answer is 1")
    note.metadata["tags"] = ["solution-only"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Lab"), answer, note]
    lab = make_lab(nb, "x.ipynb")
    assert [c.cell_type for c in lab.cells] == ["markdown", "markdown", "code"]
    assert "raise NotImplementedError" in lab.cells[2].source and lab.cells[2].outputs == []
    assert lab.cells[2].metadata["tags"] == ["exercise"]
    assert "return 1" in nb.cells[1].source  # the solution itself is untouched


def test_labs_are_up_to_date():
    changed = generate(ROOT, check_only=True)
    assert not changed, f"labs/ is out of date ({changed}): run python -m scalecode labs"


def test_every_solution_has_exercises_with_checks():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        answers = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert len(answers) >= 3, f"{path.name}: at least three exercises"
        for cell in answers:
            assert "check_" in cell.source, f"{path.name}: every exercise cell calls a check"
