"""A slow external API: answers every request after a fixed delay (default 100 ms), without blocking.

It stands for the third-party service of the talk's last two rows ("and what if the service
calls an external API?"). It runs as its own process, one asyncio/Tornado event loop, so it
can hold thousands of requests in flight at once: the slowness is latency, not capacity, and
whatever limits throughput is in the caller.

It also counts what it sees, which is how the workshop *measures* concurrency by counting
rather than by timing: ``GET /stats`` returns ``{"served", "in_flight", "max_in_flight"}``
(``max_in_flight`` is the largest number of requests that were being served at the same
moment) and ``POST /reset`` sets the counters to zero.

Run it: ``python -m scalecode.webapps.external --port 8001 --delay-ms 100``.
Source: "High Audience Python" (Guilherme Vierno, globo.com): a 100 ms external call.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import tornado.web

DEFAULT_DELAY_MS = 100.0


class Counters:
    """Requests served, in flight now, and the most ever in flight at once (one event loop: no lock)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.served = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def as_dict(self) -> dict[str, int]:
        return {"served": self.served, "in_flight": self.in_flight, "max_in_flight": self.max_in_flight}


class SlowHandler(tornado.web.RequestHandler):
    """``GET /``: wait ``delay_ms`` without blocking the loop, then answer ``external #<n>``."""

    async def get(self) -> None:
        counters: Counters = self.settings["counters"]
        counters.in_flight += 1
        counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        try:
            await asyncio.sleep(self.settings["delay_s"])
            counters.served += 1
            self.write(f"external #{counters.served}")
        finally:
            counters.in_flight -= 1


class StatsHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(self.settings["counters"].as_dict()))


class ResetHandler(tornado.web.RequestHandler):
    def post(self) -> None:
        self.settings["counters"].reset()
        self.write("ok")


def make_app(delay_ms: float = DEFAULT_DELAY_MS) -> tornado.web.Application:
    """The external API as a Tornado application (``delay_ms`` milliseconds per request, >= 0)."""
    if delay_ms < 0:
        raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
    return tornado.web.Application(
        [(r"/", SlowHandler), (r"/stats", StatsHandler), (r"/reset", ResetHandler)],
        delay_s=delay_ms / 1000, counters=Counters(),
    )  # fmt: skip


async def _serve(port: int, delay_ms: float) -> None:
    app = make_app(delay_ms)
    app.listen(port, address="127.0.0.1", backlog=1024)
    print(f"external API listening on 127.0.0.1:{port}, {delay_ms:g} ms per request", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A slow external API (one answer after --delay-ms).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_MS)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.delay_ms))


if __name__ == "__main__":
    main()
