"""The one reader of the log in commit order, shared by the projector, the relay and backfills."""

from typing import NamedTuple, Protocol

import asyncpg

from service.domain.events import LoggedEvent
from service.store.database import Pool
from service.store.sql import query


class Positioned(Protocol):
    """Anything that stands at a place in the log: an event, or an append's last event."""

    transaction_id: int
    global_position: int


class LogPosition(NamedTuple):
    """A place in commit order: (transaction id, global position)."""

    transaction_id: int
    global_position: int

    @classmethod
    def of(cls, event: Positioned) -> "LogPosition":
        """Where an event (or an append's last event) stands in commit order."""
        return cls(event.transaction_id, event.global_position)

    @classmethod
    def parse(cls, text: str) -> "LogPosition":
        tx, _, pos = text.partition("-")
        return cls(int(tx), int(pos))

    def __str__(self) -> str:
        return f"{self.transaction_id}-{self.global_position}"


START = LogPosition(0, 0)


async def read_after(
    conn: asyncpg.Connection | Pool,
    after: LogPosition,
    limit: int,
    *,
    thread_id: str | None = None,
) -> list[LoggedEvent]:
    """Up to `limit` events after `after`, in commit order, none of which can be overtaken;
    only one thread's when `thread_id` is given."""
    args = [str(after.transaction_id), after.global_position, limit]
    if thread_id is None:
        rows = await conn.fetch(query("read-log"), *args)
    else:
        rows = await conn.fetch(query("read-thread-log"), *args, thread_id)
    return [LoggedEvent.from_log(r) for r in rows]


async def read_checkpoint(conn: asyncpg.Connection | Pool, name: str) -> LogPosition:
    row = await conn.fetchrow(query("read-checkpoint"), name)
    return LogPosition(row["transaction_id"], row["global_position"]) if row else START


async def write_checkpoint(conn: asyncpg.Connection, name: str, at: LogPosition) -> None:
    await conn.execute(query("write-checkpoint"), name, str(at.transaction_id), at.global_position)
