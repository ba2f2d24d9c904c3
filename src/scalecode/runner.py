"""The main job: execute every notebook with papermill, gather the figures, print the table.

``python -m scalecode run`` (``make run``) executes ``notebooks/*.ipynb`` and then
``solutions/*.ipynb`` (strict checks) into ``build/executed/``, each in its own folder
as working directory, with the ``python3`` kernel and a per-cell timeout; it then writes
``build/results.json`` and prints the results table. When a notebook fails it says
which notebook and which cell, goes on with the others, and exits 1 at the end.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .config import build_dir, repo_root, time_scale

KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 300


def _kernel_manager_class():
    """Kernels talk to papermill over Unix sockets in a temp folder: no TCP port is opened
    (nothing to leak or clash with) and ipykernel's plain-TCP warning does not clutter the run."""
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Unicode, default

    class IPCKernelManager(AsyncKernelManager):
        transport = Unicode("ipc")

        @default("ip")
        def _ip_default(self) -> str:
            return str(Path(tempfile.gettempdir()) / f"scalecode-kernel-{uuid.uuid4().hex[:12]}")

    return IPCKernelManager


@dataclass
class RunOutcome:
    notebook: str
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _failed_cell(output: Path) -> tuple[int, int | None, str] | None:
    """(index, execution count, first source line) of the cell papermill marked failed."""
    if not output.exists():
        return None
    notebook = nbformat.read(output, as_version=4)
    for index, cell in enumerate(notebook.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        has_error = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if status in {"failed", "running"} or has_error:
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
            return index, cell.get("execution_count"), first[:80]
    return None


def execute(
    notebook: Path,
    output: Path,
    *,
    parameters: dict | None = None,
    env: dict[str, str] | None = None,
    timeout: int = CELL_TIMEOUT_S,
) -> RunOutcome:
    """Execute ``notebook`` into ``output`` with papermill; never raises for notebook errors.

    ``parameters`` go to the cell tagged ``parameters``; ``env`` is set for the kernel.
    The kernel runs in the notebook's own folder. Returns a ``RunOutcome`` whose
    ``error`` names the failing cell and the exception, or ``None``.
    """
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    started = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters or {},
            kernel_name=KERNEL_NAME,
            cwd=str(notebook.parent),
            execution_timeout=timeout,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            kernel_manager_class=_kernel_manager_class(),
        )
        error = None
    except Exception as exc:  # PapermillExecutionError, CellTimeoutError, kernel death
        where = _failed_cell(output)
        cell = f"cell {where[0]} (In [{where[1] or ' '}]: {where[2]!r})" if where else "a cell"
        ename = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", str(exc)).strip().splitlines()
        error = f"{cell} raised {ename}: {evalue[0] if evalue else ''}"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return RunOutcome(str(notebook), time.perf_counter() - started, error)


def notebooks_to_run(root: Path, only: str | None = None) -> list[Path]:
    """Lecture notebooks, then solutions; ``only`` keeps paths containing that text (e.g. ``"01"``)."""
    paths = sorted((root / "notebooks").glob("*.ipynb")) + sorted((root / "solutions").glob("*.ipynb"))
    return [p for p in paths if only is None or only in p.name]


def run_all(only: str | None = None, parameters: dict | None = None) -> int:
    """Execute the notebooks, gather ``build/results.json``, print the table; exit code 0/1."""
    from . import results
    from .backends import describe

    root = repo_root()
    build = build_dir()
    results_dir = results.results_dir()
    if only is None:  # a full run starts from a clean table
        for stale in results_dir.glob("*.json"):
            stale.unlink()
    paths = notebooks_to_run(root, only)
    if not paths:
        print(f"no notebook matches {only!r}")
        return 1
    print(f"Executing {len(paths)} notebooks (TIME_SCALE={time_scale()}, kernel {KERNEL_NAME})")
    outcomes = []
    for path in paths:
        relative = path.relative_to(root)
        output = build / "executed" / relative
        env = {"SCALECODE_RESULTS_DIR": str(results_dir)}
        if relative.parts[0] == "solutions":
            env["SCALECODE_STRICT"] = "1"
        outcome = execute(path, output, parameters=parameters, env=env)
        outcomes.append(outcome)
        mark = "✓" if outcome.ok else "✗"
        print(f"  {mark} {relative}  {outcome.seconds:5.1f} s" + ("" if outcome.ok else f"\n      {outcome.error}"))
    context = {
        "time_scale": time_scale(),
        "backends": describe(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "notebooks": [{"path": str(Path(o.notebook).relative_to(root)), "seconds": round(o.seconds, 1),
                       "error": o.error} for o in outcomes],
    }  # fmt: skip
    path = results.gather(build / "results.json", context=context)
    print(f"\nResults ({path.relative_to(root) if path.is_relative_to(root) else path}):\n")
    results.print_table()
    failed = [o for o in outcomes if not o.ok]
    if failed:
        print(f"\n✗ {len(failed)} notebook(s) failed:")
        for o in failed:
            print(f"  {Path(o.notebook).relative_to(root)}: {o.error}")
        return 1
    total = sum(o.seconds for o in outcomes)
    print(f"\n✓ all {len(outcomes)} notebooks ran in {total:.0f} s; executed copies in {build / 'executed'}")
    return 0


def load_results(path: Path | None = None) -> dict:
    """Read ``build/results.json`` (for tests and reports)."""
    path = path or build_dir() / "results.json"
    return json.loads(path.read_text(encoding="utf-8"))
