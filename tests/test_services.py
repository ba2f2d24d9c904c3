"""Helper processes: start on free ports, readiness, clear errors, always stopped."""

from __future__ import annotations

import socket
import sys

import psutil
import pytest

from scalecode.services import Service, ServiceError, free_port, port_is_open

HTTP_SERVER = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_service_starts_ready_and_stops():
    with Service("http", HTTP_SERVER) as svc:
        assert svc.running() and port_is_open(svc.port)
        assert svc.url == f"http://127.0.0.1:{svc.port}"
        pid = svc.pid
    assert not port_is_open(svc.port)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_service_stops_even_when_the_block_raises():
    with pytest.raises(RuntimeError, match="boom"):
        with Service("http", HTTP_SERVER) as svc:
            raise RuntimeError("boom")
    assert not svc.running() and not port_is_open(svc.port)


def test_busy_port_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ServiceError, match=f"port {port} .* already in use"):
            Service("http", HTTP_SERVER, port=port)


def test_a_process_that_dies_at_start_reports_its_log():
    argv = [sys.executable, "-c", "import sys; print('no config file'); sys.exit(3)"]
    with pytest.raises(ServiceError, match=r"exited with code 3[\s\S]*no config file"):
        Service("broken", argv).start()


def test_missing_binary_is_a_clear_error():
    with pytest.raises(ServiceError, match="not installed"):
        Service("ghost", ["definitely-not-a-real-binary-xyz", "{port}"]).start()


def test_readiness_timeout_is_bounded_and_cleans_up():
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    svc = Service("sleeper", argv, startup_timeout=0.5)
    with pytest.raises(ServiceError, match="did not become ready within"):
        svc.start()
    assert not svc.running()


def test_kill_then_stop_is_safe():
    with Service("http", HTTP_SERVER) as svc:
        svc.kill()
        assert not svc.running()
        assert svc.stop() is not None
    assert svc.stop() is not None  # idempotent


def test_stop_escalates_to_sigkill_for_a_process_ignoring_sigterm():
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    svc = Service("stubborn", [sys.executable, "-c", code], listens=False, stop_timeout=0.5)
    svc.start()
    assert svc.stop() == -9
