"""A simulated payment gateway: a real HTTP service that is slow and sometimes fails.

Run it as ``python -m scalecode.payments.gateway --port N --latency S --fail-rate F --seed X``
(tornado, bound to 127.0.0.1), or from Python with ``start_gateway()`` (a ``Service``:
free port, readiness wait, always stopped). Every charge takes ``latency`` seconds: by
default the talk's 29 s × ``TIME_SCALE`` ("Não Escale Servidores, Escale Código!",
Ervilis Viana de Souza: the gateway takes 29 s, so a synchronous ``/enviar_pagamento``
keeps the user waiting 30 s).

HTTP API (JSON):

- ``POST /charge`` with ``{"payment_id", "customer", "amount"}`` (amount in cents) and an
  optional ``Idempotency-Key`` header. Answers ``200`` with the charge after ``latency``
  seconds. With a key it has already charged, it charges nothing and answers the first
  result at once with ``Idempotent-Replayed: true`` (like Stripe's idempotent requests);
  while a request with the same key is still running it answers ``409``.
- Faults, drawn with probability ``fail_rate`` (seeded) or injected with ``POST /faults``:
  ``error`` answers ``503`` and charges nothing; ``drop`` charges, then closes the
  connection without an answer: the client cannot tell whether it paid.
- ``GET /charges``: the gateway's own ledger (every charge it made); ``DELETE /charges``
  empties it and the pending faults; ``POST /config`` changes ``latency``/``fail_rate``;
  ``GET /health``.

The client side is ``charge()`` (httpx), which raises ``GatewayUnavailable`` (503),
``GatewayBusy`` (409) or ``GatewayNoReply`` (timeout or dropped connection).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from ..config import time_scale
from ..services import Service

#: The talk's gateway latency, in seconds (scaled by TIME_SCALE).
GATEWAY_LATENCY_TALK_S = 29.0
#: How long a client waits for the gateway before giving up, in the talk's seconds.
CLIENT_TIMEOUT_TALK_S = 60.0


class GatewayError(Exception):
    """The gateway did not confirm the charge. ``retryable``: trying again may succeed."""

    retryable = True


class GatewayUnavailable(GatewayError):
    """The gateway answered 503: nothing was charged."""


class GatewayBusy(GatewayError):
    """The gateway answered 409: a request with the same idempotency key is still running."""


class GatewayNoReply(GatewayError):
    """Timeout or connection lost: the charge may or may not have happened."""


class GatewayRejected(GatewayError):
    """The gateway refused the request (4xx): trying again will not help."""

    retryable = False


def default_latency() -> float:
    """The gateway's latency in seconds: 29 s × ``TIME_SCALE``."""
    return GATEWAY_LATENCY_TALK_S * time_scale()


def client_timeout() -> float:
    """How long ``charge()`` waits by default, in seconds: 60 s × ``TIME_SCALE`` (about 2× the latency)."""
    return CLIENT_TIMEOUT_TALK_S * time_scale()


# -- the client ------------------------------------------------------------------------------------
_CLIENT: httpx.Client | None = None
_CLIENT_LOCK = threading.Lock()


def _client() -> httpx.Client:
    """One shared, thread-safe HTTP client (connection reuse; building one per call costs ~0.1 s)."""
    global _CLIENT
    with _CLIENT_LOCK:
        if _CLIENT is None:
            _CLIENT = httpx.Client(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        return _CLIENT


def charge(
    gateway_url: str,
    payment_id: str,
    customer: str,
    amount: int,
    *,
    idempotency_key: str | None = None,
    timeout: float | None = None,
) -> dict:
    """Ask the gateway to charge ``amount`` cents to ``customer`` for ``payment_id``; blocks.

    ``idempotency_key``: the same key on a retry makes the gateway charge at most once
    and answer the first result. ``timeout`` in seconds (default ``client_timeout()``).
    Returns the charge as a dict (``id``, ``payment_id``, ``customer``, ``amount``,
    ``replayed``). Raises ``GatewayUnavailable``, ``GatewayBusy``, ``GatewayNoReply`` or
    ``GatewayRejected``; ``ValueError`` for a bad amount.
    """
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"amount is a positive number of cents (an int), got {amount!r}")
    headers = {"Idempotency-Key": str(idempotency_key)} if idempotency_key is not None else {}
    body = {"payment_id": str(payment_id), "customer": str(customer), "amount": amount}
    try:
        response = _client().post(
            f"{gateway_url}/charge", json=body, headers=headers, timeout=timeout or client_timeout()
        )
    except httpx.TimeoutException:
        waited = timeout or client_timeout()
        raise GatewayNoReply(f"no answer within {waited:.2f} s: the charge may have happened") from None
    except httpx.TransportError as exc:
        raise GatewayNoReply(f"connection lost ({type(exc).__name__}): the charge may have happened") from None
    return _result(response)


