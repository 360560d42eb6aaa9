"""The write side: appending events to a stream of the log."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from .database import Pool
from .events import LoggedEvent, NewEvent
from .metrics import APPEND_SECONDS
from .sql import query


@dataclass(frozen=True, slots=True)
class Appended:
    first_version: int
    last_version: int
    # Where the last event stands in commit order; a reader past it has seen all of them.
    transaction_id: int
    global_position: int


class VersionConflict(Exception):
    """The stream moved on since the state the caller decided from."""


class DuplicateEvents(Exception):
    """The event ids are already in the log: an idempotent retry."""


class StreamIdTaken(Exception):
    """A new stream's id collided with an existing one."""


async def append(
    pool: Pool,
    stream_id: str,
    project: str,
    events: list[NewEvent],
    event_ids: list[UUID],
    metadata: dict[str, Any],
    *,
    new_category: str | None = None,
    expected_version: int | None = None,
    delete: bool = False,
    notify: bool = True,
) -> Appended | None:
    """Appends in one statement; None when the stream does not exist for this project.
    `new_category`: the stream is new, of that category (a thread, a conversation); an append
    to an existing stream takes the category it was created with. `notify` False leaves
    waking the log's consumers to the caller."""
    try:
        with APPEND_SECONDS.time():
            row = await pool.fetchrow(
                query("append-events"),
                stream_id,
                new_category,
                project,
                expected_version,
                delete,
                event_ids,
                [e.type for e in events],
                [e.data for e in events],
                metadata,
                notify,
            )
    except asyncpg.SerializationError as exc:
        raise VersionConflict(stream_id) from exc
    except asyncpg.UniqueViolationError as exc:
        # Each unique constraint has its own meaning; none is silently ignored.
        if exc.constraint_name == "events_event_id_key":
            raise DuplicateEvents(stream_id) from exc
        if exc.constraint_name == "stream_heads_pkey":
            raise StreamIdTaken(stream_id) from exc
        raise
    if row is None:
        return None
    return Appended(
        row["first_version"], row["last_version"], row["transaction_id"], row["last_position"]
    )


async def events_by_id(pool: Pool, event_ids: list[UUID]) -> list[LoggedEvent]:
    rows = await pool.fetch(query("events-by-id"), event_ids)
    return [LoggedEvent.from_log(r) for r in rows]
