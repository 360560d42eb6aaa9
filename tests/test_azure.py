"""Azure OpenAI routes through the official AzureOpenAI client, in both API shapes."""

import httpx
import openai
import pytest

from service.api_versions import V1_VERSIONS, V2_VERSIONS

from .conftest import KEY_A, KEY_B

V1, V2 = "2024-02-15-preview", "2024-05-01-preview"
V1_MESSAGE_FIELDS = {
    "id",
    "object",
    "created_at",
    "thread_id",
    "role",
    "content",
    "assistant_id",
    "run_id",
    "file_ids",
    "metadata",
}


@pytest.fixture
def endpoint(base_url) -> str:
    return base_url.removesuffix("/v1")


def _azure(endpoint: str, version: str, **auth) -> openai.AsyncAzureOpenAI:
    auth = auth or {"api_key": KEY_A}
    return openai.AsyncAzureOpenAI(
        azure_endpoint=endpoint, api_version=version, max_retries=0, **auth
    )


async def test_v2_every_operation(endpoint, client):
    async with _azure(endpoint, V2) as azure:
        thread = await azure.beta.threads.create(
            messages=[
                {
                    "role": "user",
                    "content": "hi",
                    "attachments": [{"file_id": "file-1", "tools": [{"type": "code_interpreter"}]}],
                }
            ],
            metadata={"via": "azure"},
        )
        assert (await azure.beta.threads.retrieve(thread.id)).metadata == {"via": "azure"}
        updated = await azure.beta.threads.update(thread.id, metadata={"v": "2"})
        assert updated.metadata == {"v": "2"}
        created = await azure.beta.threads.messages.create(
            thread.id, role="assistant", content="yo"
        )
        listed = [
            m async for m in azure.beta.threads.messages.list(thread.id, order="asc", limit=1)
        ]
        assert [m.content[0].text.value for m in listed] == ["hi", "yo"]
        assert listed[0].attachments[0].file_id == "file-1"
        fetched = await azure.beta.threads.messages.retrieve(created.id, thread_id=thread.id)
        assert fetched.model_dump() == created.model_dump()
        changed = await azure.beta.threads.messages.update(
            created.id, thread_id=thread.id, metadata={"m": "1"}
        )
        assert changed.metadata == {"m": "1"}
        # The same thread, the same project, through OpenAI's routes.
        same = await client.beta.threads.messages.retrieve(created.id, thread_id=thread.id)
        assert same.model_dump() == changed.model_dump()
        gone = await azure.beta.threads.messages.delete(created.id, thread_id=thread.id)
        assert gone.deleted is True
        assert (await azure.beta.threads.delete(thread.id)).deleted is True
        with pytest.raises(openai.NotFoundError):
            await azure.beta.threads.retrieve(thread.id)


async def test_azure_ad_token_is_a_bearer_key(endpoint):
    async with _azure(endpoint, V2, azure_ad_token=KEY_A) as azure:
        thread = await azure.beta.threads.create()
        assert thread.id.startswith("thread_")


