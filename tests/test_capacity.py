"""Capacity maths: demand, Little's law, workers needed, the bound of a configuration."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalecode import capacity


def test_the_talks_demand_estimate():
    assert capacity.demand_rps(10_000_000, 10, 5) == pytest.approx(1388.9, abs=0.1)
    assert capacity.demand_rps(3600, 1) == 1


def test_littles_law_both_ways():
    assert capacity.littles_concurrency(500, 0.1) == pytest.approx(50)
    assert capacity.littles_throughput(50, 0.1) == pytest.approx(500)


@pytest.mark.parametrize(
    ("target", "latency_ms", "workers"),
    [(1500, 120, 180), (50, 130, 7), (1389, 250, 348), (10, 100, 1), (1, 1, 1)],
)
def test_workers_needed_rounds_up(target, latency_ms, workers):
    assert capacity.workers_needed(target, latency_ms) == workers


def test_workers_needed_with_concurrency_per_worker():
    assert capacity.workers_needed(1500, 120, per_worker=100) == 2


@given(st.floats(0.1, 10_000), st.floats(0.1, 5_000))
def test_workers_needed_serve_the_target(target, latency_ms):
    workers = capacity.workers_needed(target, latency_ms)
    assert workers >= 1
    assert workers / (latency_ms / 1000) >= target * (1 - 1e-9)  # enough
    assert (workers - 1) / (latency_ms / 1000) < target * (1 + 1e-6)  # and not one too many


@pytest.mark.parametrize(
    ("kwargs", "rps", "limit"),
    [
        ({"cpu_ms": 20}, 50, "cpu"),
        ({"processes": 2, "cpu_ms": 20}, 100, "cpu"),
        ({"processes": 8, "cpu_ms": 20}, 100, "cpu"),
        ({"cpu_ms": 20, "external_ms": 100}, 1 / 0.12, "blocking"),
        ({"cpu_ms": 0, "external_ms": 100}, 10, "blocking"),
        ({"cpu_ms": 20, "external_ms": 100, "blocking": False}, 50, "cpu"),
        ({"cpu_ms": 0, "external_ms": 100, "blocking": False, "users": 50}, 500, "users"),
        ({"processes": 16, "cpu_ms": 20, "external_ms": 100}, 100, "cpu"),
        ({"processes": 8, "cores_available": 8, "cpu_ms": 20, "external_ms": 100, "blocking": False}, 400, "cpu"),
    ],
)
def test_bound(kwargs, rps, limit):
    kwargs.setdefault("cores_available", 2)
    result = capacity.bound(**kwargs)
    assert result.rps == pytest.approx(rps)
    assert result.limit == limit


def test_no_work_means_no_bound():
    result = capacity.bound(cores_available=2)
    assert math.isinf(result.rps) and result.limit == "none"


def test_bound_rps_positional_matches_bound():
    assert capacity.bound_rps(8, 2, 20, 100, True) == pytest.approx(8 / 0.12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: capacity.demand_rps(0, 10),
        lambda: capacity.demand_rps(10, -1),
        lambda: capacity.workers_needed(100, 0),
        lambda: capacity.littles_throughput(5, 0),
        lambda: capacity.bound(processes=0, cpu_ms=20),
        lambda: capacity.bound(cpu_ms=-1),
        lambda: capacity.bound(cpu_ms=20, users=0),
    ],
)
def test_bad_input_is_a_clear_value_error(call):
    with pytest.raises(ValueError, match="must be"):
        call()


def test_cores_is_at_least_one():
    assert capacity.cores() >= 1
