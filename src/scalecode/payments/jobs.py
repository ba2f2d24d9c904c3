"""What the worker runs: ``process_payment``, and the payment records it keeps in Redis.

A payment is a Redis hash ``scalecode:payments:<payment_id>`` with ``customer``,
``amount`` (cents), ``status`` (``queued`` → ``processing`` → ``paid``, or ``retrying`` /
``failed``), ``attempts``, ``charge_id`` and timestamps (``time.time()`` seconds, comparable
across processes on one machine), plus a list ``...:attempts`` with one JSON entry per
finished attempt. ``payment_status()`` is what the user's page polls to be notified.

``process_payment`` is safe to run more than once for the same payment (a retry after a
gateway error, a job re-run after its worker died, a double submission): it sends the
gateway an idempotency key derived from the payment id, so the gateway charges at most
once and answers the first result again. Errors propagate so that RQ's ``Retry`` policy
re-runs the job with backoff.

Sources: "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): queue, worker,
notify the user; RQ docs "Jobs" (``get_current_job``) and "Exceptions & Retries"; Stripe's
idempotent requests (the ``Idempotency-Key`` header).
"""

from __future__ import annotations

import json
import time
import uuid

import redis

from ..config import KEY_PREFIX
from .gateway import GatewayError, charge

PAYMENTS_PREFIX = f"{KEY_PREFIX}payments:"
RECORD_TTL_S = 3600
TERMINAL = ("paid", "failed")


def payment_key(payment_id: str) -> str:
    """The Redis key of a payment's record."""
    return f"{PAYMENTS_PREFIX}{payment_id}"


def idempotency_key(payment_id: str) -> str:
    """The key the gateway deduplicates on: one per payment, the same on every attempt."""
    return f"payment-{payment_id}"


def new_payment_id() -> str:
    """A fresh, unique payment id (a short hex string)."""
    return uuid.uuid4().hex[:12]


def create_payment(connection: redis.Redis, payment_id: str, customer: str, amount: int) -> None:
    """Write the record of a new payment (status ``queued``); the record expires after 1 h."""
    key = payment_key(payment_id)
    with connection.pipeline() as pipe:
        pipe.hset(key, mapping={"customer": customer, "amount": int(amount), "status": "queued",
                                "attempts": 0, "enqueued_at": time.time()})  # fmt: skip
        pipe.expire(key, RECORD_TTL_S)
        pipe.execute()


def payment_record(connection: redis.Redis, payment_id: str) -> dict:
    """The payment's record as a dict of str (empty dict for an unknown payment)."""
    raw = connection.hgetall(payment_key(payment_id))
    return {_text(k): _text(v) for k, v in raw.items()}


def payment_status(connection: redis.Redis, payment_id: str) -> str:
    """``queued``, ``processing``, ``retrying``, ``paid``, ``failed`` or ``unknown``: what the page shows."""
    status = connection.hget(payment_key(payment_id), "status")
    return _text(status) if status is not None else "unknown"


def payment_attempts(connection: redis.Redis, payment_id: str) -> list[dict]:
    """The finished attempts: dicts with ``start``, ``end`` (s), ``outcome``, ``worker``."""
    return [json.loads(_text(x)) for x in connection.lrange(f"{payment_key(payment_id)}:attempts", 0, -1)]


def wait_for_status(connection: redis.Redis, payment_id: str, status: str, timeout: float = 30.0) -> None:
    """Poll until the payment has ``status`` (e.g. ``processing``); ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while payment_status(connection, payment_id) != status:
        if time.monotonic() > deadline:
            now = payment_status(connection, payment_id)
            raise TimeoutError(f"payment {payment_id} is still {now!r}, not {status!r}, after {timeout:.0f} s")
        time.sleep(0.01)


def wait_for_payments(connection: redis.Redis, payment_ids, timeout: float = 30.0, poll: float = 0.05) -> dict:
    """Poll the statuses until every payment is ``paid`` or ``failed``, like the user's page does.

    Returns ``{payment_id: (status, seen_at)}`` where ``seen_at`` is when the poll first saw the
    final status (the moment the user is notified). Raises ``TimeoutError`` after ``timeout`` s.
    """
    pending = list(payment_ids)
    seen: dict[str, tuple[str, float]] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for payment_id in list(pending):
            status = payment_status(connection, payment_id)
            if status in TERMINAL:
                seen[payment_id] = (status, time.time())
                pending.remove(payment_id)
        if not pending:
            break
        if time.monotonic() > deadline:
            states = {p: payment_status(connection, p) for p in pending}
            raise TimeoutError(f"{len(pending)} payments not finished after {timeout:.0f} s: {states}")
        time.sleep(poll)
    return seen


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _current_job():
    from rq import get_current_job

    return get_current_job()


def process_payment(gateway_url: str, payment_id: str, customer: str, amount: int) -> dict:
    """The worker's job: charge the payment once at the gateway and record the outcome.

    Runs inside an RQ worker (it uses the worker's Redis connection). Returns the charge
    dict. On a gateway error it records the attempt and re-raises, so RQ retries the job
    with the backoff given at enqueue time (``Retry(max=..., interval=[...])``); on the last
    attempt the payment becomes ``failed``. Raises ``RuntimeError`` outside a worker.
    """
    job = _current_job()
    if job is None:
        raise RuntimeError("process_payment runs in an RQ worker: enqueue it with queue.enqueue(process_payment, ...)")
    connection = job.connection
    key = payment_key(payment_id)
    if payment_status(connection, payment_id) == "paid":  # a duplicate job after success: nothing to do
        return {"id": _text(connection.hget(key, "charge_id")), "payment_id": payment_id, "replayed": True}
    start = time.time()
    with connection.pipeline() as pipe:
        pipe.hset(key, mapping={"status": "processing", "started_at": start, "worker": job.worker_name or ""})
        pipe.hsetnx(key, "first_started_at", start)
        pipe.hincrby(key, "attempts", 1)
        pipe.execute()
    try:
        result = charge(gateway_url, payment_id, customer, int(amount), idempotency_key=idempotency_key(payment_id))
    except GatewayError as exc:
        last = not job.retries_left or not exc.retryable
        _finish_attempt(connection, key, start, type(exc).__name__, job.worker_name,
                        {"status": "failed" if last else "retrying", "error": str(exc)})  # fmt: skip
        raise
    _finish_attempt(connection, key, start, "paid", job.worker_name,
                    {"status": "paid", "charge_id": result["id"], "finished_at": time.time()})  # fmt: skip
    return result


def _finish_attempt(connection, key: str, start: float, outcome: str, worker: str | None, fields: dict) -> None:
    entry = json.dumps({"start": start, "end": time.time(), "outcome": outcome, "worker": worker or ""})
    if outcome != "paid" and payment_status(connection, key[len(PAYMENTS_PREFIX):]) == "paid":
        fields = {}  # another run of the same payment already succeeded: keep "paid"
    with connection.pipeline() as pipe:
        if fields:
            pipe.hset(key, mapping=fields)
        pipe.rpush(f"{key}:attempts", entry)
        pipe.expire(f"{key}:attempts", RECORD_TTL_S)
        pipe.execute()
