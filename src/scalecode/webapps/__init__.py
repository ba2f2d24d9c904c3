"""Small web apps served as subprocesses (modules 07 and 08), and the code that loads them.

Served (each runs with ``python -m scalecode.webapps.<name> --port N ...``):

- ``hello``: the Tornado app of "High Audience Python", one variant per row of its req/s table;
- ``external``: the slow external API (100 ms per answer, counts requests in flight);
- ``overload``: K workers behind a FIFO queue, 504 after a timeout, 502 when the queue is full.

Driving them (started with ``scalecode.services.Service``, loaded with ``locust`` as a subprocess):

- ``bench``: the req/s table, each measured row beside its theoretical bound (module 07);
- ``loadcurve``: latency and errors as users grow, beside Little's law and a simulation (module 08);
- ``serving``: what both sides share (CPU burn, readiness probe, pre-fork workers, CPU sampler).

This file imports nothing, so that ``python -m scalecode.webapps.hello`` starts quickly.
"""
