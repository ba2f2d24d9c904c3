"""Checks of lab 10 (writes under load): batching by size and age, a crash-safe take, idempotent inserts.

They test behaviour only: which batches a fake clock makes a buffer flush, what the Redis
lists hold after a take and after a crash injected between any two Redis commands, and
how many rows the database holds after a batch is replayed (never timings).
"""

from __future__ import annotations

import fakeredis

from .core import Hint, NotDone, call, check

_LPOP_HINT = "events were removed from Redis before the commit: a crash here loses them"


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _buffer(BatchBuffer, flushed: list, size: int, max_age_s: float, clock: _FakeClock):
    def flush(batch) -> None:
        flushed.append(list(batch))

    buffer = call(BatchBuffer, flush, size, max_age_s, clock, name="BatchBuffer")
    if buffer is None:
        raise NotDone("BatchBuffer(...) returned None")
    return buffer


@check("Exercise 1: flush by size and by age", "write BatchBuffer.add and BatchBuffer.tick")
def check_batch_buffer(BatchBuffer) -> str:
    """Drives ``BatchBuffer(flush, size, max_age_s, clock)`` with a fake clock and records each flush."""
    clock, flushed = _FakeClock(), []
    buffer = _buffer(BatchBuffer, flushed, 3, 10.0, clock)
    for item in ("a", "b"):
        call(buffer.add, item, name="add")
    if flushed == [[]] or (flushed and not any(flushed)):
        raise Hint("flush was called with an empty batch: flush only when something is pending")
    if flushed:
        raise Hint(f"flushed {flushed[0]} before the batch was full (size 3): flush when it reaches the size")
    call(buffer.add, "c", name="add")
    if not flushed:
        raise Hint("3 events are pending with size=3 but nothing was flushed: flush as soon as len(pending) == size")
    if flushed[0] != ["a", "b", "c"]:
        raise Hint(f"the first flush should be exactly ['a', 'b', 'c'], got {flushed[0]}")
    for item in ("d", "e", "f", "g"):
        call(buffer.add, item, name="add")
    if len(flushed) >= 2 and flushed[1][:3] == ["a", "b", "c"]:
        raise Hint("the same events were flushed twice: empty the pending list after a flush")
    if flushed[1:] != [["d", "e", "f"]]:
        raise Hint(f"after adding d, e, f, g with size=3 the flushes should be [a b c], [d e f]; got {flushed}")

    clock.now, flushed = 0.0, []
    buffer = _buffer(BatchBuffer, flushed, 100, 1.0, clock)
    call(buffer.add, "x", name="add")
    clock.now = 0.5
    call(buffer.add, "y", name="add")
    call(buffer.tick, name="tick")
    clock.now = 0.99
    call(buffer.tick, name="tick")
    if flushed:
        raise Hint(f"flushed {flushed[0]} before the oldest event was max_age_s old: wait for the age limit")
    clock.now = 1.0
    call(buffer.tick, name="tick")
    if not flushed:
        clock.now = 1.5
        call(buffer.tick, name="tick")
        if flushed:
            raise Hint("the age must count from the oldest pending event, not from the newest one")
        raise Hint("a partial batch was never flushed: in tick(), flush when the oldest event is max_age_s old")
    if flushed != [["x", "y"]]:
        raise Hint(f"the age limit should flush the partial batch ['x', 'y'], got {flushed}")
    clock.now = 1.7
    call(buffer.tick, name="tick")
    if len(flushed) > 1:
        raise Hint("tick() flushed again with nothing pending: forget the old batch (and its age) after a flush")
    clock.now = 2.0
    call(buffer.add, "z", name="add")
    clock.now = 2.9
    call(buffer.tick, name="tick")
    if len(flushed) > 1:
        raise Hint("a new event was flushed too early: its age counts from when it was added, not from the last flush")
    clock.now = 3.0
    call(buffer.tick, name="tick")
    if flushed[1:] != [["z"]]:
        raise Hint("an event added after a flush must start a new age: it was held longer than max_age_s")
    return "flushes exactly at the size, and a partial batch once its oldest event is max_age_s old"


class _Crash(BaseException):
    """The worker process dies here (BaseException: a learner's ``except Exception`` cannot swallow it)."""


class _CrashingRedis(fakeredis.FakeRedis):
    """fakeredis that dies at its ``crash_at``-th command (1-based), like a worker killed mid-batch."""

    crash_at = 0
    commands = 0

    def execute_command(self, *args, **options):
        type(self).commands += 1
        if type(self).commands == type(self).crash_at:
            raise _Crash()
        return super().execute_command(*args, **options)


def _fresh(n: int = 10):
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server, decode_responses=True)
    events = [f'{{"id":"lab10-{i:07d}","news":{i + 1},"reader":null,"at":1700000000.0}}' for i in range(n)]
    client.rpush("scalecode:events:lab:queue", *events)
    return server, client, events


Q, P = "scalecode:events:lab:queue", "scalecode:events:lab:processing:w1"


def _as_text(items) -> list[str]:
    return [i.decode() if isinstance(i, bytes) else str(i) for i in (items or [])]


