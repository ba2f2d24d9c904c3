"""Writes under load: delay the writes, batch them, and lose nothing when a worker dies.

A burst of page views (one row per view) can be written to the database in three ways:
``save_one_by_one`` (one ``INSERT`` and one commit per row, Django's autocommit),
``save_in_transaction`` (one ``INSERT`` per row, one commit) and ``bulk_insert``
(``bulk_create``: a few multi-row ``INSERT`` statements). Notebook 10 measures rows/s.

Then the talk's remedy when the database cannot take the writes: the web process only
appends the event to a Redis list (``enqueue``), and a worker (``Worker``, run as
``python -m scalecode.batchwriter ...``) writes them to the database in batches, by size
and by age (``BatchBuffer``). Made reliable:

- a batch is *taken* with one atomic move from the queue to the worker's own processing
  list (``take_batch``, a Lua script) and removed from Redis only after the database
  commit (``ack``): a worker killed mid-batch loses nothing;
- on start, a worker first re-inserts what its processing list still holds (``recover``);
- inserts are idempotent (``insert_idempotent``: each event has a unique ``event_id``
  and ``bulk_create(..., ignore_conflicts=True)``), so re-processing a batch that was
  committed just before the crash adds no duplicate.

Keys: ``scalecode:events:<run>:queue``, ``...:processing:<worker>``, ``...:ready:<worker>``,
``...:stats:<worker>`` (``Keys``). Rows of a run have ``event_id`` ``"<run>-<n>"``, so a
run counts and deletes only its own rows (``count_rows``, ``delete_rows``).

Sources: Iuri de Silvio, "Escalando para o imprevisível" (can't write to the database →
delay the writes and batch them; Celery has no batching); Redis docs, "Reliable queue"
pattern (``LMOVE``) and ``EVAL``; Django docs, ``bulk_create`` and ``transaction.atomic``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .config import KEY_PREFIX

_RUN_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")


# --- events --------------------------------------------------------------------------------
def new_run_id() -> str:
    """A random run id (10 hex characters): every run writes and deletes only its own rows and keys."""
    return uuid.uuid4().hex[:10]


def _check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise ValueError(f"run_id must be 1-40 letters, digits or '_', got {run_id!r}")
    return run_id


def make_events(run_id: str, n: int, *, seed: int = 0, news_count: int = 3000, start: int = 0) -> list[dict]:
    """``n`` page-view events of run ``run_id``: ``{"id", "news", "reader", "at"}``.

    ``id`` is ``"<run_id>-<number>"`` (unique: the idempotency key), ``news`` a news id in
    ``1..news_count`` (skewed: popular items get most views), ``reader`` a reader id or
    ``None`` (anonymous), ``at`` the time of the view (Unix seconds). Deterministic for a
    given ``seed``; ``start`` offsets the numbering. Raises ``ValueError`` for ``n < 0``.
    """
    import numpy as np

    _check_run_id(run_id)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    news = np.minimum(rng.zipf(1.3, n), news_count)
    readers = rng.integers(1, 501, n)
    anonymous = rng.random(n) < 0.6
    now = time.time()
    return [
        {"id": f"{run_id}-{start + i:07d}", "news": int(news[i]),
         "reader": None if anonymous[i] else int(readers[i]), "at": round(now + i * 1e-3, 3)}
        for i in range(n)
    ]  # fmt: skip


def encode(event: dict) -> str:
    """The JSON text stored in Redis for one event."""
    return json.dumps(event, separators=(",", ":"))


def decode(raw: bytes | str) -> dict:
    """The event of one Redis list item (``bytes`` or ``str``); raises ``ValueError`` if not JSON."""
    return json.loads(raw)


def to_page_view(event: dict):
    """A ``PageView`` (not saved) for one event dict; raises ``KeyError`` for a missing field."""
    from .newsroom.models import PageView

    return PageView(
        event_id=event["id"],
        news_id=event["news"],
        reader_id=event.get("reader"),
        viewed_at=datetime.fromtimestamp(event["at"], tz=UTC),
    )


# --- three ways to write a burst -----------------------------------------------------------
def save_one_by_one(events: Sequence[dict]) -> int:
    """``save()`` each event in autocommit mode: one ``INSERT`` and one commit per row. Returns rows."""
    for event in events:
        to_page_view(event).save()
    return len(events)


def save_in_transaction(events: Sequence[dict]) -> int:
    """``save()`` each event inside one ``transaction.atomic()``: one ``INSERT`` per row, one commit."""
    from django.db import transaction

    with transaction.atomic():
        for event in events:
            to_page_view(event).save()
    return len(events)


def bulk_insert(events: Sequence[dict], batch_size: int | None = None) -> int:
    """``bulk_create`` the events: a few multi-row ``INSERT`` statements, one commit.

    Raises ``django.db.IntegrityError`` when an ``event_id`` is already stored.
    """
    from .newsroom.models import PageView

    PageView.objects.bulk_create([to_page_view(e) for e in events], batch_size=batch_size)
    return len(events)


def insert_idempotent(events: Sequence[dict], batch_size: int | None = None) -> int:
    """``bulk_create(..., ignore_conflicts=True)``: rows whose ``event_id`` exists are skipped.

    Replaying a batch is a no-op (``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL,
    ``INSERT OR IGNORE`` on SQLite). Returns the number of events given (not inserted).
    """
    from .newsroom.models import PageView

    PageView.objects.bulk_create([to_page_view(e) for e in events], batch_size=batch_size, ignore_conflicts=True)
    return len(events)


def count_rows(run_id: str) -> int:
    """Rows of run ``run_id`` in the events table (``event_id`` starting ``"<run_id>-"``)."""
    from .newsroom.models import PageView

    return PageView.objects.filter(event_id__startswith=f"{_check_run_id(run_id)}-").count()


def delete_rows(run_id: str) -> int:
    """Delete the rows of run ``run_id`` only (never the whole table); returns how many."""
    from .newsroom.models import PageView

    deleted, _ = PageView.objects.filter(event_id__startswith=f"{_check_run_id(run_id)}-").delete()
    return deleted


def audit(run_id: str, events: Sequence[dict]) -> dict[str, int]:
    """Compare the events sent with the rows stored: ``{"sent", "rows", "lost", "duplicates"}``.

    ``lost``: events whose ``event_id`` is not in the table; ``duplicates``: rows beyond
    one per event (the unique ``event_id`` makes them impossible; the audit checks it).
    """
    from .newsroom.models import PageView

    ids = list(PageView.objects.filter(event_id__startswith=f"{_check_run_id(run_id)}-")
               .values_list("event_id", flat=True))  # fmt: skip
    sent = {e["id"] for e in events}
    stored = [i for i in ids if i in sent]
    return {"sent": len(events), "rows": len(ids), "lost": len(sent - set(stored)),
            "duplicates": len(stored) - len(set(stored))}


def write_rate(write: Callable[[Sequence[dict]], object], events: Sequence[dict], run_id: str, *,
               round_trip_s: float = 0.0) -> dict[str, float]:  # fmt: skip
    """Time ``write(events)``; return ``{"rows_s", "queries", "seconds"}``, then delete the run's rows.

    ``round_trip_s``: a simulated network round trip per SQL query (``remote_database``),
    0 for the database as it is. Raises ``AssertionError`` if the rows were not all written.
    """
    from .newsroom.pages import remote_database

    delete_rows(run_id)
    with remote_database(round_trip_s) as db:
        start = time.perf_counter()
        write(events)
        seconds = time.perf_counter() - start
    written = count_rows(run_id)
    delete_rows(run_id)
    assert written == len(events), f"{getattr(write, '__name__', write)} wrote {written} of {len(events)} rows"
    return {"rows_s": len(events) / seconds, "queries": db.queries, "seconds": seconds}


# --- Redis: keys, queue, atomic take, ack, recover -----------------------------------------
@dataclass(frozen=True)
class Keys:
    """The Redis keys of one run (and one worker): all under ``scalecode:events:<run>:``."""

    run_id: str
    worker: str = "w1"

    def __post_init__(self) -> None:
        _check_run_id(self.run_id)
        _check_run_id(self.worker)

    @property
    def prefix(self) -> str:
        return f"{KEY_PREFIX}events:{self.run_id}:"

    @property
    def queue(self) -> str:
        return self.prefix + "queue"

    @property
    def processing(self) -> str:
        return f"{self.prefix}processing:{self.worker}"

    @property
    def ready(self) -> str:
        return f"{self.prefix}ready:{self.worker}"

    @property
    def stats(self) -> str:
        return f"{self.prefix}stats:{self.worker}"


def enqueue(client, queue: str, events: Sequence[dict], *, chunk: int = 1000) -> int:
    """Append the events to the Redis list ``queue`` (``RPUSH``, pipelined by ``chunk``). Returns the count.

    This is all a web request does: a Redis ``RPUSH`` takes microseconds, the database is
    not touched.
    """
    for i in range(0, len(events), chunk):
        client.rpush(queue, *(encode(e) for e in events[i : i + chunk]))
    return len(events)


#: Move up to ARGV[1] items from the head of KEYS[1] to the tail of KEYS[2], atomically.
TAKE_BATCH_LUA = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  for i = 1, #items do redis.call('RPUSH', KEYS[2], items[i]) end
end
return items
"""


