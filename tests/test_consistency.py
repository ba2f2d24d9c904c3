"""The repository's own rules: environment files agree, Binder is wired, notebooks are clean."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {
    "matplotlib": "matplotlib-base",
    "redis": "redis-py",
    "memory-profiler": "memory_profiler",
    "line-profiler": "line_profiler",
    "django": "django",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        requirements += extra
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)", requirement)
        assert match, f"pyproject.toml: {requirement!r} is not pinned with =="
        name = _normal(match.group(1))
        pins[_normal(CONDA_NAMES.get(name, name))] = match.group(2)
    return pins


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s*-\s+([A-Za-z0-9_.-]+)\s*==\s*(\S+)\s*$", line)
        if match:
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def test_environment_yml_matches_pyproject():
    pyproject, conda = _pyproject_pins(), _environment_pins()
    only_pip = sorted(set(pyproject) - set(conda))
    only_conda = sorted(set(conda) - set(pyproject))
    different = sorted(f"{n}: pyproject {pyproject[n]} vs environment.yml {conda[n]}"
                       for n in set(pyproject) & set(conda) if pyproject[n] != conda[n])  # fmt: skip
    assert not (only_pip or only_conda or different), (
        f"missing from environment.yml: {only_pip}; missing from pyproject.toml: {only_conda}; "
        f"versions differ: {different}"
    )


def test_environment_yml_uses_conda_forge_and_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert "conda-forge" in text
    assert re.search(r"^\s*-\s+python=3\.11\s*$", text, re.M)


def test_binder_environment_is_a_working_symlink():
    link = ROOT / "binder" / "environment.yml"
    assert link.is_symlink(), "binder/environment.yml must be a symlink to ../environment.yml"
    assert os.readlink(link) == "../environment.yml"
    assert link.resolve() == (ROOT / "environment.yml").resolve() and link.exists()


def test_binder_start_launches_redis_under_tmp_and_ends_with_exec():
    start = ROOT / "binder" / "start"
    assert os.access(start, os.X_OK), "binder/start must be executable"
    lines = [ln.strip() for ln in start.read_text().splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert lines[-1] == 'exec "$@"', 'binder/start must end with exec "$@"'
    text = start.read_text()
    assert "redis-server" in text and "/tmp" in text and "REDIS_URL" in text


def test_binder_apt_and_postbuild():
    assert "redis-server" in (ROOT / "binder" / "apt.txt").read_text().split()
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)


def _notebooks() -> list[Path]:
    return sorted(p for folder in ("notebooks", "solutions", "labs") for p in (ROOT / folder).glob("*.ipynb"))


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_committed_without_outputs(path: Path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(notebook["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run make strip"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_has_a_parameters_cell_and_sources(path: Path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    tagged = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    if path.parent.name == "notebooks":
        text = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
        for heading in ("Overview", "Prerequisites", "Time to learn", "Summary", "Sources"):
            assert heading in text, f"{path.name}: missing the {heading!r} part of the notebook skeleton"


def test_every_lab_has_a_solution_and_every_solution_a_lecture():
    solutions = {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    labs = {p.name for p in (ROOT / "labs").glob("*.ipynb")}
    lectures = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert labs == solutions
    assert solutions <= lectures


def test_readme_documents_the_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ("make test", "make test-real", "make run"):
        assert command in ci and command in readme
    assert "make lab" in readme
