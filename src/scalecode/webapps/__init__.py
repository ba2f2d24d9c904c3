"""Small web apps served as subprocesses, and the req/s table of "High Audience Python".

- ``hello``: the Tornado app, one variant per row of the talk's table;
- ``external``: the slow external API (100 ms per answer, counts requests in flight);
- ``bench``: starts them (``scalecode.services.Service``), loads them with ``locust``
  (a subprocess) and puts each measured row beside its theoretical bound.

This file imports nothing, so that ``python -m scalecode.webapps.hello`` runs cleanly.
"""
