"""The aiohttp application factory and the resources each process opens and closes."""

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from projections.consumer import LocalConsumers
from projections.log_reader import LogPosition
from projections.projector import Projector
from projections.redis_client import connect_redis, relay_client
from projections.relay import Relay

from .appkeys import (
    API_KEYS,
    CONTEXT,
    EVENT_HUB,
    INFLIGHT,
    RATE_LIMITER,
    REDIS,
    SETTINGS,
    STOPPING,
)
from .auth import ApiKeys
from .config import Settings
from .event_hub import EventHub
from .handlers import setup_routes
from .middleware import middleware
from .operations import Context
from .rate_limit import RateLimiter
from .store import api_keys
from .store.database import connect, create_pool
from .store.migrate import migrate
from .store.projection_wait import ProjectionWait

log = logging.getLogger(__name__)

CLOSE_SECONDS = 10


async def apply_migrations(database_url: str) -> list[str]:
    conn = await connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running_workers(
    settings: Settings, on_projected: Callable[[LogPosition], None] | None = None
) -> AsyncIterator[tuple[Projector, Relay]]:
    """Projector and relay as background tasks, stopped between batches on exit, the relay fed
    the projector's reads; `on_projected` hears each position the projector commits (this
    process's waiters)."""
    client = relay_client(settings.redis_url, cluster=settings.redis_cluster)
    projector = Projector(settings.database_url, on_projected=on_projected)
    relay = Relay(
        settings.database_url,
        client,
        prefix=settings.redis_prefix,
        maxlen=settings.stream_maxlen,
        thread_maxlen=settings.thread_stream_maxlen,
        partitions=settings.stream_partitions,
    )
    # While both lead here, the log is read once per batch, by the projector.
    projector.feed(relay)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in (projector, relay)]
    try:
        yield projector, relay
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()


def create_app(
    settings: Settings, *, workers: bool = True, migrate_at_start: bool = True
) -> web.Application:
    app = web.Application(middlewares=[middleware], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[API_KEYS] = ApiKeys(settings.api_keys)
    app[STOPPING] = asyncio.Event()
    app[INFLIGHT] = [0]
    setup_routes(app)

    async def stop_streams(app: web.Application) -> None:
        app[STOPPING].set()

    app.on_shutdown.append(stop_streams)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        if migrate_at_start:
            applied = await apply_migrations(settings.database_url)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        pool = await create_pool(
            settings.database_url, min_size=settings.pool_min, max_size=settings.pool_max
        )
        replica = None
        if settings.read_database_url:
            replica = await create_pool(
                settings.read_database_url, min_size=settings.pool_min, max_size=settings.pool_max
            )
        app[API_KEYS].lookup = functools.partial(api_keys.project_for_digest, pool)
        projection = ProjectionWait(settings.database_url)
        await projection.start()
        client = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
        app[REDIS] = client
        app[RATE_LIMITER] = RateLimiter(
            client,
            settings.redis_prefix,
            settings.rate_limit_rpm,
            settings.rate_limit_window_seconds,
        )
        hub = EventHub(client, settings.redis_prefix, settings.stream_partitions)
        await hub.start()
        app[EVENT_HUB] = hub
        async with contextlib.AsyncExitStack() as stack:
            local: tuple[Projector, Relay] | tuple[()] = ()
            if workers:
                local = await stack.enter_async_context(
                    running_workers(settings, projection.advance)
                )
                projector = local[0]
                projection.told_directly = lambda: projector.following
                projector.on_unfollow = projection.recheck_now
            app[CONTEXT] = Context(
                pool,
                projection,
                settings.read_your_writes_timeout,
                LocalConsumers(local),
                replica,
            )
            yield
        await hub.close()
        await client.aclose()
        await projection.close()
        for each in (pool, replica):
            if each is None:
                continue
            try:
                # Connections still out after this long belong to requests that will not end.
                await asyncio.wait_for(each.close(), CLOSE_SECONDS)
            except TimeoutError:
                log.warning("database pool did not close in %ss; terminating it", CLOSE_SECONDS)
                each.terminate()

    app.cleanup_ctx.append(resources)
    return app
