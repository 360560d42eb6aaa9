"""Waiting, in an API process, until the projector has passed a position in the log.

One connection per process follows 'threadlog_projected'; each waiter is a future keyed by the
position it needs, resolved when a notification reaches it. No polling on the hot path: a slow
re-read of the checkpoint only covers a lost notification or a lost connection. While the active
projector runs in this process, it tells the positions directly (advance) and the connection
does not LISTEN: Postgres would signal its session at every batch's notification, to deliver
what this process already knows.
"""

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable

from eventlog.database import Listener, connect
from eventlog.positions import LogPosition
from eventlog.reader import read_checkpoint
from projections.projector import PROJECTED_CHANNEL

log = logging.getLogger(__name__)


def _settle(future: asyncio.Future[bool], reached: bool) -> None:
    if not future.done():
        future.set_result(reached)


class ProjectionWait:
    def __init__(self, dsn: str, *, recheck: float = 0.5) -> None:
        self.dsn = dsn
        self.recheck = recheck
        self.position = LogPosition(0, 0)
        self._waiters: list[tuple[LogPosition, int, asyncio.Future[bool]]] = []
        self._order = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # True while the active projector is in this process and calls advance() itself;
        # set by whoever runs it there (service/app.py).
        self.told_directly: Callable[[], bool] = lambda: False
        # Its connection's LISTEN for the projector's notifications, while connected.
        self._listener: Listener | None = None
        # Set to recheck at once rather than at the next period (recheck_now()).
        self._recheck_now = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.on

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow())

    async def close(self) -> None:
        # A flag as well as cancel(): the loop must end even if a driver swallows the cancel.
        self._closing = True
        if self._task:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)

    async def wait(self, target: LogPosition, seconds: float) -> bool:
        """True once the projector is at or past `target`; False after `seconds`."""
        if target <= self.position:
            return True
        # A future that the projector's word or a timer settles: half the CPU of wait_for,
        # which wraps it in a second future, a callback and a timer (about 5 us a create).
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        heapq.heappush(self._waiters, (target, next(self._order), future))
        timer = loop.call_later(seconds, _settle, future, False)
        try:
            return await future
        finally:
            timer.cancel()

    def advance(self, position: LogPosition) -> None:
        """The projector has passed `position`: told by its notification, or directly by a
        projector in this process (one hop less between a write and its answer)."""
        if position > self.position:
            self.position = position
        while self._waiters and self._waiters[0][0] <= self.position:
            _, _, future = heapq.heappop(self._waiters)
            _settle(future, True)
        # Waiters that timed out or were cancelled leave settled futures behind; drop them
        # lazily.
        if self._waiters and all(f.done() for _, _, f in self._waiters):
            self._waiters.clear()

    def recheck_now(self) -> None:
        """The projector here stopped telling positions: LISTEN again and read the checkpoint
        now, not at the next period (a projector elsewhere may be taking over)."""
        self._recheck_now.set()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.advance(LogPosition.parse(payload))

    async def _follow(self) -> None:
        while not self._closing:
            try:
                conn = await connect(self.dsn)
                self._listener = Listener(conn, PROJECTED_CHANNEL, self._on_notify)
                try:
                    while not self._closing:
                        # LISTEN (again) before reading the checkpoint: nothing the projector
                        # elsewhere commits after that read goes unheard.
                        await self._listener.want(not self.told_directly())
                        self.advance(await read_checkpoint(conn, "projector"))
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._recheck_now.wait(), self.recheck)
                        self._recheck_now.clear()
                finally:
                    self._listener = None
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("projection wait: %r; reconnecting", exc)
                await asyncio.sleep(1.0)
