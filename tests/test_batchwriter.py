"""Module 10: batched writes, the crash-safe Redis batch writer, and the lab's checks."""

from __future__ import annotations

import json

import fakeredis
import pytest

from scalecode import batchwriter as bw
from scalecode.backends import delete_prefix, get_redis


@pytest.fixture
def run_id(django_ready):
    """A fresh run id; its rows and Redis keys are removed afterwards (never the whole table)."""
    run = bw.new_run_id()
    yield run
    bw.delete_rows(run)
    delete_prefix(get_redis(), bw.Keys(run).prefix)


# --- events and keys ------------------------------------------------------------------------
def test_events_are_deterministic_and_unique():
    a, b = bw.make_events("r1", 50, seed=3), bw.make_events("r1", 50, seed=3)
    assert [e["news"] for e in a] == [e["news"] for e in b]
    assert len({e["id"] for e in a}) == 50 and a[0]["id"] == "r1-0000000"
    assert all(1 <= e["news"] <= 3000 for e in a)
    assert bw.decode(bw.encode(a[1])) == a[1]
    assert bw.make_events("r1", 2, start=10)[0]["id"] == "r1-0000010"
    with pytest.raises(ValueError, match="run_id"):
        bw.make_events("bad id!", 1)
    with pytest.raises(ValueError, match="n must be"):
        bw.make_events("r1", -1)


def test_keys_live_under_the_prefix():
    keys = bw.Keys("abc", "w2")
    assert keys.queue == "scalecode:events:abc:queue"
    assert keys.processing == "scalecode:events:abc:processing:w2"
    assert all(k.startswith(keys.prefix) for k in (keys.ready, keys.stats))
    with pytest.raises(ValueError):
        bw.Keys("a:b")


def test_worker_argv():
    argv = bw.worker_argv("redis://x", bw.Keys("r"), size=10, unsafe=True, pause_batch=None, pause_s=1.5)
    assert argv[1:3] == ["-m", "scalecode.batchwriter"]
    assert argv[-5:] == ["--size", "10", "--unsafe", "--pause-s", "1.5"]


# --- the buffer -----------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_buffer_flushes_at_exactly_the_size():
    flushed = []
    buf = bw.BatchBuffer(flushed.append, 3, 10, Clock())
    for i in range(7):
        buf.add(i)
    assert flushed == [[0, 1, 2], [3, 4, 5]] and buf.pending == [6]


def test_buffer_flushes_a_partial_batch_by_age_of_the_oldest():
    clock, flushed = Clock(), []
    buf = bw.BatchBuffer(flushed.append, 100, 1.0, clock)
    buf.add("x")
    clock.now = 0.6
    buf.add("y")
    assert buf.time_left() == pytest.approx(0.4)
    clock.now = 0.99
    assert not buf.tick() and not flushed
    clock.now = 1.0
    assert buf.tick() and flushed == [["x", "y"]]
    assert buf.time_left() is None and not buf.tick()


def test_buffer_keeps_items_when_flush_fails():
    def boom(batch):
        raise RuntimeError("database down")

    buf = bw.BatchBuffer(boom, 2, 1.0)
    buf.add(1)
    with pytest.raises(RuntimeError):
        buf.add(2)
    assert buf.pending == [1, 2]
    with pytest.raises(ValueError):
        bw.BatchBuffer(boom, 0, 1)
    with pytest.raises(ValueError):
        bw.BatchBuffer(boom, 1, -1)


# --- Redis: take, ack, recover -------------------------------------------------------------
def test_take_batch_moves_atomically_and_recover_reinserts():
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    keys = bw.Keys("t1")
    events = bw.make_events("t1", 10)
    bw.enqueue(client, keys.queue, events, chunk=3)
    taken = bw.take_batch(client, keys.queue, keys.processing, 4)
    assert [bw.decode(x) for x in taken] == events[:4]
    assert client.llen(keys.queue) == 6 and client.llen(keys.processing) == 4
    got = []
    assert bw.recover(client, keys.processing, got.extend) == 4
    assert got == events[:4] and not client.exists(keys.processing)
    assert bw.take_batch(client, keys.queue, keys.processing, 100) and client.llen(keys.queue) == 0
    bw.ack(client, keys.processing)
    assert bw.take_batch(client, keys.queue, keys.processing, 5) == []
    with pytest.raises(ValueError):
        bw.take_batch(client, keys.queue, keys.processing, 0)


