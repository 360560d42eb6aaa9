"""What several test modules need: events as the log hands them out or as another writer
appends them, waiting for a condition, running the `threadlog` command, stream entries
published by hand or waited for, ports and processes, and a look at a database's sessions.

One implementation of each; the fixtures themselves are in conftest.py.
"""

import asyncio
import datetime
import inspect
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import asyncpg

from eventlog.events import LoggedEvent
from eventlog.sql import query
from service.devservers import alive as running  # noqa: F401  (tests ask "running")
from service.devservers import free_ports

RECORDED_AT = datetime.datetime(2026, 11, 22, 5, 2, 45, 466696, tzinfo=datetime.UTC)


def logged(
    type: str,
    data: dict[str, Any] | None = None,
    *,
    stream_id: str = "thread_x",
    category: str = "thread",
    version: int = 1,
    at: tuple[int, int] = (1, 1),
    project: str = "p",
    event_id: uuid.UUID | None = None,
) -> LoggedEvent:
    """An event as the log hands it out: at `at` (transaction id, global position) in commit
    order, written by `project`."""
    transaction_id, global_position = at
    return LoggedEvent(
        global_position=global_position,
        transaction_id=transaction_id,
        stream_id=stream_id,
        category=category,
        version=version,
        event_id=event_id or uuid.uuid4(),
        type=type,
        data=data or {},
        metadata={"project": project},
        recorded_at=RECORDED_AT,
    )


async def append_raw(
    conn: asyncpg.Connection, thread_id: str, type: str, data: dict[str, Any], *, project: str
) -> asyncpg.Record:
    """One event appended to a thread's stream through the log's own SQL, as another writer
    would append it (an older release's shape, a newer release's type): nothing of this
    release's vets it. The append's row (its last_position...)."""
    return await conn.fetchrow(
        query("append-events"),
        thread_id,
        None,
        project,
        None,
        False,
        [uuid.uuid4()],
        [type],
        [data],
        {"project": project},
        True,
    )


async def _result(condition: Callable[[], Any]) -> Any:
    result = condition()
    return await result if inspect.isawaitable(result) else result


async def until(condition: Callable[[], Any], seconds: float = 5.0, step: float = 0.02) -> bool:
    """Whether `condition` (a function, or a coroutine function) held within `seconds`: asked
    every `step`, and once more at the end."""
    try:
        return bool(await eventually(condition, seconds, step))
    except AssertionError:
        return False


async def eventually(
    condition: Callable[[], Any],
    seconds: float = 10.0,
    step: float = 0.05,
    failure: str = "condition not reached in time",
) -> Any:
    """The first true value `condition` (a function, or a coroutine function) gives within
    `seconds`, asked every `step`; AssertionError(`failure`) if none came."""
    deadline = time.monotonic() + seconds
    while True:
        result = await _result(condition)
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(failure)
        await asyncio.sleep(step)


async def stream_entries(redis_client, key: str, count: int, seconds: float = 10.0) -> list:
    """The entries of a stream once it holds at least `count` of them."""

    async def enough() -> list | None:
        entries = await redis_client.xrange(key)
        return entries if len(entries) >= count else None

    return await eventually(enough, seconds, failure=f"{key}: expected {count} entries")


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


async def threadlog(
    env: Mapping[str, str],
    *args: str,
    stderr_too: bool = False,
    cwd: Path | None = None,
    unset: tuple[str, ...] = (),
) -> tuple[int, str]:
    """`threadlog <args>` run to its end as a user would, configured by `env` on top of this
    process's environment less the variables in `unset`, in `cwd`: its exit code and what it
    printed (with its stderr if `stderr_too`, else without)."""
    base = {name: value for name, value in os.environ.items() if name not in unset}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "service", *args),
        env={**base, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if stderr_too else asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    return process.returncode, out.decode()


async def tail_lines(env: Mapping[str, str], count: int, *args: str) -> list[str]:
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


def free_port() -> int:
    """A loopback TCP port nothing listens on (now)."""
    (port,) = free_ports(1)
    return port


async def backends(dsn: str) -> set[int]:
    """The other sessions on the database (a pool's, a consumer's), by backend pid."""
    admin = await asyncpg.connect(dsn)
    try:
        rows = await admin.fetch(
            "select pid from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    return {r["pid"] for r in rows}
