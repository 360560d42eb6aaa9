"""Reads from a Postgres read replica (THREADLOG_READ_DATABASE_URL) keep read-your-writes: a
real streaming replica of an embedded Postgres, whose replay is paused while writes land."""

import asyncpg
import httpx
import pytest

from service.handlers import CONSISTENCY_HEADER

from .conftest import KEY_A

AUTH = {"Authorization": f"Bearer {KEY_A}"}


@pytest.fixture(scope="module")
def primary_and_replica(own_servers):
    servers, urls = own_servers
    return urls.database_url, servers.start_standby()


@pytest.fixture
async def replica_url(primary_and_replica):
    return primary_and_replica[1]


@pytest.fixture
async def url(primary_and_replica, settings, start_server):
    primary, replica = primary_and_replica
    own = settings.model_copy(
        update={
            "database_url": primary,
            "read_database_url": replica,
            "read_your_writes_timeout": 1.0,
        }
    )
    return await start_server(own)


async def _paused(replica_url: str) -> asyncpg.Connection:
    replica = await asyncpg.connect(replica_url)
    await replica.execute("select pg_wal_replay_pause()")
    return replica


async def test_the_next_read_on_the_replica_shows_the_write(url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        messages = f"{url}/threads/{thread}/messages"
        for i in range(5):
            created = (await http.post(messages, json={"role": "user", "content": str(i)})).json()
            listed = await http.get(messages, params={"limit": 1})
            assert CONSISTENCY_HEADER not in listed.headers
            assert listed.json()["data"] == [created]
            got = await http.get(f"{messages}/{created['id']}")
            assert got.json() == created


async def test_a_replica_behind_a_write_says_so_and_catches_up(url, replica_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        messages = f"{url}/threads/{thread}/messages"
        first = (await http.post(messages, json={"role": "user", "content": "a"})).json()
        assert (await http.get(messages)).json()["data"] == [first]

        replica = await _paused(replica_url)
        try:
            # Lands on the primary only: the replica's head and view both still say "one
            # message", and only the primary's head tells the read it is behind.
            second = (await http.post(messages, json={"role": "user", "content": "b"})).json()
            listed = await http.get(messages)
            assert listed.status_code == 200
            assert listed.headers[CONSISTENCY_HEADER] == "timeout"
            assert listed.json()["data"] == [first]
        finally:
            await replica.execute("select pg_wal_replay_resume()")
            await replica.close()

        listed = await http.get(messages)
        assert CONSISTENCY_HEADER not in listed.headers
        assert listed.json()["data"] == [second, first]


async def test_a_deleted_thread_is_gone_at_once_whatever_the_replica_holds(url, replica_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        assert (await http.get(f"{url}/threads/{thread}")).status_code == 200
        replica = await _paused(replica_url)
        try:
            assert (await http.delete(f"{url}/threads/{thread}")).status_code == 200
            gone = await http.get(f"{url}/threads/{thread}/messages")
            assert gone.status_code == 404
            assert gone.json()["error"]["param"] == "thread_id"
        finally:
            await replica.execute("select pg_wal_replay_resume()")
            await replica.close()