def test_recover_keeps_the_batch_when_insert_fails():
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    bw.enqueue(client, "scalecode:q", bw.make_events("t2", 3))
    bw.take_batch(client, "scalecode:q", "scalecode:p", 3)

    def down(events):
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        bw.recover(client, "scalecode:p", down)
    assert client.llen("scalecode:p") == 3


# --- the database ----------------------------------------------------------------------------
def test_three_ways_to_write_and_idempotent_replay(run_id):
    from django.db import IntegrityError

    events = bw.make_events(run_id, 30)
    assert bw.save_one_by_one(events[:5]) == 5
    assert bw.save_in_transaction(events[5:10]) == 5
    assert bw.bulk_insert(events[10:20]) == 10
    assert bw.count_rows(run_id) == 20
    with pytest.raises(IntegrityError):
        bw.bulk_insert(events[15:25])
    assert bw.count_rows(run_id) == 20
    bw.insert_idempotent(events)
    bw.insert_idempotent(events)
    assert bw.audit(run_id, events) == {"sent": 30, "rows": 30, "lost": 0, "duplicates": 0}
    other = bw.new_run_id()
    assert bw.count_rows(other) == 0 and bw.delete_rows(other) == 0
    assert bw.delete_rows(run_id) == 30 and bw.count_rows(run_id) == 0


def test_worker_in_process_batches_by_size_and_age(run_id):
    client = get_redis()
    keys = bw.Keys(run_id)
    events = bw.make_events(run_id, 23)
    bw.enqueue(client, keys.queue, events)
    worker = bw.Worker(client, keys, size=10, max_age_s=3600)
    assert worker.start() == 0 and client.exists(keys.ready)
    assert worker.run_once() == 10 and worker.run_once() == 10 and worker.run_once() == 3
    assert worker.batches == 2 and bw.count_rows(run_id) == 20
    assert client.llen(keys.processing) == 3  # the partial batch waits, safe in Redis
    worker.buffer.max_age_s = 0
    worker.run_once()
    assert bw.count_rows(run_id) == 23 and not client.exists(keys.processing)
    assert bw.stats(client, keys)["rows"] == 23


def test_worker_restart_recovers_its_processing_list(run_id):
    client = get_redis()
    keys = bw.Keys(run_id)
    events = bw.make_events(run_id, 8)
    bw.enqueue(client, keys.queue, events)
    bw.take_batch(client, keys.queue, keys.processing, 5)  # a worker took them, then died
    bw.insert_idempotent(events[:2])  # ... after committing part of them elsewhere
    worker = bw.Worker(client, keys, size=100, max_age_s=0)
    assert worker.start() == 5
    worker.run(exit_when_idle_s=0.05)
    assert bw.audit(run_id, events) == {"sent": 8, "rows": 8, "lost": 0, "duplicates": 0}


# --- real worker processes, killed mid-batch --------------------------------------------------
def test_killed_worker_loses_nothing_and_duplicates_nothing(run_id):
    from scalecode.backends import redis_server

    keys = bw.Keys(run_id)
    events = bw.make_events(run_id, 120)
    with redis_server() as endpoint:
        timeline, audit = bw.crash_demo(endpoint.url, keys, events, size=20, kill_at_batch=2)
    steps = {row["step"].split(" ")[0]: row for row in timeline}
    assert steps["A"]["rows"] == 20 and steps["A"]["processing"] == 20  # killed with a batch taken
    assert steps["B"]["processing"] == 20 and steps["B"]["rows"] == 60  # recovered 20, committed 20 more
    assert audit == {"sent": 120, "rows": 120, "lost": 0, "duplicates": 0}
    assert timeline[-1] == {"step": "C drained the queue", "queue": 0, "processing": 0, "rows": 120}


