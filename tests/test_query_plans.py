"""The hot queries use their index and never sort: a page costs the same on any size of log."""

import uuid

import pytest

from service.app import apply_migrations
from service.domain import events as ev
from service.domain.requests import CreateMessage
from service.store.database import connect, create_pool
from service.store.event_store import append
from service.store.sql import query


@pytest.fixture(scope="module")
async def seeded(make_database):
    dsn = await make_database()
    await apply_migrations(dsn)
    pool = await create_pool(dsn)
    for t in range(20):
        thread = f"thread_plan{t}"
        created = ev.thread_created(thread, 1, None, None)
        await append(pool, thread, "p", [created], [uuid.uuid4()], {"project": "p"}, create=True)
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
    from projections.projector import apply_to_views
    from service.domain.events import LoggedEvent

    await apply_to_views(conn, [LoggedEvent.from_log(r) for r in rows])
    await conn.execute("analyze")
    yield conn
    await conn.close()


async def _plan(conn, sql: str, *args) -> str:
    statement = await conn.prepare("explain " + sql)
    return "\n".join(r[0] for r in await statement.fetch(*args))


async def test_log_reader_walks_the_commit_order_index(seeded):
    plan = await _plan(seeded, query("read-log"), "0", 0, 500)
    assert "events_commit_order" in plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("direction", ["up", "down"])
async def test_list_page_is_one_range_scan(seeded, direction):
    plan = await _plan(
        seeded,
        query(f"list-messages-{direction}"),
        "thread_plan3",
        "p",
        "msg_3_10",
        "msg_3_60",
        21,
        None,
    )
    assert "message_view_pkey" in plan
    assert "Sort" not in plan, plan
