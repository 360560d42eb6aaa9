"""Real Postgres and Redis for every test, isolated per run.

TEST_DATABASE_URL / TEST_REDIS_URL point at servers to use; without them, embedded servers are
started once for the session. Each run creates its own database (dropped at the end) and uses
its own Redis key prefix (deleted at the end), so a developer's data is never touched.
"""

import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import openai
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestServer

from eventlog.database import connect
from service.app import create_app
from service.config import Settings

KEY_A, PROJECT_A = "sk-test-a", "project-a"
KEY_B, PROJECT_B = "sk-test-b", "project-b"
API_KEYS = {KEY_A: PROJECT_A, KEY_B: PROJECT_B}


@pytest.fixture(scope="session")
def server_urls() -> tuple[str, str]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    from service.devservers import DevServers

    with tempfile.TemporaryDirectory(prefix="threadlog-test-") as tmp:
        servers = DevServers(Path(tmp), persistent=False)
        urls = servers.start()
        try:
            yield database_url or urls.database_url, redis_url or urls.redis_url
        finally:
            servers.stop()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def make_database(server_urls) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Creates fresh databases on the test server; all are dropped at the end of the run."""
    admin_url = server_urls[0]
    created: list[str] = []

    async def make() -> str:
        name = f"threadlog_test_{secrets.token_hex(6)}"
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'create database "{name}"')
        finally:
            await conn.close()
        created.append(name)
        return _with_database(admin_url, name)

    yield make
    conn = await asyncpg.connect(admin_url)
    try:
        for name in created:
            await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def redis_client(server_urls) -> AsyncIterator[redis.Redis]:
    client = redis.from_url(server_urls[1], decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def make_prefix(redis_client) -> AsyncIterator[Callable[[], str]]:
    """Fresh Redis key prefixes; every key under them is deleted at the end of the run."""
    made: list[str] = []

    def make() -> str:
        prefix = f"threadlog-test-{secrets.token_hex(6)}"
        made.append(prefix)
        return prefix

    yield make
    for prefix in made:
        keys = [k async for k in redis_client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await redis_client.delete(*keys)


@pytest.fixture(scope="session")
async def settings(server_urls, make_database, make_prefix) -> Settings:
    return Settings(
        database_url=await make_database(),
        redis_url=server_urls[1],
        api_keys=API_KEYS,
        redis_prefix=make_prefix(),
        # Small pools: a run starts many instances against one server.
        pool_min=1,
        pool_max=4,
    )


class _Servers:
    """App instances on real loopback ports; `start` returns the base URL (".../v1")."""

    def __init__(self) -> None:
        self.running: list[TestServer] = []

    async def start(self, settings: Settings, *, workers: bool = True) -> str:
        server = TestServer(create_app(settings, workers=workers), host="127.0.0.1")
        await server.start_server()
        self.running.append(server)
        return str(server.make_url("/v1"))

    async def close(self) -> None:
        for server in reversed(self.running):
            await asyncio.wait_for(server.close(), 60)
        self.running.clear()


@pytest.fixture(scope="session")
async def session_servers() -> AsyncIterator[_Servers]:
    servers = _Servers()
    yield servers
    await servers.close()


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Extra instances for one test, stopped when it ends (each holds connections)."""
    servers = _Servers()
    yield servers.start
    await servers.close()


@pytest.fixture(scope="session")
async def base_url(settings, session_servers) -> str:
    """The shared API instance of the run, with its projector and relay."""
    return await session_servers.start(settings)


@pytest.fixture
async def client(base_url) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=base_url, api_key=KEY_A, max_retries=0) as c:
        yield c


@pytest.fixture
async def db(settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(settings.database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
def own_servers():
    """Embedded Postgres and Valkey of the test module's own, to stop, break or replicate
    without touching anything else: (DevServers, DevUrls)."""
    from service.devservers import DevServers

    with tempfile.TemporaryDirectory(prefix="threadlog-own-") as tmp:
        servers = DevServers(Path(tmp), persistent=False)
        urls = servers.start()
        try:
            yield servers, urls
        finally:
            servers.stop()


@pytest.fixture(scope="session")
def redis_cluster_url() -> str:
    """A real three-node Redis Cluster of the run's own (started only if a test asks)."""
    from .redis_cluster import LocalCluster

    with tempfile.TemporaryDirectory(prefix="threadlog-cluster-") as tmp:
        cluster = LocalCluster(Path(tmp))
        url = cluster.start()
        try:
            yield url
        finally:
            cluster.stop()


def envelope_entry(thread_id: str, position: str) -> dict[str, str]:
    """A stream entry in the relay's envelope (schema 1), for tests that publish by hand."""
    return {
        "event_id": "7d3a3f0c-54a4-4d8e-9f59-1b5b2f8a9e10",
        "type": "MessageCreated",
        "event": "thread.message.created",
        "thread_id": thread_id,
        "version": "2",
        "position": position,
        "occurred_at": "2026-11-22T05:02:45.466696Z",
        "project": "p",
        "schema": "1",
        "data": "{}",
    }


async def tail_lines(env: dict[str, str], count: int, *args: str) -> list[str]:
    """The first `count` lines `threadlog tail` prints, run as a user would, configured by
    `env` on top of this process's environment."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "service", "tail", *args),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        return [
            (await asyncio.wait_for(process.stdout.readline(), 10)).decode() for _ in range(count)
        ]
    finally:
        process.terminate()
        await process.wait()
