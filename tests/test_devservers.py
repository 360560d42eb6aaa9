"""The embedded dev servers, as real processes: start, use, stop, and recovery from a killed run.

Synchronous tests with asyncio.run, so they need nothing from the project's async test set-up.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as redis

from service.devservers import DevServers, DevUrls

from .helpers import running

REPO = Path(__file__).resolve().parents[1]

# An earlier `threadlog dev`: starts the servers, writes a row, then waits to be SIGKILLed.
EARLIER_RUN = """
import asyncio, sys, time
from pathlib import Path
import asyncpg
from service.devservers import DevServers

async def write(url):
    conn = await asyncpg.connect(url)
    await conn.execute("create table survivor (note text); insert into survivor values ('kept')")
    await conn.close()

asyncio.run(write(DevServers(Path(sys.argv[1])).start().database_url))
print("ready", flush=True)
time.sleep(60)
"""


def test_start_use_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "dev"
    servers = DevServers(data_dir, persistent=False)
    urls = servers.start()
    try:
        assert urlsplit(urls.database_url).path == "/threadlog"
        asyncio.run(_use(urls))
        pids = _server_pids(data_dir)
        ports = [urlsplit(url).port for url in (urls.database_url, urls.redis_url)]
        with pytest.raises(RuntimeError, match="in use"):
            DevServers(data_dir).start()  # must not take over the running servers
    finally:
        servers.stop()
    servers.stop()

    assert not [pid for pid in pids if running(pid)]
    assert not [port for port in ports if _accepts(port)]
    assert not data_dir.exists()


@pytest.mark.parametrize("kill_servers", [False, True], ids=["servers-left", "servers-killed"])
def test_start_recovers_from_killed_run(tmp_path: Path, kill_servers: bool) -> None:
    data_dir = tmp_path / "dev"
    command = [sys.executable, "-c", EARLIER_RUN, str(data_dir)]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as earlier:
        try:
            ready = earlier.stdout.readline()
            leftovers = _server_pids(data_dir) if ready else []
        finally:
            earlier.kill()
    if kill_servers:
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)

    servers = DevServers(data_dir, persistent=False)
    urls = servers.start()
    try:
        assert ready == "ready\n"
        assert not [pid for pid in leftovers if running(pid)]
        assert asyncio.run(_notes(urls.database_url)) == ["kept"]
        asyncio.run(_use(urls))
    finally:
        servers.stop()


async def _use(urls: DevUrls) -> None:
    conn = await asyncpg.connect(urls.database_url)
    try:
        assert await conn.fetchval("select 1") == 1
    finally:
        await conn.close()
    client = redis.from_url(urls.redis_url)
    try:
        entry = await client.xadd("devservers-test", {"field": "value"})
        assert await client.xrange("devservers-test") == [(entry, {b"field": b"value"})]
    finally:
        await client.aclose()


async def _notes(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return [row["note"] for row in await conn.fetch("select note from survivor")]
    finally:
        await conn.close()


def _server_pids(data_dir: Path) -> list[int]:
    postmaster = (data_dir / "postgres" / "postmaster.pid").read_text().split()[0]
    return [int(postmaster), int((data_dir / "valkey.pid").read_text())]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
