"""Bad input: OpenAI's error body, the right status and param, and nothing appended."""

import httpx
import pytest

from .conftest import KEY_A

AUTH = {"Authorization": f"Bearer {KEY_A}"}
MSG = {"role": "user", "content": "hello"}


def _msg(**changes):
    body = dict(MSG)
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


BAD_MESSAGES = [
    # (id, raw body or json, param, code)
    ("unparseable", b'{"role": "user", ', None, None),
    ("not-an-object", b"[1, 2]", None, "invalid_type"),
    ("missing-role", _msg(role=...), "role", "missing_required_parameter"),
    ("missing-content", _msg(content=...), "content", "missing_required_parameter"),
    ("role-system", _msg(role="system"), "role", "invalid_value"),
    ("role-number", _msg(role=1), "role", "invalid_type"),
    ("content-empty-string", _msg(content=""), "content", "string_below_min_length"),
    ("content-empty-array", _msg(content=[]), "content", "empty_array"),
    ("content-number", _msg(content=42), "content", "invalid_type"),
    ("content-null", _msg(content=None), "content", "invalid_type"),
    ("content-too-long", _msg(content="x" * 256_001), "content", "string_above_max_length"),
    ("part-empty-text", _msg(content=[{"type": "text", "text": ""}]), "content[0].text", None),
    ("part-unknown-type", _msg(content=[{"type": "audio"}]), "content[0].type", "invalid_value"),
    ("part-no-type", _msg(content=[{"text": "a"}]), "content[0].type", None),
    ("part-not-object", _msg(content=["a"]), "content[0]", "invalid_type"),
    (
        "image-bad-detail",
        _msg(content=[{"type": "image_file", "image_file": {"file_id": "f", "detail": "max"}}]),
        "content[0].image_file.detail",
        "invalid_value",
    ),
    ("unknown-field", _msg(temperature=1), "temperature", "unknown_parameter"),
    ("metadata-17-pairs", _msg(metadata={str(i): "v" for i in range(17)}), "metadata", None),
    ("metadata-long-key", _msg(metadata={"k" * 65: "v"}), "metadata", "string_above_max_length"),
    ("metadata-long-value", _msg(metadata={"k": "v" * 513}), "metadata.k", None),
    ("metadata-number-value", _msg(metadata={"k": 1}), "metadata.k", "invalid_type"),
    ("metadata-array", _msg(metadata=["k"]), "metadata", "invalid_type"),
    (
        "attachment-bad-tool",
        _msg(attachments=[{"file_id": "f", "tools": [{"type": "browser"}]}]),
        "attachments[0].tools[0].type",
        "invalid_value",
    ),
    (
        "attachment-no-tools",
        _msg(attachments=[{"file_id": "f"}]),
        "attachments[0].tools",
        "missing_required_parameter",
    ),
    ("content-null-char", _msg(content="a\x00b"), "content", "invalid_value"),
    ("part-null-char", _msg(content=[{"type": "text", "text": "\x00"}]), "content[0].text", None),
    ("metadata-key-null-char", _msg(metadata={"k\x00": "v"}), "metadata", "invalid_value"),
    ("metadata-value-null-char", _msg(metadata={"k": "a\x00"}), "metadata.k", "invalid_value"),
    (
        "file-id-null-char",
        _msg(attachments=[{"file_id": "f\x00", "tools": []}]),
        "attachments[0].file_id",
        "invalid_value",
    ),
    (
        "image-url-not-a-url",
        _msg(content=[{"type": "image_url", "image_url": {"url": "notaurl"}}]),
        "content[0].image_url.url",
        "invalid_value",
    ),
    (
        "image-url-not-http",
        _msg(content=[{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]),
        "content[0].image_url.url",
        "invalid_value",
    ),
    (
        "attachments-11",
        _msg(attachments=[{"file_id": f"f{i}", "tools": []} for i in range(11)]),
        "attachments",
        "array_above_max_length",
    ),
]


@pytest.fixture(scope="module")
async def thread_id(base_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        return (await http.post(f"{base_url}/threads", json={})).json()["id"]


async def _event_count(db) -> int:
    return await db.fetchval("select count(*) from events")


def _assert_error(response: httpx.Response, status: int, param, code=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code


@pytest.mark.parametrize(
    ("body", "param", "code"), [c[1:] for c in BAD_MESSAGES], ids=[c[0] for c in BAD_MESSAGES]
)
async def test_bad_create_message(base_url, thread_id, db, body, param, code):
    before = await _event_count(db)
    async with httpx.AsyncClient(headers=AUTH) as http:
        url = f"{base_url}/threads/{thread_id}/messages"
        if isinstance(body, bytes):
            response = await http.post(url, content=body)
        else:
            response = await http.post(url, json=body)
    _assert_error(response, 400, param, code)
    assert await _event_count(db) == before


BAD_THREADS = [
    ("unknown-field", {"title": "x"}, "title"),
    ("33-messages", {"messages": [MSG] * 33}, "messages"),
    ("bad-message", {"messages": [MSG, {"role": "tool", "content": "x"}]}, "messages[1].role"),
    ("messages-not-array", {"messages": "hi"}, "messages"),
    (
        "tool-resources-type",
        {"tool_resources": {"code_interpreter": {"file_ids": "f"}}},
        "tool_resources.code_interpreter.file_ids",
    ),
    ("metadata-17", {"metadata": {str(i): "v" for i in range(17)}}, "metadata"),
]


@pytest.mark.parametrize(
    ("body", "param"), [c[1:] for c in BAD_THREADS], ids=[c[0] for c in BAD_THREADS]
)
async def test_bad_create_thread(base_url, db, body, param):
    before = await _event_count(db)
    async with httpx.AsyncClient(headers=AUTH) as http:
        response = await http.post(f"{base_url}/threads", json=body)
    _assert_error(response, 400, param)
    assert await _event_count(db) == before


async def test_empty_body_creates_a_thread(base_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        response = await http.post(f"{base_url}/threads")
    assert response.status_code == 200
    assert response.json()["object"] == "thread"


BAD_LISTS = [
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"order": "sideways"}, "order"),
    ({"after": "msg_doesnotexist"}, "after"),
    ({"before": "msg_doesnotexist"}, "before"),
    ({"order": "asc", "after": "msg_doesnotexist"}, "after"),
    ({"after": "msg_\x00"}, "after"),
    ({"before": "\x00"}, "before"),
    ({"run_id": "run\x00"}, "run_id"),
]


@pytest.mark.parametrize(("params", "param"), BAD_LISTS)
async def test_bad_list(base_url, thread_id, params, param):
    async with httpx.AsyncClient(headers=AUTH) as http:
        response = await http.get(f"{base_url}/threads/{thread_id}/messages", params=params)
    _assert_error(response, 400, param)


async def test_cursor_from_another_thread(base_url, thread_id):
    async with httpx.AsyncClient(headers=AUTH) as http:
        other = (await http.post(f"{base_url}/threads", json={"messages": [MSG]})).json()["id"]
        foreign = (await http.get(f"{base_url}/threads/{other}/messages")).json()["data"][0]["id"]
        response = await http.get(
            f"{base_url}/threads/{thread_id}/messages", params={"after": foreign}
        )
    _assert_error(response, 400, "after")


async def test_unknown_thread(base_url, db):
    before = await _event_count(db)
    async with httpx.AsyncClient(headers=AUTH) as http:
        posted = await http.post(f"{base_url}/threads/thread_nope/messages", json=MSG)
        listed = await http.get(f"{base_url}/threads/thread_nope/messages")
    for response in (posted, listed):
        _assert_error(response, 404, "thread_id")
        assert response.json()["error"]["message"] == "No thread found with id 'thread_nope'."
    assert await _event_count(db) == before


async def test_null_character_in_ids_is_not_found(base_url, db):
    before = await _event_count(db)
    async with httpx.AsyncClient(headers=AUTH) as http:
        for method, path in (
            ("GET", "/threads/thread_%00x"),
            ("POST", "/threads/thread_%00x"),
            ("DELETE", "/threads/thread_%00x"),
            ("GET", "/threads/thread_%00x/messages"),
            ("POST", "/threads/thread_%00x/messages"),
            ("GET", "/threads/thread_x/messages/msg_%00"),
        ):
            body = {"role": "user", "content": "x"} if method == "POST" else None
            response = await http.request(method, base_url + path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}
        thread = (await http.post(f"{base_url}/threads", json={})).json()["id"]
        response = await http.get(f"{base_url}/threads/{thread}/messages/msg_%00")
        assert response.status_code == 404
        assert response.json()["error"]["param"] == "message_id"
    assert await _event_count(db) == before + 1


async def test_unknown_route_and_method(base_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        missing = await http.post(f"{base_url}/assistants", json={})
        wrong_method = await http.delete(f"{base_url}/threads/thread_x/messages")
    _assert_error(missing, 404, None)
    assert missing.json()["error"]["message"] == "Invalid URL (POST /v1/assistants)"
    _assert_error(wrong_method, 405, None)


async def test_oversized_body(base_url, thread_id, db, settings):
    before = await _event_count(db)
    huge = b'{"role": "user", "content": "' + b"x" * settings.max_body_bytes + b'"}'
    async with httpx.AsyncClient(headers=AUTH) as http:
        response = await http.post(f"{base_url}/threads/{thread_id}/messages", content=huge)
    _assert_error(response, 413, None)
    assert await _event_count(db) == before