def test_unsafe_worker_loses_the_batch_it_popped(run_id):
    from scalecode.backends import redis_server

    keys = bw.Keys(run_id)
    events = bw.make_events(run_id, 60)
    with redis_server() as endpoint:
        timeline, audit = bw.crash_demo(endpoint.url, keys, events, size=20, kill_at_batch=2, unsafe=True)
    assert timeline[1]["processing"] == 0 and timeline[1]["queue"] == 20  # popped: only in the dead process
    assert audit["lost"] == 20 and audit["rows"] == 40 and audit["duplicates"] == 0


def test_write_rate_counts_queries_and_cleans_up(run_id):
    events = bw.make_events(run_id, 12)
    one = bw.write_rate(bw.save_one_by_one, events, run_id)
    bulk = bw.write_rate(bw.bulk_insert, events, run_id, round_trip_s=0.001)
    assert one["queries"] >= 12 and bulk["queries"] <= 2 and bulk["seconds"] >= 0.001
    assert bw.count_rows(run_id) == 0


# --- the lab's checks ------------------------------------------------------------------------------
class GoodBuffer:
    def __init__(self, flush, size, max_age_s, clock):
        self.flush, self.size, self.max_age_s, self.clock = flush, size, max_age_s, clock
        self.pending, self.first_at = [], None

    def _flush(self):
        self.flush(self.pending)
        self.pending, self.first_at = [], None

    def add(self, item):
        if not self.pending:
            self.first_at = self.clock()
        self.pending.append(item)
        if len(self.pending) >= self.size:
            self._flush()

    def tick(self):
        if self.pending and self.clock() - self.first_at >= self.max_age_s:
            self._flush()


class OffByOne(GoodBuffer):
    def add(self, item):
        if not self.pending:
            self.first_at = self.clock()
        self.pending.append(item)
        if len(self.pending) > self.size:
            self._flush()


class AgeFromNewest(GoodBuffer):
    def add(self, item):
        self.first_at = self.clock()
        self.pending.append(item)
        if len(self.pending) >= self.size:
            self._flush()


class NeverClears(GoodBuffer):
    def _flush(self):
        self.flush(list(self.pending))


class StubBuffer(GoodBuffer):
    def add(self, item):
        raise NotImplementedError


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (GoodBuffer, "passed", "exactly at the size"),
        (bw.BatchBuffer, "passed", "exactly at the size"),
        (StubBuffer, "not done yet", "NotImplementedError"),
        (None, "not done yet", "BatchBuffer"),
        (OffByOne, "hint", "nothing was flushed"),
        (AgeFromNewest, "hint", "oldest pending event"),
        (NeverClears, "hint", "flushed twice"),
    ],
)
def test_check_batch_buffer(answer, status, fragment):
    from scalecode.checks import check_batch_buffer

    result = check_batch_buffer(answer)
    assert result.status == status and fragment in result.message, result.message


def lpop_take(client, queue, processing, size):
    return client.lpop(queue, size) or []


def copy_only_take(client, queue, processing, size):
    items = client.lrange(queue, 0, size - 1)
    if items:
        client.rpush(processing, *items)
    return items


def trim_then_push_take(client, queue, processing, size):
    items = client.lrange(queue, 0, size - 1)
    client.ltrim(queue, len(items), -1)
    if items:
        client.rpush(processing, *items)
    return items


def lmove_take(client, queue, processing, size):
    items = []
    for _ in range(size):
        item = client.lmove(queue, processing, "LEFT", "RIGHT")
        if item is None:
            break
        items.append(item)
    return items


def multi_take(client, queue, processing, size):
    items = client.lrange(queue, 0, size - 1)  # single consumer: nobody else trims the queue
    pipe = client.pipeline(transaction=True)
    pipe.ltrim(queue, len(items), -1)
    if items:
        pipe.rpush(processing, *items)
    pipe.execute()
    return items


