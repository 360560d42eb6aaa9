"""Idempotency-Key: a retry gets the first result and appends nothing."""

import asyncio
import secrets

import httpx
import pytest

from .conftest import KEY_A, KEY_B


def _http(key: str = KEY_A) -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"})


async def _events(db) -> int:
    return await db.fetchval("select count(*) from events")


def _idem() -> dict[str, str]:
    return {"Idempotency-Key": "idem-" + secrets.token_hex(8)}


async def test_retry_returns_first_result_and_appends_nothing(base_url, db):
    async with _http() as http:
        thread = (await http.post(f"{base_url}/threads", json={})).json()["id"]
        headers = _idem()
        url = f"{base_url}/threads/{thread}/messages"
        body = {"role": "user", "content": "once", "metadata": {"a": "b"}}
        first = await http.post(url, json=body, headers=headers)
        before = await _events(db)
        again = await http.post(url, json=body, headers=headers)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert await _events(db) == before
        # The same parameters written differently are the same request.
        reordered = await http.post(
            url,
            content=b'{"metadata": {"a": "b"}, "content": "once", "role": "user"}',
            headers=headers,
        )
        assert reordered.json() == first.json()
        listed = (await http.get(url)).json()["data"]
        assert [m["id"] for m in listed] == [first.json()["id"]]


async def test_same_key_different_request_is_refused(base_url, db):
    async with _http() as http:
        thread = (await http.post(f"{base_url}/threads", json={})).json()["id"]
        headers = _idem()
        url = f"{base_url}/threads/{thread}/messages"
        await http.post(url, json={"role": "user", "content": "one"}, headers=headers)
        before = await _events(db)
        for response in (
            await http.post(url, json={"role": "user", "content": "two"}, headers=headers),
            await http.post(f"{base_url}/threads", json={}, headers=headers),
        ):
            assert response.status_code == 400
            error = response.json()["error"]
            assert error["param"] == "Idempotency-Key"
            assert error["code"] == "idempotency_key_reused"
        assert await _events(db) == before


async def test_keys_are_scoped_per_project(base_url):
    headers = _idem()
    async with _http(KEY_A) as a, _http(KEY_B) as b:
        first = await a.post(f"{base_url}/threads", json={}, headers=headers)
        other = await b.post(f"{base_url}/threads", json={}, headers=headers)
    assert first.status_code == other.status_code == 200
    assert first.json()["id"] != other.json()["id"]


async def test_concurrent_retries_make_one_event(base_url, db):
    headers = _idem()
    body = {"messages": [{"role": "user", "content": "race"}], "metadata": {"r": "1"}}
    async with _http() as http:
        responses = await asyncio.gather(
            *(http.post(f"{base_url}/threads", json=body, headers=headers) for _ in range(8))
        )
    assert {r.status_code for r in responses} == {200}
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    created = await db.fetchval(
        "select count(*) from events where metadata->>'idempotency_key' = $1",
        headers["Idempotency-Key"],
    )
    assert created == 2  # ThreadCreated and its one MessageCreated, once


@pytest.mark.parametrize(
    "operation", ["modify_thread", "delete_thread", "modify_message", "delete_message"]
)
async def test_retried_changes_answer_the_same(base_url, db, operation):
    async with _http() as http:
        thread = (
            await http.post(
                f"{base_url}/threads", json={"messages": [{"role": "user", "content": "m"}]}
            )
        ).json()["id"]
        message = (await http.get(f"{base_url}/threads/{thread}/messages")).json()["data"][0]["id"]
        method, path, body = {
            "modify_thread": ("POST", f"/threads/{thread}", {"metadata": {"x": "1"}}),
            "delete_thread": ("DELETE", f"/threads/{thread}", None),
            "modify_message": (
                "POST",
                f"/threads/{thread}/messages/{message}",
                {"metadata": {"y": "2"}},
            ),
            "delete_message": ("DELETE", f"/threads/{thread}/messages/{message}", None),
        }[operation]
        headers = _idem()
        first = await http.request(method, base_url + path, json=body, headers=headers)
        assert first.status_code == 200, first.text
        before = await _events(db)
        retry = await http.request(method, base_url + path, json=body, headers=headers)
        assert retry.status_code == 200, retry.text
        assert retry.json() == first.json()
        assert await _events(db) == before
