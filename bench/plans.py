"""Query plans behind the figures: how Postgres runs the service's list and log-reading queries.

Read from the service's own SQL files, never copied, so a change there shows here. Two checks:

- list (sql/threads/queries/list-messages-down.sql) as a prepared statement with the API pool's
  settings (eventlog/database.py: generic plans, no bitmap scans), the plan every page
  runs, beside the plan Postgres would make for these values: a plan that scans the whole thread
  and sorts it makes a page cost O(thread size), whatever the index promises.
- the log reader (sql/queries/read-log.sql) from a given position, as the projector runs it
  (the consumers' generic plan) during a rebuild: whether a batch is an ordered index range
  scan or a sort of the whole rest.
"""

import json
from typing import Any

import asyncpg

from eventlog.database import API_SERVER_SETTINGS
from eventlog.sql import query
from projections.consumer import CONSUMER_SERVER_SETTINGS


def _sql(name: str) -> str:
    text = query(name)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def _literal(value: str | int | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _nodes(node: dict[str, Any]):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _describe(explained: Any, table: str, value: str | None = None) -> dict[str, Any]:
    """The scan of `table`, any sort above it, rows read and time, from EXPLAIN's JSON; a plan
    is generic when `value`, a parameter's value, appears nowhere in it."""
    doc = (json.loads(explained) if isinstance(explained, str) else explained)[0]
    nodes = list(_nodes(doc["Plan"]))
    scans = [n for n in nodes if n.get("Relation Name") == table and "Scan" in n["Node Type"]]
    main = max(scans, key=lambda n: n.get("Actual Rows", 0) * n.get("Actual Loops", 1))
    kind = main["Node Type"]
    if main.get("Scan Direction") == "Backward":
        kind += " Backward"
    text = json.dumps(doc["Plan"])
    return {
        "scan": kind,
        "rows": main.get("Actual Rows", 0) * main.get("Actual Loops", 1),
        "sort": any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes),
        "generic": value is not None and value not in text,
        "ms": doc.get("Execution Time", 0.0),
        "planning_ms": doc.get("Planning Time", 0.0),
    }


def summary(plan: dict[str, Any], *, kind: bool = True) -> str:
    sort = " + Sort" if plan["sort"] else ""
    text = f"{plan['scan']}{sort}, {plan['rows']:,} rows read, {plan['ms']:.2f} ms"
    return (("generic: " if plan["generic"] else "custom: ") + text) if kind else text


async def list_plans(conn: asyncpg.Connection, thread_id: str, project: str) -> dict[str, Any]:
    """The plan the API runs (its pool's settings: a generic plan), and the plan Postgres
    would make for these very values."""
    name = "bench_list_plan"
    args = ", ".join(_literal(v) for v in (thread_id, project, None, None, 21, None))
    explain = f"explain (analyze, format json) execute {name}({args})"
    types = "text, text, text, text, int, text"  # views.messages_page's arguments
    await conn.execute(f"prepare {name}({types}) as {_sql('threads/list-messages-down')}")
    try:
        for setting, value in API_SERVER_SETTINGS.items():
            await conn.execute(f"set {setting} = '{value}'")
        api = _describe(await conn.fetchval(explain), "message_view", thread_id)
        await conn.execute("reset all")
        await conn.execute("set plan_cache_mode = force_custom_plan")
        custom = _describe(await conn.fetchval(explain), "message_view", thread_id)
    finally:
        await conn.execute("reset all")
        await conn.execute(f"deallocate {name}")
    return {"api": api, "custom": custom}


async def read_log_plan(conn: asyncpg.Connection, after: tuple[int, int], limit: int = 1000):
    """The log reader's plan for one batch after `after`, with the projector's batch size, as
    a prepared statement with the consumers' settings (a generic plan), as they run it."""
    name = "bench_read_log_plan"
    args = ", ".join(_literal(v) for v in (str(after[0]), after[1], limit))
    await conn.execute(f"prepare {name}(text, bigint, int) as {_sql('read-log')}")
    try:
        for setting, value in CONSUMER_SERVER_SETTINGS.items():
            await conn.execute(f"set {setting} = '{value}'")
        explained = await conn.fetchval(f"explain (analyze, format json) execute {name}({args})")
    finally:
        await conn.execute("reset all")
        await conn.execute(f"deallocate {name}")
    return _describe(explained, "events", str(after[0]))
