"""The late-commit case, and the relay's handling of re-publishes after a crash."""

import asyncio
import uuid

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ResponseError

from eventlog.append import append
from eventlog.database import connect, create_pool
from eventlog.positions import START
from eventlog.reader import read_after, read_checkpoint
from eventlog.redis_client import relay_client
from eventlog.streams import global_stream, stream_key
from projections.envelope import envelope
from projections.relay import Relay
from service.app import apply_migrations
from service.handlers import CONSISTENCY_HEADER
from service.threads.events import MESSAGE_CREATED

from .conftest import KEY_A, PROJECT_A
from .helpers import append_raw, eventually, until


async def test_late_commit_is_neither_skipped_nor_doubled(
    settings, make_database, make_prefix, start_server, redis_client
):
    own = settings.model_copy(
        update={
            "database_url": await make_database(),
            "redis_prefix": make_prefix(),
            "read_your_writes_timeout": 0.5,
        }
    )
    url = await start_server(own)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        early_thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        late_thread = (await http.post(f"{url}/threads", json={})).json()["id"]

        # An append that takes its position first but commits last.
        held = await connect(own.database_url)
        transaction = held.transaction()
        await transaction.start()
        row = await append_raw(
            held,
            early_thread,
            MESSAGE_CREATED,
            {
                "id": "msg_heldopen",
                "thread_id": early_thread,
                "created_at": 1,
                "role": "user",
                "content": [{"type": "text", "text": {"value": "held", "annotations": []}}],
                "attachments": [],
                "metadata": {},
                "assistant_id": None,
                "run_id": None,
            },
            project=PROJECT_A,
        )
        held_position = row["last_position"]

        # A later append commits while the first is still open. Readers must not pass the
        # open one: the projector holds back, so this answer comes after the bounded wait.
        later = await http.post(
            f"{url}/threads/{late_thread}/messages", json={"role": "user", "content": "later"}
        )
        assert later.status_code == 200
        assert later.headers[CONSISTENCY_HEADER] == "timeout"
        db = await connect(own.database_url)
        later_position = await db.fetchval(
            "select global_position from events where stream_id = $1 and version = 2", late_thread
        )
        assert later_position > held_position
        checkpoint = await read_checkpoint(db, "projector")
        assert checkpoint.global_position < held_position

        await transaction.commit()
        await held.close()

        async def both_projected():
            return (
                await db.fetchval(
                    "select count(*) from message_view where id = any($1)",
                    ["msg_heldopen", later.json()["id"]],
                )
                == 2
            )

        await eventually(both_projected)
        listed = (await http.get(f"{url}/threads/{early_thread}/messages")).json()
        assert [m["id"] for m in listed["data"]] == ["msg_heldopen"]

        key = global_stream(own.redis_prefix)

        async def published():
            entries = await redis_client.xrange(key)
            return entries if len(entries) == 4 else None

        entries = await eventually(published)
        messages = [f for _, f in entries if f["type"] == MESSAGE_CREATED]
        assert [f["thread_id"] for f in messages] == [early_thread, late_thread]
        await db.close()


async def _relay_until(relay: Relay, target, stop: asyncio.Event) -> None:
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(
            lambda: relay.position is not None and relay.position >= target,
            failure="relay did not reach the end of the log",
        )
    finally:
        stop.set()
        await task


async def _seed_log(dsn: str, threads: int, messages: int) -> None:
    from service.threads import events as ev
    from service.threads.requests import CreateMessage

    pool = await create_pool(dsn)
    try:
        for t in range(threads):
            thread_id = f"thread_relay{t}"
            created = ev.thread_created(thread_id, 1, None, None)
            await append(pool, thread_id, "p", [created], [uuid.uuid4()], {}, new_category="thread")
            for m in range(messages):
                request = CreateMessage(role="user", content=f"{t}-{m}")
                event = ev.message_created(thread_id, f"msg_{t}_{m}", 1, request)
                await append(pool, thread_id, "p", [event], [uuid.uuid4()], {"project": "p"})
    finally:
        await pool.close()


async def _lengths(client, prefix: str, threads: int) -> list[int]:
    keys = [global_stream(prefix)] + [
        stream_key(prefix, "thread", f"thread_relay{t}") for t in range(threads)
    ]
    return [await client.xlen(k) for k in keys]


