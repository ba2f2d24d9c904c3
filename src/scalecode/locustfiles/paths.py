"""Each simulated user GETs the paths in ``SCALECODE_LOCUST_PATHS`` in turn, with no think time.

With no wait between requests, N users keep N requests in flight: a closed-loop load
whose throughput is what the server can do at that concurrency. A response slower than
``SCALECODE_LOCUST_TIMEOUT`` seconds, or any status >= 400, counts as a failure.
"""

import itertools
import os

from locust import constant
from locust.contrib.fasthttp import FastHttpUser

PATHS = [p for p in os.environ.get("SCALECODE_LOCUST_PATHS", "/").split(",") if p]
TIMEOUT = float(os.environ.get("SCALECODE_LOCUST_TIMEOUT", "10"))


class PathsUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = TIMEOUT
    connection_timeout = TIMEOUT

    def on_start(self):
        self._paths = itertools.cycle(PATHS)

    def task_get(self):
        path = next(self._paths)
        self.client.get(path, name=path)

    tasks = [task_get]
