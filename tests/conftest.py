"""Real Postgres and Redis for every test, isolated per run.

TEST_DATABASE_URL / TEST_REDIS_URL point at servers to use; without them, embedded servers are
started once for the session. Each run creates its own database (dropped at the end) and uses
its own Redis key prefix (deleted at the end), so a developer's data is never touched.

Two tiers, marked here as they are collected: `unit` (tests/unit/: no server, no connection,
the whole tier in seconds; `pytest -m unit`) and `integration` (every other test, against the
real servers; `pytest -m integration`). The server fixtures start nothing until a test asks.
Shared helpers are in tests/helpers.py.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.db import create_database, delete_keys, drop_database
from service.config import Settings

if TYPE_CHECKING:
    import asyncpg
    import openai
    import redis.asyncio as redis
    from aiohttp.test_utils import TestServer

KEY_A, PROJECT_A = "sk-test-a", "project-a"
KEY_B, PROJECT_B = "sk-test-b", "project-b"
API_KEYS = {KEY_A: PROJECT_A, KEY_B: PROJECT_B}

UNIT_TESTS = Path(__file__).parent / "unit"
# The fixtures of this module: each needs a server (or starts one).
SERVER_FIXTURES = frozenset(
    {
        "server_urls",
        "make_database",
        "redis_client",
        "make_prefix",
        "settings",
        "session_servers",
        "start_server",
        "base_url",
        "client",
        "db",
        "own_servers",
        "redis_cluster_url",
    }
)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m unit` the modules outside tests/unit/ are not even imported (every test of
    theirs is marked integration, so none would be selected): importing them, and generating
    the schema tests, takes longer than the whole unit tier runs."""
    if config.getoption("markexpr", "").strip() != "unit":
        return None
    tests = UNIT_TESTS.parent
    if collection_path == tests or not collection_path.is_relative_to(tests):
        return None
    if collection_path == UNIT_TESTS or collection_path.is_relative_to(UNIT_TESTS):
        return None
    return collection_path.is_dir() or collection_path.name.startswith("test_")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test by its tier before `-m` selects, and keeps the unit tier off servers."""
    for item in items:
        if not item.path.is_relative_to(UNIT_TESTS):
            item.add_marker(pytest.mark.integration)
            continue
        item.add_marker(pytest.mark.unit)
        wanted = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if wanted:
            raise pytest.UsageError(
                f"{item.nodeid} is a unit test but asks for {', '.join(sorted(wanted))}: "
                "tests that need a server belong outside tests/unit/"
            )


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


@pytest.fixture(scope="session")
async def make_database(server_urls) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Creates fresh databases on the test server; all are dropped at the end of the run."""
    admin_url = server_urls[0]
    created: list[str] = []

    async def make() -> str:
        name = f"threadlog_test_{secrets.token_hex(6)}"
        url = await create_database(admin_url, name)
        created.append(name)
        return url

    yield make
    for name in created:
        await drop_database(admin_url, name)


@pytest.fixture(scope="session")
async def redis_client(server_urls) -> AsyncIterator[redis.Redis]:
    import redis.asyncio as redis

    client = redis.from_url(server_urls[1], decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def make_prefix(server_urls) -> AsyncIterator[Callable[[], str]]:
    """Fresh Redis key prefixes; every key under them is deleted at the end of the run."""
    made: list[str] = []

    def make() -> str:
        prefix = f"threadlog-test-{secrets.token_hex(6)}"
        made.append(prefix)
        return prefix

    yield make
    for prefix in made:
        await delete_keys(server_urls[1], prefix)


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
        from aiohttp.test_utils import TestServer

        from service.app import create_app

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
    import openai

    async with openai.AsyncOpenAI(base_url=base_url, api_key=KEY_A, max_retries=0) as c:
        yield c


@pytest.fixture
async def db(settings) -> AsyncIterator[asyncpg.Connection]:
    from eventlog.database import connect

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