async def acharge(
    client: httpx.AsyncClient,
    gateway_url: str,
    payment_id: str,
    customer: str,
    amount: int,
    *,
    idempotency_key: str | None = None,
    timeout: float | None = None,
) -> dict:
    """``charge()`` with asyncio: many calls wait for the gateway at the same time on one thread.

    ``client`` is an ``httpx.AsyncClient``; same arguments, result and errors as ``charge()``.
    Source: "High Audience Python" (Guilherme Vierno): async external calls (aiohttp) raise req/s.
    """
    headers = {"Idempotency-Key": str(idempotency_key)} if idempotency_key is not None else {}
    body = {"payment_id": str(payment_id), "customer": str(customer), "amount": amount}
    try:
        response = await client.post(
            f"{gateway_url}/charge", json=body, headers=headers, timeout=timeout or client_timeout()
        )
    except httpx.TimeoutException:
        raise GatewayNoReply("no answer in time: the charge may have happened") from None
    except httpx.TransportError as exc:
        raise GatewayNoReply(f"connection lost ({type(exc).__name__}): the charge may have happened") from None
    return _result(response)


def _result(response: httpx.Response) -> dict:
    if response.status_code == 200:
        return response.json()
    if response.status_code == 503:
        raise GatewayUnavailable("the gateway answered 503 (temporarily unavailable): nothing was charged")
    if response.status_code == 409:
        raise GatewayBusy("a request with this idempotency key is still running: try again later")
    raise GatewayRejected(f"the gateway answered {response.status_code}: {response.text[:200]}")


# -- the server ------------------------------------------------------------------------------------
class Ledger:
    """The gateway's state: charges, idempotency keys, faults. Single-threaded (asyncio)."""

    def __init__(self, latency: float, fail_rate: float, seed: int) -> None:
        self.latency = latency
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        self.charges: list[dict] = []
        self.by_key: dict[str, dict] = {}
        self.in_flight: set[str] = set()
        self.faults: list[str] = []
        self.requests = 0
        self.ids = itertools.count(1)

    def next_fault(self) -> str | None:
        if self.faults:
            return self.faults.pop(0)
        if self.fail_rate and self.rng.random() < self.fail_rate:
            return self.rng.choice(["error", "drop"])
        return None

    def reset(self) -> None:
        self.charges.clear()
        self.by_key.clear()
        self.faults.clear()
        self.requests = 0


def make_app(ledger: Ledger):
    """The tornado application of the gateway (``ledger`` holds its state)."""
    import tornado.web

    class Base(tornado.web.RequestHandler):
        def json(self, data: object, status: int = 200) -> None:
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(data))

        def body(self) -> dict:
            try:
                data = json.loads(self.request.body or b"{}")
            except ValueError:
                raise tornado.web.HTTPError(400, reason="body is not JSON") from None
            if not isinstance(data, dict):
                raise tornado.web.HTTPError(400, reason="body must be a JSON object")
            return data

    class ChargeHandler(Base):
        async def post(self) -> None:
            data = self.body()
            amount = data.get("amount")
            if not isinstance(amount, int) or amount <= 0 or not data.get("payment_id"):
                raise tornado.web.HTTPError(400, reason="need payment_id and a positive int amount (cents)")
            ledger.requests += 1
            key = self.request.headers.get("Idempotency-Key")
            if key is not None and key in ledger.by_key:
                self.set_header("Idempotent-Replayed", "true")
                return self.json({**ledger.by_key[key], "replayed": True})
            if key is not None and key in ledger.in_flight:
                return self.json({"error": "a request with this Idempotency-Key is in progress"}, 409)
            if key is not None:
                ledger.in_flight.add(key)
            try:
                await asyncio.sleep(ledger.latency)
                fault = ledger.next_fault()
                if fault == "error":
                    return self.json({"error": "gateway temporarily unavailable"}, 503)
                record = {
                    "id": f"ch_{next(ledger.ids):05d}", "payment_id": str(data["payment_id"]),
                    "customer": str(data.get("customer", "")), "amount": amount,
                    "idempotency_key": key, "at": time.time(), "replayed": False,
                }  # fmt: skip
                ledger.charges.append(record)
                if key is not None:
                    ledger.by_key[key] = record
                if fault == "drop":  # charged, but the answer never arrives
                    self.detach().close()
                    return None
                return self.json(record)
            finally:
                if key is not None:
                    ledger.in_flight.discard(key)

    class ChargesHandler(Base):
        def get(self) -> None:
            self.json({"charges": ledger.charges, "requests": ledger.requests})

        def delete(self) -> None:
            ledger.reset()
            self.json({"ok": True})

    class FaultsHandler(Base):
        def post(self) -> None:
            data = self.body()
            for kind in ("error", "drop"):
                count = data.get(kind, 0)
                if not isinstance(count, int) or count < 0:
                    raise tornado.web.HTTPError(400, reason=f"{kind} must be a count >= 0")
                ledger.faults.extend([kind] * count)
            self.json({"pending": ledger.faults})

    class ConfigHandler(Base):
        def post(self) -> None:
            data = self.body()
            if "latency" in data:
                ledger.latency = float(data["latency"])
            if "fail_rate" in data:
                ledger.fail_rate = float(data["fail_rate"])
            self.json({"latency": ledger.latency, "fail_rate": ledger.fail_rate})

    class HealthHandler(Base):
        def get(self) -> None:
            self.json({"ok": True, "latency": ledger.latency, "fail_rate": ledger.fail_rate})

    return tornado.web.Application([
        (r"/charge", ChargeHandler), (r"/charges", ChargesHandler), (r"/faults", FaultsHandler),
        (r"/config", ConfigHandler), (r"/health", HealthHandler),
    ])  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A slow, sometimes failing payment gateway on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=None, help="seconds per charge (default 29 × TIME_SCALE)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of charges that fail (0..1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.latency is None:
        args.latency = default_latency()
    if args.latency < 0 or not 0 <= args.fail_rate <= 1:
        parser.error("--latency must be >= 0 and --fail-rate between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Serve the gateway until SIGTERM/SIGINT."""
    import signal

    import tornado.ioloop

    args = _parse(argv)
    app = make_app(Ledger(args.latency, args.fail_rate, args.seed))
    app.listen(args.port, address="127.0.0.1")
    loop = tornado.ioloop.IOLoop.current()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.add_callback_from_signal(loop.stop))
    print(f"payment gateway on http://127.0.0.1:{args.port} latency={args.latency}s fail_rate={args.fail_rate}",
          flush=True)  # fmt: skip
    loop.start()


