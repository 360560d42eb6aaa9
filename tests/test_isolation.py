"""Project isolation on every route and both prefixes: another project's objects do not exist."""

import httpx
import pytest

from .conftest import KEY_A, KEY_B

V1, V2 = "2024-02-15-preview", "2024-05-01-preview"


@pytest.fixture(scope="module")
async def owned(base_url):
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        thread = (
            await http.post(
                f"{base_url}/threads",
                json={
                    "messages": [
                        {
                            "role": "user",
                            "content": "mine",
                            "attachments": [{"file_id": "file-1", "tools": []}],
                        }
                    ]
                },
            )
        ).json()["id"]
        message = (await http.get(f"{base_url}/threads/{thread}/messages")).json()["data"][0]["id"]
    return thread, message


def _routes(thread: str, message: str) -> list[tuple[str, str, dict | None, str]]:
    t, m = f"/threads/{thread}", f"/threads/{thread}/messages/{message}"
    routes = [
        ("GET", t, None, V2),
        ("POST", t, {"metadata": {"x": "y"}}, V2),
        ("DELETE", t, None, V2),
        ("POST", f"{t}/messages", {"role": "user", "content": "theirs"}, V2),
        ("GET", f"{t}/messages", None, V2),
        ("GET", m, None, V2),
        ("POST", m, {"metadata": {"x": "y"}}, V2),
        ("DELETE", m, None, V2),
    ]
    azure_v1 = [
        ("GET", f"{m}/files", None, V1),
        ("GET", f"{m}/files/file-1", None, V1),
        ("POST", f"{t}/messages", {"role": "user", "content": "theirs"}, V1),
    ]
    return [("/v1", *r) for r in routes] + [("/openai", *r) for r in routes + azure_v1]


async def test_every_route_is_404_for_another_project(base_url, owned, db):
    thread, message = owned
    root = base_url.removesuffix("/v1")
    before = await db.fetchval("select count(*) from events where stream_id = $1", thread)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_B}"}) as http:
        for prefix, method, path, body, version in _routes(thread, message):
            params = {"api-version": version} if prefix == "/openai" else None
            response = await http.request(method, root + prefix + path, json=body, params=params)
            assert response.status_code == 404, (prefix, method, path, response.text)
            assert response.json()["error"]["message"] == f"No thread found with id '{thread}'."
    after = await db.fetchval("select count(*) from events where stream_id = $1", thread)
    assert after == before
    # And the owner still has everything.
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        mine = await http.get(f"{base_url}/threads/{thread}/messages/{message}")
        assert mine.status_code == 200
