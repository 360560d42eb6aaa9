"""A minimal HTTP/1.1 keep-alive client for the built-in load generators.

On two shared cores every microsecond the client spends is taken from the servers it measures.
Writing a prepared request and reading a Content-Length response off an asyncio stream costs
about 0.055 ms of CPU per request here, against about 0.085 ms for aiohttp's client; that
matters most in the paced scenario, where the client and the subscriber share the cores with
the servers they time. (wrk, when installed, is cheaper still and drives the closed loops.)
Both servers under test answer every request with a Content-Length body (aiohttp's
web.Response), which is all this client understands; anything else is reported as an error,
never guessed at.
"""

import asyncio
from collections import deque
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection broke or the answer was not HTTP/1.1 with a Content-Length."""


def prepare(base_url: str, method: str, path: str, headers: dict[str, str], body: bytes | None):
    """The bytes of a request, built once and sent as many times as needed."""
    host = urlsplit(base_url).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, base_url: str) -> "Connection":
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Sends one prepared request; returns (status, body)."""
        self.writer.write(raw)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise HttpError(f"no response head: {exc!r}") from None
        if not head.startswith(b"HTTP/1.1 "):
            raise HttpError(f"not an HTTP/1.1 response: {head[:40]!r}")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at < 0:
            raise HttpError("response without Content-Length")
        end = lower.index(b"\r\n", at + 2)
        length = int(lower[at + 17 : end])
        try:
            body = await self.reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise HttpError(f"short body: {exc!r}") from None
        return status, body

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Up to `size` keep-alive connections to one server, opened as needed, handed out one
    request at a time; callers beyond `size` wait for a connection to come back."""

    def __init__(self, base_url: str, size: int) -> None:
        self.base_url = base_url
        self.size = size
        self.opened = 0
        self.idle: deque[Connection] = deque()
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def _take(self) -> Connection:
        while True:
            if self.idle:
                return self.idle.pop()
            if self.opened < self.size:
                self.opened += 1
                try:
                    return await Connection.open(self.base_url)
                except OSError:
                    self.opened -= 1
                    self._wake()
                    raise
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter

    def _wake(self) -> None:
        """Lets the longest waiter look again: a connection came back or a slot is free."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        conn = await self._take()
        try:
            result = await conn.request(raw)
        except BaseException:
            # A connection in an unknown state is never reused.
            conn.close()
            self.opened -= 1
            self._wake()
            raise
        self.idle.append(conn)
        self._wake()
        return result

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()
        for waiter in self.waiters:
            waiter.cancel()
