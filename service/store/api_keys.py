"""The api_keys table: keys created with `threadlog keys`, stored as digests."""

from typing import Any

import asyncpg

from eventlog.database import Pool
from eventlog.sql import query


async def insert(
    pool: Pool | asyncpg.Connection, key_id: str, project: str, digest: bytes, prefix: str
) -> None:
    await pool.execute(query("insert-api-key"), key_id, project, digest, prefix)


async def project_for_digest(pool: Pool, digest: bytes) -> str | None:
    return await pool.fetchval(query("find-api-key"), digest)


async def list_all(conn: Pool | asyncpg.Connection) -> list[Any]:
    return await conn.fetch(query("list-api-keys"))


async def revoke(conn: Pool | asyncpg.Connection, key_id: str) -> bool:
    return await conn.fetchval(query("revoke-api-key"), key_id) is not None