def take_batch(client, queue: str, processing: str, size: int) -> list:
    """Move up to ``size`` events from ``queue`` to ``processing`` in one atomic step; return them.

    A Lua script runs atomically in Redis: every event is always in exactly one of the two
    lists, whatever crashes. The caller inserts them, then calls ``ack``. Raises
    ``ValueError`` for ``size < 1``. (Redis docs: "Pattern: Reliable queue", ``EVAL``.)
    """
    if int(size) < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    return client.eval(TAKE_BATCH_LUA, 2, queue, processing, int(size))


def ack(client, processing: str) -> None:
    """Forget the batch in ``processing``: call only after the database commit."""
    client.delete(processing)


def recover(client, processing: str, insert: Callable[[list[dict]], object] = insert_idempotent) -> int:
    """Re-insert what ``processing`` still holds (a batch a dead worker took), then clear it.

    Returns how many events were re-inserted. The list is deleted only after ``insert``
    returned, so a failure here loses nothing either; ``insert`` must be idempotent
    (the batch may have been committed just before the crash).
    """
    raw = client.lrange(processing, 0, -1)
    if raw:
        insert([decode(item) for item in raw])
    ack(client, processing)
    return len(raw)


# --- batching by size and age --------------------------------------------------------------
class BatchBuffer:
    """Collect items and hand them to ``flush(batch)`` by size and by age.

    - ``add(item)`` flushes as soon as ``size`` items are pending (exactly ``size``);
    - ``tick()`` (and ``add``) flushes a partial batch once its oldest item has waited
      ``max_age_s`` seconds, so no item waits longer than that plus one tick.

    ``clock`` returns seconds (default ``time.monotonic``; tests pass a fake clock). When
    ``flush`` raises, the items stay pending. Raises ``ValueError`` for ``size < 1`` or a
    negative ``max_age_s``.
    """

    def __init__(self, flush: Callable[[list], object], size: int, max_age_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        if int(size) < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        if max_age_s < 0:
            raise ValueError(f"max_age_s must be >= 0 seconds, got {max_age_s}")
        self._flush, self.size, self.max_age_s, self.clock = flush, int(size), float(max_age_s), clock
        self.pending: list = []
        self.first_at: float | None = None
        self.flushes = 0

    def add(self, item) -> bool:
        """Add one item; returns True when this call flushed."""
        if not self.pending:
            self.first_at = self.clock()
        self.pending.append(item)
        if len(self.pending) >= self.size:
            self.flush()
            return True
        return self.tick()

    def tick(self) -> bool:
        """Flush the pending items if the oldest is ``max_age_s`` old; returns True when it flushed."""
        if self.pending and self.clock() - self.first_at >= self.max_age_s:
            self.flush()
            return True
        return False

    def time_left(self) -> float | None:
        """Seconds until the pending batch is due by age (``None`` when nothing is pending)."""
        if not self.pending:
            return None
        return max(0.0, self.first_at + self.max_age_s - self.clock())

    def flush(self) -> None:
        """Hand every pending item to ``flush`` now (nothing when empty)."""
        if not self.pending:
            return
        self._flush(list(self.pending))
        self.pending.clear()
        self.first_at = None
        self.flushes += 1


# --- the worker --------------------------------------------------------------------------
class Killed(Exception):
    """Raised inside a paused worker when it is asked to stop: the batch is left uncommitted."""


class Worker:
    """Move events from Redis to the database in batches (by size and age), crash-safely.

    ``client``: redis-py client; ``keys``: ``Keys``. ``size`` events per batch at most,
    a partial batch after ``max_age_s`` seconds. ``insert(events)`` writes a batch
    (default ``insert_idempotent``). ``unsafe=True`` is the classic wrong worker, for
    comparison: it pops events (``LPOP``) before inserting them with a plain
    ``bulk_create``, so a crash loses the batch.

    Test hooks, to make a crash land mid-batch deterministically: at its ``pause_batch``-th
    batch (1-based) the worker sleeps ``pause_s`` seconds ``"before-commit"`` (taken, not
    written) or ``"after-commit"`` (written, not yet removed from Redis).
    """

    def __init__(self, client, keys: Keys, *, size: int = 500, max_age_s: float = 0.05,
                 insert: Callable[[list[dict]], object] | None = None, unsafe: bool = False,
                 pause_batch: int | None = None, pause_stage: str = "before-commit", pause_s: float = 0.0,
                 should_stop: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
        if pause_stage not in {"before-commit", "after-commit"}:
            raise ValueError(f"pause_stage must be 'before-commit' or 'after-commit', not {pause_stage!r}")
        self.client, self.keys, self.unsafe = client, keys, unsafe
        self.insert = insert or (bulk_insert if unsafe else insert_idempotent)
        self.buffer = BatchBuffer(self._commit, size, max_age_s)
        self.pause_batch, self.pause_stage, self.pause_s = pause_batch, pause_stage, pause_s
        self.should_stop = should_stop
        self.batches = 0
        self.rows = 0
        self.recovered = 0

    def _pause(self, stage: str) -> None:
        if self.pause_batch == self.batches and self.pause_stage == stage:
            self.client.hset(self.keys.stats, "paused", stage)
            deadline = time.monotonic() + self.pause_s
            while time.monotonic() < deadline:
                if self.should_stop():
                    raise Killed(stage)
                time.sleep(0.01)

    def _commit(self, batch: list) -> None:
        self.batches += 1
        self._pause("before-commit")
        self.insert(batch)
        self._pause("after-commit")
        if not self.unsafe:
            ack(self.client, self.keys.processing)
        self.rows += len(batch)
        pipe = self.client.pipeline()
        pipe.hincrby(self.keys.stats, "batches", 1)
        pipe.hincrby(self.keys.stats, "rows", len(batch))
        pipe.execute()

    def start(self) -> int:
        """Recover the processing list (unless unsafe), then announce readiness; returns events recovered."""
        if not self.unsafe:
            self.recovered = recover(self.client, self.keys.processing, self.insert)
            if self.recovered:
                self.client.hincrby(self.keys.stats, "recovered", self.recovered)
                self.client.hincrby(self.keys.stats, "rows", self.recovered)
        self.client.set(self.keys.ready, os.getpid(), ex=3600)
        return self.recovered

    def run_once(self) -> int:
        """Take what fits in the current batch, flush if due by size or age; returns events taken."""
        room = self.buffer.size - len(self.buffer.pending)
        if self.unsafe:
            raw = self.client.lpop(self.keys.queue, room) or []
        else:
            raw = take_batch(self.client, self.keys.queue, self.keys.processing, room)
        for item in raw:
            self.buffer.add(decode(item))
        self.buffer.tick()
        return len(raw)

    def run(self, *, exit_when_idle_s: float | None = None) -> None:
        """Loop until ``should_stop()`` (or idle for ``exit_when_idle_s``), then flush what is pending."""
        self.start()
        idle_since = time.monotonic()
        try:
            while not self.should_stop():
                if self.run_once():
                    idle_since = time.monotonic()
                    continue
                if exit_when_idle_s is not None and not self.buffer.pending and (
                    time.monotonic() - idle_since >= exit_when_idle_s
                ):
                    break
                left = self.buffer.time_left()
                time.sleep(min(0.005 if left is None else left, 0.005) or 0.001)
            self.buffer.flush()
        except Killed:
            pass
        finally:
            with contextlib.suppress(Exception):
                self.client.delete(self.keys.ready)


# --- running it as a process ---------------------------------------------------------------
def worker_argv(redis_url: str, keys: Keys, **options) -> list[str]:
    """The command line of a worker process: ``python -m scalecode.batchwriter --redis-url ... --run ...``.

    ``options``: ``size``, ``max_age_s``, ``db_round_trip_s``, ``unsafe``, ``pause_batch``,
    ``pause_stage``, ``pause_s``, ``exit_when_idle_s`` (see ``main``).
    """
    argv = [sys.executable, "-m", "scalecode.batchwriter", "--redis-url", redis_url,
            "--run", keys.run_id, "--worker", keys.worker]  # fmt: skip
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return argv


@contextlib.contextmanager
def worker_process(redis_url: str, keys: Keys, *, startup_timeout: float = 30.0, **options) -> Iterator:
    """Run a worker as a real process for a ``with`` block; yields its ``Service`` (``.kill()`` = SIGKILL).

    Ready once the worker has recovered its processing list and set its ready key. On
    exit the process is stopped (SIGTERM: it flushes what is pending, then exits).
    """
    import redis

    from .services import Service

    probe = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5)
    probe.delete(keys.ready)
    try:
        service = Service(f"batch writer {keys.worker}", worker_argv(redis_url, keys, **options), listens=False,
                          ready=lambda _svc: bool(probe.exists(keys.ready)), startup_timeout=startup_timeout)
        with service:
            yield service
    finally:
        probe.close()


def wait_until(predicate: Callable[[], bool], timeout_s: float = 30.0, interval_s: float = 0.005,
               what: str = "the condition") -> float:  # fmt: skip
    """Poll ``predicate`` until true; return the seconds waited. Raises ``TimeoutError`` after ``timeout_s``."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(interval_s)
    return time.perf_counter() - start


def stats(client, keys: Keys) -> dict[str, int | str]:
    """The worker's counters from Redis: ``batches``, ``rows``, ``recovered`` (and ``paused``)."""
    raw = client.hgetall(keys.stats)
    out: dict[str, int | str] = {"batches": 0, "rows": 0, "recovered": 0}
    for key, value in raw.items():
        key = key.decode() if isinstance(key, bytes) else key
        value = value.decode() if isinstance(value, bytes) else value
        out[key] = int(value) if value.lstrip("-").isdigit() else value
    return out


def pipeline_throughput(client, keys: Keys, events: Sequence[dict], *, timeout_s: float = 60.0) -> float:
    """Rows/s end to end: ``enqueue`` every event, wait until the running worker has committed them all.

    Needs a worker (``worker_process``) on ``keys``; polls the worker's row counter in Redis,
    then confirms with a count in the database. Raises ``TimeoutError``.
    """
    before = int(stats(client, keys)["rows"])
    start = time.perf_counter()
    enqueue(client, keys.queue, events)
    wait_until(lambda: int(stats(client, keys)["rows"]) - before >= len(events), timeout_s, what="the batch writer")
    elapsed = time.perf_counter() - start
    return len(events) / elapsed


def crash_demo(redis_url: str, keys: Keys, events: Sequence[dict], *, size: int = 100, kill_at_batch: int = 3,
               unsafe: bool = False, timeout_s: float = 30.0) -> tuple[list[dict], dict[str, int]]:  # fmt: skip
    """Kill a worker process mid-batch (SIGKILL), restart it, and count what was lost or duplicated.

    Enqueues ``events``; worker A pauses at batch ``kill_at_batch`` after taking it and
    before committing it, and is killed there. With the reliable worker (``unsafe=False``),
    worker B re-inserts that batch from its processing list on start, takes and commits its
    own first batch, and is killed after that commit and before removing the batch from
    Redis (the replay case: committed rows still in the processing list). Worker C
    then drains the queue. Returns ``(timeline, audit)``: one dict per step (``step``,
    ``queue``, ``processing``, ``rows``) and ``audit(...)`` of the run. Needs the events of
    ``keys.run_id`` only; raises ``TimeoutError`` when a step does not happen in time.
    """
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10)
    timeline: list[dict] = []

    def snapshot(step: str) -> None:
        timeline.append({"step": step, "queue": client.llen(keys.queue), "processing": client.llen(keys.processing),
                         "rows": count_rows(keys.run_id)})  # fmt: skip

    def paused(stage: str) -> Callable[[], bool]:
        return lambda: stats(client, keys).get("paused") == stage

    try:
        client.delete(keys.queue, keys.processing, keys.stats)
        enqueue(client, keys.queue, events)
        snapshot(f"{len(events)} events enqueued")
        with worker_process(redis_url, keys, size=size, unsafe=unsafe, pause_batch=kill_at_batch, pause_s=timeout_s,
                            startup_timeout=timeout_s) as svc:  # fmt: skip
            wait_until(paused("before-commit"), timeout_s, what="the pause before the commit")
            snapshot(f"A took batch {kill_at_batch}, paused before the commit")
            svc.kill()
        client.hdel(keys.stats, "paused")
        snapshot("A killed (SIGKILL)")
        if not unsafe:
            with worker_process(redis_url, keys, size=size, pause_batch=1, pause_stage="after-commit",
                                pause_s=timeout_s, startup_timeout=timeout_s) as svc:  # fmt: skip
                wait_until(paused("after-commit"), timeout_s, what="the pause after the commit")
                snapshot("B recovered it, committed 1 more, paused before ack")
                svc.kill()
            client.hdel(keys.stats, "paused")
            snapshot("B killed (SIGKILL)")
        with worker_process(redis_url, keys, size=size, unsafe=unsafe, startup_timeout=timeout_s):
            wait_until(lambda: client.llen(keys.queue) == 0 and client.llen(keys.processing) == 0, timeout_s,
                       what="draining the queue")  # fmt: skip
            drained = len(events) - (size if unsafe else 0)
            with contextlib.suppress(TimeoutError):
                wait_until(lambda: count_rows(keys.run_id) >= drained, timeout_s, what="the last commit")
        snapshot("C drained the queue")
        return timeline, audit(keys.run_id, events)
    finally:
        client.delete(keys.queue, keys.processing, keys.stats, keys.ready)
        client.close()


