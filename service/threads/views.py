"""Reads of the thread and message views (written only by the projector), each with the
thread's head version and the version its view has reached (service/reads.py)."""

from eventlog.database import Pool
from eventlog.sql import query

from ..reads import Read, read_of


async def thread(pool: Pool, project: str, thread_id: str) -> Read | None:
    """None when the thread does not exist for this project; row None when not projected."""
    r = await pool.fetchrow(query("threads/get-thread"), thread_id, project)
    return None if r is None else read_of(r, row=r if r["id"] is not None else None)


async def message(pool: Pool, project: str, thread_id: str, message_id: str) -> Read | None:
    r = await pool.fetchrow(query("threads/get-message"), thread_id, project, message_id)
    return None if r is None else read_of(r, row=r if r["id"] is not None else None)


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
        query(f"threads/list-messages-{direction}"),
        thread_id,
        project,
        lower_id,
        upper_id,
        limit,
        run_id,
    )
    if not rows:
        return None
    first = rows[0]
    return read_of(
        first,
        lower_position=first["lower_position"],
        upper_position=first["upper_position"],
        rows=rows if first["id"] is not None else [],
    )
