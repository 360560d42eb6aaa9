"""HTTP handlers: read the request, call the operation, write the answer. Nothing else."""

import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from . import health, operations
from .appkeys import CONTEXT, PROJECT, REDIS, REQUEST_ID, SETTINGS, SHAPE
from .domain.idempotency import check_key, fingerprint
from .domain.listing import parse_list_query
from .domain.requests import (
    CreateMessage,
    CreateMessageV1,
    CreateThread,
    CreateThreadV1,
    ModifyMessage,
    ModifyThread,
    ModifyThreadV1,
    parse_body,
)
from .responses import error_response, json_response
from .sse import thread_events

# Says that a response was built before the projector reached the write it reports.
CONSISTENCY_HEADER = "Threadlog-Read-Your-Writes"


def _answer(answer: operations.Answer) -> web.Response:
    headers = None if answer.projected else {CONSISTENCY_HEADER: "timeout"}
    return json_response(answer.body, headers=headers)


def _caller(request: web.Request, operation: str, body: BaseModel | None = None):
    key = check_key(request.headers.get("Idempotency-Key"))
    return operations.Caller(
        project=request[PROJECT],
        shape=request[SHAPE],
        request_id=request[REQUEST_ID],
        idempotency_key=key,
        fingerprint=None
        if key is None
        else fingerprint(
            operation,
            dict(request.match_info),
            body.model_dump(mode="json", exclude_unset=True) if body else None,
        ),
    )


def _path(request: web.Request, name: str) -> str:
    return request.match_info[name]


def _require_v1(request: web.Request) -> None:
    """Routes that exist only in Azure's v1 shape are unknown URLs elsewhere."""
    if request[SHAPE] != "v1":
        raise web.HTTPNotFound()


def _require_v2(request: web.Request) -> None:
    if request[SHAPE] != "v2":
        raise web.HTTPNotFound()


async def _body(request: web.Request, operation: str, v2: type, v1: type | None = None):
    """The request body in the v2 model, validated in the shape the API version speaks, and
    the caller (whose idempotency fingerprint is taken on the body as sent)."""
    raw = await request.read()
    if v1 is not None and request[SHAPE] == "v1":
        sent = parse_body(v1, raw)
        return _caller(request, operation, sent), sent.as_v2()
    body = parse_body(v2, raw)
    return _caller(request, operation, body), body


async def create_thread(request: web.Request) -> web.Response:
    caller, body = await _body(request, "create_thread", CreateThread, CreateThreadV1)
    return _answer(await operations.create_thread(request.app[CONTEXT], caller, body))


async def retrieve_thread(request: web.Request) -> web.Response:
    answer = await operations.retrieve_thread(
        request.app[CONTEXT], _caller(request, "retrieve_thread"), _path(request, "thread_id")
    )
    return _answer(answer)


async def modify_thread(request: web.Request) -> web.Response:
    caller, body = await _body(request, "modify_thread", ModifyThread, ModifyThreadV1)
    answer = await operations.modify_thread(
        request.app[CONTEXT], caller, _path(request, "thread_id"), body
    )
    return _answer(answer)


async def delete_thread(request: web.Request) -> web.Response:
    answer = await operations.delete_thread(
        request.app[CONTEXT], _caller(request, "delete_thread"), _path(request, "thread_id")
    )
    return _answer(answer)


async def create_message(request: web.Request) -> web.Response:
    caller, body = await _body(request, "create_message", CreateMessage, CreateMessageV1)
    answer = await operations.create_message(
        request.app[CONTEXT], caller, _path(request, "thread_id"), body
    )
    return _answer(answer)


async def list_messages(request: web.Request) -> web.Response:
    query = parse_list_query(request.query)
    answer = await operations.list_messages(
        request.app[CONTEXT], _caller(request, "list_messages"), _path(request, "thread_id"), query
    )
    return _answer(answer)


async def retrieve_message(request: web.Request) -> web.Response:
    answer = await operations.retrieve_message(
        request.app[CONTEXT],
        _caller(request, "retrieve_message"),
        _path(request, "thread_id"),
        _path(request, "message_id"),
    )
    return _answer(answer)


async def modify_message(request: web.Request) -> web.Response:
    caller, body = await _body(request, "modify_message", ModifyMessage)
    answer = await operations.modify_message(
        request.app[CONTEXT],
        caller,
        _path(request, "thread_id"),
        _path(request, "message_id"),
        body,
    )
    return _answer(answer)


async def delete_message(request: web.Request) -> web.Response:
    _require_v2(request)
    answer = await operations.delete_message(
        request.app[CONTEXT],
        _caller(request, "delete_message"),
        _path(request, "thread_id"),
        _path(request, "message_id"),
    )
    return _answer(answer)


async def list_message_files(request: web.Request) -> web.Response:
    _require_v1(request)
    answer = await operations.list_message_files(
        request.app[CONTEXT],
        _caller(request, "list_message_files"),
        _path(request, "thread_id"),
        _path(request, "message_id"),
    )
    return _answer(answer)


async def retrieve_message_file(request: web.Request) -> web.Response:
    _require_v1(request)
    answer = await operations.retrieve_message_file(
        request.app[CONTEXT],
        _caller(request, "retrieve_message_file"),
        _path(request, "thread_id"),
        _path(request, "message_id"),
        _path(request, "file_id"),
    )
    return _answer(answer)


async def healthz(_request: web.Request) -> web.Response:
    # The pid tells which process answered when several share a port (serve --processes).
    return json_response({"status": "ok", "pid": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    report = await health.readiness(
        request.app[CONTEXT].pool, request.app[REDIS], request.app[SETTINGS].ready_max_lag_seconds
    )
    if report.ready:
        return json_response({"status": "ready", "checks": report.checks})
    return error_response(
        503,
        "Not ready: " + "; ".join(report.problems),
        type="server_error",
        headers={"Retry-After": "5"},
    )


async def metrics(request: web.Request) -> web.Response:
    await health.refresh_lag_metrics(request.app[CONTEXT].pool)
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


# Every operation, under OpenAI's /v1 and Azure's /openai prefixes alike.
THREAD = "/threads/{thread_id}"
MESSAGE = THREAD + "/messages/{message_id}"
ROUTES = [
    ("POST", "/threads", create_thread),
    ("GET", THREAD, retrieve_thread),
    ("POST", THREAD, modify_thread),
    ("DELETE", THREAD, delete_thread),
    ("POST", THREAD + "/messages", create_message),
    ("GET", THREAD + "/messages", list_messages),
    ("GET", MESSAGE, retrieve_message),
    ("POST", MESSAGE, modify_message),
    ("DELETE", MESSAGE, delete_message),
    ("GET", THREAD + "/events", thread_events),
]
# Azure's v1 shape only.
AZURE_V1_ROUTES = [
    ("GET", MESSAGE + "/files", list_message_files),
    ("GET", MESSAGE + "/files/{file_id}", retrieve_message_file),
]
OPENAI_PREFIX, AZURE_PREFIX = "/v1", "/openai"


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    for prefix, routes in ((OPENAI_PREFIX, ROUTES), (AZURE_PREFIX, ROUTES + AZURE_V1_ROUTES)):
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, handler)
