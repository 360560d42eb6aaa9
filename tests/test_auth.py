"""API keys and project isolation: another project's thread does not exist for you."""

import httpx
import openai
import pytest

from .conftest import KEY_A, KEY_B


async def test_missing_and_unknown_keys(base_url):
    async with httpx.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Basic abc"}):
            response = await http.post(f"{base_url}/threads", json={}, headers=headers)
            assert response.status_code == 401
            error = response.json()["error"]
            assert error["code"] == "invalid_api_key"
            assert error["type"] == "invalid_request_error"
            assert "sk-wrong" not in error["message"]


async def test_sdk_raises_authentication_error(base_url):
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError):
            await c.beta.threads.create()


async def test_other_projects_thread_is_not_found(base_url, db):
    async with (
        openai.AsyncOpenAI(base_url=base_url, api_key=KEY_A, max_retries=0) as a,
        openai.AsyncOpenAI(base_url=base_url, api_key=KEY_B, max_retries=0) as b,
    ):
        thread = await a.beta.threads.create(messages=[{"role": "user", "content": "mine"}])
        before = await db.fetchval("select count(*) from events where stream_id = $1", thread.id)
        with pytest.raises(openai.NotFoundError) as listed:
            await b.beta.threads.messages.list(thread.id)
        with pytest.raises(openai.NotFoundError) as created:
            await b.beta.threads.messages.create(thread.id, role="user", content="theirs")
        for exc in (listed, created):
            assert exc.value.body["message"] == f"No thread found with id '{thread.id}'."
        after = await db.fetchval("select count(*) from events where stream_id = $1", thread.id)
        assert after == before
        assert len((await a.beta.threads.messages.list(thread.id)).data) == 1


async def test_healthz_needs_no_key(base_url):
    async with httpx.AsyncClient() as http:
        response = await http.get(base_url.removesuffix("/v1") + "/healthz")
    assert response.status_code == 200
