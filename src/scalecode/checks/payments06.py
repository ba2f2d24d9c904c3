"""Checks of lab 06 (sync vs async): answer within a budget, an idempotent payment, retries with backoff.

Each check starts its own Redis (for other processes), payment gateway and, when needed, an
RQ worker, and stops them before returning. They judge behaviour: how long ``subscribe``
kept the user, what is on the queue, the payment's status, and the gateway's own ledger of
charges (one per payment, never two). Timing budgets are a fraction of the gateway's
latency, generous enough for a busy laptop.
"""

from __future__ import annotations

import time

from .core import Hint, NotDone, call, check

#: ``subscribe`` must answer within this fraction of the gateway's latency.
BUDGET_FRACTION = 0.25


def _charge_id(result: object) -> str | None:
    if isinstance(result, dict):
        return result.get("id")
    if isinstance(result, str) and result.startswith("ch_"):
        return result
    return None


def _queued_job(queue):
    from rq.job import Job

    ids = queue.get_job_ids()
    return Job.fetch(ids[-1], connection=queue.connection) if ids else None


def _importable(job) -> None:
    name = job.func_name or ""
    if name.startswith("__main__") or "<locals>" in name or "<lambda>" in name:
        raise Hint(f"the job runs {name!r}, which a worker process cannot import: enqueue "
                   "scalecode.payments.jobs.process_payment")  # fmt: skip


@check("Exercise 1: answer at once, pay in the background", "write subscribe(queue, gateway_url, customer)")
def check_subscribe(subscribe) -> str:
    """``subscribe`` answers within 25 % of the gateway latency, leaves a job, and a burst worker pays it."""
    from ..payments.gateway import default_latency
    from ..payments.jobs import payment_status
    from ..payments.worker import PaymentSystem

    latency = max(default_latency(), 1.0)
    budget = BUDGET_FRACTION * latency
    with PaymentSystem(workers=0, latency=latency) as system:
        start = time.perf_counter()
        payment_id = call(subscribe, system.queue, system.gateway.url, "reader-01", name="subscribe")
        elapsed = time.perf_counter() - start
        if payment_id is None:
            raise NotDone("subscribe returns None: return the payment id")
        charged = system.gateway.charges()
        if charged or elapsed >= 0.8 * latency:
            raise Hint(f"subscribe kept the user {elapsed:.2f} s, as long as the gateway ({latency:.2f} s): "
                       "enqueue process_payment instead of calling the gateway")  # fmt: skip
        if elapsed > budget:
            raise Hint(f"subscribe took {elapsed:.2f} s, over the budget of {budget:.2f} s: only record and enqueue")
        job = _queued_job(system.queue)
        if job is None:
            raise Hint("nothing is on the queue: queue.enqueue(process_payment, gateway_url, payment_id, customer, "
                       "amount)")  # fmt: skip
        _importable(job)
        if payment_status(system.connection, str(payment_id)) == "unknown":
            raise Hint("the page cannot show 'queued': record the payment with create_payment(queue.connection, "
                       "payment_id, customer, amount) and return its payment_id")  # fmt: skip
        system.burst()
        status = payment_status(system.connection, str(payment_id))
        if status != "paid":
            job.refresh()
            raise Hint(f"after the worker ran, the payment is {status!r} (job {job.get_status()}): pass "
                       "gateway_url, payment_id, customer and amount to process_payment, in that order")  # fmt: skip
        per_payment = system.gateway.charges_per_payment()
        if per_payment.get(str(payment_id)) != 1:
            raise Hint(f"the gateway charged {dict(per_payment)}: charge the payment id you returned, once")
    return f"answered in {elapsed * 1e3:.0f} ms (the gateway takes {latency:.2f} s); the worker paid it"


