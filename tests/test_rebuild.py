"""`threadlog rebuild` and `threadlog verify`, and an upcaster for an older event shape."""

import asyncio

import httpx

from eventlog.database import connect
from eventlog.streams import stream_key

from .conftest import KEY_A, PROJECT_A
from .helpers import append_raw, threadlog

AUTH = {"Authorization": f"Bearer {KEY_A}"}


async def _own_instance(settings, make_database, make_prefix, start_server):
    own = settings.model_copy(
        update={"database_url": await make_database(), "redis_prefix": make_prefix()}
    )
    return own, await start_server(own)


async def _seed(http: httpx.AsyncClient, url: str, threads: int, messages: int) -> list[str]:
    ids = []
    for _ in range(threads):
        thread = (await http.post(f"{url}/threads", json={"metadata": {"k": "v"}})).json()["id"]
        ids.append(thread)
        for i in range(messages):
            await http.post(
                f"{url}/threads/{thread}/messages", json={"role": "user", "content": str(i)}
            )
    first = (await http.get(f"{url}/threads/{ids[0]}/messages", params={"order": "asc"})).json()
    await http.post(
        f"{url}/threads/{ids[0]}/messages/{first['data'][0]['id']}", json={"metadata": {"m": "1"}}
    )
    await http.delete(f"{url}/threads/{ids[0]}/messages/{first['data'][1]['id']}")
    await http.delete(f"{url}/threads/{ids[-1]}")
    return ids


async def test_verify_finds_a_tampered_view_and_rebuild_repairs_it(
    settings, make_database, make_prefix, start_server
):
    own, url = await _own_instance(settings, make_database, make_prefix, start_server)
    async with httpx.AsyncClient(headers=AUTH) as http:
        threads = await _seed(http, url, threads=4, messages=5)
        before = (await http.get(f"{url}/threads/{threads[1]}/messages")).json()

    code, out = await threadlog({"DATABASE_URL": own.database_url}, "verify")
    assert code == 0, out
    assert "match" in out

    db = await connect(own.database_url)
    await db.execute(
        'update message_view set metadata = \'{"tampered": "yes"}\' where id = $1',
        before["data"][0]["id"],
    )
    await db.execute("delete from thread_view where id = $1", threads[2])
    code, out = await threadlog({"DATABASE_URL": own.database_url}, "verify")
    assert code == 1
    assert "message_view: 1 rows only in the live view, 1 only in the replay" in out
    assert "thread_view: 0 rows only in the live view, 1 only in the replay" in out

    code, out = await threadlog({"DATABASE_URL": own.database_url}, "rebuild")
    assert code == 0, out
    assert "rebuilt the views from" in out
    code, out = await threadlog({"DATABASE_URL": own.database_url}, "verify")
    assert code == 0, out
    async with httpx.AsyncClient(headers=AUTH) as http:
        after = (await http.get(f"{url}/threads/{threads[1]}/messages")).json()
    assert after == before
    await db.close()


async def test_rebuild_while_the_api_keeps_serving(
    settings, make_database, make_prefix, start_server
):
    own, url = await _own_instance(settings, make_database, make_prefix, start_server)
    statuses: list[int] = []
    written: list[str] = []
    async with httpx.AsyncClient(headers=AUTH) as http:
        threads = await _seed(http, url, threads=3, messages=20)
        thread = threads[1]
        stop = asyncio.Event()

        async def traffic():
            while not stop.is_set():
                created = await http.post(
                    f"{url}/threads/{thread}/messages", json={"role": "user", "content": "during"}
                )
                statuses.append(created.status_code)
                assert created.status_code == 200, created.text
                written.append(created.json()["id"])
                listed = await http.get(f"{url}/threads/{thread}/messages", params={"limit": 5})
                statuses.append(listed.status_code)
                assert listed.status_code == 200, listed.text
                assert listed.json()["data"][0]["id"] == written[-1]

        load = asyncio.create_task(traffic())
        code, out = await threadlog({"DATABASE_URL": own.database_url}, "rebuild")
        await asyncio.sleep(0.3)
        stop.set()
        await load
        assert code == 0, out
        assert set(statuses) == {200} and written
        everything = []
        cursor = None
        while True:
            params = {"order": "asc", "limit": 100, **({"after": cursor} if cursor else {})}
            page = (await http.get(f"{url}/threads/{thread}/messages", params=params)).json()
            everything += [m["id"] for m in page["data"]]
            if not page["has_more"]:
                break
            cursor = page["last_id"]
        assert everything[-len(written) :] == written
        assert len(everything) == 20 + len(written)
    code, out = await threadlog({"DATABASE_URL": own.database_url}, "verify")
    assert code == 0, out


async def test_an_older_event_shape_is_upcast_on_replay(
    settings, make_database, make_prefix, start_server, redis_client
):
    own, url = await _own_instance(settings, make_database, make_prefix, start_server)
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        # A MessageCreated as the first version of the service wrote it: v1 `file_ids`.
        db = await connect(own.database_url)
        old_shape = {
            "id": "msg_fromtheoldays",
            "thread_id": thread,
            "created_at": 1700000000,
            "role": "user",
            "content": [{"type": "text", "text": {"value": "old", "annotations": []}}],
            "file_ids": ["file-old"],
            "metadata": {},
            "assistant_id": None,
            "run_id": None,
        }
        await append_raw(db, thread, "MessageCreated", old_shape, project=PROJECT_A)
        await db.close()
        for _ in range(100):
            listed = (await http.get(f"{url}/threads/{thread}/messages")).json()
            if listed["data"]:
                break
            await asyncio.sleep(0.05)
    message = listed["data"][0]
    assert message["id"] == "msg_fromtheoldays"
    assert message["attachments"] == [{"file_id": "file-old", "tools": []}]
    assert "file_ids" not in message
    for _ in range(100):
        entries = await redis_client.xrange(stream_key(own.redis_prefix, "thread", thread))
        if len(entries) == 2:
            break
        await asyncio.sleep(0.05)
    assert '"attachments":[{"file_id":"file-old","tools":[]}]' in entries[1][1]["data"]
    code, out = await threadlog({"DATABASE_URL": own.database_url}, "verify")
    assert code == 0, out
