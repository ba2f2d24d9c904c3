"""RQ workers as helper processes, and ``PaymentSystem``: Redis + gateway + workers in one ``with``.

Workers run ``rq worker`` in a subprocess through ``scalecode.services.Service`` (bounded
start, always stopped; ``.kill()`` sends SIGKILL to demonstrate a crash). They use
``PaymentWorker``, an RQ ``SimpleWorker`` (the job runs inside the worker process, so killing
the worker really interrupts the job: RQ's forking ``Worker`` runs the job in a "work horse"
in its own process group, which a SIGKILL to the worker's group would not reach) whose lease
on a running job is the job's timeout plus 1 s instead of RQ's default + 60 s.

What RQ guarantees when a worker dies mid-job (RQ 3.0, ``rq/registry.py``): the job stays
in the queue's ``StartedJobRegistry`` with an expiry (its last heartbeat + the lease). The
maintenance task of any live worker (every ``--maintenance-interval`` seconds) calls
``StartedJobRegistry.cleanup()``: each expired job still marked *started* is *abandoned*;
it is retried when it has retries left (``Retry``), otherwise moved to the
``FailedJobRegistry`` with an ``AbandonedJobError``. Nothing is silently lost, but a job
can run twice (at-least-once), so the job must be idempotent.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from ..backends import redis_server
from ..config import time_scale
from ..services import Service, ServiceError
from .gateway import Gateway, client_timeout, gateway_service, wait_healthy
from .jobs import payment_key

WORKER_CLASS = "scalecode.payments.worker.PaymentWorker"
#: Backoff between retries, in the talk's seconds (scaled; RQ wants whole seconds >= 1).
BACKOFF_TALK_S = (20, 40, 80, 160)


class PaymentWorker(SimpleWorker):
    """An RQ ``SimpleWorker`` whose lease on a running job is ``job_timeout + lease_grace_s``.

    RQ adds 60 s to the lease; here a job abandoned by a dead worker is cleaned up (retried
    or failed) a second after its timeout, so the workshop can show it within seconds.
    """

    lease_grace_s = 1

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if not job.timeout or job.timeout < 0:
            return super().get_heartbeat_ttl(job, working_time)
        return int(math.ceil(job.timeout)) + self.lease_grace_s


def backoff_intervals(scale: float | None = None) -> list[int]:
    """Seconds to wait before each retry: the talk's 20, 40, 80, 160 s × scale, at least 1 s each."""
    scale = time_scale() if scale is None else scale
    return [max(1, round(s * scale)) for s in BACKOFF_TALK_S]


def retry_policy(scale: float | None = None) -> Retry:
    """RQ's ``Retry``: up to 4 retries with growing waits (``backoff_intervals``)."""
    intervals = backoff_intervals(scale)
    return Retry(max=len(intervals), interval=intervals)


def job_timeout() -> int:
    """Seconds a payment job may run: the client's timeout + 1 s, whole seconds (RQ uses ``alarm``)."""
    return int(math.ceil(client_timeout())) + 1


def _worker_argv(url: str, queue_name: str, name: str, *, scheduler: bool, burst: bool) -> list[str]:
    argv = [
        sys.executable, "-m", "rq.cli", "worker", "--url", url, "--worker-class", WORKER_CLASS,
        "--name", name, "--worker-ttl", "16", "--maintenance-interval", "1", "--job-monitoring-interval", "1",
    ]  # fmt: skip
    if scheduler:
        argv.append("--with-scheduler")
    if burst:
        argv.append("--burst")
    return [*argv, queue_name]


def _registered(url: str, name: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.exists(f"rq:worker:{name}"))
    finally:
        client.close()


def worker_service(url: str, queue_name: str, *, name: str | None = None, scheduler: bool = True,
                   wait: bool = True) -> Service:  # fmt: skip
    """A long-running RQ worker on ``queue_name`` at the Redis ``url`` (use as a context manager).

    Ready once it has registered itself in Redis (``wait=False``: as soon as it runs; then
    call ``wait_registered``). ``scheduler``: also run RQ's scheduler, which re-enqueues jobs
    waiting for a retry with backoff (``Retry(interval=...)``).
    """
    name = name or f"scalecode-worker-{uuid.uuid4().hex[:8]}"
    argv = _worker_argv(url, queue_name, name, scheduler=scheduler, burst=False)
    ready = (lambda service: _registered(url, name)) if wait else (lambda service: True)
    service = Service(f"rq worker {name}", argv, listens=False, ready=ready, startup_timeout=30)
    service.worker_name = name
    return service


