"""Every notebook executes; every lab runs blank (all "not done yet") and solved (all "passed", strict)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from scalecode.runner import execute

ROOT = Path(__file__).resolve().parents[1]
MARKS = {"✅": "passed", "💡": "hint", "⏳": "not done yet"}
CHECK_LINE = re.compile(r"^(✅|💡|⏳) (Exercise [^—]+) — ", re.M)

pytestmark = pytest.mark.notebook


def _stdout(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    return "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if out.get("output_type") == "stream"
    )  # fmt: skip


def _check_lines(notebook: Path) -> list[tuple[str, str]]:
    return [(MARKS[m.group(1)], m.group(2).strip()) for m in CHECK_LINE.finditer(_stdout(notebook))]


def _check_calls(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(len(re.findall(r"^check_\w+\(", c.source, re.M)) for c in nb.cells if c.cell_type == "code")


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


# Modules whose notebooks use neither Redis nor the database (served apps, locust, arithmetic):
# the real-service pass (make test-real) has nothing to add there, so it leaves them to make test.
NO_BACKEND = ("07_", "08_")


def _skip_in_real_mode(path: Path, real_mode: bool) -> None:
    if real_mode and path.name.startswith(NO_BACKEND):
        pytest.skip("uses no Redis or database: covered by the embedded pass")


LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
LABS = sorted((ROOT / "labs").glob("*.ipynb"))


@pytest.mark.parametrize("path", LECTURES, ids=_ids(LECTURES))
def test_lecture_notebook_executes(path: Path, tmp_path: Path, real_mode: bool):
    _skip_in_real_mode(path, real_mode)
    outcome = execute(path, tmp_path / path.name)
    assert outcome.ok, f"{path.name}: {outcome.error}"
    text = _stdout(tmp_path / path.name)
    assert "Traceback" not in text


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_passes_every_check_in_strict_mode(path: Path, tmp_path: Path, real_mode: bool):
    _skip_in_real_mode(path, real_mode)
    outcome = execute(path, tmp_path / path.name, env={"SCALECODE_STRICT": "1"})
    assert outcome.ok, f"{path.name}: {outcome.error}"
    lines = _check_lines(tmp_path / path.name)
    assert len(lines) == _check_calls(path) >= 3
    assert all(status == "passed" for status, _ in lines), lines


@pytest.mark.parametrize("path", LABS, ids=_ids(LABS))
def test_blank_lab_runs_and_every_check_says_not_done_yet(path: Path, tmp_path: Path, real_mode: bool):
    _skip_in_real_mode(path, real_mode)
    outcome = execute(path, tmp_path / path.name)
    assert outcome.ok, f"{path.name}: {outcome.error}"
    lines = _check_lines(tmp_path / path.name)
    assert len(lines) == _check_calls(path) >= 3
    assert all(status == "not done yet" for status, _ in lines), lines
