"""The relay: publishes the log, in commit order, to Redis streams.

The log is the outbox. Each event is XADDed with the explicit id <transaction_id>-<position>,
first to its own stream's key (eventlog/streams.py), then (after the whole batch's stream
entries) to the global one. Redis refuses an id that is not above the stream's last one, so a
re-publish after a crash between XADD and checkpoint is rejected and skipped, never
duplicated; and a crash between the two writes never leaves a stream short, since its own
write always comes first. That
same refusal lets the checkpoint trail the publication by a moment (CHECKPOINT_SECONDS).
"""

import logging
import time

import asyncpg
from redis.exceptions import ClusterError, RedisClusterException, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from eventlog.events import LoggedEvent
from eventlog.metrics import PUBLISH_ERRORS
from eventlog.positions import LogPosition
from eventlog.reader import read_checkpoint, write_checkpoint
from eventlog.redis_client import Client, is_cluster
from eventlog.registry import registered
from eventlog.streams import global_stream, global_stream_of, stream_key

from .consumer import LogConsumer
from .envelope import as_text, envelope

log = logging.getLogger(__name__)


# How often, at most, a busy relay writes its checkpoint (an idle one writes it at once). Each
# write is a transaction; per batch, at a steady trickle of creates, it cost a third of the
# relay's Postgres time. A crash republishes at most this long of the log, which Redis refuses
# entry by entry (ids not above the stream's last), so nothing is duplicated.
CHECKPOINT_SECONDS = 0.25


def _xadd(key: str, fields: dict[str, bytes], entry_id: str, maxlen: int | None) -> tuple:
    """An XADD with an explicit id, trimming the stream to about `maxlen` entries."""
    trim = ("MAXLEN", "~", maxlen) if maxlen is not None else ()
    return ("XADD", key, *trim, entry_id, *(part for item in fields.items() for part in item))


def _already_published(result: object) -> bool:
    return isinstance(result, ResponseError) and "equal or smaller" in str(result)


class Relay(LogConsumer):
    name = "relay"
    lock_key = 0x74686C02
    transient_errors = (
        *LogConsumer.transient_errors,
        RedisConnectionError,
        RedisTimeoutError,
        # A cluster failing over, out of reach, or with a shard missing, for a while.
        ClusterError,
        RedisClusterException,
    )

    def __init__(
        self,
        dsn: str,
        redis_client: Client,
        *,
        prefix: str,
        maxlen: int | None = 1_000_000,
        own_stream_maxlen: int | None = 10_000,
        partitions: int = 1,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        **kwargs,
    ) -> None:
        super().__init__(dsn, **kwargs)
        self.redis = redis_client
        self.prefix = prefix
        self.maxlen = maxlen
        # Of each stream's own key (a thread's), where `maxlen` is the global stream's.
        self.own_stream_maxlen = own_stream_maxlen
        self.partitions = partitions
        self.checkpoint_seconds = checkpoint_seconds
        self.skipped = 0
        # Published, not yet checkpointed: Redis refuses a re-publish, so the checkpoint may
        # trail by a moment (the resume point is the stream's own last id where there is one).
        self._unsaved: LogPosition | None = None
        self._saved_at = 0.0
        # One server: the connection its batches go out on while it is busy (_sent).
        self._connection = None

    async def resume_position(self, conn: asyncpg.Connection) -> LogPosition:
        checkpoint = await read_checkpoint(conn, self.name)
        if self.partitions > 1:
            # Partitions end at different ids; only the checkpoint says where all are complete.
            # Resuming from it republishes at most a batch, which Redis refuses entry by entry.
            return checkpoint
        try:
            info = await self.redis.xinfo_stream(global_stream(self.prefix))
        except ResponseError:  # no such key yet
            return checkpoint
        published = LogPosition.parse(as_text(info["last-generated-id"]))
        return max(checkpoint, published)

    async def handle(self, conn: asyncpg.Connection, events: list[LoggedEvent]) -> None:
        # An unknown event cannot be rendered here: its stream's entries go on around it (a
        # subscriber sees the version skip), and the relay never stalls.
        entries = [(e, envelope(e)) for e in registered(events, self.name)]
        stream_adds = [
            _xadd(
                stream_key(self.prefix, e.category, e.stream_id),
                fields,
                e.position,
                self.own_stream_maxlen,
            )
            for e, fields in entries
        ]
        global_adds = [
            _xadd(
                global_stream_of(self.prefix, e.stream_id, self.partitions),
                fields,
                e.position,
                self.maxlen,
            )
            for e, fields in entries
        ]
        if not entries:
            pass  # nothing this release can publish in the batch; its checkpoint moves on
        elif is_cluster(self.redis):
            # A cluster pipeline sends each node its share at once, in no order across nodes:
            # the stream entries must be in before the global ones go out.
            await self._pipelined(stream_adds)
            await self._pipelined(global_adds)
        else:
            # One server answers a connection's commands in the order they came.
            await self._sent(stream_adds + global_adds)
        self._unsaved = LogPosition.of(events[-1])
        if time.monotonic() - self._saved_at >= self.checkpoint_seconds:
            await self._save(conn)

    async def _pipelined(self, commands: list[tuple]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        try:
            results = await pipe.execute(raise_on_error=False)
        except Exception:
            PUBLISH_ERRORS.inc()
            raise
        self._check(results)

    async def _sent(self, commands: list[tuple]) -> None:
        """What a pipeline does, on a connection the relay keeps while it is busy: the batch's
        commands written at once, their replies read in order. redis-py's pipeline took a pool
        connection and built its command stack and reply callbacks anew for every batch, half
        the relay's CPU at the one or two events a batch of a steady trickle of creates."""
        connection = self._connection
        if connection is None:
            connection = self._connection = await self.redis.connection_pool.get_connection()
        results: list[object] = []
        try:
            await connection.send_packed_command(
                connection.pack_commands(commands), check_health=False
            )
            for _ in commands:
                try:
                    results.append(await connection.read_response(disable_decoding=True))
                except ResponseError as exc:  # that command's reply; the rest follow
                    results.append(exc)
        except BaseException as exc:
            # Replies may be left unread on it (a cancel included): never reuse it.
            if isinstance(exc, Exception):
                PUBLISH_ERRORS.inc()
            await self._let_go(disconnect=True)
            raise
        self._check(results)

    async def _let_go(self, *, disconnect: bool = False) -> None:
        """Gives the kept connection back to the client's pool (closed first, when its state
        is unknown)."""
        connection, self._connection = self._connection, None
        try:
            if disconnect:
                await connection.disconnect()
        finally:
            await self.redis.connection_pool.release(connection)

    def _check(self, results: list[object]) -> None:
        for result in results:
            if isinstance(result, Exception):
                if not _already_published(result):
                    PUBLISH_ERRORS.inc()
                    raise result
                self.skipped += 1

    async def idle(self, conn: asyncpg.Connection) -> None:
        if self._unsaved is not None:
            await self._save(conn)
        if self._connection is not None:
            await self._let_go()

    async def _save(self, conn: asyncpg.Connection) -> None:
        assert self._unsaved is not None
        await write_checkpoint(conn, self.name, self._unsaved)
        self._unsaved = None
        self._saved_at = time.monotonic()
