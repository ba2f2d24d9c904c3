"""Checks of lab 08 (latency under load): utilisation, Erlang C, the saturated latency, sizing workers.

All four are arithmetic, compared with ``scalecode.queueing`` on several inputs, so they pass
or fail the same way on a busy laptop and in CI: no timing is involved. The classic slips each
get their own one-line hint: milliseconds not converted to seconds, ``λ / μ`` (the offered
load) instead of ``λ / (c μ)`` (the utilisation), Erlang B instead of C, forgetting to divide
by the workers, rounding down, or stopping at a utilisation >= 1 (an unstable queue).
"""

from __future__ import annotations

import math

from .. import queueing
from .core import Hint, call, check, close, number

_UTIL_CASES = [(30, 100, 4), (10, 50, 1), (150, 20, 4), (45, 200, 10)]  # req/s, ms, workers


@check("Exercise 1: utilisation", "write utilisation(arrival_rps, service_ms, workers)")
def check_utilisation(utilisation) -> str:
    """Compares with ``queueing.utilisation`` (ρ = λ S / c) on four configurations."""
    for lam, ms, c in _UTIL_CASES:
        got = number(call(utilisation, lam, ms, c, name="utilisation"), "utilisation")
        want = queueing.utilisation(lam, ms / 1000, c)
        if close(got, want):
            continue
        what = f"{lam} req/s, {ms} ms, {c} workers"
        if close(got, want * 1000):
            raise Hint(f"{what}: convert milliseconds to seconds first (100 ms = 0.1 s)")
        if close(got, want * c) and c > 1:
            raise Hint(f"{what}: λ × S = λ / μ is the offered load in workers; divide by c: ρ = λ / (c μ)")
        if close(got, want * c * 1000) and c > 1:
            raise Hint(f"{what}: divide by the workers (ρ = λ S / c) and convert ms to seconds")
        if got > 0 and (close(got, 1 / want) or close(got, 1000 / want) or close(got, 1 / (want * 1000))):
            raise Hint(f"{what}: upside down: ρ = arrival rate / capacity = λ / (c / S)")
        raise Hint(f"{what}: expected ρ = {want:.3f}, got {got:.3f}")
    return "ρ = λ S / c: 30 req/s of 100 ms on 4 workers keep them 75 % busy"


_ERLANG_CASES = [(20, 0.1, 3), (30, 0.1, 4), (5, 0.1, 1), (70, 0.05, 4), (900, 0.01, 10), (50, 0.1, 4), (40, 0.1, 4)]


def _erlang_b(a: float, c: int) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@check("Exercise 2: Erlang C", "write erlang_c(arrival_rps, service_s, workers)")
def check_erlang_c(erlang_c) -> str:
    """Compares with ``queueing.erlang_c`` on stable and unstable queues (ρ >= 1 must give 1)."""
    for lam, s, c in _ERLANG_CASES:
        got = number(call(erlang_c, lam, s, c, name="erlang_c"), "erlang_c")
        want = queueing.erlang_c(lam, s, c)
        if close(got, want, 1e-4) or abs(got - want) < 1e-9:
            continue
        what = f"λ = {lam} req/s, S = {s} s, c = {c}"
        a = lam * s
        if want == 1.0:
            raise Hint(f"{what}: ρ = {a / c:.2f} >= 1, the queue never empties: every request waits, return 1.0")
        if not 0 <= got <= 1:
            raise Hint(f"{what}: a probability is between 0 and 1, got {got:.4g}")
        if close(got, _erlang_b(a, c), 1e-4):
            raise Hint(f"{what}: that is Erlang B (lost calls, no queue); Erlang C adds the c / (c - a) factor")
        rho = a / c
        if 0 < rho < c and close(got, queueing.erlang_c(rho * (1 / s), s, c), 1e-4):
            raise Hint(f"{what}: use the offered load a = λ S = λ / μ in the formula, not ρ = λ / (c μ)")
        raise Hint(f"{what}: expected P(wait) = {want:.4f}, got {got:.4f}")
    return "Erlang C: 30 req/s of 100 ms on 4 workers: 51 % of the requests wait for a worker"


