"""The queueing model: M/M/c formulas against known values and against the simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalecode import queueing as q


def test_utilisation_is_lambda_s_over_c():
    assert q.utilisation(30, 0.1, 4) == pytest.approx(0.75)
    assert q.utilisation(0, 0.1, 4) == 0


@pytest.mark.parametrize(
    ("lam", "s", "c", "expected"),
    [
        (20, 0.1, 3, 4 / 9),  # a = 2, c = 3: (8/6 · 3) / (1 + 2 + 2 + 4) = 4/9
        (5, 0.1, 1, 0.5),  # one worker: C = ρ
        (0, 0.1, 2, 0.0),
        (40, 0.1, 4, 1.0),  # ρ = 1: unstable, everyone waits
        (100, 0.1, 4, 1.0),
    ],
)
def test_erlang_c_known_values(lam, s, c, expected):
    assert q.erlang_c(lam, s, c) == pytest.approx(expected)


def test_erlang_c_matches_the_factorial_formula_and_scales_to_big_pools():
    lam, s, c = 70, 0.05, 4
    a = lam * s
    top = a**c / math.factorial(c) * c / (c - a)
    assert q.erlang_c(lam, s, c) == pytest.approx(top / (sum(a**k / math.factorial(k) for k in range(c)) + top))
    assert 0 < q.erlang_c(1900, 1.0, 2000) < 1  # no overflow with 2 000 workers


def test_mm1_mean_wait_and_percentiles():
    # M/M/1, ρ = 0.5: mean wait = ρ S / (1 - ρ) = S
    assert q.mean_wait_s(5, 0.1, 1) == pytest.approx(0.1)
    assert q.mean_response_s(5, 0.1, 1) == pytest.approx(0.2)
    # P(wait > t) = ρ e^{-(μ - λ) t}; p95: ln(0.5 / 0.05) / 5
    assert q.wait_percentile_s(0.95, 5, 0.1, 1) == pytest.approx(math.log(10) / 5)
    assert q.wait_percentile_s(0.5, 1, 0.1, 4) == 0.0  # almost nobody waits
    assert q.response_percentile_s(0.95, 5, 0.1, 1) == pytest.approx(math.log(10) / 5 + 0.1)
    assert math.isinf(q.mean_wait_s(50, 0.1, 4)) and math.isinf(q.wait_percentile_s(0.95, 50, 0.1, 4))


def test_mmc_bundle_and_curve():
    m = q.mmc(30, 0.1, 4)
    assert m.stable and m.capacity_rps == pytest.approx(40)
    assert m.utilisation == pytest.approx(0.75) and m.p_wait == pytest.approx(q.erlang_c(30, 0.1, 4))
    assert m.p95_s < m.p99_s
    curve = q.latency_curve(0.05, 4, points=50)
    assert len(curve) == 50 and curve["mean_s"].is_monotonic_increasing
    assert curve["utilisation"].iloc[-1] == pytest.approx(0.99)


@pytest.mark.parametrize(("c", "rho"), [(1, 0.5), (4, 0.8349)])
def test_knee_utilisation(c, rho):
    knee = q.knee_arrival_rps(0.05, c)
    assert knee * 0.05 / c == pytest.approx(rho, abs=1e-3)
    assert q.mean_response_s(knee, 0.05, c) == pytest.approx(0.1, rel=1e-6)
    assert q.knee_arrival_rps(0.05, c, statistic="p95") < knee  # the tail doubles earlier


def test_littles_latency():
    assert q.littles_latency_s(40, 0.1, 2) == pytest.approx(2.0)
    assert q.littles_latency_s(3, 0.05, 4) == 0.05
    assert q.littles_latency_s(10, 0.1, 1, think_s=0.5) == pytest.approx(0.5)


def test_workers_for_budget():
    assert q.workers_for_budget(30, 0.1, p95_budget_s=0.25) == 5
    c = q.workers_for_budget(300, 0.05, mean_wait_budget_s=0.005)
    assert q.mean_wait_s(300, 0.05, c) <= 0.005 < q.mean_wait_s(300, 0.05, c - 1)
    with pytest.raises(ValueError, match="below the service time"):
        q.workers_for_budget(30, 0.1, p95_budget_s=0.05)
    with pytest.raises(ValueError, match="give"):
        q.workers_for_budget(30, 0.1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: q.utilisation(-1, 0.1, 1), "arrival_rps"),
        (lambda: q.utilisation(1, 0, 1), "service_s"),
        (lambda: q.utilisation(1, 0.1, 0), "workers"),
        (lambda: q.utilisation(1, 0.1, 2.5), "workers"),
        (lambda: q.wait_percentile_s(95, 1, 0.1, 1), "q must"),
        (lambda: q.knee_arrival_rps(0.1, 2, factor=1), "factor"),
        (lambda: q.knee_arrival_rps(0.1, 2, statistic="max"), "statistic"),
        (lambda: q.simulate_open(10, 0.1, 2, service="uniform"), "service"),
        (lambda: q.simulate_open(10, 0.1, 2, timeout_s=0), "timeout_s"),
        (lambda: q.simulate_closed(0, 0.1, 2), "users"),
        (lambda: q.crossing([1, 1], [1, 2], 1.5), "increasing"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_open_simulation_agrees_with_erlang_c():
    sim = q.simulate_open(64, 0.05, 4, requests=20_000, seed=1)
    assert len(sim) == 20_000 and sim.error_ratio == 0
    assert sim.mean_wait_s == pytest.approx(q.mean_wait_s(64, 0.05, 4), rel=0.15)
    waited = float(np.mean(sim.wait_s > 0))
    assert waited == pytest.approx(q.erlang_c(64, 0.05, 4), abs=0.05)
    again = q.simulate_open(64, 0.05, 4, requests=20_000, seed=1)
    assert np.array_equal(sim.latency_s, again.latency_s)  # deterministic for a seed


def test_fixed_service_queues_less_than_random():
    fixed = q.simulate_open(64, 0.05, 4, service="deterministic", seed=2)
    random = q.simulate_open(64, 0.05, 4, service="exponential", seed=2)
    assert fixed.mean_wait_s < random.mean_wait_s


def test_open_simulation_timeouts_and_queue_limit():
    over = q.simulate_open(100, 0.05, 4, requests=5_000, timeout_s=0.2, seed=3)  # ρ = 1.25
    timeouts = over.status == q.GATEWAY_TIMEOUT
    assert timeouts.any() and np.all(over.latency_s[timeouts] == 0.2)
    assert np.all(over.wait_s[over.status == q.OK] <= 0.2)
    assert over.throughput_rps == pytest.approx(80, rel=0.1)  # the workers' capacity, no more
    limited = q.simulate_open(100, 0.05, 4, requests=5_000, queue_limit=5, seed=3)
    assert (limited.status == q.BAD_GATEWAY).any() and not (limited.status == q.GATEWAY_TIMEOUT).any()
    assert np.all(limited.latency_s[limited.status == q.BAD_GATEWAY] == 0)


@pytest.mark.parametrize("users", [1, 4, 8, 12, 40])
def test_closed_loop_follows_littles_law(users):
    sim = q.simulate_closed(users, 0.05, 4, requests=3_000)
    assert sim.summary()["mean_s"] == pytest.approx(q.littles_latency_s(users, 0.05, 4), rel=0.02)
    if users >= 4:
        assert sim.throughput_rps == pytest.approx(80, rel=0.02)


def test_closed_loop_timeout_and_duration():
    sim = q.simulate_closed(96, 0.05, 4, timeout_s=1.0)
    assert 0 < sim.error_ratio < 0.5 and sim.percentile_s(0.99) <= 1.05 + 1e-9
    timed = q.simulate_closed(8, 0.05, 4, duration_s=2.0, warmup=0.0, requests=100_000)
    assert timed.arrival_s.max() < 2.0 and len(timed) == pytest.approx(160, abs=10)


def test_knee_users_is_about_twice_the_workers():
    assert q.knee_users(0.05, 4) == pytest.approx(8, abs=0.5)
    assert q.knee_users(0.05, 2) == pytest.approx(4, abs=0.5)


def test_crossing():
    assert q.crossing([1, 4, 10], [50, 55, 160], 100) == pytest.approx(4 + 45 / 105 * 6)
    assert q.crossing([1, 2], [200, 300], 100) == 1.0
    assert math.isnan(q.crossing([1, 2], [1, 2], 100))
