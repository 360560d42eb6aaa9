"""The write side: appending events to a thread's stream in the log."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from ..domain.events import LoggedEvent, NewEvent
from ..metrics import APPEND_SECONDS
from .database import Pool
from .sql import query


@dataclass(frozen=True, slots=True)
class Appended:
    first_version: int
    last_version: int
    # Where the last event stands in commit order; a reader past it has seen all of them.
    transaction_id: int
    global_position: int


class VersionConflict(Exception):
    """The thread moved on since the state the caller decided from."""


class DuplicateEvents(Exception):
    """The event ids are already in the log: an idempotent retry."""


class ThreadIdTaken(Exception):
    """A new thread's id collided with an existing one."""


async def append(
    pool: Pool,
    thread_id: str,
    project: str,
    events: list[NewEvent],
    event_ids: list[UUID],
    metadata: dict[str, Any],
    *,
    create: bool = False,
    expected_version: int | None = None,
    delete: bool = False,
    notify: bool = True,
) -> Appended | None:
    """Appends in one statement; None when the thread does not exist for this project.
    `notify` False leaves waking the log's consumers to the caller."""
    try:
        with APPEND_SECONDS.time():
            row = await pool.fetchrow(
                query("append-events"),
                thread_id,
                project,
                create,
                expected_version,
                delete,
                event_ids,
                [e.type for e in events],
                [e.data for e in events],
                metadata,
                notify,
            )
    except asyncpg.SerializationError as exc:
        raise VersionConflict(thread_id) from exc
    except asyncpg.UniqueViolationError as exc:
        # Each unique constraint has its own meaning; none is silently ignored.
        if exc.constraint_name == "events_event_id_key":
            raise DuplicateEvents(thread_id) from exc
        if exc.constraint_name == "stream_heads_pkey":
            raise ThreadIdTaken(thread_id) from exc
        raise
    if row is None:
        return None
    return Appended(
        row["first_version"], row["last_version"], row["transaction_id"], row["last_position"]
    )


async def events_by_id(pool: Pool, event_ids: list[UUID]) -> list[LoggedEvent]:
    rows = await pool.fetch(query("events-by-id"), event_ids)
    return [LoggedEvent.from_log(r) for r in rows]
