"""Every non-2xx answer has OpenAI's error body and a status the SDK maps to its exception."""

import httpx
import openai
import pytest

from .conftest import KEY_A

AUTH = {"Authorization": f"Bearer {KEY_A}"}


def _is_openai_error(response: httpx.Response) -> dict:
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


async def test_unsupported_content_type(base_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        response = await http.post(
            f"{base_url}/threads",
            content=b"role=user",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 415
    assert _is_openai_error(response)["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nothing", 404),
        ("PUT", "/v1/threads", 405),
        ("PATCH", "/v1/threads/thread_x", 405),
        ("GET", "/openai/nothing?api-version=2024-05-01-preview", 404),
    ],
)
async def test_routes_and_methods(base_url, method, path, status):
    root = base_url.removesuffix("/v1")
    async with httpx.AsyncClient(headers=AUTH) as http:
        response = await http.request(method, root + path)
    assert response.status_code == status
    _is_openai_error(response)


async def test_unexpected_failure_is_500_without_internals(
    settings, make_database, start_server, caplog
):
    # A real fault: a view table the code relies on is missing.
    broken = settings.model_copy(update={"database_url": await make_database()})
    url = await start_server(broken)
    async with httpx.AsyncClient(headers={**AUTH, "X-Request-Id": "req-broken-1"}) as http:
        thread = (await http.post(f"{url}/threads", json={})).json()["id"]
        import asyncpg

        conn = await asyncpg.connect(broken.database_url)
        await conn.execute("alter table message_view rename to message_view_gone")
        await conn.close()
        response = await http.get(f"{url}/threads/{thread}/messages")
    assert response.status_code == 500
    error = _is_openai_error(response)
    assert error["type"] == "server_error"
    assert "message_view" not in response.text and "Traceback" not in response.text
    assert "req-broken-1" in error["message"]
    assert response.headers["X-Request-Id"] == "req-broken-1"
    assert any("req-broken-1" in r.getMessage() for r in caplog.records)
    async with openai.AsyncOpenAI(base_url=url, api_key=KEY_A, max_retries=0) as client:
        with pytest.raises(openai.InternalServerError):
            await client.beta.threads.messages.list(thread)
