"""Connection pools and connections, with JSON handled by orjson in both directions."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


async def init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool connections never carry session state (no LISTEN, no session advisory locks, no
    SET, no open transaction: asyncpg still rolls one back): the default reset, a round trip
    on every release, would only cost time."""


# The API's queries are key lookups and index range scans whose best plan does not depend on
# the values. Postgres would otherwise re-plan them on every execution wherever the statistics
# make a value-specific plan look cheaper (a table of few, large threads): planning a list page
# cost three times what running it did. A generic plan cannot see a page's bounds, though, and
# may then guess a page is a row or two and prefer a bitmap scan of the range plus a sort, which
# reads the whole thread for a page of 20; none of these queries is ever better served by a
# bitmap scan, so they are off. tests/test_query_plans.py checks each generic plan.
API_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_bitmapscan": "off"}


class Pool:
    """An asyncpg pool that serves waiting requests in the order they came.

    asyncpg hands a released connection to whichever caller asks next, so a request woken for
    it may find it taken and go to the back of the line again: with more requests in flight
    than connections, a few waited many times the median (list p99 25 times its p50 in the
    bench). A fair semaphore in front, as wide as the pool, lets only as many callers through
    as there are connections, first come, first served."""

    def __init__(self, pool: asyncpg.Pool, size: int) -> None:
        self._pool = pool
        self._turns = asyncio.Semaphore(size)

    async def _call(self, method: str, query: str, *args: Any) -> Any:
        async with self._turns:
            return await getattr(self._pool, method)(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self._call("fetch", query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self._call("fetchrow", query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._call("fetchval", query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self._call("execute", query, *args)

    async def close(self) -> None:
        await self._pool.close()

    def terminate(self) -> None:
        self._pool.terminate()


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
        # Sent at connection start, so it is the session's default and outlives a RESET ALL.
        server_settings=API_SERVER_SETTINGS,
    )
    return Pool(pool, max_size)


async def connect(dsn: str, **options) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, **options)
    await init_connection(conn)
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
