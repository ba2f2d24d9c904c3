"""Checks of lab 07 (the req/s table): demand, Little's law, the bound of a configuration, an async page.

The first three are arithmetic, compared with ``scalecode.capacity`` on several inputs; the
classic slips (milliseconds not converted to seconds, dividing by the latency instead of
multiplying, rounding down, ignoring the cores or the blocking wait) each get their own hint.

The fourth serves the learner's coroutine, which lives in the notebook and so cannot be
imported by a server process: the check runs it *in this process*, under its own asyncio
event loop in a helper thread (the kernel's loop is busy running the cell), for 24
concurrent requests against the real external API (a subprocess, here answering after
300 ms so that even a busy machine starts all the calls before the first answer). It judges
by counting: the external API reports how many calls were in flight at the same moment. A
handler that blocks the loop reaches 1, whatever the machine's speed; a truly asynchronous
one reaches about 24, a thread pool or a client limit something in between (at least half
is required). It also requires the round to be served at least 5× faster than the blocking
handler could (24 × 300 ms = 7.2 s), a loose bound that holds on a busy machine.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import threading
import time
import warnings

from ..capacity import bound_rps as _bound_rps
from ..capacity import demand_rps as _demand_rps
from ..capacity import workers_needed as _workers_needed
from .core import Hint, NotDone, call, check, close, number

CONCURRENT = 24
EXTERNAL_MS = 300.0  # longer than the lecture's 100 ms, so a busy machine can still start 24 calls in time
SPEEDUP_TARGET = 5.0


@check("Exercise 1: the load to expect", "write demand_rps(users, hours, page_views)")
def check_demand_rps(demand_rps) -> str:
    """Compares with ``capacity.demand_rps`` on the talk's case and two others."""
    cases = [(10_000_000, 10, 5), (1_000_000, 1, 1), (36_000, 2, 4)]
    for users, hours, views in cases:
        got = number(call(demand_rps, users, hours, views, name="demand_rps"), "demand_rps")
        want = _demand_rps(users, hours, views)
        if close(got, want):
            continue
        if close(got, want * 3600):
            raise Hint("convert the hours to seconds: an hour has 3600 s (req/s is per second)")
        if close(got, want * 60):
            raise Hint("that is per minute: an hour has 3600 seconds, not 60")
        if close(got, want / views) and views != 1:
            raise Hint("every user views page_views pages: multiply by page_views")
        if close(got, want / views**2) and views != 1:
            raise Hint("multiply by page_views, don't divide by it: more page views, more requests")
        raise Hint(f"for {users:,} users, {hours} h, {views} page views expected {want:,.1f} req/s, got {got:,.1f}")
    return f"10 M users × 5 pages in 10 h = {_demand_rps(10_000_000, 10, 5):,.0f} req/s (the talk: ~1 500)"


@check("Exercise 2: workers for a target load (Little's law)", "write workers_needed(target_rps, latency_ms)")
def check_workers_needed(workers_needed) -> str:
    """Compares with ``capacity.workers_needed``: ceil(target × latency in seconds)."""
    cases = [(1500, 120), (50, 130), (1389, 250), (10, 100)]
    for target, latency_ms in cases:
        raw = call(workers_needed, target, latency_ms, name="workers_needed")
        got = number(raw, "workers_needed")
        want = _workers_needed(target, latency_ms)
        exact = target * latency_ms / 1000
        if got == want:
            if not float(got).is_integer():  # pragma: no cover - want is an int
                raise Hint("return a whole number of workers")
            continue
        if close(got, exact * 1000, 0.001) or close(got, math.ceil(exact * 1000), 0.001):
            raise Hint("convert the latency to seconds first: 120 ms = 0.120 s (req/s × s = requests in flight)")
        if close(got, target / (latency_ms / 1000), 0.01) or close(got, target / latency_ms, 0.01) \
                or close(got, math.ceil(target / latency_ms), 0.001):  # fmt: skip
            raise Hint("Little's law multiplies: requests in flight = throughput (req/s) × latency (s)")
        if close(got, (latency_ms / 1000) / target, 0.01) or close(got, 1000 / latency_ms, 0.01):
            raise Hint("use the target throughput, not only the latency: workers = target_rps × latency_s")
        if close(got, exact, 1e-6) and not exact.is_integer():
            raise Hint(f"{exact:g} workers do not exist: round up to a whole number (math.ceil)")
        if got == math.floor(exact) or got == round(exact):
            raise Hint(
                f"{int(got)} workers serve only {got / (latency_ms / 1000):.1f} req/s < {target}: round up (math.ceil)"
            )
        raise Hint(f"for {target} req/s at {latency_ms} ms expected {want} workers, got {got:g}")
    return "1 500 req/s at 120 ms each need 180 requests in flight: 180 synchronous workers"