async def test_v1_shape_and_message_files(endpoint):
    async with _azure(endpoint, V1) as v1, _azure(endpoint, V2) as v2:
        thread = await v1.beta.threads.with_raw_response.create(metadata={"shape": "v1"})
        body = thread.http_response.json()
        assert set(body) == {"id", "object", "created_at", "metadata"}
        thread_id = body["id"]

        raw = await v1.beta.threads.messages.with_raw_response.create(
            thread_id, role="user", content="files", extra_body={"file_ids": ["file-a", "file-b"]}
        )
        message = raw.http_response.json()
        assert set(message) == V1_MESSAGE_FIELDS
        assert message["file_ids"] == ["file-a", "file-b"]

        # Read through v2: the files are attachments with no tools.
        seen_v2 = await v2.beta.threads.messages.retrieve(message["id"], thread_id=thread_id)
        assert [(a.file_id, a.tools) for a in seen_v2.attachments] == [
            ("file-a", []),
            ("file-b", []),
        ]
        # And a v2 message read through v1 shows its attachments as file ids.
        written_v2 = await v2.beta.threads.messages.create(
            thread_id,
            role="user",
            content="v2",
            attachments=[{"file_id": "file-c", "tools": [{"type": "file_search"}]}],
        )
        listed = await v1.beta.threads.messages.with_raw_response.list(thread_id, order="asc")
        data = listed.http_response.json()["data"]
        assert [m["file_ids"] for m in data] == [["file-a", "file-b"], ["file-c"]]
        assert all(set(m) == V1_MESSAGE_FIELDS for m in data)
        assert data[1]["id"] == written_v2.id

    # The SDK has no message-files resource any more: plain HTTP.
    base = f"{endpoint}/openai/threads/{thread_id}/messages/{message['id']}/files"
    async with httpx.AsyncClient(headers={"api-key": KEY_A}) as http:
        files = (await http.get(base, params={"api-version": V1})).json()
        assert [f["id"] for f in files["data"]] == ["file-a", "file-b"]
        assert files["data"][0] == {
            "id": "file-a",
            "object": "thread.message.file",
            "created_at": message["created_at"],
            "message_id": message["id"],
        }
        assert files["first_id"] == "file-a" and files["last_id"] == "file-b"
        one = await http.get(f"{base}/file-b", params={"api-version": V1})
        assert one.json()["id"] == "file-b"
        missing = await http.get(f"{base}/file-z", params={"api-version": V1})
        assert missing.status_code == 404
        # Message files are a v1 route; v2 has no such URL, and v1 has no message delete.
        assert (await http.get(base, params={"api-version": V2})).status_code == 404
        v1_delete = await http.delete(
            f"{endpoint}/openai/threads/{thread_id}/messages/{message['id']}",
            params={"api-version": V1},
        )
        assert v1_delete.status_code == 404
        assert "error" in v1_delete.json()


V1_BAD = [
    ({"role": "assistant", "content": "x"}, "role"),
    ({"role": "user", "content": [{"type": "text", "text": "x"}]}, "content"),
    ({"role": "user", "content": "x", "attachments": []}, "attachments"),
    ({"role": "user", "content": "x", "file_ids": [f"f{i}" for i in range(11)]}, "file_ids"),
    ({"role": "user", "content": "x" * 32_769}, "content"),
]


@pytest.mark.parametrize(("body", "param"), V1_BAD)
async def test_v1_rejects_v2_input(endpoint, body, param, db):
    async with httpx.AsyncClient(headers={"api-key": KEY_A}) as http:
        thread = await http.post(f"{endpoint}/openai/threads", params={"api-version": V1}, json={})
        before = await db.fetchval("select count(*) from events")
        response = await http.post(
            f"{endpoint}/openai/threads/{thread.json()['id']}/messages",
            params={"api-version": V1},
            json=body,
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert await db.fetchval("select count(*) from events") == before


@pytest.mark.parametrize("params", [{}, {"api-version": "2023-05-15"}, {"api-version": ""}])
async def test_api_version_is_required_and_known(endpoint, params):
    async with httpx.AsyncClient(headers={"api-key": KEY_A}) as http:
        response = await http.post(f"{endpoint}/openai/threads", params=params, json={})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "api-version"
    assert V1_VERSIONS[0] in error["message"] and V2_VERSIONS[0] in error["message"]


async def test_azure_keys_and_projects(endpoint):
    async with _azure(endpoint, V2) as a, _azure(endpoint, V2, api_key=KEY_B) as b:
        thread = await a.beta.threads.create()
        with pytest.raises(openai.NotFoundError):
            await b.beta.threads.retrieve(thread.id)
    async with _azure(endpoint, V2, api_key="wrong") as wrong:
        with pytest.raises(openai.AuthenticationError):
            await wrong.beta.threads.create()
