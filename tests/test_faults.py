"""Faults, really done: Redis stopped, Postgres connections killed and the server restarted,
workers SIGKILLed, failover between standbys, SIGTERM with requests in flight.

These tests run their own embedded Postgres and Valkey, so they can stop them without
touching anything else.
"""

import asyncio
import os
import signal
import sys
import tempfile
import time
from functools import partial
from urllib.parse import urlparse

import asyncpg
import httpx
import redis.asyncio as redis

from eventlog.streams import global_stream
from service.app import apply_migrations

from .conftest import KEY_A, PROJECT_A
from .helpers import eventually, free_port

AUTH = {"Authorization": f"Bearer {KEY_A}"}
PREFIX = "faults"


class Process:
    """A `threadlog` command in its own process."""

    def __init__(self, urls, *args: str, env: dict | None = None) -> None:
        self.args = args
        self.env = {
            **os.environ,
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "THREADLOG_API_KEYS": f"{KEY_A}:{PROJECT_A}",
            "THREADLOG_REDIS_PREFIX": PREFIX,
            "THREADLOG_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> "Process":
        # Its logs, printed by wait() for the report of a failing test; closed there.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service",
            *self.args,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self.log,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.returncode is None:
            self.process.send_signal(sig)

    async def wait(self) -> int:
        code = await asyncio.wait_for(self.process.wait(), 30)
        self.log.seek(0)
        errors = [line for line in self.log.read().decode().splitlines() if '"error"' in line]
        self.log.close()
        for line in errors:
            print(line)  # shown by pytest when the test fails
        return code


async def _serve(urls, *, workers: bool, env: dict | None = None) -> tuple[Process, str]:
    port = free_port()
    args = ["serve", "--port", str(port)] + ([] if workers else ["--no-workers"])
    process = await Process(urls, *args, env=env).start()
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return process, url + "/v1"
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("serve did not come up")


async def _fresh_state(urls) -> None:
    """Each test starts from an empty log, views and streams."""
    await apply_migrations(urls.database_url)
    conn = await asyncpg.connect(urls.database_url)
    try:
        await conn.execute(
            "truncate events, stream_heads, thread_view, message_view;"
            "update log_checkpoints set transaction_id = '0', global_position = 0"
        )
    finally:
        await conn.close()
    client = redis.from_url(urls.redis_url)
    await client.flushall()
    await client.aclose()


async def _log_and_stream(urls) -> tuple[list[str], list[str]]:
    """Every event's position in the log, and every entry id on the global stream."""
    conn = await asyncpg.connect(urls.database_url)
    try:
        rows = await conn.fetch(
            "select transaction_id::text || '-' || global_position as id from events "
            "order by transaction_id, global_position"
        )
    finally:
        await conn.close()
    client = redis.from_url(urls.redis_url, decode_responses=True)
    entries = await client.xrange(global_stream(PREFIX))
    await client.aclose()
    return [r["id"] for r in rows], [entry_id for entry_id, _ in entries]


# What a fault lets happen again (a restart, a reconnection, a failover) may take this long.
_until = partial(eventually, seconds=90.0, step=0.1, failure="condition not reached")


async def _published_everything(urls) -> bool:
    log, stream = await _log_and_stream(urls)
    return log == stream


async def test_redis_stopped_during_writes(own_servers):
    servers, urls = own_servers
    await _fresh_state(urls)
    api, url = await _serve(urls, workers=True)
    valkey_pid = int((servers.data_dir / "valkey.pid").read_text())
    try:
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as http:
            thread = (await http.post(f"{url}/threads", json={})).json()["id"]
            await _until(lambda: _published_everything(urls))
            os.kill(valkey_pid, signal.SIGSTOP)  # Redis stops answering, mid-stream
            try:
                for i in range(20):
                    created = await http.post(
                        f"{url}/threads/{thread}/messages", json={"role": "user", "content": str(i)}
                    )
                    assert created.status_code == 200
                    listed = await http.get(f"{url}/threads/{thread}/messages", params={"limit": 1})
                    assert listed.status_code == 200
                    assert listed.json()["data"][0]["id"] == created.json()["id"]
            finally:
                os.kill(valkey_pid, signal.SIGCONT)
        # The relay publishes the backlog, in order, once.
        await _until(lambda: _published_everything(urls))
        log, stream = await _log_and_stream(urls)
        assert len(log) == 21 and stream == log
    finally:
        api.kill(signal.SIGTERM)
        await api.wait()


async def test_postgres_killed_and_restarted(own_servers):
    servers, urls = own_servers
    await _fresh_state(urls)
    api, url = await _serve(urls, workers=True)
    port = urlparse(urls.database_url).port
    try:
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as http:
            thread = (await http.post(f"{url}/threads", json={})).json()["id"]

            # Every connection of the service killed from under it.
            admin = await asyncpg.connect(urls.database_url)
            killed = await admin.fetchval(
                "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and pid <> pg_backend_pid()) k"
            )
            await admin.close()
            assert killed >= 3

            async def created():
                response = await http.post(
                    f"{url}/threads/{thread}/messages",
                    json={"role": "user", "content": "after kill"},
                )
                if response.status_code != 200:
                    assert response.status_code == 503, response.text
                    assert response.headers["Retry-After"]
                    assert response.json()["error"]["type"] == "server_error"
                return response.status_code == 200

            await _until(created)

            # The server itself stopped: 503 with Retry-After while it is down.
            servers._stop_postgres()
            try:
                down = await http.post(
                    f"{url}/threads/{thread}/messages", json={"role": "user", "content": "x"}
                )
                assert down.status_code == 503
                assert down.headers["Retry-After"] == "1"
                assert set(down.json()["error"]) == {"message", "type", "param", "code"}
                ready = await http.get(url.removesuffix("/v1") + "/readyz")
                assert ready.status_code == 503
            finally:
                servers._start_postgres(port)

            # Back by itself: no restart of the service.
            await _until(created)

            async def projected():
                response = await http.post(
                    f"{url}/threads/{thread}/messages", json={"role": "user", "content": "fresh"}
                )
                return (
                    response.status_code == 200
                    and "Threadlog-Read-Your-Writes" not in response.headers
                )

            await _until(projected)
            listed = (
                await http.get(f"{url}/threads/{thread}/messages", params={"order": "asc"})
            ).json()
            assert [m["content"][0]["text"]["value"] for m in listed["data"]][:1] == ["after kill"]
            await _until(lambda: _published_everything(urls))
    finally:
        api.kill(signal.SIGTERM)
        await api.wait()


async def test_workers_killed_mid_batch_and_failover(own_servers):
    _servers, urls = own_servers
    await _fresh_state(urls)
    first = await Process(urls, "worker").start()
    await asyncio.sleep(1.0)  # the first worker takes both leases
    standby = await Process(urls, "worker").start()
    api_one, url_one = await _serve(urls, workers=False)
    api_two, url_two = await _serve(urls, workers=False)
    try:
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as http:
            thread = (await http.post(f"{url_one}/threads", json={})).json()["id"]
            stop = asyncio.Event()

            async def load(url: str):
                count = 0
                while not stop.is_set():
                    response = await http.post(
                        f"{url}/threads/{thread}/messages",
                        json={"role": "user", "content": str(count)},
                    )
                    assert response.status_code == 200
                    count += 1
                return count

            writers = [asyncio.create_task(load(u)) for u in (url_one, url_two, url_one, url_two)]
            await asyncio.sleep(1.0)
            killed_at = time.monotonic()
            first.kill()  # SIGKILL in the middle of whatever batch it was applying
            await first.wait()

            async def caught_up():
                response = await http.post(
                    f"{url_two}/threads/{thread}/messages",
                    json={"role": "user", "content": "probe"},
                )
                return "Threadlog-Read-Your-Writes" not in response.headers

            await asyncio.sleep(0.5)
            await _until(caught_up)
            failover = time.monotonic() - killed_at
            print(f"failover: the standby was projecting {failover:.1f}s after the kill")
            await asyncio.sleep(1.0)
            stop.set()
            written = sum(await asyncio.gather(*writers))
            assert written > 0

        # Views exact, streams complete and without duplicates.
        await _until(lambda: _published_everything(urls))
        verify = await Process(urls, "verify").start()
        assert await verify.wait() == 0
        log, stream = await _log_and_stream(urls)
        assert stream == log and len(set(stream)) == len(stream)
    finally:
        for process in (api_one, api_two, standby, first):
            process.kill(signal.SIGTERM)
        for process in (api_one, api_two, standby):
            await process.wait()


async def test_sigterm_lets_requests_in_flight_finish(own_servers):
    _servers, urls = own_servers
    await _fresh_state(urls)
    # No projector anywhere: a create waits the whole read-your-writes timeout (2 s).
    api, url = await _serve(urls, workers=False, env={"THREADLOG_READ_YOUR_WRITES_TIMEOUT": "2"})
    async with httpx.AsyncClient(headers=AUTH, timeout=30) as http:
        slow = asyncio.create_task(http.post(f"{url}/threads", json={"metadata": {"k": "v"}}))
        await asyncio.sleep(0.5)
        api.kill(signal.SIGTERM)
        response = await slow
    assert response.status_code == 200
    assert response.json()["metadata"] == {"k": "v"}
    assert await api.wait() == 0
