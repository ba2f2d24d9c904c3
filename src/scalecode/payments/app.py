"""The newsroom's "subscribe and pay" endpoint, synchronous and asynchronous, and a crowd of users.

The endpoint is a plain function measured in-process, served by a thread pool that plays
the web server's worker threads (``serve_users``): what we measure is what the user waits
for (the endpoint's own work, the wait for a free server thread, the gateway call), without
an HTTP framework's noise on top. Everything outside the endpoint is real: the gateway is an
HTTP service in another process, the queue is Redis, the worker is another process.

- ``subscribe_sync``: the app's own work (1 s × TIME_SCALE in the talk) then the gateway
  call (29 s × TIME_SCALE): the user waits for both, and the server thread is busy as long.
- ``subscribe_async``: the app's own work, a payment record, a job on the queue; it answers
  at once with the payment id, and the page polls ``payment_status`` until it is ``paid``.

Source: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): "don't keep the
user waiting for a request that uses external services": 30 s synchronous vs 1 s with a
queue, a worker, and a notification.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from rq import Queue

from ..config import time_scale
from .gateway import GatewayError, charge
from .jobs import (
    create_payment,
    idempotency_key,
    new_payment_id,
    payment_attempts,
    payment_record,
    process_payment,
    wait_for_payments,
)
from .worker import job_timeout, retry_policy

#: The app's own work per subscription (validate, create the subscription), talk seconds.
APP_WORK_TALK_S = 1.0
#: The price of a subscription, in cents.
PRICE_CENTS = 1990


def app_work() -> None:
    """The endpoint's own work: 1 s × TIME_SCALE of waiting (the talk's 30 s − 29 s)."""
    time.sleep(APP_WORK_TALK_S * time_scale())


def subscribe_sync(gateway_url: str, customer: str, amount: int = PRICE_CENTS) -> dict:
    """Subscribe and pay synchronously: returns only after the gateway answered.

    Returns ``{"payment_id", "status": "paid" | "failed", "charge_id", "error"}``: a gateway
    failure reaches the user as a failed subscription.
    """
    app_work()
    payment_id = new_payment_id()
    try:
        result = charge(gateway_url, payment_id, customer, amount, idempotency_key=idempotency_key(payment_id))
    except GatewayError as exc:
        return {"payment_id": payment_id, "status": "failed", "charge_id": None, "error": str(exc)}
    return {"payment_id": payment_id, "status": "paid", "charge_id": result["id"], "error": None}


def enqueue_payment(queue: Queue, gateway_url: str, payment_id: str, customer: str, amount: int = PRICE_CENTS,
                    *, timeout: int | None = None):  # fmt: skip
    """Put ``process_payment`` on the queue with the workshop's retry policy; returns the RQ ``Job``.

    ``Retry(max=4, interval=backoff_intervals())`` re-runs a failed payment with growing
    waits; ``timeout`` (whole seconds, default ``job_timeout()``) bounds one attempt, and
    with it the lease after a worker dies.
    """
    return queue.enqueue(
        process_payment, gateway_url, payment_id, customer, int(amount),
        retry=retry_policy(), job_timeout=timeout or job_timeout(), result_ttl=600, failure_ttl=600,
        description=f"payment {payment_id} of {customer}",
    )  # fmt: skip


def subscribe_async(queue: Queue, gateway_url: str, customer: str, amount: int = PRICE_CENTS) -> dict:
    """Subscribe and pay asynchronously: record the payment, enqueue it, answer at once.

    Returns ``{"payment_id", "status": "queued", "job_id"}``; the page then polls
    ``payment_status(queue.connection, payment_id)``.
    """
    app_work()
    payment_id = new_payment_id()
    create_payment(queue.connection, payment_id, customer, amount)
    job = enqueue_payment(queue, gateway_url, payment_id, customer, amount)
    return {"payment_id": payment_id, "status": "queued", "job_id": job.id}


def serve_users(endpoint: Callable[[str], dict], n_users: int, server_threads: int) -> pd.DataFrame:
    """``n_users`` call ``endpoint(customer)`` at the same moment on a server with ``server_threads`` threads.

    Returns one row per user: ``user``, ``arrived``, ``started`` (a thread picked the
    request up), ``answered`` (all ``time.time()`` seconds), ``latency_s`` (answered −
    arrived: what the user waits) and the endpoint's result columns.
    """
    if n_users < 1 or server_threads < 1:
        raise ValueError(f"n_users and server_threads must be >= 1, got {n_users}, {server_threads}")
    arrived = time.time()

    def handle(user: int) -> dict:
        started = time.time()
        result = endpoint(f"reader-{user:02d}")
        return {"user": user, "arrived": arrived, "started": started, "answered": time.time(), **result}

    with ThreadPoolExecutor(server_threads) as pool:
        rows = list(pool.map(handle, range(n_users)))
    table = pd.DataFrame(rows)
    table["latency_s"] = table["answered"] - table["arrived"]
    return table


def notify(connection, users: pd.DataFrame, timeout: float = 60.0) -> pd.DataFrame:
    """Poll the payments of ``users`` (from ``serve_users`` with ``subscribe_async``) until final.

    Adds ``final_status``, ``notified`` (when the poll saw it), ``enqueued_at``,
    ``worker_start``/``worker_end`` (the successful, or last, attempt), ``attempts`` and
    ``to_notified_s`` (notified − arrived). Raises ``TimeoutError`` after ``timeout`` s.
    """
    seen = wait_for_payments(connection, users["payment_id"], timeout=timeout)
    table = users.copy()
    table["final_status"] = [seen[p][0] for p in table["payment_id"]]
    table["notified"] = [seen[p][1] for p in table["payment_id"]]
    records = [payment_record(connection, p) for p in table["payment_id"]]
    table["enqueued_at"] = [float(r.get("enqueued_at", "nan")) for r in records]
    table["attempts"] = [int(r.get("attempts", 0)) for r in records]
    table["attempt_log"] = [payment_attempts(connection, p) for p in table["payment_id"]]
    table["worker_start"] = [log[-1]["start"] if log else float("nan") for log in table["attempt_log"]]
    table["worker_end"] = [log[-1]["end"] if log else float("nan") for log in table["attempt_log"]]
    table["to_notified_s"] = table["notified"] - table["arrived"]
    return table
