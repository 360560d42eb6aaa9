"""Reads, for any resource: from the views, once they have reached the stream's head.

Every view read returns the stream head's version beside the row(s) and the version the view
has reached, so a read that finds the view behind a write it must show waits (bounded) for
the projector, then reads again. On a read replica, the head's version comes from the primary.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eventlog.database import Pool
from eventlog.reader import event_position, head_version

from .context import Context, Unavailable
from .domain.errors import NotFound
from .metrics import READ_YOUR_WRITES_TIMEOUTS

# A replica's view is polled for a write it must show, from this pause up to the longest.
REPLICA_POLL_SECONDS = (0.002, 0.05)


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


def read_of(record: Any, **extra: Any) -> Read:
    """A Read from a view query's row, which carries head_version and view_version."""
    return Read(record["head_version"], record["view_version"], **extra)


Reader = Callable[[Pool], Awaitable[Read | None]]


async def fresh(
    ctx: Context,
    read: Reader,
    project: str,
    stream_id: str,
    operation: str,
    *,
    not_found: NotFound,
    kind: str,
    replica: bool = False,
) -> tuple[Read, bool]:
    """Reads once the view has reached the stream's head (bounded); `not_found` if the stream
    is gone; `kind` names the stream in errors ("thread"). `replica`: the read may go to the
    read replica, when there is one."""
    if replica and ctx.replica is not None:
        return await _fresh_on_replica(ctx, read, project, stream_id, operation, not_found, kind)
    result = await read(ctx.pool)
    if result is None:
        raise not_found
    if not result.behind:
        return result, True
    target = await event_position(ctx.pool, stream_id, result.head_version)
    caught_up = await ctx.projection.wait(target, ctx.read_your_writes_timeout)
    if not caught_up:
        READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    result = await read(ctx.pool)
    if result is None:
        raise not_found
    return result, not result.behind


async def _fresh_on_replica(
    ctx: Context,
    read: Reader,
    project: str,
    stream_id: str,
    operation: str,
    not_found: NotFound,
    kind: str,
) -> tuple[Read, bool]:
    """The stream's head version comes from the primary: a replica that has not replayed a
    write yet has the old head as well, and its view would look current without the write.
    The read itself goes to the replica once its view has reached that version, polled, since
    notifications are not replicated; within the same bounded wait as on the primary."""
    assert ctx.replica is not None
    head = await head_version(ctx.pool, project, stream_id)
    if head is None:
        raise not_found
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.read_your_writes_timeout
    result = await read(ctx.replica)
    if result is not None and result.view_version >= head:
        return result, True
    # First the projector, on the primary; then the replica's replay of what it wrote.
    target = await event_position(ctx.pool, stream_id, head)
    await ctx.projection.wait(target, max(0.0, deadline - loop.time()))
    pause, longest = REPLICA_POLL_SECONDS
    while True:
        result = await read(ctx.replica)
        if result is not None and result.view_version >= head:
            return result, True
        left = deadline - loop.time()
        if left <= 0:
            break
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, longest)
    READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    if result is None:  # the replica has not seen the stream at all yet
        raise Unavailable(f"The {kind} is still being written. Please retry.")
    return result, False
