"""A server with a fixed number of workers, a bounded queue and a timeout: how "Bad Gateway" happens.

It behaves like a classic deployment, *K synchronous workers behind a reverse proxy*
(gunicorn ``--workers K`` behind nginx), squeezed into one process you can count:

- **K workers**: at most ``--workers`` requests are served at once; each takes
  ``--service-ms`` milliseconds (an ``asyncio.sleep``: an I/O-bound handler, so the curve is
  shaped by the workers, not by this machine's CPU). With ``--cpu`` each request burns that
  much CPU time instead and each *process* is one worker (``--processes P``, forked, sharing
  the port with ``SO_REUSEPORT``): the case where 2 cores stop more processes from helping.
- **one FIFO queue** in front of them, like the listen backlog a proxy forwards into. A request
  that finds ``--queue-limit`` requests already waiting is answered **502 Bad Gateway** at once
  (nginx says so when the upstream refuses); one that waits more than ``--timeout-s`` seconds
  for a worker is answered **504 Gateway Timeout** and never reaches a worker (nginx's
  ``proxy_read_timeout``).
- **counters**: ``GET /stats`` returns ``arrived, served, timeouts (504), rejected (502),
  in_service, max_in_service, waiting, max_waiting`` as JSON (per process), ``POST /reset`` zeroes
  them. ``max_in_service`` never exceeds K: the workers limit is a count you can check.

Why not gunicorn itself? Its ``--timeout`` restarts a *worker* that has been silent too long;
it does not time out requests waiting in the backlog. The 502/504 a user sees come from the
proxy in front, so we would need nginx too. This app keeps both halves in one process, with
exact counters and a clean stop, and its ``--cpu --processes`` mode is the same pre-fork model.

Run it: ``python -m scalecode.webapps.overload --port 8000 --workers 4 --service-ms 50 --timeout-s 1``.
Sources: Ervilis Viana de Souza, "Não Escale Servidores, Escale Código!" (0.1 s → 2 s → 4 s →
Bad Gateway); nginx docs, ``proxy_read_timeout`` and 502/504; gunicorn docs, settings
``workers``, ``timeout``, ``backlog``; Tornado docs, "Running and deploying".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import time

import tornado.httpserver
import tornado.netutil
import tornado.web

from .serving import burn_cpu, fork_workers

DEFAULT_WORKERS = 4
DEFAULT_SERVICE_MS = 50.0
DEFAULT_TIMEOUT_S = 1.0


class Gate:
    """``workers`` slots and a FIFO queue of requests waiting for one, with counters.

    ``await gate.acquire(timeout_s)`` returns True with a slot, False when the wait exceeded
    ``timeout_s`` (the request then holds no slot); ``release()`` hands the slot to the oldest
    waiter. One event loop: no lock needed.
    """

    def __init__(self, workers: int, queue_limit: int | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if queue_limit is not None and queue_limit < 0:
            raise ValueError(f"queue_limit must be >= 0 or None, got {queue_limit}")
        self.workers, self.queue_limit = workers, queue_limit
        self._free = workers
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self.reset()

    def reset(self) -> None:
        self.arrived = self.served = self.timeouts = self.rejected = 0
        self.max_in_service = self.in_service
        self.max_waiting = self.waiting

    @property
    def in_service(self) -> int:
        return self.workers - self._free

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiters if not f.done())

    def full(self) -> bool:
        """True when a new request would find the queue at its limit (and no free worker)."""
        return self.queue_limit is not None and self._free == 0 and self.waiting >= self.queue_limit

    async def acquire(self, timeout_s: float) -> bool:
        if self._free > 0 and not self.waiting:
            self._free -= 1
        else:
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            self._waiters.append(future)
            self.max_waiting = max(self.max_waiting, self.waiting)
            expire = loop.call_later(timeout_s, lambda: future.done() or future.set_result(False))
            try:
                got = await future
            finally:
                expire.cancel()
            if not got:
                return False
        self.max_in_service = max(self.max_in_service, self.in_service)
        return True

    def release(self) -> None:
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(True)  # the slot passes straight to the oldest waiter
                return
        self._free += 1

    def as_dict(self) -> dict[str, int]:
        return {"arrived": self.arrived, "served": self.served, "timeouts": self.timeouts,
                "rejected": self.rejected, "in_service": self.in_service, "max_in_service": self.max_in_service,
                "waiting": self.waiting, "max_waiting": self.max_waiting, "workers": self.workers,
                "pid": os.getpid()}  # fmt: skip


class WorkHandler(tornado.web.RequestHandler):
    """``GET /``: queue for a worker (502 if the queue is full, 504 after the timeout), then work."""

    async def get(self) -> None:
        gate: Gate = self.settings["gate"]
        gate.arrived += 1
        arrived = time.perf_counter()
        if gate.full():
            gate.rejected += 1
            self.set_status(502)
            self.finish(f"Bad Gateway: {gate.waiting} requests already waiting for {gate.workers} workers\n")
            return
        if not await gate.acquire(self.settings["timeout_s"]):
            gate.timeouts += 1
            self.set_status(504)
            self.finish(f"Gateway Timeout: no worker free within {self.settings['timeout_s']:g} s\n")
            return
        waited = time.perf_counter() - arrived
        try:
            if self.settings["cpu"]:
                burn_cpu(self.settings["service_ms"])  # blocks this process: one request at a time
            else:
                await asyncio.sleep(self.settings["service_ms"] / 1000)
        finally:
            gate.release()
        gate.served += 1
        self.set_header("X-Queue-Wait-Ms", f"{waited * 1000:.1f}")
        self.finish("ok\n")


class StatsHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.settings["gate"].as_dict()))


class ResetHandler(tornado.web.RequestHandler):
    def post(self) -> None:
        self.settings["gate"].reset()
        self.finish("ok\n")


def make_app(*, workers: int = DEFAULT_WORKERS, service_ms: float = DEFAULT_SERVICE_MS,
             timeout_s: float = DEFAULT_TIMEOUT_S, queue_limit: int | None = None,
             cpu: bool = False) -> tornado.web.Application:  # fmt: skip
    """The app: ``GET /`` (the work), ``GET /stats``, ``POST /reset``.

    ``workers`` >= 1 slots (forced to 1 with ``cpu``: a CPU burn blocks the process),
    ``service_ms`` >= 0 per request, ``timeout_s`` > 0 of queue wait before a 504,
    ``queue_limit`` waiting requests before a 502 (``None``: unbounded). Raises ``ValueError``.
    """
    if service_ms < 0:
        raise ValueError(f"service_ms must be >= 0, got {service_ms}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    gate = Gate(1 if cpu else workers, queue_limit)
    return tornado.web.Application(
        [(r"/", WorkHandler), (r"/stats", StatsHandler), (r"/reset", ResetHandler)],
        gate=gate, service_ms=float(service_ms), timeout_s=float(timeout_s), cpu=cpu,
    )  # fmt: skip


async def _serve(port: int, options: dict) -> None:
    app = make_app(**options)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(tornado.netutil.bind_sockets(port, "127.0.0.1", reuse_port=True, backlog=2048))
    gate = app.settings["gate"]
    print(f"worker {os.getpid()} listening on 127.0.0.1:{port} ({gate.workers} workers, "
          f"{options['service_ms']:g} ms {'CPU' if options['cpu'] else 'sleep'}, timeout {options['timeout_s']:g} s, "
          f"queue limit {options['queue_limit']})", flush=True)  # fmt: skip
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="K workers, a FIFO queue, 502 when full, 504 after a timeout.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="requests served at once (sleep mode)")
    parser.add_argument("--service-ms", type=float, default=DEFAULT_SERVICE_MS, help="milliseconds per request")
    parser.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S, help="queue wait before a 504")
    parser.add_argument("--queue-limit", type=int, default=None, help="waiting requests before a 502")
    parser.add_argument("--cpu", action="store_true", help="burn CPU time instead of sleeping (1 worker per process)")
    parser.add_argument("--processes", type=int, default=1, help="forked processes sharing the port")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.processes < 1:
        parser.error("--workers and --processes must be >= 1")
    if args.service_ms < 0 or args.timeout_s <= 0:
        parser.error("--service-ms must be >= 0 and --timeout-s > 0")
    if args.queue_limit is not None and args.queue_limit < 0:
        parser.error("--queue-limit must be >= 0")
    options = {"workers": args.workers, "service_ms": args.service_ms, "timeout_s": args.timeout_s,
               "queue_limit": args.queue_limit, "cpu": args.cpu}  # fmt: skip
    if args.processes > 1:
        fork_workers(args.processes)  # each child binds its own SO_REUSEPORT socket
    asyncio.run(_serve(args.port, options))


if __name__ == "__main__":
    main()
