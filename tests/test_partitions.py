"""THREADLOG_STREAM_PARTITIONS: the global stream split by thread, for Redis Cluster."""

import asyncio
import dataclasses
import json

import httpx

from projections.relay import global_stream_of, global_streams
from projections.subscriber import Subscriber
from service.store.database import connect

from .conftest import KEY_A

AUTH = {"Authorization": f"Bearer {KEY_A}"}
PARTITIONS = 3


async def test_partitioned_global_stream(
    settings, make_database, make_prefix, start_server, redis_client
):
    own = dataclasses.replace(
        settings,
        database_url=await make_database(),
        redis_prefix=make_prefix(),
        stream_partitions=PARTITIONS,
    )
    url = await start_server(own)
    async with httpx.AsyncClient(headers=AUTH) as http:
        threads = [(await http.post(f"{url}/threads", json={})).json()["id"] for _ in range(6)]

        async def write(thread: str) -> None:
            for i in range(5):
                response = await http.post(
                    f"{url}/threads/{thread}/messages", json={"role": "user", "content": str(i)}
                )
                assert response.status_code == 200

        await asyncio.gather(*(write(t) for t in threads))

    db = await connect(own.database_url)
    log = [
        f"{r['tx']}-{r['global_position']}"
        for r in await db.fetch(
            "select transaction_id::text as tx, global_position from events "
            "order by transaction_id, global_position"
        )
    ]
    await db.close()
    keys = global_streams(own.redis_prefix, PARTITIONS)
    assert len(keys) == PARTITIONS and len(set(keys)) == PARTITIONS

    async def published():
        parts = {k: await redis_client.xrange(k) for k in keys}
        return parts if sum(len(v) for v in parts.values()) == len(log) else None

    for _ in range(200):
        parts = await published()
        if parts:
            break
        await asyncio.sleep(0.05)
    assert parts, "not everything was published"
    everything = sorted(
        (eid for entries in parts.values() for eid, _ in entries),
        key=lambda i: tuple(map(int, i.split("-"))),
    )
    assert everything == log
    for key, entries in parts.items():
        ids = [tuple(map(int, eid.split("-"))) for eid, _ in entries]
        assert ids == sorted(ids)  # each partition in commit order
        for _, fields in entries:  # and each thread in exactly its partition
            assert global_stream_of(own.redis_prefix, fields["thread_id"], PARTITIONS) == key
    assert sum(1 for v in parts.values() if v) > 1  # the threads really spread out

    # A follower of the whole global stream reads every partition: each event once, each
    # thread in version order.
    subscriber = Subscriber(redis_client, own.redis_prefix, PARTITIONS)
    seen = []
    async for event in subscriber.follow(after="0", block_ms=200):
        seen.append(event)
        if len(seen) == len(log):
            break
    assert sorted(e.id for e in seen) == sorted(log)
    for thread in threads:
        assert [e.version for e in seen if e.thread_id == thread] == list(range(1, 7))

    # A consumer group spans the partitions too.
    members = subscriber.group("audit", "a", start="0")
    await members.ensure_group()
    delivered = []
    while len(delivered) < len(log):
        batch = await members.read(count=100, block_ms=200)
        delivered += batch
        await members.ack(*batch)
    assert sorted(d.event.id for d in delivered) == sorted(log)

    # Server-Sent Events follow a thread through the partitioned hub.
    thread = threads[0]
    async with (
        httpx.AsyncClient(headers=AUTH) as http,
        http.stream("GET", f"{url}/threads/{thread}/events") as response,
    ):
        assert response.status_code == 200
        posted = await http.post(
            f"{url}/threads/{thread}/messages", json={"role": "user", "content": "live"}
        )
        lines = response.aiter_lines()
        frame = {}
        async with asyncio.timeout(10):
            async for line in lines:
                if not line:
                    break
                if not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    frame[name] = value
    assert frame["event"] == "thread.message.created"
    assert json.loads(frame["data"]) == posted.json()