_BOUND_CASES = [
    # processes, cores, cpu_ms, external_ms, blocking
    (1, 2, 20, 0, True),
    (2, 2, 20, 0, True),
    (8, 2, 20, 0, True),
    (1, 2, 20, 100, True),
    (1, 2, 20, 100, False),
    (4, 8, 10, 50, True),
    (16, 2, 20, 100, True),
    (8, 8, 20, 100, False),
]


@check("Exercise 3: the bound of a configuration", "write bound_rps(processes, cores, cpu_ms, external_ms, blocking)")
def check_bound_rps(bound_rps) -> str:
    """Compares with ``capacity.bound_rps`` (enough users) on eight configurations."""
    for processes, cores, cpu_ms, external_ms, blocking in _BOUND_CASES:
        got = number(call(bound_rps, processes, cores, cpu_ms, external_ms, blocking, name="bound_rps"), "bound_rps")
        want = _bound_rps(processes, cores, cpu_ms, external_ms, blocking)
        if close(got, want):
            continue
        call_text = f" + {external_ms} ms {'blocking' if blocking else 'awaited'} call" if external_ms else ""
        what = f"{processes} process{'es' if processes > 1 else ''} on {cores} cores, {cpu_ms} ms CPU{call_text}"
        if close(got, want / 1000) or close(got, want * 1000):
            raise Hint(f"{what}: convert milliseconds to seconds (20 ms = 0.020 s) before 1 / time")
        cpu_only = processes / (cpu_ms / 1000)
        if close(got, cpu_only) and processes > cores:
            raise Hint(f"{what}: processes beyond the cores add no CPU: use min(processes, cores)")
        per_process_wait = processes / ((cpu_ms + external_ms) / 1000)
        if blocking and external_ms and close(got, min(processes, cores) / (cpu_ms / 1000)):
            raise Hint(f"{what}: a blocking call holds its process for cpu + external ms: processes / (cpu + ext)")
        if blocking and external_ms and close(got, processes / (external_ms / 1000)):
            raise Hint(f"{what}: the process also burns cpu_ms per request: processes / (cpu_s + external_s)")
        if blocking and external_ms and close(got, per_process_wait):
            raise Hint(f"{what}: the cores still cap it: at most min(processes, cores) / cpu_s req/s of CPU work")
        if not blocking and close(got, min(per_process_wait, min(processes, cores) / (cpu_ms / 1000))):
            raise Hint(f"{what}: an awaited call does not hold the process; only the CPU time counts")
        raise Hint(f"{what}: expected {want:.1f} req/s, got {got:.1f}")
    return "1 process ≤ 50 req/s; 8 on 2 cores ≤ 100; blocking 20 + 100 ms ≤ 8.3; awaited ≤ 50"


def _run_concurrently(page_async, url: str, n: int, timeout_s: float = 30) -> dict:
    """Run ``page_async(client, url)`` ``n`` times at once, twice (warm-up, measured), in a helper thread."""
    import httpx

    from ..webapps.bench import external_stats, reset_external

    outcome: dict = {}

    async def rounds() -> None:
        limits = httpx.Limits(max_connections=4 * n, max_keepalive_connections=4 * n)
        async with httpx.AsyncClient(timeout=20, limits=limits) as client:
            await asyncio.gather(*(client.get(url) for _ in range(n)))  # warm-up: open n connections
            reset_external(url)
            started = time.perf_counter()
            outcome["pages"] = await asyncio.gather(*(page_async(client, url) for _ in range(n)))
            outcome["elapsed"] = time.perf_counter() - started

    def runner() -> None:
        try:
            asyncio.run(asyncio.wait_for(rounds(), timeout_s))
        except BaseException as exc:  # reported to the check's thread
            outcome["error"] = exc

    thread = threading.Thread(target=runner, name="scalecode-check-async", daemon=True)
    thread.start()
    thread.join(timeout_s + 5)
    if thread.is_alive():
        raise Hint(f"{n} concurrent pages did not finish within {timeout_s:.0f} s: does page_async ever return?")
    if "error" in outcome:
        exc = outcome["error"]
        if isinstance(exc, NotImplementedError):
            raise NotDone("page_async still raises NotImplementedError")
        if isinstance(exc, asyncio.TimeoutError | TimeoutError):
            raise Hint(f"{n} concurrent pages took more than {timeout_s:.0f} s: something waits without awaiting")
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise Hint(f"page_async raised {type(exc).__name__}{': ' + text if text else ''}")
    outcome["stats"] = external_stats(url)
    return outcome


