"""Listing: order, cursors, pages, and the SDK's auto-pagination."""

import httpx
import pytest

from .conftest import KEY_A


async def _thread_with(client, n: int) -> tuple[str, list[str]]:
    thread = await client.beta.threads.create()
    ids = []
    for i in range(n):
        message = await client.beta.threads.messages.create(
            thread.id, role="user", content=f"message {i}"
        )
        ids.append(message.id)
    return thread.id, ids


@pytest.fixture(scope="module")
async def thread_of_25(base_url):
    import openai

    async with openai.AsyncOpenAI(base_url=base_url, api_key=KEY_A) as c:
        return await _thread_with(c, 25)


async def _get(base_url: str, path: str, **params) -> httpx.Response:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        return await http.get(base_url + path, params=params)


async def test_default_is_newest_first_twenty(client, thread_of_25):
    thread_id, ids = thread_of_25
    page = await client.beta.threads.messages.list(thread_id)
    assert [m.id for m in page.data] == ids[::-1][:20]
    assert page.has_more is True
    assert page.first_id == ids[-1] and page.last_id == ids[-20]


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 7, 25, 100])
async def test_auto_pagination_returns_every_message_once_in_order(
    client, thread_of_25, order, limit
):
    thread_id, ids = thread_of_25
    seen = [
        m.id async for m in client.beta.threads.messages.list(thread_id, order=order, limit=limit)
    ]
    assert seen == (ids if order == "asc" else ids[::-1])


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_auto_pagination_with_before_bound(client, thread_of_25, order):
    # The SDK merges `after` into the first query, so later pages carry `before` and `after`.
    thread_id, ids = thread_of_25
    in_order = ids if order == "asc" else ids[::-1]
    stop = in_order[17]
    seen = [
        m.id
        async for m in client.beta.threads.messages.list(
            thread_id, order=order, limit=4, before=stop
        )
    ]
    # `before` alone gives the page just before the cursor; the SDK then follows `after`
    # from that page within the bound.
    assert seen == in_order[13:17]


async def test_after_and_before_together(base_url, thread_of_25):
    thread_id, ids = thread_of_25
    body = (
        await _get(
            base_url,
            f"/threads/{thread_id}/messages",
            order="asc",
            after=ids[2],
            before=ids[9],
            limit=3,
        )
    ).json()
    assert [m["id"] for m in body["data"]] == ids[3:6]
    assert body["has_more"] is True
    body = (
        await _get(
            base_url,
            f"/threads/{thread_id}/messages",
            order="asc",
            after=ids[5],
            before=ids[9],
            limit=3,
        )
    ).json()
    assert [m["id"] for m in body["data"]] == ids[6:9]
    assert body["has_more"] is False


async def test_before_alone_in_descending_order(base_url, thread_of_25):
    thread_id, ids = thread_of_25
    body = (await _get(base_url, f"/threads/{thread_id}/messages", before=ids[10], limit=3)).json()
    # Descending: the items listed before ids[10] are the newer ones next to it.
    assert [m["id"] for m in body["data"]] == [ids[13], ids[12], ids[11]]
    assert body["has_more"] is True


async def test_empty_thread_has_null_ids(client):
    thread = await client.beta.threads.create()
    page = await client.beta.threads.messages.list(thread.id)
    assert page.data == []
    assert page.first_id is None and page.last_id is None and page.has_more is False


async def test_last_page_has_no_more(base_url, thread_of_25):
    thread_id, ids = thread_of_25
    body = (
        await _get(base_url, f"/threads/{thread_id}/messages", order="asc", after=ids[19])
    ).json()
    assert [m["id"] for m in body["data"]] == ids[20:]
    assert body["has_more"] is False


async def test_run_id_filter_matches_nothing_written_by_users(base_url, thread_of_25):
    thread_id, _ = thread_of_25
    body = (await _get(base_url, f"/threads/{thread_id}/messages", run_id="run_abc")).json()
    assert body == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