async def test_relay_republish_after_a_crash_makes_no_duplicate(
    make_database, make_prefix, redis_client
):
    dsn, prefix = await make_database(), make_prefix()
    await apply_migrations(dsn)
    await _seed_log(dsn, threads=2, messages=3)
    conn = await connect(dsn)
    events = await read_after(conn, START, 100)
    last = events[-1]
    end = (last.transaction_id, last.global_position)

    relay = Relay(dsn, redis_client, prefix=prefix)
    await _relay_until(relay, end, asyncio.Event())
    assert await _lengths(redis_client, prefix, 2) == [8, 4, 4]

    # Crash after XADD, before the checkpoint: the checkpoint is behind what Redis has.
    await conn.execute(
        "update log_checkpoints set transaction_id = '0', global_position = 0 where name = 'relay'"
    )
    restarted = Relay(dsn, redis_client, prefix=prefix)
    await _relay_until(restarted, end, asyncio.Event())
    assert await _lengths(redis_client, prefix, 2) == [8, 4, 4]

    # A relay that re-publishes the same batch anyway is refused by Redis, entry by entry.
    await restarted.handle(conn, events)
    assert restarted.skipped == 16
    assert await _lengths(redis_client, prefix, 2) == [8, 4, 4]

    # Crash between a batch's thread-stream writes and its global writes.
    await _seed_log_more(dsn)
    fresh = await read_after(conn, end_position(events), 100)
    assert len(fresh) == 1
    await redis_client.xadd(
        stream_key(prefix, "thread", fresh[0].stream_id), envelope(fresh[0]), id=fresh[0].position
    )
    third = Relay(dsn, redis_client, prefix=prefix)
    await _relay_until(third, (fresh[0].transaction_id, fresh[0].global_position), asyncio.Event())
    assert third.skipped == 1
    assert await _lengths(redis_client, prefix, 2) == [9, 5, 4]
    ids = [eid for eid, _ in await redis_client.xrange(global_stream(prefix))]
    assert ids == [e.position for e in events + fresh]
    await conn.close()


async def test_the_relay_publishes_on_after_redis_drops_its_connection(
    make_database, make_prefix, server_urls
):
    """The relay keeps one connection while busy; Redis closing it (a restart, a failover, an
    operator's CLIENT KILL) costs a retry, never an entry lost or doubled."""
    dsn, prefix = await make_database(), make_prefix()
    await apply_migrations(dsn)
    await _seed_log(dsn, threads=2, messages=3)
    conn = await connect(dsn)
    client = relay_client(server_urls[1])
    # It would only let go of its connection when idle for a minute.
    relay = Relay(dsn, client, prefix=prefix, idle_poll=60)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        first = await read_after(conn, START, 100)
        assert await until(lambda: relay.position == end_position(first), 10)
        # Its connection, quiet between batches, says which it is; another client kills it.
        own = relay._connection
        assert own is not None
        await own.send_command("CLIENT", "ID")
        assert await client.execute_command("CLIENT", "KILL", "ID", await own.read_response())
        failed_before = REGISTRY.get_sample_value("threadlog_relay_publish_errors_total")
        await _seed_log_more(dsn)
        relay.poke()
        everything = await read_after(conn, START, 100)
        assert await until(lambda: relay.position == end_position(everything), 10)
        # The next batch met the closed connection, and went out again on a new one.
        assert REGISTRY.get_sample_value("threadlog_relay_publish_errors_total") > failed_before
        ids = [eid.decode() for eid, _ in await client.xrange(global_stream(prefix))]
        assert ids == [e.position for e in everything]
        assert await _lengths(client, prefix, 2) == [9, 5, 4]
    finally:
        stop.set()
        await task
        await client.aclose()
        await conn.close()


async def test_relay_on_a_cluster_has_the_thread_entries_in_before_the_global_ones(
    make_database, redis_cluster_url
):
    """A cluster pipeline sends each shard its share at once, so the relay sends a batch's
    thread entries and its global entries as two: a thread stream that refuses its entry
    leaves the global stream without the batch, which is published whole once it can be."""
    dsn = await make_database()
    await apply_migrations(dsn)
    await _seed_log(dsn, threads=2, messages=1)
    conn = await connect(dsn)
    events = await read_after(conn, START, 100)
    # The cluster is the run's own; a fixed prefix makes the shards below the same every run.
    prefix = "order"
    client = relay_client(redis_cluster_url, cluster=True)
    try:
        broken = stream_key(prefix, "thread", "thread_relay1")
        global_key = global_stream(prefix)
        await client.initialize()
        assert client.get_node_from_key(broken) != client.get_node_from_key(global_key)
        await client.set(broken, "not a stream")
        relay = Relay(dsn, client, prefix=prefix)
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await relay.handle(conn, events)
        assert await client.exists(global_key) == 0
        assert await client.xlen(stream_key(prefix, "thread", "thread_relay0")) == 2

        await client.delete(broken)
        await relay.handle(conn, events)
        assert relay.skipped == 2  # thread_relay0's entries, already in
        ids = [eid.decode() for eid, _ in await client.xrange(global_key)]
        assert ids == [e.position for e in events]
    finally:
        await client.aclose()
        await conn.close()


def end_position(events):
    from eventlog.positions import LogPosition

    return LogPosition.of(events[-1])


async def _seed_log_more(dsn: str) -> None:
    from service.threads import events as ev
    from service.threads.requests import CreateMessage

    pool = await create_pool(dsn)
    try:
        event = ev.message_created(
            "thread_relay0", "msg_extra", 1, CreateMessage(role="user", content="extra")
        )
        await append(pool, "thread_relay0", "p", [event], [uuid.uuid4()], {"project": "p"})
    finally:
        await pool.close()
