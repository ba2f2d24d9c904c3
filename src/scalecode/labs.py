"""Generate ``labs/`` from ``solutions/``: the solved notebooks are the single source.

In a solution notebook, a code cell tagged ``solution`` holds an answer between two
marker lines::

    def cache_aside(client, key, ttl, compute):
        ### BEGIN SOLUTION
        value = client.get(key)
        ...
        ### END SOLUTION

The lab gets the same cell with the region replaced by ``# your code here`` and, inside
a function (an indented region), ``raise NotImplementedError``. A region at top level
must say what the lab starts with, in ``### STUB: <code>`` lines inside the region
(comments, so the solution ignores them)::

    ### BEGIN SOLUTION
    ### STUB: hit_ratio = None
    hit_ratio = stats.hit_ratio
    ### END SOLUTION

A ``solution`` cell without markers is replaced whole by ``# your code here``. Cells
tagged ``solution-only`` (e.g. a note about the answer) are dropped. Outputs and
execution counts are cleared. ``python -m scalecode labs`` writes ``labs/``;
``--check`` only reports whether ``labs/`` is up to date (exit 1 when not).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

BEGIN, END, STUB = "### BEGIN SOLUTION", "### END SOLUTION", "### STUB:"
LAB_BANNER = (
    "> **Lab notebook.** Fill in the cells marked `# your code here`, then run the check "
    "below each one. Generated from `solutions/{name}`: edit that file, not this one "
    "(`python -m scalecode labs`)."
)


class LabError(ValueError):
    """A solution notebook whose markers cannot be turned into a lab (says where)."""


def strip_region(source: str, where: str = "cell") -> str:
    """Return ``source`` with every BEGIN/END SOLUTION region replaced by its stub."""
    lines = source.splitlines()
    out: list[str] = []
    i = 0
    found = False
    while i < len(lines):
        line = lines[i]
        if line.strip() == BEGIN:
            found = True
            indent = line[: len(line) - len(line.lstrip())]
            stubs: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() != END:
                stripped = lines[i].strip()
                if stripped.startswith(STUB):
                    stubs.append(indent + stripped[len(STUB) :].strip())
                elif stripped.startswith(BEGIN):
                    raise LabError(f"{where}: nested {BEGIN}")
                i += 1
            if i == len(lines):
                raise LabError(f"{where}: {BEGIN} without {END}")
            out.append(f"{indent}# your code here")
            if stubs:
                out.extend(stubs)
            elif indent:
                out.append(f"{indent}raise NotImplementedError")
            else:
                raise LabError(f"{where}: a top-level solution region needs a '{STUB} <code>' line")
        elif line.strip() == END:
            raise LabError(f"{where}: {END} without {BEGIN}")
        else:
            out.append(line)
        i += 1
    if not found:
        return "# your code here\n"
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def make_lab(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The lab version of a solution notebook (a new notebook; the input is not changed)."""
    lab = copy.deepcopy(solution)
    cells = []
    for index, cell in enumerate(lab.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution-only" in tags:
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if "solution" in tags:
                cell.source = strip_region(cell.source, f"{name}, cell {index}")
                cell.metadata["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
        for key in ("execution", "papermill"):
            cell.metadata.pop(key, None)
        cells.append(cell)
    banner = nbformat.v4.new_markdown_cell(LAB_BANNER.format(name=name))
    banner.metadata["tags"] = ["lab-banner"]
    # keep ids stable so regeneration does not churn the files
    banner["id"] = "lab-banner"
    lab.cells = cells[:1] + [banner] + cells[1:]
    lab.metadata.pop("papermill", None)
    return lab


def lab_text(solution_path: Path) -> str:
    """The lab generated from ``solution_path``, as the exact text written to ``labs/``."""
    solution = nbformat.read(solution_path, as_version=4)
    lab = make_lab(solution, solution_path.name)
    return nbformat.writes(lab) + "\n"


def generate(root: Path, *, check_only: bool = False) -> list[str]:
    """Write (or, with ``check_only``, compare) every ``labs/X.ipynb`` from ``solutions/X.ipynb``.

    Returns the lab paths that were (or would be) changed, including stale labs with
    no solution. Raises ``LabError`` on broken markers.
    """
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    labs_dir = root / "labs"
    labs_dir.mkdir(exist_ok=True)
    changed = []
    for path in solutions:
        target = labs_dir / path.name
        text = lab_text(path)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changed.append(str(target.relative_to(root)))
            if not check_only:
                target.write_text(text, encoding="utf-8")
    names = {p.name for p in solutions}
    for stale in sorted(labs_dir.glob("*.ipynb")):
        if stale.name not in names:
            changed.append(str(stale.relative_to(root)))
            if not check_only:
                stale.unlink()
    return changed

