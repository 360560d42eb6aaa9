"""Applies sql/migrations in order, once each, and (re)creates the functions of sql/functions
and sql/<resource>/functions.

An advisory lock serialises concurrent starters (several `serve` processes, a compose migrate
step), and the schema_migrations table records what is applied, so each file runs exactly once.
"""

import asyncpg

from .sql import functions, migrations

_MIGRATION_LOCK = 0x7468726C  # arbitrary constant: "thrl"


class NewerSchema(Exception):
    """The database holds migrations this release does not have: a newer release migrated it.
    Running against it could misread the log, so nothing is done."""

    def __init__(self, unknown: list[str]) -> None:
        super().__init__(", ".join(unknown))
        self.unknown = unknown


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Applies pending migrations; returns the names applied by this call."""
    applied_now: list[str] = []
    await conn.execute("select pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            "create table if not exists schema_migrations ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        done = {r["name"] for r in await conn.fetch("select name from schema_migrations")}
        known = migrations()
        unknown = sorted(done - {name for name, _ in known})
        if unknown:
            raise NewerSchema(unknown)
        for name, text in known:
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(text)
                await conn.execute("insert into schema_migrations (name) values ($1)", name)
            applied_now.append(name)
        async with conn.transaction():
            for _name, text in functions():
                await conn.execute(text)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
