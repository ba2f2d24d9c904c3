"""A Redis server in pure Python: fakeredis' TCP server with two fixes, as a process.

Used for cross-process Redis (a queue worker, a served app) when no ``redis-server``
binary is installed. Run it as ``python -m scalecode.backends.fake_redis_server --port N``;
it binds 127.0.0.1 only and stops on SIGTERM/SIGINT.

The fixes over ``fakeredis.TcpFakeServer`` (fakeredis 2.40):

1. ``CLIENT INFO`` / ``CLIENT LIST`` report ``addr`` and ``laddr`` as Python tuples
   (``('127.0.0.1', 5555)``); real Redis writes ``127.0.0.1:5555``, and the space in the
   tuple breaks redis-py's parser, so an RQ worker cannot start.
2. An error reply (``WRONGTYPE``, an unknown command, a Lua error) makes the handler
   close the connection; real Redis sends the error and keeps the connection open.
3. Error replies that carry their own code (``WRONGTYPE ...``) are sent as
   ``-ERR WRONGTYPE ...``; real Redis sends ``-WRONGTYPE ...``, which clients match on.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading

import redis
from fakeredis._clients import _tcp_server as tcp

_ERROR_CODE = re.compile(r"^[A-Z][A-Z_]+ ")


def _error_reply(exc: redis.ResponseError) -> bytes:
    """The RESP error line real Redis would send for ``exc``."""
    message = str(exc).replace("\r", " ").replace("\n", " ")
    if not _ERROR_CODE.match(message):
        message = f"{tcp._get_exception_prefix(exc)} {message}"
    return f"-{message}\r\n".encode()


def _hostport(addr: object) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return str(addr)


class FixedRequestHandler(tcp.TCPFakeRequestHandler):
    """fakeredis' handler with Redis-like client addresses and error replies."""

    def setup(self) -> None:
        super().setup()
        info = self.current_client.get_socket()._client_info
        for field in ("addr", "laddr"):
            if field in info:
                info[field] = _hostport(info[field])

    def handle(self) -> None:
        while not self.server._shutdown_event.is_set():
            try:
                if self.current_client.can_read():
                    try:
                        response = self.current_client.read_response()
                    except redis.ResponseError as exc:  # an error *reply*: send it, keep going
                        self.writer.write(_error_reply(exc))
                        self.writer.writer.flush()
                        continue
                    self.writer.dump(response)
                    continue
                data = self.rfile.readline()
                if data == b"":
                    import select

                    readable, _, _ = select.select([self.connection], [], [], tcp._POLL_INTERVAL)
                    if not readable:
                        continue
                    data = self.rfile.readline()
                    if data == b"":
                        break
                self.current_client.get_socket().sendall(data)
            except (ConnectionError, OSError):
                break
            except Exception as exc:  # a broken request: report it, then close like Redis does
                try:
                    self.writer.dump(exc)
                except OSError:
                    pass
                break


class FixedTcpFakeServer(tcp.TcpFakeServer):
    """``fakeredis.TcpFakeServer`` using :class:`FixedRequestHandler`."""

    def __init__(self, server_address: tuple[str, int], **kwargs) -> None:
        super().__init__(server_address, bind_and_activate=False, **kwargs)
        self.RequestHandlerClass = FixedRequestHandler
        self.daemon_threads = True
        self.server_bind()
        self.server_activate()


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve until SIGTERM/SIGINT; raises ``OSError`` when the port is taken."""
    server = FixedTcpFakeServer((host, port))
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    print(f"fakeredis server listening on {host}:{port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "localhost"])
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.host)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