def good_recover(client, processing, insert):
    items = client.lrange(processing, 0, -1)
    if items:
        insert(items)
    client.delete(processing)


def delete_first_recover(client, processing, insert):
    items = client.lrange(processing, 0, -1)
    client.delete(processing)
    insert(items)


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("take", "rec", "status", "fragment"),
    [
        (bw.take_batch, good_recover, "passed", "always in the queue"),
        (lmove_take, good_recover, "passed", "always in the queue"),
        (multi_take, good_recover, "passed", "always in the queue"),
        (bw.take_batch, bw.recover, "passed", "always in the queue"),
        (stub, good_recover, "not done yet", "NotImplementedError"),
        (bw.take_batch, stub, "not done yet", "NotImplementedError"),
        (lpop_take, good_recover, "hint", "removed from Redis before the commit"),
        (copy_only_take, good_recover, "hint", "still in the queue"),
        (trim_then_push_take, good_recover, "hint", "crash after your Redis command"),
        (bw.take_batch, delete_first_recover, "hint", "before the insert succeeded"),
        (bw.take_batch, lambda c, p, i: c.delete(p), "hint", "did not insert"),
        (bw.take_batch, lambda c, p, i: i(c.lrange(p, 0, -1)), "hint", "clear the processing list"),
    ],
)
def test_check_crash_safe(take, rec, status, fragment):
    from scalecode.checks import check_crash_safe

    result = check_crash_safe(take, rec)
    assert result.status == status and fragment in result.message, result.message


def plain_bulk(events):
    from scalecode.newsroom.models import PageView

    PageView.objects.bulk_create([bw.to_page_view(e) for e in events])


def own_ids(events):
    bw.insert_idempotent([{**e, "id": e["id"] + "-" + bw.new_run_id()} for e in events])


def one_by_one_get_or_create(events):
    from scalecode.newsroom.models import PageView

    for e in events:
        row = bw.to_page_view(e)
        PageView.objects.get_or_create(event_id=row.event_id, defaults={
            "news_id": row.news_id, "reader_id": row.reader_id, "viewed_at": row.viewed_at})


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (bw.insert_idempotent, "passed", "adds nothing"),
        (stub, "not done yet", "NotImplementedError"),
        (plain_bulk, "hint", "IntegrityError"),
        (lambda events: None, "hint", "no row"),
        (own_ids, "hint", "own id"),
        (one_by_one_get_or_create, "hint", "bulk_create"),
    ],
)
def test_check_idempotent_insert(django_ready, answer, status, fragment):
    from scalecode.checks import check_idempotent_insert

    result = check_idempotent_insert(answer)
    assert result.status == status and fragment in result.message, result.message


def test_lab_events_roundtrip_json():
    assert json.loads(bw.encode({"id": "x-1", "news": 1, "reader": None, "at": 1.0}))["reader"] is None


def test_rq_throughput_runs_jobs_and_cleans_its_keys(run_id):
    import redis

    from scalecode.backends import redis_server

    events = bw.make_events(run_id, 6)
    with redis_server() as endpoint:
        client = redis.Redis.from_url(endpoint.url)
        try:
            one = bw.rq_throughput(endpoint.url, run_id, events, per_job=1)
            assert one["jobs"] == 6 and one["rows_s"] > 0 and bw.count_rows(run_id) == 6
            assert bw.rq_throughput(endpoint.url, run_id, events, per_job=3)["jobs"] == 2  # replay: no duplicates
            assert bw.count_rows(run_id) == 6
            assert not [k for k in client.scan_iter(match=f"rq:*{run_id}*")]
            if endpoint.kind != "real":  # a private Redis: nothing of RQ's is left at all
                assert not list(client.scan_iter(match="rq:*"))
            with pytest.raises(ValueError, match="2 jobs"):
                bw.rq_throughput(endpoint.url, run_id, events, per_job=6)
        finally:
            client.close()
