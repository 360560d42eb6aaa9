"""The bench's own database and Redis keys: made at start, removed at the end, never shared.

A database `threadlog_bench_<random>` on the server of --database-url, and a Redis prefix of the
same name: a run touches nothing that exists before it, and two runs do not see each other.
"""

import asyncio
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as redis


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def create_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        # FORCE ends the sessions a killed server may have left behind (Postgres 13+).
        await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


async def delete_keys(redis_url: str, prefix: str) -> int:
    """Deletes every key under `prefix:`; returns how many."""
    client = redis.from_url(redis_url)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += await client.unlink(*batch)
                batch = []
        if batch:
            deleted += await client.unlink(*batch)
    finally:
        await client.aclose()
    return deleted


LOG_END = """
select transaction_id::text::bigint as tx, global_position as pos
from events order by transaction_id desc, global_position desc limit 1
"""

CHECKPOINT = """
select transaction_id::text::bigint as tx, global_position as pos
from log_checkpoints where name = $1
"""


async def log_end(conn: asyncpg.Connection) -> tuple[int, int]:
    row = await conn.fetchrow(LOG_END)
    return (row["tx"], row["pos"]) if row else (0, 0)


async def checkpoint(conn: asyncpg.Connection, name: str) -> tuple[int, int]:
    row = await conn.fetchrow(CHECKPOINT, name)
    return (row["tx"], row["pos"]) if row else (0, 0)


async def wait_caught_up(
    conn: asyncpg.Connection, names: tuple[str, ...], within: float, poll: float = 0.1
) -> None:
    """Until each named consumer's checkpoint has reached the log's end as it is now."""
    end = await log_end(conn)
    deadline = time.monotonic() + within
    while True:
        behind = [n for n in names if await checkpoint(conn, n) < end]
        if not behind:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{', '.join(behind)} not at the log's end after {within:.0f} s")
        await asyncio.sleep(poll)


async def settle(conn: asyncpg.Connection, tables: list[str]) -> None:
    """Statistics and a checkpoint before measuring, as a database in steady state has them:
    no autovacuum or checkpoint triggered by the seeding then lands inside a measured run."""
    for table in tables:
        await conn.execute(f"vacuum analyze {table}")
    await conn.execute("checkpoint")
