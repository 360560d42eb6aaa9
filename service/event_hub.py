"""One Redis reader per API process, fanning events out to that process's SSE subscribers.

However many clients follow streams (threads...) over Server-Sent Events, the process holds
one blocking XREAD on the global stream and no Postgres connection for them while they are
idle. Each subscriber gets a bounded queue; one that cannot keep up is cut off (its client
resumes with Last-Event-ID) rather than letting memory grow.

The reader runs only while the process has a subscriber: reading and parsing every event of the
global stream for nobody was a tenth of an API process's CPU under write load. A first
subscriber waits until the reader has its starting point (the streams' last ids), taken after
the subscriber was registered and before it looks at its own stream, so nothing published
in between can fall in the gap.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict

from eventlog.redis_client import REDIS_ERRORS, Client, xread
from eventlog.streams import global_streams
from projections.envelope import StreamEvent, as_text
from projections.stream_reads import ConcurrentReads, read_groups
from projections.subscriber import last_id

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
# Below redis-py's default 5 s socket timeout, so an idle blocking read is not a network error.
BLOCK_MS = 2000


class Overflow:
    """Put in a subscriber's queue when it fell too far behind."""


OVERFLOW = Overflow()


class EventHub:
    def __init__(self, client: Client, prefix: str, partitions: int = 1) -> None:
        self.client = client
        self.keys = global_streams(prefix, partitions)
        # One XREAD for every partition; on a Redis Cluster, one per slot, in flight together.
        self._reads = ConcurrentReads(self._read, read_groups(client, self.keys))
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)
        # Where the reader goes on from; empty while nobody here subscribes.
        self._positions: dict[str, str] = {}
        self._starting = asyncio.Lock()
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        # A flag as well as cancel(): a client library may swallow a cancellation that lands
        # inside its blocking read, and the loop must still end.
        self._closing = True
        if self._task:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)
        await self._reads.cancel()

    @contextlib.asynccontextmanager
    async def subscription(self, stream_id: str):
        queue: asyncio.Queue[StreamEvent | Overflow] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[stream_id].add(queue)
        try:
            # Redis away: the reader takes its starting point once it is back.
            with contextlib.suppress(*REDIS_ERRORS):
                await self._start_point()
            self._wanted.set()
            yield queue
        finally:
            subscribers = self._subscribers.get(stream_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[stream_id]

    def _dispatch(self, event: StreamEvent) -> None:
        for queue in self._subscribers.get(event.stream_id, ()):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(OVERFLOW)

    async def _start_point(self) -> None:
        async with self._starting:
            if not self._positions:
                self._positions = {key: await last_id(self.client, key) for key in self.keys}

    async def _read(self, keys: list[str]) -> list:
        positions = {key: self._positions[key] for key in keys}
        return await xread(self.client, positions, count=500, block=BLOCK_MS) or []

    async def _run(self) -> None:
        while not self._closing:
            if not self._subscribers:
                # Idle: forget the position, so the next subscriber starts from "now" rather
                # than from a backlog nobody asked for. Reads still in flight started from the
                # old one: stopped, after the reset, so a subscriber arriving meanwhile takes
                # its own starting point.
                self._positions = {}
                self._wanted.clear()
                await self._reads.cancel()
                await self._wanted.wait()
                continue
            try:
                await self._start_point()
                reply = await self._reads.next()
            except REDIS_ERRORS as exc:
                log.warning("event hub: %r; retrying", exc)
                await asyncio.sleep(1.0)
                continue
            except Exception:
                # Whatever else goes wrong, the process's only reader must not end with it.
                log.exception("event hub: read failed; retrying")
                await asyncio.sleep(1.0)
                continue
            for key, entries in reply:
                for entry_id, fields in entries:
                    self._positions[as_text(key)] = entry_id
                    # Parse only what someone here follows: most events have no subscriber.
                    stream_id = _stream_id(fields)
                    if stream_id is not None and as_text(stream_id) in self._subscribers:
                        self._dispatch(StreamEvent.from_entry(entry_id, fields))


def _stream_id(fields: dict) -> str | bytes | None:
    """The entry's stream, by schema 2's field or, in a schema 1 entry, its thread_id."""
    for name in (b"stream_id", "stream_id", b"thread_id", "thread_id"):
        if name in fields:
            return fields[name]
    return None
