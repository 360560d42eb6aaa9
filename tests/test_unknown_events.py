"""An event of a type this release does not know (written by a newer one, during a rolling
deploy) is skipped and counted by every consumer, which go on around it: the views, the
streams, read-your-writes and the SSE backfill never stall on it."""

import uuid

import aiohttp
import httpx
from prometheus_client import REGISTRY

from eventlog.database import connect
from eventlog.streams import global_stream, stream_key

from .conftest import KEY_A, PROJECT_A
from .helpers import append_raw, stream_entries, until
from .sse_client import SseStream

AUTH = {"Authorization": f"Bearer {KEY_A}"}


def _unknown(consumer: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "threadlog_unknown_events_total", {"consumer": consumer, "type": kind}
    )
    return value or 0.0


async def test_consumers_skip_and_count_an_unknown_event_and_go_on(
    settings, make_database, make_prefix, start_server, redis_client
):
    own = settings.model_copy(
        update={"database_url": await make_database(), "redis_prefix": make_prefix()}
    )
    url = await start_server(own)
    kind = f"ThreadArchived{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(headers=AUTH, timeout=30) as http:
        thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        conn = await connect(own.database_url)
        try:
            # As a newer release would append it: a type no resource here registered.
            await append_raw(
                conn, thread, kind, {"id": thread, "archived": True}, project=PROJECT_A
            )
        finally:
            await conn.close()
        await until(lambda: _unknown("projector", kind) and _unknown("relay", kind), seconds=10)
        assert _unknown("projector", kind) == 1 and _unknown("relay", kind) == 1

        # The thread's view counts the event as projected: a read does not wait it out.
        read = await http.get(f"{url}/threads/{thread}")
        assert read.status_code == 200
        assert "Threadlog-Read-Your-Writes" not in read.headers
        # Writes after it go through the projector and the relay as ever.
        created = await http.post(
            f"{url}/threads/{thread}/messages", json={"role": "user", "content": "after"}
        )
        assert created.status_code == 200
        assert "Threadlog-Read-Your-Writes" not in created.headers
        listed = (await http.get(f"{url}/threads/{thread}/messages")).json()
        assert [m["id"] for m in listed["data"]] == [created.json()["id"]]

        # Published: the events around it, in order; the unknown one left out.
        key = stream_key(own.redis_prefix, "thread", thread)

        entries = await stream_entries(redis_client, key, 2)
        assert [f["version"] for _, f in entries] == ["1", "3"]
        assert [f["event"] for _, f in entries] == ["thread.created", "thread.message.created"]
        everything = await redis_client.xrange(global_stream(own.redis_prefix))
        assert [f["type"] for _, f in everything] == ["ThreadCreated", "MessageCreated"]

    # A subscriber resuming from the start is backfilled around it too.
    await redis_client.delete(key)  # as if trimmed: the backfill comes from the log
    async with (
        aiohttp.ClientSession(headers=AUTH) as session,
        session.get(f"{url}/threads/{thread}/events", headers={"Last-Event-ID": "0-0"}) as sse,
    ):
        frames = await SseStream(sse).take(2)
    assert [f.event for f in frames] == ["thread.created", "thread.message.created"]
    assert [f.id for f in frames] == [entry_id for entry_id, _ in entries]