@check("Exercise 2: a crash-safe take", "write take_batch(client, queue, processing, size) and recover(...)")
def check_crash_safe(take_batch, recover) -> str:
    """Lists after a take; a crash injected before each Redis command; recover re-inserts, then clears."""
    server, client, events = _fresh()
    batch = _as_text(call(take_batch, client, Q, P, 4, name="take_batch"))
    queue, processing = client.lrange(Q, 0, -1), client.lrange(P, 0, -1)
    if not batch and len(queue) == 10:
        raise Hint("take_batch returned nothing: move up to `size` events from the queue and return them")
    if len(queue) == 10:
        raise Hint("the batch is still in the queue: the next take would hand out the same events again")
    if not processing:
        raise Hint(_LPOP_HINT + " (move them to the processing list in the same step)")
    if sorted(batch) != sorted(events[:4]):
        raise Hint(f"take_batch(size=4) should return the 4 oldest events, got {len(batch)} events")
    if sorted(processing) != sorted(events[:4]) or queue != events[4:]:
        raise Hint("after taking 4 of 10 events, the processing list should hold those 4 and the queue the other 6")

    inserted: list = []

    def insert(items) -> None:
        inserted.extend(items)

    # the worker dies right after the take: recover re-inserts the batch, then clears the list
    call(recover, client, P, insert, name="recover")
    got = sorted(_as_text(i if isinstance(i, (str, bytes)) else _event_text(i) for i in inserted))
    if not inserted:
        raise Hint("recover did not insert the events left in the processing list: pass them to insert(...)")
    if got != sorted(events[:4]):
        raise Hint(f"recover should insert exactly the {len(processing)} events of the processing list")
    if client.llen(P):
        raise Hint("after inserting, recover must clear the processing list, or the next restart inserts it again")
    if client.llen(Q) != 6:
        raise Hint("recover touched the queue: it should only re-insert (and then clear) the processing list")

    # a failing insert must leave the batch in Redis
    call(take_batch, client, Q, P, 3, name="take_batch")

    class DatabaseDown(Exception):
        pass

    def broken(items) -> None:
        raise DatabaseDown("the database is down")

    try:
        recover(client, P, broken)
    except DatabaseDown:
        pass
    except NotImplementedError:
        raise NotDone("recover still raises NotImplementedError") from None
    if client.llen(P) != 3:
        raise Hint("you cleared the processing list before the insert succeeded: a failing insert loses the batch")

    # a crash before any Redis command of take_batch must never lose an event
    for crash_at in range(1, 30):
        server = fakeredis.FakeServer()
        setup = fakeredis.FakeRedis(server=server, decode_responses=True)
        setup.rpush(Q, *events)
        _CrashingRedis.commands, _CrashingRedis.crash_at = 0, crash_at
        crashing = _CrashingRedis(server=server, decode_responses=True)
        try:
            take_batch(crashing, Q, P, 4)
        except _Crash:
            survivors = set(setup.lrange(Q, 0, -1)) | set(setup.lrange(P, 0, -1))
            missing = len(set(events) - survivors)
            if missing:
                raise Hint(
                    f"a crash after your Redis command #{crash_at - 1} in take_batch loses {missing} events: "
                    "make the move atomic (a Lua script, MULTI/EXEC, or LMOVE one event at a time)"
                ) from None
            continue
        except Exception as exc:  # noqa: BLE001 - shown as a hint
            raise Hint(f"take_batch raised {type(exc).__name__} on a client that works") from None
        break
    return "each event is always in the queue or the processing list, and recover re-inserts before it clears"


def _event_text(item) -> str:
    import json

    if isinstance(item, dict):
        return json.dumps(item, separators=(",", ":"))
    return str(item)


@check("Exercise 3: an idempotent insert", "write insert_events(events)")
def check_idempotent_insert(insert_events) -> str:
    """Inserts a batch, replays it, and replays an overlapping one: rows must equal distinct events."""
    from django.db import IntegrityError, connection
    from django.test.utils import CaptureQueriesContext

    from .. import batchwriter as bw
    from ..backends import setup_django
    from ..newsroom.models import PageView

    setup_django()
    run = "lab10" + bw.new_run_id()
    first = bw.make_events(run, 20, seed=1)
    try:
        with CaptureQueriesContext(connection) as captured:
            call(insert_events, first, name="insert_events")
        stored = bw.count_rows(run)
        if stored == 0:
            raise Hint("no row of this batch is in the database: create PageView rows (to_page_view(event))")
        if stored != 20:
            raise Hint(f"a batch of 20 events stored {stored} rows: one row per event")
        row = PageView.objects.filter(event_id=first[7]["id"]).first()
        if row is None:
            raise Hint("no row has event_id == event['id']: use the event's own id as event_id (the idempotency key)")
        if row.news_id != first[7]["news"] or row.reader_id != first[7]["reader"]:
            raise Hint("the rows do not match the events: use to_page_view(event) for each one")
        try:
            insert_events(first)
        except IntegrityError:
            raise Hint(
                "replaying the same batch raised IntegrityError: after a crash a batch is replayed, so skip "
                "rows that exist (bulk_create(..., ignore_conflicts=True))"
            ) from None
        except NotImplementedError:
            raise NotDone("insert_events still raises NotImplementedError") from None
        if bw.count_rows(run) != 20:
            raise Hint(f"replaying the batch left {bw.count_rows(run)} rows instead of 20: the replay duplicated them")
        overlap = first[10:] + bw.make_events(run, 10, seed=2, start=20)
        call(insert_events, overlap, name="insert_events")
        if bw.count_rows(run) != 30:
            raise Hint(f"10 old + 10 new events should give 30 rows, got {bw.count_rows(run)}: insert the new ones")
        if len(captured) > 5:
            raise Hint(f"{len(captured)} queries for 20 events: insert the whole batch at once with bulk_create")
    finally:
        bw.delete_rows(run)
    return f"a replayed batch adds nothing, a new one adds its rows, in {len(captured)} queries for 20 events"
