"""``python -m scalecode doctor``: what is installed, which backend each need uses, and fixes.

Every line is ✓ (fine), ⚠ (works, with a fallback or a different version) or ✗ (broken),
followed by the exact command that fixes it. Exit code 1 when any line is ✗.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

OK, WARN, FAIL = "✓", "⚠", "✗"


@dataclass
class Finding:
    """One doctor line: ``status`` (✓ ⚠ ✗), ``topic``, ``detail`` and the ``fix`` command."""

    status: str
    topic: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status} {self.topic}: {self.detail}"
        return text + (f"\n    fix: {self.fix}" if self.fix and self.status != OK else "")


def _pins() -> dict[str, str]:
    """``{distribution: pinned version}`` from the installed ``scalecode`` metadata."""
    pins = {}
    for requirement in md.requires("scalecode") or []:
        if "extra ==" in requirement:
            continue
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)", requirement)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def check_python() -> Finding:
    version = platform.python_version()
    if sys.version_info >= (3, 11):
        return Finding(OK, "Python", f"{version} at {sys.executable}")
    return Finding(FAIL, "Python", f"{version} is too old (3.11+ needed)", "install Python 3.11 or newer")


def check_packages() -> Finding:
    try:
        pins = _pins()
    except md.PackageNotFoundError:
        return Finding(FAIL, "packages", "the scalecode package is not installed", "pip install -e .")
    missing, different = [], []
    for name, wanted in sorted(pins.items()):
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            missing.append(name)
            continue
        if have != wanted:
            different.append(f"{name} {have} (pinned {wanted})")
    if missing:
        return Finding(FAIL, "packages", f"missing: {', '.join(missing)}", "pip install -e '.[dev]'")
    if different:
        return Finding(WARN, "packages", "versions differ: " + "; ".join(different), "pip install -e '.[dev]'")
    return Finding(OK, "packages", f"{len(pins)} pinned packages installed at their versions")


def check_kernel() -> Finding:
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return Finding(FAIL, "Jupyter kernel", "no 'python3' kernel", "python -m ipykernel install --sys-prefix")
    except Exception as exc:
        return Finding(FAIL, "Jupyter kernel", f"cannot read kernel specs ({exc})", "pip install -e .")
    exe = spec.argv[0]
    # jupyter_client runs 'python' / 'python3' kernels with the Python that starts them
    if exe in {"python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"}:
        where = f"this Python ({sys.executable})"
    elif Path(exe).resolve() == Path(sys.executable).resolve():
        where = exe
    else:
        return Finding(
            WARN, "Jupyter kernel", f"'python3' runs {exe}, not this Python ({sys.executable})",
            f"{sys.executable} -m ipykernel install --user --name python3",
        )  # fmt: skip
    return Finding(OK, "Jupyter kernel", f"'python3' ({spec.display_name}) runs {where}")


def check_redis() -> list[Finding]:
    from .backends import redis_backend, redis_server_binary

    backend = redis_backend()
    if backend.problem:
        first = Finding(WARN, "Redis (in-process)", backend.detail + " — " + backend.problem,
                        "redis-server --port 6379 --save '' --daemonize yes   # or: unset REDIS_URL")  # fmt: skip
    elif backend.is_real:
        first = Finding(OK, "Redis (in-process)", backend.detail)
    else:
        first = Finding(
            OK, "Redis (in-process)", f"{backend.detail}; set REDIS_URL=redis://127.0.0.1:6379/0 for a real one"
        )
    binary = redis_server_binary()
    if backend.is_real:
        second = Finding(OK, "Redis (across processes)", f"the real Redis at {backend.url}")
    elif binary:
        second = Finding(OK, "Redis (across processes)", f"redis-server at {binary}, started on demand on 127.0.0.1")
    else:
        second = Finding(
            WARN,
            "Redis (across processes)",
            "no redis-server binary: the pure-Python fakeredis TCP server is used (slower)",
            "apt-get install redis-server  |  brew install redis  |  conda install -c conda-forge redis",
        )
    return [first, second]


def check_database() -> Finding:
    from .backends import database_backend

    backend = database_backend()
    if backend.problem:
        return Finding(WARN, "SQL database", backend.detail + " — " + backend.problem,
                       "pg_ctlcluster <version> main start   # or: unset DATABASE_URL")  # fmt: skip
    if backend.is_real:
        return Finding(OK, "SQL database", backend.detail)
    return Finding(
        OK, "SQL database", f"{backend.detail}; set DATABASE_URL=postgresql://user@host:5432/db for PostgreSQL"
    )


def check_data() -> Finding:
    from .config import data_dir

    try:
        folder = data_dir() / "newsroom"
    except FileNotFoundError as exc:
        return Finding(FAIL, "data set", str(exc), "cd into the workshop checkout, or set SCALECODE_HOME")
    names = ("categories", "authors", "readers", "news", "comments")
    missing = [n for n in names if not (folder / f"{n}.csv").exists()]
    if missing:
        return Finding(FAIL, "data set", f"missing {', '.join(missing)} in {folder}", "python data/make_data.py")
    return Finding(OK, "data set", f"newsroom CSV files in {folder}")


def check_locust() -> Finding:
    local = Path(sys.executable).with_name("locust")
    exe = str(local) if local.exists() else shutil.which("locust")
    if not exe:
        return Finding(FAIL, "load generator", "locust is not installed", "pip install -e .")
    return Finding(OK, "load generator", f"locust at {exe} (always run as a subprocess)")


def check_time_scale() -> Finding:
    from .config import time_scale

    try:
        scale = time_scale()
    except ValueError as exc:
        return Finding(FAIL, "TIME_SCALE", str(exc), "export SCALECODE_TIME_SCALE=0.05")
    return Finding(OK, "TIME_SCALE", f"{scale} (1.0 = the talks' real seconds; SCALECODE_TIME_SCALE)")


def run_checks() -> list[Finding]:
    """All findings, in order: Python, packages, kernel, Redis ×2, database, data, locust, scale."""
    findings = [check_python(), check_packages(), check_kernel()]
    findings += check_redis()
    findings += [check_database(), check_data(), check_locust(), check_time_scale()]
    return findings


def report(findings: list[Finding] | None = None) -> int:
    """Print the findings; return 1 when any is ✗, else 0."""
    findings = run_checks() if findings is None else findings
    for finding in findings:
        print(finding.line())
    failed = sum(f.status == FAIL for f in findings)
    warned = sum(f.status == WARN for f in findings)
    print(f"\n{len(findings) - failed - warned} ok, {warned} warning(s), {failed} problem(s)"
          + (" — fix the ✗ lines above" if failed else ""))  # fmt: skip
    return 1 if failed else 0


def main() -> int:
    print(f"scalecode doctor — {platform.platform()}, {os.cpu_count()} cores\n")
    return report()
