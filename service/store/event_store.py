"""The write side: appending events to a thread's stream in the log."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from ..domain.events import NewEvent
from .sql import query


@dataclass(frozen=True, slots=True)
class Appended:
    first_version: int
    last_version: int
    # Where the last event stands in commit order; a reader past it has seen all of them.
    transaction_id: int
    global_position: int


async def append(
    pool: asyncpg.Pool,
    thread_id: str,
    project: str,
    events: list[NewEvent],
    metadata: dict[str, Any],
    *,
    create: bool,
) -> Appended | None:
    """Appends in one statement; None when the thread does not exist for this project."""
    row = await pool.fetchrow(
        query("append-events"),
        thread_id,
        project,
        create,
        [e.event_id for e in events],
        [e.type for e in events],
        [e.data for e in events],
        metadata,
    )
    if row is None:
        return None
    return Appended(
        row["first_version"], row["last_version"], row["transaction_id"], row["last_position"]
    )
