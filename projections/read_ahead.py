"""Reading a consumer's next batch of the log while it applies the one before.

Catching up on a backlog (a restart after an outage, the benchmark's rebuild), a consumer
alternated between two halves that each left the other idle: its Python decoding and folding a
batch while Postgres waited, and Postgres writing the views (or the relay's Redis taking its
entries) while Python waited. With the next batch read on a second connection meanwhile, its
rows are decoded while the last batch is written, and both cores work.

The second connection only reads the log, whose commit-order query gives the same events after
a position on any connection; the consumer's own connection keeps its lead (the advisory lock)
and every write. It is opened at the first backlog and closed once the consumer is idle, so a
consumer that keeps up, as it does under live load, holds no second connection.
"""

import asyncio
import contextlib

import asyncpg

from eventlog.database import connect
from eventlog.events import LoggedEvent
from eventlog.positions import LogPosition
from eventlog.reader import read_after


class ReadAhead:
    def __init__(self, dsn: str, limit: int, server_settings: dict[str, str]) -> None:
        self.dsn = dsn
        self.limit = limit
        self.server_settings = server_settings
        self._conn: asyncpg.Connection | None = None
        # The read in flight, and the position it reads after.
        self._read: asyncio.Task[list[LoggedEvent]] | None = None
        self._after: LogPosition | None = None

    @property
    def pending(self) -> bool:
        """A read was started and not yet taken."""
        return self._read is not None

    def start(self, after: LogPosition) -> None:
        """Begins reading the batch after `after`; take() collects it."""
        self._discard()
        self._after = after
        self._read = asyncio.create_task(self._read_after(after))

    async def take(self, at: LogPosition) -> list[LoggedEvent] | None:
        """The batch read after `at`, or None when no read after `at` was started. A failed
        read raises here, as the consumer's own read would."""
        read, after = self._read, self._after
        if read is None or after != at:
            self._discard()
            return None
        self._read = self._after = None
        return await read

    async def close(self) -> None:
        """Drops any read in flight and the connection (the consumer is idle or stopping)."""
        self._discard()
        conn, self._conn = self._conn, None
        if conn is not None:
            # A read cancelled mid-query leaves the connection unusable: close it, and if it
            # cannot close cleanly in time, cut it.
            try:
                await conn.close(timeout=2)
            except Exception:
                conn.terminate()

    def _discard(self) -> None:
        read, self._read, self._after = self._read, None, None
        if read is None:
            return
        if read.done():
            with contextlib.suppress(BaseException):
                read.result()  # retrieved, so a failed read is not reported as never awaited
            return
        read.cancel()
        # The connection may be mid-query; the next read gets a new one.
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def _read_after(self, after: LogPosition) -> list[LoggedEvent]:
        if self._conn is None or self._conn.is_closed():
            self._conn = await connect(self.dsn, server_settings=self.server_settings)
        return await read_after(self._conn, after, self.limit)
