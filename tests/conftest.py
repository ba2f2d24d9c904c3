"""Test configuration: embedded vs real backends, isolated build folders, leak checks.

- Embedded mode (default, ``make test``): ``REDIS_URL`` and ``DATABASE_URL`` are removed
  from the environment, so the suite uses fakeredis and SQLite even on a machine that
  runs Redis and PostgreSQL.
- Real mode (``make test-real``: ``SCALECODE_TEST_REAL=1`` with ``REDIS_URL`` and
  ``DATABASE_URL``): the same suite against the real servers; tests marked ``real``
  assert that the real backends are in use.
- Every test runs with its process tree checked afterwards: a helper process or a
  listening port that a test leaves behind fails it. On Linux each pytest process is a
  *child subreaper*, so a server that a notebook's kernel started and failed to stop is
  reparented to the test process instead of to init, and the check sees it too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = os.environ.get("SCALECODE_TEST_REAL", "") not in {"", "0"}

if REAL:
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
else:
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_URL", None)

os.environ["SCALECODE_HOME"] = str(ROOT)
os.environ.pop("SCALECODE_STRICT", None)
os.environ.setdefault("SCALECODE_TIME_SCALE", "0.05")


def _become_subreaper() -> None:
    """Linux: orphaned descendants (a notebook kernel's servers) are reparented to this process."""
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1)  # 36 == PR_SET_CHILD_SUBREAPER
        except OSError:
            pass


def _reap_zombies(processes: list[psutil.Process]) -> None:
    """Collect the exit status of dead orphans reparented to us (they would stay zombies)."""
    for proc in processes:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE and proc.ppid() == os.getpid():
                os.waitpid(proc.pid, os.WNOHANG)
        except (psutil.Error, ChildProcessError, OSError):
            continue


def pytest_configure(config: pytest.Config) -> None:
    _become_subreaper()
    # One build folder (and SQLite file) per xdist worker, so parallel tests and notebook
    # runs never share a database file or overwrite each other's results.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    base = Path(os.environ.get("SCALECODE_TEST_BUILD", ROOT / "build" / "test"))
    build = base / ("real" if REAL else "embedded") / worker
    build.mkdir(parents=True, exist_ok=True)
    os.environ["SCALECODE_BUILD_DIR"] = str(build)
    os.environ["SCALECODE_SQLITE_PATH"] = str(build / "newsroom.sqlite3")
    os.environ["SCALECODE_RESULTS_DIR"] = str(build / "results.d")
    if REAL and worker.startswith("gw"):
        # one Redis database per worker: tests empty the workshop's keys, and parallel
        # workers must not empty each other's (PostgreSQL tables are only read so far)
        from urllib.parse import urlsplit, urlunsplit

        url = urlsplit(os.environ["REDIS_URL"])
        base = int(url.path.strip("/") or 0)
        os.environ["REDIS_URL"] = urlunsplit(url._replace(path=f"/{base + 1 + int(worker[2:])}"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_real = pytest.mark.skip(reason="real-service test: run make test-real (SCALECODE_TEST_REAL=1)")
    for item in items:
        if "real" in item.keywords and not REAL:
            item.add_marker(skip_real)


@pytest.fixture(scope="session")
def real_mode() -> bool:
    return REAL


@pytest.fixture(scope="session")
def django_ready():
    """Django configured for the newsroom, migrated and loaded (once per worker)."""
    from scalecode.backends import setup_django

    return setup_django()


def _descendants() -> list[psutil.Process]:
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def _listening_ports(processes: list[psutil.Process]) -> set[tuple[int, int]]:
    ports = set()
    for proc in processes:
        try:
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    ports.add((proc.pid, conn.laddr.port))
        except psutil.Error:
            continue
    return ports


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest):
    """Fail a test that leaves a child process or a listening port behind."""
    me = psutil.Process()
    before_children = {p.pid for p in _descendants()}
    before_ports = _listening_ports([me])
    yield
    _reap_zombies(_descendants())
    deadline = time.monotonic() + 5
    leaked = []
    while time.monotonic() < deadline:
        leaked = [p for p in _descendants() if p.pid not in before_children and p.is_running()
                  and p.status() != psutil.STATUS_ZOMBIE]  # fmt: skip
        if not leaked:
            break
        time.sleep(0.1)
    ports = _listening_ports([me, *leaked]) - before_ports
    problems = []
    if leaked:
        names = []
        for proc in leaked:
            try:
                names.append(f"{proc.pid} {' '.join(proc.cmdline()[:4])}")
                proc.kill()  # clean up so one leak does not cascade into other tests
            except psutil.Error:
                names.append(str(proc.pid))
        problems.append("processes left running: " + "; ".join(names))
    if ports:
        problems.append("ports left listening: " + ", ".join(str(port) for _, port in sorted(ports)))
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
