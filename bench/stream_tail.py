"""The paced scenario's subscriber: blocking XREADs on one Redis stream, as cheaply as it can.

The subscriber times each create's entry on the same two cores as the servers it measures, and
it reads about once per create (each blocking XREAD returns as soon as one entry is there).
Through redis-py's asyncio client, a profiled paced run had the subscriber at about a quarter
of the harness's CPU, most of it in the client's per-command machinery; here one Protocol
writes the next XREAD as soon as the last reply is parsed (hiredis's reader and packer, the
parser redis-py itself uses), with no task or future per read.
"""

import asyncio
import time
from collections.abc import Callable

import hiredis
from redis.connection import parse_url

# Called with (entry id, its fields as a flat [name, value, ...] list, when the reply came).
OnEntry = Callable[[bytes, list[bytes], float], None]


class StreamTail(asyncio.Protocol):
    """Reads `stream` from after `last_id` until stop(); `on_entry` gets every entry."""

    def __init__(self, stream: str, last_id: bytes, on_entry: OnEntry, prelude: list[tuple]):
        self.stream = stream
        self.last_id = last_id
        self.on_entry = on_entry
        # AUTH / SELECT, answered before the first XREAD.
        self._prelude = prelude
        self._reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.error: BaseException | None = None
        self.stopped = asyncio.get_running_loop().create_future()
        self._stopping = False

    @classmethod
    async def open(cls, url: str, stream: str, last_id: bytes, on_entry: OnEntry) -> "StreamTail":
        options = parse_url(url)
        prelude: list[tuple] = []
        if options.get("password"):
            auth = [options["password"]]
            if options.get("username"):
                auth.insert(0, options["username"])
            prelude.append(("AUTH", *auth))
        if options.get("db"):
            prelude.append(("SELECT", options["db"]))
        loop = asyncio.get_running_loop()
        _, tail = await loop.create_connection(
            lambda: cls(stream, last_id, on_entry, prelude),
            options.get("host", "localhost"),
            options.get("port", 6379),
        )
        return tail

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  (uvloop's are not subclasses)
        for command in self._prelude:
            transport.write(hiredis.pack_command(command))
        self._ask()

    def _ask(self) -> None:
        assert self.transport is not None
        self.transport.write(
            hiredis.pack_command(
                ("XREAD", "COUNT", 1000, "BLOCK", 200, "STREAMS", self.stream, self.last_id)
            )
        )

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            now = time.perf_counter()
            if isinstance(reply, hiredis.ReplyError):
                self._end(reply)
                return
            if self._prelude:
                self._prelude.pop(0)  # AUTH's or SELECT's OK
                continue
            for _key, entries in reply or ():
                for entry_id, fields in entries:
                    self.last_id = entry_id
                    self.on_entry(entry_id, fields, now)
            if self._stopping:
                self._end(None)
                return
            self._ask()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(exc or ConnectionError("Redis closed the connection"))

    def _end(self, error: BaseException | None) -> None:
        if self.error is None and error is not None and not self._stopping:
            self.error = error
        if not self.stopped.done():
            self.stopped.set_result(None)
        if self.transport is not None:
            self.transport.close()

    async def stop(self) -> None:
        """Ends after the XREAD in flight returns (within its 200 ms block)."""
        self._stopping = True
        await asyncio.wait_for(asyncio.shield(self.stopped), 5)
