"""Connection pools and connections, with JSON handled by orjson in both directions."""

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


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
        # Sent at connection start, so it is the session's default and outlives a RESET ALL.
        server_settings=API_SERVER_SETTINGS,
    )


async def connect(dsn: str, **options) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, **options)
    await init_connection(conn)
    return conn
