"""What the served apps and the code that loads them share: CPU work, readiness, CPU use.

- ``burn_cpu(ms)``: the "20 ms render" of the talks, as CPU *time*, run inside the servers;
- ``all_listening(processes)``: a readiness probe for a ``Service`` whose forked workers each
  print ``... listening on ...`` once they accept connections;
- ``CpuSampler``: how many cores a process tree really used while it was loaded;
- ``fork_workers(n)``: Tornado's pre-fork model, with workers that die with their parent.

This module imports only the standard library at the top (``psutil`` when sampling), so that
``python -m scalecode.webapps.hello`` and the other servers start quickly.

Source: "High Audience Python" (Guilherme Vierno, globo.com): ``render()  # 20ms``; Python docs,
``time.thread_time``; psutil docs, ``Process.cpu_times``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

__all__ = ["CpuSampler", "all_listening", "burn_cpu", "fork_workers"]


def burn_cpu(ms: float) -> int:
    """Burn ``ms`` milliseconds (>= 0) of this thread's CPU time; return the loop count.

    The loop watches ``time.thread_time()`` (CPU time of this thread), not the wall clock:
    when the machine is busy and the process waits for a core, the wall clock runs on but no
    work is done. A wall-clock burn would then "finish" early with less work, and several
    processes sharing fewer cores would look faster than they are.
    """
    end = time.thread_time() + ms / 1000
    loops = 0
    while time.thread_time() < end:
        loops += 1
    return loops


def all_listening(processes: int) -> Callable[[object], bool]:
    """A ``Service`` readiness probe: True once ``processes`` workers have logged ``" listening on "``."""

    def ready(service) -> bool:
        text = service.log_path.read_text(errors="replace") if service.log_path else ""
        return text.count(" listening on ") >= processes

    return ready


def fork_workers(processes: int) -> None:
    """Fork ``processes`` workers (``tornado.process.fork_processes``); returns in each worker.

    The parent stays behind, restarting a worker that crashes. Each worker asks Linux to send it
    SIGTERM when the parent dies (``PR_SET_PDEATHSIG``, which a fork does not inherit), so a
    parent killed without a chance to clean up leaves no orphan worker holding the port.
    """
    import ctypes
    import signal
    import sys

    import tornado.process

    parent = os.getpid()
    tornado.process.fork_processes(processes)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent:  # the parent died before we asked: nobody to serve for
        sys.exit(0)


class CpuSampler:
    """CPU cores used by a process tree during a block: ``with CpuSampler(pid) as cpu: ...; cpu.cores``.

    Every ``interval`` seconds a thread reads the user + system CPU seconds of ``pid`` and of
    each of its descendants (``psutil``) and adds up what each process spent since the last
    reading: a process that leaves the tree takes nothing with it, and one that joins it adds only
    the CPU it spent since it started. ``cores`` is the CPU seconds per second over the span where
    they grew (``nan`` if they never did). It cannot exceed the cores the processes may run on:
    well below ``min(processes, cores)`` on a CPU-bound load means other work took the cores.
    ``samples`` holds ``(monotonic seconds, cumulative CPU seconds of the tree)``.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self.cores = math.nan
        self._last: dict[tuple[int, float], float] = {}
        self._wall_at_last = float("inf")

    def _read(self) -> tuple[float, dict[tuple[int, float], float]]:
        """(monotonic seconds, CPU seconds of each process of the tree keyed by (pid, create time)).

        The tree is listed first (slow: it scans /proc), then the CPU times are read and stamped
        with the middle of that short read, so a busy process holding the GIL cannot skew the time.
        """
        import psutil

        try:
            root = psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return time.monotonic(), {}
        cpu = {}
        before = time.monotonic()
        for proc in tree:
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    cpu[(proc.pid, proc.create_time())] = times.user + times.system
            except psutil.Error:
                continue
        return (before + time.monotonic()) / 2, cpu

    def _sample(self) -> None:
        now, cpu = self._read()
        grown = 0.0
        for key, seconds in cpu.items():
            if key in self._last:
                grown += max(0.0, seconds - self._last[key])
            elif key[1] >= self._wall_at_last:  # born since the last reading: all its CPU is new
                grown += seconds
        self._last, self._wall_at_last = cpu, time.time() - 0.01  # create_time is wall clock, 10 ms slack
        total = self.samples[-1][1] + grown if self.samples else 0.0
        self.samples.append((now, total))

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._done = threading.Event()
        self.samples, self._last, self._wall_at_last = [], {}, float("inf")
        self._sample()
        self._thread = threading.Thread(target=self._run, name="scalecode-cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._sample()
        busy = [i for i in range(1, len(self.samples)) if self.samples[i][1] - self.samples[i - 1][1] > 0.005]
        if busy:
            (t0, c0), (t1, c1) = self.samples[busy[0] - 1], self.samples[busy[-1]]
            self.cores = (c1 - c0) / (t1 - t0) if t1 > t0 else math.nan
