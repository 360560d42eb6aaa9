"""Reads of the view tables (written only by the projector)."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from projections.log_reader import LogPosition

from .sql import query


@dataclass(frozen=True, slots=True)
class Page:
    head_version: int
    view_version: int
    lower_position: int | None
    upper_position: int | None
    rows: list[Any]


async def message_at(pool: asyncpg.Pool, thread_id: str, position: int) -> Any:
    return await pool.fetchrow(query("get-message-at"), thread_id, position)


async def thread(pool: asyncpg.Pool, thread_id: str, project: str) -> Any:
    return await pool.fetchrow(query("get-thread"), thread_id, project)


async def messages_page(
    pool: asyncpg.Pool,
    thread_id: str,
    project: str,
    *,
    direction: str,
    lower_id: str | None,
    upper_id: str | None,
    limit: int,
    run_id: str | None,
) -> Page | None:
    """One page plus what the caller needs to check it; None when the thread does not exist."""
    rows = await pool.fetch(
        query(f"list-messages-{direction}"), thread_id, project, lower_id, upper_id, limit, run_id
    )
    if not rows:
        return None
    first = rows[0]
    messages = rows if first["id"] is not None else []
    return Page(
        first["head_version"],
        first["view_version"],
        first["lower_position"],
        first["upper_position"],
        messages,
    )


async def event_position(pool: asyncpg.Pool, thread_id: str, version: int) -> LogPosition:
    row = await pool.fetchrow(query("event-position"), thread_id, version)
    return LogPosition(row["transaction_id"], row["global_position"])
