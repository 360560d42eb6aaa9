"""A stream's events since a position, for a subscriber resuming after a disconnect.

From Redis when the stream's key still holds everything after that position; from the log
itself, through the commit-order reader, when trimming has taken some of it (or Redis is out
of reach). Either way the events come in the stream's order, as StreamEvents.
"""

from collections.abc import AsyncIterator

from redis.exceptions import ResponseError

from eventlog.database import Pool
from eventlog.positions import LogPosition
from eventlog.reader import read_after
from eventlog.redis_client import REDIS_ERRORS, Client
from eventlog.registry import registered
from projections.envelope import StreamEvent, as_text, envelope

BATCH = 500


async def events_after(
    pool: Pool, client: Client, key: str, stream_id: str, after: LogPosition
) -> AsyncIterator[StreamEvent]:
    """`key`: the stream's Redis key (eventlog/streams.py)."""
    try:
        if await _redis_has_everything_after(client, key, after):
            for entry_id, fields in await client.xrange(key, min=f"({after}", max="+"):
                yield StreamEvent.from_entry(entry_id, fields)
            return
    except REDIS_ERRORS:
        pass
    async for event in backfill(pool, stream_id, after):
        yield event


async def backfill(pool: Pool, stream_id: str, after: LogPosition) -> AsyncIterator[StreamEvent]:
    """From the log, in batches: a long stream is never held in memory at once. Events of a
    type this release does not know are left out, as the relay leaves them out of Redis."""
    while True:
        batch = await read_after(pool, after, BATCH, stream_id=stream_id)
        for event in registered(batch, "sse"):
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
