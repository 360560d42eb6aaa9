"""The projector: applies the log to the thread and message views, exactly once.

A batch's view writes, the checkpoint move and the notification are one statement (one round
trip, one transaction), so a crash anywhere leaves the views and the checkpoint in agreement.
The notification on 'threadlog_projected', delivered at commit with the new position, is what
API processes wait on for read-your-writes.
"""

from collections.abc import Callable

import asyncpg

from service.domain.events import LoggedEvent
from service.domain.state import view_changes
from service.store.sql import query

from .consumer import LogConsumer
from .log_reader import LogPosition, read_checkpoint

PROJECTED_CHANNEL = "threadlog_projected"


async def apply_to_views(
    conn: asyncpg.Connection,
    events: list[LoggedEvent],
    checkpoint: tuple[str, LogPosition] | None = None,
) -> None:
    """Writes what a batch does to the views in one statement, and with `checkpoint` (the
    consumer's name and the batch's last position) moves that checkpoint and notifies, in the
    same transaction. Unqualified table names: the caller's search_path picks the tables (the
    live views, a rebuild's, or a verification's)."""
    changes = view_changes(events)
    deleted = sorted(changes.deleted_messages)
    name, at = checkpoint if checkpoint is not None else (None, None)
    await conn.execute(
        query("project-events"),
        list(changes.threads.values()),
        list(changes.messages.values()),
        [thread_id for thread_id, _ in deleted],
        [position for _, position in deleted],
        list(changes.deleted_threads),
        list(changes.thread_versions),
        list(changes.thread_versions.values()),
        name,
        None if at is None else str(at.transaction_id),
        None if at is None else at.global_position,
    )


class Projector(LogConsumer):
    name = "projector"
    lock_key = 0x74686C01

    def __init__(
        self, dsn: str, *, on_projected: Callable[[LogPosition], None] | None = None, **kwargs
    ) -> None:
        super().__init__(dsn, **kwargs)
        # Told each position once it is committed: waiters in this process need not wait for
        # the notification to come back from Postgres (which still tells everyone else).
        self.on_projected = on_projected

    async def resume_position(self, conn: asyncpg.Connection) -> LogPosition:
        return await read_checkpoint(conn, self.name)

    async def handle(self, conn: asyncpg.Connection, events: list[LoggedEvent]) -> None:
        at = LogPosition.of(events[-1])
        await apply_to_views(conn, events, (self.name, at))
        if self.on_projected is not None:
            self.on_projected(at)
