"""Migrations: applied in order, once, even when several processes start together."""

import asyncio

import httpx

from eventlog.database import connect
from eventlog.sql import migrations
from service.app import apply_migrations

from .helpers import threadlog


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


# The schema before the log was made generic: thread-shaped columns, thread-shaped functions.
BEFORE_GENERIC_STREAMS = "0004_generic_streams"
OLD_FUNCTIONS = """
create function threadlog_append_events(
    text, text, boolean, bigint, boolean, uuid[], text[], jsonb[], jsonb, boolean
) returns void language sql as 'select';
create function threadlog_project_events(
    jsonb, jsonb, text[], bigint[], text[], text[], bigint[], text, text, bigint
) returns void language sql as 'select';
"""
OLD_THREAD = """
insert into stream_heads (thread_id, project, version) values ($1, 'p', 2);
insert into events (thread_id, version, event_id, type, data, metadata)
values ($1, 1, gen_random_uuid(), 'ThreadCreated',
        jsonb_build_object('id', $1::text, 'created_at', 1, 'metadata', '{}'::jsonb,
                           'tool_resources', '{}'::jsonb),
        '{"project": "p"}'),
       ($1, 2, gen_random_uuid(), 'MessageCreated',
        jsonb_build_object('id', 'msg_' || $1::text, 'thread_id', $1::text, 'created_at', 1,
                           'role', 'user',
                           'content', '[{"type": "text", "text": {"value": "old",
                                         "annotations": []}}]'::jsonb,
                           'file_ids', '["file-1"]'::jsonb, 'metadata', '{}'::jsonb,
                           'assistant_id', null, 'run_id', null),
        '{"project": "p"}');
"""


async def _schema_before_generic_streams(conn) -> None:
    """Migrations up to the one under test, applied as `migrate` applies them, and old threads
    written in their own transactions (so their transaction ids differ)."""
    await conn.execute(
        "create table schema_migrations ("
        " name text primary key, applied_at timestamptz not null default now())"
    )
    for name, text in migrations():
        if name >= BEFORE_GENERIC_STREAMS:
            break
        await conn.execute(text)
        await conn.execute("insert into schema_migrations (name) values ($1)", name)
    await conn.execute(OLD_FUNCTIONS)
    for thread in ("thread_old1", "thread_old2"):
        async with conn.transaction():
            for statement in OLD_THREAD.strip().split(";\n"):
                if statement.strip():
                    await conn.execute(statement.replace("$1", f"'{thread}'"))


async def test_the_generic_log_migration_keeps_every_event_and_position(make_database):
    dsn = await make_database()
    conn = await connect(dsn)
    try:
        await _schema_before_generic_streams(conn)
        before = await conn.fetch(
            "select global_position, transaction_id::text, thread_id, version, event_id, type,"
            " data, metadata, recorded_at from events order by global_position"
        )
        heads_before = await conn.fetch("select * from stream_heads order by thread_id")
        assert await apply_migrations(dsn) == [
            name for name, _ in migrations() if name >= BEFORE_GENERIC_STREAMS
        ]
        after = await conn.fetch(
            "select global_position, transaction_id::text, stream_id, version, event_id, type,"
            " data, metadata, recorded_at, category from events order by global_position"
        )
        assert [tuple(r)[:-1] for r in after] == [tuple(r) for r in before]
        assert {r["category"] for r in after} == {"thread"}
        heads = await conn.fetch(
            "select stream_id, project, version, deleted, category from stream_heads"
            " order by stream_id"
        )
        assert [tuple(r)[:4] for r in heads] == [tuple(r) for r in heads_before]
        assert {r["category"] for r in heads} == {"thread"}
        # The thread-shaped functions are gone; only the generic append is left.
        signatures = await conn.fetch(
            "select p.proname, pg_get_function_identity_arguments(p.oid) as args"
            " from pg_proc p where p.proname in"
            " ('threadlog_append_events', 'threadlog_project_events')"
        )
        assert [r["proname"] for r in signatures] == ["threadlog_append_events"]
        assert signatures[0]["args"].startswith("p_stream_id text, p_new_category text")
    finally:
        await conn.close()


async def test_a_thread_written_before_the_migration_reads_and_grows_after_it(
    make_database, settings, start_server
):
    """The old log, migrated, served: its threads answer as they did (the old event shape
    upcast), take new messages at the next version, and a replay agrees with the views."""
    dsn = await make_database()
    conn = await connect(dsn)
    try:
        await _schema_before_generic_streams(conn)
    finally:
        await conn.close()
    url = await start_server(
        settings.model_copy(update={"database_url": dsn, "api_keys": {"sk-old": "p"}})
    )
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-old"}) as http:
        listed = await http.get(f"{url}/threads/thread_old1/messages?order=asc")
        assert listed.status_code == 200, listed.text
        (old,) = listed.json()["data"]
        assert old["id"] == "msg_thread_old1"
        assert old["attachments"] == [{"file_id": "file-1", "tools": []}]
        created = await http.post(
            f"{url}/threads/thread_old1/messages", json={"role": "user", "content": "new"}
        )
        assert created.status_code == 200, created.text
        listed = (await http.get(f"{url}/threads/thread_old1/messages?order=asc")).json()
        assert [m["id"] for m in listed["data"]] == ["msg_thread_old1", created.json()["id"]]
    conn = await connect(dsn)
    try:
        versions = await conn.fetch(
            "select version, category from events where stream_id = 'thread_old1' order by version"
        )
        assert [(r["version"], r["category"]) for r in versions] == [
            (1, "thread"),
            (2, "thread"),
            (3, "thread"),
        ]
    finally:
        await conn.close()
    code, out = await threadlog({"DATABASE_URL": dsn}, "verify")
    assert code == 0, out