# -- running it from Python ------------------------------------------------------------------------
@dataclass
class Gateway:
    """A running gateway: ``url`` plus helpers to read its ledger and inject faults."""

    url: str
    service: Service | None = None

    def charges(self) -> list[dict]:
        """Every charge the gateway made (dicts with ``id``, ``payment_id``, ``amount``, ...)."""
        return httpx.get(f"{self.url}/charges", timeout=5).json()["charges"]

    def charges_per_payment(self) -> Counter:
        """How many times each ``payment_id`` was charged."""
        return Counter(c["payment_id"] for c in self.charges())

    def double_charges(self) -> int:
        """Charges beyond the first for the same payment: 0 when nobody paid twice."""
        return sum(n - 1 for n in self.charges_per_payment().values() if n > 1)

    def inject(self, *, error: int = 0, drop: int = 0) -> None:
        """Make the next ``error`` + ``drop`` charges fail (errors first, then drops)."""
        httpx.post(f"{self.url}/faults", json={"error": error, "drop": drop}, timeout=5).raise_for_status()

    def configure(self, *, latency: float | None = None, fail_rate: float | None = None) -> None:
        """Change the latency (s) or the random failure rate (0..1) of the running gateway."""
        body = {k: v for k, v in {"latency": latency, "fail_rate": fail_rate}.items() if v is not None}
        httpx.post(f"{self.url}/config", json=body, timeout=5).raise_for_status()

    def reset(self) -> None:
        """Forget every charge, idempotency key and pending fault."""
        httpx.delete(f"{self.url}/charges", timeout=5).raise_for_status()


def _healthy(service: Service) -> bool:
    return httpx.get(f"{service.url}/health", timeout=0.5).status_code == 200


def gateway_service(latency: float | None = None, fail_rate: float = 0.0, seed: int = 0, *,
                    wait: bool = True) -> Service:  # fmt: skip
    """A ``Service`` running the gateway on a free port (use it as a context manager).

    ``latency`` in seconds (default 29 s × ``TIME_SCALE``); ``fail_rate`` in [0, 1].
    ``wait=False``: ``start()`` returns as soon as the process runs (then ``wait_healthy``).
    Raises ``ValueError`` for values out of range, ``ServiceError`` if it does not start.
    """
    latency = default_latency() if latency is None else float(latency)
    if latency < 0 or not 0 <= fail_rate <= 1:
        raise ValueError(f"latency must be >= 0 s and fail_rate in [0, 1], got {latency}, {fail_rate}")
    argv = [sys.executable, "-m", "scalecode.payments.gateway", "--port", "{port}",
            "--latency", repr(latency), "--fail-rate", repr(float(fail_rate)), "--seed", str(int(seed))]  # fmt: skip
    return Service("payment gateway", argv, ready=_healthy if wait else (lambda service: True))


def wait_healthy(service: Service, timeout: float = 20.0) -> None:
    """Wait until the gateway answers ``/health``; ``ServiceError`` (with its log) if it dies or is late."""
    from ..services import ServiceError

    deadline = time.monotonic() + timeout
    while True:
        if not service.running():
            raise ServiceError(f"the payment gateway exited while starting\n{service.log_tail()}")
        try:
            if _healthy(service):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise ServiceError(f"the payment gateway did not start within {timeout:.0f} s\n{service.log_tail()}")
        time.sleep(0.05)


class start_gateway:  # noqa: N801 - used like a function: ``with start_gateway() as gw:``
    """``with start_gateway(latency, fail_rate, seed) as gateway:`` yields a ``Gateway``; stops it on exit."""

    def __init__(self, latency: float | None = None, fail_rate: float = 0.0, seed: int = 0) -> None:
        self.service = gateway_service(latency, fail_rate, seed)

    def __enter__(self) -> Gateway:
        self.service.start()
        return Gateway(self.service.url, self.service)

    def __exit__(self, *exc: object) -> None:
        self.service.__exit__(*exc)


if __name__ == "__main__":
    main()
