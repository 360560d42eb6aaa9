"""How the log's consumers hear of a new event: a notification, or a poke from their own
process, whose appends then send none (Postgres delivers every notification to every listening
session of the database)."""

import asyncio
import dataclasses
import uuid

import httpx

from projections.consumer import EVENTS_CHANNEL
from projections.projector import Projector
from service.app import apply_migrations
from service.domain import events as ev
from service.store.database import connect, create_pool
from service.store.event_store import append

from .conftest import KEY_A, PROJECT_A

AUTH = {"Authorization": f"Bearer {KEY_A}"}


async def _until(condition, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_a_poke_wakes_a_consumer_that_would_otherwise_sleep_and_it_tells_its_process(
    make_database,
):
    dsn = await make_database()
    await apply_migrations(dsn)
    # It would look at the log again only after 60 s: only the poke can wake it sooner.
    told: list = []
    projector = Projector(dsn, idle_poll=60, on_projected=told.append)
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    pool = await create_pool(dsn)
    try:
        assert await _until(lambda: projector.following)
        created = ev.thread_created("thread_poked", 1, None, None)
        appended = await append(
            pool,
            "thread_poked",
            PROJECT_A,
            [created],
            [uuid.uuid4()],
            {},
            create=True,
            notify=False,
        )
        await asyncio.sleep(0.3)
        assert projector.position < (appended.transaction_id, appended.global_position)
        projector.poke()
        assert await _until(
            lambda: projector.position >= (appended.transaction_id, appended.global_position)
        )
        # Waiters in its own process hear the position from it, not from Postgres.
        assert told[-1] == (appended.transaction_id, appended.global_position)
    finally:
        stop.set()
        await task
        await pool.close()


async def test_only_a_process_without_active_consumers_notifies(
    settings, make_database, make_prefix, start_server
):
    own = dataclasses.replace(
        settings, database_url=await make_database(), redis_prefix=make_prefix()
    )
    with_workers = await start_server(own)
    api_only = await start_server(own, workers=False)
    heard: list[str] = []
    listener = await connect(own.database_url)
    await listener.add_listener(EVENTS_CHANNEL, lambda *args: heard.append(args[2]))
    try:
        async with httpx.AsyncClient(headers=AUTH) as http:
            thread = (await http.post(f"{with_workers}/threads", json={})).json()["id"]
            # Until its projector and relay lead, the first process notifies like any other.
            for _ in range(100):
                heard.clear()
                await http.post(
                    f"{with_workers}/threads/{thread}/messages",
                    json={"role": "user", "content": "a"},
                )
                await asyncio.sleep(0.05)
                if not heard:
                    break
            assert heard == [], "appends beside active consumers still notify"

            created = await http.post(
                f"{api_only}/threads/{thread}/messages", json={"role": "user", "content": "b"}
            )
            assert created.status_code == 200
            assert await _until(lambda: len(heard) == 1)
            # Woken by that notification, the other process's projector answered it in time.
            assert "Threadlog-Read-Your-Writes" not in created.headers
    finally:
        await listener.close()
