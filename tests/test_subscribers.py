"""The Redis stream contract and the subscriber library, against real published entries."""

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

import httpx
import jsonschema
from pydantic import BaseModel, ConfigDict

from eventlog.streams import stream_key
from projections.envelope import StreamEvent
from projections.subscriber import Subscriber, dead_letter_stream

from .conftest import KEY_A
from .helpers import envelope_entry, stream_entries, tail_lines

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMAS = DOCS / "schemas"
AUTH = {"Authorization": f"Bearer {KEY_A}"}


async def _thread_with_history(base_url: str) -> str:
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{base_url}/threads", json={"metadata": {"a": "b"}})).json()[
            "id"
        ]
        msg = (
            await http.post(
                f"{base_url}/threads/{thread}/messages",
                json={"role": "user", "content": [{"type": "text", "text": "hi"}]},
            )
        ).json()["id"]
        await http.post(f"{base_url}/threads/{thread}", json={"metadata": {"c": "d"}})
        await http.post(
            f"{base_url}/threads/{thread}/messages/{msg}", json={"metadata": {"e": "f"}}
        )
        await http.delete(f"{base_url}/threads/{thread}/messages/{msg}")
        await http.delete(f"{base_url}/threads/{thread}")
    return thread


async def test_published_entries_match_the_shipped_schemas(base_url, settings, redis_client):
    thread = await _thread_with_history(base_url)
    entries = await stream_entries(
        redis_client, stream_key(settings.redis_prefix, "thread", thread), 6
    )
    envelope_schema = json.loads((SCHEMAS / "envelope.schema.json").read_text())
    data_schema = json.loads((SCHEMAS / "data.schema.json").read_text())
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    seen = []
    for entry_id, fields in entries:
        jsonschema.validate(fields, envelope_schema, format_checker=checker)
        assert fields["position"] == entry_id
        ref = data_schema["x-by-event"][fields["event"]]
        jsonschema.validate(json.loads(fields["data"]), {**data_schema, "$ref": ref})
        seen.append(fields["event"])
    assert seen == [
        "thread.created",
        "thread.message.created",
        "thread.modified",
        "thread.message.modified",
        "thread.message.deleted",
        "thread.deleted",
    ]


class SchemaOneConsumer(BaseModel):
    """A consumer written against envelope schema 1 that knows only the fields of that day."""

    model_config = ConfigDict(extra="ignore")
    event_id: str
    event: str
    thread_id: str
    version: int
    data: str


async def test_old_consumer_survives_new_fields_and_event_types(redis_client, make_prefix):
    key = f"{make_prefix()}:events"
    base = envelope_entry("thread_x", "10-1")
    await redis_client.xadd(key, base, id="10-1")
    # Later: a new field on the envelope, and an event type this consumer has never heard of.
    await redis_client.xadd(
        key,
        {**base, "position": "11-2", "trace_id": "abc", "event": "thread.run.created"},
        id="11-2",
    )
    old = [SchemaOneConsumer.model_validate(f) for _, f in await redis_client.xrange(key)]
    assert [e.event for e in old] == ["thread.message.created", "thread.run.created"]
    typed = [StreamEvent.from_entry(i, f) for i, f in await redis_client.xrange(key)]
    assert [e.position for e in typed] == ["10-1", "11-2"]


async def test_follow_gets_every_event_once_in_order(base_url, settings, redis_client):
    subscriber = Subscriber(redis_client, settings.redis_prefix)
    received: list[StreamEvent] = []

    async with httpx.AsyncClient(headers=AUTH) as http:
        threads = [(await http.post(f"{base_url}/threads", json={})).json()["id"] for _ in range(3)]
        expected = 3 * 20

        async def consume():
            async for event in subscriber.follow(after="$", block_ms=500):
                if event.thread_id in threads:
                    received.append(event)
                    if len(received) == expected:
                        return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.2)  # the follower has pinned "now"

        async def writer(thread: str) -> None:
            for i in range(20):
                response = await http.post(
                    f"{base_url}/threads/{thread}/messages",
                    json={"role": "user", "content": str(i)},
                )
                assert response.status_code == 200

        await asyncio.gather(*(writer(t) for t in threads))
        await asyncio.wait_for(consumer, 15)

    assert len({e.event_id for e in received}) == expected
    ids = [tuple(map(int, e.id.split("-"))) for e in received]
    assert ids == sorted(ids)
    for thread in threads:
        versions = [e.version for e in received if e.thread_id == thread]
        assert versions == list(range(2, 22))
        assert [
            e.data["content"][0]["text"]["value"] for e in received if e.thread_id == thread
        ] == [str(i) for i in range(20)]


