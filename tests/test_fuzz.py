"""Fuzzing every write route with hypothesis: malformed JSON, huge values, unicode, wrong types
and injection strings. No 5xx, and the log holds exactly what was accepted."""

import asyncio
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import KEY_A

AUTH = {"Authorization": f"Bearer {KEY_A}"}
INJECTIONS = [
    "'; drop table events; --",
    '" or 1=1 --',
    "$(rm -rf /)",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "../../etc/passwd",
    "\u202e\u0000\ud7ff\U0010ffff",
    "%00%0d%0a",
]
# Query values stay short (an HTTP client refuses URLs past 64 KiB); bodies may be huge.
short_text = st.one_of(st.text(max_size=80), st.sampled_from(INJECTIONS))
text = short_text | st.just("x" * 300_000)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
message_like = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", ""]) | json_values},
    optional={
        "content": text
        | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": text}))
        | json_values,
        "metadata": st.dictionaries(text, text, max_size=20) | json_values,
        "attachments": json_values,
        "extra": json_values,
    },
)
bodies = st.one_of(
    message_like.map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda b: json.dumps(b).encode()),
    st.binary(max_size=200),
)
# (method, path, query names fuzzed, events a 200 appends; None: one per initial message + 1)
ROUTES = [
    ("POST", "/v1/threads", (), None),
    ("POST", "/v1/threads/{thread}/messages", (), 1),
    ("POST", "/v1/threads/{thread}", (), 1),
    ("POST", "/v1/threads/{thread}/messages/{message}", (), 1),
    ("POST", "/openai/threads/{thread}/messages", ("api-version",), 1),
    ("POST", "/openai/threads", ("api-version",), None),
    ("GET", "/v1/threads/{thread}/messages", ("limit", "after", "before", "order", "run_id"), 0),
]
API_VERSIONS = st.sampled_from(["2024-02-15-preview", "2024-05-01-preview"]) | short_text


@pytest.fixture(scope="module")
async def target(base_url):
    async with httpx.AsyncClient(headers=AUTH) as http:
        thread = (await http.post(f"{base_url}/threads", json={})).json()["id"]
        message = (
            await http.post(
                f"{base_url}/threads/{thread}/messages", json={"role": "user", "content": "x"}
            )
        ).json()["id"]
    return base_url.removesuffix("/v1"), thread, message


async def test_fuzzed_requests_never_fail_the_server_nor_the_log(target, db):
    root, thread, message = target
    loop = asyncio.get_running_loop()

    def events() -> int:
        # The test body runs in a thread (the server shares this event loop); ask the loop.
        query = db.fetchval("select count(*) from events")
        return asyncio.run_coroutine_threadsafe(query, loop).result(30)

    @settings(
        max_examples=400,
        deadline=None,
        derandomize=True,
        database=None,
        # Each example is an HTTP round trip to a real server: slow by hypothesis' standards.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(route=st.sampled_from(ROUTES), body=bodies, junk=short_text, version=API_VERSIONS)
    def fuzz(route, body, junk, version):
        method, path, query_names, appended = route
        params = {name: version if name == "api-version" else junk for name in query_names}
        before = events()
        response = httpx.request(
            method,
            root + path.format(thread=thread, message=message),
            params=params,
            content=body if method == "POST" else None,
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code < 500, (method, path, params, body[:200], response.text)
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}
        after = events()
        if response.status_code != 200:
            assert after == before, "a rejected request appended events"
        elif appended is None:
            assert after == before + 1 + len(json.loads(body or b"{}").get("messages") or [])
        else:
            assert after == before + appended

    await asyncio.to_thread(fuzz)