def _raises_not_implemented(page_async) -> bool:
    """True when the coroutine raises NotImplementedError at once (the lab's stub), without any service."""
    result: dict = {}

    async def probe() -> None:
        try:
            await asyncio.wait_for(page_async(None, "http://127.0.0.1:9/"), 2)
        except NotImplementedError:
            result["stub"] = True
        except BaseException:  # anything else: not the stub; the real run will tell
            pass

    thread = threading.Thread(target=lambda: asyncio.run(probe()), daemon=True)
    thread.start()
    thread.join(5)
    return result.get("stub", False)


@check("Exercise 4: make the page async", "write async def page_async(client, url)")
def check_async_page(page_async) -> str:
    """Serves 24 concurrent requests with ``page_async`` in-process; counts calls in flight at the API."""
    from ..webapps.bench import external_api

    if not callable(page_async):
        raise Hint(f"page_async should be a function, got {type(page_async).__name__}")
    if not inspect.iscoroutinefunction(page_async):
        raise Hint("define it with `async def page_async(client, url):` so the event loop can interleave requests")
    if _raises_not_implemented(page_async):
        raise NotDone("page_async still raises NotImplementedError")
    with external_api(EXTERNAL_MS) as api, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine ... was never awaited" in a wrong answer
        outcome = _run_concurrently(page_async, api.url, CONCURRENT)
    pages, elapsed, in_flight = outcome["pages"], outcome["elapsed"], outcome["stats"]["max_in_flight"]
    first = pages[0]
    if first is None:
        raise NotDone("page_async returns None: return the page (a str)")
    if inspect.iscoroutine(first):
        for page in pages:
            page.close()
        raise Hint("page_async returned a coroutine: `await` the client's call (await client.get(url))")
    if not isinstance(first, str):
        kind = type(first).__name__
        raise Hint(f"page_async returned a {kind}, not the page: use the response's .text in the page (a str)")
    if not all(isinstance(p, str) and "external #" in p for p in pages):
        raise Hint("put the external API's answer (response.text) in the page, as page_blocking does")
    if len(set(pages)) < len(pages):
        raise Hint("several pages carry the same answer: call the external API once per page, not once overall")
    if in_flight <= 1:
        raise Hint(
            "the external API never saw two calls at once: your coroutine blocks the event loop "
            "(a sync client such as httpx.get, or time.sleep); await the async client: await client.get(url)"
        )
    if in_flight < CONCURRENT // 2:
        raise Hint(
            f"only {in_flight} of {CONCURRENT} calls were in flight at once: something caps concurrency "
            "(a thread pool, a semaphore, a client limit such as AsyncHTTPClient's max_clients=10)"
        )
    rate = CONCURRENT / elapsed
    blocking_rate = 1000 / EXTERNAL_MS
    if rate < SPEEDUP_TARGET * blocking_rate:
        raise Hint(
            f"{CONCURRENT} pages took {elapsed:.2f} s ({rate:.0f} req/s, "
            f"target ≥ {SPEEDUP_TARGET * blocking_rate:.0f}): "
            "reuse the client you are given instead of opening a new one per page"
        )
    return (
        f"{in_flight} of {CONCURRENT} calls in flight at once; {rate:.0f} pages/s = "
        f"{rate / blocking_rate:.0f}× the blocking handler's {blocking_rate:.0f} req/s"
    )
