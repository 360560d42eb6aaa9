"""Server-Sent Events: follow one thread over HTTP, resumable with Last-Event-ID.

Frames are `event: <OpenAI-style name>`, `data: <the object as the API renders it>` and
`id: <position>`. A reconnecting client sends the last id it saw and gets exactly what followed
(from Redis, or from the log when Redis no longer has it). Live events come from the process's
one EventHub reader; a version gap (the hub fell behind the stream's retention) is filled from
the log too. A comment line every few seconds keeps proxies from closing an idle stream. After
`thread.deleted` the stream ends with `event: done` / `data: [DONE]`.
"""

import asyncio

import orjson
from aiohttp import web

from projections.envelope import StreamEvent
from projections.log_reader import LogPosition
from projections.redis_client import REDIS_ERRORS
from projections.relay import thread_stream
from projections.subscriber import last_id

from .appkeys import CONTEXT, EVENT_HUB, PROJECT, REDIS, SETTINGS, STOPPING
from .domain.errors import InvalidRequest, thread_not_found
from .event_hub import Overflow
from .store import views
from .thread_events import backfill, events_after


def _frame(event: StreamEvent) -> bytes:
    data = orjson.dumps(event.data).decode()
    return f"event: {event.event}\ndata: {data}\nid: {event.id}\n\n".encode()


DONE = b"event: done\ndata: [DONE]\n\n"


def _resume_point(request: web.Request) -> LogPosition | None:
    text = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    if not text:
        return None
    try:
        return LogPosition.parse(text.strip())
    except ValueError:
        raise InvalidRequest(
            f"Invalid 'Last-Event-ID': '{text[:64]}' is not an event id (like '1234-56').",
            param="Last-Event-ID",
            code="invalid_value",
        ) from None


class _Stream:
    """What one subscriber has been sent, so nothing is sent twice or skipped."""

    def __init__(self, response: web.StreamResponse, after: LogPosition | None) -> None:
        self.response = response
        self.position = after
        self.version: int | None = None

    def is_new(self, event: StreamEvent) -> bool:
        return self.position is None or LogPosition.parse(event.id) > self.position

    async def send(self, event: StreamEvent) -> bool:
        """Sends the event; True when it ends the stream."""
        await self.response.write(_frame(event))
        self.position = LogPosition.parse(event.id)
        self.version = event.version
        if event.event == "thread.deleted":
            await self.response.write(DONE)
            return True
        return False


async def _published_until(client, prefix: str, thread_id: str) -> LogPosition | None:
    try:
        return LogPosition.parse(await last_id(client, thread_stream(prefix, thread_id)))
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


async def thread_events(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    thread_id = request.match_info["thread_id"]
    after = _resume_point(request)
    if await views.thread(ctx.pool, request[PROJECT], thread_id) is None:
        raise thread_not_found(thread_id)
    settings = request.app[SETTINGS]
    client, prefix = request.app[REDIS], settings.redis_prefix

    # Subscribe before catching up, so what is published meanwhile waits in the queue.
    async with request.app[EVENT_HUB].subscription(thread_id) as queue:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        # Without a resume point, "now" is the last event already on the thread's stream.
        stream = _Stream(response, after or await _published_until(client, prefix, thread_id))
        if after is not None:
            async for event in events_after(ctx.pool, client, prefix, thread_id, after):
                if await stream.send(event):
                    return response
        stopping = request.app[STOPPING]
        while not stopping.is_set():
            item = await _next(queue, stopping, settings.sse_heartbeat_seconds)
            if item is None:
                await response.write(b": keep-alive\n\n")
                continue
            if isinstance(item, Overflow) or item is stopping:
                break  # too slow, or shutting down: the client resumes with Last-Event-ID
            if not stream.is_new(item):
                continue
            if stream.version is not None and item.version > stream.version + 1:
                # The hub missed entries (trimmed before it read them): take them from the log.
                async for missed in backfill(ctx.pool, thread_id, stream.position):
                    if missed.version >= item.version:
                        break
                    if await stream.send(missed):
                        return response
            if await stream.send(item):
                return response
    return response
