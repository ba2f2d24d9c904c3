"""The Tornado app of the talk's req/s table, one variant per row.

Variants (``--variant``):

- ``hello``: ``self.write("Hello, world")``, the talk's starting point;
- ``cpu``: first burns ``--cpu-ms`` (default 20) milliseconds of CPU, the talk's
  ``render()  # 20ms``;
- ``blocking``: calls the external API (``--external URL``) with a *synchronous* client
  (``httpx.Client``): while it waits 100 ms, the whole process, its event loop included,
  can do nothing else;
- ``async``: the same call with an asynchronous client (``await AsyncHTTPClient().fetch``,
  Tornado's own):
  while one request waits, the event loop serves the others.

``--cpu-ms`` adds the CPU burn to any variant (``blocking`` and ``async`` default to 0 so
that they isolate the external call; pass ``--cpu-ms 20`` for the talk's cumulative handler).
``--processes N`` forks N worker processes (``tornado.process.fork_processes``), each with its
own socket bound with ``SO_REUSEPORT``, so the kernel spreads the connections across them.
Each worker prints ``worker <pid> listening`` once it accepts connections, and answers with
an ``X-Worker-Pid`` header.

Run it: ``python -m scalecode.webapps.hello --port 8000 --variant cpu --processes 2``.
Source: "High Audience Python" (Guilherme Vierno, globo.com); Tornado docs: "Running and
deploying" (``fork_processes``, ``bind_sockets(reuse_port=True)``), ``RequestHandler``.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import httpx
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web

from .serving import burn_cpu, fork_workers

VARIANTS = ("hello", "cpu", "blocking", "async")
MAX_CLIENTS = 1000  # external calls in flight at once, per worker (async variant)
DEFAULT_CPU_MS = {"hello": 0.0, "cpu": 20.0, "blocking": 0.0, "async": 0.0}


def render(cpu_ms: float) -> str:
    """The page: ``cpu_ms`` milliseconds of CPU work (the talk's ``render()  # 20ms``), then HTML."""
    if cpu_ms > 0:
        burn_cpu(cpu_ms)
    return "Hello, world"


class BaseHandler(tornado.web.RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("X-Worker-Pid", str(os.getpid()))

    @property
    def cpu_ms(self) -> float:
        return self.settings["cpu_ms"]


class HelloHandler(BaseHandler):
    def get(self) -> None:
        self.write("Hello, world")


class RenderHandler(BaseHandler):
    def get(self) -> None:
        html = render(self.cpu_ms)  # 20 ms of CPU: nothing else runs meanwhile
        self.write(html)


class BlockingExternalHandler(BaseHandler):
    def get(self) -> None:
        html = render(self.cpu_ms)
        # A synchronous client: the event loop is stuck here for the whole 100 ms.
        data = self.settings["sync_client"].get(self.settings["external_url"]).text
        self.write(f"{html} | {data}")


class AsyncExternalHandler(BaseHandler):
    async def get(self) -> None:
        html = render(self.cpu_ms)
        # An asynchronous client: while this request waits, the loop serves the others.
        response = await self.settings["async_client"].fetch(self.settings["external_url"])
        self.write(f"{html} | {response.body.decode()}")


HANDLERS = {"hello": HelloHandler, "cpu": RenderHandler, "blocking": BlockingExternalHandler,
            "async": AsyncExternalHandler}  # fmt: skip


def make_app(variant: str, *, cpu_ms: float | None = None, external_url: str | None = None) -> tornado.web.Application:
    """The app for one ``variant`` (see the module docstring), serving ``GET /``.

    ``cpu_ms``: milliseconds of CPU per request (``None``: 20 for ``cpu``, else 0).
    ``external_url``: the external API, required by ``blocking`` and ``async``.
    Raises ``ValueError`` for an unknown variant, a negative ``cpu_ms`` or a missing URL.
    Call it inside a running event loop (the async client binds to it).
    """
    if variant not in HANDLERS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    cpu_ms = DEFAULT_CPU_MS[variant] if cpu_ms is None else float(cpu_ms)
    if cpu_ms < 0:
        raise ValueError(f"cpu_ms must be >= 0, got {cpu_ms}")
    settings: dict = {"cpu_ms": cpu_ms, "external_url": external_url}
    if variant in {"blocking", "async"}:
        if not external_url:
            raise ValueError(f"variant {variant!r} calls the external API: pass external_url (--external URL)")
        if variant == "blocking":
            settings["sync_client"] = httpx.Client(timeout=30)
        else:
            # Tornado's client allows 10 requests in flight by default (max_clients): raise it,
            # or the 11th concurrent request waits in the client's queue.
            settings["async_client"] = tornado.httpclient.AsyncHTTPClient(
                force_instance=True, max_clients=MAX_CLIENTS, defaults={"request_timeout": 30}
            )
    return tornado.web.Application([(r"/", HANDLERS[variant])], **settings)


async def _serve(port: int, variant: str, cpu_ms: float | None, external_url: str | None) -> None:
    app = make_app(variant, cpu_ms=cpu_ms, external_url=external_url)
    sockets = tornado.netutil.bind_sockets(port, "127.0.0.1", reuse_port=True, backlog=1024)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    print(f"worker {os.getpid()} listening on 127.0.0.1:{port} ({variant})", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The Tornado app of the req/s table.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--variant", choices=VARIANTS, default="hello")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (fork_processes)")
    parser.add_argument("--cpu-ms", type=float, default=None, help="CPU milliseconds burned per request")
    parser.add_argument("--external", default=None, help="URL of the external API (blocking, async)")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be >= 1")
    if args.variant in {"blocking", "async"} and not args.external:
        parser.error(f"--variant {args.variant} calls the external API: pass --external URL")
    if args.cpu_ms is not None and args.cpu_ms < 0:
        parser.error("--cpu-ms must be >= 0")
    if args.processes > 1:
        # The parent forks the workers and then only waits (restarting a worker that crashes);
        # each worker binds its own SO_REUSEPORT socket after the fork.
        fork_workers(args.processes)
    asyncio.run(_serve(args.port, args.variant, args.cpu_ms, args.external))


if __name__ == "__main__":
    main()