async def _publish(base_url: str, count: int) -> str:
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{base_url}/threads", json={})).json()["id"]
        for i in range(count):
            await http.post(
                f"{base_url}/threads/{thread}/messages", json={"role": "user", "content": str(i)}
            )
    return thread


async def test_group_member_crash_is_reclaimed(base_url, settings, redis_client):
    subscriber = Subscriber(redis_client, settings.redis_prefix)
    thread = await _publish(base_url, 5)
    await stream_entries(redis_client, stream_key(settings.redis_prefix, "thread", thread), 6)
    group = "g-" + secrets.token_hex(4)
    crashed = subscriber.group(group, "a", thread_id=thread, start="0", min_idle_ms=100)
    await crashed.ensure_group()
    taken = await crashed.read(count=4, block_ms=100)
    assert len(taken) == 4  # ...and "a" dies before acknowledging any of them.

    survivor = subscriber.group(group, "b", thread_id=thread, start="0", min_idle_ms=100)
    await asyncio.sleep(0.2)
    reclaimed = await survivor.read(count=10, block_ms=100)
    assert [d.event.id for d in reclaimed] == [d.event.id for d in taken]
    assert all(d.deliveries == 2 for d in reclaimed)
    await survivor.ack(*reclaimed)
    rest = await survivor.read(count=10, block_ms=100)
    assert len(rest) == 2
    await survivor.ack(*rest)
    key = stream_key(settings.redis_prefix, "thread", thread)
    assert (await redis_client.xpending(key, group))["pending"] == 0


async def test_poison_event_goes_to_the_dead_letter_stream(base_url, settings, redis_client):
    subscriber = Subscriber(redis_client, settings.redis_prefix)
    thread = await _publish(base_url, 1)
    key = stream_key(settings.redis_prefix, "thread", thread)
    await stream_entries(redis_client, key, 2)
    group = "dl-" + secrets.token_hex(4)
    member = subscriber.group(
        group, "a", thread_id=thread, start="0", min_idle_ms=0, max_deliveries=2
    )
    await member.ensure_group()
    first = await member.read(count=1, block_ms=100)
    poison = first[0].event.id
    # Never acknowledged: handed out again until it has been tried twice, then set aside.
    deliveries = [first[0].deliveries]
    for _ in range(3):
        again = [d for d in await member.read(count=10, block_ms=100) if d.event.id == poison]
        deliveries += [d.deliveries for d in again]
    assert deliveries == [1, 2]
    dead = await redis_client.xrange(dead_letter_stream(settings.redis_prefix, group))
    assert [f["dead_letter_id"] for _, f in dead] == [poison]
    assert dead[0][1]["deliveries"] == "3"
    pending = await redis_client.xpending_range(key, group, min="-", max="+", count=10)
    assert poison not in [p["message_id"] for p in pending]


async def _tail_lines(settings, count: int, *args: str) -> list[str]:
    env = {"REDIS_URL": settings.redis_url, "THREADLOG_REDIS_PREFIX": settings.redis_prefix}
    return await tail_lines(env, count, *args)


async def test_tail_prints_json_lines(base_url, settings):
    thread = await _publish(base_url, 2)
    lines = await _tail_lines(settings, 3, "--thread", thread, "--from", "0", "--json")
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == [
        "thread.created",
        "thread.message.created",
        "thread.message.created",
    ]
    assert [e["version"] for e in events] == [1, 2, 3]


async def test_tail_readable_default(base_url, settings):
    thread = await _publish(base_url, 1)
    lines = await _tail_lines(settings, 2, "--thread", thread, "--from", "0")
    assert "thread.created" in lines[0] and thread in lines[0]
    assert "thread.message.created" in lines[1] and "'0'" in lines[1]


async def test_documented_example_runs(base_url, settings):
    thread = await _publish(base_url, 2)
    example = DOCS / "examples" / "react_to_messages.py"
    env = {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "THREADLOG_REDIS_PREFIX": settings.redis_prefix,
        "PYTHONPATH": str(example.parents[2]),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(example),
        "--group",
        "example-" + secrets.token_hex(4),
        "--start",
        "0",
        "--count",
        "100000",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        seen = []
        while len(seen) < 2:
            line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
            if line.startswith(thread):
                seen.append(line.strip())
    finally:
        process.terminate()
        await process.wait()
    assert seen == [f"{thread} user: 0", f"{thread} user: 1"]
