"""Migrations: applied in order, once, even when several processes start together."""

import asyncio

from service.app import apply_migrations
from service.store.database import connect
from service.store.sql import migrations


async def test_concurrent_starters_apply_each_migration_once(make_database):
    dsn = await make_database()
    results = await asyncio.gather(*(apply_migrations(dsn) for _ in range(4)))
    names = [name for name, _ in migrations()]
    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(names)
    assert await apply_migrations(dsn) == []
    conn = await connect(dsn)
    try:
        recorded = [
            r["name"] for r in await conn.fetch("select name from schema_migrations order by name")
        ]
    finally:
        await conn.close()
    assert recorded == names