@check("Exercise 2: charge once, whatever happens", "write pay_once(gateway_url, payment_id, customer, amount)")
def check_pay_once(pay_once) -> str:
    """Runs ``pay_once`` as a worker would: after a lost reply (a retry), twice for one payment, for two payments."""
    from ..payments.gateway import GatewayError, start_gateway

    with start_gateway(latency=0.1) as gateway:
        # 1. the gateway charges, but the answer is lost; the worker retries
        gateway.inject(drop=1)
        first = None
        try:
            first = pay_once(gateway.url, "p-retry", "reader-01", 1990)
        except NotImplementedError:
            raise NotDone("pay_once still raises NotImplementedError") from None
        except GatewayError:
            pass  # the worker would retry: that is what we do next
        except Exception as exc:
            raise Hint(f"pay_once raised {type(exc).__name__}: {exc}") from None
        second = call(pay_once, gateway.url, "p-retry", "reader-01", 1990, name="pay_once")
        charges = [c for c in gateway.charges() if c["payment_id"] == "p-retry"]
        keys = {c["idempotency_key"] for c in charges}
        if len(charges) > 1:
            if keys == {None}:
                raise Hint("the retry charged the customer again: send an idempotency_key so the gateway recognises "
                           "the same payment (a local 'paid' marker cannot help when the reply is lost)")  # fmt: skip
            raise Hint(f"the retry charged again with another key ({len(keys)} keys): derive the idempotency key "
                       "from payment_id, not a fresh uuid, so every attempt sends the same one")  # fmt: skip
        if not charges:
            raise Hint("nothing was charged: call charge(gateway_url, payment_id, customer, amount, "
                       "idempotency_key=...)")  # fmt: skip
        if _charge_id(second) != charges[0]["id"] and _charge_id(first) != charges[0]["id"]:
            raise Hint("the retry did not return the charge: return what charge(...) returns, even on a retry "
                       "(the gateway answers the first result again for the same key)")  # fmt: skip
        # 2. a double submission of one payment, then another payment
        call(pay_once, gateway.url, "p-double", "reader-02", 1990, name="pay_once")
        call(pay_once, gateway.url, "p-double", "reader-02", 1990, name="pay_once")
        other = call(pay_once, gateway.url, "p-other", "reader-03", 4990, name="pay_once")
        per_payment = gateway.charges_per_payment()
        if per_payment.get("p-double", 0) > 1:
            raise Hint("the same payment submitted twice was charged twice: the same payment must send the same key")
        if per_payment.get("p-other", 0) == 0:
            raise Hint("a second, different payment was never charged: it reused the first one's key; "
                       "make the key unique per payment (e.g. from payment_id)")  # fmt: skip
        if _charge_id(other) is None:
            raise Hint("return the charge (the dict charge(...) returns)")
    return "one charge per payment after a lost reply, a retry and a double submission"


@check("Exercise 3: retry a failing gateway with backoff", "write enqueue_with_retries(queue, gateway_url, "
       "payment_id, customer, amount)")  # fmt: skip
def check_retries(enqueue_with_retries) -> str:
    """Enqueues 4 payments with the learner's function, injects 3 errors and 2 lost replies, runs a worker."""
    from rq.job import Job

    from ..payments.jobs import create_payment, payment_status, wait_for_payments
    from ..payments.worker import PaymentSystem

    payments = [f"p-{i}" for i in range(4)]
    with PaymentSystem(workers=0, latency=0.2) as system:
        jobs = []
        for i, payment_id in enumerate(payments):
            create_payment(system.connection, payment_id, f"reader-{i}", 1990)
            job = call(enqueue_with_retries, system.queue, system.gateway.url, payment_id, f"reader-{i}", 1990,
                       name="enqueue_with_retries")  # fmt: skip
            if job is None:
                raise NotDone("enqueue_with_retries returns None: return the job queue.enqueue(...) gives you")
            jobs.append(job)
        if system.queue.count != len(payments):
            raise Hint(f"{len(payments)} calls put {system.queue.count} jobs on the queue: enqueue one job per call")
        job = Job.fetch(system.queue.get_job_ids()[0], connection=system.connection)
        _importable(job)
        if not job.retries_left:
            raise Hint("the jobs have no retries: pass retry=Retry(max=3, interval=[1, 2, 4]) to queue.enqueue")
        if job.retries_left < 3:
            raise Hint(f"only {job.retries_left} retries: a struggling gateway can fail 3 times in a row; allow 3+")
        intervals = list(job.retry_intervals or [0])
        if not any(intervals):
            raise Hint("retrying at once hammers a struggling gateway: add a backoff, e.g. interval=[1, 2, 4]")
        if max(intervals) > 10:
            raise Hint(f"backoff {intervals} s is too long for this check: keep each wait <= 10 s")
        system.gateway.inject(error=3, drop=2)
        system.add_worker(scheduler=True)
        try:
            wait_for_payments(system.connection, payments, timeout=45)
        except TimeoutError as exc:
            raise Hint(f"not every payment finished within 45 s ({exc}); is your backoff short?") from None
        states = {p: payment_status(system.connection, p) for p in payments}
        if any(s != "paid" for s in states.values()):
            raise Hint(f"some payments failed despite retries: {states}; did you enqueue process_payment?")
        doubles = system.gateway.double_charges()
        if doubles:
            raise Hint(f"{doubles} payments were charged twice: enqueue scalecode.payments.jobs.process_payment, "
                       "which sends an idempotency key")  # fmt: skip
    return "3 errors and 2 lost replies injected: every payment paid, each charged exactly once"
