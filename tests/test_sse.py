"""Server-Sent Events: live, resume inside and outside Redis retention, end, isolation."""

import asyncio
import contextlib
import json

import aiohttp
import httpx
import pytest

from eventlog.streams import stream_key

from .conftest import KEY_A, KEY_B
from .sse_client import SseStream

AUTH = {"Authorization": f"Bearer {KEY_A}"}


@contextlib.asynccontextmanager
async def _sse(url: str, headers: dict | None = None):
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={**AUTH, **(headers or {})}) as response,
    ):
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        yield SseStream(response)


async def _post(http: httpx.AsyncClient, url: str, body: dict) -> dict:
    response = await http.post(url, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_live_resume_and_end(base_url, settings, redis_client, db):
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await _post(http, f"{base_url}/threads", {}))["id"]
        events_url = f"{base_url}/threads/{thread}/events"
        messages_url = f"{base_url}/threads/{thread}/messages"
        # "From now" starts at what the relay has published: let thread.created be published
        # first, or it would (rightly) be the first live event.
        key = stream_key(settings.redis_prefix, "thread", thread)
        for _ in range(200):
            if await redis_client.xlen(key):
                break
            await asyncio.sleep(0.05)

        async with _sse(events_url) as stream:
            sent = [
                await _post(http, messages_url, {"role": "user", "content": f"m{i}"})
                for i in range(3)
            ]
            frames = await stream.take(3)
        assert [f.event for f in frames] == ["thread.message.created"] * 3
        assert [json.loads(f.data) for f in frames] == sent
        ids = [f.id for f in frames]

        # Resume inside the retention window: exactly what followed the last id seen.
        more = [
            await _post(http, messages_url, {"role": "user", "content": f"n{i}"}) for i in range(2)
        ]
        async with _sse(events_url, {"Last-Event-ID": ids[0]}) as stream:
            frames = await stream.take(4)
        assert [json.loads(f.data)["id"] for f in frames] == [m["id"] for m in sent[1:] + more]

        # Outside it: the thread's stream is trimmed empty, so only the log can answer.
        await redis_client.xtrim(
            stream_key(settings.redis_prefix, "thread", thread), maxlen=0, approximate=False
        )
        assert await redis_client.xlen(stream_key(settings.redis_prefix, "thread", thread)) == 0
        async with _sse(events_url, {"Last-Event-ID": ids[1]}) as stream:
            frames = await stream.take(3)
            assert [json.loads(f.data)["id"] for f in frames] == [m["id"] for m in sent[2:] + more]
            positions = [
                f"{r['tx']}-{r['global_position']}"
                for r in await db.fetch(
                    "select transaction_id::text as tx, global_position from events "
                    "where stream_id = $1 order by version",
                    thread,
                )
            ]
            assert [f.id for f in frames] == positions[-3:]
            # Then live, and the end when the thread is deleted.
            modified = await http.post(
                f"{messages_url}/{sent[0]['id']}", json={"metadata": {"k": "v"}}
            )
            deleted = await http.delete(f"{base_url}/threads/{thread}")
            assert deleted.status_code == 200
            tail = await stream.take(2)
            assert [f.event for f in tail] == ["thread.message.modified", "thread.deleted"]
            assert json.loads(tail[0].data) == modified.json()
            assert json.loads(tail[1].data) == deleted.json()
            done = await stream.next()
            assert (done.event, done.data) == ("done", "[DONE]")
            assert await stream.next() is None


async def test_isolation_and_bad_resume_point(base_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await _post(http, f"{base_url}/threads", {}))["id"]
    url = f"{base_url}/threads/{thread}/events"
    async with httpx.AsyncClient() as http:
        other = await http.get(url, headers={"Authorization": f"Bearer {KEY_B}"})
        assert other.status_code == 404
        assert other.json()["error"]["message"] == f"No thread found with id '{thread}'."
        nobody = await http.get(url)
        assert nobody.status_code == 401
        for resume in ("yesterday", "1-99999999999999999999", "-1-2", "1-2-3"):
            bad = await http.get(url, headers={**AUTH, "Last-Event-ID": resume})
            assert bad.status_code == 400, resume
            assert bad.json()["error"]["param"] == "Last-Event-ID"
        azure = await http.get(
            url.replace("/v1/", "/openai/"),
            params={"api-version": "2024-05-01-preview"},
            headers={"api-key": KEY_B},
        )
        assert azure.status_code == 404


async def test_heartbeat_and_azure_route(settings, start_server):
    quick = settings.model_copy(update={"sse_heartbeat_seconds": 0.1})
    url = await start_server(quick, workers=False)
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await _post(http, f"{url}/threads", {}))["id"]
    root = url.removesuffix("/v1")
    azure_url = f"{root}/openai/threads/{thread}/events?api-version=2024-05-01-preview"
    async with _sse(azure_url) as stream:
        # No event comes; only keep-alive comments, several within half a second.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await stream.next()
        assert stream.comments.count(": keep-alive") >= 2


async def test_a_bare_number_resumes_as_redis_reads_it(base_url):
    """`Last-Event-ID: 0` is the start, as XREAD's "0" is ("0-0"): the whole thread."""
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await _post(http, f"{base_url}/threads", {}))["id"]
        await _post(http, f"{base_url}/threads/{thread}/messages", {"role": "user", "content": "a"})
    async with _sse(f"{base_url}/threads/{thread}/events", {"Last-Event-ID": "0"}) as stream:
        frames = await stream.take(2)
    assert [f.event for f in frames] == ["thread.created", "thread.message.created"]


async def test_a_client_that_leaves_is_no_dependency_failure(settings, start_server, caplog):
    """A client closing its stream ends the handler quietly: the next write (a keep-alive)
    finds the connection gone, which is no reason for a warning."""
    quick = settings.model_copy(update={"sse_heartbeat_seconds": 0.05})
    url = await start_server(quick, workers=False)
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await _post(http, f"{url}/threads", {}))["id"]
    async with _sse(f"{url}/threads/{thread}/events") as stream:
        first = await asyncio.wait_for(stream.response.content.readline(), 2)
        assert first == b": keep-alive\n"
    await asyncio.sleep(0.5)  # the handler's next keep-alive meets the closed connection
    assert not [r for r in caplog.records if "dependency is unavailable" in r.getMessage()]
