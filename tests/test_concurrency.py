"""Many concurrent writers on one thread, through two API instances."""

import asyncio

import openai

from eventlog.streams import global_stream, stream_key

from .conftest import KEY_A

WRITERS = 8
PER_WRITER = 25


async def test_concurrent_writers_on_one_thread(settings, base_url, start_server, db, redis_client):
    other_url = await start_server(settings, workers=False)
    async with (
        openai.AsyncOpenAI(base_url=base_url, api_key=KEY_A) as a,
        openai.AsyncOpenAI(base_url=other_url, api_key=KEY_A) as b,
    ):
        thread = await a.beta.threads.create()

        async def writer(n: int) -> list[str]:
            client = a if n % 2 == 0 else b
            ids = []
            for i in range(PER_WRITER):
                m = await client.beta.threads.messages.create(
                    thread.id, role="user", content=f"w{n}-{i}"
                )
                ids.append(m.id)
            return ids

        results = await asyncio.gather(*(writer(n) for n in range(WRITERS)))
        written = {mid for ids in results for mid in ids}
        assert len(written) == WRITERS * PER_WRITER

        listed = [m async for m in a.beta.threads.messages.list(thread.id, order="asc", limit=100)]
    assert {m.id for m in listed} == written
    assert len(listed) == len(written)

    versions = [
        r["version"]
        for r in await db.fetch(
            "select version from events where stream_id = $1 order by version", thread.id
        )
    ]
    total = WRITERS * PER_WRITER + 1
    assert versions == list(range(1, total + 1))
    # The list order is the version order.
    by_version = await db.fetch(
        "select data->>'id' as id from events where stream_id = $1 and type = 'MessageCreated' "
        "order by version",
        thread.id,
    )
    assert [m.id for m in listed] == [r["id"] for r in by_version]

    # Redis agrees: every event once, in version order, on the thread stream and the global one.
    key = stream_key(settings.redis_prefix, "thread", thread.id)
    for _ in range(100):
        entries = await redis_client.xrange(key)
        if len(entries) == total:
            break
        await asyncio.sleep(0.05)
    assert [int(f["version"]) for _, f in entries] == list(range(1, total + 1))
    assert [eid for eid, _ in entries] == [f["position"] for _, f in entries]
    global_entries = [
        f
        for _, f in await redis_client.xrange(global_stream(settings.redis_prefix))
        if f["thread_id"] == thread.id
    ]
    assert [int(f["version"]) for f in global_entries] == list(range(1, total + 1))
