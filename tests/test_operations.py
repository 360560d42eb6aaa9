"""Every thread and message operation through the official SDK, and what each publishes."""

import asyncio

import openai
import pytest

from eventlog.streams import stream_key

from .helpers import stream_entries


async def _stream_events(redis_client, prefix: str, thread_id: str, count: int) -> list[dict]:
    key = stream_key(prefix, "thread", thread_id)
    return [fields for _, fields in await stream_entries(redis_client, key, count)]


async def test_thread_lifecycle(client, db, settings, redis_client):
    thread = await client.beta.threads.create(
        metadata={"a": "1", "b": "2"},
        tool_resources={"code_interpreter": {"file_ids": ["file-1"]}},
    )
    assert thread.tool_resources.code_interpreter.file_ids == ["file-1"]
    fetched = await client.beta.threads.retrieve(thread.id)
    assert fetched.model_dump() == thread.model_dump()

    # Metadata sent replaces the whole map; left out, it stays.
    modified = await client.beta.threads.update(thread.id, metadata={"c": "3"})
    assert modified.metadata == {"c": "3"}
    assert modified.tool_resources.code_interpreter.file_ids == ["file-1"]
    modified = await client.beta.threads.update(
        thread.id, tool_resources={"file_search": {"vector_store_ids": ["vs-1"]}}
    )
    assert modified.metadata == {"c": "3"}
    assert modified.tool_resources.file_search.vector_store_ids == ["vs-1"]
    assert modified.created_at == thread.created_at
    assert (await client.beta.threads.retrieve(thread.id)).model_dump() == modified.model_dump()
    cleared = await client.beta.threads.update(thread.id, metadata=None)
    assert cleared.metadata == {}

    await client.beta.threads.messages.create(thread.id, role="user", content="hello")
    deleted = await client.beta.threads.delete(thread.id)
    assert deleted.model_dump() == {"id": thread.id, "object": "thread.deleted", "deleted": True}

    # Gone everywhere, at once, on every route.
    for call in (
        client.beta.threads.retrieve(thread.id),
        client.beta.threads.update(thread.id, metadata={}),
        client.beta.threads.delete(thread.id),
        client.beta.threads.messages.list(thread.id),
        client.beta.threads.messages.create(thread.id, role="user", content="x"),
    ):
        with pytest.raises(openai.NotFoundError) as exc:
            await call
        assert exc.value.body["message"] == f"No thread found with id '{thread.id}'."
    # The events stay in the log.
    types = [
        r["type"]
        for r in await db.fetch(
            "select type from events where stream_id = $1 order by version", thread.id
        )
    ]
    assert types == [
        "ThreadCreated",
        "ThreadModified",
        "ThreadModified",
        "ThreadModified",
        "MessageCreated",
        "ThreadDeleted",
    ]
    assert (
        await db.fetchval("select count(*) from message_view where thread_id = $1", thread.id) == 0
    )
    published = await _stream_events(redis_client, settings.redis_prefix, thread.id, 6)
    assert [e["event"] for e in published] == [
        "thread.created",
        "thread.modified",
        "thread.modified",
        "thread.modified",
        "thread.message.created",
        "thread.deleted",
    ]


async def test_message_lifecycle(client, settings, redis_client):
    thread = await client.beta.threads.create()
    first = await client.beta.threads.messages.create(
        thread.id, role="user", content="one", metadata={"k": "v"}
    )
    second = await client.beta.threads.messages.create(thread.id, role="assistant", content="two")

    fetched = await client.beta.threads.messages.retrieve(first.id, thread_id=thread.id)
    assert fetched.model_dump() == first.model_dump()

    modified = await client.beta.threads.messages.update(
        first.id, thread_id=thread.id, metadata={"x": "y"}
    )
    assert modified.metadata == {"x": "y"}
    assert modified.content == first.content and modified.created_at == first.created_at
    page = await client.beta.threads.messages.list(thread.id, order="asc")
    assert [m.model_dump() for m in page.data] == [modified.model_dump(), second.model_dump()]

    deleted = await client.beta.threads.messages.delete(first.id, thread_id=thread.id)
    assert deleted.model_dump() == {
        "id": first.id,
        "object": "thread.message.deleted",
        "deleted": True,
    }
    page = await client.beta.threads.messages.list(thread.id)
    assert [m.id for m in page.data] == [second.id]
    for call in (
        client.beta.threads.messages.retrieve(first.id, thread_id=thread.id),
        client.beta.threads.messages.update(first.id, thread_id=thread.id, metadata={}),
        client.beta.threads.messages.delete(first.id, thread_id=thread.id),
    ):
        with pytest.raises(openai.NotFoundError) as exc:
            await call
        assert exc.value.body["message"] == f"No message found with id '{first.id}'."
    # A deleted message is no cursor either.
    with pytest.raises(openai.BadRequestError):
        await client.beta.threads.messages.list(thread.id, after=first.id)

    published = await _stream_events(redis_client, settings.redis_prefix, thread.id, 5)
    assert [e["event"] for e in published] == [
        "thread.created",
        "thread.message.created",
        "thread.message.created",
        "thread.message.modified",
        "thread.message.deleted",
    ]


async def test_concurrent_modifies_each_land_once(client, db):
    thread = await client.beta.threads.create()
    message = await client.beta.threads.messages.create(thread.id, role="user", content="x")
    results = await asyncio.gather(
        *(
            client.beta.threads.messages.update(
                message.id, thread_id=thread.id, metadata={"n": str(i)}
            )
            for i in range(10)
        )
    )
    assert sorted(r.metadata["n"] for r in results) == [str(i) for i in range(10)]
    count = await db.fetchval(
        "select count(*) from events where stream_id = $1 and type = 'MessageModified'", thread.id
    )
    assert count == 10
    final = await client.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
    last = await db.fetchval(
        "select data->'metadata'->>'n' from events where stream_id = $1 "
        "order by version desc limit 1",
        thread.id,
    )
    assert final.metadata == {"n": last}
