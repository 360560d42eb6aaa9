"""What operators rely on: readiness, metrics, request ids, JSON logs, rate limits, shedding."""

import json
import logging

import httpx
import openai
import pytest

from service.logs import JsonFormatter

from .conftest import KEY_A


async def test_readyz_reports_dependencies_and_lag(base_url):
    async with httpx.AsyncClient() as http:
        response = await http.get(base_url.removesuffix("/v1") + "/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["postgres"] == "ok" and body["checks"]["redis"] == "ok"
    assert set(body["checks"]["projector_lag"]) == {"events", "seconds"}


async def test_readyz_fails_when_redis_is_unreachable(settings, start_server):
    # A port nothing listens on: Redis is "down" for this instance only.
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    url = await start_server(down, workers=False)
    async with httpx.AsyncClient() as http:
        response = await http.get(url.removesuffix("/v1") + "/readyz")
        assert response.status_code == 503
        assert "Redis unreachable" in response.json()["error"]["message"]
        assert response.headers["Retry-After"]
        # Writes and reads do not need Redis.
        headers = {"Authorization": f"Bearer {KEY_A}"}
        thread = await http.post(f"{url}/threads", json={}, headers=headers)
        assert thread.status_code == 200


async def test_metrics_exposes_what_to_alert_on(base_url, client):
    thread = await client.beta.threads.create()
    await client.beta.threads.messages.create(thread.id, role="user", content="m")
    async with httpx.AsyncClient() as http:
        text = (await http.get(base_url.removesuffix("/v1") + "/metrics")).text
    for name in (
        'threadlog_http_requests_total{method="POST",route="/v1/threads/{thread_id}/messages",status="200"}',
        "threadlog_http_request_seconds_bucket",
        "threadlog_append_seconds_count",
        'threadlog_consumer_lag_events{consumer="projector"}',
        'threadlog_consumer_lag_seconds{consumer="relay"}',
        "threadlog_relay_publish_errors_total",
        "threadlog_read_your_writes_timeouts_total",
        'threadlog_consumer_batches_total{consumer="projector"}',
    ):
        assert name in text, name


async def test_request_id_is_echoed_and_logged_as_json(base_url, caplog):
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        response = await http.get(
            f"{base_url}/threads/thread_missing", headers={"X-Request-Id": "abc-123"}
        )
        generated = await http.get(f"{base_url}/threads/thread_missing")
    assert response.headers["X-Request-Id"] == "abc-123"
    assert len(generated.headers["X-Request-Id"]) == 32
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "hello %s", ("x",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x" and line["level"] == "warning"


async def test_keys_never_reach_the_logs(base_url, caplog):
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{base_url}/threads", json={}, headers={"Authorization": "Bearer sk-secret-xyz"}
        )
        await http.post(
            f"{base_url}/threads", json={}, headers={"Authorization": f"Bearer {KEY_A}"}
        )
    assert "sk-secret-xyz" not in caplog.text and KEY_A not in caplog.text


async def test_rate_limit_answers_429_that_the_sdk_waits_out(settings, make_prefix, start_server):
    limited = settings.model_copy(
        update={"redis_prefix": make_prefix(), "rate_limit_rpm": 3, "rate_limit_window_seconds": 2}
    )
    url = await start_server(limited, workers=False)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        # Seven quick requests touch at most two windows, which admit six: one is refused.
        responses = [await http.get(f"{url}/threads/thread_x") for _ in range(7)]
    refused = [r for r in responses if r.status_code == 429]
    assert refused
    assert {r.status_code for r in responses} == {404, 429}
    assert refused[0].json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused[0].headers["Retry-After"]) <= 3
    async with openai.AsyncOpenAI(base_url=url, api_key=KEY_A, max_retries=0) as strict:
        with pytest.raises(openai.RateLimitError):
            for _ in range(6):
                await strict.beta.threads.create()
    async with openai.AsyncOpenAI(base_url=url, api_key=KEY_A, max_retries=3) as patient:
        for _ in range(5):
            await patient.beta.threads.create()  # waits Retry-After, then succeeds


async def test_overload_is_shed_with_503(settings, start_server):
    tight = settings.model_copy(update={"max_inflight": 0})
    url = await start_server(tight, workers=False)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        response = await http.post(f"{url}/threads", json={})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["type"] == "server_error"
