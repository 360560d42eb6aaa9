"""The API's connection pool (eventlog.database.Pool), against a real Postgres: which
connections it reuses, which it drops, how many it opens, and in what order it serves."""

import asyncio
import uuid

import asyncpg
import pytest

from eventlog.database import connect, create_pool
from eventlog.positions import START, LogPosition
from eventlog.reader import read_after
from eventlog.sql import query
from projections.projector import apply_to_views
from service.app import apply_migrations
from service.threads import events as ev
from service.threads.requests import CreateMessage

from .helpers import backends


async def test_a_statement_postgres_refuses_leaves_its_connection_in_use(make_database):
    dsn = await make_database()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        pid = await pool.fetchval("select pg_backend_pid()")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await pool.fetchval("select 1 / 0")
        assert await pool.fetchval("select pg_backend_pid()") == pid
    finally:
        await pool.close()


async def test_a_connection_whose_backend_was_terminated_is_replaced(make_database):
    dsn = await make_database()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        pid = await pool.fetchval("select pg_backend_pid()")
        admin = await asyncpg.connect(dsn)
        try:
            assert await admin.fetchval("select pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        # Depending on when the server's goodbye reaches the client, one call may still meet
        # the dead connection and fail (asyncpg's error then varies with the moment); the
        # next is on a new one.
        try:
            new_pid = await pool.fetchval("select pg_backend_pid()")
        except Exception:
            new_pid = await pool.fetchval("select pg_backend_pid()")
        assert new_pid != pid
        assert await pool.fetchval("select pg_backend_pid()") == new_pid
    finally:
        await pool.close()


async def test_a_query_cancelled_midway_is_not_handed_to_the_next_caller(make_database):
    dsn = await make_database()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        pid = await pool.fetchval("select pg_backend_pid()")
        sleeping = asyncio.ensure_future(pool.execute("select pg_sleep(30)"))
        for _ in range(100):
            if pid in await backends(dsn) and not sleeping.done():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # the statement is running on the server
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        # The next caller gets a fresh session, not one still busy with the cancelled sleep.
        async with asyncio.timeout(10):
            assert await pool.fetchval("select pg_backend_pid()") != pid
        for _ in range(250):
            if pid not in await backends(dsn):
                break
            await asyncio.sleep(0.02)
        assert pid not in await backends(dsn)
    finally:
        await pool.close()


async def test_never_more_connections_than_its_size_and_callers_served_in_order(make_database):
    dsn = await make_database()
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        pids = await asyncio.gather(
            *(pool.fetchval("select pg_backend_pid() from pg_sleep(0.05)") for _ in range(8))
        )
        assert len(set(pids)) == 2
        assert len(await backends(dsn)) == 2

        served: list[int] = []

        async def call(n: int) -> None:
            await pool.execute("select pg_sleep(0.02)")
            served.append(n)

        tasks = []
        for n in range(6):
            tasks.append(asyncio.ensure_future(call(n)))
            await asyncio.sleep(0)  # each asks for its turn before the next
        await asyncio.gather(*tasks)
        # Two at a time, first come first served: no caller overtakes one that came two before.
        assert all(served.index(n) <= served.index(n + 2) for n in range(4))
    finally:
        await pool.close()


async def test_close_lets_running_queries_finish_and_refuses_new_ones(make_database):
    dsn = await make_database()
    pool = await create_pool(dsn, min_size=1, max_size=2)
    running = asyncio.ensure_future(pool.fetchval("select 7 from pg_sleep(0.3)"))
    await asyncio.sleep(0.05)
    await pool.close()
    assert running.done() and running.result() == 7
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetchval("select 1")
    assert await backends(dsn) == set()


async def test_a_database_out_of_reach_fails_at_creation():
    with pytest.raises(OSError):
        await create_pool("postgresql://postgres@127.0.0.1:1/none", min_size=2)


async def test_it_opens_its_connections_at_creation_and_no_more_than_its_size(make_database):
    dsn = await make_database()
    pool = await create_pool(dsn, min_size=5, max_size=3)
    try:
        assert len(await backends(dsn)) == 3
    finally:
        await pool.close()


async def test_a_new_connection_runs_the_writes_without_looking_up_a_type(make_database):
    """The append, the idempotency lookup and the projector's batch on a fresh connection: no
    statement waits for asyncpg's type lookup (three round trips of its own)."""
    dsn = await make_database()
    await apply_migrations(dsn)
    conn = await connect(dsn)
    sent: list[str] = []
    conn.add_query_logger(lambda record: sent.append(record.query))
    try:
        event_id = uuid.uuid4()
        thread = ev.thread_created("thread_1", 1, None, None).data
        request = CreateMessage(role="user", content="x")
        message = ev.message_created("thread_1", "msg_1", 1, request).data
        meta = {"project": "p"}
        created = [uuid.uuid4()], ["ThreadCreated"], [thread], meta, False
        await conn.fetchrow(
            query("append-events"), "thread_1", "thread", "p", None, False, *created
        )
        appended = [event_id], ["MessageCreated"], [message], meta, False
        await conn.fetchrow(query("append-events"), "thread_1", None, "p", None, False, *appended)
        assert len(await conn.fetch(query("events-by-id"), [event_id])) == 1
        events = await read_after(conn, START, 10)
        await apply_to_views(conn, events, ("projector", LogPosition.of(events[-1])))
    finally:
        await conn.close()
    assert len(sent) == 5
    assert not [q for q in sent if "typeinfo_tree" in q]  # the lookup's recursive query
