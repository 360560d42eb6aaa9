"""The hot queries use their index and never sort: a page costs the same on any size of log."""

import uuid

import pytest

from eventlog.append import append
from eventlog.database import API_SERVER_SETTINGS, connect, create_pool
from eventlog.sql import query
from projections.consumer import CONSUMER_SERVER_SETTINGS
from service.app import apply_migrations
from service.threads import events as ev
from service.threads.requests import CreateMessage


@pytest.fixture(scope="module")
async def seeded(make_database):
    dsn = await make_database()
    await apply_migrations(dsn)
    pool = await create_pool(dsn)
    for t in range(20):
        thread = f"thread_plan{t}"
        created = ev.thread_created(thread, 1, None, None)
        await append(
            pool, thread, "p", [created], [uuid.uuid4()], {"project": "p"}, new_category="thread"
        )
        messages = [
            ev.message_created(thread, f"msg_{t}_{i}", 1, CreateMessage(role="user", content="x"))
            for i in range(100)
        ]
        ids = [uuid.uuid4() for _ in messages]
        await append(pool, thread, "p", messages, ids, {"project": "p"})
    await pool.close()
    conn = await connect(dsn)
    rows = await conn.fetch("select * from events order by global_position")
    # Fill the views directly (the projector is not running here) and refresh statistics.
    from eventlog.events import LoggedEvent
    from projections.projector import apply_to_views

    await apply_to_views(conn, [LoggedEvent.from_log(r) for r in rows])
    await conn.execute("analyze")
    yield conn
    await conn.close()


async def _plan(conn, sql: str, *args) -> str:
    statement = await conn.prepare("explain " + sql)
    return "\n".join(r[0] for r in await statement.fetch(*args))


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    if isinstance(value, list):
        return "array[" + ", ".join(f"'{v}'" for v in value) + "]::uuid[]"
    return "'" + str(value).replace("'", "''") + "'"


async def _generic_plan(conn, sql: str, *args, settings=API_SERVER_SETTINGS) -> str:
    """The plan of `sql` as a prepared statement run with the API's settings (or others):
    EXPLAIN EXECUTE shows the plan the statement itself would use (EXPLAIN of a query with
    values would plan for those values)."""
    await conn.execute(f"prepare plan_probe as {sql}")
    try:
        for name, value in settings.items():
            await conn.execute(f"set {name} = '{value}'")
        args_sql = ", ".join(_literal(a) for a in args)
        rows = await conn.fetch(f"explain execute plan_probe({args_sql})")
        return "\n".join(r[0] for r in rows)
    finally:
        await conn.execute("deallocate plan_probe")
        await conn.execute("reset all")


@pytest.fixture(scope="module")
async def few_large_threads(make_database):
    """Statistics that make a generic plan risky: three threads of 20,000 messages, so a plan
    that cannot see which thread it is for expects a third of the table (a hundred projects
    with one busy thread each look like this)."""
    dsn = await make_database()
    await apply_migrations(dsn)
    conn = await connect(dsn)
    await conn.execute(
        """
        insert into stream_heads (stream_id, category, project, version)
        select 'thread_big' || t, 'thread', 'p', 20001 from generate_series(1, 3) t;
        insert into thread_view (id, project, created_at, metadata, tool_resources, version)
        select 'thread_big' || t, 'p', 1, '{}', '{}', 20001 from generate_series(1, 3) t;
        insert into message_view (thread_id, position, id, created_at, role, content, attachments,
                                  metadata, status)
        select 'thread_big' || t, i + 1, 'msg_big_' || t || '_' || i, 1, 'user', '[]', '[]',
               '{}', 'completed'
        from generate_series(1, 20000) i, generate_series(1, 3) t
        order by i, t;
        analyze;
        """
    )
    yield conn
    await conn.close()


async def test_log_reader_walks_the_commit_order_index(seeded):
    plan = await _plan(seeded, query("read-log"), "0", 0, 500)
    assert "events_commit_order" in plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("at", ["start", "end"])
async def test_log_reader_walks_the_commit_order_index_with_the_consumers_generic_plan(seeded, at):
    if at == "start":
        after = ("0", 0)
    else:
        row = await seeded.fetchrow(
            "select transaction_id::text as tx, global_position from events"
            " order by transaction_id desc, global_position desc offset 5 limit 1"
        )
        after = (row["tx"], row["global_position"])
    plan = await _generic_plan(
        seeded, query("read-log"), *after, 1000, settings=CONSUMER_SERVER_SETTINGS
    )
    assert f"'{after[0]}'" not in plan, "not a generic plan"
    assert "events_commit_order" in plan
    assert "Sort" not in plan, plan


LIST_ARGS = ("thread_plan3", "p", "msg_3_10", "msg_3_60", 21, None)


@pytest.mark.parametrize("direction", ["up", "down"])
async def test_list_page_is_one_range_scan(seeded, direction):
    plan = await _plan(seeded, query(f"threads/list-messages-{direction}"), *LIST_ARGS)
    assert "message_view_pkey" in plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize("cursors", [(None, None), ("msg_big_2_10", None), (None, "msg_big_2_900")])
async def test_generic_list_plan_walks_the_index_on_few_large_threads(
    few_large_threads, direction, cursors
):
    plan = await _generic_plan(
        few_large_threads,
        query(f"threads/list-messages-{direction}"),
        "thread_big2",
        "p",
        *cursors,
        21,
        None,
    )
    assert "$1" in plan, f"not a generic plan:\n{plan}"
    assert "message_view_pkey" in plan, plan
    assert "Sort" not in plan and "Bitmap" not in plan, plan


# Every query of the API's pool, with arguments; each generic plan must probe an index.
API_QUERIES = [
    ("threads/get-thread", ("thread_plan3", "p")),
    ("threads/get-message", ("thread_plan3", "p", "msg_3_10")),
    ("threads/list-messages-down", LIST_ARGS),
    ("threads/list-messages-up", LIST_ARGS),
    ("event-position", ("thread_plan3", 5)),
    ("events-by-id", ([uuid.uuid4()],)),
    ("find-api-key", (b"digest",)),
]


@pytest.mark.parametrize(("name", "args"), API_QUERIES, ids=[n for n, _ in API_QUERIES])
async def test_generic_plans_of_the_api_use_indexes(seeded, name, args):
    plan = await _generic_plan(seeded, query(name), *args)
    assert "$1" in plan, f"not a generic plan:\n{plan}"
    # The seeded tables are small enough that a scan of the tiny heads and threads tables is
    # cheaper than their index; the log and the messages always go by an index.
    scans = [line for line in plan.splitlines() if "Scan" in line]
    assert scans, plan
    assert not any("Seq Scan on events" in s or "Seq Scan on message_view" in s for s in scans)
    assert "Sort" not in plan or name == "events-by-id", plan
