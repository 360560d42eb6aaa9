"""A small async subscriber for threadlog's Redis streams: typed events out.

Two ways to read:
- `Subscriber.follow()`: one reader follows the global stream or one thread's stream, from an
  entry id or from now (XREAD). It keeps its own position; after a crash, resume from the last
  id you processed.
- `Subscriber.group()`: a consumer group (XREADGROUP/XACK) shares the work among members.
  Entries a crashed member left pending are reclaimed with XAUTOCLAIM once idle for
  `min_idle_ms`; an entry delivered more than `max_deliveries` times goes to a dead-letter
  stream `<prefix>:dead-letter:<group>` and is acknowledged, so one poison event cannot stall
  the group.

Delivery is at least once towards the consumer: deduplicate by `event.event_id` (or by entry id)
if processing is not idempotent.

Both work on one Redis server or on a Redis Cluster (pass a `RedisCluster` client): there, the
partitions of the global stream are read by one blocking read each, in flight together.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.exceptions import ResponseError

from eventlog.redis_client import Client, xread, xreadgroup
from eventlog.streams import global_streams, stream_key

from .envelope import THREAD_CATEGORY, StreamEvent, as_text
from .stream_reads import ConcurrentReads, first_answer, read_groups


def stream_keys(
    prefix: str, stream_id: str | None, partitions: int = 1, category: str = THREAD_CATEGORY
) -> list[str]:
    """One stream's key (a thread's, unless `category` says otherwise), or every partition of
    the global stream."""
    if stream_id:
        return [stream_key(prefix, category, stream_id)]
    return global_streams(prefix, partitions)


def dead_letter_stream(prefix: str, group: str) -> str:
    return f"{prefix}:dead-letter:{group}"


class Subscriber:
    def __init__(self, client: Client, prefix: str = "threadlog", partitions: int = 1) -> None:
        self.client = client
        self.prefix = prefix
        # THREADLOG_STREAM_PARTITIONS of the publisher: how many streams the global one is.
        self.partitions = partitions

    async def follow(
        self,
        *,
        thread_id: str | None = None,
        after: str = "$",
        block_ms: int = 2000,
        count: int = 100,
    ) -> AsyncIterator[StreamEvent]:
        """Events after entry id `after` ("$": from now; "0": from the oldest kept), forever.

        Entry ids are positions in the log's commit order, the same in every stream, so one
        `after` means the same place in each partition of the global stream. Across
        partitions, events of different threads may arrive out of commit order; each
        thread's events stay in order.

        To leave the loop early, close the iterator (`contextlib.aclosing`): on a cluster its
        reads of the other partitions are in flight, and end only with it."""
        keys = stream_keys(self.prefix, thread_id, self.partitions)
        positions = {}
        for key in keys:
            # Pin "now" to an id, so nothing published between two reads is skipped.
            positions[key] = await last_id(self.client, key) if after == "$" else after

        async def read(group: list[str]) -> list:
            since = {key: positions[key] for key in group}
            return await xread(self.client, since, count=count, block=block_ms) or []

        reads = ConcurrentReads(read, read_groups(self.client, keys))
        try:
            while True:
                for key, entries in await reads.next():
                    for entry_id, fields in entries:
                        event = StreamEvent.from_entry(entry_id, fields)
                        positions[as_text(key)] = event.id
                        yield event
        finally:
            await reads.cancel()

    def group(
        self,
        group: str,
        consumer: str,
        *,
        thread_id: str | None = None,
        start: str = "$",
        min_idle_ms: int = 30_000,
        max_deliveries: int = 5,
    ) -> "GroupConsumer":
        return GroupConsumer(
            self.client,
            stream_keys(self.prefix, thread_id, self.partitions),
            dead_letter_stream(self.prefix, group),
            group,
            consumer,
            start=start,
            min_idle_ms=min_idle_ms,
            max_deliveries=max_deliveries,
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    event: StreamEvent
    # How many times the group has handed this entry out, this time included.
    deliveries: int
    # The stream it came from (the global stream may be several partitions).
    stream: str


class GroupConsumer:
    def __init__(
        self,
        client: Client,
        keys: list[str],
        dead_letter_key: str,
        group: str,
        consumer: str,
        *,
        start: str,
        min_idle_ms: int,
        max_deliveries: int,
    ) -> None:
        self.client = client
        self.keys = keys
        self.dead_letter_key = dead_letter_key
        self.group = group
        self.consumer = consumer
        self.start = start
        self.min_idle_ms = min_idle_ms
        self.max_deliveries = max_deliveries
        # One XREADGROUP for all the streams; on a Redis Cluster, one per slot.
        self._slots = read_groups(client, keys)

    async def ensure_group(self) -> None:
        for key in self.keys:
            try:
                await self.client.xgroup_create(key, self.group, id=self.start, mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read(self, *, count: int = 100, block_ms: int = 2000) -> list[Delivery]:
        """Reclaimed entries of crashed members first, then new ones. Ack each when done."""
        reclaimed = [d for key in self.keys for d in await self._reclaim(key, count)]
        if reclaimed:
            return reclaimed
        if len(self._slots) == 1:
            return await self._read_new(self._slots[0], count, block_ms)
        # On a cluster: what is waiting in any slot first, without blocking, up to `count`...
        waiting: list[Delivery] = []
        for slot_keys in self._slots:
            if len(waiting) < count:
                waiting += await self._read_new(slot_keys, count - len(waiting), None)
        if waiting:
            return waiting
        # ...then block on every slot at once, until one has something.
        return await first_answer([self._read_new(k, count, block_ms) for k in self._slots])

    async def _read_new(self, keys: list[str], count: int, block_ms: int | None) -> list[Delivery]:
        reply = await xreadgroup(
            self.client,
            self.group,
            self.consumer,
            dict.fromkeys(keys, ">"),
            count=count,
            block=block_ms,
        )
        return [
            Delivery(StreamEvent.from_entry(entry_id, fields), 1, as_text(key))
            for key, entries in reply or ()
            for entry_id, fields in entries
        ]

    async def ack(self, *deliveries: Delivery) -> None:
        for key in {d.stream for d in deliveries}:
            ids = [d.event.id for d in deliveries if d.stream == key]
            await self.client.xack(key, self.group, *ids)

    async def __aiter__(self) -> AsyncIterator[Delivery]:
        await self.ensure_group()
        while True:
            for delivery in await self.read():
                yield delivery

    async def _reclaim(self, key: str, count: int) -> list[Delivery]:
        _next, claimed, *_ = await self.client.xautoclaim(
            key, self.group, self.consumer, self.min_idle_ms, start_id="0-0", count=count
        )
        out: list[Delivery] = []
        for entry_id, fields in claimed:
            if fields is None:  # trimmed away while pending: nothing left to deliver
                await self.client.xack(key, self.group, entry_id)
                continue
            pending = await self.client.xpending_range(
                key, self.group, min=entry_id, max=entry_id, count=1
            )
            times = pending[0]["times_delivered"] if pending else 1
            if times > self.max_deliveries:
                entry = {**fields, "dead_letter_id": entry_id, "deliveries": str(times)}
                await self.client.xadd(self.dead_letter_key, entry)
                await self.client.xack(key, self.group, entry_id)
                continue
            out.append(Delivery(StreamEvent.from_entry(entry_id, fields), times, key))
        return out


async def last_id(client: Client, key: str) -> str:
    try:
        info = await client.xinfo_stream(key)
    except ResponseError:  # the stream does not exist yet: everything in it will be new
        return "0-0"
    return as_text(info["last-generated-id"])
