"""Module 13, the capstone: a deliberately slow newsroom served over HTTP, and its fixes.

The slow front page has the four classic bottlenecks of the talks, one fix each:

1. an **N+1 listing** (one query per item for its author, category and comment count)
   under a remote database's round trip → ``select_related`` + ``annotate``;
2. an **uncached expensive computation** (the trending topics, about 30 ms of CPU per
   request) → cache it;
3. a **blocking external call** on the request path (a 200 ms third-party service) →
   cache its answer with a TTL, so almost no request waits for it;
4. a **memory-hungry export** (every comment built into one string) → stream it
   (``StreamingHttpResponse`` over ``iterator()``).

- ``external``: the slow third-party service (its own process; counts requests, ``/count``);
- ``app``: the pieces (slow and fixed), the front-page view factory, the export views,
  peak-memory and in-process throughput helpers;
- ``settings`` / ``urls`` / ``wsgi``: the newsroom served by gunicorn with one URL per round;
- ``serve``: start the external service and gunicorn (``scalecode.services.Service``) and
  load every round with locust (a subprocess).

This file imports nothing, so that ``python -m scalecode.capstone.external`` and the
settings module load cleanly.

Source: "High Audience Python" (Guilherme Vierno): "make it work, find the bottleneck, fix it,
goto 2"; "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): cProfile,
memory_profiler; "Escalando para o imprevisível" (Iuri de Silvio): N+1 with the Django ORM.
"""
