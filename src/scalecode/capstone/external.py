"""The capstone's slow third-party service: one answer after a fixed delay, and a request counter.

``GET /headline`` waits ``--delay-ms`` (default 200 ms) and answers the "breaking news"
headline as text; ``GET /count`` answers how many ``/headline`` requests it has served so
far (plain text, an integer); ``POST /reset`` sets the counter to zero. A thread per request
(``ThreadingHTTPServer``): the delay is latency, not a capacity limit, so whatever limits
throughput is in the caller.

Run it: ``python -m scalecode.capstone.external --port 8001 --delay-ms 150``.
Source: "High Audience Python" (Guilherme Vierno): "and what if the service calls an external API?"
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_DELAY_MS = 200.0
HEADLINE = "Urgente: a redação escala código, não servidores"


class _Counter:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()

    def add(self) -> int:
        with self.lock:
            self.value += 1
            return self.value


def make_handler(delay_s: float, counter: _Counter) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``delay_s`` seconds and ``counter``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, text: str, status: int = 200) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.startswith("/headline"):
                time.sleep(delay_s)
                counter.add()
                self._send(HEADLINE)
            elif self.path.startswith("/count"):
                self._send(str(counter.value))
            else:
                self._send("not found", 404)

        def do_POST(self) -> None:  # noqa: N802
            if self.path.startswith("/reset"):
                with counter.lock:
                    counter.value = 0
                self._send("ok")
            else:
                self._send("not found", 404)

        def log_message(self, *args) -> None:  # quiet: no line per request
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A slow external service that counts its requests.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_MS)
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error(f"--delay-ms must be >= 0, got {args.delay_ms}")
    server = _Server(("127.0.0.1", args.port), make_handler(args.delay_ms / 1000, _Counter()))
    print(f"external service on 127.0.0.1:{args.port}, {args.delay_ms:g} ms per /headline", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
