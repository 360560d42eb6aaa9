"""Server-Sent Events: follow one stream (a thread...) over HTTP, resumable with Last-Event-ID.

Frames are `event: <OpenAI-style name>`, `data: <the object as the API renders it>` and
`id: <position>`. A reconnecting client sends the last id it saw and gets exactly what followed
(from Redis, or from the log when Redis no longer has it). Live events come from the process's
one EventHub reader; a version gap (the hub fell behind the stream's retention) is filled from
the log too. A comment line every few seconds keeps proxies from closing an idle stream. After
the stream's last event (`thread.deleted`) it ends with `event: done` / `data: [DONE]`.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from eventlog.positions import LogPosition
from eventlog.redis_client import REDIS_ERRORS
from eventlog.streams import stream_key
from projections.envelope import StreamEvent
from projections.subscriber import last_id

from .appkeys import CONTEXT, EVENT_HUB, PROJECT, REDIS, SETTINGS, STOPPING
from .domain.errors import InvalidRequest, NotFound
from .event_hub import Overflow
from .stream_events import backfill, events_after


def _frame(event: StreamEvent) -> bytes:
    data = orjson.dumps(event.data).decode()
    return f"event: {event.event}\ndata: {data}\nid: {event.id}\n\n".encode()


DONE = b"event: done\ndata: [DONE]\n\n"
INT64_MAX = 2**63 - 1


def _resume_point(request: web.Request) -> LogPosition | None:
    text = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    if not text:
        return None
    try:
        position = LogPosition.parse(text.strip())
    except ValueError:
        position = None
    # Both parts are Postgres bigints (and Redis's ids 64-bit numbers): past that, no event.
    if position is None or not all(0 <= part <= INT64_MAX for part in position):
        raise InvalidRequest(
            f"Invalid 'Last-Event-ID': '{text[:64]}' is not an event id (like '1234-56').",
            param="Last-Event-ID",
            code="invalid_value",
        )
    return position


class _Stream:
    """What one subscriber has been sent, so nothing is sent twice or skipped."""

    def __init__(
        self, response: web.StreamResponse, after: LogPosition | None, last_event: str
    ) -> None:
        self.response = response
        self.position = after
        self.version: int | None = None
        self.last_event = last_event

    def is_new(self, event: StreamEvent) -> bool:
        return self.position is None or LogPosition.parse(event.id) > self.position

    async def send(self, event: StreamEvent) -> bool:
        """Sends the event; True when it ends the stream."""
        await self.response.write(_frame(event))
        self.position = LogPosition.parse(event.id)
        self.version = event.version
        if event.event == self.last_event:
            await self.response.write(DONE)
            return True
        return False


async def _published_until(client, key: str) -> LogPosition | None:
    try:
        return LogPosition.parse(await last_id(client, key))
    except REDIS_ERRORS:
        return None  # Redis is away: whatever the hub delivers next is new


async def _next(queue: asyncio.Queue, stopping: asyncio.Event, seconds: float):
    """The next queued item, `stopping` once the server shuts down, None after `seconds`."""
    if not queue.empty():
        return queue.get_nowait()
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait(
            {getter, stopper}, timeout=seconds, return_when="FIRST_COMPLETED"
        )
    finally:
        # Also when the handler itself is cancelled (the client went away): neither waiter may
        # outlive it.
        stopper.cancel()
        if not getter.done():
            getter.cancel()
    if getter in done:
        return getter.result()
    return stopping if stopper in done else None


async def _send_all(
    request: web.Request,
    stream: _Stream,
    queue: asyncio.Queue,
    key: str,
    stream_id: str,
    after: LogPosition | None,
) -> None:
    """What follows `after` (from Redis or the log), then live events, until the stream's last
    event, the server's shutdown, or a subscriber too slow to keep up."""
    ctx, settings = request.app[CONTEXT], request.app[SETTINGS]
    if after is not None:
        async for event in events_after(ctx.pool, request.app[REDIS], key, stream_id, after):
            if await stream.send(event):
                return
    stopping = request.app[STOPPING]
    while not stopping.is_set():
        item = await _next(queue, stopping, settings.sse_heartbeat_seconds)
        if item is None:
            await stream.response.write(b": keep-alive\n\n")
            continue
        if isinstance(item, Overflow) or item is stopping:
            return  # too slow, or shutting down: the client resumes with Last-Event-ID
        if not stream.is_new(item):
            continue
        if stream.version is not None and item.version > stream.version + 1:
            # The hub missed entries (trimmed before it read them): take them from the log.
            async for missed in backfill(ctx.pool, stream_id, stream.position):
                if missed.version >= item.version:
                    break
                if await stream.send(missed):
                    return
        if await stream.send(item):
            return


async def follow_stream(
    request: web.Request,
    category: str,
    stream_id: str,
    *,
    exists: Callable[[str], Awaitable[bool]],
    not_found: NotFound,
    last_event: str,
) -> web.StreamResponse:
    """The handler's body for one stream: `exists(project)` says whether the caller may see
    it (else `not_found`); the stream ends after an event named `last_event`."""
    after = _resume_point(request)
    if not await exists(request[PROJECT]):
        raise not_found
    settings = request.app[SETTINGS]
    client, prefix = request.app[REDIS], settings.redis_prefix
    key = stream_key(prefix, category, stream_id)

    # Subscribe before catching up, so what is published meanwhile waits in the queue.
    async with request.app[EVENT_HUB].subscription(stream_id) as queue:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        # Without a resume point, "now" is the last event already on the stream's key.
        stream = _Stream(response, after or await _published_until(client, key), last_event)
        # A client that went away: nothing to answer, and nothing wrong here.
        with contextlib.suppress(ConnectionResetError):
            await _send_all(request, stream, queue, key, stream_id, after)
    return response
