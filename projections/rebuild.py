"""Replaying the whole log into views: `threadlog rebuild` and `threadlog verify`.

Both replay with the projector's own writes (`apply_to_views`), pointed at other tables by the
connection's search_path, so there is one way to turn events into views; both cover every view
a resource registered (eventlog.registry).

rebuild: replays into fresh tables in a separate schema while the API keeps serving from the
live ones, then, holding the live views against writes (reads go on), catches up to the live
projector's checkpoint and swaps the tables in, in one short transaction. If the replay got
ahead of the live projector, the checkpoint moves up to it. The live projector's next batch
lands in the new tables.

verify: replays into temporary tables inside one repeatable-read transaction, up to the live
projector's checkpoint as that snapshot sees it, and compares row by row with the live views.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from eventlog.positions import START, LogPosition
from eventlog.reader import read_after, read_checkpoint, write_checkpoint
from eventlog.registry import views

from .projector import apply_to_views

BATCH = 5000
# How long the swap waits for the views' locks before giving way to readers, and how often.
SWAP_LOCK_WAIT_MS = 50
SWAP_ATTEMPTS = 200
REBUILD_SCHEMA = "threadlog_rebuild"

Progress = Callable[[int], None]


async def count_events(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("select count(*) from events")


async def _replay(
    conn: asyncpg.Connection,
    after: LogPosition,
    upto: LogPosition | None,
    progress: Progress,
) -> LogPosition:
    """Applies the events after `after` (up to `upto`, when given), a transaction (or, inside
    one, a savepoint) per batch; returns where it stopped."""
    while True:
        events = await read_after(conn, after, BATCH)
        if upto is not None:
            events = [e for e in events if (e.transaction_id, e.global_position) <= upto]
        if not events:
            return after
        async with conn.transaction():
            await apply_to_views(conn, events)
        after = LogPosition.of(events[-1])
        progress(len(events))


async def rebuild(conn: asyncpg.Connection, progress: Progress) -> int:
    """Rebuilds the views from the log and swaps them in; returns the events replayed."""
    replayed = 0

    def counted(n: int) -> None:
        nonlocal replayed
        replayed += n
        progress(n)

    await conn.execute(f"drop schema if exists {REBUILD_SCHEMA} cascade")
    await conn.execute(f"create schema {REBUILD_SCHEMA}")
    for view in views():
        await conn.execute(
            f"create table {REBUILD_SCHEMA}.{view} (like public.{view} including all)"
        )
    await conn.execute(f"set search_path to {REBUILD_SCHEMA}, public")
    try:
        # Most of the work, while the live projector and the API go on.
        reached = await _replay(conn, START, None, counted)
        async with conn.transaction():
            # Writers (the live projector) wait from here; readers do not, until the swap.
            await conn.execute(f"lock table {_live_views()} in exclusive mode")
            live = await read_checkpoint(conn, "projector")
            reached = await _replay(conn, reached, live, counted)
            await write_checkpoint(conn, "projector", reached)
            await _take_for_swap(conn)
            for view in views():
                await conn.execute(f"drop table public.{view}")
                await conn.execute(f"alter table {REBUILD_SCHEMA}.{view} set schema public")
            await conn.execute(f"drop schema {REBUILD_SCHEMA}")
    finally:
        await conn.execute("reset search_path")
    return replayed


def _live_views() -> str:
    """Every registered view of the live schema, for one LOCK statement (names from the
    registry, never from data)."""
    return ", ".join(f"public.{view}" for view in views())


async def _take_for_swap(conn: asyncpg.Connection) -> None:
    """Every live view, for dropping, in one step that gives way to readers.

    Readers lock the views in whatever order their plan has (a generic plan's need not be the
    query's), and one holding one view while waiting for another, which the swap already
    holds, would deadlock with the swap (the reader lost: a 500). So the swap waits only
    briefly for the second lock, lets go of both if it must wait longer, and tries again."""
    await conn.execute(f"set local lock_timeout = '{SWAP_LOCK_WAIT_MS}ms'")
    for _ in range(SWAP_ATTEMPTS):
        try:
            async with conn.transaction():  # a savepoint: a failed try releases what it took
                await conn.execute(f"lock table {_live_views()} in access exclusive mode")
            break
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(SWAP_LOCK_WAIT_MS / 1000)
    else:
        raise RuntimeError("the views were never free of readers long enough to swap them")
    await conn.execute("set local lock_timeout = 0")


@dataclass(frozen=True)
class Difference:
    view: str
    only_live: int
    only_replayed: int


async def verify(conn: asyncpg.Connection, progress: Progress) -> list[Difference]:
    """Differences between the live views and a replay of the log (empty when they agree)."""
    differences = []
    async with conn.transaction(isolation="repeatable_read"):
        for view in views():
            # Temporary tables come first on the search_path: the replay writes into them.
            await conn.execute(
                f"create temporary table {view} (like public.{view} including all) on commit drop"
            )
        live = await read_checkpoint(conn, "projector")
        await _replay(conn, START, live, progress)
        for view in views():
            only_live = await conn.fetchval(
                f"select count(*) from (table public.{view} except table pg_temp.{view}) d"
            )
            only_replayed = await conn.fetchval(
                f"select count(*) from (table pg_temp.{view} except table public.{view}) d"
            )
            if only_live or only_replayed:
                differences.append(Difference(view, only_live, only_replayed))
    return differences
