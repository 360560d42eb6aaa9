"""A leader-elected consumer of the log, woken by NOTIFY, the frame of projector and relay.

Each consumer runs on one dedicated connection that holds a session advisory lock: only one
instance per consumer name is active across all processes on the database, and when its
connection dies the lock goes with it and a standby takes over. NOTIFY is only a hint to read
sooner; the commit-order query is the truth, and an idle poll covers a missed hint and events
held back behind a long transaction.
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

import asyncpg

from eventlog.database import Listener, connect
from eventlog.events import LoggedEvent
from eventlog.metrics import BATCHES, LOG_READS
from eventlog.positions import LogPosition
from eventlog.reader import read_after, read_checkpoint

from .read_ahead import ReadAhead

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "threadlog_events"

# Handed-over batches a fed consumer holds at most; past that it is far behind, the oldest go,
# and it reads the log itself from where it stands.
HANDED_MAX = 16

# What a consumer commits (views, checkpoints) is derived from the log, which is committed
# durably before any consumer sees it. A crash of Postgres can lose only the last moments of
# these commits, views and checkpoint together (one transaction), and the consumer derives them
# again from the log; so they need not wait for the WAL flush, which took a disk sync from
# every create's path to its answer (the projector's commit) and from Postgres's CPU.
# Generic plans: with statistics on the log, Postgres planned the commit-order read anew on
# every batch (its custom plans looked cheaper than the generic one), and the planning was
# most of the read's cost: 110 us of Postgres CPU for a read at the log's end, 33 us with the
# generic plan, the same ordered scan of the commit-order index (tests/test_query_plans.py).
CONSUMER_SERVER_SETTINGS = {"synchronous_commit": "off", "plan_cache_mode": "force_generic_plan"}


class LogConsumer:
    name: str = ""
    lock_key: int = 0
    # Failures of a dependency that is down for a while: logged briefly, then retried.
    transient_errors: tuple[type[BaseException], ...] = (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    )

    def __init__(
        self,
        dsn: str,
        *,
        batch_size: int = 1000,
        idle_poll: float = 0.25,
        standby_poll: float = 1.0,
    ) -> None:
        self.dsn = dsn
        self.batch_size = batch_size
        self.idle_poll = idle_poll
        self.standby_poll = standby_poll
        self.is_leader = False
        self.position: LogPosition | None = None
        # How far it has read the log (or been handed it): at or past `position`.
        self.read_to: LogPosition | None = None
        # Reads of the log it made itself (threadlog_consumer_log_reads_total, per instance).
        self.log_reads = 0
        # Set while this instance is the active one and following the log.
        self._wake: asyncio.Event | None = None
        # Whether, since it became active, it has read to the end of the log and waited there
        # (what `following` promises: an append from now on is new to it).
        self._caught_up = False
        # Consumers in this process that take their batches from this one's reads (feed()).
        self._fed: list[LogConsumer] = []
        self._upstream: LogConsumer | None = None
        # Segments of the log handed over by the upstream consumer: (after, events), each all
        # the events after `after` up to its last one, oldest first.
        self._handed: deque[tuple[LogPosition, list[LoggedEvent]]] = deque(maxlen=HANDED_MAX)
        # Its connection's LISTEN for appends, while it follows (not taken while its upstream
        # wakes it).
        self._listener: Listener | None = None
        # Called when it stops following the log (loses its lead, its connection, or stops):
        # whoever it told positions directly must hear them from Postgres again.
        self.on_unfollow: Callable[[], None] | None = None
        # Its reads of the next batch while it applies one, catching up on a backlog.
        self._ahead: ReadAhead | None = None

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.on

    @property
    def reading_ahead(self) -> bool:
        """The batch after the one it is applying is being (or has been) read."""
        return self._ahead is not None and self._ahead.pending

    @property
    def following(self) -> bool:
        """Active, and caught up with the log: it has read to the end of the log since it
        became active, and waits on it; a poke() reaches it. Until then, an appender in its
        process still notifies (and whatever is appended, its reads to the end will find)."""
        return self._wake is not None and self._caught_up

    def poke(self, at: LogPosition | None = None) -> None:
        """Wakes the consumer as a notification would: something was just appended, at `at`
        when the caller knows. An append it has already read (its batch read the log after
        the commit, before the appender heard back) needs no wake: that read would come back
        empty, as about one in six did at a steady trickle of creates."""
        if self._wake is None:
            return
        if at is not None and self.read_to is not None and at <= self.read_to:
            return
        self._wake.set()

    def feed(self, other: "LogConsumer") -> None:
        """Hands `other` (a consumer in this process) every batch this one reads, so that
        while both follow the log it is read once: a pass of the commit-order query and the
        decoding of its rows per batch, for the relay as for the projector. A poke for both
        then goes to this one only (it wakes `other` with each batch); `other` reads for
        itself when what it was handed does not continue from where it stands."""
        assert other._upstream is None, "a consumer is fed by one other at most"
        self._fed.append(other)
        other._upstream = self

    @property
    def woken_by_upstream(self) -> bool:
        """Its upstream follows the log too, and has read at least as far as this one stands:
        what it reads next is new here, and it wakes this one with it. A consumer ahead of
        its upstream (the projector catching up on a backlog) is woken as any other."""
        upstream = self._upstream
        return (
            upstream is not None
            and upstream.following
            and upstream.read_to is not None
            and self.position is not None
            and upstream.read_to >= self.position
        )

    def _hand(self, after: LogPosition, events: list[LoggedEvent]) -> None:
        if self._wake is None or (
            self.position is not None and LogPosition.of(events[-1]) <= self.position
        ):
            return  # not following, or nothing in it is new to this consumer
        self._handed.append((after, events))
        self._wake.set()

    def _on_notify(self, *_args: object) -> None:
        # While the upstream follows, it hears the same notification, reads, and hands the
        # batch over; reading as well would read the log twice again.
        if self._wake is not None and not self.woken_by_upstream:
            self._wake.set()

    def _take_handed(self) -> list[LoggedEvent] | None:
        """The handed events that continue from this consumer's position, at most a batch;
        None when there are none and it must read the log itself. A segment (after, events]
        holds every event of the log in that span, so the part past the position continues
        it exactly; segments wholly behind it are dropped."""
        assert self.position is not None
        taken: list[LoggedEvent] = []
        at = self.position
        while self._handed and len(taken) < self.batch_size:
            after, events = self._handed[0]
            if after > at:
                break  # a gap: what lies between was never handed over
            self._handed.popleft()
            if LogPosition.of(events[-1]) <= at:
                continue
            rest = [e for e in events if LogPosition.of(e) > at] if after < at else events
            room = self.batch_size - len(taken)
            if len(rest) > room:
                # Keep what does not fit for the next batch, as a segment after the last taken.
                self._handed.appendleft((LogPosition.of(rest[room - 1]), rest[room:]))
                rest = rest[:room]
            taken.extend(rest)
            at = LogPosition.of(rest[-1])
        if not taken:
            # Nothing continues from here: whatever is left lies past a gap, and is read again.
            self._handed.clear()
            return None
        if self._handed and self._wake is not None:
            # More was handed than one batch holds, or it lies past a gap: go on at once.
            self._wake.set()
        return taken

    async def resume_position(self, conn: asyncpg.Connection) -> LogPosition:
        raise NotImplementedError

    async def handle(self, conn: asyncpg.Connection, events: list[LoggedEvent]) -> None:
        """Applies a batch; only returns once its effect is durable."""
        raise NotImplementedError

    async def idle(self, conn: asyncpg.Connection) -> None:
        """Called when the log has had nothing new for a while, and before stopping."""

    async def run(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set, surviving lost connections and failures with a backoff."""
        backoff = 0.1
        while not stop.is_set():
            try:
                await self._run_once(stop)
                backoff = 0.1
            except self.transient_errors as exc:
                log.warning("%s: %r; retrying", self.name, exc)
            except Exception:
                log.exception("%s: batch failed; retrying", self.name)
            self.is_leader = False
            await _sleep_unless(stop, backoff)
            backoff = min(backoff * 2, 5.0)

    async def _run_once(self, stop: asyncio.Event) -> None:
        conn = await connect(self.dsn, server_settings=CONSUMER_SERVER_SETTINGS)
        try:
            while not await conn.fetchval("select pg_try_advisory_lock($1)", self.lock_key):
                if await _sleep_unless(stop, self.standby_poll):
                    return
            self.is_leader = True
            log.info("%s: active", self.name)
            wake = asyncio.Event()
            self._listener = Listener(conn, EVENTS_CHANNEL, self._on_notify)
            # Stopping wakes the loop too, so one wait covers both (two tasks a wait, before).
            stopping = asyncio.ensure_future(stop.wait())
            stopping.add_done_callback(lambda _: wake.set())
            self._wake = wake
            try:
                await self._follow(conn, wake, stop)
            finally:
                self._wake = None
                self._caught_up = False
                # What it read is no one's to rely on until it reads again: a poke for an
                # append at or before it must wake the next run, and a consumer it fed must
                # not count on it.
                self.read_to = None
                self._handed.clear()
                stopping.cancel()
                # Consumers it fed must hear of appends for themselves again: a poke makes
                # each look at the log and take up its own LISTEN.
                for other in self._fed:
                    other.poke()
                if self.on_unfollow is not None:
                    self.on_unfollow()
        finally:
            self.is_leader = False
            self._listener = None
            await conn.close(timeout=5)

    async def _listen(self) -> None:
        """LISTENs for appends only while nothing in this process wakes it: a fed consumer
        would drop every notification (the projector's, at each batch, as well). Taking the
        LISTEN up again, it looks at the log once: appends notified while it was not
        listening were heard by no one on its behalf."""
        assert self._listener is not None and self._wake is not None
        if await self._listener.want(not self.woken_by_upstream):
            self._wake.set()

    async def _next_batch(
        self, conn: asyncpg.Connection, ahead: ReadAhead, reads
    ) -> tuple[list[LoggedEvent], bool]:
        """The events after the position, and whether it read them from the log itself: read
        ahead (which continues from the position exactly), or handed over, or read now. What
        it read itself is handed on to the consumers it feeds."""
        events = await ahead.take(self.position)
        if events is None:
            handed = self._take_handed()
            if handed is not None:
                return handed, False
            events = await read_after(conn, self.position, self.batch_size)
        reads.inc()
        self.log_reads += 1
        if events:
            for other in self._fed:
                other._hand(self.position, events)
        return events, True

    async def _follow(
        self, conn: asyncpg.Connection, wake: asyncio.Event, stop: asyncio.Event
    ) -> None:
        batches = BATCHES.labels(self.name)
        reads = LOG_READS.labels(self.name)
        self.position = self.read_to = await self.resume_position(conn)
        ahead = self._ahead = ReadAhead(self.dsn, self.batch_size, CONSUMER_SERVER_SETTINGS)
        try:
            while not stop.is_set():
                wake.clear()
                events, read_here = await self._next_batch(conn, ahead, reads)
                if events:
                    end = LogPosition.of(events[-1])
                    self.read_to = max(self.read_to, end)
                    backlog = len(events) == self.batch_size
                    if backlog and read_here:
                        # The next batch is read while this one is applied (what is handed
                        # over comes from the upstream's reads ahead).
                        ahead.start(end)
                    await self.handle(conn, events)
                    batches.inc()
                    self.position = end
                    if backlog:
                        continue  # read on at once (it is being read)
                # A short batch read all there was: a commit since that read has notified
                # (and set `wake`), so waiting costs nothing, where reading again at once
                # would cost an empty round trip for every batch.
                if wake.is_set():
                    continue
                await self._listen()
                if wake.is_set():
                    continue
                self._caught_up = True
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle_poll):
                        await wake.wait()
                if not wake.is_set():
                    await ahead.close()
                    await self.idle(conn)
                    # Idle for a while: someone else may have moved the checkpoint on (a
                    # rebuild swapping views in).
                    self.position = max(self.position, await read_checkpoint(conn, self.name))
                    self.read_to = max(self.read_to, self.position)
            await self.idle(conn)
        finally:
            self._ahead = None
            await ahead.close()


class LocalConsumers:
    """The log's consumers that run in this process (none in an API-only process).

    While every one of them is the active instance, a writer in this process wakes them
    directly and appends without a notification: Postgres delivers each notification to every
    listening session of the database, whatever its channel, and that delivery cost more
    Postgres time per create than the insert itself. Consumers elsewhere are then standbys,
    which do not listen. If one loses its lead between the check and the append, the new
    leader finds the event at its next poll (LogConsumer.idle_poll) or notification."""

    def __init__(self, consumers: tuple[LogConsumer, ...] = ()) -> None:
        self.consumers = consumers

    @property
    def all_following(self) -> bool:
        return bool(self.consumers) and all(c.following for c in self.consumers)

    def poke(self, at: LogPosition | None = None) -> None:
        """Something was appended (at `at`, where known)."""
        for consumer in self.consumers:
            if not consumer.woken_by_upstream:
                consumer.poke(at)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleeps up to `seconds`; True when `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False
