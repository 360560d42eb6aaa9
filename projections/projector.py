"""The projector: applies the log to the thread and message views, exactly once.

A batch's view writes and the checkpoint move in one transaction, so a crash anywhere leaves
the views and the checkpoint in agreement. After commit it notifies 'threadlog_projected' with
the new position, which is what API processes wait on for read-your-writes.
"""

import asyncpg

from service.domain.events import LoggedEvent
from service.domain.state import view_changes
from service.store.sql import query

from .consumer import LogConsumer
from .log_reader import LogPosition, read_checkpoint, write_checkpoint

PROJECTED_CHANNEL = "threadlog_projected"


async def apply_to_views(conn: asyncpg.Connection, events: list[LoggedEvent]) -> None:
    """Writes what a batch does to the views, in bulk. Unqualified table names: the caller's
    search_path picks the tables (the live views, a rebuild's, or a verification's)."""
    changes = view_changes(events)
    if changes.threads:
        await conn.execute(query("project-threads"), list(changes.threads.values()))
    if changes.messages:
        await conn.execute(query("project-messages"), list(changes.messages.values()))
    if changes.deleted_messages:
        threads, positions = zip(*changes.deleted_messages, strict=True)
        await conn.execute(query("project-deleted-messages"), threads, positions)
    if changes.deleted_threads:
        await conn.execute(query("project-deleted-threads"), list(changes.deleted_threads))
    await conn.execute(
        query("project-thread-versions"),
        list(changes.thread_versions),
        list(changes.thread_versions.values()),
    )


class Projector(LogConsumer):
    name = "projector"
    lock_key = 0x74686C01

    async def resume_position(self, conn: asyncpg.Connection) -> LogPosition:
        return await read_checkpoint(conn, self.name)

    async def handle(self, conn: asyncpg.Connection, events: list[LoggedEvent]) -> None:
        last = events[-1]
        at = LogPosition(last.transaction_id, last.global_position)
        async with conn.transaction():
            await apply_to_views(conn, events)
            await write_checkpoint(conn, self.name, at)
            await conn.execute(query("notify-projected"), str(at))
