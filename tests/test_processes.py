"""`threadlog serve --processes N`: several API processes share one port."""

import asyncio
import os
import signal
import sys

import httpx

from .conftest import KEY_A, PROJECT_A
from .helpers import free_port, running


async def test_processes_share_the_port_and_stop_together(settings, make_database, make_prefix):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": await make_database(),
        "REDIS_URL": settings.redis_url,
        "THREADLOG_API_KEYS": f"{KEY_A}:{PROJECT_A}",
        "THREADLOG_REDIS_PREFIX": make_prefix(),
        "THREADLOG_LOG_LEVEL": "WARNING",
    }
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "serve", "--port", str(port), "--processes", "2", env=env
    )
    base = f"http://127.0.0.1:{port}"
    pids: set[int] = set()
    try:
        for _ in range(300):
            # A new connection each time: the kernel spreads connections over the processes.
            async with httpx.AsyncClient() as http:
                try:
                    pids.add((await http.get(f"{base}/healthz")).json()["pid"])
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            if len(pids) == 2:
                break
        assert len(pids) == 2
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
            thread = (await http.post(f"{base}/v1/threads", json={})).json()["id"]
            for i in range(6):
                created = await http.post(
                    f"{base}/v1/threads/{thread}/messages", json={"role": "user", "content": str(i)}
                )
                assert created.status_code == 200
                assert "Threadlog-Read-Your-Writes" not in created.headers
    finally:
        parent.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(parent.wait(), 30)
    assert code == 0
    await asyncio.sleep(0.2)
    assert not any(running(pid) for pid in pids)
