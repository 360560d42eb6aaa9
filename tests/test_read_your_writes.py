"""Read-your-writes across API processes on one database, and the bounded wait."""

import httpx
import openai

from service.handlers import CONSISTENCY_HEADER

from .conftest import KEY_A


async def test_two_instances_agree(settings, base_url, start_server):
    # A second instance with no workers of its own: it relies on the first one's projector.
    other_url = await start_server(settings, workers=False)
    async with (
        openai.AsyncOpenAI(base_url=base_url, api_key=KEY_A) as a,
        openai.AsyncOpenAI(base_url=other_url, api_key=KEY_A) as b,
    ):
        thread = await a.beta.threads.create()
        written = []
        for i in range(10):
            writer, reader = (a, b) if i % 2 == 0 else (b, a)
            message = await writer.beta.threads.messages.create(
                thread.id, role="user", content=f"m{i}"
            )
            written.append(message.id)
            # The very next read, on the other instance, already sees the write.
            page = await reader.beta.threads.messages.list(thread.id, limit=1)
            assert page.data[0].id == message.id
            assert page.data[0].model_dump() == message.model_dump()
        everything = [m.id async for m in b.beta.threads.messages.list(thread.id, order="asc")]
        assert everything == written


async def test_create_answers_from_the_view_when_the_projector_is_not_running(
    settings, make_database, start_server, db
):
    # A database with no projector anywhere: the bounded wait runs out, the answer says so
    # in a header, and its body is what the projector later writes to the view.
    lonely = settings.model_copy(
        update={"database_url": await make_database(), "read_your_writes_timeout": 0.2}
    )
    url = await start_server(lonely, workers=False)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        thread = await http.post(f"{url}/threads", json={})
        assert thread.status_code == 200
        assert thread.headers[CONSISTENCY_HEADER] == "timeout"
        created = await http.post(
            f"{url}/threads/{thread.json()['id']}/messages", json={"role": "user", "content": "x"}
        )
        assert created.status_code == 200
        assert created.headers[CONSISTENCY_HEADER] == "timeout"
        listed = await http.get(f"{url}/threads/{thread.json()['id']}/messages")
        assert listed.headers[CONSISTENCY_HEADER] == "timeout"
        assert listed.json()["data"] == []

        # Now a projector catches up; the same request answers from the view, unflagged.
        await start_server(lonely, workers=True)
        listed = await http.get(f"{url}/threads/{thread.json()['id']}/messages")
        assert CONSISTENCY_HEADER not in listed.headers
        assert listed.json()["data"] == [created.json()]
        metrics = (await http.get(url.removesuffix("/v1") + "/metrics")).text
    assert 'threadlog_read_your_writes_timeouts_total{operation="create_message"}' in metrics
