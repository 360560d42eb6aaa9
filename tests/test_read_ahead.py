"""A consumer catching up on a backlog reads its next batch on a second connection while it
applies the one before: every event still exactly once and in commit order, and the second
connection gone once the consumer is idle or stopped."""

import asyncio

import asyncpg

from eventlog.positions import START, LogPosition
from projections.consumer import LogConsumer
from service.app import apply_migrations

from .helpers import backends, eventually, until

# Events in the backlog, in transactions of this many (commit order across transactions).
BACKLOG, PER_TRANSACTION, BATCH = 430, 90, 50

INSERT = """
insert into events (stream_id, category, version, event_id, type, data, metadata)
select 'thread_' || $1::int, 'thread', v, gen_random_uuid(), 'ThreadModified', '{}'::jsonb,
       '{}'::jsonb
from generate_series(1, $2::int) as v
"""


class Recorder(LogConsumer):
    """Keeps what it is handed, and whether the next batch was being read meanwhile."""

    name = "test_recorder"
    lock_key = 0x74686C7E

    def __init__(self, dsn: str, **kwargs) -> None:
        super().__init__(dsn, **kwargs)
        self.seen: list[LogPosition] = []
        self.read_ahead_while_applying: list[bool] = []

    async def resume_position(self, conn: asyncpg.Connection) -> LogPosition:
        return START

    async def handle(self, conn: asyncpg.Connection, events) -> None:
        self.read_ahead_while_applying.append(self.reading_ahead)
        # As a real batch's write takes a while: the read ahead finishes before it is taken.
        await asyncio.sleep(0.02)
        self.seen.extend(LogPosition.of(e) for e in events)


async def _backlog(dsn: str) -> list[LogPosition]:
    conn = await asyncpg.connect(dsn)
    try:
        for n in range(0, BACKLOG, PER_TRANSACTION):
            async with conn.transaction():
                await conn.execute(INSERT, n, min(PER_TRANSACTION, BACKLOG - n))
        rows = await conn.fetch(
            "select transaction_id::text::bigint as t, global_position as p from events "
            "order by transaction_id, global_position"
        )
        return [LogPosition(r["t"], r["p"]) for r in rows]
    finally:
        await conn.close()


async def _sessions_are(dsn: str, expected: int) -> bool:
    """Whether the database has `expected` sessions besides the one asking (a closed session
    leaves the server's view a moment after the client lets go of it: polled)."""
    return len(await backends(dsn)) == expected


async def test_a_backlog_is_applied_once_in_order_with_the_next_batch_read_meanwhile(
    make_database,
):
    dsn = await make_database()
    await apply_migrations(dsn)
    log = await _backlog(dsn)
    consumer = Recorder(dsn, batch_size=BATCH, idle_poll=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        assert await until(lambda: len(consumer.seen) >= len(log), 10)
        assert consumer.seen == log
        full_batches = len(log) // BATCH
        # Each full batch had the next one read beside it; the short last one did not.
        assert consumer.read_ahead_while_applying[:full_batches] == [True] * full_batches
        assert consumer.read_ahead_while_applying[full_batches:] == [False]
        # Once idle, its own connection is all it holds.
        await eventually(lambda: _sessions_are(dsn, 1), seconds=5)
        assert consumer.seen == log
    finally:
        stop.set()
        await task


async def test_stopping_in_the_middle_of_a_backlog_leaves_no_connection_behind(make_database):
    dsn = await make_database()
    await apply_migrations(dsn)
    log = await _backlog(dsn)
    consumer = Recorder(dsn, batch_size=BATCH)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    assert await until(lambda: consumer.reading_ahead)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert 0 < len(consumer.seen) < len(log)
    assert consumer.seen == log[: len(consumer.seen)]
    await eventually(lambda: _sessions_are(dsn, 0), seconds=5)
