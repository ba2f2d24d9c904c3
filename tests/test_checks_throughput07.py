"""Checks of lab 07: any correct answer passes, the classic wrong ones get their specific hint."""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import pytest

from scalecode import capacity
from scalecode.checks import check_async_page, check_bound_rps, check_demand_rps, check_workers_needed


def stub(*args, **kwargs):
    raise NotImplementedError


def _status(result, hint_part: str = ""):
    assert result.status == ("passed" if not hint_part else "hint"), result.message
    assert hint_part in result.message


# --- exercise 1: demand -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda u, h, v: u * v / (h * 3600), ""),
        (lambda u, h, v: u * v / h / 60 / 60, ""),
        (capacity.demand_rps, ""),
        (lambda u, h, v: u * v / h, "3600"),
        (lambda u, h, v: u * v / (h * 60), "per minute"),
        (lambda u, h, v: u / (h * 3600), "multiply by page_views"),
        (lambda u, h, v: u * v // (h * 3600), ""),  # rounding is fine within 1 %
        (lambda u, h, v: "1389", "should return a number"),
        (lambda u, h, v: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_demand(answer, hint):
    _status(check_demand_rps(answer), hint)


def test_demand_stub_is_not_done():
    assert check_demand_rps(stub).status == "not done yet"
    assert check_demand_rps(None).status == "not done yet"


# --- exercise 2: workers ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda t, ms: math.ceil(t * ms / 1000), ""),
        (capacity.workers_needed, ""),
        (lambda t, ms: -(-t * ms // 1000), ""),
        (lambda t, ms: math.ceil(t * ms), "convert the latency to seconds"),
        (lambda t, ms: t * ms, "convert the latency to seconds"),
        (lambda t, ms: math.ceil(t / (ms / 1000)), "multiplies"),
        (lambda t, ms: t / ms, "multiplies"),
        (lambda t, ms: int(t * ms / 1000), "round up"),
        (lambda t, ms: round(t * ms / 1000), "round up"),
        (lambda t, ms: t * ms / 1000, "math.ceil"),
        (lambda t, ms: 1000 / ms, "target throughput"),
    ],
)
def test_workers(answer, hint):
    _status(check_workers_needed(answer), hint)


# --- exercise 3: the bound --------------------------------------------------------------
def good_bound(processes, cores, cpu_ms, external_ms, blocking=True):
    cpu_s, wait_s = cpu_ms / 1000, external_ms / 1000
    limit = min(processes, cores) / cpu_s
    if blocking:
        limit = min(limit, processes / (cpu_s + wait_s))
    return limit


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (good_bound, ""),
        (capacity.bound_rps, ""),
        (lambda n, c, cpu, ext, b: good_bound(n, c, cpu, ext, b) / 1000, "milliseconds"),
        (lambda n, c, cpu, ext, b: n / (cpu / 1000), "min(processes, cores)"),
        (lambda n, c, cpu, ext, b: min(n, c) / (cpu / 1000), "holds its process"),
        (lambda n, c, cpu, ext, b: min(n, c) / (cpu / 1000) if not (b and ext) else n / (ext / 1000), "also burns"),
        (lambda n, c, cpu, ext, b: n / ((cpu + ext) / 1000) if b and ext else min(n, c) / (cpu / 1000), "cores still"),
        (lambda n, c, cpu, ext, b: min(min(n, c) / (cpu / 1000), n / ((cpu + ext) / 1000)), "awaited call"),
    ],
)
def test_bound(answer, hint):
    _status(check_bound_rps(answer), hint)


# --- exercise 4: the async page ---------------------------------------------------------
async def good_page(client, url):
    response = await client.get(url)
    return f"<h1>Hello, world</h1><p>{response.text}</p>"


async def stub_page(client, url):
    raise NotImplementedError


async def blocking_page(client, url):
    return httpx.get(url).text


async def sleeping_page(client, url):
    time.sleep(0.01)
    return (await client.get(url)).text


async def no_await_page(client, url):
    return client.get(url)


async def response_page(client, url):
    return await client.get(url)


async def thread_page(client, url):
    return (await asyncio.to_thread(httpx.get, url)).text


_SHARED: dict = {}


async def shared_call_page(client, url):
    if "call" not in _SHARED:  # one external call shared by every page
        _SHARED["call"] = asyncio.ensure_future(client.get(url))
    return (await _SHARED["call"]).text


def sync_page(client, url):
    return httpx.get(url).text


def test_async_page_passes():
    _status(check_async_page(good_page))


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (sync_page, "async def"),
        (no_await_page, "returned a coroutine"),
        (response_page, "not the page"),
        (shared_call_page, "same answer"),
        (thread_page, "caps concurrency"),
        (blocking_page, "blocks the event loop"),
    ],
)
def test_async_page_hints(answer, hint):
    _status(check_async_page(answer), hint)


def test_async_page_stub_is_not_done_without_starting_anything():
    assert check_async_page(stub_page).status == "not done yet"
    assert check_async_page(None).status == "not done yet"
