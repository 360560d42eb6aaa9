"""How the log's consumers hear of a new event: a notification, or a poke from their own
process, whose appends then send none (Postgres delivers every notification to every listening
session of the database)."""

import asyncio
import uuid

import httpx

from eventlog.append import append
from eventlog.database import connect, create_pool
from eventlog.positions import LogPosition
from eventlog.streams import global_stream
from projections.consumer import EVENTS_CHANNEL, LocalConsumers
from projections.projector import PROJECTED_CHANNEL, Projector
from projections.relay import Relay
from service.app import apply_migrations
from service.store.projection_wait import ProjectionWait
from service.threads import events as ev

from .conftest import KEY_A, PROJECT_A
from .helpers import until

AUTH = {"Authorization": f"Bearer {KEY_A}"}


async def _new_thread(pool, thread: str, *, notify: bool = False) -> LogPosition:
    """Appends a thread's creation; where it stands in the log. Without a notification unless
    asked for, as an append beside the active consumers of its process sends none."""
    appended = await append(
        pool,
        thread,
        PROJECT_A,
        [ev.thread_created(thread, 1, None, None)],
        [uuid.uuid4()],
        {},
        new_category="thread",
        notify=notify,
    )
    return LogPosition.of(appended)


async def _fed_relay(make_database, redis_client, prefix: str) -> tuple[str, Projector, Relay]:
    """A projector feeding a relay, on a fresh database; neither looks at the log on its own
    for 60 s, so only notifications, pokes and handed batches move them."""
    dsn = await make_database()
    await apply_migrations(dsn)
    projector = Projector(dsn, idle_poll=60)
    relay = Relay(dsn, redis_client, prefix=prefix, idle_poll=60)
    projector.feed(relay)
    return dsn, projector, relay


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
        assert await until(lambda: projector.following)
        at = await _new_thread(pool, "thread_poked")
        await asyncio.sleep(0.3)
        assert projector.position < at
        projector.poke()
        assert await until(lambda: projector.position >= at)
        # Waiters in its own process hear the position from it, not from Postgres.
        assert told[-1] == at
    finally:
        stop.set()
        await task
        await pool.close()


async def test_only_a_process_without_active_consumers_notifies(
    settings, make_database, make_prefix, start_server
):
    own = settings.model_copy(
        update={"database_url": await make_database(), "redis_prefix": make_prefix()}
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
            assert await until(lambda: len(heard) == 1)
            # Woken by that notification, the other process's projector answered it in time.
            assert "Threadlog-Read-Your-Writes" not in created.headers
    finally:
        await listener.close()


async def test_a_relay_fed_by_the_projector_publishes_what_it_read_without_reading_the_log(
    make_database, redis_client, make_prefix
):
    prefix = make_prefix()
    dsn, projector, relay = await _fed_relay(make_database, redis_client, prefix)
    local = LocalConsumers((projector, relay))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in (projector, relay)]
    pool = await create_pool(dsn)
    try:
        assert await until(lambda: local.all_following)
        # Past each one's first read at start.
        assert await until(lambda: relay.log_reads >= 1 and projector.log_reads >= 1)
        # Counted per instance: other relays of the test session share the metric's label.
        relay_reads, projector_reads = relay.log_reads, projector.log_reads
        positions = []
        for n in range(3):
            positions.append(await _new_thread(pool, f"thread_fed_{n}"))
            local.poke()
            assert await until(lambda: relay.position >= positions[-1])
        published = [eid for eid, _ in await redis_client.xrange(global_stream(prefix))]
        assert published == [str(p) for p in positions]
        assert projector.position == positions[-1]
        assert relay.log_reads == relay_reads, "the relay read the log itself"
        assert projector.log_reads >= projector_reads + 1
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await pool.close()


async def test_a_fed_relay_does_not_listen_until_its_projector_stops_and_then_hears_appends(
    make_database, redis_client, make_prefix
):
    prefix = make_prefix()
    dsn, projector, relay = await _fed_relay(make_database, redis_client, prefix)
    unfollowed: list[str] = []
    projector.on_unfollow = lambda: unfollowed.append("projector")
    local = LocalConsumers((projector, relay))
    stop_projector, stop_relay = asyncio.Event(), asyncio.Event()
    projecting = asyncio.create_task(projector.run(stop_projector))
    relaying = asyncio.create_task(relay.run(stop_relay))
    pool = await create_pool(dsn)
    try:
        assert await until(lambda: local.all_following)
        assert await until(lambda: relay.log_reads >= 1 and projector.log_reads >= 1)
        relay_reads = relay.log_reads
        # An append of this process: the projector reads it and hands it to the relay.
        fed = await _new_thread(pool, "thread_fed")
        local.poke(fed)
        assert await until(lambda: relay.position >= fed)
        assert relay.log_reads == relay_reads, "the relay read the log itself"
        assert await until(lambda: not relay.listening), "a fed relay still listens"
        assert projector.listening, "the projector must hear other processes' appends"

        stop_projector.set()
        await projecting
        assert unfollowed == ["projector"]
        assert await until(lambda: relay.listening)
        # An append from another process notifies; only that can wake the relay now.
        at = await _new_thread(pool, "thread_heard", notify=True)
        assert await until(lambda: relay.position >= at)
        published = [eid for eid, _ in await redis_client.xrange(global_stream(prefix))]
        assert published == [str(fed), str(at)]
    finally:
        stop_projector.set()
        stop_relay.set()
        await asyncio.gather(projecting, relaying)
        await pool.close()


async def test_projection_wait_listens_only_while_no_projector_here_tells_it(make_database):
    dsn = await make_database()
    await apply_migrations(dsn)
    here = [False]
    # It would look again only after 60 s: only recheck_now() makes it look sooner.
    wait = ProjectionWait(dsn, recheck=60)
    wait.told_directly = lambda: here[0]
    await wait.start()
    other = await connect(dsn)

    async def notified(position: str) -> bool:
        await other.execute("select pg_notify($1, $2)", PROJECTED_CHANNEL, position)
        return await until(lambda: wait.position == LogPosition.parse(position), 1.0)

    try:
        assert await until(lambda: wait.listening)
        assert await notified("5-5"), "a notification did not reach the waiters"
        here[0] = True
        wait.recheck_now()
        assert await until(lambda: not wait.listening), "it still listens beside a projector"
        assert not await notified("6-6"), "it heard a notification without listening"
        here[0] = False  # the projector here stopped, and said so
        wait.recheck_now()
        assert await until(lambda: wait.listening), "it did not take up its LISTEN again"
        assert await notified("7-7")
    finally:
        await other.close()
        await wait.close()