# --- RQ, for comparison --------------------------------------------------------------------
def rq_save_events(events: list[dict]) -> int:
    """An RQ job: write ``events`` (one event, or a batch) with ``insert_idempotent``, in the RQ worker."""
    from .backends import setup_django

    setup_django(load_data=False)
    return insert_idempotent(events)


#: A lock key RQ's worker maintenance sets (with a TTL) in RQ 2.x/3.x.
RQ_CLEAN_LOCK = "rq:clean_groups"


def rq_throughput(redis_url: str, run_id: str, events: Sequence[dict], *, per_job: int = 1,
                  timeout_s: float = 60.0) -> dict[str, float]:  # fmt: skip
    """Write ``events`` through RQ, ``per_job`` events per job, with one burst ``SimpleWorker`` process.

    Returns ``{"jobs", "rows_s"}``: rows/s between the end of the first job (which also pays
    Django's start-up in the worker) and the end of the last. The queue, its jobs and its
    registries (keys ``rq:*<queue>*``, and RQ's maintenance lock if it was not there before)
    are deleted afterwards; the rows are left for the caller.
    Raises ``ServiceError`` when the worker fails, ``ValueError`` for fewer than 2 jobs.
    """
    import redis
    from rq import Queue
    from rq.job import Job

    from .services import Service, ServiceError

    batches = [list(events[i : i + per_job]) for i in range(0, len(events), per_job)]
    if len(batches) < 2:
        raise ValueError("need at least 2 jobs to time the steady state")
    connection = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10)
    name = f"scalecode-events-{_check_run_id(run_id)}-{uuid.uuid4().hex[:6]}"
    queue = Queue(name, connection=connection)
    had_lock = connection.exists(RQ_CLEAN_LOCK)
    try:
        jobs = queue.enqueue_many([Queue.prepare_data(rq_save_events, args=(batch,), job_id=f"{name}-{i}")
                                   for i, batch in enumerate(batches)])  # fmt: skip
        argv = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url,
                "-w", "rq.worker.SimpleWorker", "--name", f"{name}-worker", name]  # fmt: skip
        with Service(f"rq worker {name}", argv, listens=False, ready=lambda _svc: True) as service:
            code = service.process.wait(timeout_s)
            if code != 0:
                raise ServiceError(f"the RQ worker exited with code {code}\n{service.log_tail()}")
        done = [job for job in Job.fetch_many([j.id for j in jobs], connection=connection) if job]
        ends = sorted(job.ended_at.timestamp() for job in done if job.ended_at)
        if len(ends) != len(batches):
            raise ServiceError(f"only {len(ends)} of {len(batches)} RQ jobs finished")
        rows = sum(len(b) for b in batches[1:])
        return {"jobs": len(batches), "rows_s": rows / max(ends[-1] - ends[0], 1e-9)}
    finally:
        keys = list(connection.scan_iter(match=f"rq:*{name}*", count=500))
        if keys:
            connection.delete(*keys)
        connection.srem("rq:queues", queue.key)
        if not had_lock:  # the worker's maintenance lock (it expires by itself; leave nothing behind)
            connection.delete(RQ_CLEAN_LOCK)
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Batch writer: Redis list -> database, by size and age.")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--run", required=True, help="run id: keys scalecode:events:<run>:...")
    parser.add_argument("--worker", default="w1", help="worker name (its own processing list)")
    parser.add_argument("--size", type=int, default=500, help="events per batch at most")
    parser.add_argument("--max-age-s", type=float, default=0.05, help="flush a partial batch after this many s")
    parser.add_argument("--db-round-trip-s", type=float, default=0.0, help="simulated database round trip, s")
    parser.add_argument("--unsafe", action="store_true", help="LPOP then INSERT: the classic wrong worker")
    parser.add_argument("--pause-batch", type=int, help="test hook: pause at this batch (1-based)")
    parser.add_argument("--pause-stage", default="before-commit", choices=["before-commit", "after-commit"])
    parser.add_argument("--pause-s", type=float, default=0.0, help="test hook: seconds to pause")
    parser.add_argument("--exit-when-idle-s", type=float, help="exit after this many idle seconds")
    args = parser.parse_args(argv)

    import redis

    from .backends import setup_django

    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    setup_django(load_data=False)
    from .newsroom.pages import remote_database

    client = redis.Redis.from_url(args.redis_url, socket_connect_timeout=2, socket_timeout=10)
    worker = Worker(client, Keys(args.run, args.worker), size=args.size, max_age_s=args.max_age_s,
                    unsafe=args.unsafe, pause_batch=args.pause_batch, pause_stage=args.pause_stage,
                    pause_s=args.pause_s, should_stop=lambda: stop["now"])  # fmt: skip
    with remote_database(args.db_round_trip_s):
        worker.run(exit_when_idle_s=args.exit_when_idle_s)
    print(f"batch writer {args.worker}: {worker.batches} batches, {worker.rows} rows, "
          f"{worker.recovered} recovered", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
