"""The one reader of the log in commit order, shared by the projector, the relay and backfills;
and where each consumer of the log stands (its checkpoint)."""

import asyncpg

from .database import Pool
from .events import LoggedEvent
from .positions import START, LogPosition
from .sql import query


async def read_after(
    conn: asyncpg.Connection | Pool,
    after: LogPosition,
    limit: int,
    *,
    stream_id: str | None = None,
) -> list[LoggedEvent]:
    """Up to `limit` events after `after`, in commit order, none of which can be overtaken;
    only one stream's when `stream_id` is given."""
    args = [str(after.transaction_id), after.global_position, limit]
    if stream_id is None:
        rows = await conn.fetch(query("read-log"), *args)
    else:
        rows = await conn.fetch(query("read-stream-log"), *args, stream_id)
    return [LoggedEvent.from_log(r) for r in rows]


async def read_checkpoint(conn: asyncpg.Connection | Pool, name: str) -> LogPosition:
    row = await conn.fetchrow(query("read-checkpoint"), name)
    return LogPosition(row["transaction_id"], row["global_position"]) if row else START


async def write_checkpoint(conn: asyncpg.Connection, name: str, at: LogPosition) -> None:
    await conn.execute(query("write-checkpoint"), name, str(at.transaction_id), at.global_position)


async def event_position(
    conn: asyncpg.Connection | Pool, stream_id: str, version: int
) -> LogPosition:
    """Where a stream's event stands in commit order, to wait for the projector to pass it."""
    row = await conn.fetchrow(query("event-position"), stream_id, version)
    return LogPosition(row["transaction_id"], row["global_position"])


async def head_version(conn: asyncpg.Connection | Pool, project: str, stream_id: str) -> int | None:
    """The stream's version from its head; None when it does not exist for this project (or
    is deleted)."""
    return await conn.fetchval(query("head-version"), stream_id, project)