def wait_registered(url: str, services: list[Service], timeout: float = 30.0) -> None:
    """Wait until every worker in ``services`` has registered in Redis; ``ServiceError`` if one dies or is late."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        for service in list(pending):
            if not service.running():
                raise ServiceError(f"{service.name} exited while starting\n{service.log_tail()}")
            if _registered(url, service.worker_name):
                pending.remove(service)
        if pending and time.monotonic() > deadline:
            raise ServiceError(f"{pending[0].name} did not start within {timeout:.0f} s\n{pending[0].log_tail()}")
        time.sleep(0.05)


def run_burst(url: str, queue_name: str, timeout: float = 60.0) -> int:
    """Run one worker in burst mode: it works until ``queue_name`` is empty, then exits.

    Jobs waiting for a retry with backoff are not run (they are not due yet). Returns the
    exit code (0). Raises ``ServiceError`` with the worker's log if it fails or takes
    longer than ``timeout`` seconds.
    """
    name = f"scalecode-burst-{uuid.uuid4().hex[:8]}"
    argv = _worker_argv(url, queue_name, name, scheduler=False, burst=True)
    with Service(f"rq burst worker {name}", argv, listens=False, ready=lambda s: True) as service:
        try:
            code = service.process.wait(timeout)
        except Exception:
            message = f"the burst worker did not finish within {timeout:.0f} s\n{service.log_tail()}"
            raise ServiceError(message) from None
        if code != 0:
            raise ServiceError(f"the burst worker exited with code {code}\n{service.log_tail()}")
        return code


def job_ids(queue: Queue) -> set[str]:
    """Every job id the queue knows: queued, started, scheduled, deferred, finished, failed, canceled."""
    ids = set(queue.get_job_ids())
    for registry in (StartedJobRegistry, ScheduledJobRegistry, DeferredJobRegistry, FinishedJobRegistry,
                     FailedJobRegistry, CanceledJobRegistry):  # fmt: skip
        ids.update(registry(queue=queue).get_job_ids(cleanup=False))
    return ids


def delete_queue(queue: Queue) -> set[str]:
    """Remove a queue, its jobs and its registries from Redis (only that queue's keys).

    Returns the payment ids its ``process_payment`` jobs were about (to clean their records).
    """
    connection = queue.connection
    payments = set()
    for job_id in job_ids(queue):
        with contextlib.suppress(Exception):
            job = Job.fetch(job_id, connection=connection)
            if (job.func_name or "").endswith("process_payment") and len(job.args) > 1:
                payments.add(str(job.args[1]))
            job.delete()
    queue.delete(delete_jobs=True)
    keys = list(connection.scan_iter(match=f"rq:*{queue.name}*", count=500))
    if keys:
        connection.delete(*keys)
    return payments


class PaymentSystem:
    """Redis for other processes + the payment gateway + RQ workers, stopped together.

    ``with PaymentSystem(workers=2) as system:`` gives ``system.url`` (Redis),
    ``system.connection`` (redis-py), ``system.queue`` (an RQ ``Queue`` with a fresh name),
    ``system.gateway`` (a ``Gateway``) and ``system.workers`` (``Service`` objects). On exit
    it stops every worker and the gateway, deletes the queue's keys and its payments' records,
    and stops the Redis it started (a real ``REDIS_URL`` is kept, minus the workshop's keys).

    ``latency``: gateway seconds (default 29 s × TIME_SCALE); ``fail_rate``: 0..1;
    ``scheduler``: run RQ's scheduler in the first worker (needed by retries with backoff).
    """

    def __init__(self, workers: int = 1, *, latency: float | None = None, fail_rate: float = 0.0,
                 seed: int = 0, scheduler: bool = True) -> None:  # fmt: skip
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.n_workers = workers
        self.latency, self.fail_rate, self.seed, self.scheduler = latency, fail_rate, seed, scheduler
        self.workers: list[Service] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> PaymentSystem:
        try:
            endpoint = self._stack.enter_context(redis_server())
            self.url = endpoint.url
            self.redis_kind = endpoint.kind
            gateway = self._stack.enter_context(gateway_service(self.latency, self.fail_rate, self.seed, wait=False))
            self.gateway = Gateway(gateway.url, gateway)
            self.connection = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=30)
            self._stack.callback(self.connection.close)
            self.queue = Queue(f"scalecode-payments-{uuid.uuid4().hex[:8]}", connection=self.connection)
            self._stack.callback(self._clean)
            self.add_workers(self.n_workers, scheduler=self.scheduler)  # while the gateway starts
            wait_healthy(gateway)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop everything (safe to call twice); workers stop in parallel (each finishes its job)."""
        if self.workers:
            with ThreadPoolExecutor(len(self.workers)) as pool:
                list(pool.map(lambda service: service.stop(), self.workers))
        self._stack.close()

    def _clean(self) -> None:
        with contextlib.suppress(redis.RedisError):
            for payment_id in delete_queue(self.queue):  # other payment records expire after RECORD_TTL_S
                self.connection.delete(payment_key(payment_id), f"{payment_key(payment_id)}:attempts")

    def add_workers(self, n: int, *, scheduler: bool = False) -> list[Service]:
        """Start ``n`` more workers at once (the first runs the scheduler if ``scheduler``)."""
        services = [worker_service(self.url, self.queue.name, scheduler=scheduler and i == 0, wait=False)
                    for i in range(n)]  # fmt: skip
        for service in services:
            self._stack.callback(service.__exit__, None, None, None)
        for service in services:  # started from this thread (a child dies with the thread that forked it),
            service.start()       # all at once: their start-ups overlap
        wait_registered(self.url, services)
        self.workers.extend(services)
        return services

    def add_worker(self, *, scheduler: bool = False) -> Service:
        """Start one more worker and return its ``Service``."""
        return self.add_workers(1, scheduler=scheduler)[0]

    def burst(self, timeout: float = 60.0) -> int:
        """Run a burst worker until the queue is empty (see ``run_burst``)."""
        return run_burst(self.url, self.queue.name, timeout)

    def wait_until_idle(self, timeout: float = 60.0, poll: float = 0.05) -> None:
        """Wait until no job is queued, running or waiting for a retry. Raises ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue.count == 0 and not StartedJobRegistry(queue=self.queue).get_job_ids(cleanup=False) \
                    and ScheduledJobRegistry(queue=self.queue).count == 0:  # fmt: skip
                return
            time.sleep(poll)
        raise TimeoutError(f"queue {self.queue.name} still busy after {timeout:.0f} s")
