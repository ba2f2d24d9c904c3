"""Helper processes (servers, workers) on free 127.0.0.1 ports, always stopped.

``Service`` is a context manager around one subprocess: it starts the command, waits
until it is ready (a TCP port accepts connections, or a custom probe succeeds) within a
bounded time, and on exit stops the whole process group (SIGTERM, then SIGKILL). It
also stops when the Python process that started it ends: an ``atexit`` hook for a
normal exit and, on Linux, ``PR_SET_PDEATHSIG`` for a killed kernel, so a restarted
notebook never leaves an orphan process or an open port behind.

Errors are ``ServiceError`` with a message that says what to do, including the last
lines of the process' log.

Start services from the thread that will outlive them (a notebook's or a test's main
thread): Linux delivers ``PR_SET_PDEATHSIG`` when the *thread* that started the child
exits, so a service started inside a short-lived worker thread is stopped with it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

LOCALHOST = "127.0.0.1"


class ServiceError(RuntimeError):
    """A helper process could not be started, did not become ready, or died."""


def free_port(host: str = LOCALHOST) -> int:
    """Return a TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_open(port: int, host: str = LOCALHOST, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM this child when the parent dies (no orphans after a kernel crash)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG


_RUNNING: weakref.WeakSet[Service] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for service in list(_RUNNING):
        service.stop()


class Service:
    """One helper process, started by ``with Service(...) as svc:`` and always stopped.

    Parameters
    ----------
    name: shown in messages ("payment gateway", "redis-server").
    argv: the command; the string ``{port}`` in any argument is replaced by ``port``.
    port: the TCP port it listens on, or ``None`` to pick a free one (``free_port``).
        A given port that is already in use raises ``ServiceError`` at once.
    ready: optional probe ``ready(service) -> bool``; by default, ready when the port
        accepts connections. Polled every 50 ms for up to ``startup_timeout`` seconds.
    listens: False for processes without a port (a queue worker); then ``ready`` or
        a short liveness wait decides readiness.
    env: extra environment variables (added to the current environment).
    cwd: working directory. ``startup_timeout`` / ``stop_timeout``: seconds.

    Attributes: ``port``, ``host``, ``url`` (``http://127.0.0.1:PORT`` unless a
    ``scheme`` is given), ``pid``, ``log_path``; ``log_tail(n)`` returns the last lines.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int | None = None,
        listens: bool = True,
        ready: Callable[[Service], bool] | None = None,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 5.0,
        scheme: str = "http",
    ) -> None:
        self.name = name
        self.host = LOCALHOST
        self.listens = listens
        if listens:
            if port is None:
                port = free_port()
            elif port_is_open(port):
                raise ServiceError(
                    f"cannot start {name}: port {port} on {LOCALHOST} is already in use; "
                    "stop what uses it or let the workshop pick a free port (port=None)"
                )
        self.port = port
        self.argv = [str(a).replace("{port}", str(port)) for a in argv]
        self._ready = ready
        self.env = {**os.environ, **(env or {})}
        self.cwd = str(cwd) if cwd else None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.scheme = scheme
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None
        self.log_path: Path | None = None
        self._lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> Service:
        """Start the process and wait until it is ready; raises ``ServiceError``."""
        if self.running():
            return self
        fd, path = tempfile.mkstemp(prefix=f"scalecode-{self.name.replace(' ', '-')}-", suffix=".log")
        self.log_path = Path(path)
        self._log = os.fdopen(fd, "wb")
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                preexec_fn=_die_with_parent if os.name == "posix" else None,
            )
        except FileNotFoundError as exc:
            self._close_log()
            raise ServiceError(f"cannot start {self.name}: {exc.filename} is not installed") from None
        _RUNNING.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with code {self.process.returncode} while starting.\n"
                    f"{self.log_tail()}"
                )
            try:
                if self._ready is not None:
                    if self._ready(self):
                        return
                elif self.listens:
                    if port_is_open(self.port):
                        return
                else:
                    time.sleep(0.2)
                    if self.process.poll() is None:
                        return
            except Exception:  # a probe that fails means "not ready yet"
                pass
            time.sleep(0.05)
        raise ServiceError(
            f"{self.name} did not become ready within {self.startup_timeout:.0f} s "
            f"(command: {' '.join(self.argv)}).\n{self.log_tail()}"
        )

    def stop(self) -> int | None:
        """Stop the process group: SIGTERM, then SIGKILL after ``stop_timeout`` s.

        Safe to call many times. Returns the exit code (``None`` if never started).
        """
        with self._lock:
            proc = self.process
            if proc is None:
                return None
            if proc.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    proc.wait(self.stop_timeout)
            # children the process may have left in its group
            self._signal_group(signal.SIGKILL)
            _RUNNING.discard(self)
            self._close_log()
            return proc.returncode

    def kill(self) -> None:
        """Kill the process at once with SIGKILL (to demonstrate a crash), then reap it."""
        if self.running():
            self._signal_group(signal.SIGKILL)
            self.process.wait(self.stop_timeout)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of the process' combined stdout/stderr."""
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        if self._log is not None:
            self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"  | {line}" for line in text) or "  | (empty log)"

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        where = f" on {self.host}:{self.port}" if self.listens else ""
        return f"<Service {self.name}{where} pid={self.pid} {state}>"
