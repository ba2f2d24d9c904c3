"""The checks of lab 06 accept correct answers and answer the classic wrong ones with a specific hint."""

from __future__ import annotations

import uuid

import pytest
from rq import Retry

from scalecode.checks import check_pay_once, check_retries, check_subscribe
from scalecode.payments.gateway import charge
from scalecode.payments.jobs import create_payment, new_payment_id, process_payment


def _status(result):
    return result.status, result.message


def subscribe(queue, gateway_url, customer):
    payment_id = new_payment_id()
    create_payment(queue.connection, payment_id, customer, 1990)
    queue.enqueue(process_payment, gateway_url, payment_id, customer, 1990)
    return payment_id


def subscribe_sync(queue, gateway_url, customer):
    payment_id = new_payment_id()
    charge(gateway_url, payment_id, customer, 1990)
    return payment_id


def subscribe_without_record(queue, gateway_url, customer):
    payment_id = new_payment_id()
    queue.enqueue(process_payment, gateway_url, payment_id, customer, 1990)
    return payment_id


def subscribe_nothing_enqueued(queue, gateway_url, customer):
    return new_payment_id()


def test_subscribe_passes_and_catches_the_synchronous_answer():
    assert check_subscribe(subscribe).passed
    status, message = _status(check_subscribe(subscribe_sync))
    assert status == "hint" and "enqueue process_payment instead" in message


@pytest.mark.parametrize(
    ("answer", "words"),
    [(subscribe_without_record, "create_payment"), (subscribe_nothing_enqueued, "nothing is on the queue")],
)
def test_subscribe_hints(answer, words):
    status, message = _status(check_subscribe(answer))
    assert status == "hint" and words in message


def test_stubs_are_not_done():
    def stub(*args):
        raise NotImplementedError

    assert check_subscribe(None).status == "not done yet"
    assert check_pay_once(stub).status == "not done yet"
    assert check_retries(stub).status == "not done yet"


def pay_once(url, payment_id, customer, amount):
    return charge(url, payment_id, customer, amount, idempotency_key=f"pay-{payment_id}")


def pay_fresh_uuid(url, payment_id, customer, amount):
    return charge(url, payment_id, customer, amount, idempotency_key=str(uuid.uuid4()))


def pay_without_key(url, payment_id, customer, amount):
    return charge(url, payment_id, customer, amount)


def pay_same_key_for_all(url, payment_id, customer, amount):
    return charge(url, payment_id, customer, amount, idempotency_key="payment")


_MARKERS: set = set()


def pay_with_marker_first(url, payment_id, customer, amount):
    if payment_id in _MARKERS:
        return None
    _MARKERS.add(payment_id)
    return charge(url, payment_id, customer, amount)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (pay_fresh_uuid, "not a fresh uuid"),
        (pay_without_key, "send an idempotency_key"),
        (pay_same_key_for_all, "unique per payment"),
        (pay_with_marker_first, "did not return the charge"),
    ],
    ids=["fresh-uuid", "no-key", "one-key", "marker-first"],
)
def test_pay_once_hints(answer, words):
    status, message = _status(check_pay_once(answer))
    assert status == "hint" and words in message, message


def test_pay_once_passes():
    assert check_pay_once(pay_once).passed


def enqueue_right(queue, url, payment_id, customer, amount):
    return queue.enqueue(process_payment, url, payment_id, customer, amount, retry=Retry(max=3, interval=[1, 2, 3]))


@pytest.mark.parametrize(
    ("retry", "words"),
    [(None, "no retries"), (Retry(max=2, interval=[1, 2]), "allow 3"), (Retry(max=3), "add a backoff"),
     (Retry(max=3, interval=[30, 60, 90]), "too long")],
    ids=["none", "too-few", "no-backoff", "too-long"],
)  # fmt: skip
def test_retries_hints(retry, words):
    def answer(queue, url, payment_id, customer, amount):
        return queue.enqueue(process_payment, url, payment_id, customer, amount, retry=retry)

    status, message = _status(check_retries(answer))
    assert status == "hint" and words in message, message


def test_retries_pass():
    assert check_retries(enqueue_right).passed
