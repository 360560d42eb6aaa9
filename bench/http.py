"""A minimal HTTP/1.1 keep-alive client for the built-in load generators.

On two shared cores every microsecond the client spends is taken from the servers it measures.
A connection is an asyncio Protocol that writes a prepared request and parses the Content-Length
response out of what the socket hands it, calling back when it is complete: no stream reader,
and for the paced scenario no task, future or timeout per request. In the closed loop this
costs about 0.05 ms of CPU per request here (aiohttp's client: about 0.085 ms). In the paced
scenario, where the client and its subscriber share the cores with the servers they time, the
client with its subscriber (bench/stream_tail.py) costs 0.13-0.15 ms per create at 877/s
against bare, where an asyncio stream, a task and a timeout per request, and redis-py's XREAD
cost 0.30-0.32. wrk, when installed, is cheaper still and drives the closed loops. Both
servers under test answer every request with a Content-Length body (aiohttp's web.Response),
which is all this client understands; anything else is reported as an error, never guessed at.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

# What a request's callback gets: (status, body), or the error that ended it.
Result = tuple[int, bytes] | BaseException
Done = Callable[[Result], None]

# A response head longer than this is not one of the servers under test answering.
MAX_HEAD = 16 * 1024


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


def _parse(buffer: bytearray) -> tuple[int, bytes] | None:
    """Takes one complete response off the front of `buffer`; None until it has one."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        if len(buffer) > MAX_HEAD:
            raise HttpError("response head too long")
        return None
    head = bytes(buffer[: head_end + 2]).lower()
    if not head.startswith(b"http/1.1 "):
        raise HttpError(f"not an HTTP/1.1 response: {head[:40]!r}")
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        raise HttpError("response without Content-Length")
    length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
    end = head_end + 4 + length
    if len(buffer) < end:
        return None
    status = int(head[9:12])
    body = bytes(buffer[head_end + 4 : end])
    del buffer[:end]
    return status, body


class Connection(asyncio.Protocol):
    """One keep-alive connection; requests on it are answered in the order they were sent."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._pending: deque[Done] = deque()
        self._broken: BaseException | None = None

    @classmethod
    async def open(cls, base_url: str) -> "Connection":
        parts = urlsplit(base_url)
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, parts.hostname, parts.port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  (uvloop's are not subclasses)

    def send(self, raw: bytes, done: Done) -> None:
        """Writes a prepared request; `done` is called once with its result."""
        if self._broken is not None or self.transport is None or self.transport.is_closing():
            done(self._broken or HttpError("connection closed"))
            return
        self._pending.append(done)
        self.transport.write(raw)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Sends one prepared request; returns (status, body). A request cancelled while it
        waits leaves the connection in an unknown state: close it."""
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()

        def done(result: Result) -> None:
            if future.done():
                return
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        self.send(raw, done)
        return await future

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._pending:
            try:
                reply = _parse(self._buffer)
            except (HttpError, ValueError) as exc:
                self._fail(exc if isinstance(exc, HttpError) else HttpError(repr(exc)))
                return
            if reply is None:
                return
            self._pending.popleft()(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(HttpError(f"connection lost: {exc!r}"))

    def _fail(self, error: BaseException) -> None:
        if self._broken is None:
            self._broken = error
        if self.transport is not None:
            self.transport.close()
        while self._pending:
            self._pending.popleft()(error)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Pool:
    """Up to `size` keep-alive connections to one server, opened as needed, one request on a
    connection at a time; requests beyond `size` wait in order for a connection to come back.
    A connection that failed a request is never reused."""

    def __init__(self, base_url: str, size: int) -> None:
        self.base_url = base_url
        self.size = size
        self.opened = 0
        self.idle: list[Connection] = []
        self.queued: deque[tuple[bytes, Done]] = deque()
        self._opening: set[asyncio.Task[None]] = set()
        self._closed = False

    def submit(self, raw: bytes, done: Done) -> None:
        """Sends `raw` on a free connection, or once one is free; `done` gets its result."""
        if self.idle:
            self._send(self.idle.pop(), raw, done)
        elif self.opened < self.size:
            self.opened += 1
            task = asyncio.ensure_future(self._open_and_send(raw, done))
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)
        else:
            self.queued.append((raw, done))

    async def _open_and_send(self, raw: bytes, done: Done) -> None:
        try:
            conn = await Connection.open(self.base_url)
        except OSError as exc:
            self.opened -= 1
            done(exc)
            self._next_on_new_connection()
            return
        self._send(conn, raw, done)

    def _send(self, conn: Connection, raw: bytes, done: Done) -> None:
        def finished(result: Result) -> None:
            if isinstance(result, BaseException):
                conn.close()
                self.opened -= 1
                self._next_on_new_connection()
            else:
                self._release(conn)
            done(result)

        conn.send(raw, finished)

    def _release(self, conn: Connection) -> None:
        if self._closed:
            conn.close()
        elif self.queued:
            raw, done = self.queued.popleft()
            self._send(conn, raw, done)
        else:
            self.idle.append(conn)

    def _next_on_new_connection(self) -> None:
        """A slot came free: the oldest queued request gets a connection of its own."""
        if self.queued and not self._closed:
            self.submit(*self.queued.popleft())

    def close(self) -> None:
        self._closed = True
        for task in self._opening:
            task.cancel()
        while self.idle:
            self.idle.pop().close()
        self.queued.clear()
