"""Idempotency-Key: a retry gets the first result and appends nothing."""

import asyncio
import json
import secrets
from urllib.parse import urlsplit

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


@pytest.mark.parametrize("operation", ["delete_thread", "delete_message"])
async def test_racing_retries_of_a_delete_all_answer_it(settings, start_server, db, operation):
    """Twenty identical DELETEs with one key, at once, through two API processes: one event,
    and every one of them answers the deletion, those that found the object already gone by
    their twin included (they answered 404 before)."""
    own = settings.model_copy(update={"pool_min": 2, "pool_max": 10})
    urls = [await start_server(own), await start_server(own, workers=False)]
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {KEY_A}"}, limits=limits
    ) as http:
        for _ in range(5):
            created = await http.post(
                f"{urls[0]}/threads", json={"messages": [{"role": "user", "content": "m"}]}
            )
            thread = created.json()["id"]
            listed = await http.get(f"{urls[0]}/threads/{thread}/messages")
            path = f"/threads/{thread}"
            if operation == "delete_message":
                path += f"/messages/{listed.json()['data'][0]['id']}"
            headers = _idem()
            answers = await asyncio.gather(
                *(http.delete(urls[n % 2] + path, headers=headers) for n in range(20))
            )
            assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
            assert len({a.text for a in answers}) == 1
            appended = await db.fetchval(
                "select count(*) from events where metadata->>'idempotency_key' = $1",
                headers["Idempotency-Key"],
            )
            assert appended == 1


async def _raw_post(url: str, path: str, headers: list[bytes], body: bytes) -> tuple[int, dict]:
    """A POST written on a socket byte for byte, as no client library would let a header be
    sent: its status and JSON body."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = [f"POST {path} HTTP/1.1".encode(), f"Host: {parts.netloc}".encode()]
        head += [*headers, b"Content-Type: application/json", b"Connection: close"]
        head.append(f"Content-Length: {len(body)}".encode())
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    response_head, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), {"head": response_head, "body": json.loads(payload)}


async def test_header_bytes_that_are_not_utf8_are_bad_input_not_a_failure(base_url):
    """Header values that are not UTF-8 (raw bytes on the socket): each header is refused or
    replaced as the API says, never a 500."""
    async with _http() as http:
        thread = (await http.post(f"{base_url}/threads", json={})).json()["id"]
    path = urlsplit(f"{base_url}/threads/{thread}/messages").path
    body = b'{"role": "user", "content": "x"}'
    auth = f"Authorization: Bearer {KEY_A}".encode()
    status, got = await _raw_post(base_url, path, [auth, b"Idempotency-Key: \xff\xfe"], body)
    assert status == 400 and got["body"]["error"]["param"] == "Idempotency-Key"
    status, got = await _raw_post(base_url, path, [b"Authorization: Bearer \xff\xfe"], body)
    assert status == 401 and got["body"]["error"]["code"] == "invalid_api_key"
    status, got = await _raw_post(base_url, path, [auth, b"X-Request-Id: \xff\xfe"], body)
    assert status == 200, got
    echoed = [line for line in got["head"].split(b"\r\n") if line.startswith(b"X-Request-Id")]
    assert len(echoed) == 1 and echoed[0].isascii() and b"\xff" not in echoed[0]