_SATURATED_CASES = [(40, 2, 100), (160, 4, 50), (12, 4, 50), (3, 4, 50), (1, 1, 100), (100, 8, 20)]


@check("Exercise 3: the latency of a saturated server", "write saturated_latency_s(users, workers, service_ms)")
def check_saturated_latency(saturated_latency_s) -> str:
    """Compares with ``queueing.littles_latency_s`` (max(S, N / K × S)) for closed-loop users."""
    for users, workers, ms in _SATURATED_CASES:
        got = number(call(saturated_latency_s, users, workers, ms, name="saturated_latency_s"), "saturated_latency_s")
        want = queueing.littles_latency_s(users, ms / 1000, workers)
        if close(got, want):
            continue
        what = f"{users} users, {workers} workers, {ms} ms"
        if close(got, want * 1000) or close(got, users * ms / workers):
            raise Hint(f"{what}: return seconds: {ms} ms = {ms / 1000} s")
        if close(got, users * ms / 1000) and workers > 1:
            raise Hint(f"{what}: {workers} workers serve {workers} requests at once: divide by the workers")
        if close(got, workers * ms / 1000 / users) or close(got, workers * ms / users):
            raise Hint(f"{what}: upside down: more users, longer waits: N / K × S")
        if users < workers and close(got, users * ms / 1000 / workers):
            raise Hint(f"{what}: fewer users than workers: nobody waits, the latency is the service time S")
        raise Hint(f"{what}: expected {want:.3f} s, got {got:.3f}")
    return "Little's law: 40 users on 2 workers of 0.1 s wait 2 s each (the talk's 0.1 s → 2 s)"


_SIZING_CASES = [(30, 100, 250), (150, 20, 40), (300, 50, 100), (5, 100, 150), (800, 10, 12)]  # req/s, ms, budget ms


@check("Exercise 4: workers for a latency budget", "write workers_for_p95(arrival_rps, service_ms, p95_budget_ms)")
def check_workers_for_p95(workers_for_p95) -> str:
    """Compares with ``queueing.workers_for_budget``: the fewest workers whose p95 fits the budget."""
    for lam, ms, budget in _SIZING_CASES:
        got = number(call(workers_for_p95, lam, ms, budget, name="workers_for_p95"), "workers_for_p95")
        want = queueing.workers_for_budget(lam, ms / 1000, p95_budget_s=budget / 1000)
        if got == want:
            continue
        what = f"{lam} req/s of {ms} ms within p95 {budget} ms"
        if not float(got).is_integer():
            raise Hint(f"{what}: {got:g} workers do not exist: return a whole number")
        c = int(got)
        if c >= 1 and lam * ms / 1000 >= c:
            raise Hint(f"{what}: {c} workers give ρ = {lam * ms / 1000 / c:.2f} >= 1, an unstable queue: "
                       "start from floor(λ S) + 1")  # fmt: skip
        if c in (math.ceil(lam * ms / 1000), math.floor(lam * ms / 1000) + 1) and c < want:
            raise Hint(f"{what}: {c} workers are enough on average (Little's law) but requests still queue: "
                       "keep adding workers until the p95 fits the budget")  # fmt: skip
        if c < want:
            p95 = 1000 * queueing.response_percentile_s(0.95, lam, ms / 1000, c)
            raise Hint(f"{what}: with {c} workers the p95 is {p95:.0f} ms > {budget} ms: round up, not down")
        if c > 20 * want:
            raise Hint(f"{what}: {c} workers is far too many: convert milliseconds to seconds")
        if c > want:
            raise Hint(f"{what}: {want} workers already meet the budget: return the smallest count")
    return "30 req/s of 100 ms need 5 workers for a 250 ms p95 (with 4, 75 % busy, the p95 is 332 ms)"
