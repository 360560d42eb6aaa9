"""CPU time per request, by process: what each figure costs, and so what limits it.

On two cores a throughput is the CPU a request costs across every process it touches: the
server, its Postgres backends, Redis and the load generator itself. Read from /proc/<pid>/stat
(user + system time) before and after a run. Postgres is the backends connected to the bench
database (only one side runs at a time, so they are that side's, plus the harness's one idle
connection); the server-wide WAL writer and checkpointer are left out. The load generator is this
process and its waited-for children (wrk).
"""

import os
import resource
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system seconds of a live process; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, see proc(5)).
    return (int(fields[11]) + int(fields[12])) / _TICK


def is_named(pid: int, names: tuple[str, ...]) -> bool:
    """Whether `pid` is a process on this machine whose name contains one of `names`."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return False
    return any(n in comm for n in names)


def _self_and_children() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass(frozen=True)
class Snapshot:
    server: float
    postgres: dict[int, float]
    redis: float
    client: float


class CpuMeter:
    def __init__(self, conn: asyncpg.Connection, database: str, redis_pid: int | None) -> None:
        self.conn = conn
        self.database = database
        self.redis_pid = redis_pid

    async def snapshot(self, server_pid: int) -> Snapshot:
        pids = await self.conn.fetch(
            "select pid from pg_stat_activity where datname = $1", self.database
        )
        return Snapshot(
            server=process_cpu(server_pid),
            postgres={r["pid"]: process_cpu(r["pid"]) for r in pids},
            redis=process_cpu(self.redis_pid) if self.redis_pid else 0.0,
            client=_self_and_children(),
        )

    @staticmethod
    def per_request(before: Snapshot, after: Snapshot, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request, by process group."""
        if requests <= 0:
            return {}
        # Backends present at both ends; one that came or went meanwhile counts from zero.
        postgres = sum(t - before.postgres.get(pid, 0.0) for pid, t in after.postgres.items())
        spent = {
            "server": after.server - before.server,
            "postgres": postgres,
            "redis": after.redis - before.redis,
            "client": after.client - before.client,
        }
        return {k: v * 1000 / requests for k, v in spent.items()}
