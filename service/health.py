"""Readiness and lag: is this process able to serve, and how far behind are the consumers."""

import asyncio
import contextlib
from dataclasses import dataclass, field

from eventlog.database import Pool
from eventlog.metrics import CONSUMER_LAG_EVENTS, CONSUMER_LAG_SECONDS
from eventlog.redis_client import Client
from eventlog.sql import query

# Counting lag stops here: past it the exact number no longer matters to anyone.
LAG_COUNT_CAP = 1_000_000
CHECK_SECONDS = 2.0


@dataclass
class Readiness:
    checks: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


async def consumer_lag(pool: Pool) -> dict[str, tuple[int, float]]:
    rows = await pool.fetch(query("consumer-lag"), LAG_COUNT_CAP)
    return {r["name"]: (r["events"], r["seconds"]) for r in rows}


async def refresh_lag_metrics(pool: Pool) -> None:
    with contextlib.suppress(Exception):  # a scrape must answer even when Postgres does not
        async with asyncio.timeout(CHECK_SECONDS):
            for name, (events, seconds) in (await consumer_lag(pool)).items():
                CONSUMER_LAG_EVENTS.labels(name).set(events)
                CONSUMER_LAG_SECONDS.labels(name).set(seconds)


async def readiness(pool: Pool, client: Client, max_lag_seconds: float) -> Readiness:
    report = Readiness()
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            lag = await consumer_lag(pool)
        report.checks["postgres"] = "ok"
        for name, (events, seconds) in lag.items():
            report.checks[f"{name}_lag"] = {"events": events, "seconds": round(seconds, 3)}
            if seconds > max_lag_seconds:
                report.problems.append(f"{name} is {seconds:.0f}s behind the log")
    except Exception as exc:
        report.checks["postgres"] = "unreachable"
        report.problems.append(f"Postgres unreachable ({type(exc).__name__})")
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await client.ping()
        report.checks["redis"] = "ok"
    except Exception as exc:
        report.checks["redis"] = "unreachable"
        report.problems.append(f"Redis unreachable ({type(exc).__name__})")
    return report
