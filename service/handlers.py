"""HTTP handlers: read the request, call the operation, write the answer. Nothing else."""

from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import operations
from .appkeys import CONTEXT, PROJECT, REQUEST_ID
from .domain.listing import parse_list_query
from .domain.requests import CreateMessage, CreateThread, parse_body
from .responses import json_response

# Says that a response was built before the projector reached the write it reports.
CONSISTENCY_HEADER = "Threadlog-Read-Your-Writes"


def _answer(answer: operations.Answer) -> web.Response:
    headers = None if answer.projected else {CONSISTENCY_HEADER: "timeout"}
    return json_response(answer.body, headers=headers)


def _event_metadata(request: web.Request) -> dict[str, Any]:
    return {"project": request[PROJECT], "request_id": request[REQUEST_ID]}


async def create_thread(request: web.Request) -> web.Response:
    body = parse_body(CreateThread, await request.read())
    answer = await operations.create_thread(
        request.app[CONTEXT], request[PROJECT], body, _event_metadata(request)
    )
    return _answer(answer)


async def create_message(request: web.Request) -> web.Response:
    body = parse_body(CreateMessage, await request.read())
    answer = await operations.create_message(
        request.app[CONTEXT],
        request[PROJECT],
        request.match_info["thread_id"],
        body,
        _event_metadata(request),
    )
    return _answer(answer)


async def list_messages(request: web.Request) -> web.Response:
    query = parse_list_query(request.query)
    answer = await operations.list_messages(
        request.app[CONTEXT], request[PROJECT], request.match_info["thread_id"], query
    )
    return _answer(answer)


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def metrics(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/v1/threads", create_thread)
    app.router.add_post("/v1/threads/{thread_id}/messages", create_message)
    app.router.add_get("/v1/threads/{thread_id}/messages", list_messages, allow_head=False)
