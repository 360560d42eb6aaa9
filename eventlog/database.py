"""Connection pools and connections, with JSON handled by orjson in both directions."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


# Array types the SQL in sql/ passes or returns that asyncpg does not know by heart (it knows
# text[]). A connection's first statement with one of them had asyncpg look it up in three
# round trips (a query over pg_type, with JIT turned off and back on around it), 10-35 ms in a
# new backend; the first appends on each new pool connection after a start paid it, and under
# load the whole queue behind them did. One prepare when the connection opens looks them all up
# at once. tests/unit/test_sql.py checks that sql/ uses no other.
LOOKED_UP_AT_CONNECT = ("uuid", "bigint", "jsonb")
_LOOK_UP = "select " + ", ".join(f"${n}::{t}[]" for n, t in enumerate(LOOKED_UP_AT_CONNECT, 1))


async def init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")
    await conn.prepare(_LOOK_UP)


# The API's queries are key lookups and index range scans whose best plan does not depend on
# the values. Postgres would otherwise re-plan them on every execution wherever the statistics
# make a value-specific plan look cheaper (a table of few, large threads): planning a list page
# cost three times what running it did. A generic plan cannot see a page's bounds, though, and
# may then guess a page is a row or two and prefer a bitmap scan of the range plus a sort, which
# reads the whole thread for a page of 20; none of these queries is ever better served by a
# bitmap scan, so they are off. tests/test_query_plans.py checks each generic plan.
API_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_bitmapscan": "off"}


# Errors after which a connection's session is gone or going: the connection class (08, such
# as asyncpg's "connection does not exist") and operator intervention (57: the backend was
# terminated, or the server is shutting down).
_SESSION_GONE = (asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError)

# How long a connection being given up may take to close before it is dropped.
RETIRE_SECONDS = 5.0


class Pool:
    """The API's connections to Postgres, lent one query at a time, to waiting requests in the
    order they came.

    Not asyncpg's pool, for two reasons measured here. Fairness: it hands a released connection
    to whichever caller asks next, so a request woken for it may find it taken and go to the
    back of the line again; with more requests in flight than connections, a few waited many
    times the median (list p99 25 times its p50 in the bench). A fair semaphore as wide as the
    pool lets only as many callers through as there are connections, first come, first served.
    Cost: its acquire and release cost 55 us of this process's CPU per query (a task per
    release, to shield it from cancellation, and a timer per idle connection), twice what the
    query itself costs on its connection (`select 1` in a loop: 85 against 28 us), and 12% of
    the API's samples under a list load. Here a connection is taken off a list and put back.

    Connections never carry session state (no LISTEN, no session advisory lock, no SET, no
    open transaction: every query is one statement), so none is reset between queries; each is
    opened on first need, with the session settings above, and kept. One that Postgres closed is
    dropped when next met; one whose query failed other than by Postgres's answer (the
    connection broke, or the request was cancelled mid-query) is closed, never reused in an
    unknown state."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn = dsn
        self.size = size
        self._turns = asyncio.Semaphore(size)
        # Open connections no query holds; with one per turn taken, never more than `size`.
        self._idle: list[asyncpg.Connection] = []
        self._all: set[asyncpg.Connection] = set()
        self._retiring: set[asyncio.Task[None]] = set()
        self._closed = False

    async def open(self, count: int) -> None:
        """Opens `count` connections now: a database out of reach fails start-up, not the
        first request."""
        try:
            opened = await asyncio.gather(
                *(self._connect() for _ in range(count)), return_exceptions=True
            )
            failed = [c for c in opened if isinstance(c, BaseException)]
            if failed:
                raise failed[0]
        except BaseException:
            # A connection that failed, or a start-up cancelled meanwhile: those already open
            # belong to no one else.
            self.terminate()
            raise
        self._idle.extend(opened)

    async def _connect(self) -> asyncpg.Connection:
        conn = await connect(self.dsn, server_settings=API_SERVER_SETTINGS)
        self._all.add(conn)
        return conn

    async def _call(self, method: str, query: str, *args: Any) -> Any:
        if self._closed:
            raise asyncpg.InterfaceError("the pool is closed")
        async with self._turns:
            conn = None
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    break
                self._all.discard(conn)
                conn = None
            if conn is None:
                conn = await self._connect()
            try:
                result = await getattr(conn, method)(query, *args)
            except BaseException as exc:
                # Postgres refused the statement and the session is as it was; anything else
                # (the connection broke or was closed by the server, or the caller was
                # cancelled mid-query) leaves it in no state to trust.
                answered = isinstance(exc, asyncpg.PostgresError) and not isinstance(
                    exc, _SESSION_GONE
                )
                self._put_back(conn, reuse=answered)
                raise
            self._put_back(conn, reuse=True)
            return result

    def _put_back(self, conn: asyncpg.Connection, *, reuse: bool) -> None:
        if reuse and not conn.is_closed() and not self._closed:
            self._idle.append(conn)
        elif conn.is_closed():
            self._all.discard(conn)
        else:
            task = asyncio.ensure_future(self._retire(conn))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def _retire(self, conn: asyncpg.Connection) -> None:
        """Closes a connection no one will use again. asyncpg's close waits for the cancel
        request it sent for a cancelled query (so that the server stops the statement, where
        dropping the socket would leave it running to its end), then ends the session."""
        try:
            await conn.close(timeout=RETIRE_SECONDS)
        except Exception:
            conn.terminate()
        finally:
            self._all.discard(conn)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self._call("fetch", query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self._call("fetchrow", query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._call("fetchval", query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self._call("execute", query, *args)

    async def close(self) -> None:
        """Closes every connection once the queries on them are done; new calls are refused."""
        self._closed = True
        for _ in range(self.size):  # every turn back: no query is running
            await self._turns.acquire()
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.close() for c in idle), *self._retiring, return_exceptions=True)
        self._all.clear()

    def terminate(self) -> None:
        self._closed = True
        for conn in self._all:
            conn.terminate()
        self._all.clear()
        self._idle.clear()


async def create_pool(dsn: str, *, min_size: int = 10, max_size: int = 10) -> Pool:
    """A pool that opens `min_size` connections now (at most `max_size`). Opening one costs a
    backend's start and its first statements' planning, tens of ms: at start-up, not under the
    first burst of requests, which otherwise queued behind the connections being opened."""
    pool = Pool(dsn, max_size)
    await pool.open(min(min_size, max_size))
    return pool


async def connect(dsn: str, **options) -> asyncpg.Connection:
    """A connection with this project's codecs and type lookups. One that fails or is
    cancelled while being set up is cut before the error goes on: left open, it would be
    garbage-collected with asyncpg's "unclosed connection" warning, and hold a backend until."""
    conn = await asyncpg.connect(dsn, **options)
    try:
        await init_connection(conn)
    except BaseException:
        conn.terminate()
        raise
    return conn


class Listener:
    """A LISTEN on one channel of a connection, taken up and dropped as it is wanted: Postgres
    signals every listening session of the database at every notification, whatever its
    channel, so a session that would only drop what it hears should not listen."""

    def __init__(self, conn: asyncpg.Connection, channel: str, callback: Callable) -> None:
        self.conn = conn
        self.channel = channel
        self.callback = callback
        self.on = False

    async def want(self, on: bool) -> bool:
        """LISTENs or UNLISTENs where `on` differs from now; True when it has just begun to
        listen (what was notified before went unheard: the caller reads what it missed)."""
        if on == self.on:
            return False
        if on:
            await self.conn.add_listener(self.channel, self.callback)
        else:
            await self.conn.remove_listener(self.channel, self.callback)
        self.on = on
        return on
