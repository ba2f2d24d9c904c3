"""Module 06, sync vs async: a slow payment gateway, an RQ queue and workers, idempotent payments.

- ``gateway``: the simulated payment gateway (a tornado HTTP service) and its client;
- ``jobs``: ``process_payment`` (what the worker runs) and the payment records in Redis;
- ``app``: the "subscribe and pay" endpoint, synchronous and asynchronous, and a crowd of users;
- ``worker``: RQ workers as helper processes, retries with backoff, ``PaymentSystem``;
- ``timeline``: Gantt charts of who waits where.

Submodules are imported explicitly (``from scalecode.payments.app import ...``) so that
starting the gateway process does not import RQ or pandas.
"""
