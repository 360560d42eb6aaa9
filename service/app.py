"""The aiohttp application factory and the resources each process opens and closes."""

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from eventlog.database import Pool, connect, create_pool
from eventlog.migrate import migrate
from eventlog.positions import LogPosition
from eventlog.redis_client import connect_redis, relay_client
from projections.consumer import LocalConsumers
from projections.projector import Projector
from projections.relay import Relay

from . import resources
from .appkeys import (
    API_KEYS,
    CONTEXT,
    EVENT_HUB,
    INFLIGHT,
    POOL,
    PROJECTION,
    RATE_LIMITER,
    REDIS,
    REPLICA,
    SETTINGS,
    STOPPING,
)
from .auth import ApiKeys
from .config import Settings
from .context import Context
from .event_hub import EventHub
from .handlers import setup_service_routes
from .middleware import middleware
from .rate_limit import RateLimiter
from .store import api_keys
from .store.projection_wait import ProjectionWait

log = logging.getLogger(__name__)

CLOSE_SECONDS = 10
OPENAI_PREFIX, AZURE_PREFIX = "/v1", "/openai"


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
        own_stream_maxlen=settings.thread_stream_maxlen,
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


def setup_routes(app: web.Application) -> None:
    setup_service_routes(app)
    for prefix, routes in (
        (OPENAI_PREFIX, resources.ROUTES),
        (AZURE_PREFIX, resources.ROUTES + resources.AZURE_V1_ROUTES),
    ):
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, handler)


def create_app(
    settings: Settings, *, workers: bool = True, migrate_at_start: bool = True
) -> web.Application:
    """The app, with one cleanup context per resource it holds, opened in this order at start
    and closed in the reverse order at the end."""
    app = web.Application(middlewares=[middleware], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[API_KEYS] = ApiKeys(settings.api_keys)
    app[STOPPING] = asyncio.Event()
    app[INFLIGHT] = [0]
    setup_routes(app)

    async def stop_streams(app: web.Application) -> None:
        app[STOPPING].set()

    app.on_shutdown.append(stop_streams)

    async def migrations(app: web.Application) -> AsyncIterator[None]:
        if migrate_at_start:
            applied = await apply_migrations(settings.database_url)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        yield

    async def running(app: web.Application) -> AsyncIterator[None]:
        projection = app[PROJECTION]
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
                app[POOL],
                projection,
                settings.read_your_writes_timeout,
                LocalConsumers(local),
                app[REPLICA],
            )
            yield

    app.cleanup_ctx.extend(
        [migrations, _database, _replica, _projection_wait, _redis, _event_hub, running]
    )
    return app


async def _closed(pool: Pool) -> None:
    try:
        # Connections still out after this long belong to requests that will not end.
        await asyncio.wait_for(pool.close(), CLOSE_SECONDS)
    except TimeoutError:
        log.warning("database pool did not close in %ss; terminating it", CLOSE_SECONDS)
        pool.terminate()


async def _database(app: web.Application) -> AsyncIterator[None]:
    """The API's pool on the primary, where API keys are looked up too."""
    settings = app[SETTINGS]
    pool = await create_pool(
        settings.database_url, min_size=settings.pool_min, max_size=settings.pool_max
    )
    app[POOL] = pool
    app[API_KEYS].lookup = functools.partial(api_keys.project_for_digest, pool)
    yield
    await _closed(pool)


async def _replica(app: web.Application) -> AsyncIterator[None]:
    """A pool on the read replica, when there is one (THREADLOG_READ_DATABASE_URL)."""
    settings = app[SETTINGS]
    app[REPLICA] = None
    if not settings.read_database_url:
        yield
        return
    replica = await create_pool(
        settings.read_database_url, min_size=settings.pool_min, max_size=settings.pool_max
    )
    app[REPLICA] = replica
    yield
    await _closed(replica)


async def _projection_wait(app: web.Application) -> AsyncIterator[None]:
    projection = ProjectionWait(app[SETTINGS].database_url)
    await projection.start()
    app[PROJECTION] = projection
    yield
    await projection.close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    """The process's Redis client, shared by the rate limiter, the event hub and readiness."""
    settings = app[SETTINGS]
    client = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
    app[REDIS] = client
    app[RATE_LIMITER] = RateLimiter(
        client, settings.redis_prefix, settings.rate_limit_rpm, settings.rate_limit_window_seconds
    )
    yield
    await client.aclose()


async def _event_hub(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hub = EventHub(app[REDIS], settings.redis_prefix, settings.stream_partitions)
    await hub.start()
    app[EVENT_HUB] = hub
    yield
    await hub.close()
