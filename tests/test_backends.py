"""Backends: embedded by default, real on request, clear fallbacks, cross-process Redis."""

from __future__ import annotations

import socket
import sys

import pytest
import redis

from scalecode.backends import database, delete_prefix, describe, get_redis, redis_backend, redis_server
from scalecode.backends import redis_client as rb
from scalecode.services import free_port, port_is_open


def test_embedded_clients_share_one_server(real_mode):
    if real_mode:
        pytest.skip("embedded-only behaviour")
    a, b = get_redis(), get_redis(decode_responses=True)
    a.set("scalecode:test:shared", "olá")
    assert b.get("scalecode:test:shared") == "olá"
    assert redis_backend().kind == "embedded" and not redis_backend().problem
    delete_prefix(a)


def test_unreachable_redis_url_falls_back_with_a_clear_message(monkeypatch, capsys):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    backend = rb.redis_backend()
    assert backend.kind == "embedded"
    assert "unreachable" in backend.problem and "unset REDIS_URL" in backend.problem
    assert "Falling back" in capsys.readouterr().err
    assert get_redis().ping()


def test_delete_prefix_only_touches_the_prefix():
    client = get_redis()
    client.set("scalecode:test:x", 1)
    client.set("not-ours:test", 1)
    try:
        assert delete_prefix(client, "scalecode:test:") == 1
        assert client.get("not-ours:test") == b"1"
    finally:
        client.delete("not-ours:test")
    with pytest.raises(ValueError):
        delete_prefix(client, "")


@pytest.mark.parametrize("prefer", ["fakeredis", "redis-server"])
def test_cross_process_redis_is_reachable_from_another_process(prefer):
    if prefer == "redis-server" and rb.redis_server_binary() is None:
        pytest.skip("redis-server not installed")
    import subprocess

    with redis_server(prefer=prefer) as endpoint:
        assert endpoint.kind == ("fakeredis-tcp" if prefer == "fakeredis" else "redis-server")
        code = (
            f"import redis; r = redis.Redis.from_url({endpoint.url!r}); "
            "r.set('k', 'from-child'); print(r.get('k').decode())"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "from-child", out.stderr
        assert redis.Redis.from_url(endpoint.url).get("k") == b"from-child"
        port = endpoint.service.port
    assert not port_is_open(port)


def _raw(port: int, *commands: bytes) -> list[bytes]:
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for command in commands:
            sock.sendall(command)
            replies.append(sock.recv(4096))
    return replies


def test_fake_tcp_server_keeps_the_connection_after_an_error_reply():
    with redis_server(prefer="fakeredis") as endpoint:
        port = endpoint.service.port
        replies = _raw(
            port,
            b"*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n",
            b"*2\r\n$3\r\nGET\r\n$1\r\nl\r\n",  # WRONGTYPE error reply
            b"*1\r\n$4\r\nPING\r\n",  # the same connection still answers
        )
    assert replies[1].startswith(b"-WRONGTYPE")
    assert replies[2] == b"+PONG\r\n"


def test_fake_tcp_server_reports_client_addr_like_redis():
    with redis_server(prefer="fakeredis") as endpoint:
        client = redis.Redis.from_url(endpoint.url)
        addr = client.client_info()["addr"]
        client.client_setname("worker-1")
        listed = [c["addr"] for c in client.client_list() if c.get("name") == "worker-1"]
        client.close()
    host, port = addr.rsplit(":", 1)
    assert host == "127.0.0.1" and port.isdigit()
    assert listed == [addr]


def test_rq_worker_runs_a_job_on_the_fake_tcp_server():
    """The reason for the fixes: an RQ worker process starts and works on fakeredis TCP."""
    import subprocess

    from rq import Queue

    with redis_server(prefer="fakeredis") as endpoint:
        connection = redis.Redis.from_url(endpoint.url)
        queue = Queue("scalecode-test", connection=connection)
        job = queue.enqueue("operator.add", 2, 3)
        out = subprocess.run(
            [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", endpoint.url, "scalecode-test"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        job.refresh()
        assert job.get_status() == "finished" and job.return_value() == 5
        connection.close()


def test_unreachable_database_url_falls_back_to_sqlite(monkeypatch, capsys):
    port = free_port()
    backend = database._decide(f"postgresql://postgres@127.0.0.1:{port}/test")
    assert backend.kind == "sqlite" and "unreachable" in backend.problem
    assert "Using SQLite" in capsys.readouterr().err


def test_unsupported_database_url_is_explained(capsys):
    backend = database._decide("mysql://root@127.0.0.1:3306/test")
    assert backend.kind == "sqlite" and "PostgreSQL or SQLite" in backend.problem


def test_describe_names_every_need():
    needs = describe()
    assert set(needs) == {
        "key-value cache, in-process", "key-value across processes", "SQL database",
        "queue + worker", "load generator",
    }  # fmt: skip


@pytest.mark.real
def test_real_mode_uses_real_redis_and_postgresql(django_ready):
    assert redis_backend().is_real, redis_backend()
    assert django_ready.is_real, django_ready
    from django.db import connection

    assert connection.vendor == "postgresql"
    with redis_server() as endpoint:
        assert endpoint.kind == "real" and endpoint.service is None
