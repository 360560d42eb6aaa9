"""A thread's events since a position, for a subscriber resuming after a disconnect.

From Redis when its thread stream still holds everything after that position; from the log
itself, through the commit-order reader, when trimming has taken some of it (or Redis is out
of reach). Either way the events come in the thread's order, as StreamEvents.
"""

from collections.abc import AsyncIterator

from redis.exceptions import ResponseError

from projections.envelope import StreamEvent, as_text, envelope
from projections.log_reader import LogPosition, read_after
from projections.redis_client import REDIS_ERRORS, Client
from projections.relay import thread_stream

from .store.database import Pool

BATCH = 500


async def events_after(
    pool: Pool, client: Client, prefix: str, thread_id: str, after: LogPosition
) -> AsyncIterator[StreamEvent]:
    key = thread_stream(prefix, thread_id)
    try:
        if await _redis_has_everything_after(client, key, after):
            for entry_id, fields in await client.xrange(key, min=f"({after}", max="+"):
                yield StreamEvent.from_entry(entry_id, fields)
            return
    except REDIS_ERRORS:
        pass
    async for event in backfill(pool, thread_id, after):
        yield event


async def backfill(pool: Pool, thread_id: str, after: LogPosition) -> AsyncIterator[StreamEvent]:
    """From the log, in batches: a long thread is never held in memory at once."""
    while True:
        batch = await read_after(pool, after, BATCH, thread_id=thread_id)
        for event in batch:
            yield StreamEvent.from_entry(event.position, envelope(event))
        if len(batch) < BATCH:
            return
        after = LogPosition.of(batch[-1])


async def _redis_has_everything_after(client: Client, key: str, after: LogPosition) -> bool:
    """Trimming only ever removes a stream's oldest entries: if an entry at or before `after`
    is still there, so is everything after it. Otherwise Redis cannot tell what it lost."""
    try:
        info = await client.xinfo_stream(key)
    except ResponseError:  # no stream: nothing relayed yet, or all of it gone
        return False
    if _position(info["last-generated-id"]) <= after:
        return True  # nothing newer was ever published
    first = info.get("first-entry")
    return first is not None and _position(first[0]) <= after


def _position(entry_id: str | bytes) -> LogPosition:
    return LogPosition.parse(as_text(entry_id))
