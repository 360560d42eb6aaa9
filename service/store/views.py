"""Reads of the view tables (written only by the projector).

Every read also returns the thread's stream-head version and the version its view has reached,
so the caller can tell whether the view is behind a write it must see.
"""

from dataclasses import dataclass
from typing import Any

from projections.log_reader import LogPosition

from .database import Pool
from .sql import query


@dataclass(frozen=True, slots=True)
class Read:
    head_version: int
    view_version: int
    row: Any = None
    lower_position: int | None = None
    upper_position: int | None = None
    rows: list[Any] | None = None

    @property
    def behind(self) -> bool:
        return self.view_version < self.head_version


def _read(record: Any, **extra: Any) -> Read:
    return Read(record["head_version"], record["view_version"], **extra)


async def thread(pool: Pool, project: str, thread_id: str) -> Read | None:
    """None when the thread does not exist for this project; row None when not projected."""
    r = await pool.fetchrow(query("get-thread"), thread_id, project)
    return None if r is None else _read(r, row=r if r["id"] is not None else None)


async def message(pool: Pool, project: str, thread_id: str, message_id: str) -> Read | None:
    r = await pool.fetchrow(query("get-message"), thread_id, project, message_id)
    return None if r is None else _read(r, row=r if r["id"] is not None else None)


async def messages_page(
    pool: Pool,
    project: str,
    thread_id: str,
    *,
    direction: str,
    lower_id: str | None,
    upper_id: str | None,
    limit: int,
    run_id: str | None,
) -> Read | None:
    """One page plus the positions of its cursors; None when the thread does not exist."""
    rows = await pool.fetch(
        query(f"list-messages-{direction}"), thread_id, project, lower_id, upper_id, limit, run_id
    )
    if not rows:
        return None
    first = rows[0]
    return _read(
        first,
        lower_position=first["lower_position"],
        upper_position=first["upper_position"],
        rows=rows if first["id"] is not None else [],
    )


async def event_position(pool: Pool, thread_id: str, version: int) -> LogPosition:
    row = await pool.fetchrow(query("event-position"), thread_id, version)
    return LogPosition(row["transaction_id"], row["global_position"])


async def head_version(pool: Pool, project: str, thread_id: str) -> int | None:
    """The thread's version on the primary; None when it does not exist for this project."""
    return await pool.fetchval(query("head-version"), thread_id, project)
