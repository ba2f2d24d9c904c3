"""Module 06: the payment gateway, the payment job, RQ workers, the sync/async endpoints.

Behaviour only (charges counted on the gateway, job and payment states), never wall-clock speed.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from rq.registry import FailedJobRegistry, StartedJobRegistry

from scalecode.payments import timeline
from scalecode.payments.app import enqueue_payment, notify, serve_users, subscribe_async, subscribe_sync
from scalecode.payments.gateway import (
    GatewayBusy,
    GatewayNoReply,
    GatewayUnavailable,
    acharge,
    charge,
    gateway_service,
    start_gateway,
)
from scalecode.payments.jobs import (
    create_payment,
    idempotency_key,
    new_payment_id,
    payment_attempts,
    payment_status,
    process_payment,
    wait_for_payments,
    wait_for_status,
)
from scalecode.payments.worker import PaymentSystem, backoff_intervals, delete_queue, job_timeout, retry_policy


@pytest.fixture(scope="module")
def gateway():
    with start_gateway(latency=0.05) as gw:
        yield gw


@pytest.fixture(autouse=True)
def _fresh(request):
    if "gateway" in request.fixturenames:
        request.getfixturevalue("gateway").reset()


# -- the gateway ---------------------------------------------------------------------------------
def test_a_charge_is_recorded_in_the_gateway_ledger(gateway):
    result = charge(gateway.url, "p1", "ana", 1990)
    assert result["payment_id"] == "p1" and result["amount"] == 1990 and result["id"].startswith("ch_")
    assert [c["id"] for c in gateway.charges()] == [result["id"]]


def test_without_a_key_every_request_charges(gateway):
    charge(gateway.url, "p1", "ana", 1990)
    charge(gateway.url, "p1", "ana", 1990)
    assert gateway.charges_per_payment()["p1"] == 2 and gateway.double_charges() == 1


def test_the_same_idempotency_key_charges_once_and_replays_the_first_result(gateway):
    first = charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")
    again = charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")
    assert again["id"] == first["id"] and again["replayed"] and not first["replayed"]
    assert len(gateway.charges()) == 1


def test_an_injected_error_charges_nothing(gateway):
    gateway.inject(error=1)
    with pytest.raises(GatewayUnavailable):
        charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")
    assert gateway.charges() == []
    assert charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")["replayed"] is False


def test_a_dropped_reply_charged_and_the_retry_with_the_same_key_learns_it(gateway):
    gateway.inject(drop=1)
    with pytest.raises(GatewayNoReply):
        charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")
    assert len(gateway.charges()) == 1  # the ambiguous case: it did charge
    retry = charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")
    assert retry["replayed"] and retry["id"] == gateway.charges()[0]["id"]


def test_a_concurrent_request_with_the_same_key_gets_409(gateway):
    gateway.configure(latency=1.0)
    try:
        outcome = {}

        def first():
            outcome["first"] = charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")

        thread = threading.Thread(target=first)
        thread.start()
        deadline = time.monotonic() + 10
        while httpx.get(f"{gateway.url}/charges").json()["requests"] == 0:  # the first one is in flight
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(GatewayBusy):
            charge(gateway.url, "p1", "ana", 1990, idempotency_key="k1")
        thread.join(10)
        assert outcome["first"]["id"] and len(gateway.charges()) == 1
    finally:
        gateway.configure(latency=0.05)


def test_a_client_timeout_is_no_reply(gateway):
    gateway.configure(latency=0.5)
    try:
        with pytest.raises(GatewayNoReply, match="may have happened"):
            charge(gateway.url, "p1", "ana", 1990, timeout=0.1)
        deadline = time.monotonic() + 10
        while not gateway.charges():  # it did happen, after the client gave up
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        gateway.configure(latency=0.05)


def test_async_charges_wait_together_and_each_is_recorded(gateway):
    import asyncio

    async def many():
        async with httpx.AsyncClient() as client:
            return await asyncio.gather(*(acharge(client, gateway.url, f"p{i}", "ana", 100, idempotency_key=f"k{i}")
                                          for i in range(5)))  # fmt: skip

    results = asyncio.run(many())
    assert sorted(r["payment_id"] for r in results) == [f"p{i}" for i in range(5)]
    assert len(gateway.charges()) == 5 and gateway.double_charges() == 0


def test_bad_input_is_explained(gateway):
    with pytest.raises(ValueError, match="cents"):
        charge(gateway.url, "p1", "ana", 19.9)
    assert httpx.post(f"{gateway.url}/charge", json={"amount": -1}).status_code == 400
    with pytest.raises(ValueError, match="fail_rate"):
        gateway_service(latency=1, fail_rate=2)


def test_random_failures_follow_the_rate_and_the_seed():
    with start_gateway(latency=0.0, fail_rate=0.5, seed=1) as gw:
        outcomes = []
        for i in range(20):
            try:
                charge(gw.url, f"p{i}", "ana", 100, idempotency_key=f"k{i}")
                outcomes.append("ok")
            except (GatewayUnavailable, GatewayNoReply) as exc:
                outcomes.append(type(exc).__name__)
        assert 3 <= outcomes.count("ok") <= 17 and len(set(outcomes)) == 3


# -- policies --------------------------------------------------------------------------------------
def test_backoff_grows_and_is_at_least_one_second():
    assert backoff_intervals(0.05) == [1, 2, 4, 8]
    assert backoff_intervals(1.0) == [20, 40, 80, 160]
    assert backoff_intervals(0.001) == [1, 1, 1, 1]
    policy = retry_policy(0.05)
    assert policy.max == 4 and policy.intervals == [1, 2, 4, 8]
    assert job_timeout() >= 2


def test_process_payment_needs_a_worker():
    with pytest.raises(RuntimeError, match="RQ worker"):
        process_payment("http://127.0.0.1:1", "p1", "ana", 100)


def test_serve_users_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_users"):
        serve_users(lambda c: {}, 0, 1)


# -- the flows, with real processes ----------------------------------------------------------------
def test_sync_waits_for_the_gateway_async_answers_and_a_burst_worker_pays():
    with PaymentSystem(workers=0, latency=0.3) as system:
        sync = serve_users(lambda c: subscribe_sync(system.gateway.url, c), 2, 2)
        assert list(sync["status"]) == ["paid", "paid"]
        assert len(system.gateway.charges()) == 2
        users = serve_users(lambda c: subscribe_async(system.queue, system.gateway.url, c), 3, 3)
        assert list(users["status"]) == ["queued"] * 3
        assert len(system.gateway.charges()) == 2  # nothing paid yet: the endpoint only enqueued
        assert all(payment_status(system.connection, p) == "queued" for p in users["payment_id"])
        system.burst()
        done = notify(system.connection, users, timeout=10)
        assert list(done["final_status"]) == ["paid"] * 3 and list(done["attempts"]) == [1, 1, 1]
        assert system.gateway.double_charges() == 0 and len(system.gateway.charges()) == 5
        fig = timeline.sync_vs_async(sync, done)
        assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_double_submission_is_charged_once():
    with PaymentSystem(workers=0, latency=0.1) as system:
        payment_id = new_payment_id()
        create_payment(system.connection, payment_id, "ana", 1990)
        enqueue_payment(system.queue, system.gateway.url, payment_id, "ana", 1990)
        enqueue_payment(system.queue, system.gateway.url, payment_id, "ana", 1990)
        system.burst()
        assert payment_status(system.connection, payment_id) == "paid"
        assert system.gateway.charges_per_payment()[payment_id] == 1


def test_failures_are_retried_with_backoff_and_charged_once():
    with PaymentSystem(workers=1, latency=0.1) as system:
        system.gateway.inject(error=2, drop=1)
        ids = []
        for i in range(3):
            payment_id = new_payment_id()
            create_payment(system.connection, payment_id, f"user{i}", 1990)
            enqueue_payment(system.queue, system.gateway.url, payment_id, f"user{i}", 1990)
            ids.append(payment_id)
        seen = wait_for_payments(system.connection, ids, timeout=40)
        assert {status for status, _ in seen.values()} == {"paid"}
        assert system.gateway.double_charges() == 0 and len(system.gateway.charges()) == 3
        outcomes = [a["outcome"] for p in ids for a in payment_attempts(system.connection, p)]
        assert outcomes.count("paid") == 3 and len(outcomes) == 6  # 3 failed attempts were retried


def test_a_job_whose_worker_is_killed_is_not_lost_nor_charged_twice():
    with PaymentSystem(workers=0, latency=0.6) as system:
        crashing = system.add_worker(scheduler=False)
        payment_id = new_payment_id()
        create_payment(system.connection, payment_id, "ana", 1990)
        job = enqueue_payment(system.queue, system.gateway.url, payment_id, "ana", 1990, timeout=2)
        wait_for_status(system.connection, payment_id, "processing", timeout=20)
        crashing.kill()
        assert job.get_status(refresh=True) == "started"
        assert job.id in StartedJobRegistry(queue=system.queue).get_job_ids(cleanup=False)
        system.add_worker(scheduler=True)
        seen = wait_for_payments(system.connection, [payment_id], timeout=30)
        assert seen[payment_id][0] == "paid"
        assert system.gateway.charges_per_payment()[payment_id] == 1
        assert job.get_status(refresh=True) == "finished"
        assert FailedJobRegistry(queue=system.queue).get_job_ids() == []


def test_delete_queue_removes_only_that_queues_keys():
    with PaymentSystem(workers=0, latency=0.0) as system:
        connection, name = system.connection, system.queue.name
        connection.set("rq:unrelated:scalecode-test", 1)
        create_payment(connection, "p-clean", "ana", 100)
        enqueue_payment(system.queue, system.gateway.url, "p-clean", "ana", 100)
        system.burst()
        assert list(connection.scan_iter(match=f"rq:*{name}*"))
        assert delete_queue(system.queue) == {"p-clean"}
        connection.delete("scalecode:payments:p-clean", "scalecode:payments:p-clean:attempts")
        assert not list(connection.scan_iter(match=f"rq:*{name}*"))
        assert connection.get("rq:unrelated:scalecode-test") == b"1"
        connection.delete("rq:unrelated:scalecode-test")


def test_waiting_for_a_status_is_bounded():
    import fakeredis

    connection = fakeredis.FakeRedis()
    create_payment(connection, "p-wait", "ana", 100)
    wait_for_status(connection, "p-wait", "queued", timeout=1)
    with pytest.raises(TimeoutError, match="still 'queued'"):
        wait_for_status(connection, "p-wait", "paid", timeout=0.1)
    with pytest.raises(TimeoutError, match="not finished"):
        wait_for_payments(connection, ["p-wait"], timeout=0.1)


def test_idempotency_key_is_stable_per_payment():
    assert idempotency_key("abc") == idempotency_key("abc") != idempotency_key("abd")
