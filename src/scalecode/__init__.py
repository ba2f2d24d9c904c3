"""Scale Code, Not Servers: the workshop's support package.

One module per concern (see the README's module map):

- ``scalecode.config``      paths, ``TIME_SCALE`` and the other workshop parameters
- ``scalecode.services``    helper processes on free 127.0.0.1 ports, always stopped
- ``scalecode.backends``    Redis (embedded fakeredis or real) and the Django database
- ``scalecode.newsroom``    the running example: a small Django news portal
- ``scalecode.caching``     cache-aside and cache statistics
- ``scalecode.workload``    synthetic, deterministic traffic (Zipf-like page popularity)
- ``scalecode.measure``     timing many calls and summarising latencies (p50/p95/p99)
- ``scalecode.plots``       the figures the notebooks share
- ``scalecode.checks``      exercise checks: not done yet / one-line hint / passed
- ``scalecode.results``     the talks' figures, measured here, gathered into one table
- ``scalecode.doctor``      ``python -m scalecode doctor``: what is installed and in use
- ``scalecode.labs``        generates ``labs/`` from ``solutions/``
- ``scalecode.runner``      ``python -m scalecode run``: executes every notebook
"""

__version__ = "0.1.0"
