"""The seed documents' example, through the official openai SDK, field for field."""

import time

from openai.types.beta.threads import Message

# The documented response of client.beta.threads.messages.create(...), ids and time aside.
SEED_RESPONSE = {
    "id": "msg_abc123",
    "object": "thread.message",
    "created_at": 1713226573,
    "assistant_id": None,
    "thread_id": "thread_abc123",
    "run_id": None,
    "role": "user",
    "content": [
        {
            "type": "text",
            "text": {
                "value": "How does AI work? Explain it in simple terms.",
                "annotations": [],
            },
        }
    ],
    "attachments": [],
    "metadata": {},
}

MESSAGE_FIELDS = {
    "id",
    "object",
    "created_at",
    "thread_id",
    "status",
    "incomplete_details",
    "completed_at",
    "incomplete_at",
    "role",
    "content",
    "assistant_id",
    "run_id",
    "attachments",
    "metadata",
}


async def test_seed_example_through_the_sdk(client):
    before = int(time.time())
    thread = await client.beta.threads.create()
    raw = await client.beta.threads.messages.with_raw_response.create(
        thread.id, role="user", content="How does AI work? Explain it in simple terms."
    )
    body = raw.http_response.json()
    message = raw.parse()

    assert isinstance(message, Message)
    assert set(body) == MESSAGE_FIELDS
    assert body["id"].startswith("msg_") and len(body["id"]) > 4
    assert thread.id.startswith("thread_")
    assert body["thread_id"] == thread.id
    assert before <= body["created_at"] <= int(time.time()) + 1
    expected = {**SEED_RESPONSE, "id": body["id"], "thread_id": thread.id}
    expected["created_at"] = body["created_at"]
    for field, value in expected.items():
        assert body[field] == value, field
    assert body["status"] == "completed"
    assert body["incomplete_details"] is None
    assert body["completed_at"] is None and body["incomplete_at"] is None


async def test_thread_object_and_initial_messages(client):
    thread = await client.beta.threads.create(
        metadata={"team": "support"},
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": [{"type": "text", "text": "second"}]},
        ],
    )
    assert thread.object == "thread"
    assert thread.metadata == {"team": "support"}
    page = await client.beta.threads.messages.list(thread.id, order="asc")
    assert [m.content[0].text.value for m in page.data] == ["first", "second"]
    assert [m.role for m in page.data] == ["user", "assistant"]
    assert {m.created_at for m in page.data} == {thread.created_at}


async def test_content_parts_and_attachments_round_trip(client):
    thread = await client.beta.threads.create()
    message = await client.beta.threads.messages.create(
        thread.id,
        role="user",
        content=[
            {"type": "text", "text": "look"},
            {"type": "image_file", "image_file": {"file_id": "file-1", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
        attachments=[{"file_id": "file-2", "tools": [{"type": "file_search"}]}],
        metadata={"k": "v"},
    )
    assert [part.type for part in message.content] == ["text", "image_file", "image_url"]
    assert message.content[0].text.value == "look"
    assert message.content[1].image_file.file_id == "file-1"
    assert message.content[1].image_file.detail == "low"
    assert message.content[2].image_url.url == "https://example.com/a.png"
    assert message.attachments[0].file_id == "file-2"
    assert message.attachments[0].tools[0].type == "file_search"
    assert message.metadata == {"k": "v"}
    listed = await client.beta.threads.messages.list(thread.id)
    assert listed.data[0].model_dump() == message.model_dump()
