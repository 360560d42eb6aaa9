"""The projector: applies the log to every registered view, exactly once.

A batch's view writes, the checkpoint move and the notification are one statement (one round
trip, one transaction), so a crash anywhere leaves the views and the checkpoint in agreement:
`select <each view's apply function>($n), ..., threadlog_mark_projected(...)`, the functions
named by the registry. The notification on 'threadlog_projected', delivered at commit with the
new position, is what API processes wait on for read-your-writes.
"""

from collections.abc import Callable
from functools import cache

import asyncpg

from eventlog.events import LoggedEvent
from eventlog.positions import LogPosition
from eventlog.reader import read_checkpoint
from eventlog.registry import Projection, projections, registered

from .consumer import LogConsumer

PROJECTED_CHANNEL = "threadlog_projected"


@cache
def _statement(views: tuple[Projection, ...], with_checkpoint: bool) -> str:
    """One select calling each view's apply function (with its changes as $1, $2...), and the
    checkpoint's move ($n+1..$n+3) for the live projector. Built from the registry's function
    names, never from data."""
    calls = [f"{p.function}(${n}::jsonb)" for n, p in enumerate(views, 1)]
    if with_checkpoint:
        n = len(views)
        calls.append(f"threadlog_mark_projected(${n + 1}, ${n + 2}, ${n + 3})")
    return "select " + ", ".join(calls)


async def apply_to_views(
    conn: asyncpg.Connection,
    events: list[LoggedEvent],
    checkpoint: tuple[str, LogPosition] | None = None,
    *,
    consumer: str = "replay",
) -> None:
    """Writes what a batch does to the views in one statement, and with `checkpoint` (the
    consumer's name and the batch's last position) moves that checkpoint and notifies, in the
    same transaction. Unqualified table names: the caller's search_path picks the tables (the
    live views, a rebuild's, or a verification's)."""
    # An unknown event changes no view here, but still moves the version its stream's view
    # keeps (Projection.reads): every event goes to the folds, counted or not.
    registered(events, consumer)
    views = projections()
    changes = [p.fold([e for e in events if p.reads(e)]) for p in views]
    args: list[object] = list(changes)
    if checkpoint is not None:
        name, at = checkpoint
        args += [name, str(at.transaction_id), at.global_position]
    await conn.execute(_statement(views, checkpoint is not None), *args)


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
        await apply_to_views(conn, events, (self.name, at), consumer=self.name)
        if self.on_projected is not None:
            self.on_projected(at)
